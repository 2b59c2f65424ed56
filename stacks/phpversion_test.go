//go:build unix

package stacks

import (
	"cmp"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/devport/devport/internal/stackdef"
)

func TestNewestSatisfying(t *testing.T) {
	have := []string{"7.4", "8.4", "8.2", "8.1"}
	cases := []struct {
		name, constraint, want, err string
	}{
		{"caret", "^7.4", "7.4", ""},
		{"caret 8", "^8.0", "8.4", ""},
		{"or", "^7.4 || ~8.1.0", "8.1", ""},
		{"composer single bar", "^7.2|^8.1.0", "8.4", ""},
		{"and with comma", ">=8.0,<8.3", "8.2", ""},
		{"and with space", ">=8.0 <8.2", "8.1", ""},
		{"patch floor", ">=8.2.10", "8.4", ""},
		{"patch ceiling", "<8.1.5", "8.1", ""},
		{"wildcard", "8.2.*", "8.2", ""},
		{"stability flag", "^8.1@dev", "8.4", ""},
		{"none", "^9.0", "", "no version here satisfies (there are: 8.4, 8.2, 8.1, 7.4)"},
		{"malformed", "banana", "", "is not a version constraint"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			got, err := NewestSatisfying(tc.constraint, have)
			if tc.err != "" {
				if err == nil || !strings.Contains(err.Error(), tc.err) {
					t.Fatalf("NewestSatisfying(%q) = %q, %v; want an error with %q", tc.constraint, got, err, tc.err)
				}
				return
			}
			if err != nil || got != tc.want {
				t.Fatalf("NewestSatisfying(%q) = %q, %v; want %q", tc.constraint, got, err, tc.want)
			}
		})
	}
	if _, err := NewestSatisfying("^9", nil); !errors.Is(err, ErrNoPHPVersion) {
		t.Errorf("no versions: %v, want ErrNoPHPVersion", err)
	}
}

func TestComposerPHP(t *testing.T) {
	cases := []struct {
		name, file, want string
		bad              bool
	}{
		{"no file", "", "", false},
		{"constraint", `{"require": {"php": "^7.4", "ext-mbstring": "*"}}`, "^7.4", false},
		{"no php", `{"require": {"monolog/monolog": "^3"}}`, "", false},
		{"broken json", `{"require": `, "", true},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			dir := t.TempDir()
			if tc.file != "" {
				if err := os.WriteFile(filepath.Join(dir, "composer.json"), []byte(tc.file), 0o644); err != nil {
					t.Fatal(err)
				}
			}
			got, err := ComposerPHP(dir)
			if (err != nil) != tc.bad || got != tc.want {
				t.Fatalf("ComposerPHP = %q, %v; want %q (error: %v)", got, err, tc.want, tc.bad)
			}
		})
	}
}

func TestPHPOfImage(t *testing.T) {
	for ref, want := range map[string]string{
		"php:8.3-apache":                   "8.3",
		"php:7.4.33-apache-bullseye":       "7.4",
		"docker.io/library/php:8.4-apache": "8.4",
		"php:8.3-fpm":                      "",
		"devport-test/php-apache:bookworm": "",
		"registry.example/php:8.3-apache":  "",
		"php":                              "",
	} {
		t.Run(ref, func(t *testing.T) {
			if got := PHPOfImage(ref); got != want {
				t.Errorf("PHPOfImage(%q) = %q, want %q", ref, got, want)
			}
		})
	}
}

// TestPHPVersionsSideBySide lays out the files Ondřej Surý's packages
// install for three versions and reads them back.
func TestPHPVersionsSideBySide(t *testing.T) {
	root := t.TempDir()
	bin, sbin, mods := filepath.Join(root, "bin"), filepath.Join(root, "sbin"), filepath.Join(root, "modules")
	for _, f := range []struct {
		path string
		mode os.FileMode
	}{
		{filepath.Join(bin, "php8.2"), 0o755}, {filepath.Join(bin, "php7.4"), 0o755}, {filepath.Join(bin, "php8.10"), 0o755},
		{filepath.Join(bin, "php"), 0o755}, {filepath.Join(bin, "php8.3"), 0o644}, // not executable: not a CLI
		{filepath.Join(mods, "libphp8.2.so"), 0o644}, {filepath.Join(mods, "libphp7.4.so"), 0o644},
		{filepath.Join(sbin, "php-fpm8.10"), 0o755},
	} {
		if err := os.MkdirAll(filepath.Dir(f.path), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(f.path, nil, f.mode); err != nil {
			t.Fatal(err)
		}
	}
	tc := toolchain{path: bin, sbin: []string{sbin}, modulesDir: mods}
	got := tc.phpVersions()
	var vs []string
	for _, v := range got {
		vs = append(vs, v.Version)
	}
	if strings.Join(vs, " ") != "8.10 8.2 7.4" {
		t.Fatalf("versions %v, want 8.10 8.2 7.4", vs)
	}
	if got[0].Serves() || got[0].FPM == "" || !got[1].Serves() || got[1].CLI == "" {
		t.Errorf("versions %+v: 8.10 has only php-fpm and a CLI, 8.2 serves", got)
	}
	t.Run("module of a version", func(t *testing.T) {
		m, err := tc.phpModuleFor("7.4")
		if err != nil || filepath.Base(m) != "libphp7.4.so" {
			t.Fatalf("phpModuleFor(7.4) = %q, %v", m, err)
		}
		if m, err := tc.phpModuleFor(""); err != nil || filepath.Base(m) != "libphp8.2.so" {
			t.Fatalf("phpModuleFor(\"\") = %q, %v; want the newest", m, err)
		}
	})
	t.Run("not installed", func(t *testing.T) {
		_, err := tc.phpModuleFor("8.10")
		if !errors.Is(err, ErrNoPHPVersion) || !strings.Contains(err.Error(), "(8.2, 7.4 are)") ||
			!strings.Contains(err.Error(), "libapache2-mod-php8.10") || strings.Contains(err.Error(), "\n") {
			t.Fatalf("phpModuleFor(8.10): %v", err)
		}
	})
}

// TestApachePHPVersion has a project's private Apache load the mod_php of
// the version its Spec names: in a laid-out modules folder (7.4's module
// is php7_module), and for real with the host's version, whose page
// reports it.
func TestApachePHPVersion(t *testing.T) {
	requireStack(t, stackdef.PHP)
	mods := t.TempDir()
	for _, f := range []string{"libphp7.4.so", "libphp8.4.so"} {
		if err := os.WriteFile(filepath.Join(mods, f), nil, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	spec := testSpec(t, stackdef.PHP, map[string]string{"index.php": "<?php echo PHP_MAJOR_VERSION, '.', PHP_MINOR_VERSION;"})
	for _, tc := range []struct{ version, module, name string }{
		{"7.4", "libphp7.4.so", "php7_module"},
		{"8.4", "libphp8.4.so", "php_module"},
		{"", "libphp8.4.so", "php_module"},
	} {
		t.Run("config "+cmp.Or(tc.version, "newest"), func(t *testing.T) {
			s := spec
			s.PHP = tc.version
			a := newApache(s, toolchain{modulesDir: mods})
			cfg, err := a.config()
			if err != nil {
				t.Fatal(err)
			}
			if filepath.Base(cfg.PHPModule) != tc.module || cfg.PHPModuleName != tc.name {
				t.Errorf("LoadModule %s %s, want %s %s", cfg.PHPModuleName, cfg.PHPModule, tc.name, tc.module)
			}
		})
	}
	t.Run("not installed", func(t *testing.T) {
		s := spec
		s.PHP = "8.2"
		_, err := newApache(s, toolchain{modulesDir: mods}).config()
		if !errors.Is(err, ErrNoPHPVersion) || !strings.Contains(err.Error(), "(8.4, 7.4 are)") {
			t.Errorf("config with 8.2 missing: %v", err)
		}
	})
	t.Run("host version serves", func(t *testing.T) {
		var host string
		for _, v := range PHPVersions() {
			if v.Serves() {
				host = v.Version
				break
			}
		}
		s := spec
		s.PHP = host
		up := startRunner(t, mustRunner(t, s))
		if _, body := get(t, up, "/", nil); body != host {
			t.Errorf("PHP %s's page says %q", host, body)
		}
	})
}
