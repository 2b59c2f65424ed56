package engine

import (
	"context"
	"net"
	"slices"
	"testing"
	"time"

	"github.com/devport/devport/app/wire"
)

// serveUntil runs m.Serve with o on free loopback ports until the
// returned function is called (a quit), which returns Serve's error.
func serveUntil(t *testing.T, m *Manager, o ServeOptions) (quit func() error) {
	t.Helper()
	port := func() int {
		l, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			t.Fatal(err)
		}
		defer l.Close()
		return l.Addr().(*net.TCPAddr).Port
	}
	ctx, cancel := context.WithCancel(context.Background())
	out := &readyWriter{ready: make(chan struct{})}
	o.HTTPSPort, o.HTTPPort, o.Out = port(), port(), out
	done := make(chan error, 1)
	go func() { done <- m.Serve(ctx, o) }()
	select {
	case <-out.ready:
	case err := <-done:
		cancel()
		t.Fatalf("serve: %v", err)
	case <-time.After(30 * time.Second):
		cancel()
		t.Fatal("engine not ready after 30s")
	}
	var err error
	stopped := false
	quit = func() error {
		if !stopped {
			stopped = true
			cancel()
			err = <-done
		}
		return err
	}
	t.Cleanup(func() { _ = quit() })
	return quit
}

// stateOf waits up to 10 s for project name to settle (neither starting
// nor stopping) and returns its state.
func stateOf(t *testing.T, m *Manager, name string) wire.State {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for {
		ps, err := (Local{M: m}).List(context.Background())
		if err != nil {
			t.Fatal(err)
		}
		for _, p := range ps {
			if p.Name == name && (p.State != wire.StateStarting && p.State != wire.StateStopping || time.Now().After(deadline)) {
				return p.State
			}
		}
		if time.Now().After(deadline) {
			t.Fatalf("no project %s", name)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// TestRestore: what ran when the engine quit runs again on the next
// launch, unless it was stopped, removed, or the launch says
// --no-restore; and the record is written as projects start, so an
// engine that is killed (no quit at all) is restored too.
func TestRestore(t *testing.T) {
	ctx := context.Background()
	tests := []struct {
		name string
		// between runs with the first engine serving, after ext and
		// other started, and after it quit (the second Manager, not
		// serving yet).
		during, after func(t *testing.T, m *Manager)
		restore       bool
		want          map[string]wire.State
	}{
		{name: "quit, then launch", restore: true,
			want: map[string]wire.State{"ext": wire.StateRunning, "other": wire.StateRunning}},
		{name: "--no-restore", restore: false,
			want: map[string]wire.State{"ext": wire.StateStopped, "other": wire.StateStopped}},
		{name: "stopped before quit", restore: true,
			during: func(t *testing.T, m *Manager) {
				if err := m.Stop(ctx, "other"); err != nil {
					t.Fatal(err)
				}
			},
			want: map[string]wire.State{"ext": wire.StateRunning, "other": wire.StateStopped}},
		{name: "removed after quit", restore: true,
			after: func(t *testing.T, m *Manager) {
				if err := m.Remove(ctx, "other"); err != nil {
					t.Fatal(err)
				}
			},
			want: map[string]wire.State{"ext": wire.StateRunning}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			home := t.TempDir()
			paths := Paths{Data: home, Logs: home + "/logs", Run: home + "/run"}
			open := func() *Manager {
				m, err := NewManager(ctx, Options{Paths: paths})
				if err != nil {
					t.Fatal(err)
				}
				return m
			}
			m := open()
			for _, n := range []string{"ext", "other"} {
				if _, err := m.Add(ctx, wire.AddRequest{Name: n, Proxy: "http://127.0.0.1:3000"}); err != nil {
					t.Fatal(err)
				}
			}
			quit := serveUntil(t, m, ServeOptions{Restore: true})
			for _, n := range []string{"ext", "other"} {
				if err := m.Start(ctx, n); err != nil {
					t.Fatal(err)
				}
			}
			// Recorded as they started: a SIGKILL now loses nothing.
			if got, err := m.Restorable(ctx); err != nil || !slices.Equal(got, []string{"ext", "other"}) {
				t.Errorf("recorded while running: %q, %v", got, err)
			}
			if tc.during != nil {
				tc.during(t, m)
			}
			if err := quit(); err != nil {
				t.Fatal(err)
			}
			if err := m.Close(); err != nil {
				t.Fatal(err)
			}

			m = open()
			t.Cleanup(func() { m.Close() })
			if tc.after != nil {
				tc.after(t, m)
			}
			serveUntil(t, m, ServeOptions{Restore: tc.restore})
			ps, err := (Local{M: m}).List(ctx)
			if err != nil {
				t.Fatal(err)
			}
			if len(ps) != len(tc.want) {
				t.Errorf("%d projects, want %d", len(ps), len(tc.want))
			}
			for name, want := range tc.want {
				if got := stateOf(t, m, name); got != want {
					t.Errorf("%s is %s, want %s", name, got, want)
				}
			}
			if !tc.restore {
				if got, _ := m.Restorable(ctx); len(got) != 0 {
					t.Errorf("--no-restore kept the record %q", got)
				}
			}
		})
	}
}
