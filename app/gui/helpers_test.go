package gui

import (
	"context"
	"errors"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/test"

	"github.com/devport/devport/app/engine"
	"github.com/devport/devport/app/wire"
)

// What desktop passes in must be what the window drives: the engine this
// process hosts, and its folder checks.
var (
	_ Engine = engine.Local{}
	_ Checks = engine.Checks{}
)

func haveApache() bool {
	_, err := os.Stat("/usr/sbin/apache2")
	return err == nil
}

// rig is a real Manager serving on free ports with a temp DEVPORT_HOME,
// and the UI built on a test app.
type rig struct {
	t    *testing.T
	root string
	m    *engine.Manager
	ui   *UI
	port int
}

func newRig(t *testing.T, serve bool) *rig {
	t.Helper()
	// Not t.TempDir: Apache's children run as nobody and must read the
	// site, so the root is 0755.
	root, err := os.MkdirTemp("", "devport-gui-")
	if err != nil {
		t.Fatal(err)
	}
	if err := os.Chmod(root, 0o755); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { os.RemoveAll(root) })
	t.Setenv("HOME", filepath.Join(root, "user")) // NSS changes land here
	paths, err := engine.ResolvePaths(func(k string) string {
		if k == "DEVPORT_HOME" {
			return filepath.Join(root, "home")
		}
		return ""
	})
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	// The hosts method writes a file of the rig's own, never /etc/hosts.
	hosts := filepath.Join(root, "hosts")
	if err := os.WriteFile(hosts, []byte("127.0.0.1 localhost\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	m, err := engine.NewManager(ctx, engine.Options{Paths: paths, HostsPath: hosts})
	if err != nil {
		t.Fatal(err)
	}
	r := &rig{t: t, root: root, m: m}
	a := test.NewTempApp(t)
	r.ui = New(a, Options{Engine: engine.Local{M: m}, Host: engine.Host{Manager: m}, Checks: engine.Checks{}, AccessLog: paths.AccessLog, Tray: true, Manual: true})
	done := make(chan error, 1)
	if serve {
		r.port = freePort(t)
		go func() {
			done <- m.Serve(ctx, engine.ServeOptions{HTTPSPort: r.port, HTTPPort: freePort(t), Out: r.ui.EngineOutput()})
		}()
		select {
		case <-r.ui.EngineOutput().Ready():
		case err := <-done:
			t.Fatalf("serve: %v", err)
		case <-time.After(30 * time.Second):
			t.Fatal("engine not ready after 30s")
		}
	} else {
		done <- nil
	}
	t.Cleanup(func() {
		r.ui.Close()
		cancel()
		if err := <-done; err != nil {
			t.Errorf("serve: %v", err)
		}
		r.ui.Idle()
		if err := m.Close(); err != nil {
			t.Errorf("close: %v", err)
		}
	})
	return r
}

// example copies examples/NAME into the rig's root as folder as.
func (r *rig) example(name, as string) string {
	r.t.Helper()
	src := filepath.Join("..", "..", "examples", name)
	dst := filepath.Join(r.root, as)
	err := filepath.WalkDir(src, func(path string, d os.DirEntry, err error) error {
		if err != nil {
			return err
		}
		rel, _ := filepath.Rel(src, path)
		if d.IsDir() {
			return os.MkdirAll(filepath.Join(dst, rel), 0o755)
		}
		b, err := os.ReadFile(path)
		if err != nil {
			return err
		}
		return os.WriteFile(filepath.Join(dst, rel), b, 0o644)
	})
	if err != nil {
		r.t.Fatal(err)
	}
	return dst
}

// state waits until the UI's row of name shows want (events, not polls,
// drive the UI; the test waits for them with a deadline).
func (r *rig) waitState(name string, want wire.State) {
	r.t.Helper()
	eventually(r.t, fmt.Sprintf("%s shows %s", name, want), func() bool {
		r.ui.Idle()
		row := r.ui.Row(name)
		return row != nil && strings.HasPrefix(row.State.Text, string(want))
	})
}

func eventually(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(30 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting until %s", what)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

func freePort(t *testing.T) int {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port
}

// noProcesses fails when a process still mentions root.
func noProcesses(t *testing.T, root string) {
	t.Helper()
	eventually(t, "no process mentions "+root, func() bool {
		out, err := exec.Command("pgrep", "-f", root).Output()
		var ee *exec.ExitError
		return len(strings.TrimSpace(string(out))) == 0 && (err == nil || errors.As(err, &ee))
	})
}

// selectProject selects name in the sidebar, as a click on its row does,
// and returns the pane.
func selectProject(t *testing.T, u *UI, name string) *Pane {
	t.Helper()
	r := u.Row(name)
	if r == nil {
		t.Fatalf("no row for %s", name)
	}
	test.Tap(r.item)
	if u.Pane.Name != name {
		t.Fatalf("the pane shows %q after a click on %s", u.Pane.Name, name)
	}
	return u.Pane
}

// menuItem is the pane's "⋯" menu item labelled label.
func menuItem(t *testing.T, pn *Pane, label string) *fyne.MenuItem {
	t.Helper()
	it := pn.MenuItem(label)
	if it == nil {
		t.Fatalf("the ⋯ menu has no %q", label)
	}
	return it
}
