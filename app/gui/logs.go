package gui

import (
	"bytes"
	"context"
	"io"
	"os"
	"path/filepath"
	"strings"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/container"
	"fyne.io/fyne/v2/widget"
	"github.com/fsnotify/fsnotify"
)

// tailBytes is how much of a log the view loads at first.
const tailBytes = 64 << 10

// maxShown caps the text a log view keeps, so a chatty backend cannot
// grow it without bound.
const maxShown = 256 << 10

// AccessTab is the logs tab of the proxy's access lines for the project.
const AccessTab = "proxy access"

// LogsView is a live tail of one project's service logs, one tab each,
// and of the proxy's access lines for it.
type LogsView struct {
	Win    fyne.Window
	Tabs   *container.AppTabs
	Follow *widget.Check
	Clear  *widget.Button
	Text   map[string]*widget.Entry // by service
	stop   context.CancelFunc
	do     func(func()) // UI.do
}

// ShowLogs opens (or raises) the logs window of a project.
func (u *UI) ShowLogs(name string) {
	if lv := u.Logs[name]; lv != nil {
		lv.Win.Show()
		lv.Win.RequestFocus()
		return
	}
	p, ok := u.project(name)
	if !ok {
		return
	}
	ctx, stop := context.WithCancel(u.ctx)
	lv := &LogsView{Win: u.app.NewWindow("devport: logs of " + name), Text: map[string]*widget.Entry{}, stop: stop, do: u.do}
	lv.Tabs = container.NewAppTabs()
	lv.Follow = widget.NewCheck("Follow", nil)
	lv.Follow.SetChecked(true)
	lv.Clear = widget.NewButton("Clear", func() {
		if t := lv.Tabs.Selected(); t != nil {
			lv.Text[t.Text].SetText("")
		}
	})
	for _, s := range p.Services {
		if s.Log == "" {
			continue
		}
		e := widget.NewMultiLineEntry()
		e.TextStyle = fyne.TextStyle{Monospace: true}
		e.Wrapping = fyne.TextWrapOff
		lv.Text[s.Name] = e
		lv.Tabs.Append(container.NewTabItem(s.Name, e))
		go lv.tail(ctx, s.Name, s.Log)
	}
	if u.opts.AccessLog != nil {
		e := widget.NewMultiLineEntry()
		e.TextStyle = fyne.TextStyle{Monospace: true}
		e.Wrapping = fyne.TextWrapOff
		lv.Text[AccessTab] = e
		lv.Tabs.Append(container.NewTabItem(AccessTab, e))
		go lv.tail(ctx, AccessTab, u.opts.AccessLog(name))
	}
	if len(lv.Text) == 0 {
		lv.Tabs.Append(container.NewTabItem("none", widget.NewLabel("This project has no backend of devport's, so no logs.")))
	}
	lv.Win.SetContent(container.NewBorder(nil, container.NewHBox(lv.Follow, lv.Clear), nil, nil, lv.Tabs))
	lv.Win.Resize(fyne.NewSize(800, 480))
	lv.Win.SetOnClosed(func() {
		stop()
		delete(u.Logs, name)
	})
	u.Logs[name] = lv
	lv.Win.Show()
}

// Append adds text to a service's view, trimming the oldest part.
func (lv *LogsView) Append(service, text string) {
	e := lv.Text[service]
	if e == nil || text == "" {
		return
	}
	all := e.Text + text
	if len(all) > maxShown {
		all = all[len(all)-maxShown:]
		if i := strings.IndexByte(all, '\n'); i >= 0 {
			all = all[i+1:]
		}
	}
	e.SetText(all)
	if lv.Follow.Checked {
		e.CursorRow = strings.Count(all, "\n")
		e.Refresh()
	}
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
