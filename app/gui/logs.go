package gui

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/container"
	"fyne.io/fyne/v2/theme"
	"fyne.io/fyne/v2/widget"
	"github.com/fsnotify/fsnotify"

	"github.com/devport/devport/app/wire"
)

// tailBytes is how much of a log the view loads at first.
const tailBytes = 64 << 10

// maxShown caps what one read of a log hands to the view.
const maxShown = 256 << 10

// maxLogLines is how many lines (or access entries) a view keeps: a
// chatty backend cannot grow the window's memory without bound, and the
// file keeps the rest.
const maxLogLines = 2000

// maxHits is how many matching lines a search shows.
const maxHits = 500

// AccessTab is the logs tab of the proxy's access lines for the project.
const AccessTab = "proxy access"

// LogsView is the pane's Logs tab (pane.go): a live tail of the
// project's service logs, one tab each, and of the proxy's access lines
// for it (a table, logs_access.go). The logs are read-only and
// selectable; Search shows the lines that match, the matches highlighted
// (and filters the access table); Follow keeps the newest in view; Clear
// empties the view, not the file. It follows the files only while it is
// shown: the pane stops it when another tab or project is chosen.
type LogsView struct {
	Box     fyne.CanvasObject
	Tabs    *container.AppTabs
	Follow  *widget.Check
	Clear   *widget.Button
	Search  *widget.Entry
	Matches *widget.Label // "3 matching lines" while searching
	// Text is each service's log as shown, by service: a selectable,
	// monospace label.
	Text   map[string]*widget.Label
	Access *AccessTable // nil without an access log
	logs   map[string]*logText
	ctx    context.Context // ends when the tab is left
	stop   context.CancelFunc
	do     func(func()) // UI.do
}

// logText is one service's tab.
type logText struct {
	lines  []string
	view   *widget.Label
	hits   *widget.RichText
	scroll *container.Scroll // of view
	hitBox *container.Scroll // of hits
	box    *fyne.Container
}

func newLogText(path string) *logText {
	lt := &logText{view: widget.NewLabel(""), hits: widget.NewRichText()}
	lt.view.Selectable = true
	lt.view.TextStyle = fyne.TextStyle{Monospace: true}
	lt.scroll = container.NewScroll(lt.view)
	lt.hitBox = container.NewScroll(lt.hits)
	lt.hitBox.Hide()
	where := widget.NewLabel(fmt.Sprintf("The last %d lines of %s", maxLogLines, path))
	where.Selectable = true
	where.Truncation = fyne.TextTruncateEllipsis
	lt.box = container.NewBorder(where, nil, nil, nil, container.NewStack(lt.scroll, lt.hitBox))
	return lt
}

// ShowLogs shows a project's Logs tab in the main window.
func (u *UI) ShowLogs(name string) {
	u.Show()
	u.Select(name)
	u.Pane.SelectTab(TabLogs)
}

// newLogsView builds the Logs tab of p and starts following its files,
// until its stop is called or the UI closes.
func (u *UI) newLogsView(p wire.ProjectStatus) *LogsView {
	ctx, stop := context.WithCancel(u.ctx)
	lv := &LogsView{Text: map[string]*widget.Label{}, logs: map[string]*logText{}, ctx: ctx, stop: stop, do: u.do}
	lv.Tabs = container.NewAppTabs()
	lv.Follow = widget.NewCheck("Follow", nil)
	lv.Follow.SetChecked(true)
	lv.Clear = widget.NewButton("Clear", lv.clear)
	lv.Search = widget.NewEntry()
	lv.Search.SetPlaceHolder("Search")
	lv.Search.OnChanged = func(string) { lv.searchAll() }
	lv.Matches = widget.NewLabel("")
	for _, s := range p.Services {
		if s.Log == "" {
			continue
		}
		lt := newLogText(s.Log)
		lv.logs[s.Name], lv.Text[s.Name] = lt, lt.view
		lv.Tabs.Append(container.NewTabItem(s.Name, lt.box))
		go lv.tail(ctx, s.Name, s.Log) // ends with ctx: the tab is left, or the UI closes
	}
	if u.opts.AccessLog != nil {
		lv.Access = newAccessTable(func() bool { return lv.Follow.Checked })
		lv.Tabs.Append(container.NewTabItem(AccessTab, lv.Access.box))
		go lv.tail(ctx, AccessTab, u.opts.AccessLog(p.Name))
	}
	if len(lv.logs) == 0 && lv.Access == nil {
		lv.Tabs.Append(container.NewTabItem("none", widget.NewLabel("This project has no backend of devport's, so no logs.")))
	}
	lv.Tabs.OnSelected = func(*container.TabItem) { lv.searchAll() }
	bar := container.NewBorder(nil, nil, container.NewHBox(lv.Follow, lv.Clear), lv.Matches, lv.Search)
	lv.Box = container.NewBorder(nil, bar, nil, nil, lv.Tabs)
	return lv
}

// done is closed once the view no longer follows its files.
func (lv *LogsView) done() <-chan struct{} { return lv.ctx.Done() }

// Append adds text (whole lines) to a tab, keeping its last maxLogLines.
func (lv *LogsView) Append(tab, text string) {
	if text == "" {
		return
	}
	if tab == AccessTab && lv.Access != nil {
		lv.Access.Append(text)
		return
	}
	lt := lv.logs[tab]
	if lt == nil {
		return
	}
	lt.lines = append(lt.lines, strings.Split(strings.TrimSuffix(text, "\n"), "\n")...)
	if n := len(lt.lines); n > maxLogLines {
		lt.lines = append(lt.lines[:0:0], lt.lines[n-maxLogLines:]...)
	}
	lt.view.SetText(strings.Join(lt.lines, "\n"))
	if strings.TrimSpace(lv.Search.Text) != "" {
		lv.searchAll()
	}
	if lv.Follow.Checked {
		lt.scroll.ScrollToBottom()
		lt.hitBox.ScrollToBottom()
	}
}

// clear empties the selected tab's view; the file is untouched.
func (lv *LogsView) clear() {
	t := lv.Tabs.Selected()
	if t == nil {
		return
	}
	if t.Text == AccessTab && lv.Access != nil {
		lv.Access.Clear()
		return
	}
	if lt := lv.logs[t.Text]; lt != nil {
		lt.lines = nil
		lt.view.SetText("")
		lv.searchAll()
	}
}

// searchAll shows, in each log tab, the lines that contain the search text
// (any case) with the matches highlighted, or the whole log when there is
// none; the access table is filtered the same way. Matches counts the
// selected tab's.
func (lv *LogsView) searchAll() {
	q := strings.TrimSpace(lv.Search.Text)
	if lv.Access != nil {
		lv.Access.SetFilter(q)
	}
	sel := ""
	if t := lv.Tabs.Selected(); t != nil {
		sel = t.Text
	}
	lv.Matches.SetText("")
	for name, lt := range lv.logs {
		if q == "" {
			lt.hitBox.Hide()
			lt.scroll.Show()
			continue
		}
		n := lt.search(q)
		lt.scroll.Hide()
		lt.hitBox.Show()
		if name == sel {
			lv.Matches.SetText(fmt.Sprintf("%d matching lines", n))
		}
	}
	if sel == AccessTab && lv.Access != nil && q != "" {
		lv.Matches.SetText(fmt.Sprintf("%d matching requests", len(lv.Access.Shown())))
	}
}

// search fills the hits view with the lines that contain q (the last
// maxHits of them), each match highlighted, and returns how many lines
// matched.
func (lt *logText) search(q string) int {
	lq := strings.ToLower(q)
	var segs []widget.RichTextSegment
	n := 0
	for _, line := range lt.lines {
		if !strings.Contains(strings.ToLower(line), lq) {
			continue
		}
		n++
		segs = append(segs, highlight(line, lq)...)
	}
	if max := maxHits * 8; len(segs) > max { // about maxHits lines
		segs = segs[len(segs)-max:]
	}
	lt.hits.Segments = segs
	lt.hits.Refresh()
	return n
}

// highlight is one line as segments, the parts matching lq (lower case)
// bold in the primary colour; the last segment ends the line.
func highlight(line, lq string) []widget.RichTextSegment {
	plain := widget.RichTextStyle{Inline: true, TextStyle: fyne.TextStyle{Monospace: true}, ColorName: theme.ColorNameForeground}
	match := widget.RichTextStyle{Inline: true, TextStyle: fyne.TextStyle{Monospace: true, Bold: true}, ColorName: theme.ColorNamePrimary}
	var segs []widget.RichTextSegment
	lower := strings.ToLower(line)
	for i := 0; ; {
		j := strings.Index(lower[i:], lq)
		if j < 0 {
			segs = append(segs, &widget.TextSegment{Style: plain, Text: line[i:]})
			break
		}
		if j > 0 {
			segs = append(segs, &widget.TextSegment{Style: plain, Text: line[i : i+j]})
		}
		segs = append(segs, &widget.TextSegment{Style: match, Text: line[i+j : i+j+len(lq)]})
		i += j + len(lq)
	}
	last := segs[len(segs)-1].(*widget.TextSegment)
	last.Style.Inline = false
	return segs
}

// tail shows the end of path, then what is appended to it, woken by
// fsnotify (no timers). A truncated or recreated file starts over.
func (lv *LogsView) tail(ctx context.Context, service, path string) {
	w, err := fsnotify.NewWatcher()
	if err != nil {
		lv.do(func() { lv.Append(service, "cannot follow "+path+": "+err.Error()+"\n") })
		return
	}
	defer w.Close()
	_ = os.MkdirAll(filepath.Dir(path), 0o700)
	if err := w.Add(filepath.Dir(path)); err != nil {
		lv.do(func() { lv.Append(service, "cannot follow "+path+": "+err.Error()+"\n") })
		return
	}
	var off int64 = -1
	read := func() {
		f, err := os.Open(path)
		if err != nil {
			return
		}
		defer f.Close()
		fi, err := f.Stat()
		if err != nil {
			return
		}
		if off < 0 {
			off = max(0, fi.Size()-tailBytes)
		}
		if fi.Size() < off {
			off = 0
		}
		if _, err := f.Seek(off, io.SeekStart); err != nil {
			return
		}
		b, _ := io.ReadAll(io.LimitReader(f, maxShown))
		if i := bytes.LastIndexByte(b, '\n'); i >= 0 {
			b = b[:i+1]
		} else {
			return
		}
		off += int64(len(b))
		s := string(b)
		lv.do(func() { lv.Append(service, s) })
	}
	read()
	for {
		select {
		case <-ctx.Done():
			return
		case ev, ok := <-w.Events:
			if !ok {
				return
			}
			if ev.Name == path {
				if ev.Has(fsnotify.Create) {
					off = 0
				}
				read()
			}
		case <-w.Errors:
		}
	}
}
