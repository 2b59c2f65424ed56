package stacks

import (
	"cmp"
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"

	"github.com/devport/devport/internal/stackdef"
)

// Debian packages named in MissingError.
const (
	pkgApache       = "apache2 libapache2-mod-php"
	pkgUvicorn      = "python3-uvicorn"
	pkgGunicornASGI = "python3-uvicorn gunicorn"
	pkgGunicorn     = "gunicorn"
	pkgUWSGI        = "uwsgi uwsgi-plugin-python3"
)

// Check reports whether the prerequisites of stack are installed: apache2
// and mod_php for php; for uvicorn, a Python that can import uvicorn (the
// project's own .venv or venv when dir has one); for gunicorn, one that
// imports gunicorn and uvicorn; for wsgi, one that imports gunicorn; for
// uwsgi, the uwsgi binary with its python3 plugin; for the data stacks,
// the server and the clients devport runs (mariadbd, mariadb-install-db,
// mariadb and mariadb-dump; a PostgreSQL under /usr/lib/postgresql;
// redis-server; mailpit), and setpriv when devport runs as root and the
// server must not (data_process.go). What is missing comes back as a
// *MissingError (possibly wrapped, with a more precise message).
func Check(stack, dir string) error {
	return systemTools().check(stack, dir)
}

// toolchain says where prerequisites are looked for. systemTools is the
// real one; tests point it at empty places to see the "missing" paths.
type toolchain struct {
	path       string   // PATH-style list, searched first
	sbin       []string // searched next for apache2, which is often not on a user's PATH
	modulesDir string   // Apache's modules folder; its parent is Apache's ServerRoot
	pythons    []string // interpreters to try for the Python stacks: absolute paths, or names searched in path
	uwsgis     []string // uwsgi binaries to try, the same way
	bin        []string // searched after path and sbin for the data stacks' programs
	pgRoot     string   // Debian's PostgreSQL versions: pgRoot/N/bin/postgres
}

func systemTools() toolchain {
	return toolchain{
		path:       os.Getenv("PATH"),
		sbin:       []string{"/usr/sbin", "/usr/local/sbin"},
		modulesDir: "/usr/lib/apache2/modules",
		// Debian's interpreter first: python3-uvicorn installs there, and
		// a python3 earlier on PATH (pyenv, Homebrew) usually lacks it.
		pythons: []string{"/usr/bin/python3", "python3", "python"},
		// Debian's uwsgi first: its python3 plugin is a separate package
		// that a pip-installed uwsgi cannot load.
		uwsgis: []string{"/usr/bin/uwsgi", "uwsgi"},
		// go install puts mailpit in /usr/local/bin (install-deps.sh).
		bin:    []string{"/usr/bin", "/usr/local/bin"},
		pgRoot: "/usr/lib/postgresql",
	}
}

func (t toolchain) check(stack, dir string) error {
	switch stack {
	case stackdef.PHP:
		if _, err := t.apache2(); err != nil {
			return err
		}
		_, err := t.phpModule()
		return err
	case stackdef.Uvicorn, stackdef.Gunicorn, stackdef.WSGI:
		need, _ := pythonNeed(stack)
		py, err := t.pythonFor(dir, need)
		if err != nil {
			return err
		}
		if venv, ok := venvOf(dir, py); ok && !imports(py, need.modules...) {
			missing := need.missing
			return &hintError{
				msg: fmt.Sprintf("%s is not installed in the project's virtualenv %s: %s -m pip install %s", need.pip, venv, py, need.pip),
				err: &missing,
			}
		}
		return nil
	case stackdef.UWSGI:
		_, err := t.uwsgi()
		return err
	case stackdef.Static:
		return nil // the proxy serves the folder; nothing to install
	case stackdef.MariaDB, stackdef.MySQL, stackdef.Postgres, stackdef.Redis, stackdef.Mailpit:
		return t.checkData(stackdef.Canonical(stack))
	default:
		return fmt.Errorf("stack %q: %w (use %s)", stack, ErrUnknownStack, stackList)
	}
}

// stackList names the stacks for "use ..." hints.
const stackList = "php, uvicorn, gunicorn, wsgi, uwsgi, mariadb, postgres, redis or mailpit"

// uwsgi finds a uwsgi binary that loads the python3 plugin: the first of
// t.uwsgis for which `uwsgi --need-plugin python3 --version` succeeds
// (about 30 ms).
func (t toolchain) uwsgi() (string, error) {
	found := false
	seen := map[string]bool{}
	for _, c := range t.uwsgis {
		p := c
		if !filepath.IsAbs(c) {
			var ok bool
			if p, ok = lookPath(c, filepath.SplitList(t.path)); !ok {
				continue
			}
		}
		if seen[p] || !isExecutable(p) {
			continue
		}
		seen[p], found = true, true
		if loadsPython3Plugin(p) {
			return p, nil
		}
	}
	if found {
		return "", &MissingError{Binary: "uwsgi's python3 plugin", Package: pkgUWSGI}
	}
	return "", &MissingError{Binary: "uwsgi", Package: pkgUWSGI}
}

// loadsPython3Plugin reports whether the uwsgi binary at path can load the
// python3 plugin.
func loadsPython3Plugin(path string) bool {
	ctx, cancel := context.WithTimeout(context.Background(), importProbeTimeout)
	defer cancel()
	return exec.CommandContext(ctx, path, "--need-plugin", "python3", "--version").Run() == nil
}

// apache2 finds the apache2 binary in PATH, then in the sbin folders.
func (t toolchain) apache2() (string, error) {
	if p, ok := lookPath("apache2", append(filepath.SplitList(t.path), t.sbin...)); ok {
		return p, nil
	}
	return "", &MissingError{Binary: "apache2", Package: pkgApache}
}

// phpModule finds mod_php (libphp*.so) in the modules folder. With several
// PHP versions installed, the highest wins.
func (t toolchain) phpModule() (string, error) {
	mods, _ := filepath.Glob(filepath.Join(t.modulesDir, "libphp*.so"))
	mods = slices.DeleteFunc(mods, func(p string) bool { return !isFile(p) })
	if len(mods) == 0 {
		return "", &MissingError{Binary: "mod_php", Package: pkgApache}
	}
	slices.SortFunc(mods, compareVersioned)
	return mods[len(mods)-1], nil
}

// lookPath finds an executable named name in dirs (empty entries skipped).
func lookPath(name string, dirs []string) (string, bool) {
	for _, d := range dirs {
		if d == "" {
			continue
		}
		if p := filepath.Join(d, name); isExecutable(p) {
			return p, true
		}
	}
	return "", false
}

func isExecutable(p string) bool {
	fi, err := os.Stat(p)
	return err == nil && fi.Mode().IsRegular() && fi.Mode().Perm()&0o111 != 0
}

func isFile(p string) bool {
	fi, err := os.Stat(p)
	return err == nil && fi.Mode().IsRegular()
}

func isDir(p string) bool {
	fi, err := os.Stat(p)
	return err == nil && fi.IsDir()
}

// compareVersioned orders strings so that digit runs compare as numbers:
// libphp8.10.so sorts after libphp8.9.so.
func compareVersioned(a, b string) int {
	for a != "" && b != "" {
		da, db := leadingDigits(a), leadingDigits(b)
		if da != "" && db != "" {
			na, nb := strings.TrimLeft(da, "0"), strings.TrimLeft(db, "0")
			if c := cmp.Or(cmp.Compare(len(na), len(nb)), strings.Compare(na, nb)); c != 0 {
				return c
			}
			a, b = a[len(da):], b[len(db):]
			continue
		}
		if a[0] != b[0] {
			return cmp.Compare(a[0], b[0])
		}
		a, b = a[1:], b[1:]
	}
	return cmp.Compare(len(a), len(b))
}

func leadingDigits(s string) string {
	i := 0
	for i < len(s) && s[i] >= '0' && s[i] <= '9' {
		i++
	}
	return s[:i]
}
