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
	"fyne.io/fyne/v2/canvas"
	"fyne.io/fyne/v2/container"
	"fyne.io/fyne/v2/dialog"
	"fyne.io/fyne/v2/driver/desktop"
	"fyne.io/fyne/v2/layout"
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
	// Quit ends the app; default fyne.App.Quit.
	Quit func()
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
	list       *fyne.Container
	empty      *widget.Label

	mu       sync.Mutex
	projects []wire.ProjectStatus
	rows     map[string]*Row
	tray     *fyne.Menu
	output   OutputLog

	// Wizard, SettingsView, Logs and RemoveDialog are the views open now.
	Wizard       *Wizard
	ParkPicker   *dialog.FileDialog // the folder picker of ShowPark
	ParkResult   *ParkView          // what the last park did
	SettingsView *SettingsView
	Logs         map[string]*LogsView
	Remove       *RemoveDialog
	// QuitConfirm asks before Quit stops running projects (quit.go); nil
	// until asked.
	QuitConfirm *dialog.ConfirmDialog
	Details     map[string]*ProjectView // project details windows, by name

	pending atomic.Int64 // background actions still running
	queued  []func()     // Manual: UI work waiting for Idle
	// listed numbers the Refresh calls; shown is the newest whose list is
	// on screen (UI thread only). Lists finish in any order, and an older
	// one must not replace a newer one: the last event's change would be
	// lost until the next event.
	listed atomic.Int64
	shown  int64
}

// Row is one project in the list.
type Row struct {
	Light                                  *canvas.Circle
	Name, Detail, State                    *widget.Label
	Start, Stop, Restart, Open, Folder, Lg *widget.Button
	Del, Details                           *widget.Button
	box                                    *fyne.Container
}

// New builds the UI on a; call Show (or nothing, for --minimized with a
// tray), then run the app. Close releases the event subscription.
func New(a fyne.App, o Options) *UI {
	ctx, stop := context.WithCancel(context.Background())
	u := &UI{app: a, opts: o, ctx: ctx, stop: stop, rows: map[string]*Row{}, Logs: map[string]*LogsView{}}
	if u.opts.Quit == nil {
		// Close first: nothing may draw once the app's loop has ended.
		u.opts.Quit = func() { u.Close(); a.Quit() }
	}
	a.Settings().SetTheme(newLegibleTheme()) // theme.go: disabled controls stay legible
	u.Window = a.NewWindow("devport")
	u.NewBtn = widget.NewButton("New project…", u.ShowWizard)
	u.ParkBtn = widget.NewButton("Add a folder of projects…", u.ShowPark)
	u.Settings = widget.NewButton("Settings", u.ShowSettings)
	u.Status = widget.NewLabel("")
	u.Status.Wrapping = fyne.TextWrapWord
	u.empty = widget.NewLabel("No projects yet. Click \"New project…\" to add a folder.")
	u.list = container.NewVBox()
	top := container.NewHBox(u.NewBtn, u.ParkBtn, u.Settings, layout.NewSpacer())
	if o.Host == nil {
		// Attached to another process's engine: the control API has no
		// event stream, so changes made elsewhere show on Refresh.
		u.RefreshBtn = widget.NewButton("Refresh", u.Refresh)
		top.Add(u.RefreshBtn)
	}
	u.Banner = u.newBanner() // banner.go: below the list, so rows keep their place
	u.Window.SetContent(container.NewBorder(top, container.NewVBox(u.Banner.Box, u.Status), nil, nil, container.NewVScroll(u.list)))
	u.Window.Resize(fyne.NewSize(960, 540))
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
	}
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
func (u *UI) Close() { u.stop() }

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
		if e.Kind == wire.EventState && (e.State == wire.StateCrashed || e.State == wire.StateFailed) {
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

// apply redraws the list; it runs on the UI thread.
func (u *UI) apply(ps []wire.ProjectStatus) {
	sort.Slice(ps, func(i, j int) bool { return ps[i].Name < ps[j].Name })
	u.mu.Lock()
	u.projects = ps
	seen := map[string]bool{}
	objs := []fyne.CanvasObject{}
	for _, p := range ps {
		seen[p.Name] = true
		r := u.rows[p.Name]
		if r == nil {
			r = u.newRow(p.Name)
			u.rows[p.Name] = r
		}
		r.update(p)
		objs = append(objs, r.box, widget.NewSeparator())
	}
	for n := range u.rows {
		if !seen[n] {
			delete(u.rows, n)
		}
	}
	u.mu.Unlock()
	if len(objs) == 0 {
		objs = []fyne.CanvasObject{u.empty}
	}
	u.list.Objects = objs
	u.list.Refresh()
	u.setTray()
}

func (u *UI) newRow(name string) *Row {
	r := &Row{
		Light:  canvas.NewCircle(stateColor(wire.StateStopped)),
		Name:   widget.NewLabelWithStyle(name, fyne.TextAlignLeading, fyne.TextStyle{Bold: true}),
		Detail: widget.NewLabel(""),
		State:  widget.NewLabel(""),
	}
	r.Start = widget.NewButton("Start", func() { u.act("start", name) })
	r.Stop = widget.NewButton("Stop", func() { u.act("stop", name) })
	r.Restart = widget.NewButton("Restart", func() { u.act("restart", name) })
	r.Open = widget.NewButton("Open in browser", func() { u.OpenSite(name) })
	r.Folder = widget.NewButton("Open folder", func() { u.openFolder(name) })
	r.Lg = widget.NewButton("Logs", func() { u.ShowLogs(name) })
	r.Del = widget.NewButton("Remove…", func() { u.ConfirmRemove(name) })
	r.Details = widget.NewButton("Details…", func() { u.ShowProject(name) })
	light := container.NewGridWrap(fyne.NewSize(14, 14), r.Light)
	info := container.NewVBox(container.NewHBox(container.NewCenter(light), r.Name, r.State), r.Detail)
	// Details comes first: the row is right-aligned, so the buttons after
	// it keep their places.
	buttons := container.NewHBox(r.Details, r.Start, r.Stop, r.Restart, r.Open, r.Folder, r.Lg, r.Del)
	r.box = container.NewBorder(nil, nil, nil, container.NewCenter(buttons), info)
	return r
}

func (r *Row) update(p wire.ProjectStatus) {
	r.Light.FillColor = stateColor(p.State)
	r.Light.Refresh()
	st := string(p.State)
	if p.Reason != "" {
		st += ": " + p.Reason
	}
	r.State.SetText(st)
	var stacks, runtimes []string
	for _, s := range p.Services {
		stack := s.Stack
		if s.PHP != "" {
			stack += " " + s.PHP // the PHP version it runs, or would run
		}
		stacks = append(stacks, stack)
		runtimes = append(runtimes, s.Runtime)
	}
	domains := p.URL
	if len(p.Domains) > 1 {
		domains += " (also " + strings.Join(p.Domains[1:], ", ") + ")"
	}
	r.Detail.SetText(fmt.Sprintf("%s  ·  %s  ·  %s", domains, strings.Join(uniq(stacks), "+"), strings.Join(uniq(runtimes), "+")))
	running := p.State == wire.StateRunning
	busy := p.State == wire.StateStarting || p.State == wire.StateStopping
	setEnabled(r.Start, !running && !busy)
	troubled := p.State == wire.StateCrashed || p.State == wire.StateFailed
	setEnabled(r.Stop, running || troubled)
	setEnabled(r.Restart, running || troubled)
	setEnabled(r.Folder, p.Root != "")
	setEnabled(r.Lg, len(p.Services) > 0)
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

// stateColor is a project's status light.
func stateColor(s wire.State) color.Color {
	switch s {
	case wire.StateRunning:
		return color.NRGBA{0x16, 0xa3, 0x4a, 0xff}
	case wire.StateStarting, wire.StateStopping:
		return color.NRGBA{0xf5, 0x9e, 0x0b, 0xff}
	case wire.StateCrashed, wire.StateFailed:
		return color.NRGBA{0xdc, 0x26, 0x26, 0xff}
	default:
		return color.NRGBA{0x9c, 0xa3, 0xaf, 0xff}
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
// in the status line with the command that was tried.
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
	u.openIn(p.URL, u.Status)
}

// openFolder opens a project's folder in the file manager.
func (u *UI) openFolder(name string) {
	p, ok := u.project(name)
	if !ok || p.Root == "" {
		return
	}
	u.Status.SetText("Opening " + p.Root)
	u.openIn(p.Root, u.Status)
}

// openIn opens target, and says so in status when it fails.
func (u *UI) openIn(target string, status *widget.Label) {
	show := func(msg string) { status.SetText("Open failed: " + msg) }
	if err := u.open(target, show); err != nil {
		show(err.Error())
	}
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
