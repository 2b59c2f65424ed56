package gui

import (
	"context"
	"path/filepath"
	"testing"
	"time"

	"fyne.io/fyne/v2/test"

	"github.com/devport/devport/app/engine"
	"github.com/devport/devport/app/wire"
)

// serveHosted runs m.Serve as the window's launcher does, writing to out,
// until the returned quit is called (or the test ends).
func serveHosted(t *testing.T, m *engine.Manager, restore bool, out *OutputLog) (quit func()) {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() {
		done <- m.Serve(ctx, engine.ServeOptions{HTTPSPort: freePort(t), HTTPPort: freePort(t), Restore: restore, Out: out})
	}()
	select {
	case <-out.Ready():
	case err := <-done:
		cancel()
		t.Fatalf("serve: %v", err)
	case <-time.After(30 * time.Second):
		cancel()
		t.Fatal("engine not ready after 30s")
	}
	stopped := false
	quit = func() {
		if stopped {
			return
		}
		stopped = true
		cancel()
		if err := <-done; err != nil {
			t.Errorf("serve: %v", err)
		}
	}
	t.Cleanup(quit)
	return quit
}

// TestRestoreOnLaunch: a project that ran when devport quit shows
// running in the next launch's window, unless it launched with
// --no-restore.
func TestRestoreOnLaunch(t *testing.T) {
	tests := []struct {
		name    string
		restore bool
		want    wire.State
	}{
		{name: "launch", restore: true, want: wire.StateRunning},
		{name: "--no-restore", restore: false, want: wire.StateStopped},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			ctx := context.Background()
			home := t.TempDir()
			paths := engine.Paths{Data: home, Logs: filepath.Join(home, "logs"), Run: filepath.Join(home, "run")}
			open := func() *engine.Manager {
				m, err := engine.NewManager(ctx, engine.Options{Paths: paths, HostsPath: filepath.Join(home, "hosts")})
				if err != nil {
					t.Fatal(err)
				}
				return m
			}
			// The last session: ext runs when devport quits.
			m := open()
			if _, err := m.Add(ctx, wire.AddRequest{Name: "ext", Proxy: "http://127.0.0.1:3000"}); err != nil {
				t.Fatal(err)
			}
			quit := serveHosted(t, m, true, &OutputLog{})
			if err := m.Start(ctx, "ext"); err != nil {
				t.Fatal(err)
			}
			quit()
			if err := m.Close(); err != nil {
				t.Fatal(err)
			}

			// The next launch: the window hosts a new engine.
			m = open()
			t.Cleanup(func() { m.Close() })
			u := New(test.NewTempApp(t), Options{Engine: engine.Local{M: m}, Host: quietHost{}, Checks: wizardChecks{}, Manual: true})
			t.Cleanup(func() { u.Close(); u.Idle() })
			serveHosted(t, m, tc.restore, u.EngineOutput())
			eventually(t, "ext shows "+string(tc.want), func() bool {
				u.Idle()
				row := u.Row("ext")
				return row != nil && row.State.Text == string(tc.want)
			})
		})
	}
}
