package gui

import (
	"context"
	"slices"
	"sync"
	"testing"
	"time"

	"fyne.io/fyne/v2/test"

	"github.com/devport/devport/app/wire"
)

// quietHost is a window that hosts its engine, as far as quitting goes;
// the main window asks it only what the setup banner needs.
type quietHost struct{ Host }

func (quietHost) SetupNeeds(context.Context) []wire.SetupNeed { return nil }

// TestQuitAsksWhileRunning: Quit (the tray's, or closing the window
// without a tray) asks first while projects run, in a dialog whose Quit
// button the layout file names; with nothing running, or attached to
// another process's engine, it quits at once.
func TestQuitAsksWhileRunning(t *testing.T) {
	running := wire.ProjectStatus{Name: "shop", URL: "https://shop.test/", State: wire.StateRunning}
	stopped := wire.ProjectStatus{Name: "blog", URL: "https://blog.test/", State: wire.StateStopped}
	tests := []struct {
		name     string
		projects []wire.ProjectStatus
		attached bool // no Host: the engine is another process's
		confirm  bool // answer Quit, else Cancel
		asks     bool
		quits    bool
	}{
		{name: "running, confirmed", projects: []wire.ProjectStatus{running, stopped}, confirm: true, asks: true, quits: true},
		{name: "running, cancelled", projects: []wire.ProjectStatus{running}, asks: true},
		{name: "nothing running", projects: []wire.ProjectStatus{stopped}, quits: true},
		{name: "no projects", quits: true},
		{name: "attached", projects: []wire.ProjectStatus{running}, attached: true, quits: true},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			quits := 0
			o := Options{Engine: newDataEngine(tc.projects...), Checks: wizardChecks{}, Manual: true, Tray: true, Quit: func() { quits++ }}
			if !tc.attached {
				o.Host = quietHost{}
			}
			u := New(test.NewTempApp(t), o)
			t.Cleanup(func() { u.Close(); u.Idle() })
			u.Idle()
			quit := u.Tray().Items[len(u.Tray().Items)-1]
			if quit.Label != "Quit" {
				t.Fatalf("the tray's last item is %q", quit.Label)
			}
			quit.Action()
			asked := u.quitButton() != nil
			if asked != tc.asks {
				t.Fatalf("asked %v, want %v", asked, tc.asks)
			}
			if asked {
				if _, ok := u.Targets()["quit-confirm"]; !ok {
					t.Error("the layout has no quit-confirm while the question is up")
				}
				if quits != 0 {
					t.Fatal("quit before the answer")
				}
				if tc.confirm {
					test.Tap(u.quitButton())
				} else {
					u.QuitConfirm.Dismiss()
				}
			}
			if want := map[bool]int{true: 1, false: 0}[tc.quits]; quits != want {
				t.Errorf("quit %d times, want %d", quits, want)
			}
		})
	}
}

// TestTrayWithoutProjects: Start all and Stop all show only when there
// are projects to start or stop.
func TestTrayWithoutProjects(t *testing.T) {
	tests := []struct {
		name     string
		projects []wire.ProjectStatus
		want     bool
	}{
		{name: "none", want: false},
		{name: "one", projects: []wire.ProjectStatus{{Name: "shop", State: wire.StateStopped}}, want: true},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			u := New(test.NewTempApp(t), Options{Engine: newDataEngine(tc.projects...), Checks: wizardChecks{}, Manual: true, Tray: true})
			t.Cleanup(func() { u.Close(); u.Idle() })
			u.Idle()
			got := labels(u.Tray())
			for _, l := range []string{"Start all", "Stop all"} {
				if slices.Contains(got, l) != tc.want {
					t.Errorf("%q in the tray is %v, want %v: %q", l, !tc.want, tc.want, got)
				}
			}
			for _, l := range []string{"Show window", "Quit"} {
				if !slices.Contains(got, l) {
					t.Errorf("the tray lacks %q: %q", l, got)
				}
			}
		})
	}
}

// starts is an Engine that records the projects it is asked to start.
type starts struct {
	*dataEngine
	mu      sync.Mutex
	started []string
}

func (s *starts) Start(_ context.Context, name string) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.started = append(s.started, name)
	return nil
}

func (s *starts) names() []string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return slices.Clone(s.started)
}

// TestRaiseStartsProjects: a second launch (`devport --start shop`)
// reaches this window as an EventRaise; the window starts what it asked.
func TestRaiseStartsProjects(t *testing.T) {
	e := &starts{dataEngine: newDataEngine(wire.ProjectStatus{Name: "shop", State: wire.StateStopped})}
	u := New(test.NewTempApp(t), Options{Engine: e, Checks: wizardChecks{}, Manual: true, Tray: true})
	t.Cleanup(func() { u.Close(); u.Idle() })
	u.Idle()
	e.emit(wire.Event{Kind: wire.EventRaise, Raise: &wire.RaiseRequest{Show: true, Start: []string{"shop"}}})
	deadline := time.Now().Add(5 * time.Second)
	for !slices.Equal(e.names(), []string{"shop"}) {
		if time.Now().After(deadline) {
			t.Fatalf("started %q, want shop", e.names())
		}
		u.Idle()
		time.Sleep(10 * time.Millisecond)
	}
}
