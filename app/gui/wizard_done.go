package gui

import (
	"fmt"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/container"
	"fyne.io/fyne/v2/widget"

	"github.com/devport/devport/app/wire"
)

// The wizard's last page. A project created and started says so with its
// URL; one created but failing to start says "Created, but it failed to
// start", never "Done": the error's first line, then the log's tail in
// monospace, left-aligned and selectable, with Show full log and Try again
// (which starts it again and shows the outcome on the same page).

// doneWidgets are the last page's parts beyond Done and URL.
type doneWidgets struct {
	Heading *widget.Label // "Created" or "Created, but it failed to start"
	// FailLog is the failure's detail (the log's tail), selectable.
	FailLog  *widget.Label
	FullLog  *widget.Button
	TryAgain *widget.Button
	failBox  *fyne.Container
	failure  *FailureView
}

func (w *Wizard) newDonePage() fyne.CanvasObject {
	w.Heading = widget.NewLabelWithStyle("", fyne.TextAlignLeading, fyne.TextStyle{Bold: true})
	w.Done = widget.NewLabel("")
	w.Done.Wrapping = fyne.TextWrapWord
	w.URL = widget.NewHyperlink("", nil)
	// Opened as the window's other links are (open.go), not by Fyne's
	// OpenURL, which leaves a zombie and hides a failure.
	w.URL.OnTapped = func() {
		if w.URL.URL != nil {
			w.u.openIn(w.URL.URL.String(), w.Done.SetText)
		}
	}
	fv := newFailureView(func() {
		if w.Created != nil {
			w.u.ShowLogs(w.Created.Name)
		}
	}, w.tryAgain)
	w.FailLog, w.FullLog, w.TryAgain, w.failBox = fv.Log, fv.FullLog, fv.TryAgain, fv.Box
	w.failure = fv
	w.failBox.Hide()
	return container.NewBorder(container.NewVBox(w.Heading, w.Done, w.URL), nil, nil, nil, w.failBox)
}

// showCreated fills the last page for project p, which started (startErr
// nil and p running), was not asked to start, or failed to (startErr, or
// p failed with a reason).
func (w *Wizard) showCreated(p wire.ProjectStatus, startErr error) {
	w.Created = &p
	w.URL.SetText(p.URL)
	_ = w.URL.SetURLFromString(p.URL)
	why := ""
	switch {
	case p.State == wire.StateFailed && p.Reason != "":
		why = p.Reason
	case startErr != nil:
		why = startErr.Error()
	}
	if why == "" {
		w.Heading.SetText("Created")
		w.Done.SetText(fmt.Sprintf("%s is added (state: %s).", p.Name, p.State))
		w.FailLog.SetText("")
		w.failBox.Hide()
		return
	}
	w.Heading.SetText("Created, but it failed to start")
	w.Done.SetText(w.failure.show(why))
	w.failBox.Show()
}

// tryAgain starts the created project again and shows how that went.
func (w *Wizard) tryAgain() {
	if w.Created == nil {
		return
	}
	name := w.Created.Name
	w.TryAgain.Disable()
	w.Heading.SetText("Starting " + name + "…")
	w.u.bg(func() {
		err := w.u.opts.Engine.Start(w.u.ctx, name)
		p := *w.Created
		if ps, lerr := w.u.opts.Engine.List(w.u.ctx); lerr == nil {
			for _, q := range ps {
				if q.Name == name {
					p = q
				}
			}
		}
		w.u.do(func() {
			w.TryAgain.Enable()
			w.showCreated(p, err)
		})
	})
}
