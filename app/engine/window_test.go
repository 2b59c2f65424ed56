package engine

import (
	"context"
	"errors"
	"slices"
	"testing"
	"time"

	"github.com/devport/devport/app/wire"
)

// TestRaiseWindow: a second launch reaches the open window through the
// control socket, whether the window hosts the engine (AttachWindow) or
// follows it from another process (an event stream with ?window=1); with
// no window (a headless engine) it hears wire.ErrNoWindow and attaches.
func TestRaiseWindow(t *testing.T) {
	ctx := context.Background()
	tests := []struct {
		name   string
		attach func(t *testing.T, m *Manager, c *wire.Client) (detach func())
		raised bool
	}{
		{name: "headless", raised: false},
		{name: "hosting window", raised: true,
			attach: func(t *testing.T, m *Manager, _ *wire.Client) func() { return m.AttachWindow() }},
		{name: "attached window", raised: true,
			attach: func(t *testing.T, m *Manager, c *wire.Client) func() {
				sctx, cancel := context.WithCancel(ctx)
				done, err := c.WindowEvents(sctx, func(wire.Event) {})
				if err != nil {
					t.Fatal(err)
				}
				return func() { cancel(); <-done }
			}},
		{name: "plain event stream", raised: false,
			attach: func(t *testing.T, m *Manager, c *wire.Client) func() {
				sctx, cancel := context.WithCancel(ctx)
				done, err := c.Events(sctx, func(wire.Event) {})
				if err != nil {
					t.Fatal(err)
				}
				return func() { cancel(); <-done }
			}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			m := testManager(t)
			serveUntil(t, m, ServeOptions{})
			c, err := wire.Dial(ctx, m.Paths().Control())
			if err != nil {
				t.Fatal(err)
			}
			events, stop := m.Subscribe()
			defer stop()
			if tc.attach != nil {
				detach := tc.attach(t, m, c)
				defer func() {
					detach()
					// Once the window is gone, a launch opens its own again.
					deadline := time.Now().Add(5 * time.Second)
					for m.RaiseWindow(wire.RaiseRequest{}) == nil {
						if time.Now().After(deadline) {
							t.Error("the window still counts after it went away")
							return
						}
						time.Sleep(10 * time.Millisecond)
					}
				}()
			}
			want := wire.RaiseRequest{Show: true, Start: []string{"shop"}}
			err = c.Raise(ctx, want)
			if tc.raised != (err == nil) {
				t.Fatalf("raise: %v, want raised %v", err, tc.raised)
			}
			if !tc.raised {
				if !errors.Is(err, wire.ErrNoWindow) {
					t.Errorf("raise without a window: %v, want wire.ErrNoWindow", err)
				}
				return
			}
			timeout := time.After(5 * time.Second)
			for {
				select {
				case e := <-events:
					if e.Kind != wire.EventRaise {
						continue
					}
					if e.Raise == nil || e.Raise.Show != want.Show || !slices.Equal(e.Raise.Start, want.Start) {
						t.Errorf("raise event %+v, want %+v", e.Raise, want)
					}
					return
				case <-timeout:
					t.Fatal("no raise event")
				}
			}
		})
	}
}

// TestLockWindow: one window lock per data folder at a time; it is free
// again once released.
func TestLockWindow(t *testing.T) {
	home := t.TempDir()
	p := Paths{Data: home, Logs: home + "/logs", Run: home + "/run"}
	unlock, err := LockWindow(p)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := LockWindow(p); !errors.Is(err, ErrWindowOpen) {
		t.Errorf("second lock: %v, want ErrWindowOpen", err)
	}
	other := t.TempDir()
	if u, err := LockWindow(Paths{Data: other, Logs: other + "/logs", Run: other + "/run"}); err != nil {
		t.Errorf("another data folder: %v", err)
	} else {
		u()
	}
	unlock()
	again, err := LockWindow(p)
	if err != nil {
		t.Fatalf("after unlock: %v", err)
	}
	again()
}
