package gui

import (
	"errors"
	"strings"
	"testing"

	"fyne.io/fyne/v2/test"

	"github.com/devport/devport/app/wire"
)

// TestRoutesEditor adds and removes a route from the Settings tab, as
// devport route NAME add|rm; a refusal shows with what was typed kept.
func TestRoutesEditor(t *testing.T) {
	p := paneProject("shop", wire.StateStopped)
	p.Routes = []wire.RouteStatus{{Prefix: "/", Kind: "service", Target: "web"}} // the service's own: not removable here
	u, fe := paneUI(t, p)
	pn := selectProject(t, u, "shop")
	test.Tap(pn.TabButtons[TabSettings])
	re := pn.View.RouteEdit
	if eh := pn.View.EnvHooks; eh == nil || eh.Env["web"] == nil || eh.BeforeStart == nil {
		t.Error("the Settings tab has no environment and hooks editor for web")
	}
	if len(re.Remove) != 0 {
		t.Errorf("the service's own route can be removed: %v", re.Remove)
	}
	tests := []struct {
		name       string
		kind       string
		prefix     string
		target     string
		strip      bool
		fail       error
		wantCall   string
		wantRemove bool
	}{
		{name: "refused", kind: routeURL, prefix: "api", target: "http://127.0.0.1:9000", fail: errors.New(`prefix "api": start it with /`),
			wantCall: "route shop add api url http://127.0.0.1:9000 strip=false"},
		{name: "a URL", kind: routeURL, prefix: "/api", target: "http://127.0.0.1:9000", strip: true,
			wantCall: "route shop add /api url http://127.0.0.1:9000 strip=true", wantRemove: true},
		{name: "a folder", kind: routeStatic, prefix: "/media", target: "uploads",
			wantCall: "route shop add /media static uploads strip=false", wantRemove: true},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			fe.fail = tc.fail
			re.Kind.SetSelected(tc.kind)
			re.Prefix.SetText(tc.prefix)
			re.Target.SetText(tc.target)
			re.Strip.SetChecked(tc.strip)
			test.Tap(re.Add)
			u.Idle()
			sameCalls(t, fe.Calls(), tc.wantCall)
			re = pn.View.RouteEdit
			if tc.fail != nil {
				if re.Err.Text != tc.fail.Error() || re.Prefix.Text != tc.prefix || re.Target.Text != tc.target {
					t.Errorf("error %q, prefix %q, target %q: want the refusal, what was typed kept", re.Err.Text, re.Prefix.Text, re.Target.Text)
				}
				return
			}
			if re.Err.Text != "" || re.Prefix.Text != "" {
				t.Errorf("error %q, prefix %q after an add that worked", re.Err.Text, re.Prefix.Text)
			}
			if (re.Remove[tc.prefix] != nil) != tc.wantRemove {
				t.Errorf("routes listed %v, want %s", re.Remove, tc.prefix)
			}
			if !strings.Contains(pn.View.Routes.Text, tc.prefix) {
				t.Errorf("Overview's routes %q lack %s", pn.View.Routes.Text, tc.prefix)
			}
		})
	}
	test.Tap(re.Remove["/api"])
	u.Idle()
	sameCalls(t, fe.Calls(), "route shop rm /api")
	if re := pn.View.RouteEdit; re.Remove["/api"] != nil || re.Remove["/media"] == nil {
		t.Errorf("after removing /api: %v", re.Remove)
	}
}
