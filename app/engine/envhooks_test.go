package engine

import (
	"context"
	"encoding/json"
	"maps"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"

	"github.com/devport/devport/app/wire"
	"github.com/devport/devport/internal/testenv"
	"github.com/devport/devport/manifest"
	"github.com/devport/devport/stacks"
	"github.com/devport/devport/store"
)

// envApp answers with the variables envKeys name, as JSON (null for one
// that is not set).
const envApp = `import json, os
from fastapi import FastAPI
from fastapi.responses import PlainTextResponse
app = FastAPI()

@app.get('/')
def root():
    return PlainTextResponse(json.dumps({k: os.environ.get(k) for k in ["A", "HOSTILE", "LD_PRELOAD", "X"]}))
`

// hostileEnvValue is a value a cloned repository could carry: line
// breaks that look like more variables, shell and TOML syntax. It must
// reach the backend whole, and run nothing.
const hostileEnvValue = "line1\nLD_PRELOAD=/tmp/evil.so\r\nX=$(touch pwned) `touch pwned` ${HOME} '\"; touch pwned; #\" \\ \u2028é"

// TestSetEnv runs a real engine with a uvicorn service: an env change
// restarts the running project and the backend sees the hostile value
// whole (and nothing ran); bad names and values are refused, one line,
// with nothing changed and no restart; a change that makes the start
// fail is undone and the project runs as before; devport.toml written
// from the project reads back the same value; a before_start change
// waits for the next start.
func TestSetEnv(t *testing.T) {
	ctx := context.Background()
	m := testManager(t)
	dir := t.TempDir()
	writeFiles(t, dir, map[string]string{"main.py": envApp})
	testenv.Need(t, "python3-uvicorn", stacks.Check("uvicorn", dir) == nil, testenv.InstallFix)
	var mu sync.Mutex
	starts := 0
	newRunner := m.newRunner
	m.newRunner = func(s stacks.Spec) (stacks.Runner, error) {
		mu.Lock()
		starts++
		mu.Unlock()
		return newRunner(s)
	}
	startCount := func() int {
		mu.Lock()
		defer mu.Unlock()
		return starts
	}
	if _, err := m.Add(ctx, wire.AddRequest{Dir: dir, Name: "shop", Stack: "uvicorn", App: "main:app"}); err != nil {
		t.Fatal(err)
	}
	c := siteClient(t, m, serveTest(t, m))
	if err := m.Start(ctx, "shop"); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = m.Stop(context.Background(), "shop") })
	seen := func() map[string]*string {
		t.Helper()
		code, body := siteGet(t, c, "shop.test")
		var got map[string]*string
		if err := json.Unmarshal([]byte(body), &got); code != 200 || err != nil {
			t.Fatalf("GET shop.test: %d %q (%v)", code, body, err)
		}
		return got
	}
	stored := func() map[string]string {
		t.Helper()
		st, err := m.Status(ctx, "shop")
		if err != nil {
			t.Fatal(err)
		}
		return st.Services[0].Env
	}

	t.Run("set restarts, the value arrives whole", func(t *testing.T) {
		before := startCount()
		if _, err := m.SetEnv(ctx, "shop", wire.EnvRequest{Services: []wire.ServiceEnv{
			{Set: map[string]string{"A": "1", "HOSTILE": hostileEnvValue}}}}); err != nil {
			t.Fatal(err)
		}
		if startCount() != before+1 {
			t.Errorf("%d starts, want one restart", startCount()-before)
		}
		got := seen()
		if got["A"] == nil || *got["A"] != "1" || got["HOSTILE"] == nil || *got["HOSTILE"] != hostileEnvValue {
			t.Errorf("the backend sees %v", got)
		}
		if got["LD_PRELOAD"] != nil || got["X"] != nil {
			t.Errorf("a line of the value became a variable: %v", got)
		}
		if _, err := os.Stat(filepath.Join(dir, "pwned")); err == nil {
			t.Error("a part of the value ran")
		}
		if want := map[string]string{"A": "1", "HOSTILE": hostileEnvValue}; !maps.Equal(stored(), want) {
			t.Errorf("status env %q, want %q", stored(), want)
		}
	})

	t.Run("devport.toml reads it back", func(t *testing.T) {
		data, path, _, err := m.ExportConfig(ctx, "shop")
		if err != nil {
			t.Fatal(err)
		}
		f, err := manifest.ParseBytes(path, data)
		if err != nil {
			t.Fatalf("the written devport.toml does not parse: %v\n%s", err, data)
		}
		for _, s := range f.Services {
			if s.Env["HOSTILE"] != hostileEnvValue || len(s.Env) != 2 {
				t.Errorf("devport.toml's env %q\n%s", s.Env, data)
			}
		}
	})

	want := map[string]string{"A": "1", "HOSTILE": hostileEnvValue}
	for _, tc := range []struct {
		name, has string
		req       wire.ServiceEnv
	}{
		{"name with =", `"A=B"`, wire.ServiceEnv{Set: map[string]string{"A=B": "1"}}},
		{"name with a line break", "environment variable name", wire.ServiceEnv{Set: map[string]string{"A\nLD_PRELOAD": "/tmp/evil.so"}}},
		{"value with NUL", "NUL", wire.ServiceEnv{Set: map[string]string{"A": "2\x00B=3"}}},
		{"unset of a bad name", "environment variable name", wire.ServiceEnv{Unset: []string{"A; touch pwned"}}},
		{"a service the project lacks", "no such service", wire.ServiceEnv{Service: "nope", Set: map[string]string{"A": "2"}}},
		{"nothing", "--env [SERVICE:]KEY=VALUE", wire.ServiceEnv{}},
	} {
		t.Run("refused: "+tc.name, func(t *testing.T) {
			before := startCount()
			_, err := m.SetEnv(ctx, "shop", wire.EnvRequest{Services: []wire.ServiceEnv{tc.req}})
			if err == nil || !strings.Contains(err.Error(), tc.has) || strings.ContainsAny(err.Error(), "\r\n") {
				t.Errorf("SetEnv = %v, want one line with %q", err, tc.has)
			}
			if _, ok := err.(*store.ValidationError); !ok {
				t.Errorf("SetEnv = %T, want a *store.ValidationError", err)
			}
			if !maps.Equal(stored(), want) || startCount() != before {
				t.Errorf("env %q after %d starts, want it unchanged and no restart", stored(), startCount()-before)
			}
		})
	}

	t.Run("a start that fails is undone", func(t *testing.T) {
		_, err := m.SetEnv(ctx, "shop", wire.EnvRequest{Services: []wire.ServiceEnv{
			{Set: map[string]string{"PYTHONHOME": "/nonexistent", "A": "2"}}}})
		if err == nil || !strings.Contains(err.Error(), "kept as it was") {
			t.Fatalf("SetEnv = %v, want the failed restart, kept as it was", err)
		}
		if !maps.Equal(stored(), want) {
			t.Errorf("env %q, want the old one back", stored())
		}
		if got := seen(); *got["A"] != "1" {
			t.Errorf("after the undo the backend sees %v", got)
		}
	})

	t.Run("unset", func(t *testing.T) {
		if _, err := m.SetEnv(ctx, "shop", wire.EnvRequest{Services: []wire.ServiceEnv{{Service: "web", Unset: []string{"HOSTILE"}}}}); err != nil {
			t.Fatal(err)
		}
		if got := seen(); got["HOSTILE"] != nil || *got["A"] != "1" {
			t.Errorf("after unset the backend sees %v", got)
		}
	})

	t.Run("before_start waits for the next start", func(t *testing.T) {
		before := startCount()
		if _, err := m.SetBeforeStart(ctx, "shop", "echo \"$PWD\" > hook-ran"); err != nil {
			t.Fatal(err)
		}
		if st, _ := m.Status(ctx, "shop"); st.BeforeStart != `echo "$PWD" > hook-ran` || st.State != wire.StateRunning || startCount() != before {
			t.Errorf("status %q %s after %d starts", st.BeforeStart, st.State, startCount()-before)
		}
		if err := m.Restart(ctx, "shop"); err != nil {
			t.Fatal(err)
		}
		if b, err := os.ReadFile(filepath.Join(dir, "hook-ran")); err != nil || strings.TrimSpace(string(b)) != dir {
			t.Errorf("the hook wrote %q (%v), want the project folder", b, err)
		}
		if _, err := m.SetBeforeStart(ctx, "shop", ""); err != nil {
			t.Fatal(err)
		}
		if st, _ := m.Status(ctx, "shop"); st.BeforeStart != "" {
			t.Errorf("before_start %q after clearing it", st.BeforeStart)
		}
		if _, err := m.SetBeforeStart(ctx, "shop", "make\x00"); err == nil {
			t.Error("a hook with NUL was taken")
		}
	})
}

// TestEnvService: which service an env change without a name means, and
// what is refused, with the services named.
func TestEnvService(t *testing.T) {
	p := store.Project{Name: "shop", Services: []store.Service{
		{Name: "api", Stack: "uvicorn"}, {Name: "ext", Stack: "proxy"}, {Name: "web", Stack: "php"}}}
	one := store.Project{Name: "blog", Services: []store.Service{{Name: "ext", Stack: "proxy"}, {Name: "web", Stack: "php"}}}
	none := store.Project{Name: "links", Services: []store.Service{{Name: "ext", Stack: "proxy"}}}
	for _, tc := range []struct {
		name    string
		p       store.Project
		service string
		want    string // the service, or what the error says
	}{
		{"named", p, "api", "api"},
		{"the only one that runs", one, "", "web"},
		{"several", p, "", "several services (api, web); name one before the key: --env api:KEY=VALUE"},
		{"a proxy", p, "ext", "runs nothing"},
		{"missing", p, "nope", "name one of api, web"},
		{"none runs", none, "", "runs no backend"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			s, err := envService(tc.p, tc.service)
			if err != nil {
				if !strings.Contains(err.Error(), tc.want) {
					t.Errorf("error %v, want %q", err, tc.want)
				}
				return
			}
			if s.Name != tc.want {
				t.Errorf("service %q, want %q", s.Name, tc.want)
			}
		})
	}
	changes, err := envChanges(p, wire.EnvRequest{Services: []wire.ServiceEnv{
		{Service: "web", Set: map[string]string{"A": "1", "B": "2"}},
		{Service: "web", Unset: []string{"A"}, Set: map[string]string{"C": "3"}},
	}})
	if err != nil || len(changes) != 1 || !maps.Equal(changes[0].Set, map[string]string{"B": "2", "C": "3"}) ||
		strings.Join(changes[0].Unset, ",") != "A" {
		t.Errorf("merged changes %+v (%v)", changes, err)
	}
}
