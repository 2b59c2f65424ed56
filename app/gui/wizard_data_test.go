package gui

import (
	"slices"
	"strings"
	"testing"

	"fyne.io/fyne/v2/test"

	"github.com/devport/devport/app/wire"
	"github.com/devport/devport/internal/stackdef"
)

// TestWizardDataProposals: the stack step offers each proposed data
// service checked, with its reason; Create adds the checked ones and
// drops the unchecked.
func TestWizardDataProposals(t *testing.T) {
	proposals := []wire.DataProposal{
		{Name: "db", Stack: stackdef.MariaDB, Why: "WordPress (wp-config-sample.php) needs a MySQL database"},
		{Name: "cache", Stack: stackdef.Redis, Why: ".env says CACHE_STORE=redis"},
	}
	for _, tc := range []struct {
		name      string
		proposals []wire.DataProposal
		uncheck   []int
		want      []wire.DataServiceRequest
	}{
		{name: "all kept", proposals: proposals, want: []wire.DataServiceRequest{
			{Name: "db", Stack: stackdef.MariaDB, Runtime: wire.RuntimeProcess}, {Name: "cache", Stack: stackdef.Redis, Runtime: wire.RuntimeProcess}}},
		{name: "cache dropped", proposals: proposals, uncheck: []int{1}, want: []wire.DataServiceRequest{
			{Name: "db", Stack: stackdef.MariaDB, Runtime: wire.RuntimeProcess}}},
		{name: "all dropped", proposals: proposals, uncheck: []int{0, 1}},
		{name: "none proposed"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			fe := newDataEngine()
			u := New(test.NewTempApp(t), Options{Engine: fe, Checks: wizardChecks{proposals: tc.proposals}, Manual: true})
			defer func() { u.Close(); u.Idle() }()
			u.ShowWizard()
			w := u.Wizard
			test.Type(w.Folder, t.TempDir())
			test.Tap(w.Next)
			u.Idle()
			if w.Step != StepStack {
				t.Fatalf("step %d: %s", w.Step, w.FolderErr.Text)
			}
			if len(w.DataChecks) != len(tc.proposals) || w.DataBox.Visible() != (len(tc.proposals) > 0) {
				t.Fatalf("%d checks (box shown %v) for %d proposals", len(w.DataChecks), w.DataBox.Visible(), len(tc.proposals))
			}
			for i, c := range w.DataChecks {
				if !c.Checked || !strings.Contains(c.Text, tc.proposals[i].Why) {
					t.Errorf("check %d: %q checked %v", i, c.Text, c.Checked)
				}
			}
			for _, i := range tc.uncheck {
				test.Tap(w.DataChecks[i])
			}
			for w.Step < StepReview {
				before := w.Step
				test.Tap(w.Next)
				u.Idle()
				if w.Step == before {
					t.Fatalf("stuck on step %d: %s %s", w.Step, w.StackErr.Text, w.DomainErr.Text)
				}
			}
			for _, d := range tc.want {
				if !strings.Contains(w.Review.Text, "Data:     "+d.Name+" ("+d.Stack+")") {
					t.Errorf("review %q does not list %s", w.Review.Text, d.Name)
				}
			}
			w.StartAfter.SetChecked(false)
			test.Tap(w.Create)
			u.Idle()
			fe.mu.Lock()
			defer fe.mu.Unlock()
			if len(fe.added) != 1 {
				t.Fatalf("added %+v; wizard error %q", fe.added, w.CreateErr.Text)
			}
			if got := fe.added[0].Data; !slices.Equal(got, tc.want) {
				t.Errorf("AddRequest.Data %+v, want %+v", got, tc.want)
			}
		})
	}
}
