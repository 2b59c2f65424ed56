package gui

import (
	"context"
	"fmt"
	"image/color"
	"sort"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/container"
	"fyne.io/fyne/v2/dialog"
	"fyne.io/fyne/v2/driver/desktop"
	"fyne.io/fyne/v2/layout"
	"fyne.io/fyne/v2/theme"
	"fyne.io/fyne/v2/widget"
	"github.com/devport/devport/app/wire"
)

// Options configure the UI.
type Options struct {
	Engine Engine
	Host   Host // nil when attached to another process's engine
	// Checks answer the wizard's questions about a folder.
	Checks Checks
	// AccessLog is the path of a project's proxy access log, for the logs
	// window; nil leaves the access tab out.
	AccessLog func(project string) string
	// Tray says a system tray can be used (the launcher checked for a DBus
	// session bus). Without it, closing the window quits.
	Tray bool
	// Icons for the tray states; nil ones fall back to the app icon.
	Icons TrayIcons
	// Opener is the program that opens URLs and folders (open.go);
	// default xdg-open.
	Opener string
	// Terminal is the command that opens a terminal in a project's
	// folder (its working directory); default x-terminal-emulator.
	// Editor is the command that opens the folder, given as its last
	// argument; default the first of VS Code, VSCodium, Zed, Sublime
	// Text and the JetBrains IDEs on the PATH.
	Terminal, Editor string
	// Quit ends the app; default fyne.App.Quit.
	Quit func()
	// TrimCHeap hands the C heap's free memory back to the system
	// (malloc_trim on glibc), after a window closed (release.go); nil
	// does nothing.
	TrimCHeap func()
	// Manual queues the UI work of background actions and events until
	// Idle runs it on the caller's goroutine, instead of fyne.Do. Tests
	// use it: with the test driver, fyne.Do runs the work on the calling
	// goroutine, which would race with the test reading the widgets.
	Manual bool
}

// TrayIcons are the tray's images: all stopped, some running, an error.
type TrayIcons struct{ Stopped, Running, Error fyne.Resource }

// UI is the main window and everything it opens.
type UI struct {
	app  fyne.App
	opts Options
	ctx  context.Context
	stop context.CancelFunc

	Window   fyne.Window
	NewBtn   *widget.Button
	ParkBtn  *widget.Button // "Add a folder of projects…" (park.go)
	Settings *widget.Button
	// RefreshBtn exists only when attached to another process's engine.
	RefreshBtn *widget.Button
	Status     *widget.Label // last error or what is happening
	Banner     *Banner       // what devport setup would put in order (banner.go)
	// Sidebar lists the projects (sidebar.go); Pane shows the one
	// selected (pane.go).
	Sidebar *Sidebar
	Pane    *Pane

	mu       sync.Mutex
	projects []wire.ProjectStatus
	rows     map[string]*Row
	tray     *fyne.Menu
	output   OutputLog

	// Wizard, SettingsView and RemoveDialog are the views open now.
	Wizard       *Wizard
	ParkPicker   *dialog.FileDialog // the folder picker of ShowPark
	ParkResult   *ParkView          // what the last park did
	SettingsView *SettingsView
	Remove       *RemoveDialog
	// QuitConfirm asks before Quit stops running projects (quit.go); nil
	// until asked.
	QuitConfirm *dialog.ConfirmDialog

	release releaser // release.go: hands back what closed windows held
	// troubles and troubleQuiet: which failures follow has notified
	// (notify.go); follow's goroutine only.
	troubles     map[string]trouble
	troubleQuiet time.Duration

	pending atomic.Int64 // background actions still running
	queued  []func()     // Manual: UI work waiting for Idle
	// listed numbers the Refresh calls; shown is the newest whose list is
	// on screen (UI thread only). Lists finish in any order, and an older
	// one must not replace a newer one: the last event's change would be
	// lost until the next event.
	listed atomic.Int64
	shown  int64
}

// New builds the UI on a; call Show (or nothing, for --minimized with a
// tray), then run the app. Close releases the event subscription.
func New(a fyne.App, o Options) *UI {
	ctx, stop := context.WithCancel(context.Background())
	u := &UI{app: a, opts: o, ctx: ctx, stop: stop, rows: map[string]*Row{}, release: newReleaser(), troubleQuiet: troubleQuiet}
	if u.opts.Quit == nil {
		// Close first: nothing may draw once the app's loop has ended.
		u.opts.Quit = func() { u.Close(); a.Quit() }
	}
	a.Settings().SetTheme(newLegibleTheme()) // theme.go: disabled controls stay legible
	u.Window = a.NewWindow("devport")
	u.Status = widget.NewLabel("")
	u.Status.Wrapping = fyne.TextWrapWord
	u.Sidebar = u.newSidebar() // sidebar.go: New project, Settings…
	u.Pane = u.newPane()       // pane.go
	u.Banner = u.newBanner()   // banner.go: below the pane, so the rows keep their place
	body := container.NewBorder(nil, container.NewVBox(u.Banner.Box, u.Status), container.NewHBox(u.Sidebar.Box, widget.NewSeparator()), nil, u.Pane.Box)
	// One minimum size, whatever a project shows: the window never
	// resizes itself (a long name ellipsizes, long text scrolls).
	u.Window.SetContent(container.New(&fixed{w: minWindow.Width, h: minWindow.Height}, body))
	u.Window.Resize(fyne.NewSize(980, 620))
	// A folder dropped onto the window starts a new project with it.
	u.Window.SetOnDropped(func(pos fyne.Position, uris []fyne.URI) { u.ShowWizard(); u.Wizard.dropped(pos, uris) })
	u.Window.SetMaster()
	if o.Tray {
		u.Window.SetCloseIntercept(u.Window.Hide)
	} else {
		u.Window.SetCloseIntercept(u.RequestQuit) // the master window: closing it quits
	}
	a.Lifecycle().SetOnStopped(u.Close)
	if c, ok := u.Window.Canvas().(interface {
		AddShortcut(fyne.Shortcut, func(fyne.Shortcut))
	}); ok {
		c.AddShortcut(&desktop.CustomShortcut{KeyName: fyne.KeyN, Modifier: fyne.KeyModifierShortcutDefault}, func(fyne.Shortcut) { u.ShowWizard() })
		c.AddShortcut(&desktop.CustomShortcut{KeyName: fyne.KeyComma, Modifier: fyne.KeyModifierShortcutDefault}, func(fyne.Shortcut) { u.ShowSettings() })
		c.AddShortcut(&desktop.CustomShortcut{KeyName: fyne.KeyF, Modifier: fyne.KeyModifierShortcutDefault}, func(fyne.Shortcut) { u.Window.Canvas().Focus(u.Sidebar.Filter) })
	}
	// Up and Down with nothing focused move through the sidebar's rows;
	// the filter box does the same while it has the focus (sidebar.go).
	u.Window.Canvas().SetOnTypedKey(func(k *fyne.KeyEvent) { u.moveKey(k.Name) })
	u.setTray()

	events, cancel := o.Engine.Subscribe()
	go func() {
		<-ctx.Done()
		cancel()
	}()
	go u.follow(events)
	u.Refresh()
	u.refreshBanner()
	return u
}

// minWindow is the main window's minimum size.
var minWindow = fyne.NewSize(820, 520)

// Show shows the main window and brings it to the front.
func (u *UI) Show() {
	u.Window.Show()
	u.Window.RequestFocus()
}

// raise does what a second launch asked (one instance): come to the front
// unless it said --minimized, and start its --start projects.
func (u *UI) raise(req wire.RaiseRequest) {
	if req.Show {
		u.Show()
	}
	for _, name := range req.Start {
		u.act("start", name)
	}
}

// Close ends the event subscription and every log follower.
func (u *UI) Close() {
	u.stop()
	u.stopReleases()
}

// Idle waits until every action started in the background has finished
// and its result is on screen; with Manual it runs the queued UI work on
// the caller's goroutine. Tests use it.
func (u *UI) Idle() {
	for {
		u.mu.Lock()
		work := u.queued
		u.queued = nil
		u.mu.Unlock()
		for _, fn := range work {
			fn()
		}
		if len(work) == 0 && u.pending.Load() == 0 {
			u.mu.Lock()
			n := len(u.queued)
			u.mu.Unlock()
			if n == 0 {
				return
			}
		}
		time.Sleep(time.Millisecond)
	}
}

// do runs fn on the UI thread, unless the UI is closing: after the app's
// loop ends, fyne.Do would run fn on the calling goroutine instead.
func (u *UI) do(fn func()) {
	if u.ctx.Err() != nil {
		return
	}
	guarded := func() {
		if u.ctx.Err() == nil {
			fn()
		}
	}
	if u.opts.Manual {
		u.mu.Lock()
		u.queued = append(u.queued, guarded)
		u.mu.Unlock()
		return
	}
	fyne.Do(guarded)
}

// bg runs fn off the UI thread, counted for Idle.
func (u *UI) bg(fn func()) {
	u.pending.Add(1)
	go func() {
		defer u.pending.Add(-1)
		fn()
	}()
}

// follow redraws on every Manager event and sends notifications.
func (u *UI) follow(events <-chan wire.Event) {
	for e := range events {
		if u.ctx.Err() != nil {
			continue // closing: drain until the channel closes
		}
		if e.Kind == wire.EventState && u.notifyState(e.Project, e.State, time.Now()) {
			n := fyne.NewNotification("devport: "+e.Project+" "+string(e.State), firstLine(e.Detail))
			u.do(func() { u.app.SendNotification(n) })
		}
		switch e.Kind {
		case wire.EventProgress:
			continue
		case wire.EventWarning: // the engine works on, but something needs the user
			detail := e.Detail
			u.do(func() { u.Status.SetText(detail) })
			continue
		case wire.EventNotice: // the engine did something on its own (databases followed a checkout)
			n := fyne.NewNotification("devport: "+e.Project, e.Detail)
			detail := e.Detail
			u.do(func() { u.Status.SetText(detail); u.app.SendNotification(n) })
			continue
		case wire.EventRaise: // a second launch found this window: it exits, this one comes forward
			if req := e.Raise; req != nil {
				u.do(func() { u.raise(*req) })
			}
			continue
		case wire.EventAdded, wire.EventRemoved: // a new name may not resolve yet
			u.refreshBanner()
		}
		u.Refresh()
	}
}

// Refresh reloads the project list from the engine and redraws.
func (u *UI) Refresh() {
	n := u.listed.Add(1)
	u.bg(func() {
		ps, err := u.opts.Engine.List(u.ctx)
		if u.ctx.Err() != nil {
			return // the window is gone: draw nothing
		}
		u.do(func() {
			if n < u.shown {
				return // a newer list is on screen
			}
			if u.shown == 0 {
				u.released() // what starting up took (the CA, the migrations, the first layout)
			}
			u.shown = n
			if err != nil {
				u.Status.SetText("Could not list the projects: " + err.Error())
				return
			}
			u.apply(ps)
		})
	})
}

// Projects returns what the list shows now.
func (u *UI) Projects() []wire.ProjectStatus {
	u.mu.Lock()
	defer u.mu.Unlock()
	return append([]wire.ProjectStatus(nil), u.projects...)
}

// Row returns the row of a project, or nil.
func (u *UI) Row(name string) *Row {
	u.mu.Lock()
	defer u.mu.Unlock()
	return u.rows[name]
}

// apply redraws the sidebar and the pane; it runs on the UI thread.
func (u *UI) apply(ps []wire.ProjectStatus) {
	sort.Slice(ps, func(i, j int) bool { return ps[i].Name < ps[j].Name })
	u.mu.Lock()
	u.projects = ps
	seen := map[string]bool{}
	var shown *wire.ProjectStatus // the project in the pane, as listed now
	for i, p := range ps {
		seen[p.Name] = true
		r := u.rows[p.Name]
		if r == nil {
			r = u.newRow(p.Name)
			u.rows[p.Name] = r
		}
		r.update(p)
		if p.Name == u.Pane.Name {
			shown = &ps[i]
		}
	}
	for n := range u.rows {
		if !seen[n] {
			delete(u.rows, n)
		}
	}
	u.mu.Unlock()
	switch {
	case shown != nil:
		u.Pane.update(*shown)
		u.layoutRows()
	case len(ps) > 0: // the first project, or the next after a removal
		u.Select(ps[0].Name)
	default:
		u.Select("")
	}
	u.setTray()
}

func setEnabled(b *widget.Button, on bool) {
	if on {
		b.Enable()
	} else {
		b.Disable()
	}
}

func uniq(in []string) []string {
	var out []string
	seen := map[string]bool{}
	for _, s := range in {
		if s != "" && !seen[s] {
			seen[s] = true
			out = append(out, s)
		}
	}
	return out
}

// stateColor is a project's status dot: the theme's colour of its state,
// the one its word is written in (stateImportance).
func stateColor(s wire.State) color.Color {
	switch s {
	case wire.StateRunning:
		return theme.Color(theme.ColorNameSuccess)
	case wire.StateStarting, wire.StateStopping:
		return theme.Color(theme.ColorNameWarning)
	case wire.StateCrashed, wire.StateFailed:
		return theme.Color(theme.ColorNameError)
	default:
		return theme.Color(theme.ColorNameDisabled)
	}
}

// act starts, stops or restarts a project in the background; an error
// shows in a dialog and in the status line.
func (u *UI) act(action, name string) {
	u.Status.SetText(fmt.Sprintf("%s %s…", strings.ToUpper(action[:1])+action[1:], name))
	u.bg(func() {
		var err error
		switch action {
		case "start":
			err = u.opts.Engine.Start(u.ctx, name)
		case "stop":
			err = u.opts.Engine.Stop(u.ctx, name)
		case "restart":
			err = u.opts.Engine.Restart(u.ctx, name)
		}
		u.do(func() {
			if err != nil {
				u.Status.SetText(err.Error())
				u.showError(err)
				return
			}
			u.Status.SetText("")
		})
	})
}

func (u *UI) showError(err error) {
	if u.Window != nil {
		dialog.ShowError(err, u.Window)
	}
}

// project returns the project named name as last listed.
func (u *UI) project(name string) (wire.ProjectStatus, bool) {
	for _, p := range u.Projects() {
		if p.Name == name {
			return p, true
		}
	}
	return wire.ProjectStatus{}, false
}

// OpenSite opens a project's https URL in the browser. A failure shows
// in the pane with the command that was tried.
func (u *UI) OpenSite(name string) {
	p, ok := u.project(name)
	if !ok {
		return
	}
	if warn := u.setupWarning(); warn != "" { // it opens, but may show an error page
		u.Status.SetText(p.URL + " may not open: " + warn)
	} else {
		u.Status.SetText("Opening " + p.URL + " in your browser")
	}
	u.openIn(p.URL, u.failedFor(name))
}

// openFolder opens a project's folder in the file manager.
func (u *UI) openFolder(name string) {
	p, ok := u.project(name)
	if !ok || p.Root == "" {
		return
	}
	u.Status.SetText("Opening " + p.Root)
	u.openIn(p.Root, u.failedFor(name))
}

// openTerminal opens a terminal in a project's folder.
func (u *UI) openTerminal(name string) {
	p, ok := u.project(name)
	if !ok || p.Root == "" {
		return
	}
	argv, fix := u.terminalCommand()
	u.Status.SetText("Opening a terminal in " + p.Root)
	u.launchIn(argv, p.Root, fix, u.failedFor(name))
}

// openEditor opens a project's folder in the editor.
func (u *UI) openEditor(name string) {
	p, ok := u.project(name)
	if !ok || p.Root == "" {
		return
	}
	argv, fix := u.editorCommand(p.Root)
	u.Status.SetText("Opening " + p.Root + " in " + argv[0])
	u.launchIn(argv, p.Root, fix, u.failedFor(name))
}

// failedFor is where a failure to open something of project name shows:
// its pane while it is selected (the tray opens others), else the status
// line.
func (u *UI) failedFor(name string) func(string) {
	return func(msg string) {
		if u.Pane.Name == name {
			u.Pane.noteFailure(msg)
			return
		}
		u.Status.SetText(msg)
	}
}

// launchIn starts argv in dir; a failure goes to failed, as "Open
// failed: …".
func (u *UI) launchIn(argv []string, dir, fix string, failed func(string)) {
	show := func(msg string) { failed("Open failed: " + msg) }
	if err := u.launch(argv, dir, fix, show); err != nil {
		show(err.Error())
	}
}

// openIn hands target (a URL or a folder) to the opener (Options.Opener,
// default xdg-open); a failure goes to failed, as "Open failed: …".
func (u *UI) openIn(target string, failed func(string)) {
	name, fix := u.opts.Opener, ""
	if name == "" {
		name, fix = defaultOpener, "install xdg-utils"
	}
	u.launchIn([]string{name, target}, "", fix, failed)
}

// RemoveDialog asks before a project is removed.
type RemoveDialog struct {
	Project     string
	Yes, Cancel *widget.Button
	d           dialog.Dialog
}

// ConfirmRemove asks whether to remove a project; Yes stops and removes it.
func (u *UI) ConfirmRemove(name string) {
	rd := &RemoveDialog{Project: name}
	msg := widget.NewLabel(fmt.Sprintf("Stop %s and remove it from devport?\nIts folder and files stay where they are.", name))
	rd.Yes = widget.NewButton("Remove", func() {
		rd.d.Hide()
		u.bg(func() {
			err := u.opts.Engine.Remove(u.ctx, name)
			u.do(func() {
				if err != nil {
					u.Status.SetText(err.Error())
					u.showError(err)
				}
			})
		})
	})
	rd.Yes.Importance = widget.DangerImportance
	rd.Cancel = widget.NewButton("Cancel", func() { rd.d.Hide() })
	rd.d = dialog.NewCustomWithoutButtons("Remove "+name+"?", container.NewVBox(msg, container.NewHBox(layout.NewSpacer(), rd.Cancel, rd.Yes)), u.Window)
	u.Remove = rd
	rd.d.Show()
}

// firstLine is the first line of s: reasons carry log tails.
func firstLine(s string) string {
	first, _, _ := strings.Cut(s, "\n")
	return first
}
