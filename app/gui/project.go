package gui

import (
	"context"
	"fmt"
	"maps"
	"slices"
	"strings"
	"sync/atomic"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/container"
	"fyne.io/fyne/v2/widget"

	"github.com/devport/devport/app/wire"
	"github.com/devport/devport/internal/stackdef"
)

// ProjectView is the selected project's Overview and Settings tabs in the
// pane (pane.go). Overview: its domains and folder, each service with its
// stack, prefix, runtime, version, upstream and log, its data services
// (data.go) and its routes. Settings: each service's runtime (and the
// image of the container runtime), as `devport set` changes them, a
// Python service run under debugpy, as `devport debug` does, and a php
// service's version, php.ini and Xdebug. It follows the engine's events
// while it is shown.
type ProjectView struct {
	Overview, Settings *fyne.Container
	Header             *widget.Label
	Services           map[string]*ServiceEditor // by service name
	// Routes lists the project's routes, one per line, as devport route ls
	// prints them.
	Routes *widget.Label
	// Data is the project's data services (data.go).
	Data *DataView
	// RouteEdit adds and removes the project's routes (routes.go), and
	// EnvHooks changes its services' environment and its before_start
	// hook (envhooks.go), in Settings.
	RouteEdit *RoutesEditor
	EnvHooks  *EnvHooksEditor
	name      string
	u         *UI
	// asked numbers the reloads, shown is the newest on screen (UI
	// thread only): an older list must not replace a newer one.
	asked atomic.Int64
	shown int64
}

// ServiceEditor is one service in a ProjectView.
type ServiceEditor struct {
	Info    *widget.Label
	Runtime *widget.Select // nil for services without a runtime (static, proxy)
	Image   *widget.Entry
	Apply   *widget.Button
	// Debug runs the service under debugpy for an IDE to attach (devport
	// debug NAME on|off); nil but for the Python stacks debugpy runs
	// (uWSGI is not one). It shows the stored state.
	Debug *widget.Check
	// Xdebug loads Xdebug for the project's PHP (devport xdebug NAME
	// on|off); nil but for the php service. It shows the stored state.
	Xdebug *widget.Check
	// Err is the service's note line: why a change was refused.
	Err *widget.Label
	// xdebugging is true while an Xdebug change is on its way (UI thread
	// only), as debugging is for Debug.
	xdebugging bool
	// PHPIni lists the project's php.ini directives, one KEY = VALUE a
	// line, and PHPIniApply stores the edit (devport set --php-ini and
	// --php-ini-unset); nil but for the php service.
	PHPIni      *widget.Entry
	PHPIniApply *widget.Button
	// PHP is the php service's version drop-down (devport set NAME --php,
	// project_php.go); nil but for the php service.
	PHP *widget.Select
	// phpShown is the choice PHP shows as stored; phpSetting is true while
	// a change is on its way (UI thread only).
	phpShown   string
	phpSetting bool
	// iniShown is the text PHPIni last showed from the engine: an edit
	// in progress (the text differs) is not overwritten by an update.
	iniShown  string
	iniStored map[string]string
	// debugging is true while a debug change is on its way (UI thread
	// only): the check shows what was asked, not an older list.
	debugging bool
}

// debugLabel is the Debug check's text: where an IDE attaches.
const debugLabel = "Debug (debugpy on 127.0.0.1:5678)"

// xdebugLabel is the Xdebug check's text: where Xdebug connects, and when.
const xdebugLabel = "Xdebug (to your IDE on port 9003, for requests with XDEBUG_TRIGGER)"

// ShowProject shows a project's Overview in the main window.
func (u *UI) ShowProject(name string) {
	u.Show()
	u.Select(name)
	u.Pane.SelectTab(TabOverview)
}

// newProjectView builds the Overview and Settings of p, which follow the
// engine's events until ctx ends.
func (u *UI) newProjectView(ctx context.Context, p wire.ProjectStatus) *ProjectView {
	name := p.Name
	pv := &ProjectView{name: name, u: u, Header: widget.NewLabel(""), Services: map[string]*ServiceEditor{}, Routes: widget.NewLabel("")}
	pv.Header.Wrapping = fyne.TextWrapWord
	pv.Routes.TextStyle = fyne.TextStyle{Monospace: true}
	pv.Routes.Selectable = true
	pv.Overview = container.NewVBox(pv.Header)
	pv.Settings = container.NewVBox()
	for _, s := range p.Services {
		se := pv.newEditor(s)
		pv.Services[s.Name] = se
		pv.Overview.Add(widget.NewCard(s.Name, "", se.Info))
		card := container.NewVBox()
		if se.Runtime != nil {
			card.Add(container.NewBorder(nil, nil, widget.NewLabel("Runtime"), se.Apply,
				container.NewGridWithColumns(2, se.Runtime, se.Image)))
		}
		if se.Debug != nil {
			card.Add(se.Debug)
		}
		if se.PHP != nil {
			card.Add(container.NewBorder(nil, nil, widget.NewLabel("PHP version"), nil, se.PHP))
		}
		if se.Xdebug != nil {
			card.Add(se.Xdebug)
		}
		if se.PHPIni != nil {
			card.Add(container.NewBorder(widget.NewLabel("php.ini (KEY = VALUE, on top of devport's defaults)"), nil, nil, se.PHPIniApply, se.PHPIni))
		}
		if len(card.Objects) == 0 {
			note := widget.NewLabel("Nothing to set: devport's proxy serves it, or you run it.")
			note.Wrapping = fyne.TextWrapWord
			card.Add(note)
		}
		card.Add(se.Err)
		pv.Settings.Add(widget.NewCard(s.Name, s.Stack, card))
	}
	pv.Data = pv.newDataView()
	pv.Overview.Add(widget.NewCard("Data services", "databases, caches and mail the services reach", pv.Data.Box))
	pv.Overview.Add(widget.NewCard("Routes", "Settings adds and removes them, as devport route "+name+" add|rm does", pv.Routes))
	pv.RouteEdit = pv.newRoutesEditor()
	pv.Settings.Add(widget.NewCard("Routes", "a prefix sent to a service, a folder or a URL", pv.RouteEdit.Box))
	pv.EnvHooks = pv.newEnvHooksEditor(p)
	pv.Settings.Add(widget.NewCard("Environment and hooks", "what the services get, and what runs before start", pv.EnvHooks.Box))
	pv.update(p)
	pv.follow(ctx)
	return pv
}

func (pv *ProjectView) newEditor(s wire.ServiceStatus) *ServiceEditor {
	se := &ServiceEditor{Info: widget.NewLabel(""), Err: widget.NewLabel("")}
	se.Info.Wrapping = fyne.TextWrapWord
	se.Err.Wrapping = fyne.TextWrapWord
	se.Err.Importance = widget.DangerImportance
	if s.Stack == stackdef.Static || s.Stack == stackdef.Proxy {
		return se // the proxy serves it, or the user runs it: no runtime
	}
	se.Image = widget.NewEntry()
	img := stackdef.DefaultImage(s.Stack)
	if s.PHP != "" { // the image of the version it runs
		img = stackdef.PHPImage(s.PHP)
	}
	se.Image.SetPlaceHolder("image: " + img)
	se.Runtime = widget.NewSelect([]string{wire.RuntimeProcess, wire.RuntimeContainer}, func(rt string) {
		if rt == wire.RuntimeContainer {
			se.Image.Enable()
		} else {
			se.Image.Disable()
		}
	})
	service := s.Name
	se.Apply = widget.NewButton("Apply", func() { pv.apply(service, se) })
	if stackdef.IsPython(s.Stack) && s.Stack != stackdef.UWSGI {
		se.Debug = widget.NewCheck(debugLabel, func(on bool) { pv.setDebug(service, se, on) })
	}
	if s.Stack == stackdef.PHP {
		se.PHP = pv.newPHPSelect(se, s)
		se.Xdebug = widget.NewCheck(xdebugLabel, func(on bool) { pv.setXdebug(se, on) })
		se.PHPIni = widget.NewMultiLineEntry()
		se.PHPIni.SetPlaceHolder("memory_limit = 1G")
		se.PHPIni.SetMinRowsVisible(3)
		se.PHPIniApply = widget.NewButton("Apply", func() { pv.applyPHPIni(se) })
	}
	return se
}

// setDebug turns debugging of the service on or off. A refusal (the port
// is taken, the project failed to restart) is shown on the service's note
// line, and the check goes back to what is stored.
func (pv *ProjectView) setDebug(service string, se *ServiceEditor, on bool) {
	req := wire.DebugRequest{Service: service, On: on}
	se.Err.SetText("")
	se.debugging = true
	se.Debug.Disable()
	pv.u.Status.SetText(fmt.Sprintf("Turning debugging of %s/%s %s…", pv.name, service, onOff(on)))
	pv.u.bg(func() {
		p, err := pv.u.opts.Engine.SetDebug(pv.u.ctx, pv.name, req)
		pv.u.do(func() {
			se.debugging = false
			se.Debug.Enable()
			if err != nil {
				se.showDebug(!on)
				se.Err.SetText(err.Error())
				pv.u.Status.SetText(err.Error())
				return
			}
			pv.u.Status.SetText("")
			pv.show(p)
		})
	})
}

// setXdebug loads Xdebug for the project's PHP or leaves it out. A
// refusal (Xdebug is not installed, the project failed to restart) is
// shown on the service's note line, and the check goes back.
func (pv *ProjectView) setXdebug(se *ServiceEditor, on bool) {
	se.Err.SetText("")
	se.xdebugging = true
	se.Xdebug.Disable()
	pv.u.Status.SetText(fmt.Sprintf("Turning Xdebug of %s %s…", pv.name, onOff(on)))
	pv.u.bg(func() {
		p, err := pv.u.opts.Engine.SetXdebug(pv.u.ctx, pv.name, wire.XdebugRequest{On: on})
		pv.u.do(func() {
			se.xdebugging = false
			se.Xdebug.Enable()
			if err != nil {
				se.showXdebug(!on)
				se.Err.SetText(err.Error())
				pv.u.Status.SetText(err.Error())
				return
			}
			pv.u.Status.SetText("")
			pv.show(p)
		})
	})
}

// applyPHPIni stores the directives of the php.ini box: those added or
// changed are set, those removed unset. A line without "=" or the
// engine's refusal (a bad key or value) shows on the note line, and
// nothing changes.
func (pv *ProjectView) applyPHPIni(se *ServiceEditor) {
	req, err := phpIniDiff(se.iniStored, se.PHPIni.Text)
	se.Err.SetText("")
	if err != nil {
		se.Err.SetText(err.Error())
		return
	}
	if len(req.Set) == 0 && len(req.Unset) == 0 {
		return
	}
	se.PHPIniApply.Disable()
	pv.u.Status.SetText(fmt.Sprintf("Changing php.ini of %s…", pv.name))
	pv.u.bg(func() {
		p, err := pv.u.opts.Engine.SetPHPIni(pv.u.ctx, pv.name, req)
		pv.u.do(func() {
			se.PHPIniApply.Enable()
			if err != nil {
				se.Err.SetText(err.Error())
				pv.u.Status.SetText(err.Error())
				return
			}
			pv.u.Status.SetText("")
			se.iniShown = "" // show what is stored now, edit done
			se.showPHPIni(p.PHPIni, true)
			pv.show(p)
		})
	})
}

// phpIniDiff turns the php.ini box's text into the change from stored.
func phpIniDiff(stored map[string]string, text string) (wire.PHPIniRequest, error) {
	set, unset, err := lineDiff(stored, text, "php.ini", "memory_limit = 1G")
	return wire.PHPIniRequest{Set: set, Unset: unset}, err
}

// lineDiff turns a box of KEY = VALUE lines into the change from stored:
// the keys to set (added or changed) and those to unset (removed). Blank
// lines and lines starting with ";" or "#" are skipped, and a value's ends
// are trimmed of spaces and double quotes. A line without "=" is refused,
// naming the box (what) and showing a good line (example).
func lineDiff(stored map[string]string, text, what, example string) (set map[string]string, unset []string, err error) {
	want := map[string]string{}
	for i, line := range strings.Split(text, "\n") {
		line = strings.TrimSpace(line)
		if line == "" || line[0] == ';' || line[0] == '#' {
			continue
		}
		k, v, ok := strings.Cut(line, "=")
		if !ok {
			return nil, nil, fmt.Errorf("%s line %d %q: use KEY = VALUE, e.g. %s", what, i+1, line, example)
		}
		want[strings.TrimSpace(k)] = strings.Trim(strings.TrimSpace(v), `"`)
	}
	for k, v := range want {
		if old, ok := stored[k]; !ok || old != v {
			if set == nil {
				set = map[string]string{}
			}
			set[k] = v
		}
	}
	for k := range stored {
		if _, ok := want[k]; !ok {
			unset = append(unset, k)
		}
	}
	slices.Sort(unset)
	return set, unset, nil
}

// showPHPIni shows the stored directives in the php.ini box, unless the
// user is editing it (its text is not what was shown last) and force is
// false.
func (se *ServiceEditor) showPHPIni(ini map[string]string, force bool) {
	if se.PHPIni == nil {
		return
	}
	se.iniStored = ini
	var b strings.Builder
	for _, k := range slices.Sorted(maps.Keys(ini)) {
		fmt.Fprintf(&b, "%s = %s\n", k, ini[k])
	}
	text := b.String()
	if !force && se.PHPIni.Text != se.iniShown {
		return
	}
	se.iniShown = text
	se.PHPIni.SetText(text)
}

// showXdebug sets the Xdebug check without asking the engine again.
func (se *ServiceEditor) showXdebug(on bool) {
	if se.Xdebug == nil || se.xdebugging || se.Xdebug.Checked == on {
		return
	}
	changed := se.Xdebug.OnChanged
	se.Xdebug.OnChanged = nil
	se.Xdebug.SetChecked(on)
	se.Xdebug.OnChanged = changed
}

// showDebug sets the Debug check without asking the engine again.
func (se *ServiceEditor) showDebug(on bool) {
	if se.Debug == nil || se.debugging || se.Debug.Checked == on {
		return
	}
	changed := se.Debug.OnChanged
	se.Debug.OnChanged = nil
	se.Debug.SetChecked(on)
	se.Debug.OnChanged = changed
}

func onOff(on bool) string {
	if on {
		return "on"
	}
	return "off"
}

// apply switches the service to the chosen runtime and image.
func (pv *ProjectView) apply(service string, se *ServiceEditor) {
	req := wire.RuntimeRequest{Service: service, Runtime: se.Runtime.Selected}
	if req.Runtime == wire.RuntimeContainer {
		req.Image = strings.TrimSpace(se.Image.Text)
	}
	se.Err.SetText("")
	se.Apply.Disable()
	pv.u.Status.SetText(fmt.Sprintf("Switching %s/%s to %s…", pv.name, service, req.Runtime))
	pv.u.bg(func() {
		p, err := pv.u.opts.Engine.SetRuntime(pv.u.ctx, pv.name, req)
		pv.u.do(func() {
			se.Apply.Enable()
			if err != nil {
				se.Err.SetText(err.Error())
				pv.u.Status.SetText(err.Error())
				return
			}
			pv.u.Status.SetText("")
			pv.update(p)
		})
	})
}

// follow keeps the window current while it is open (until ctx ends): a
// change to the project, made here or elsewhere (the CLI, the engine
// itself), reloads it.
func (pv *ProjectView) follow(ctx context.Context) {
	events, cancel := pv.u.opts.Engine.Subscribe()
	go func() {
		defer cancel()
		for {
			select {
			case <-ctx.Done():
				return
			case e, ok := <-events:
				if !ok {
					return
				}
				switch {
				case e.Project != "" && e.Project != pv.name:
				case e.Kind == wire.EventProgress || e.Kind == wire.EventWarning || e.Kind == wire.EventNotice:
				default:
					pv.reload()
				}
			}
		}
	}()
}

// reload lists the project again and shows it. The runtime editors keep
// what the user may be choosing; Apply shows what was stored.
func (pv *ProjectView) reload() {
	u := pv.u
	n := pv.asked.Add(1)
	u.bg(func() {
		ps, err := u.opts.Engine.List(u.ctx)
		if err != nil {
			return // the window keeps what it showed; the main window says why
		}
		for _, p := range ps {
			if p.Name == pv.name {
				u.do(func() {
					if n > pv.shown {
						pv.shown = n
						pv.show(p)
					}
				})
			}
		}
	})
}

// update shows p as listed, with each runtime editor set to what is
// stored.
func (pv *ProjectView) update(p wire.ProjectStatus) {
	pv.show(p)
	for _, s := range p.Services {
		if se := pv.Services[s.Name]; se != nil && se.Runtime != nil {
			se.Runtime.SetSelected(s.Runtime)
			se.Image.SetText(s.Image)
		}
	}
}

// show shows p, but for the runtime editors' choices.
func (pv *ProjectView) show(p wire.ProjectStatus) {
	var head []string // the URL and state are in the pane's header
	if p.Root != "" {
		head = append(head, "Folder: "+p.Root)
	}
	if len(p.Domains) > 1 {
		head = append(head, "Also answers at: "+strings.Join(p.Domains[1:], ", "))
	}
	pv.Header.SetText(strings.Join(head, "\n"))
	var routes []string
	for _, r := range p.Routes {
		line := fmt.Sprintf("%-10s %-8s %s", r.Prefix, r.Kind, r.Target)
		if o := r.Options(); o != "" {
			line += "  " + o
		}
		routes = append(routes, line)
	}
	pv.Routes.SetText(strings.Join(routes, "\n"))
	if pv.RouteEdit != nil {
		pv.RouteEdit.show(p)
	}
	if pv.EnvHooks != nil {
		pv.EnvHooks.show(p)
	}
	for _, s := range p.Services {
		se := pv.Services[s.Name]
		if se == nil {
			continue
		}
		info := fmt.Sprintf("%s at %s", s.Stack, s.PathPrefix)
		switch {
		case s.App != "":
			info += ", app " + s.App
		case s.DocRoot != "":
			info += ", document root " + s.DocRoot
		case s.URL != "":
			info += " → " + s.URL
		}
		if s.Stack == stackdef.Static {
			info += " (served by devport's proxy; nothing runs)"
		} else if s.Runtime != "" {
			info += "\nRuns as " + s.Runtime
			if s.Image != "" {
				info += " from " + s.Image
			}
		}
		se.showPHP(s)
		if s.PHP != "" { // the PHP drop-down (devport set NAME --php X.Y) changes it
			info += "\nPHP " + s.PHP
			if s.PHPFrom != "" {
				info += " (" + s.PHPFrom + ")"
			}
		}
		if s.Upstream != "" {
			info += "\nUpstream: " + s.Upstream
		}
		if s.Log != "" {
			info += "\nLog: " + s.Log
		}
		se.Info.SetText(info)
		se.showDebug(s.Debug)
		se.showXdebug(p.Xdebug)
		se.showPHPIni(p.PHPIni, false)
	}
	pv.Data.update(p)
}
