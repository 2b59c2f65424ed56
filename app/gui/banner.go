package gui

import (
	"strings"
	"sync/atomic"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/container"
	"fyne.io/fyne/v2/widget"

	"github.com/devport/devport/app/wire"
)

// Banner leads a new user to the one step that makes every site open in
// the browser: while the CA is not trusted, names do not resolve or 443 is
// out of reach, it says what is missing and why it matters, above one
// Finish setup button that runs devport setup (root's steps through
// pkexec) and shows each step's result. Only a window that hosts the
// engine has it (Host).
type Banner struct {
	Box    *fyne.Container
	Text   *widget.Label
	Finish *widget.Button
	// Dismiss hides the banner once setup is done and its steps were read.
	Dismiss *widget.Button
	// Result shows the steps of the last Finish setup.
	Result *widget.Label

	needs []wire.SetupNeed // what the banner says now; nil when hidden
	// asked counts the checks asked for: an answer that a later check
	// overtook (setup finished meanwhile) is dropped.
	asked atomic.Int64
}

func (u *UI) newBanner() *Banner {
	b := &Banner{Text: widget.NewLabel(""), Result: widget.NewLabel("")}
	b.Text.Wrapping = fyne.TextWrapWord
	b.Result.Wrapping = fyne.TextWrapWord
	b.Result.TextStyle = fyne.TextStyle{Monospace: true}
	b.Finish = widget.NewButton("Finish setup", u.finishSetup)
	b.Finish.Importance = widget.HighImportance
	b.Dismiss = widget.NewButton("Dismiss", func() { b.Box.Hide(); u.relayout(true) })
	b.Dismiss.Hide()
	b.Box = container.NewVBox(container.NewBorder(nil, nil, nil, container.NewHBox(b.Finish, b.Dismiss), b.Text), b.Result)
	b.Box.Hide()
	b.Result.Hide()
	return b
}

// refreshBanner asks the engine what setup would put in order, in the
// background, and shows or hides the banner.
func (u *UI) refreshBanner() {
	if u.opts.Host == nil {
		return
	}
	n := u.Banner.asked.Add(1)
	u.bg(func() {
		needs := u.opts.Host.SetupNeeds(u.ctx)
		if u.ctx.Err() != nil {
			return
		}
		u.do(func() {
			if u.Banner.asked.Load() == n {
				u.showNeeds(needs)
			}
		})
	})
}

func (u *UI) showNeeds(needs []wire.SetupNeed) {
	b := u.Banner
	defer u.relayout(b.Box.Visible())
	b.needs = needs
	if len(needs) == 0 {
		if b.Result.Visible() { // after Finish setup: leave its steps to read
			b.Text.SetText("Setup is done: your sites open in the browser.")
			b.Finish.Hide()
			b.Dismiss.Show()
			return
		}
		b.Box.Hide()
		return
	}
	b.Finish.Show()
	b.Dismiss.Hide()
	lines := make([]string, len(needs))
	for i, n := range needs {
		lines[i] = "• " + n.Why
	}
	b.Text.SetText("One step is left before your sites open in the browser:\n" + strings.Join(lines, "\n"))
	b.Box.Show()
}

// finishSetup runs devport setup and shows what each step did.
func (u *UI) finishSetup() {
	b := u.Banner
	b.Finish.Disable()
	b.Result.SetText("Setting up (the system may ask for your password)…")
	b.Result.Show()
	u.bg(func() {
		steps, err := u.opts.Host.FinishSetup(u.ctx)
		var lines []string
		for _, s := range steps {
			lines = append(lines, s.String())
		}
		if err != nil {
			lines = append(lines, err.Error())
		}
		text := strings.Join(lines, "\n")
		u.do(func() {
			b.Finish.Enable()
			b.Result.SetText(text)
		})
		u.refreshBanner()
		u.Refresh() // URLs carry the port the engine now serves on
	})
}

// setupWarning is why a site may not open while the banner is up, or "".
func (u *UI) setupWarning() string {
	if u.Banner == nil || len(u.Banner.needs) == 0 {
		return ""
	}
	return u.Banner.needs[0].Why + ". Finish setup (below) puts it in order."
}

// Targets are the window's controls by name, for a test that clicks them
// in a real window: it asks where they are (app/desktop writes their
// places when DEVPORT_LAYOUT_FILE is set) instead of guessing pixels.
// Call it on the UI's goroutine.
func (u *UI) Targets() map[string]fyne.CanvasObject {
	t := map[string]fyne.CanvasObject{"new-project": u.NewBtn, "settings": u.Settings}
	if u.Banner != nil {
		t["finish-setup"] = u.Banner.Finish
		t["dismiss-setup"] = u.Banner.Dismiss
	}
	u.mu.Lock()
	for name, r := range u.rows { // a sidebar row: "project:shop"
		t["project:"+name] = r.item
	}
	u.mu.Unlock()
	if pn := u.Pane; pn != nil && pn.Name != "" { // the pane's controls
		t["toggle"], t["more"] = pn.Toggle, pn.More
		for tab, b := range pn.TabButtons { // "tab:Logs"
			t["tab:"+tab] = b
		}
		if pn.Failure.Box.Visible() {
			t["try-again"] = pn.Failure.TryAgain
		}
	}
	if u.Wizard != nil && u.Wizard.Win != nil { // places in the wizard's own window
		t["wizard-cancel"] = u.Wizard.Cancel
	}
	if b := u.quitButton(); b != nil {
		t["quit-confirm"] = b
	}
	return t
}

// relayout lays the window out again when the banner was shown before
// a change (wasShown) or is now: the space it takes changed.
func (u *UI) relayout(wasShown bool) {
	if wasShown || u.Banner.Box.Visible() {
		if c := u.Window.Content(); c != nil {
			c.Refresh()
		}
	}
}
