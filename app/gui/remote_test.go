package gui

import (
	"context"
	"strings"
	"testing"

	"fyne.io/fyne/v2/test"

	"github.com/devport/devport/app/engine"
	"github.com/devport/devport/app/wire"
	"github.com/devport/devport/internal/testenv"
)

// TestAttachToEngine drives an engine that another Manager hosts, through
// the control socket, as a window does when `devport serve` already runs.
func TestAttachToEngine(t *testing.T) {
	testenv.Need(t, "apache2 with mod_php", haveApache(), testenv.InstallFix)
	r := newRig(t, true) // the engine
	c, err := wire.Dial(context.Background(), r.m.Paths().Control())
	if err != nil {
		t.Fatal(err)
	}
	u := New(test.NewTempApp(t), Options{Engine: Remote(c), Checks: engine.Checks{}, Manual: true})
	t.Cleanup(func() { u.Close(); u.Idle() })

	u.ShowWizard()
	w := u.Wizard
	test.Type(w.Folder, r.example("php-shop", "shop"))
	for i := 0; i < 4; i++ {
		test.Tap(w.Next)
	}
	w.StartAfter.SetChecked(false)
	test.Tap(w.Create)
	u.Idle()
	if w.Step != StepDone {
		t.Fatalf("create through the engine: step %d, %q", w.Step, w.CreateErr.Text)
	}
	eventually(t, "the row appears", func() bool { u.Idle(); return u.Row("shop") != nil })
	test.Tap(selectProject(t, u, "shop").Toggle)
	eventually(t, "shop runs", func() bool {
		u.Idle()
		return strings.HasPrefix(u.Row("shop").State.Text, "running")
	})
	ps, _ := r.m.List(context.Background())
	if len(ps) != 1 || ps[0].State != wire.StateRunning {
		t.Fatalf("the hosting Manager sees %+v", ps)
	}
	// A change made elsewhere (the CLI) shows without a Refresh: the
	// window follows the engine's event stream.
	if err := r.m.Stop(context.Background(), "shop"); err != nil {
		t.Fatal(err)
	}
	eventually(t, "the stop made elsewhere shows", func() bool {
		u.Idle()
		return strings.HasPrefix(u.Row("shop").State.Text, "stopped")
	})
	test.Tap(selectProject(t, u, "shop").Toggle)
	eventually(t, "shop runs again", func() bool {
		u.Idle()
		return strings.HasPrefix(u.Row("shop").State.Text, "running")
	})
	test.Tap(u.Settings)
	u.Idle()
	if !u.SettingsView.TrustBtn["system"].Disabled() || !strings.Contains(u.SettingsView.Ports.Text, "HTTPS on") {
		t.Errorf("attached settings: trust enabled=%v, ports %q", !u.SettingsView.TrustBtn["system"].Disabled(), u.SettingsView.Ports.Text)
	}
	test.Tap(selectProject(t, u, "shop").Toggle)
	eventually(t, "shop stops", func() bool {
		u.Idle()
		return strings.HasPrefix(u.Row("shop").State.Text, "stopped")
	})
	noProcesses(t, r.root)
}
