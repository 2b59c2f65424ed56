package gui

import (
	"context"
	"strings"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/canvas"
	"fyne.io/fyne/v2/container"
	"fyne.io/fyne/v2/theme"
	"fyne.io/fyne/v2/widget"

	"github.com/devport/devport/app/wire"
)

// The pane shows the project selected in the sidebar: a header with its
// state, its URL (opened by a click, copied by a button) and one
// Start/Stop toggle, a "⋯" menu for the rarer actions, the failure view
// when it failed, and three tabs: Overview, Logs and Settings
// (project.go builds the first and the last; logs.go the middle one,
// which follows the logs only while it shows).

// The pane's tabs.
const (
	TabOverview = "Overview"
	TabLogs     = "Logs"
	TabSettings = "Settings"
)

// Pane is the window's right side.
type Pane struct {
	Box fyne.CanvasObject
	// Name is the project shown, "" when none is selected.
	Name   string
	Light  *canvas.Circle
	Title  *widget.Label
	State  *widget.Label
	URL    *widget.Hyperlink
	Copy   *widget.Button
	Toggle *widget.Button
	// More opens Menu: Restart, Open folder, Open in terminal, Open in
	// editor, Remove.
	More *widget.Button
	Menu *fyne.Menu
	// Note says what opening or copying did, or why it failed, with the
	// command that was tried.
	Note *widget.Label
	// Failure shows why the project failed, while it is failed or
	// crashed: the error's first line, the log's tail, Show full log and
	// Try again.
	Failure *FailureView
	// Tab is the tab shown; TabButtons select them.
	Tab        string
	TabButtons map[string]*widget.Button
	// View is the project's Overview and Settings (project.go).
	View *ProjectView
	// Logs follows the project's logs while the Logs tab shows; nil
	// otherwise.
	Logs *LogsView

	u       *UI
	action  string // what Toggle does: "start" or "stop"
	p       wire.ProjectStatus
	empty   *fyne.Container
	body    *fyne.Container
	pages   map[string]*fyne.Container
	closeFn context.CancelFunc // ends View's follower
}

// FailureView is why a project failed: the log's tail in monospace,
// left-aligned and selectable, with Show full log and Try again. The pane
// and the wizard's last page show it under the error's first line.
type FailureView struct {
	Box      *fyne.Container
	Log      *widget.Label
	FullLog  *widget.Button
	TryAgain *widget.Button
}

func newFailureView(full, try func()) *FailureView {
	f := &FailureView{Log: widget.NewLabel("")}
	f.Log.TextStyle = fyne.TextStyle{Monospace: true}
	f.Log.Alignment = fyne.TextAlignLeading
	f.Log.Selectable = true
	f.FullLog = widget.NewButtonWithIcon("Show full log", theme.DocumentIcon(), full)
	f.TryAgain = widget.NewButtonWithIcon("Try again", theme.ViewRefreshIcon(), try)
	f.TryAgain.Importance = widget.HighImportance
	logBox := container.NewScroll(f.Log)
	logBox.SetMinSize(fyne.NewSize(0, 8*theme.TextSize()))
	f.Box = container.NewBorder(nil, container.NewHBox(f.TryAgain, f.FullLog), nil, nil, logBox)
	return f
}

// show splits why into its first line, returned for the heading, and the
// rest, shown in the log box.
func (f *FailureView) show(why string) (first string) {
	first, rest, _ := strings.Cut(why, "\n")
	f.Log.SetText(strings.TrimRight(rest, "\n"))
	return first
}

func (u *UI) newPane() *Pane {
	pn := &Pane{u: u, Light: canvas.NewCircle(stateColor(wire.StateStopped)),
		Title: widget.NewLabelWithStyle("", fyne.TextAlignLeading, fyne.TextStyle{Bold: true}),
		State: widget.NewLabel(""), URL: widget.NewHyperlink("", nil), Note: widget.NewLabel(""),
		TabButtons: map[string]*widget.Button{}, pages: map[string]*fyne.Container{}}
	pn.Title.Truncation = fyne.TextTruncateEllipsis
	pn.URL.Truncation = fyne.TextTruncateEllipsis
	// Opened as the window's other links are (open.go), not by Fyne's
	// OpenURL, which leaves a zombie and hides a failure.
	pn.URL.OnTapped = func() { u.OpenSite(pn.Name) }
	pn.Note.Wrapping = fyne.TextWrapWord
	pn.Copy = widget.NewButtonWithIcon("", theme.ContentCopyIcon(), pn.copyURL)
	pn.Toggle = widget.NewButtonWithIcon("Start", theme.MediaPlayIcon(), func() { u.act(pn.action, pn.Name) })
	pn.Toggle.Importance = widget.HighImportance
	pn.More = widget.NewButtonWithIcon("", theme.MoreHorizontalIcon(), pn.showMenu)
	pn.Menu = fyne.NewMenu("",
		fyne.NewMenuItem("Restart", func() { u.act("restart", pn.Name) }),
		fyne.NewMenuItem("Open folder", func() { u.openFolder(pn.Name) }),
		fyne.NewMenuItem("Open in terminal", func() { u.openTerminal(pn.Name) }),
		fyne.NewMenuItem("Open in editor", func() { u.openEditor(pn.Name) }),
		fyne.NewMenuItemSeparator(),
		fyne.NewMenuItem("Remove…", func() { u.ConfirmRemove(pn.Name) }),
	)
	pn.Failure = newFailureView(func() { pn.SelectTab(TabLogs) }, pn.tryAgain)

	light := container.NewGridWrap(fyne.NewSize(14, 14), pn.Light)
	title := container.NewBorder(nil, nil, container.NewCenter(light), container.NewHBox(pn.State, pn.Toggle, pn.More), pn.Title)
	url := container.NewBorder(nil, nil, nil, pn.Copy, pn.URL)
	head := container.NewVBox(title, url)
	pn.Failure.Box.Hide()
	tabs := container.NewHBox()
	for _, name := range []string{TabOverview, TabLogs, TabSettings} {
		b := widget.NewButton(name, func() { pn.SelectTab(name) })
		pn.TabButtons[name] = b
		tabs.Add(b)
		pn.pages[name] = container.NewStack()
	}
	pages := container.NewStack(pn.pages[TabOverview], pn.pages[TabLogs], pn.pages[TabSettings])
	top := container.NewVBox(head, pn.Note, pn.Failure.Box, tabs, widget.NewSeparator())
	pn.body = container.NewBorder(top, nil, nil, nil, pages)
	hint := widget.NewLabel("Select a project on the left, or add one with New project.")
	hint.Wrapping = fyne.TextWrapWord
	pn.empty = container.NewCenter(hint)
	pn.body.Hide()
	pn.Box = container.NewPadded(container.NewStack(pn.empty, pn.body))
	pn.Note.Hide()
	pn.SelectTab(TabOverview)
	return pn
}

// Select shows the project named name in the pane ("" for none), with
// its Overview. The project shown before lets go of its widgets, its
// follower and its logs.
func (u *UI) Select(name string) {
	pn := u.Pane
	if name == pn.Name && name != "" {
		return
	}
	p, ok := u.project(name)
	pn.release()
	pn.Name = p.Name // "" when there is no such project
	u.layoutRows()
	if !ok {
		pn.body.Hide()
		pn.empty.Show()
		return
	}
	pn.Note.SetText("")
	pn.Note.Hide()
	ctx, cancel := context.WithCancel(u.ctx)
	pn.closeFn = cancel
	pn.View = u.newProjectView(ctx, p)
	pn.pages[TabOverview].Objects = []fyne.CanvasObject{container.NewVScroll(pn.View.Overview)}
	pn.pages[TabSettings].Objects = []fyne.CanvasObject{container.NewVScroll(pn.View.Settings)}
	pn.update(p)
	pn.empty.Hide()
	pn.body.Show()
	pn.SelectTab(TabOverview)
	pn.body.Refresh()
}

// release ends what the shown project holds: its follower, its logs and
// its widgets.
func (pn *Pane) release() {
	if pn.closeFn != nil {
		pn.closeFn()
		pn.closeFn = nil
	}
	pn.stopLogs()
	if pn.View != nil {
		pn.u.released()
	}
	pn.View = nil
	for _, page := range pn.pages {
		page.Objects = nil
	}
}

// SelectTab shows one of the tabs. The logs are followed only while
// their tab shows.
func (pn *Pane) SelectTab(tab string) {
	pn.Tab = tab
	for name, b := range pn.TabButtons {
		if name == tab {
			b.Importance = widget.HighImportance
			pn.pages[name].Show()
		} else {
			b.Importance = widget.LowImportance
			pn.pages[name].Hide()
		}
		b.Refresh()
	}
	if tab != TabLogs {
		pn.stopLogs()
		return
	}
	if pn.Logs == nil && pn.Name != "" {
		pn.Logs = pn.u.newLogsView(pn.p)
		pn.pages[TabLogs].Objects = []fyne.CanvasObject{pn.Logs.Box}
		pn.pages[TabLogs].Refresh()
	}
}

func (pn *Pane) stopLogs() {
	if pn.Logs != nil {
		pn.Logs.stop()
		pn.Logs = nil
		pn.pages[TabLogs].Objects = nil
		pn.pages[TabLogs].Refresh()
	}
}

// update shows p, the selected project as last listed.
func (pn *Pane) update(p wire.ProjectStatus) {
	pn.p = p
	pn.Title.SetText(p.Name)
	pn.Light.FillColor = stateColor(p.State)
	pn.Light.Refresh()
	pn.State.Importance = stateImportance(p.State)
	pn.State.SetText(string(p.State))
	pn.URL.SetText(p.URL)
	_ = pn.URL.SetURLFromString(p.URL)
	setEnabled(pn.Copy, p.URL != "")
	switch p.State {
	case wire.StateRunning, wire.StateCrashed: // crashed: it is being restarted
		pn.action = "stop"
		pn.Toggle.SetText("Stop")
		pn.Toggle.SetIcon(theme.MediaStopIcon())
		pn.Toggle.Enable()
	case wire.StateStarting, wire.StateStopping:
		pn.action = ""
		pn.Toggle.SetText(strings.ToUpper(string(p.State[:1])) + string(p.State[1:]) + "…")
		pn.Toggle.Disable()
	default: // stopped, failed
		pn.action = "start"
		pn.Toggle.SetText("Start")
		pn.Toggle.SetIcon(theme.MediaPlayIcon())
		pn.Toggle.Enable()
	}
	troubled := p.State == wire.StateCrashed || p.State == wire.StateFailed
	for _, it := range pn.Menu.Items {
		switch it.Label {
		case "Restart":
			it.Disabled = p.State != wire.StateRunning && !troubled
		case "Open folder", "Open in terminal", "Open in editor":
			it.Disabled = p.Root == ""
		}
	}
	noteShown, failShown := pn.Note.Visible(), pn.Failure.Box.Visible()
	if troubled && p.Reason != "" {
		first := pn.Failure.show(p.Reason)
		pn.showNote(first, widget.DangerImportance)
		pn.Failure.Box.Show()
	} else {
		if failShown {
			pn.Note.Hide()
		}
		pn.Failure.Box.Hide()
	}
	if pn.Note.Visible() != noteShown || pn.Failure.Box.Visible() != failShown {
		pn.body.Refresh() // the header grew or shrank: lay the tabs out again
	}
	if pn.View != nil {
		pn.View.show(p)
	}
}

// showNote puts msg under the header.
func (pn *Pane) showNote(msg string, imp widget.Importance) {
	pn.Note.Importance = imp
	pn.Note.SetText(msg)
	if !pn.Note.Visible() {
		pn.Note.Show()
		pn.body.Refresh()
	}
}

// noteFailure is where opening something reports a failure.
func (pn *Pane) noteFailure(msg string) { pn.showNote(msg, widget.DangerImportance) }

// tryAgain starts the failed project again; a crashed one is restarted.
func (pn *Pane) tryAgain() {
	if pn.p.State == wire.StateCrashed {
		pn.u.act("restart", pn.Name)
		return
	}
	pn.u.act("start", pn.Name)
}

// copyURL puts the project's URL on the clipboard.
func (pn *Pane) copyURL() {
	if pn.p.URL == "" {
		return
	}
	pn.u.app.Clipboard().SetContent(pn.p.URL)
	pn.showNote("Copied "+pn.p.URL, widget.MediumImportance)
}

// showMenu pops the "⋯" menu up under its button.
func (pn *Pane) showMenu() {
	c := pn.u.app.Driver().CanvasForObject(pn.More)
	if c == nil {
		return
	}
	widget.ShowPopUpMenuAtRelativePosition(pn.Menu, c, fyne.NewPos(0, pn.More.Size().Height), pn.More)
}

// MenuItem is the "⋯" menu's item labelled label, or nil.
func (pn *Pane) MenuItem(label string) *fyne.MenuItem {
	for _, it := range pn.Menu.Items {
		if it.Label == label {
			return it
		}
	}
	return nil
}
