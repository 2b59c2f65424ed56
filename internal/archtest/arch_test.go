package archtest

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"sort"
	"strings"
	"testing"
	"time"
)

const mod = "github.com/devport/devport"

// allowed is, for every package of the module (by its path below the
// module; "." is main), what it may import besides the standard library:
// the module's packages by their short path, other modules' packages by a
// path prefix. It is the table of docs/architecture.md ("Packages and what
// they may import"), which TestDocMirrorsTable keeps equal to it.
var allowed = map[string][]string{
	".":                     {"app/cli", "app/desktop", "app/desktop/quietinit", "proxy/xconnect"},
	"app/wire":              {},
	"app/engine":            {"app/wire", "store", "certs", "stacks", "proxy", "resolve", "manifest", "export", "assets", "internal/shellquote", "internal/stackdef", "github.com/distribution/reference", "github.com/fsnotify/fsnotify", "golang.org/x/sys/unix"},
	"app/cli":               {"app/wire", "app/engine", "internal/stackdef"},
	"app/gui":               {"app/wire", "internal/stackdef", "fyne.io/fyne/v2", "github.com/fsnotify/fsnotify"},
	"app/desktop":           {"app/cli", "app/engine", "app/gui", "app/wire", "assets", "fyne.io/fyne/v2", "github.com/godbus/dbus/v5"},
	"app/desktop/quietinit": {},
	"store":                 {"internal/pathprefix", "internal/stackdef", "internal/valuerule", "github.com/mattn/go-sqlite3"},
	"certs":                 {"github.com/smallstep/truststore", "github.com/hashicorp/golang-lru/v2"},
	"proxy":                 {"golang.org/x/net"},
	"proxy/xconnect":        {},
	"stacks":                {"assets", "internal/shellquote", "internal/stackdef", "github.com/docker/docker", "github.com/docker/go-connections", "github.com/containerd/errdefs", "golang.org/x/sys/unix", "github.com/Masterminds/semver/v3"},
	"resolve":               {"golang.org/x/net/dns/dnsmessage"},
	"manifest":              {"internal/pathprefix", "internal/stackdef", "internal/valuerule", "github.com/BurntSushi/toml"},
	"export":                {"assets", "internal/shellquote", "internal/stackdef"},
	"assets":                {},
	"internal/stackdef":     {},
	"internal/pathprefix":   {},
	"internal/valuerule":    {},
	"internal/shellquote":   {},
	"internal/testenv":      {},
	"internal/testregistry": {},
	"internal/archtest":     {},
	"bench/devport-proxy":   {"proxy"},
	"bench/fynefloor":       {"fyne.io/fyne/v2"},
	"e2e":                   {},
}

// noGL are the windowing libraries: only main and app/desktop may load
// them, even indirectly, so that CLI commands and unit tests never link
// GL, GLFW, the tray or DBus; and bench/fynefloor, the bare window that
// make bench-gui measures devport's window against.
var noGL = []string{"fyne.io/fyne/v2/app", "fyne.io/fyne/v2/internal/driver/glfw", "fyne.io/systray", "github.com/go-gl/", "github.com/godbus/"}

type pkg struct {
	ImportPath string
	Imports    []string
	Deps       []string
	Standard   bool
}

// listPackages runs go list on the module, for the build of this machine
// (the platform files of other systems are vetted by make vet).
func listPackages(t *testing.T) []pkg {
	t.Helper()
	root, err := filepath.Abs(filepath.Join("..", ".."))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(filepath.Join(root, "go.mod")); err != nil {
		t.Skipf("not inside the devport module: %v", err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, "go", "list", "-json=ImportPath,Imports,Deps,Standard", "./...")
	cmd.Dir = root
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("go list: %v", err)
	}
	var ps []pkg
	dec := json.NewDecoder(strings.NewReader(string(out)))
	for dec.More() {
		var p pkg
		if err := dec.Decode(&p); err != nil {
			t.Fatal(err)
		}
		ps = append(ps, p)
	}
	return ps
}

func short(path string) string {
	if path == mod {
		return "."
	}
	return strings.TrimPrefix(path, mod+"/")
}

func isStd(path string) bool {
	first, _, _ := strings.Cut(path, "/")
	return !strings.Contains(first, ".")
}

// permits reports whether a package whose allow-list is allow may import
// path.
func permits(allow []string, path string) bool {
	if strings.HasPrefix(path, mod+"/") || path == mod {
		return slices.Contains(allow, short(path))
	}
	for _, a := range allow {
		if path == a || strings.HasPrefix(path, a+"/") {
			return true
		}
	}
	return false
}

// TestImportsAllowed fails for every import the table does not allow, and
// for every package the table does not list, naming the row to change.
func TestImportsAllowed(t *testing.T) {
	for _, p := range listPackages(t) {
		name := short(p.ImportPath)
		t.Run(name, func(t *testing.T) {
			allow, ok := allowed[name]
			if !ok {
				t.Fatalf("package %s has no row in the allow-list: add one to internal/archtest and to the table in docs/architecture.md", name)
			}
			for _, imp := range p.Imports {
				if isStd(imp) || permits(allow, imp) {
					continue
				}
				t.Errorf("%s imports %s, which the architecture does not allow: change the row of %s in docs/architecture.md and internal/archtest (now: %s), or move the code", name, imp, name, strings.Join(allow, ", "))
			}
			if name == "." || name == "app/desktop" || name == "bench/fynefloor" {
				return
			}
			for _, d := range p.Deps {
				for _, gl := range noGL {
					if strings.HasPrefix(d, gl) {
						t.Errorf("%s depends on %s (through its imports): only main and app/desktop may load the windowing libraries", name, d)
					}
				}
			}
		})
	}
}

// TestDocMirrorsTable keeps the table of docs/architecture.md equal to
// allowed: one row a package, its "may import" column naming in backticks
// exactly what allowed lists ("standard library only" for none).
func TestDocMirrorsTable(t *testing.T) {
	b, err := os.ReadFile(filepath.Join("..", "..", "docs", "architecture.md"))
	if err != nil {
		t.Fatal(err)
	}
	rows := map[string][]string{}
	row := regexp.MustCompile("(?m)^\\| `([^`]+)` \\|[^|]*\\| ([^|]*) \\|$")
	tick := regexp.MustCompile("`([^`]+)`")
	for _, m := range row.FindAllStringSubmatch(string(b), -1) {
		var imports []string
		for _, i := range tick.FindAllStringSubmatch(m[2], -1) {
			imports = append(imports, i[1])
		}
		rows[m[1]] = imports
	}
	if len(rows) == 0 {
		t.Fatal("docs/architecture.md has no package table rows (| `pkg` | owns | may import |)")
	}
	for name, allow := range allowed {
		doc, ok := rows[name]
		if !ok {
			t.Errorf("docs/architecture.md has no row for %s: add | `%s` | … | %s |", name, name, ticked(allow))
			continue
		}
		want, got := slices.Clone(allow), slices.Clone(doc)
		sort.Strings(want)
		sort.Strings(got)
		if !slices.Equal(want, got) {
			t.Errorf("docs/architecture.md: %s may import %v, internal/archtest says %v: make them equal", name, got, want)
		}
	}
	for name := range rows {
		if _, ok := allowed[name]; !ok {
			t.Errorf("docs/architecture.md has a row for %s, which internal/archtest does not list", name)
		}
	}
}

func ticked(ss []string) string {
	if len(ss) == 0 {
		return "standard library only"
	}
	var out []string
	for _, s := range ss {
		out = append(out, fmt.Sprintf("`%s`", s))
	}
	return strings.Join(out, ", ")
}
