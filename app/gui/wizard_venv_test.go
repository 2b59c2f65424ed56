package gui

import (
	"errors"
	"strings"
	"testing"

	"fyne.io/fyne/v2/test"
)

// TestWizardVenv: the review offers "Create .venv and install the
// dependencies", checked, only when the preview says the project declares
// dependencies and has no environment. Checked, Create runs the creation
// first, with its output on the page, and adds the project only when it
// succeeded; unchecked, it adds the project as it is. An add that fails
// removes the .venv it made.
func TestWizardVenv(t *testing.T) {
	const offer = "  dependencies in requirements.txt but no environment (.venv): devport add --venv /p creates it and installs them\n"
	for _, tc := range []struct {
		name        string
		env         string // the preview's environment line
		uncheck     bool
		venvErr     error
		addErr      error
		wantOffer   bool
		wantCreated int // CreateVenv calls
		wantAdded   bool
		wantRemoved int
		wantErr     string // on the review step
	}{
		{name: "not a Python project with dependencies", env: "", wantAdded: true},
		{name: "environment there", env: "  environment: .venv (venv), its python /p/.venv/bin/python\n", wantAdded: true},
		{name: "offered and checked", env: offer, wantOffer: true, wantCreated: 1, wantAdded: true},
		{name: "offered and unchecked", env: offer, uncheck: true, wantOffer: true, wantAdded: true},
		{name: "creation fails", env: offer, wantOffer: true, wantCreated: 1,
			venvErr: errors.New("the package index (PIP_INDEX_URL or pypi.org) cannot be reached: Connection refused"),
			wantErr: "cannot be reached: Connection refused"},
		{name: "add fails after creation", env: offer, wantOffer: true, wantCreated: 1, wantRemoved: 1,
			addErr: errors.New("apache2 is not installed"), wantErr: "apache2 is not installed"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			fe := newDataEngine()
			fe.addFail = tc.addErr
			checks := &venvChecks{env: tc.env, venvErr: tc.venvErr}
			u := New(test.NewTempApp(t), Options{Engine: fe, Checks: checks, Manual: true})
			defer func() { u.Close(); u.Idle() }()
			u.ShowWizard()
			w := u.Wizard
			test.Type(w.Folder, t.TempDir())
			for w.Step < StepReview {
				before := w.Step
				test.Tap(w.Next)
				u.Idle()
				if w.Step == before {
					t.Fatalf("stuck on step %d: %s %s %s", w.Step, w.FolderErr.Text, w.StackErr.Text, w.DomainErr.Text)
				}
			}
			if w.Venv.Visible() != tc.wantOffer {
				t.Fatalf("venv box shown %v, want %v (preview %q)", w.Venv.Visible(), tc.wantOffer, tc.env)
			}
			if tc.wantOffer && !w.Venv.Checked {
				t.Error("the venv box is offered unchecked")
			}
			if env := strings.TrimSpace(tc.env); env != "" && !strings.Contains(w.Review.Text, "Python:") {
				t.Errorf("review %q does not say the environment", w.Review.Text)
			}
			if tc.uncheck {
				test.Tap(w.Venv)
			}
			w.StartAfter.SetChecked(false)
			test.Tap(w.Create)
			u.Idle()

			checks.mu.Lock()
			created, removed := checks.created, checks.removed
			checks.mu.Unlock()
			if len(created) != tc.wantCreated || removed != tc.wantRemoved {
				t.Errorf("CreateVenv called %d times, removed %d; want %d, %d", len(created), removed, tc.wantCreated, tc.wantRemoved)
			}
			fe.mu.Lock()
			added := fe.added
			fe.mu.Unlock()
			if (len(added) == 1) != tc.wantAdded || len(added) > 1 {
				t.Fatalf("added %+v, want added %v; wizard says %q", added, tc.wantAdded, w.CreateErr.Text)
			}
			if tc.wantAdded && added[0].Venv != (tc.wantCreated > 0) {
				t.Errorf("AddRequest.Venv %v after %d creations", added[0].Venv, tc.wantCreated)
			}
			if tc.wantCreated > 0 {
				if !strings.Contains(w.VenvLog.Text, "Successfully installed fastapi") || !w.venvLogBox.Visible() {
					t.Errorf("progress %q (shown %v) lacks the creation's output", w.VenvLog.Text, w.venvLogBox.Visible())
				}
			}
			if tc.wantErr != "" {
				if w.Step != StepReview || !strings.Contains(w.CreateErr.Text, tc.wantErr) || w.Create.Disabled() {
					t.Errorf("step %d, error %q (Create disabled %v); want the review with %q", w.Step, w.CreateErr.Text, w.Create.Disabled(), tc.wantErr)
				}
			} else if w.Step != StepDone {
				t.Errorf("step %d after Create: %q", w.Step, w.CreateErr.Text)
			}
		})
	}
}
