package gui

import (
	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/driver/desktop"
	"github.com/devport/devport/app/wire"
)

// TrayMenu builds the tray menu from the projects as last listed: one
// entry per project (a start/stop toggle and Open), then Start all and
// Stop all (only when there are projects), Show window and Quit (which
// asks first while projects run: quit.go).
func (u *UI) TrayMenu() *fyne.Menu {
	var items []*fyne.MenuItem
	for _, p := range u.Projects() {
		name := p.Name
		toggle := fyne.NewMenuItem("Start", func() { u.act("start", name) })
		if p.State == wire.StateRunning || p.State == wire.StateCrashed || p.State == wire.StateStarting || p.State == wire.StateFailed {
			toggle = fyne.NewMenuItem("Stop", func() { u.act("stop", name) })
		}
		open := fyne.NewMenuItem("Open "+p.URL, func() { u.OpenSite(name) })
		open.Disabled = p.State != wire.StateRunning
		item := fyne.NewMenuItem(name+" ("+string(p.State)+")", nil)
		item.Checked = p.State == wire.StateRunning
		item.ChildMenu = fyne.NewMenu(name, toggle, open)
		items = append(items, item)
	}
	if len(items) > 0 { // with no project, Start all and Stop all would do nothing
		items = append(items,
			fyne.NewMenuItemSeparator(),
			fyne.NewMenuItem("Start all", func() { u.all("start") }),
			fyne.NewMenuItem("Stop all", func() { u.all("stop") }),
			fyne.NewMenuItemSeparator(),
		)
	}
	items = append(items, fyne.NewMenuItem("Show window", u.Show))
	quit := fyne.NewMenuItem("Quit", u.RequestQuit)
	quit.IsQuit = true
	items = append(items, quit)
	return fyne.NewMenu("devport", items...)
}

// all starts or stops every project that is not already there.
func (u *UI) all(action string) {
	for _, p := range u.Projects() {
		running := p.State == wire.StateRunning
		if (action == "start" && !running) || (action == "stop" && p.State != wire.StateStopped) {
			u.act(action, p.Name)
		}
	}
}

// trayIcon picks the tray image for the current states.
func (u *UI) trayIcon() fyne.Resource {
	icon := u.opts.Icons.Stopped
	for _, p := range u.Projects() {
		switch p.State {
		case wire.StateCrashed, wire.StateFailed:
			return orDefault(u.opts.Icons.Error, u.app.Icon())
		case wire.StateRunning:
			icon = u.opts.Icons.Running
		}
	}
	return orDefault(icon, u.app.Icon())
}

func orDefault(r, def fyne.Resource) fyne.Resource {
	if r == nil {
		return def
	}
	return r
}

// setTray rebuilds the tray menu and icon (only the model without a tray).
// The menu is one *fyne.Menu whose items are replaced, because Fyne's tray
// refreshes with the menu of the first SetSystemTrayMenu call once the
// tray is ready, which may be after later calls.
func (u *UI) setTray() {
	fresh := u.TrayMenu()
	u.mu.Lock()
	if u.tray == nil {
		u.tray = fresh
	} else {
		u.tray.Items = fresh.Items
	}
	menu := u.tray
	u.mu.Unlock()
	if !u.opts.Tray {
		return
	}
	if d, ok := u.app.(desktop.App); ok {
		d.SetSystemTrayMenu(menu)
		if icon := u.trayIcon(); icon != nil {
			d.SetSystemTrayIcon(icon)
		}
	}
}

// Tray returns the tray menu as last built (also without a real tray).
func (u *UI) Tray() *fyne.Menu {
	u.mu.Lock()
	defer u.mu.Unlock()
	return u.tray
}
