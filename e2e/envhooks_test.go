package e2e

import (
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/devport/devport/internal/testenv"
)

// TestSetEnvHooks checks issue 15.1's env and hooks against the real
// binary and a served engine (so through the control socket) with
// Apache and mod_php: devport ls --json shows devport.toml's env and
// before_start; devport set --env restarts the running site, which then
// sees a hostile value whole and nothing of it ran; bad input is refused
// in one line and changes nothing; --before-start waits for the next
// start.
func TestSetEnvHooks(t *testing.T) {
	testenv.Tool(t, "curl")
	testenv.Tool(t, "php")
	e := newEnv(t)
	dir := filepath.Join(e.root, "envhooks")
	if err := os.MkdirAll(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	for name, body := range map[string]string{
		"index.php": "<?php\nheader('Content-Type: text/plain');\necho json_encode([getenv('GREETING'), getenv('HOSTILE'), getenv('LD_PRELOAD')]);\n",
		"devport.toml": "[services.web]\nstack = \"php\"\nenv = { GREETING = \"hello\" }\n\n" +
			"[hooks]\nbefore_start = \"echo v1 > hook.txt\"\n",
	} {
		if err := os.WriteFile(filepath.Join(dir, name), []byte(body), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	e.mustRun("add", dir)
	port := freePort(t)
	g := e.serve("--https-port", fmt.Sprint(port), "--http-port", fmt.Sprint(freePort(t)), "--start", "envhooks")
	defer func() {
		if err := g.stop(t); err != nil {
			t.Errorf("engine: %v\n%s", err, g.output())
		}
	}()
	ca := filepath.Join(e.home, "ca", "root.pem")
	site := func(t *testing.T) []any {
		t.Helper()
		a := httpsGet(t, ca, "envhooks.test", port, "/")
		var got []any
		if a.status != 200 || json.Unmarshal([]byte(a.body), &got) != nil || len(got) != 3 {
			t.Fatalf("GET /: %d %q\nengine:\n%s", a.status, a.body, g.output())
		}
		return got
	}
	hook := func() string {
		b, _ := os.ReadFile(filepath.Join(dir, "hook.txt"))
		return strings.TrimSpace(string(b))
	}
	if got := site(t); got[0] != "hello" || hook() != "v1" {
		t.Fatalf("the site sees %v, the hook wrote %q", got, hook())
	}

	t.Run("ls --json", func(t *testing.T) {
		var ps []struct {
			BeforeStart string `json:"before_start"`
			Services    []struct {
				Env map[string]string `json:"env"`
			} `json:"services"`
		}
		if err := json.Unmarshal([]byte(e.mustRun("ls", "--json")), &ps); err != nil || len(ps) != 1 {
			t.Fatalf("ls --json: %v %+v", err, ps)
		}
		if ps[0].BeforeStart != "echo v1 > hook.txt" || ps[0].Services[0].Env["GREETING"] != "hello" {
			t.Errorf("ls --json shows %+v", ps[0])
		}
	})

	hostile := "a\nLD_PRELOAD=/tmp/evil.so\n$(touch pwned) `touch pwned` '\"; touch pwned #"
	t.Run("set --env", func(t *testing.T) {
		out := e.mustRun("set", "envhooks", "--env", "HOSTILE="+hostile, "--env-unset", "GREETING")
		if !strings.Contains(out, "envhooks/web's environment (running):") || !strings.Contains(out, `HOSTILE="a\nLD_PRELOAD`) {
			t.Errorf("set --env printed %q", out)
		}
		got := site(t)
		if got[0] != false || got[1] != hostile || got[2] != false {
			t.Errorf("after set --env the site sees %q", got)
		}
		if fileExists(filepath.Join(dir, "pwned")) {
			t.Error("a part of the value ran")
		}
	})

	t.Run("bad input", func(t *testing.T) {
		for _, tc := range []struct {
			name string
			args []string
			want string
		}{
			{"name with a space", []string{"set", "envhooks", "--env", "A B=1"}, "environment variable name"},
			{"name with a line break", []string{"set", "envhooks", "--env", "A\nLD_PRELOAD=/tmp/evil.so"}, "environment variable name"},
			{"unset with shell", []string{"set", "envhooks", "--env-unset", "A;touch pwned"}, "environment variable name"},
			{"no such service", []string{"set", "envhooks", "--env", "api:A=1"}, "no such service"},
			{"no =", []string{"set", "envhooks", "--env", "A"}, "[SERVICE:]KEY=VALUE"},
		} {
			t.Run(tc.name, func(t *testing.T) {
				r := e.run(tc.args...)
				msg := strings.TrimSpace(r.stderr)
				if r.code == 0 || !strings.Contains(msg, tc.want) || strings.Contains(msg, "\n") {
					t.Errorf("devport %q: exit %d, stderr %q; want one line naming %q", tc.args, r.code, msg, tc.want)
				}
			})
		}
		if got := site(t); got[1] != hostile {
			t.Errorf("after the refusals the site sees %q", got)
		}
	})

	t.Run("--before-start waits for the next start", func(t *testing.T) {
		out := e.mustRun("set", "envhooks", "--before-start", "echo v2 > hook.txt")
		if !strings.Contains(out, "runs before start: echo v2 > hook.txt") || hook() != "v1" {
			t.Errorf("set --before-start printed %q, the hook wrote %q (want v1 until a start)", out, hook())
		}
		e.mustRun("restart", "envhooks")
		if hook() != "v2" {
			t.Errorf("after a restart the hook wrote %q, want v2", hook())
		}
		e.mustRun("set", "envhooks", "--before-start-unset")
		if err := os.Remove(filepath.Join(dir, "hook.txt")); err != nil {
			t.Fatal(err)
		}
		e.mustRun("restart", "envhooks")
		if hook() != "" {
			t.Errorf("with the hook removed, a restart wrote %q", hook())
		}
	})
}
