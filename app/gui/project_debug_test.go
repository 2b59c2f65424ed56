package gui

import (
	"errors"
	"strings"
	"testing"

	"fyne.io/fyne/v2/test"

	"github.com/devport/devport/app/wire"
	"github.com/devport/devport/internal/stackdef"
)

// pyProject is a project with one service of each Python stack and a PHP
// one; web runs under debugpy when debug.
func pyProject(debug bool) wire.ProjectStatus {
	return wire.ProjectStatus{Name: "api", URL: "https://api.test/", Domains: []string{"api.test"}, State: wire.StateRunning,
		Services: []wire.ServiceStatus{
			{Name: "web", Stack: stackdef.Uvicorn, Runtime: wire.RuntimeProcess, PathPrefix: "/", App: "main:app", Debug: debug},
			{Name: "admin", Stack: stackdef.Gunicorn, Runtime: wire.RuntimeProcess, PathPrefix: "/admin", App: "admin:app"},
			{Name: "flask", Stack: stackdef.WSGI, Runtime: wire.RuntimeProcess, PathPrefix: "/flask", App: "app:app"},
			{Name: "legacy", Stack: stackdef.UWSGI, Runtime: wire.RuntimeProcess, PathPrefix: "/legacy", App: "wsgi:application"},
			{Name: "site", Stack: stackdef.PHP, Runtime: wire.RuntimeProcess, PathPrefix: "/php"},
		}}
}

// TestProjectViewDebugCheck: each Python service but uWSGI has the Debug
// check, and only those.
func TestProjectViewDebugCheck(t *testing.T) {
	_, _, _, pv := dataUI(t, pyProject(false))
	for _, tc := range []struct {
		service string
		want    bool
	}{
		{"web", true},
		{"admin", true},
		{"flask", true},
		{"legacy", false}, // uWSGI: debugpy does not run it
		{"site", false},
	} {
		t.Run(tc.service, func(t *testing.T) {
			se := pv.Services[tc.service]
			if se == nil {
				t.Fatal("no editor")
			}
			if got := se.Debug != nil; got != tc.want {
				t.Fatalf("Debug check %v, want %v", got, tc.want)
			}
			if se.Debug != nil && se.Debug.Text != debugLabel {
				t.Errorf("check text %q", se.Debug.Text)
			}
		})
	}
}

// TestProjectViewDebugToggle: the check shows the stored state, asks the
// engine to turn debugging on or off, and goes back with the engine's
// message on the note line when it refuses.
func TestProjectViewDebugToggle(t *testing.T) {
	refusal := errors.New("debug api/web: 127.0.0.1:5678 is in use, held by pid 42 (code): close it (another debug session?) and try again")
	for _, tc := range []struct {
		name      string
		stored    bool  // Debug as listed when the window opens
		fail      error // the engine's refusal
		wantCall  string
		wantAfter bool
		wantErr   string
	}{
		{name: "on", stored: false, wantCall: "debug api web true", wantAfter: true},
		{name: "off", stored: true, wantCall: "debug api web false", wantAfter: false},
		{name: "refused", stored: false, fail: refusal, wantCall: "debug api web true", wantAfter: false, wantErr: "127.0.0.1:5678 is in use"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			u, fe, _, pv := dataUI(t, pyProject(tc.stored))
			se := pv.Services["web"]
			if se.Debug.Checked != tc.stored {
				t.Fatalf("check shows %v, stored %v", se.Debug.Checked, tc.stored)
			}
			if calls := fe.Calls(); len(calls) != 0 {
				t.Fatalf("opening the window called %q", calls)
			}
			fe.mu.Lock()
			fe.fail = tc.fail
			fe.mu.Unlock()
			test.Tap(se.Debug)
			u.Idle()
			sameCalls(t, fe.Calls(), tc.wantCall)
			if se.Debug.Checked != tc.wantAfter || se.Debug.Disabled() {
				t.Errorf("check %v (disabled %v), want %v", se.Debug.Checked, se.Debug.Disabled(), tc.wantAfter)
			}
			if tc.wantErr == "" && se.Err.Text != "" || !strings.Contains(se.Err.Text, tc.wantErr) {
				t.Errorf("note line %q, want %q", se.Err.Text, tc.wantErr)
			}
			if calls := fe.Calls(); len(calls) != 0 {
				t.Errorf("showing the answer called the engine again: %q", calls)
			}
		})
	}
}

// TestProjectViewDebugFollows: debugging turned on elsewhere (devport
// debug api on) shows in an open window, without a call back.
func TestProjectViewDebugFollows(t *testing.T) {
	u, fe, _, pv := dataUI(t, pyProject(false))
	se := pv.Services["web"]
	fe.mu.Lock()
	fe.projects[0] = pyProject(true)
	fe.mu.Unlock()
	if fe.emit(wire.Event{Kind: wire.EventAdded, Project: "api"}) == 0 {
		t.Fatal("the window does not follow the engine")
	}
	eventually(t, "the check shows debugging on", func() bool { u.Idle(); return se.Debug.Checked })
	if calls := fe.Calls(); len(calls) != 0 {
		t.Errorf("showing the stored state called %q", calls)
	}
}
