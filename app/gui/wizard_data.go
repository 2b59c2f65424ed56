package gui

import (
	"fmt"

	"fyne.io/fyne/v2/widget"

	"github.com/devport/devport/app/wire"
)

// The wizard's data services: detection proposes what the folder shows it
// needs (a WordPress config wants MariaDB, a Laravel .env Redis), each is
// a check box on the stack step, checked, and the user decides. Nothing
// is added that the user did not see.

// offerData shows the proposals of a newly chosen folder, all checked.
func (w *Wizard) offerData(proposals []wire.DataProposal) {
	w.proposals = proposals
	w.DataChecks = nil
	w.DataBox.RemoveAll()
	if len(proposals) > 0 {
		w.DataBox.Add(widget.NewLabel("Data services the folder needs, added with the project:"))
	}
	for _, p := range proposals {
		c := widget.NewCheck(fmt.Sprintf("%s %q: %s", p.Stack, p.Name, p.Why), nil)
		c.SetChecked(true)
		w.DataChecks = append(w.DataChecks, c)
		w.DataBox.Add(c)
	}
	show(w.DataBox, len(proposals) > 0)
	w.relayout()
}

// dataRequests are the checked proposals, to run as the project's
// backends do (runtime): a user who chose containers has no local
// database server to count on either.
func (w *Wizard) dataRequests(runtime string) []wire.DataServiceRequest {
	var out []wire.DataServiceRequest
	for i, p := range w.proposals {
		if i < len(w.DataChecks) && w.DataChecks[i].Checked {
			out = append(out, wire.DataServiceRequest{Name: p.Name, Stack: p.Stack, Runtime: runtime})
		}
	}
	return out
}
