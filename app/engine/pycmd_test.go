package engine

import (
	"context"
	"errors"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/devport/devport/app/wire"
	"github.com/devport/devport/certs"
	"github.com/devport/devport/stacks"
	"github.com/devport/devport/store"
)

// fakeVenvPython makes dir/.venv/bin/python a script that answers stacks'
// import probe and otherwise prints its arguments.
func fakeVenvPython(t *testing.T, dir string) string {
	t.Helper()
	py := filepath.Join(dir, ".venv", "bin", "python")
	if err := os.MkdirAll(filepath.Dir(py), 0o755); err != nil {
		t.Fatal(err)
	}
	script := "#!/bin/sh\ncase \"$2\" in *find_spec*) exit 0;; esac\necho \"$@\"\n"
	if err := os.WriteFile(py, []byte(script), 0o755); err != nil {
		t.Fatal(err)
	}
	return py
}

// pyProject stores a project of services in a new folder holding the
// files, with a redis data service (the first project's on port 16379),
// and returns it.
func pyProject(t *testing.T, m *Manager, name string, services []store.Service, files map[string]string) store.Project {
	t.Helper()
	ctx := context.Background()
	root := writeTree(t, files)
	p, err := m.db.AddProject(ctx, store.Project{Name: name, Root: root, Domains: []string{name + ".test"}, Services: services})
	if err != nil {
		t.Fatal(err)
	}
	ps, err := m.db.Projects(ctx)
	if err != nil {
		t.Fatal(err)
	}
	port := 16378 + len(ps) // one port per data service
	if _, err := m.db.AddDataService(ctx, name, store.DataService{Name: "cache", Stack: "redis", Runtime: wire.RuntimeProcess, Port: port}); err != nil {
		t.Fatal(err)
	}
	if p, err = m.db.Project(ctx, p.Name); err != nil {
		t.Fatal(err)
	}
	return p
}

// TestPythonCommandEnvIsTheServices checks that devport python gets what
// serviceRunner gives the service itself: the same variables in the same
// order (CA bundle, data services, devport.toml's env), and the same
// interpreter.
func TestPythonCommandEnvIsTheServices(t *testing.T) {
	ctx := context.Background()
	m := testManager(t)
	m.processBundle = "/run/devport/ca-bundle.pem"
	p := pyProject(t, m, "shop", []store.Service{{Name: "web", Stack: "uvicorn", App: "main:app", PathPrefix: "/",
		Env: map[string]string{"GREETING": "hi there", "REDIS_URL": "redis://mine:1/0"}}}, map[string]string{"main.py": ""})
	py := fakeVenvPython(t, p.Root)
	var spec stacks.Spec
	m.newRunner = func(s stacks.Spec) (stacks.Runner, error) { spec = s; return nil, nil }
	if _, _, err := m.serviceRunner(ctx, p, p.Services[0], nil); err != nil {
		t.Fatal(err)
	}
	cmd, err := m.PythonCommand(ctx, "shop", wire.PythonRequest{Tool: wire.ToolPython, Args: []string{"-c", "print(1)"}})
	if err != nil {
		t.Fatal(err)
	}
	if want := append([]string{"PYTHONUNBUFFERED=1"}, spec.Env...); !slices.Equal(cmd.Env, want) {
		t.Errorf("env\n%q\nwant the service's\n%q", cmd.Env, want)
	}
	for _, want := range []string{"SSL_CERT_FILE=/run/devport/ca-bundle.pem", "REDIS_URL=redis://127.0.0.1:16379", "GREETING=hi there"} {
		if !slices.Contains(cmd.Env, want) {
			t.Errorf("env lacks %s: %q", want, cmd.Env)
		}
	}
	// The user's REDIS_URL comes last, so it wins.
	if i, j := slices.Index(cmd.Env, "REDIS_URL=redis://127.0.0.1:16379"), slices.Index(cmd.Env, "REDIS_URL=redis://mine:1/0"); i < 0 || j < i {
		t.Errorf("devport.toml's REDIS_URL does not come after devport's: %q", cmd.Env)
	}
	if want := []string{py, "-c", "print(1)"}; !slices.Equal(cmd.Argv, want) || cmd.Dir != p.Root {
		t.Errorf("argv %q in %s, want %q in %s", cmd.Argv, cmd.Dir, want, p.Root)
	}
}

// TestPythonCommand covers the three tools, the choice of the service,
// and the refusals, in the process runtime.
func TestPythonCommand(t *testing.T) {
	ctx := context.Background()
	m := testManager(t)
	django := pyProject(t, m, "mysite", []store.Service{{Name: "web", Stack: "wsgi", App: "mysite.wsgi:application"}},
		map[string]string{"manage.py": "", "mysite/wsgi.py": ""})
	nested := pyProject(t, m, "outer", []store.Service{{Name: "web", Stack: "wsgi", App: "mysite.wsgi:application"}},
		map[string]string{"mysite/manage.py": "", ".venv/manage.py": "", "node_modules/manage.py": ""})
	twice := pyProject(t, m, "twice", []store.Service{{Name: "web", Stack: "wsgi", App: "a.wsgi:application"}},
		map[string]string{"a/manage.py": "", "b/manage.py": ""})
	flask := pyProject(t, m, "blog", []store.Service{{Name: "web", Stack: "wsgi", App: "app:create_app",
		Env: map[string]string{"FLASK_DEBUG": "1"}}}, map[string]string{"app.py": ""})
	noapp := pyProject(t, m, "noapp", []store.Service{{Name: "web", Stack: "static", PathPrefix: "/"},
		{Name: "api", Stack: "wsgi", PathPrefix: "/api"}}, nil)
	split := pyProject(t, m, "split", []store.Service{{Name: "web", Stack: "php", PathPrefix: "/"},
		{Name: "api", Stack: "uvicorn", App: "api.main:app", PathPrefix: "/api"}}, nil)
	two := pyProject(t, m, "two", []store.Service{{Name: "a", Stack: "uvicorn", App: "a:app", PathPrefix: "/"},
		{Name: "b", Stack: "wsgi", App: "b:app", PathPrefix: "/b"}}, nil)
	pyProject(t, m, "php", []store.Service{{Name: "web", Stack: "php"}}, nil)
	for _, p := range []store.Project{django, nested, twice, flask, noapp, split, two} {
		fakeVenvPython(t, p.Root)
	}
	venv := func(p store.Project) string { return filepath.Join(p.Root, ".venv", "bin", "python") }
	tests := []struct {
		name     string
		project  string
		req      wire.PythonRequest
		wantArgv []string // after the interpreter
		wantPy   string   // "" : not checked
		wantEnv  string   // an entry of Env
		wantErr  string   // substring of the error; "" : none
		field    string   // the error's field
	}{
		{"python", "mysite", wire.PythonRequest{Tool: wire.ToolPython, Args: []string{"-c", "import os", "--flag"}},
			[]string{"-c", "import os", "--flag"}, venv(django), "REDIS_URL=redis://127.0.0.1:16379", "", ""},
		{"manage at the top", "mysite", wire.PythonRequest{Tool: wire.ToolManage, Args: []string{"migrate", "--plan"}},
			[]string{"manage.py", "migrate", "--plan"}, venv(django), "", "", ""},
		{"manage a folder below", "outer", wire.PythonRequest{Tool: wire.ToolManage, Args: []string{"check"}},
			[]string{filepath.Join("mysite", "manage.py"), "check"}, "", "", "", ""},
		{"manage twice below", "twice", wire.PythonRequest{Tool: wire.ToolManage}, nil, "", "",
			filepath.Join("a", "manage.py") + ", " + filepath.Join("b", "manage.py"), "manage.py"},
		{"no manage.py", "blog", wire.PythonRequest{Tool: wire.ToolManage}, nil, "", "",
			"no manage.py in " + filepath.Join(flask.Root, "manage.py"), "manage.py"},
		{"flask", "blog", wire.PythonRequest{Tool: wire.ToolFlask, Args: []string{"routes"}},
			[]string{"-m", "flask", "routes"}, venv(flask), "FLASK_APP=app:create_app", "", ""},
		{"flask keeps the service env", "blog", wire.PythonRequest{Tool: wire.ToolFlask}, []string{"-m", "flask"}, "", "FLASK_DEBUG=1", "", ""},
		{"flask without an app", "noapp", wire.PythonRequest{Tool: wire.ToolFlask}, nil, "", "", "names no app", "app"},
		{"the one Python service", "split", wire.PythonRequest{Tool: wire.ToolPython}, []string{}, venv(split), "", "", ""},
		{"several Python services", "two", wire.PythonRequest{Tool: wire.ToolPython}, nil, "", "", "devport python --service a two", "service"},
		{"--service picks one", "two", wire.PythonRequest{Tool: wire.ToolPython, Service: "b"}, []string{}, venv(two), "", "", ""},
		{"--service of another stack", "split", wire.PythonRequest{Tool: wire.ToolPython, Service: "web"}, nil, "", "", "not a Python one", "service"},
		{"--service unknown", "split", wire.PythonRequest{Tool: wire.ToolPython, Service: "nope"}, nil, "", "", "api (uvicorn), web (php)", "service"},
		{"no Python service", "php", wire.PythonRequest{Tool: wire.ToolManage}, nil, "", "", "has no Python service", "service"},
		{"unknown tool", "mysite", wire.PythonRequest{Tool: "ruby"}, nil, "", "", "unknown", "tool"},
		{"unknown project", "nope", wire.PythonRequest{Tool: wire.ToolPython}, nil, "", "", "not found", ""},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			cmd, err := m.PythonCommand(ctx, tc.project, tc.req)
			if tc.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tc.wantErr) {
					t.Fatalf("got %+v, %v; want an error with %q", cmd, err, tc.wantErr)
				}
				if ErrorField(err) != tc.field {
					t.Errorf("error field %q, want %q", ErrorField(err), tc.field)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if len(cmd.Argv) == 0 || !slices.Equal(cmd.Argv[1:], tc.wantArgv) {
				t.Errorf("argv %q, want the interpreter and %q", cmd.Argv, tc.wantArgv)
			}
			if tc.wantPy != "" && cmd.Argv[0] != tc.wantPy {
				t.Errorf("interpreter %s, want %s", cmd.Argv[0], tc.wantPy)
			}
			if tc.wantEnv != "" && !slices.Contains(cmd.Env, tc.wantEnv) {
				t.Errorf("env lacks %s: %q", tc.wantEnv, cmd.Env)
			}
			if p, _ := m.db.Project(ctx, tc.project); cmd.Dir != p.Root {
				t.Errorf("dir %s, want the project folder %s", cmd.Dir, p.Root)
			}
		})
	}
}

// TestServicePython checks the interpreter of each stack against stacks'
// own choice: the virtualenv first, else a Python that imports the
// server; uWSGI's embedded one for uwsgi.
func TestServicePython(t *testing.T) {
	sys, err := stacks.Python(t.TempDir())
	if err != nil {
		t.Skipf("no Python with uvicorn here: %v", err)
	}
	withVenv := t.TempDir()
	venv := fakeVenvPython(t, withVenv)
	tests := []struct {
		name, dir, stack, want string
	}{
		{"uvicorn, no venv: stacks' choice", t.TempDir(), "uvicorn", sys},
		{"uvicorn in a venv", withVenv, "uvicorn", venv},
		{"wsgi in a venv", withVenv, "wsgi", venv},
		{"uwsgi ignores the venv", withVenv, "uwsgi", uwsgiPython},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if tc.want == uwsgiPython && !isExecutable(uwsgiPython) {
				t.Skip("no " + uwsgiPython)
			}
			got, err := servicePython(tc.dir, tc.stack)
			if err != nil || got != tc.want {
				t.Errorf("servicePython(%s) = %q, %v; want %q", tc.stack, got, err, tc.want)
			}
		})
	}
}

// TestContainerExec checks the docker exec of the container runtime: a
// terminal only when the caller has one, FLASK_APP's value kept off the
// command line, and the program's own flags after the script.
func TestContainerExec(t *testing.T) {
	tests := []struct {
		name     string
		args     []string
		env      []string
		tty      bool
		wantHead []string
	}{
		{"piped", []string{"-c", "print(1)"}, nil, false, []string{"docker", "exec", "-i", "c1"}},
		{"terminal", nil, nil, true, []string{"docker", "exec", "-i", "-t", "c1"}},
		{"flask", []string{"-m", "flask", "routes"}, []string{"FLASK_APP=app:app"}, false, []string{"docker", "exec", "-i", "-e", "FLASK_APP", "c1"}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			cmd := containerExec("c1", "web", tc.args, tc.env, tc.tty)
			if !slices.Equal(cmd.Argv[:len(tc.wantHead)], tc.wantHead) {
				t.Errorf("argv %q, want it to start %q", cmd.Argv, tc.wantHead)
			}
			rest := cmd.Argv[len(tc.wantHead):]
			if want := append([]string{"sh", "-c", containerPython, "devport-web"}, tc.args...); !slices.Equal(rest, want) {
				t.Errorf("argv after the container %q, want %q", rest, want)
			}
			if !slices.Equal(cmd.Env, tc.env) || cmd.Dir != "" {
				t.Errorf("env %q dir %q", cmd.Env, cmd.Dir)
			}
			if strings.Contains(strings.Join(cmd.Argv, " "), "app:app") {
				t.Errorf("a value is on the command line: %q", cmd.Argv)
			}
		})
	}
	t.Run("the script is sh", func(t *testing.T) {
		out, err := exec.Command("sh", "-n", "-c", containerPython).CombinedOutput()
		if err != nil {
			t.Fatalf("sh -n: %v\n%s", err, out)
		}
	})
}

// TestPythonCommandContainerNotRunning: a service in a container whose
// project is not running is refused with the command that starts it.
func TestPythonCommandContainerNotRunning(t *testing.T) {
	cli, err := stacks.NewDockerClient()
	if err == nil {
		err = stacks.PingDocker(context.Background(), cli)
		cli.Close()
	}
	if err != nil {
		t.Skipf("no Docker here: %v", err)
	}
	m := testManager(t)
	pyProject(t, m, "boxed", []store.Service{{Name: "web", Stack: "uvicorn", App: "main:app", Runtime: wire.RuntimeContainer}}, nil)
	_, err = m.PythonCommand(context.Background(), "boxed", wire.PythonRequest{Tool: wire.ToolPython})
	if !errors.Is(err, ErrNotRunning) || !strings.Contains(err.Error(), "devport start boxed") {
		t.Fatalf("got %v, want ErrNotRunning naming devport start boxed", err)
	}
}

// TestPythonCommandOverControl asks a running engine's control socket,
// through wire.Client, as the CLI does.
func TestPythonCommandOverControl(t *testing.T) {
	ctx := context.Background()
	m := testManager(t)
	p := pyProject(t, m, "shop", []store.Service{{Name: "web", Stack: "wsgi", App: "app:app"}}, nil)
	py := fakeVenvPython(t, p.Root)
	sock := filepath.Join(t.TempDir(), "control.sock")
	ln, err := net.Listen("unix", sock)
	if err != nil {
		t.Fatal(err)
	}
	srv := &http.Server{Handler: m.controlHandler()}
	go srv.Serve(ln)
	t.Cleanup(func() { srv.Close() })
	cl, err := wire.Dial(ctx, sock)
	if err != nil {
		t.Fatal(err)
	}
	cmd, err := cl.PythonCommand(ctx, "shop", wire.PythonRequest{Tool: wire.ToolFlask, Args: []string{"--help"}})
	if err != nil {
		t.Fatal(err)
	}
	if want := []string{py, "-m", "flask", "--help"}; !slices.Equal(cmd.Argv, want) || cmd.Dir != p.Root {
		t.Errorf("argv %q dir %s, want %q in %s", cmd.Argv, cmd.Dir, want, p.Root)
	}
	bundle := m.processCABundle()
	for _, want := range append(certs.BundleEnv(bundle), "FLASK_APP=app:app", "REDIS_HOST=127.0.0.1") {
		if !slices.Contains(cmd.Env, want) {
			t.Errorf("env lacks %s: %q", want, cmd.Env)
		}
	}
	_, err = cl.PythonCommand(ctx, "shop", wire.PythonRequest{Tool: wire.ToolManage})
	if wire.FieldOf(err) != "manage.py" || !strings.Contains(err.Error(), "no manage.py") {
		t.Errorf("manage without manage.py: %v (field %q)", err, wire.FieldOf(err))
	}
}
