package gui

import (
	"fmt"
	"strings"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/container"
	"fyne.io/fyne/v2/dialog"
	"fyne.io/fyne/v2/widget"
)

// Parking a folder from the window ("Add a folder of projects…"), as
// devport park DIR does: every subfolder becomes a project that starts on
// its first request, and the engine watches the folder for more.

// ParkView shows what parking a folder did, one line per project added
// and per subfolder skipped.
type ParkView struct {
	Dir   string
	Lines *widget.Label
	d     dialog.Dialog
}

// ShowPark asks for the folder that holds the projects.
func (u *UI) ShowPark() {
	d := dialog.NewFolderOpen(u.parkChosen, u.Window)
	d.SetConfirmText("Add its projects")
	d.Resize(fyne.NewSize(600, 340))
	u.ParkPicker = d
	d.Show()
}

// parkChosen is the folder picker's answer: nil when it was cancelled.
func (u *UI) parkChosen(dir fyne.ListableURI, err error) {
	if err != nil {
		u.Status.SetText(err.Error())
		u.showError(err)
		return
	}
	if dir != nil {
		u.Park(dir.Path())
	}
}

// Park parks dir in the background and shows what it did.
func (u *UI) Park(dir string) {
	u.Status.SetText("Adding the projects of " + dir + "…")
	u.bg(func() {
		rep, err := u.opts.Engine.Park(u.ctx, dir)
		u.do(func() {
			if err != nil {
				u.Status.SetText(err.Error())
				u.showError(err)
				return
			}
			added := 0
			for _, l := range rep.Lines {
				if strings.HasPrefix(l, "added ") {
					added++
				}
			}
			u.Status.SetText(fmt.Sprintf("%s: %d projects added; each starts on its first request", rep.Dir, added))
			pv := &ParkView{Dir: rep.Dir, Lines: widget.NewLabel(strings.Join(rep.Lines, "\n"))}
			pv.Lines.Wrapping = fyne.TextWrapWord
			scroll := container.NewVScroll(pv.Lines)
			scroll.SetMinSize(fyne.NewSize(640, 220))
			pv.d = dialog.NewCustom("Projects of "+rep.Dir, "Close", scroll, u.Window)
			u.ParkResult = pv
			pv.d.Show()
		})
	})
}
