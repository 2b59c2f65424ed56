package gui

import (
	"sync/atomic"
	"testing"
	"time"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/test"

	"github.com/devport/devport/app/wire"
)

// countingApp counts the notifications sent through it.
type countingApp struct {
	fyne.App
	sent atomic.Int32
}

func (a *countingApp) SendNotification(n *fyne.Notification) {
	a.sent.Add(1)
	a.App.SendNotification(n)
}

// TestNotifiesOncePerFailure: a crash loop (crashes, restarts, and the
// engine giving up) is one failure and notifies once. A new failure
// notifies again: after the project stopped, after Try again on a failed
// project, or after it ran quietly for troubleQuiet.
func TestNotifiesOncePerFailure(t *testing.T) {
	const quiet = 400 * time.Millisecond
	st := func(s wire.State) wire.Event {
		return wire.Event{Kind: wire.EventState, Project: "shop", State: s, Detail: "exit status 1\nTraceback"}
	}
	pause := wire.Event{} // waits longer than quiet
	tests := []struct {
		name   string
		events []wire.Event
		want   int32
	}{
		{"a crash loop that gives up", []wire.Event{
			st(wire.StateRunning), st(wire.StateCrashed), st(wire.StateStarting), st(wire.StateRunning),
			st(wire.StateCrashed), st(wire.StateStarting), st(wire.StateRunning), st(wire.StateCrashed),
			st(wire.StateStarting), st(wire.StateRunning), st(wire.StateCrashed), st(wire.StateStarting),
			st(wire.StateRunning), st(wire.StateCrashed), st(wire.StateFailed)}, 1},
		{"a failed start", []wire.Event{st(wire.StateStarting), st(wire.StateFailed)}, 1},
		{"Try again fails again", []wire.Event{
			st(wire.StateStarting), st(wire.StateFailed), st(wire.StateStarting), st(wire.StateFailed)}, 2},
		{"crashed, stopped, started, crashed", []wire.Event{
			st(wire.StateCrashed), st(wire.StateStopped), st(wire.StateStarting), st(wire.StateRunning), st(wire.StateCrashed)}, 2},
		{"a crash that recovered, another after a quiet while", []wire.Event{
			st(wire.StateCrashed), st(wire.StateStarting), st(wire.StateRunning), pause, st(wire.StateCrashed)}, 2},
		{"running and stopping", []wire.Event{st(wire.StateStarting), st(wire.StateRunning), st(wire.StateStopped)}, 0},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			a := &countingApp{App: test.NewTempApp(t)}
			fe := newDataEngine(paneProject("shop", wire.StateStopped))
			u := New(a, Options{Engine: fe, Checks: wizardChecks{}, Manual: true})
			t.Cleanup(func() { u.Close(); u.Idle() })
			u.troubleQuiet = quiet
			u.Idle()
			for _, e := range tc.events {
				if e.Kind == "" {
					time.Sleep(quiet + 100*time.Millisecond)
					continue
				}
				if fe.emit(e) == 0 {
					t.Fatal("the UI does not follow the engine's events")
				}
			}
			// follow handles events in order: once this warning shows,
			// every state event before it has been handled.
			fe.emit(wire.Event{Kind: wire.EventWarning, Detail: "sentinel"})
			eventually(t, "the events handled", func() bool { u.Idle(); return u.Status.Text == "sentinel" })
			if got := a.sent.Load(); got != tc.want {
				t.Errorf("%d notifications, want %d", got, tc.want)
			}
		})
	}
}
