package gui

import (
	"context"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/test"

	"github.com/devport/devport/app/wire"
	"github.com/devport/devport/internal/testenv"
)

// TestListStartStop drives a project from the sidebar and its pane: the
// toggle starts and stops it, the "⋯" menu restarts and removes it (with
// its confirmation), and the Logs tab follows its log while it shows.
func TestListStartStop(t *testing.T) {
	testenv.Need(t, "apache2 with mod_php", haveApache(), testenv.InstallFix)
	r := newRig(t, true)
	if _, err := r.m.Add(context.Background(), wire.AddRequest{Dir: r.example("php-shop", "shop")}); err != nil {
		t.Fatal(err)
	}
	r.waitState("shop", wire.StateStopped)
	row := r.ui.Row("shop")
	if !strings.Contains(row.Detail.Text, "shop.test") || !strings.Contains(row.Detail.Text, "php") || !strings.Contains(row.Detail.Text, "process") {
		t.Errorf("row detail %q lacks domain, stack or runtime", row.Detail.Text)
	}
	pn := selectProject(t, r.ui, "shop")
	if pn.Toggle.Text != "Start" || pn.Toggle.Disabled() {
		t.Errorf("a stopped project's toggle says %q (disabled %v), want Start", pn.Toggle.Text, pn.Toggle.Disabled())
	}
	if !strings.HasPrefix(pn.URL.Text, "https://shop.test") {
		t.Errorf("pane URL %q", pn.URL.Text)
	}
	test.Tap(pn.Toggle)
	r.waitState("shop", wire.StateRunning)
	if row.Light.FillColor != stateColor(wire.StateRunning) || pn.Light.FillColor != stateColor(wire.StateRunning) {
		t.Error("the status light is not green while running")
	}
	if pn.Toggle.Text != "Stop" || pn.State.Text != "running" {
		t.Errorf("a running project's toggle says %q, state %q; want Stop, running", pn.Toggle.Text, pn.State.Text)
	}

	test.Tap(pn.TabButtons[TabLogs])
	lv := pn.Logs
	if lv == nil || lv.Text["web"] == nil {
		t.Fatal("the Logs tab has no tab for service web")
	}
	menuItem(t, pn, "Restart").Action()
	r.waitState("shop", wire.StateRunning)
	test.Tap(pn.Toggle)
	r.waitState("shop", wire.StateStopped)
	eventually(t, "the log view shows Apache's log", func() bool { r.ui.Idle(); return lv.Text["web"].Text != "" })
	test.Tap(lv.Clear)
	if lv.Text["web"].Text != "" {
		t.Error("Clear left text in the log view")
	}
	test.Tap(pn.TabButtons[TabOverview])
	if pn.Logs != nil {
		t.Error("the logs are still followed with the Overview shown")
	}

	menuItem(t, pn, "Remove…").Action()
	if r.ui.Remove == nil {
		t.Fatal("Remove did not ask for confirmation")
	}
	test.Tap(r.ui.Remove.Cancel)
	r.ui.Idle()
	if ps, _ := r.m.List(context.Background()); len(ps) != 1 {
		t.Fatal("Cancel removed the project")
	}
	menuItem(t, pn, "Remove…").Action()
	test.Tap(r.ui.Remove.Yes)
	eventually(t, "the row is gone", func() bool { r.ui.Idle(); return r.ui.Row("shop") == nil })
	if ps, _ := r.m.List(context.Background()); len(ps) != 0 {
		t.Fatalf("still stored: %+v", ps)
	}
	if pn.Name != "" {
		t.Errorf("the pane still shows %q after its removal", pn.Name)
	}
	noProcesses(t, r.root)
}

// TestTrayMenu starts and stops projects from the tray menu model.
func TestTrayMenu(t *testing.T) {
	testenv.Need(t, "apache2 with mod_php", haveApache(), testenv.InstallFix)
	r := newRig(t, true)
	for _, n := range []string{"one", "two"} {
		if _, err := r.m.Add(context.Background(), wire.AddRequest{Dir: r.example("php-shop", n)}); err != nil {
			t.Fatal(err)
		}
	}
	r.waitState("two", wire.StateStopped)
	icons := TrayIcons{
		Stopped: fyne.NewStaticResource("stopped.png", []byte{1}),
		Running: fyne.NewStaticResource("running.png", []byte{2}),
		Error:   fyne.NewStaticResource("error.png", []byte{3}),
	}
	r.ui.opts.Icons = icons
	if r.ui.trayIcon() != icons.Stopped {
		t.Errorf("tray icon %s, want the stopped one", r.ui.trayIcon().Name())
	}
	item := func(label string) *fyne.MenuItem {
		t.Helper()
		for _, it := range r.ui.Tray().Items {
			if strings.HasPrefix(it.Label, label) {
				return it
			}
		}
		t.Fatalf("tray has no %q in %v", label, labels(r.ui.Tray()))
		return nil
	}
	one := item("one (stopped)")
	if one.ChildMenu.Items[0].Label != "Start" || !one.ChildMenu.Items[1].Disabled {
		t.Fatalf("one's submenu: %v", labels(one.ChildMenu))
	}
	one.ChildMenu.Items[0].Action()
	r.waitState("one", wire.StateRunning)
	if r.ui.trayIcon() != icons.Running {
		t.Errorf("tray icon %s, want the running one", r.ui.trayIcon().Name())
	}
	one = item("one (running)")
	if one.ChildMenu.Items[0].Label != "Stop" || !one.Checked {
		t.Fatalf("one's submenu while running: %v", labels(one.ChildMenu))
	}
	item("Start all").Action()
	r.waitState("two", wire.StateRunning)
	item("Stop all").Action()
	r.waitState("one", wire.StateStopped)
	r.waitState("two", wire.StateStopped)
	for _, want := range []string{"Show window", "Quit"} {
		item(want)
	}
	noProcesses(t, r.root)
}

func labels(m *fyne.Menu) []string {
	var out []string
	for _, it := range m.Items {
		out = append(out, it.Label)
	}
	return out
}

// TestCrashNotifies kills a running backend: the row turns red with the
// reason, and a desktop notification says which project crashed.
func TestCrashNotifies(t *testing.T) {
	testenv.Need(t, "apache2 with mod_php", haveApache(), testenv.InstallFix)
	r := newRig(t, true)
	if _, err := r.m.Add(context.Background(), wire.AddRequest{Dir: r.example("php-shop", "shop")}); err != nil {
		t.Fatal(err)
	}
	r.waitState("shop", wire.StateStopped)
	test.Tap(selectProject(t, r.ui, "shop").Toggle)
	r.waitState("shop", wire.StateRunning)

	n := &fyne.Notification{Title: "devport: shop crashed"}
	test.AssertNotificationSent(t, n, func() {
		out, err := exec.Command("pgrep", "-o", "-f", filepath.Join(r.root, "home", "run", "shop-web")).Output()
		if err != nil {
			t.Fatalf("find apache2: %v", err)
		}
		pid, _ := strconv.Atoi(strings.TrimSpace(string(out)))
		if err := syscall.Kill(pid, syscall.SIGKILL); err != nil {
			t.Fatal(err)
		}
		r.waitState("shop", wire.StateCrashed)
		ps, _ := r.m.List(context.Background())
		n.Content = ps[0].Reason // the notification carries the reason
	})
	errIcon := fyne.NewStaticResource("error.png", []byte{3})
	r.ui.opts.Icons.Error = errIcon
	if r.ui.trayIcon() != errIcon {
		t.Error("the tray icon does not show the error")
	}
	row, pn := r.ui.Row("shop"), r.ui.Pane
	if row.Light.FillColor != stateColor(wire.StateCrashed) || pn.Toggle.Text != "Stop" || pn.Toggle.Disabled() {
		t.Error("a crashed project should show a red light and offer Stop")
	}
	test.Tap(pn.Toggle)
	r.waitState("shop", wire.StateStopped)
	noProcesses(t, r.root)
}
