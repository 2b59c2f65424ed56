package e2e

import (
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/devport/devport/internal/testenv"
)

// splitPHP answers with what Apache tells PHP about the scheme.
const splitPHP = `<?php
header('Content-Type: text/plain');
echo "php here\n";
echo "https: " . ($_SERVER['HTTPS'] ?? 'off') . "\n";
`

// splitAPI answers with its root_path and the URL it builds for itself.
const splitAPI = `from fastapi import FastAPI, Request

app = FastAPI()


@app.get("/")
def index(request: Request):
    return {"api": "fastapi", "root_path": request.scope.get("root_path"),
            "self": str(request.url_for("index")), "path": request.url.path}
`

func writeFiles(t *testing.T, dir string, files map[string]string) {
	t.Helper()
	for name, body := range files {
		p := filepath.Join(dir, name)
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, []byte(body), 0o644); err != nil {
			t.Fatal(err)
		}
	}
}

// TestManifestSplit adds a PHP folder with a FastAPI app in api/ (the
// split shape, found by detection), serves it over verified HTTPS, and
// checks devport.toml around it: init writes a file that parses and
// matches what export-config writes back, export-config round-trips
// through add, a hook runs (or stops the start with its output), and a
// malformed file leaves the store unchanged.
func TestManifestSplit(t *testing.T) {
	testenv.Need(t, "apache2", testenv.Have("apache2") || fileExists("/usr/sbin/apache2"), testenv.InstallFix)
	testenv.Need(t, "python3-uvicorn and python3-fastapi", haveUvicorn(), testenv.InstallFix)
	testenv.Tool(t, "curl")
	e := newEnv(t)
	dir := filepath.Join(e.root, "split")
	writeFiles(t, dir, map[string]string{"index.php": splitPHP, "api/main.py": splitAPI})

	out := e.mustRun("add", dir)
	for _, want := range []string{"detected (PHP with an API in api/)", "service api: uvicorn at /api, app api.main:app",
		"service web: php at /", "added split (2 services"} {
		if !strings.Contains(out, want) {
			t.Errorf("add printed\n%s\nwithout %q", out, want)
		}
	}

	httpsPort := freePort(t)
	g := e.serve("--start", "split", "--https-port", fmt.Sprint(httpsPort), "--http-port", fmt.Sprint(freePort(t)))
	caPath := strings.TrimSpace(e.mustRun("ca"))
	curl := func(host, path string) string {
		t.Helper()
		url := fmt.Sprintf("https://%s:%d%s", host, httpsPort, path)
		out, err := exec.Command("curl", "-sS", "--fail", "--cacert", caPath,
			"--resolve", fmt.Sprintf("%s:%d:127.0.0.1", host, httpsPort), url).CombinedOutput()
		if err != nil {
			t.Fatalf("curl %s: %v\n%s\nengine:\n%s", url, err, out, g.output())
		}
		return string(out)
	}

	t.Run("/ is PHP over https", func(t *testing.T) {
		if b := curl("split.test", "/"); !strings.Contains(b, "php here") || !strings.Contains(b, "https: on") {
			t.Errorf("body %q", b)
		}
	})
	t.Run("/api/ is FastAPI with root_path /api", func(t *testing.T) {
		var got struct{ API, Root_path, Self, Path string }
		b := curl("split.test", "/api/")
		if err := json.Unmarshal([]byte(b), &got); err != nil {
			t.Fatalf("%v: %s", err, b)
		}
		want := fmt.Sprintf("https://split.test:%d/api/", httpsPort)
		if got.API != "fastapi" || got.Root_path != "/api" || got.Self != want {
			t.Errorf("got %+v, want root_path /api and url_for %s", got, want)
		}
	})

	t.Run("init writes what export-config writes back", func(t *testing.T) {
		out := e.mustRun("init", dir)
		if !strings.Contains(out, "wrote "+filepath.Join(dir, "devport.toml")) {
			t.Errorf("init printed %q", out)
		}
		written, err := os.ReadFile(filepath.Join(dir, "devport.toml"))
		if err != nil {
			t.Fatal(err)
		}
		if r := e.run("init", dir); r.code == 0 || !strings.Contains(r.stderr, "already exists") {
			t.Errorf("second init: exit %d, stderr %q; want a refusal", r.code, r.stderr)
		}
		e.mustRun("init", "--force", dir)
		exported := e.mustRun("export-config", "split", "-o", "-")
		if exported != string(written) {
			t.Errorf("init wrote\n%s\nexport-config wrote\n%s", written, exported)
		}
	})

	t.Run("export-config round-trips through add", func(t *testing.T) {
		e.mustRun("export-config", "split") // into dir/devport.toml
		out := e.mustRun("add", dir, "--name", "copy", "--domain", "copy.test")
		if !strings.Contains(out, "from "+filepath.Join(dir, "devport.toml")) {
			t.Errorf("add did not read the file:\n%s", out)
		}
		orig, cp := project(t, e, "split"), project(t, e, "copy")
		if fmt.Sprint(services(orig)) != fmt.Sprint(services(cp)) {
			t.Errorf("services differ:\n%v\n%v", services(orig), services(cp))
		}
		e.mustRun("rm", "copy")
	})

	t.Run("malformed devport.toml leaves the store unchanged", func(t *testing.T) {
		for _, tc := range []struct{ name, toml, want string }{
			{"syntax error", "name = \"split\"\n[services.web\nstack = \"php\"\n", "devport.toml:2: invalid TOML"},
			{"bad stack", "[services.web]\nstack = \"php\"\n\n[services.api]\nstack = \"rails\"\n",
				`devport.toml:5: services.api.stack: "rails" is not a stack; use php, uvicorn, gunicorn, wsgi, uwsgi, static, mariadb, postgres, redis or mailpit`},
			{"unknown key", "[services.web]\nstack = \"php\"\ndocrot = \"x\"\n", `devport.toml:3: services.web.docrot: unknown key; did you mean "docroot"?`},
		} {
			t.Run(tc.name, func(t *testing.T) {
				writeFiles(t, dir, map[string]string{"devport.toml": tc.toml})
				before := e.mustRun("ls", "--json")
				for _, args := range [][]string{{"add", dir}, {"add", dir, "--name", "other"}} {
					r := e.run(args...)
					if r.code == 0 || !strings.Contains(r.stderr, filepath.Join(dir, tc.want)) {
						t.Errorf("devport %s: exit %d, stderr %q; want %q", strings.Join(args, " "), r.code, r.stderr, tc.want)
					}
				}
				if after := e.mustRun("ls", "--json"); after != before {
					t.Errorf("store changed:\n%s\n%s", before, after)
				}
			})
		}
	})

	t.Run("before_start hook", func(t *testing.T) {
		hooked := filepath.Join(e.root, "hooked")
		writeFiles(t, hooked, map[string]string{"index.php": splitPHP, "devport.toml": "[services.web]\nstack = \"php\"\n" +
			"[hooks]\nbefore_start = \"echo hook-output; pwd > hook-ran.txt\"\n"})
		e.mustRun("add", hooked)
		e.mustRun("start", "hooked")
		if b, err := os.ReadFile(filepath.Join(hooked, "hook-ran.txt")); err != nil || strings.TrimSpace(string(b)) != hooked {
			t.Errorf("hook did not run in the folder: %q %v", b, err)
		}
		if logs := e.mustRun("logs", "hooked", "-n", "50"); !strings.Contains(logs, "hook-output") {
			t.Errorf("hook output not in the service log:\n%s", logs)
		}
		e.mustRun("stop", "hooked")
		e.mustRun("rm", "hooked")
		writeFiles(t, hooked, map[string]string{"devport.toml": "[services.web]\nstack = \"php\"\n" +
			"[hooks]\nbefore_start = \"echo cannot-install >&2; exit 3\"\n"})
		e.mustRun("add", hooked)
		r := e.run("start", "hooked")
		if r.code == 0 || !strings.Contains(r.stderr, "cannot-install") || !strings.Contains(r.stderr, "exit status 3") {
			t.Errorf("start with a failing hook: exit %d, stderr %q", r.code, r.stderr)
		}
		if b := e.mustRun("ls"); !strings.Contains(b, "failed: start hooked: hooks.before_start") {
			t.Errorf("project not failed, with the hook's error, after a failed hook:\n%s", b)
		}
	})

	e.mustRun("stop", "split")
	if err := g.stop(t); err != nil {
		t.Errorf("engine exit: %v\n%s", err, g.output())
	}
}

type lsProject struct {
	Name     string
	Services []struct {
		Name, Stack, Runtime, App, Path_prefix, Doc_root string
	}
}

func project(t *testing.T, e *env, name string) lsProject {
	t.Helper()
	var ps []lsProject
	if err := json.Unmarshal([]byte(e.mustRun("ls", "--json")), &ps); err != nil {
		t.Fatal(err)
	}
	for _, p := range ps {
		if p.Name == name {
			return p
		}
	}
	t.Fatalf("no project %s", name)
	return lsProject{}
}

func services(p lsProject) []string {
	var out []string
	for _, s := range p.Services {
		out = append(out, strings.Join([]string{s.Name, s.Stack, s.Runtime, s.App, s.Path_prefix, s.Doc_root}, " "))
	}
	return out
}
