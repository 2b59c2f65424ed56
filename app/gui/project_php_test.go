package gui

import (
	"errors"
	"slices"
	"strings"
	"testing"
)

// TestProjectViewPHPSelect: only the php service has the PHP version
// drop-down; it lists auto and the versions of its runtime, shows the
// stored choice, asks the engine for a new one (auto: let devport choose
// again), and goes back with the engine's message when it refuses.
func TestProjectViewPHPSelect(t *testing.T) {
	refusal := errors.New("PHP 7.4 is not installed for Apache here (8.4, 8.2): install php7.4 and libapache2-mod-php7.4 from Ondřej Surý's packages, or run it in a container")
	for _, tc := range []struct {
		name     string
		stored   string // the service's PHP as set, "" for chosen by devport
		pick     string
		fail     error
		wantCall string
		want     string // what the drop-down shows after
		wantErr  string
	}{
		{name: "set a version", pick: "8.2", wantCall: `php api site "8.2"`, want: "8.2"},
		{name: "back to auto", stored: "8.2", pick: phpAuto, wantCall: `php api site ""`, want: phpAuto},
		{name: "refused", pick: "8.4", fail: refusal, wantCall: `php api site "8.4"`, want: phpAuto, wantErr: "not installed"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			p := pyProject(false)
			for i, s := range p.Services {
				if s.Name == "site" {
					s.PHP, s.PHPFrom = "8.4", "newest"
					if tc.stored != "" {
						s.PHP, s.PHPFrom = tc.stored, "set"
					}
					p.Services[i] = s
				}
			}
			u, fe, _, pv := dataUI(t, p)
			if pv.Services["web"].PHP != nil {
				t.Error("a Python service has the PHP drop-down")
			}
			se := pv.Services["site"]
			if se.PHP == nil || !slices.Equal(se.PHP.Options, []string{phpAuto, "8.4", "8.2"}) {
				t.Fatalf("the php service's drop-down: %+v", se.PHP)
			}
			if want := tc.stored; se.PHP.Selected != want && !(want == "" && se.PHP.Selected == phpAuto) {
				t.Fatalf("shows %q, stored %q", se.PHP.Selected, tc.stored)
			}
			if calls := fe.Calls(); len(calls) != 0 {
				t.Fatalf("opening the window called %q", calls)
			}
			fe.mu.Lock()
			fe.fail = tc.fail
			fe.mu.Unlock()
			se.PHP.SetSelected(tc.pick)
			u.Idle()
			sameCalls(t, fe.Calls(), tc.wantCall)
			if se.PHP.Selected != tc.want || se.PHP.Disabled() {
				t.Errorf("shows %q (disabled %v), want %q", se.PHP.Selected, se.PHP.Disabled(), tc.want)
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
