package gui

import (
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"fyne.io/fyne/v2/test"

	"github.com/devport/devport/app/wire"
	"github.com/devport/devport/internal/testenv"
)

// TestWizardCreatedButFailed: a project that is created but fails to
// start ends the wizard on "Created, but it failed to start", never
// "Done": the error's first line, the log's tail in a selectable
// monospace view, Show full log, and Try again, which once the code is
// fixed starts it and says "Created".
func TestWizardCreatedButFailed(t *testing.T) {
	testenv.Need(t, "python3-uvicorn", exec.Command("/usr/bin/python3", "-c", "import uvicorn").Run() == nil, testenv.InstallFix)
	r := newRig(t, true)
	dir := filepath.Join(r.root, "broken")
	if err := os.MkdirAll(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	main := filepath.Join(dir, "main.py")
	if err := os.WriteFile(main, []byte("from fastapi import FastAPI\nraise RuntimeError('broken on purpose')\napp = FastAPI()\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	u := r.ui
	test.Tap(u.NewBtn)
	w := u.Wizard
	test.Type(w.Folder, dir)
	for w.Step < StepReview {
		step := w.Step
		test.Tap(w.Next)
		if w.Step == step {
			t.Fatalf("stuck on step %d", step)
		}
	}
	test.Tap(w.Create)
	eventually(t, "the last page", func() bool { u.Idle(); return w.Step == StepDone })

	for _, tc := range []struct{ name, got, want string }{
		{"heading", w.Heading.Text, "Created, but it failed to start"},
		{"title", w.Title.Text, "New project: Created, but it failed to start"},
		{"first line", w.Done.Text, "exited at start"},
		{"log tail", w.FailLog.Text, "broken on purpose"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if !strings.Contains(tc.got, tc.want) {
				t.Errorf("%q, want it to say %q", tc.got, tc.want)
			}
			if strings.Contains(tc.got, "Done") {
				t.Errorf("%q says Done above a failure", tc.got)
			}
		})
	}
	if strings.Contains(w.Done.Text, "\n") {
		t.Errorf("the error line holds the whole tail: %q", w.Done.Text)
	}
	if !w.FailLog.Selectable || !w.FailLog.TextStyle.Monospace || !w.failBox.Visible() {
		t.Errorf("the tail is not a visible, selectable monospace view")
	}
	test.Tap(w.FullLog)
	if u.Pane.Name != "broken" || u.Pane.Tab != TabLogs || u.Pane.Logs == nil {
		t.Error("Show full log did not show the project's Logs tab")
	}

	if err := os.WriteFile(main, []byte("from fastapi import FastAPI\napp = FastAPI()\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	test.Tap(w.TryAgain)
	eventually(t, "Try again starts it", func() bool {
		u.Idle()
		return w.Heading.Text == "Created" && w.Created.State == wire.StateRunning
	})
	if w.failBox.Visible() {
		t.Error("the failure view stays after a good start")
	}
}
