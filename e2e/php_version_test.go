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

// The stand-ins of the official php images that scripts/build-test-images.sh
// tags under their real names (Debian bullseye's PHP 7.4, trixie's 8.4), so
// that a project's version selects them with no pull.
const (
	php74Image = "php:7.4-apache"
	php84Image = "php:8.4-apache"
)

// phpSite writes a site that prints its PHP_VERSION, with composer.json's
// require.php when constraint is not "" (and ext-* requirements for exts).
func (e *env) phpSite(name, constraint string, exts ...string) string {
	e.t.Helper()
	dir := filepath.Join(e.root, name)
	if err := os.MkdirAll(dir, 0o755); err != nil {
		e.t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, "index.php"), []byte("<?php echo 'php ', PHP_VERSION, \"\\n\";\n"), 0o644); err != nil {
		e.t.Fatal(err)
	}
	if constraint != "" {
		req := fmt.Sprintf(`"php": %q`, constraint)
		for _, x := range exts {
			req += fmt.Sprintf(`, "ext-%s": "*"`, x)
		}
		c := fmt.Sprintf(`{"name": "devport/%s", "require": {%s}}`, name, req)
		if err := os.WriteFile(filepath.Join(dir, "composer.json"), []byte(c), 0o644); err != nil {
			e.t.Fatal(err)
		}
	}
	return dir
}

// TestPHPVersions runs three PHP versions side by side behind one proxy:
// composer.json's "^7.4" selects php:7.4-apache in the container runtime,
// --php 8.4 selects php:8.4-apache, and the host's own PHP (8.2 here) runs
// as a process; each page reports its own PHP_VERSION. The images are the
// local stand-ins, used without a pull. Then set --php switches a running
// project, and the bad versions (malformed, not installed, no image) fail
// in one line each and leave the projects as they were.
func TestPHPVersions(t *testing.T) {
	testenv.Tool(t, "docker")
	testenv.Need(t, "a running Docker engine", exec.Command("docker", "info").Run() == nil, "scripts/start-dockerd.sh starts one")
	for _, img := range []string{php74Image, php84Image} {
		testenv.Need(t, "image "+img, exec.Command("docker", "image", "inspect", img).Run() == nil, "scripts/build-test-images.sh builds it")
	}
	testenv.Need(t, "apache2 and mod_php (the process runtime)", testenv.Have("apache2") || fileExists("/usr/sbin/apache2"), testenv.InstallFix)
	testenv.Tool(t, "curl")

	e := newEnv(t)
	e.dockerLeftovers(t)
	hostPHP := hostPHPVersion(t)
	versions := e.mustRun("php", "versions")
	for _, want := range []string{"  " + hostPHP + "      yes", "/usr/lib/apache2/modules/libphp" + hostPHP + ".so", php84Image, php74Image} {
		if !strings.Contains(versions, want) {
			t.Errorf("php versions lacks %q:\n%s", want, versions)
		}
	}

	old := e.phpSite("old", "^7.4", "mysqli", "intl")
	if out := e.mustRun("add", old, "--runtime", "container"); !strings.Contains(out, "old/web runs PHP 7.4 (composer.json's require.php)") {
		t.Errorf("add with composer.json ^7.4: %q, want php 7.4", out)
	}
	if out := e.mustRun("add", e.phpSite("new", ""), "--runtime", "container", "--php", "8.4"); !strings.Contains(out, "new/web runs PHP 8.4 (set for the project)") {
		t.Errorf("add --php 8.4: %q", out)
	}
	if out := e.mustRun("add", e.phpSite("host", ">=8.0"), "--php", hostPHP); !strings.Contains(out, "added host (php, process)") || !strings.Contains(out, "host/web runs PHP "+hostPHP) {
		t.Errorf("add --php %s: %q", hostPHP, out)
	}
	ls := e.mustRun("ls")
	for _, want := range []string{"php 7.4  container", "php 8.4  container", "php " + hostPHP + "  process"} {
		if !strings.Contains(ls, want) {
			t.Errorf("ls lacks %q:\n%s", want, ls)
		}
	}

	t.Run("doctor", func(t *testing.T) {
		cs, _ := doctorChecks(t, e)
		for _, tc := range []struct{ check, detail, fix string }{
			{"php extensions (old)", "PHP 7.4 (php:7.4-apache) has ", ""},
			{"composer.json ext-* (old)", "composer.json requires ext-intl, which PHP 7.4 lacks", "FROM php:7.4-apache and RUN docker-php-ext-install intl"},
			{"php extensions (new)", "PHP 8.4 (php:8.4-apache) has ", ""},
			{"php extensions (host)", "PHP " + hostPHP + " (process) has ", ""},
		} {
			c, ok := findCheck(cs, tc.check)
			if !ok || !strings.Contains(c.Detail, tc.detail) || !strings.Contains(c.Fix, tc.fix) {
				t.Errorf("doctor %q: %+v (found %v), want detail %q and fix %q", tc.check, c, ok, tc.detail, tc.fix)
			}
		}
		if c, _ := findCheck(cs, "php extensions (old)"); !strings.Contains(c.Detail, "mysqli") {
			t.Errorf("the 7.4 image's extensions lack mysqli: %s", c.Detail)
		}
	})

	httpsPort := freePort(t)
	g := e.serve("--https-port", fmt.Sprint(httpsPort), "--http-port", fmt.Sprint(freePort(t)), "--start", "old,new,host")
	defer func() {
		if err := g.stop(t); err != nil {
			t.Errorf("engine exit: %v\n%s", err, g.output())
		}
	}()
	page := func(host string) string {
		t.Helper()
		return strings.TrimSpace(curl(t, "-k", "--resolve", fmt.Sprintf("%s.test:%d:127.0.0.1", host, httpsPort),
			fmt.Sprintf("https://%s.test:%d/", host, httpsPort)))
	}
	for host, want := range map[string]string{"old": "php 7.4.", "new": "php 8.4.", "host": "php " + hostPHP + "."} {
		if got := page(host); !strings.HasPrefix(got, want) {
			t.Errorf("%s.test says %q, want %s…\n%s", host, got, want, g.output())
		}
	}
	var ps []struct {
		Name     string `json:"name"`
		Services []struct {
			Image   string `json:"image"`
			PHP     string `json:"php"`
			PHPFrom string `json:"php_from"`
		} `json:"services"`
	}
	if err := json.Unmarshal([]byte(e.mustRun("ls", "--json")), &ps); err != nil {
		t.Fatal(err)
	}
	for _, p := range ps {
		s := p.Services[0]
		want := map[string]string{"old": "7.4 composer.json " + php74Image, "new": "8.4 set " + php84Image, "host": hostPHP + " set "}[p.Name]
		if got := s.PHP + " " + s.PHPFrom + " " + s.Image; got != want {
			t.Errorf("ls --json %s: php, php_from, image = %q, want %q", p.Name, got, want)
		}
	}

	t.Run("set switches a running project", func(t *testing.T) {
		if out := e.mustRun("set", "new", "--php", "7.4"); !strings.Contains(out, "new/web runs PHP 7.4 (set for the project)") {
			t.Errorf("set --php 7.4: %q", out)
		}
		if got := page("new"); !strings.HasPrefix(got, "php 7.4.") {
			t.Errorf("new.test says %q after set --php 7.4", got)
		}
	})

	t.Run("bad versions", func(t *testing.T) {
		before := e.mustRun("ls", "--json")
		for _, tc := range []struct {
			name string
			args []string
			want string
		}{
			{"malformed", []string{"set", "old", "--php", "8"}, "use MAJOR.MINOR"},
			{"not installed", []string{"set", "host", "--php", "5.6"}, "PHP 5.6 is not installed for Apache here (" + hostPHP},
			{"no such version", []string{"set", "new", "--php", "9.9"}, "PHP 9.9 has no official image"},
			{"no image, pull fails", []string{"set", "new", "--php", "8.0"}, "php:8.0-apache is not present and the pull failed"},
			{"php of a proxy", []string{"add", "--name", "px", "--proxy", "http://127.0.0.1:9", "--php", "8.2"}, "--php"},
		} {
			t.Run(tc.name, func(t *testing.T) {
				r := e.run(tc.args...)
				msg := strings.TrimSpace(r.stderr)
				t.Logf("%s: %s", strings.Join(tc.args, " "), msg)
				if r.code == 0 || !strings.Contains(msg, tc.want) || strings.Contains(msg, "\n") {
					t.Errorf("exit %d, stderr %q: want one line with %q", r.code, msg, tc.want)
				}
			})
		}
		if after := e.mustRun("ls", "--json"); after != before {
			t.Errorf("a refused version changed the projects:\nbefore %s\nafter %s", before, after)
		}
	})
}

// hostPHPVersion is the newest PHP with a mod_php on this host (8.2 on
// Debian bookworm).
func hostPHPVersion(t *testing.T) string {
	t.Helper()
	mods, _ := filepath.Glob("/usr/lib/apache2/modules/libphp*.so")
	if len(mods) == 0 {
		t.Skipf("no mod_php here (%s)", testenv.InstallFix)
	}
	v := strings.TrimSuffix(strings.TrimPrefix(filepath.Base(mods[len(mods)-1]), "libphp"), ".so")
	return v
}
