// Command fynefloor opens one Fyne window with one label and nothing else:
// the floor that devport's window memory is measured against (make
// bench-gui, e2e/guimem_test.go, docs/performance.md). It uses the same
// fyne.io/fyne/v2 as devport, so the difference between the two is
// devport's own, not Fyne's, GLFW's or Mesa's.
package main

import (
	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/app"
	"fyne.io/fyne/v2/widget"
)

func main() {
	a := app.NewWithID("dev.devport.fynefloor")
	w := a.NewWindow("fynefloor")
	w.SetContent(widget.NewLabel("fynefloor: one label"))
	// devport's main window is 960x540 (app/gui/ui.go): the same size
	// gives the same framebuffers, which Mesa's software GL keeps in RSS.
	w.Resize(fyne.NewSize(960, 540))
	w.ShowAndRun()
}
