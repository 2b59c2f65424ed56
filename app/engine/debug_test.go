package engine

import (
	"context"
	"errors"
	"net"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/devport/devport/app/wire"
	"github.com/devport/devport/internal/testenv"
	"github.com/devport/devport/stacks"
	"github.com/devport/devport/store"
)

// TestSetDebug: debug on stores the flag and restarts a running project
// under debugpy, which answers a DAP initialize; on again changes nothing;
// off restarts it without, and the port closes. A taken port is refused
// with its address, and nothing is stored.
func TestSetDebug(t *testing.T) {
	ctx := context.Background()
	testenv.Debugpy(t)
	m := testManager(t)
	dir := t.TempDir()
	writeFiles(t, dir, map[string]string{"main.py": "from fastapi import FastAPI\napp = FastAPI()\n\n@app.get('/')\ndef root():\n    return 'hi'\n"})
	testenv.Need(t, "python3-uvicorn", stacks.Check("uvicorn", dir) == nil, testenv.InstallFix)
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	port := l.Addr().(*net.TCPAddr).Port
	old := debugPort
	debugPort = port
	t.Cleanup(func() { debugPort = old })

	var mu sync.Mutex
	var specs []stacks.Spec // every start's, in order
	newRunner := m.newRunner
	m.newRunner = func(s stacks.Spec) (stacks.Runner, error) {
		mu.Lock()
		specs = append(specs, s)
		mu.Unlock()
		return newRunner(s)
	}
	lastSpec := func() (stacks.Spec, int) {
		mu.Lock()
		defer mu.Unlock()
		return specs[len(specs)-1], len(specs)
	}
	if _, err := m.Add(ctx, wire.AddRequest{Dir: dir, Name: "shop", Stack: "uvicorn", App: "main:app"}); err != nil {
		t.Fatal(err)
	}
	serveTest(t, m)
	if err := m.Start(ctx, "shop"); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = m.Stop(context.Background(), "shop") })
	debugOf := func() bool {
		p, err := m.db.Project(ctx, "shop")
		if err != nil {
			t.Fatal(err)
		}
		return p.Services[0].Debug
	}
	addr := net.JoinHostPort("127.0.0.1", strconv.Itoa(port))

	t.Run("port taken", func(t *testing.T) {
		_, err := m.SetDebug(ctx, "shop", "", true)
		if !errors.Is(err, stacks.ErrDebugPortInUse) || !strings.Contains(err.Error(), addr) {
			t.Errorf("SetDebug = %v, want ErrDebugPortInUse naming %s", err, addr)
		}
		if debugOf() {
			t.Error("the flag was stored")
		}
	})
	l.Close()

	t.Run("on", func(t *testing.T) {
		_, before := lastSpec()
		if _, err := m.SetDebug(ctx, "shop", "", true); err != nil {
			t.Fatal(err)
		}
		spec, n := lastSpec()
		if !debugOf() || n != before+1 || !spec.Debug || spec.DebugPort != port {
			t.Fatalf("stored %v, %d starts more, last spec Debug %v port %d", debugOf(), n-before, spec.Debug, spec.DebugPort)
		}
		if err := testenv.DAPInitialize(addr, 10*time.Second); err != nil {
			t.Fatalf("DAP initialize on %s: %v", addr, err)
		}
		if _, err := m.SetDebug(ctx, "shop", "", true); err != nil {
			t.Fatal(err)
		}
		if _, again := lastSpec(); again != n {
			t.Error("debug on when on restarted the project")
		}
	})
	t.Run("off", func(t *testing.T) {
		if _, err := m.SetDebug(ctx, "shop", "", false); err != nil {
			t.Fatal(err)
		}
		if spec, _ := lastSpec(); debugOf() || spec.Debug {
			t.Fatalf("stored %v, last spec Debug %v", debugOf(), spec.Debug)
		}
		if c, err := net.DialTimeout("tcp", addr, time.Second); err == nil {
			c.Close()
			t.Errorf("debugpy still listens on %s", addr)
		}
	})
}

// TestDebugService: which service devport debug picks, and what it
// refuses.
func TestDebugService(t *testing.T) {
	p := store.Project{Name: "shop", Services: []store.Service{
		{Name: "web", Stack: "php"}, {Name: "api", Stack: "uvicorn"}, {Name: "legacy", Stack: "uwsgi", PathPrefix: "/legacy"},
	}}
	for _, tc := range []struct {
		name, service, want, err string
	}{
		{"named", "api", "api", ""},
		{"php", "web", "", "not Python under debugpy"},
		{"uwsgi", "legacy", "", "uWSGI embeds Python"},
		{"unknown", "nope", "", "no such service"},
		{"several", "", "", "several Python services"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			s, err := debugService(p, tc.service)
			if tc.err == "" {
				if err != nil || s.Name != tc.want {
					t.Errorf("debugService = %q, %v; want %q", s.Name, err, tc.want)
				}
				return
			}
			var ve *store.ValidationError
			if !errors.As(err, &ve) || !strings.Contains(err.Error(), tc.err) {
				t.Errorf("debugService = %v, want a validation error with %q", err, tc.err)
			}
		})
	}
}

// TestReloadRulesSkipDebugged: a Python service reloads on save unless
// devport.toml turns it off or it runs under the debugger; other stacks
// never do.
func TestReloadRulesSkipDebugged(t *testing.T) {
	p := store.Project{Services: []store.Service{
		{Name: "api", Stack: "uvicorn"},
		{Name: "dbg", Stack: "gunicorn", Debug: true},
		{Name: "off", Stack: "wsgi", NoReload: true},
		{Name: "web", Stack: "php"},
	}}
	var got []string
	for _, r := range reloadRules(p) {
		got = append(got, r.service)
	}
	if len(got) != 1 || got[0] != "api" {
		t.Fatalf("services that reload: %v, want [api]", got)
	}
}
