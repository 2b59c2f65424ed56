package gui

import (
	"errors"
	"strings"
	"testing"

	"fyne.io/fyne/v2/test"

	"github.com/devport/devport/app/wire"
	"github.com/devport/devport/internal/stackdef"
)

// envHooksView is the editor of a project "shop" with a php service web
// (APP_ENV, and a PEM key one line cannot show), a uvicorn service api
// and a proxy service ext, shown in a pane as the Settings tab will show
// it, and the fake engine behind it.
func envHooksView(t *testing.T) (*UI, *dataEngine, *ProjectView, *EnvHooksEditor, wire.ProjectStatus) {
	t.Helper()
	p := paneProject("shop", wire.StateRunning)
	p.BeforeStart = "make"
	p.Services = []wire.ServiceStatus{
		{Name: "api", Stack: stackdef.Uvicorn, Runtime: wire.RuntimeProcess, PathPrefix: "/api", App: "main:app"},
		{Name: "ext", Stack: stackdef.Proxy, PathPrefix: "/ext", URL: "http://127.0.0.1:9000"},
		{Name: "web", Stack: stackdef.PHP, Runtime: wire.RuntimeProcess, PathPrefix: "/",
			Env: map[string]string{"APP_ENV": "dev", "PEM": "-----BEGIN KEY-----\nabc"}},
	}
	u, fe := paneUI(t, p)
	pn := selectProject(t, u, "shop")
	pv := pn.View
	return u, fe, pv, pv.newEnvHooksEditor(p), p
}

// TestEnvHooksEditor edits a service's environment and the before_start
// hook as devport set --env, --env-unset and --before-start do: one call
// for every box's change, a line without "=" refused before any call, the
// engine's refusal shown with the text kept, and a variable one line
// cannot show kept out of the box, neither shown nor removed.
func TestEnvHooksEditor(t *testing.T) {
	u, fe, _, e, _ := envHooksView(t)
	if len(e.Env) != 2 || e.Env["web"] == nil || e.Env["api"] == nil {
		t.Fatalf("boxes %v, want api and web (ext runs nothing)", e.Env)
	}
	if got := e.Env["web"].Text; got != "APP_ENV = dev\n" {
		t.Errorf("web's box shows %q", got)
	}
	if k := e.Kept["web"]; !k.Visible() || !strings.Contains(k.Text, "PEM") || strings.Contains(k.Text, "abc") {
		t.Errorf("web's kept note %q (visible %v), want PEM named and its value not shown", k.Text, k.Visible())
	}
	if e.Kept["api"].Visible() || e.BeforeStart.Text != "make" {
		t.Errorf("api's kept note visible, or before start %q", e.BeforeStart.Text)
	}

	tests := []struct {
		name     string
		boxes    map[string]string
		fail     error
		wantCall string // "" for none
		wantErr  string
		wantWeb  string // web's box after
	}{
		{name: "a line without =", boxes: map[string]string{"web": "APP_ENV = dev\nDEBUG\n"},
			wantErr: `environment of web line 2 "DEBUG": use KEY = VALUE, e.g. APP_ENV = dev`, wantWeb: "APP_ENV = dev\nDEBUG\n"},
		{name: "refused", boxes: map[string]string{"web": "A B = 1\n"}, fail: errors.New(`env "A B": is not an environment variable name`),
			wantCall: "env shop web: A B=1 -APP_ENV", wantErr: `env "A B"`, wantWeb: "A B = 1\n"},
		{name: "two services, one call", boxes: map[string]string{"web": "APP_ENV = test\nURL = \"http://x/?a=b\"\n", "api": "# comment\nWORKERS=2"},
			wantCall: "env shop api: WORKERS=2; web: APP_ENV=test URL=http://x/?a=b", wantWeb: "APP_ENV = test\nURL = http://x/?a=b\n"},
		{name: "a line removed", boxes: map[string]string{"web": "URL = http://x/?a=b\n"},
			wantCall: "env shop web: -APP_ENV", wantWeb: "URL = http://x/?a=b\n"},
		{name: "nothing changed", boxes: map[string]string{"web": "URL = http://x/?a=b\n"}, wantWeb: "URL = http://x/?a=b\n"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			fe.fail = tc.fail
			for s, text := range tc.boxes {
				e.Env[s].SetText(text)
			}
			test.Tap(e.EnvApply)
			u.Idle()
			if tc.wantCall == "" {
				sameCalls(t, fe.Calls())
			} else {
				sameCalls(t, fe.Calls(), tc.wantCall)
			}
			if !strings.Contains(e.Err.Text, tc.wantErr) || (tc.wantErr == "") != (e.Err.Text == "") {
				t.Errorf("note %q, want %q", e.Err.Text, tc.wantErr)
			}
			if got := e.Env["web"].Text; got != tc.wantWeb {
				t.Errorf("web's box %q, want %q", got, tc.wantWeb)
			}
			if e.EnvApply.Disabled() {
				t.Error("Apply stays disabled")
			}
		})
	}
	ps, _ := fe.List(u.ctx)
	for _, s := range ps[0].Services {
		if s.Name == "web" && s.Env["PEM"] != "-----BEGIN KEY-----\nabc" {
			t.Errorf("the kept variable changed: %q", s.Env)
		}
	}

	t.Run("hook", func(t *testing.T) {
		e.BeforeStart.SetText("composer install &&\nphp artisan migrate")
		test.Tap(e.HookApply)
		u.Idle()
		sameCalls(t, fe.Calls(), `hooks shop "composer install &&\nphp artisan migrate"`)
		test.Tap(e.HookApply) // unchanged: nothing to ask
		u.Idle()
		sameCalls(t, fe.Calls())
		e.BeforeStart.SetText("  ")
		test.Tap(e.HookApply)
		u.Idle()
		sameCalls(t, fe.Calls(), `hooks shop ""`)
		if e.BeforeStart.Text != "" || e.Err.Text != "" {
			t.Errorf("before start %q, note %q after clearing it", e.BeforeStart.Text, e.Err.Text)
		}
	})
}

// TestEnvHooksEditorKeepsAnEdit: an update from the engine (another
// face's change) shows in the boxes nobody is editing, and leaves an
// edit in progress as it is.
func TestEnvHooksEditorKeepsAnEdit(t *testing.T) {
	_, fe, _, e, p := envHooksView(t)
	e.Env["web"].SetText("APP_ENV = mine\n")
	e.BeforeStart.SetText("make mine")
	p.BeforeStart = "make theirs"
	for i := range p.Services {
		p.Services[i].Env = map[string]string{"FROM": "cli"}
	}
	e.show(p)
	if got := e.Env["web"].Text; got != "APP_ENV = mine\n" {
		t.Errorf("the edit was overwritten: %q", got)
	}
	if got := e.Env["api"].Text; got != "FROM = cli\n" {
		t.Errorf("api's box %q, want the update", got)
	}
	if e.BeforeStart.Text != "make mine" {
		t.Errorf("the hook's edit was overwritten: %q", e.BeforeStart.Text)
	}
	if e.Kept["web"].Visible() {
		t.Error("the kept note stays after PEM went")
	}
	// Apply diffs against what is stored now: FROM, not in the box, goes.
	test.Tap(e.EnvApply)
	e.pv.u.Idle()
	sameCalls(t, fe.Calls(), "env shop web: APP_ENV=mine -FROM")
}

// TestEnvHooksEditorNoBackend: a project whose services run nothing has
// no box, and Apply is off.
func TestEnvHooksEditorNoBackend(t *testing.T) {
	p := paneProject("links", wire.StateStopped)
	p.Services = []wire.ServiceStatus{{Name: "ext", Stack: stackdef.Proxy, PathPrefix: "/", URL: "http://127.0.0.1:9000"}}
	u, _ := paneUI(t, p)
	e := selectProject(t, u, "links").View.newEnvHooksEditor(p)
	if len(e.Env) != 0 || !e.EnvApply.Disabled() || e.HookApply.Disabled() {
		t.Errorf("boxes %v, env apply disabled %v, hook apply disabled %v", e.Env, e.EnvApply.Disabled(), e.HookApply.Disabled())
	}
}

// TestLineDiff: a box of KEY = VALUE lines becomes the keys to set and
// to unset; a line without "=" is refused in the box's own words.
func TestLineDiff(t *testing.T) {
	stored := map[string]string{"A": "1", "B": "2"}
	text := "A = 1\n; note\n# note\nC = \"3\"\n\n"
	set, unset, err := lineDiff(stored, text, "environment of web", "APP_ENV = dev")
	if err != nil || len(set) != 1 || set["C"] != "3" || strings.Join(unset, ",") != "B" {
		t.Errorf("lineDiff = %v %v %v, want C set and B unset", set, unset, err)
	}
	_, _, err = lineDiff(nil, "A = 1\nx, e.g. y", "environment of web", "APP_ENV = dev")
	if err == nil || err.Error() != `environment of web line 2 "x, e.g. y": use KEY = VALUE, e.g. APP_ENV = dev` {
		t.Errorf("error %v", err)
	}
	if _, err := phpIniDiff(nil, "memory_limit"); err == nil || err.Error() != `php.ini line 1 "memory_limit": use KEY = VALUE, e.g. memory_limit = 1G` {
		t.Errorf("php.ini error %v", err)
	}
}
