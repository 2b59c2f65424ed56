package gui

import (
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"fyne.io/fyne/v2/test"
	"fyne.io/fyne/v2/widget"

	"github.com/devport/devport/app/engine"
	"github.com/devport/devport/app/wire"
	"github.com/devport/devport/internal/testenv"
)

// TestFailedIsAState starts a Python app that cannot import: the row and
// the pane turn red and say failed, the pane shows the error's first line
// over the log's tail with Try again and Show full log, and the tray
// takes its error icon, as ls --json says failed.
func TestFailedIsAState(t *testing.T) {
	testenv.Need(t, "python3-uvicorn", exec.Command("/usr/bin/python3", "-c", "import uvicorn").Run() == nil, testenv.InstallFix)
	r := newRig(t, true)
	dir := filepath.Join(r.root, "broken")
	if err := os.MkdirAll(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, "main.py"), []byte("raise RuntimeError('broken on purpose')\napp = None\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	if _, err := r.m.Add(context.Background(), wire.AddRequest{Dir: dir, Stack: "uvicorn", App: "main:app"}); err != nil {
		t.Fatal(err)
	}
	r.waitState("broken", wire.StateStopped)
	row := r.ui.Row("broken")
	pn := selectProject(t, r.ui, "broken")
	test.Tap(pn.Toggle)
	r.waitState("broken", wire.StateFailed)
	if row.Light.FillColor != stateColor(wire.StateFailed) || stateColor(wire.StateFailed) == stateColor(wire.StateStopped) {
		t.Error("the status light of a failed project is not red")
	}
	if row.State.Text != "failed" || row.State.Importance != widget.DangerImportance || pn.State.Text != "failed" || pn.State.Importance != widget.DangerImportance {
		t.Errorf("sidebar %q (%v), pane %q (%v): want failed in red", row.State.Text, row.State.Importance, pn.State.Text, pn.State.Importance)
	}
	if !pn.Failure.Box.Visible() || !pn.Note.Visible() || pn.Note.Importance != widget.DangerImportance {
		t.Fatal("the pane does not show the failure")
	}
	if !strings.Contains(pn.Note.Text, "exited at start") || strings.Contains(pn.Note.Text, "\n") {
		t.Errorf("the failure's heading %q is not the error's first line", pn.Note.Text)
	}
	if !strings.Contains(pn.Failure.Log.Text, "broken on purpose") || !pn.Failure.Log.Selectable || !pn.Failure.Log.TextStyle.Monospace {
		t.Errorf("the failure's log %q (selectable %v) lacks the traceback in monospace", pn.Failure.Log.Text, pn.Failure.Log.Selectable)
	}
	if menuItem(t, pn, "Restart").Disabled || pn.Toggle.Text != "Start" {
		t.Error("a failed project should offer Start and Restart")
	}
	test.Tap(pn.Failure.FullLog)
	if pn.Tab != TabLogs || pn.Logs == nil {
		t.Error("Show full log did not show the Logs tab")
	}
	test.Tap(pn.Failure.TryAgain)
	r.waitState("broken", wire.StateFailed) // it fails again, and says so again
	if !pn.Failure.Box.Visible() {
		t.Error("the failure view is gone after Try again failed")
	}
	r.ui.opts.Icons = TrayIcons{Stopped: test.NewTheme().Icon("stopped"), Error: test.NewTheme().Icon("error")}
	if r.ui.trayIcon() != r.ui.opts.Icons.Error {
		t.Error("the tray does not take its error icon for a failed project")
	}
}

// warnings is an Engine whose events the test sends.
type warnings struct {
	engine.Local
	ch chan wire.Event
}

func (w warnings) Subscribe() (<-chan wire.Event, func()) { return w.ch, func() {} }

// TestWarningShows: a warning from the engine (an access log it cannot
// write) lands in the window's status line.
func TestWarningShows(t *testing.T) {
	r := newRig(t, false)
	ch := make(chan wire.Event, 1)
	u := New(test.NewTempApp(t), Options{Engine: warnings{Local: engine.Local{M: r.m}, ch: ch}, Checks: engine.Checks{}, Manual: true})
	defer u.Close()
	ch <- wire.Event{Kind: wire.EventWarning, Detail: "the access log cannot be written (no space left on device)"}
	close(ch)
	eventually(t, "the warning shows", func() bool {
		u.Idle()
		return u.Status.Text == "the access log cannot be written (no space left on device)"
	})
}
