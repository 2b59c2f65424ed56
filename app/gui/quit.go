package gui

import (
	"fmt"
	"strings"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/dialog"
	"fyne.io/fyne/v2/widget"

	"github.com/devport/devport/app/wire"
)

// quitText labels the button that confirms a quit.
const quitText = "Quit"

// RequestQuit quits devport (the tray's Quit, or closing the window when
// there is no tray). While projects run it first shows the window and asks:
// quitting stops them (they start again on the next launch, unless
// --no-restore). Attached to another process's engine it quits at once:
// the projects run on in that engine.
func (u *UI) RequestQuit() {
	running := u.runningNames()
	if len(running) == 0 || u.opts.Host == nil {
		u.opts.Quit()
		return
	}
	if u.QuitConfirm != nil {
		u.QuitConfirm.Hide() // one question at a time
	}
	what := running[0] + " is running"
	if len(running) > 1 {
		what = fmt.Sprintf("%d projects are running (%s)", len(running), strings.Join(running, ", "))
	}
	msg := what + ".\nQuitting devport stops them; they start again the next time devport opens."
	u.QuitConfirm = dialog.NewConfirm("Quit devport?", msg, func(ok bool) {
		if ok {
			u.opts.Quit()
		}
	}, u.Window)
	u.QuitConfirm.SetConfirmText(quitText)
	u.QuitConfirm.SetDismissText("Cancel")
	u.Show()
	u.QuitConfirm.Show()
}

// runningNames are the projects as last listed that have backends up or
// on the way: what a quit would stop.
func (u *UI) runningNames() []string {
	var out []string
	for _, p := range u.Projects() {
		if p.State != wire.StateStopped && p.State != wire.StateFailed {
			out = append(out, p.Name)
		}
	}
	return out
}

// quitButton is the Quit button of the quit question while it is shown,
// found in the window's top overlay (Fyne keeps a dialog's buttons to
// itself: its pop-up's content holds them in containers), or nil.
func (u *UI) quitButton() *widget.Button {
	if u.QuitConfirm == nil {
		return nil
	}
	pop, ok := u.Window.Canvas().Overlays().Top().(*widget.PopUp)
	if !ok || !pop.Visible() {
		return nil
	}
	return findButton(pop.Content, quitText)
}

// findButton finds a button labelled text among o and the objects of the
// containers in it.
func findButton(o fyne.CanvasObject, text string) *widget.Button {
	switch o := o.(type) {
	case *widget.Button:
		if o.Text == text {
			return o
		}
	case *fyne.Container:
		for _, c := range o.Objects {
			if b := findButton(c, text); b != nil {
				return b
			}
		}
	}
	return nil
}
