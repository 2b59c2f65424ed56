//go:build unix

package stacks

import (
	"errors"
	"os"
	"path/filepath"
	"testing"

	"github.com/devport/devport/internal/stackdef"
	"github.com/devport/devport/internal/testenv"
)

func TestCheckMissing(t *testing.T) {
	t.Setenv("PATH", "")
	dir := t.TempDir()
	emptyModules := filepath.Join(t.TempDir(), "modules")
	if err := os.Mkdir(emptyModules, 0o755); err != nil {
		t.Fatal(err)
	}
	nothing := toolchain{path: os.Getenv("PATH"), modulesDir: emptyModules, pythons: []string{"python3", "python"}}
	tests := []struct {
		name       string
		tools      toolchain
		stack      string
		wantBinary string
		wantMsg    string
	}{
		{name: "no apache2", tools: nothing, stack: stackdef.PHP, wantBinary: "apache2",
			wantMsg: "apache2 is not installed: sudo apt-get install apache2 libapache2-mod-php"},
		{name: "no uvicorn", tools: nothing, stack: stackdef.Uvicorn, wantBinary: "uvicorn",
			wantMsg: "uvicorn is not installed: sudo apt-get install python3-uvicorn (or pip install uvicorn into " + filepath.Join(dir, ".venv") + ")"},
		{name: "no gunicorn for the gunicorn stack", tools: nothing, stack: stackdef.Gunicorn, wantBinary: "gunicorn",
			wantMsg: "gunicorn is not installed: sudo apt-get install python3-uvicorn gunicorn (or pip install gunicorn uvicorn into " + filepath.Join(dir, ".venv") + ")"},
		{name: "no gunicorn for the wsgi stack", tools: nothing, stack: stackdef.WSGI, wantBinary: "gunicorn",
			wantMsg: "gunicorn is not installed: sudo apt-get install gunicorn (or pip install gunicorn into " + filepath.Join(dir, ".venv") + ")"},
		{name: "no uwsgi", tools: nothing, stack: stackdef.UWSGI, wantBinary: "uwsgi",
			wantMsg: "uwsgi is not installed: sudo apt-get install uwsgi uwsgi-plugin-python3"},
		{name: "uwsgi without the python3 plugin", tools: withFakeUWSGI(t, nothing), stack: stackdef.UWSGI, wantBinary: "uwsgi's python3 plugin",
			wantMsg: "uwsgi's python3 plugin is not installed: sudo apt-get install uwsgi uwsgi-plugin-python3"},
	}
	if py, err := systemTools().python(dir); err == nil {
		// An interpreter with uvicorn only stands for one without gunicorn.
		uvicornOnly := nothing
		uvicornOnly.pythons = []string{fakePython(t, filepath.Join(t.TempDir(), "python3"), py, "gunicorn")}
		tests = append(tests, struct {
			name       string
			tools      toolchain
			stack      string
			wantBinary string
			wantMsg    string
		}{name: "uvicorn without gunicorn", tools: uvicornOnly, stack: stackdef.Gunicorn, wantBinary: "gunicorn",
			wantMsg: "gunicorn is not installed: sudo apt-get install python3-uvicorn gunicorn (or pip install gunicorn uvicorn into " + filepath.Join(dir, ".venv") + ")"})
	}
	if _, err := systemTools().apache2(); err == nil {
		apacheOnly := nothing
		apacheOnly.sbin = systemTools().sbin
		tests = append(tests, struct {
			name       string
			tools      toolchain
			stack      string
			wantBinary string
			wantMsg    string
		}{name: "apache2 without mod_php", tools: apacheOnly, stack: stackdef.PHP, wantBinary: "mod_php",
			wantMsg: "mod_php is not installed: sudo apt-get install apache2 libapache2-mod-php"})
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			err := tc.tools.check(tc.stack, dir)
			var me *MissingError
			if !errors.As(err, &me) || me.Binary != tc.wantBinary {
				t.Fatalf("check = %v, want *MissingError for %s", err, tc.wantBinary)
			}
			if err.Error() != tc.wantMsg {
				t.Errorf("message\n%s\nwant\n%s", err, tc.wantMsg)
			}
		})
	}

	t.Run("Check with PATH emptied", func(t *testing.T) {
		// The real Check still finds Debian's absolute paths; what matters is
		// that it answers nil or a *MissingError, never something else.
		for _, stack := range []string{stackdef.PHP, stackdef.Uvicorn, stackdef.Gunicorn, stackdef.WSGI, stackdef.UWSGI} {
			var me *MissingError
			if err := Check(stack, dir); err != nil && !errors.As(err, &me) {
				t.Errorf("Check(%s) = %v, want nil or *MissingError", stack, err)
			}
		}
	})
}

func TestCheckVenvWithoutUvicorn(t *testing.T) {
	dir := t.TempDir()
	// A "python" that imports nothing: a shell script that always fails.
	bin := filepath.Join(dir, ".venv", "bin")
	if err := os.MkdirAll(bin, 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(bin, "python"), []byte("#!/bin/sh\nexit 1\n"), 0o755); err != nil {
		t.Fatal(err)
	}
	err := Check(stackdef.Uvicorn, dir)
	var me *MissingError
	if !errors.As(err, &me) || me.Binary != "uvicorn" {
		t.Fatalf("Check = %v, want *MissingError for uvicorn", err)
	}
	want := "uvicorn is not installed in the project's virtualenv " + filepath.Join(dir, ".venv") + ": " + filepath.Join(bin, "python") + " -m pip install uvicorn"
	if err.Error() != want {
		t.Errorf("message\n%s\nwant\n%s", err, want)
	}
}

func TestCheckPresent(t *testing.T) {
	tests := []struct{ stack string }{{stackdef.PHP}, {stackdef.Uvicorn}, {stackdef.Gunicorn}, {stackdef.WSGI}, {stackdef.UWSGI}}
	for _, tc := range tests {
		t.Run(tc.stack, func(t *testing.T) {
			err := Check(tc.stack, t.TempDir())
			var me *MissingError
			if errors.As(err, &me) {
				testenv.Need(t, "stack "+tc.stack, false, err.Error()+" ("+testenv.InstallFix+")")
			}
			if err != nil {
				t.Fatal(err)
			}
		})
	}
	t.Run("unknown stack", func(t *testing.T) {
		if err := Check("rails", t.TempDir()); !errors.Is(err, ErrUnknownStack) {
			t.Errorf("Check(rails) = %v, want ErrUnknownStack", err)
		}
	})
}

func TestCompareVersioned(t *testing.T) {
	tests := []struct {
		a, b string
		want int
	}{
		{"libphp8.2.so", "libphp8.10.so", -1},
		{"libphp7.4.so", "libphp8.2.so", -1},
		{"libphp8.2.so", "libphp8.2.so", 0},
	}
	for _, tc := range tests {
		t.Run(tc.a+"_"+tc.b, func(t *testing.T) {
			if got := compareVersioned(tc.a, tc.b); got != tc.want {
				t.Errorf("compareVersioned = %d, want %d", got, tc.want)
			}
		})
	}
}

// withFakeUWSGI returns tools whose only uwsgi is a script that loads no
// plugin: `--need-plugin python3` fails.
func withFakeUWSGI(t *testing.T, tools toolchain) toolchain {
	t.Helper()
	p := filepath.Join(t.TempDir(), "uwsgi")
	if err := os.WriteFile(p, []byte("#!/bin/sh\necho 'unable to load plugin \"python3\"' >&2\nexit 1\n"), 0o755); err != nil {
		t.Fatal(err)
	}
	tools.uwsgis = []string{p}
	return tools
}

// fakePython writes at path a wrapper around py that cannot import module:
// it fails the import probe when the probe names module, and runs py for
// everything else.
func fakePython(t *testing.T, path, py, module string) string {
	t.Helper()
	script := "#!/bin/sh\nfor a in \"$@\"; do [ \"$a\" = " + module + " ] && exit 1; done\nexec " + py + " \"$@\"\n"
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(path, []byte(script), 0o755); err != nil {
		t.Fatal(err)
	}
	return path
}

func TestCheckVenvWithoutGunicorn(t *testing.T) {
	requireStack(t, stackdef.Uvicorn)
	sys, err := systemTools().python(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	py := fakePython(t, filepath.Join(dir, ".venv", "bin", "python"), sys, "gunicorn")
	tests := []struct {
		stack, want string
	}{
		{stackdef.Gunicorn, "gunicorn uvicorn is not installed in the project's virtualenv " + filepath.Join(dir, ".venv") + ": " + py + " -m pip install gunicorn uvicorn"},
		{stackdef.WSGI, "gunicorn is not installed in the project's virtualenv " + filepath.Join(dir, ".venv") + ": " + py + " -m pip install gunicorn"},
	}
	for _, tc := range tests {
		t.Run(tc.stack, func(t *testing.T) {
			err := Check(tc.stack, dir)
			var me *MissingError
			if !errors.As(err, &me) || me.Binary != "gunicorn" {
				t.Fatalf("Check = %v, want *MissingError for gunicorn", err)
			}
			if err.Error() != tc.want {
				t.Errorf("message\n%s\nwant\n%s", err, tc.want)
			}
		})
	}
	t.Run("uvicorn is fine in that venv", func(t *testing.T) {
		if err := Check(stackdef.Uvicorn, dir); err != nil {
			t.Errorf("Check(uvicorn) = %v", err)
		}
	})
}
