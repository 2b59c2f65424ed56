package gui

import (
	"errors"
	"strings"
	"testing"

	"fyne.io/fyne/v2/test"

	"github.com/devport/devport/app/wire"
)

// TestProjectViewXdebug: only the php service has the Xdebug check; it
// shows the stored state, asks the engine to load Xdebug or leave it out,
// goes back with the engine's message when it refuses, and follows a
// change made elsewhere (devport xdebug NAME on).
func TestProjectViewXdebug(t *testing.T) {
	refusal := errors.New(`xdebug "on": Xdebug is not installed for this PHP (PHP 8.2); apt install php-xdebug, then devport xdebug api on`)
	for _, tc := range []struct {
		name      string
		stored    bool
		fail      error
		wantCall  string
		wantAfter bool
		wantErr   string
	}{
		{name: "on", wantCall: "xdebug api true", wantAfter: true},
		{name: "off", stored: true, wantCall: "xdebug api false"},
		{name: "refused", fail: refusal, wantCall: "xdebug api true", wantErr: "apt install php-xdebug"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			p := pyProject(false)
			p.Xdebug = tc.stored
			u, fe, _, pv := dataUI(t, p)
			if pv.Services["web"].Xdebug != nil {
				t.Error("a Python service has the Xdebug check")
			}
			se := pv.Services["site"]
			if se.Xdebug == nil || se.Xdebug.Text != xdebugLabel {
				t.Fatalf("the php service's Xdebug check: %+v", se.Xdebug)
			}
			if se.Xdebug.Checked != tc.stored {
				t.Fatalf("check shows %v, stored %v", se.Xdebug.Checked, tc.stored)
			}
			fe.mu.Lock()
			fe.fail = tc.fail
			fe.mu.Unlock()
			test.Tap(se.Xdebug)
			u.Idle()
			sameCalls(t, fe.Calls(), tc.wantCall)
			if se.Xdebug.Checked != tc.wantAfter || se.Xdebug.Disabled() {
				t.Errorf("check %v (disabled %v), want %v", se.Xdebug.Checked, se.Xdebug.Disabled(), tc.wantAfter)
			}
			if tc.wantErr == "" && se.Err.Text != "" || !strings.Contains(se.Err.Text, tc.wantErr) {
				t.Errorf("note line %q, want %q", se.Err.Text, tc.wantErr)
			}
		})
	}
	t.Run("follows the engine", func(t *testing.T) {
		u, fe, _, pv := dataUI(t, pyProject(false))
		se := pv.Services["site"]
		fe.mu.Lock()
		fe.projects[0].Xdebug = true
		fe.mu.Unlock()
		if fe.emit(wire.Event{Kind: wire.EventAdded, Project: "api"}) == 0 {
			t.Fatal("the window does not follow the engine")
		}
		eventually(t, "the check shows Xdebug on", func() bool { u.Idle(); return se.Xdebug.Checked })
		if calls := fe.Calls(); len(calls) != 0 {
			t.Errorf("showing the stored state called %q", calls)
		}
	})
}
