package testenv

import (
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"regexp"
	"runtime"
	"slices"
	"strings"
	"testing"
)

// repoRoot is the module root, two levels above this package.
func repoRoot(t *testing.T) string {
	t.Helper()
	root, err := filepath.Abs(filepath.Join("..", ".."))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(filepath.Join(root, "go.mod")); err != nil {
		t.Skipf("not inside the devport module: %v", err)
	}
	return root
}

// installSet reads the packages of one or more arrays of
// scripts/install-deps.sh ("run_pkgs", "test_pkgs").
func installSet(t *testing.T, root string, arrays ...string) []string {
	t.Helper()
	b, err := os.ReadFile(filepath.Join(root, "scripts", "install-deps.sh"))
	if err != nil {
		t.Fatal(err)
	}
	var pkgs []string
	for _, name := range arrays {
		re := regexp.MustCompile(`(?s)\n` + name + `=\((.*?)\n\)`)
		m := re.FindSubmatch(b)
		if m == nil {
			t.Fatalf("install-deps.sh has no array %s", name)
		}
		for _, line := range strings.Split(string(m[1]), "\n") {
			line, _, _ = strings.Cut(line, "#")
			pkgs = append(pkgs, strings.Fields(line)...)
		}
	}
	return pkgs
}

// TestToolsInstalled holds every program the tests run to the packages
// `make test` installs: each entry of Tools names a package of the run or
// test set of scripts/install-deps.sh, and every program a test file runs
// by name is in Tools. So CI on a fresh machine installs everything that
// DEVPORT_REQUIRE_ALL=1 then demands (nginx was once missing: the tests
// passed only where someone had installed it by hand).
func TestToolsInstalled(t *testing.T) {
	root := repoRoot(t)
	set := installSet(t, root, "run_pkgs", "test_pkgs")
	t.Run("packages in the test set", func(t *testing.T) {
		for tool, pkg := range Tools {
			if pkg != "" && !slices.Contains(set, pkg) {
				t.Errorf("tests run %s from package %s, which scripts/install-deps.sh test does not install: add it to test_pkgs", tool, pkg)
			}
		}
	})
	t.Run("programs in Tools", func(t *testing.T) {
		// The ways a test names a program it runs.
		re := regexp.MustCompile(`(?:exec\.Command\(|exec\.CommandContext\([^,]+, |exec\.LookPath\(|testenv\.Tool\(t, |testenv\.Have\(|testenv\.Look\()"([^"/ ]+)"`)
		seen := map[string]string{}
		err := filepath.WalkDir(root, func(path string, d fs.DirEntry, err error) error {
			if err != nil {
				return err
			}
			if d.IsDir() && (strings.HasPrefix(d.Name(), ".") || d.Name() == "testdata") && path != root {
				return filepath.SkipDir
			}
			if d.IsDir() || !strings.HasSuffix(path, "_test.go") {
				return nil
			}
			b, err := os.ReadFile(path)
			if err != nil {
				return err
			}
			for _, m := range re.FindAllSubmatch(b, -1) {
				seen[string(m[1])] = path
			}
			return nil
		})
		if err != nil {
			t.Fatal(err)
		}
		if len(seen) == 0 {
			t.Fatal("found no program run by any test: the pattern no longer matches how tests run programs")
		}
		for tool, path := range seen {
			if _, ok := Tools[tool]; !ok {
				rel, _ := filepath.Rel(root, path)
				t.Errorf("%s runs %s, which testenv.Tools does not list: add it with its Debian package (and the package to install-deps.sh's test set)", rel, tool)
			}
		}
	})
}

func TestNeed(t *testing.T) {
	tests := []struct {
		name       string
		ok         bool
		requireAll string
		want       string // "pass", "skip" or "fail"
	}{
		{"present", true, "1", "pass"},
		{"missing", false, "", "skip"},
		{"missing under REQUIRE_ALL", false, "1", "fail"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Setenv("DEVPORT_REQUIRE_ALL", tc.requireAll)
			rec := &recorder{TB: t}
			done := make(chan struct{})
			go func() { // Skip and Fatal end the goroutine, as in a real test
				defer close(done)
				Need(rec, "thing", tc.ok, "install it")
			}()
			<-done
			got := "pass"
			switch {
			case rec.failed:
				got = "fail"
			case rec.skipped:
				got = "skip"
			}
			if got != tc.want {
				t.Errorf("Need(ok=%v, DEVPORT_REQUIRE_ALL=%q) did %s, want %s", tc.ok, tc.requireAll, got, tc.want)
			}
			if got != "pass" && !strings.Contains(rec.msg, "install it") {
				t.Errorf("message %q does not carry the fix", rec.msg)
			}
		})
	}
}

// recorder is a testing.TB whose Skip and Fatal are recorded and end the
// calling goroutine, without touching the real test.
type recorder struct {
	testing.TB
	failed, skipped bool
	msg             string
}

func (r *recorder) Helper() {}
func (r *recorder) Fatalf(format string, args ...any) {
	r.failed, r.msg = true, sprintf(format, args...)
	runtimeGoexit()
}
func (r *recorder) Skipf(format string, args ...any) {
	r.skipped, r.msg = true, sprintf(format, args...)
	runtimeGoexit()
}

func sprintf(format string, args ...any) string { return fmt.Sprintf(format, args...) }
func runtimeGoexit()                            { runtime.Goexit() }
