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

// TestProjectViewPHPIni: the php service's php.ini box shows the stored
// directives; Apply sends what was added, changed and removed (devport
// set --php-ini, --php-ini-unset); a line without "=" and the engine's
// refusal show on the note line.
func TestProjectViewPHPIni(t *testing.T) {
	stored := map[string]string{"memory_limit": "1G", "date.timezone": "UTC"}
	for _, tc := range []struct {
		name     string
		text     string
		fail     error
		wantCall []string
		wantErr  string
		wantText string
	}{
		{name: "change, add and remove", text: "memory_limit = 2G\n; a comment\nmax_input_vars = 5000\n",
			wantCall: []string{"php.ini api max_input_vars=5000 memory_limit=2G -date.timezone"},
			wantText: "max_input_vars = 5000\nmemory_limit = 2G\n"},
		{name: "a line without =", text: "memory_limit 2G\n", wantErr: `line 1 "memory_limit 2G"`,
			wantText: "memory_limit 2G\n"},
		{name: "refused", text: "[PHP] = 1\n", fail: errors.New(`php.ini key "[PHP]": is not a php.ini directive name`),
			wantCall: []string{"php.ini api [PHP]=1 -date.timezone -memory_limit"}, wantErr: "directive name", wantText: "[PHP] = 1\n"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			p := pyProject(false)
			p.PHPIni = stored
			u, fe, _, pv := dataUI(t, p)
			se := pv.Services["site"]
			if se.PHPIni == nil || pv.Services["web"].PHPIni != nil {
				t.Fatal("the php.ini box belongs to the php service only")
			}
			if got := se.PHPIni.Text; got != "date.timezone = UTC\nmemory_limit = 1G\n" {
				t.Fatalf("the box shows %q", got)
			}
			fe.mu.Lock()
			fe.fail = tc.fail
			fe.mu.Unlock()
			se.PHPIni.SetText(tc.text)
			test.Tap(se.PHPIniApply)
			u.Idle()
			sameCalls(t, fe.Calls(), tc.wantCall...)
			if tc.wantErr == "" && se.Err.Text != "" || !strings.Contains(se.Err.Text, tc.wantErr) {
				t.Errorf("note line %q, want %q", se.Err.Text, tc.wantErr)
			}
			if se.PHPIni.Text != tc.wantText {
				t.Errorf("the box shows %q, want %q", se.PHPIni.Text, tc.wantText)
			}
		})
	}
}
