package gui

import (
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"testing"

	"fyne.io/fyne/v2/test"

	"github.com/devport/devport/app/engine"
	"github.com/devport/devport/app/wire"
	"github.com/devport/devport/internal/testenv"
)

// TestFailedIsAState starts a Python app that cannot import: the row
// turns red and says failed, with Stop and Restart on offer, and the tray
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
	test.Tap(row.Start)
	r.waitState("broken", wire.StateFailed)
	if row.Light.FillColor != stateColor(wire.StateFailed) || stateColor(wire.StateFailed) == stateColor(wire.StateStopped) {
		t.Error("the status light of a failed project is not red")
	}
	if row.Stop.Disabled() || row.Restart.Disabled() {
		t.Error("a failed project should offer Stop and Restart")
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
