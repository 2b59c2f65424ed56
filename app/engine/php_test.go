package engine

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/devport/devport/app/wire"
	"github.com/devport/devport/internal/stackdef"
	"github.com/devport/devport/stacks"
	"github.com/devport/devport/store"
)

// TestChoosePHPContainer checks the container runtime's choice of a php
// service's image: the image the service names, its version, the setting,
// composer.json's require.php (images present first, then the official
// ones), else the default.
func TestChoosePHPContainer(t *testing.T) {
	ctx := context.Background()
	m := testManager(t)
	composer := func(t *testing.T, constraint string) string {
		dir := t.TempDir()
		if constraint != "" {
			c := `{"require": {"php": "` + constraint + `"}}`
			if err := os.WriteFile(filepath.Join(dir, "composer.json"), []byte(c), 0o644); err != nil {
				t.Fatal(err)
			}
		}
		return dir
	}
	php := store.Service{Name: "web", Stack: stackdef.PHP, Runtime: wire.RuntimeContainer}
	for _, tc := range []struct {
		name       string
		svc        store.Service
		constraint string
		local      []string
		want       string // version from image
		err        string
	}{
		{"default image", php, "", nil, "8.3 default " + stackdef.DefaultPHPImage, ""},
		{"version set", withPHP(php, "7.4"), "^8.0", nil, "7.4 set php:7.4-apache", ""},
		{"image named", withImage(php, "my/php:1"), "^7.4", nil, " image my/php:1", ""},
		{"composer, image present", php, "^7.4", []string{"8.4", "7.4"}, "7.4 composer.json php:7.4-apache", ""},
		{"composer prefers present", php, ">=8.0", []string{"8.4", "7.4"}, "8.4 composer.json php:8.4-apache", ""},
		{"composer, official", php, "~8.1.0", []string{"8.4", "7.4"}, "8.1 composer.json php:8.1-apache", ""},
		{"composer, none", php, "^4.0", []string{"8.4"}, "", "nor an official php:X.Y-apache image"},
		{"composer, malformed", php, "not a version", nil, "", "is not a version constraint"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			c, err := m.choosePHP(ctx, composer(t, tc.constraint), tc.svc, tc.local)
			if tc.err != "" {
				if err == nil || !strings.Contains(err.Error(), tc.err) || strings.Contains(err.Error(), "\n") {
					t.Fatalf("choosePHP = %+v, %v; want one line with %q", c, err, tc.err)
				}
				return
			}
			if got := c.version + " " + c.from + " " + c.image; err != nil || got != tc.want {
				t.Fatalf("choosePHP = %q, %v; want %q", got, err, tc.want)
			}
		})
	}
	t.Run("setting", func(t *testing.T) {
		if err := m.SetSetting(ctx, SettingImagePrefix+"php", "php:8.2-apache"); err != nil {
			t.Fatal(err)
		}
		defer m.UnsetSetting(ctx, SettingImagePrefix+"php")
		c, err := m.choosePHP(ctx, composer(t, "^7.4"), php, []string{"7.4"})
		if err != nil || c.version != "8.2" || c.from != phpFromSetting {
			t.Fatalf("choosePHP with the setting = %+v, %v", c, err)
		}
	})
}

// TestChoosePHPProcess checks the process runtime's choice against the
// versions this host serves: a version that is not there is refused in
// one line that lists the ones that are.
func TestChoosePHPProcess(t *testing.T) {
	ctx := context.Background()
	m := testManager(t)
	have := servedPHP()
	php := store.Service{Name: "web", Stack: stackdef.PHP, Runtime: wire.RuntimeProcess}
	_, err := m.choosePHP(ctx, t.TempDir(), withPHP(php, "5.6"), nil)
	if !errors.Is(err, stacks.ErrNoPHPVersion) || strings.Contains(err.Error(), "\n") || !strings.Contains(err.Error(), "deb.sury.org") {
		t.Fatalf("PHP 5.6: %v", err)
	}
	if len(have) == 0 {
		t.Skip("no mod_php here: the choices among installed versions need one")
	}
	c, err := m.choosePHP(ctx, t.TempDir(), php, nil)
	if err != nil || c.version != have[0] || c.from != phpFromNewest {
		t.Errorf("no setting: %+v, %v; want the newest, %s", c, err, have[0])
	}
	dir := t.TempDir()
	if err := os.WriteFile(filepath.Join(dir, "composer.json"), []byte(`{"require": {"php": "^4.0"}}`), 0o644); err != nil {
		t.Fatal(err)
	}
	if _, err := m.choosePHP(ctx, dir, php, nil); !errors.Is(err, stacks.ErrNoPHPVersion) || !strings.Contains(err.Error(), "(there are: "+have[0]) {
		t.Errorf("composer.json ^4.0: %v", err)
	}
}

func withPHP(s store.Service, v string) store.Service   { s.PHP = v; return s }
func withImage(s store.Service, i string) store.Service { s.Image = i; return s }

// TestDoctorPHPExtensions checks doctor's extension checks of a php
// process on the host's PHP: the list, then composer.json's ext-*
// requirements, a missing one named with the package that adds it.
func TestDoctorPHPExtensions(t *testing.T) {
	have := servedPHP()
	if len(have) == 0 {
		t.Skip("no mod_php here")
	}
	ctx := context.Background()
	m := testManager(t)
	dir := t.TempDir()
	p := store.Project{Name: "shop", Root: dir, Services: []store.Service{{Name: "web", Stack: stackdef.PHP, Runtime: wire.RuntimeProcess}}}
	for _, tc := range []struct {
		name, composer string
		ok             bool
		want           string
	}{
		{"no composer.json", "", true, ""},
		{"present", `{"require": {"ext-pcre": "*", "ext-SPL": "*"}}`, true, "every extension composer.json requires (pcre, spl)"},
		{"missing", `{"require": {"ext-pcre": "*", "ext-nosuchext": "*", "ext-pdo_nosuch": "*"}}`, false, "ext-nosuchext, ext-pdo_nosuch, which PHP " + have[0] + " lacks"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_ = os.Remove(filepath.Join(dir, "composer.json"))
			if tc.composer != "" {
				if err := os.WriteFile(filepath.Join(dir, "composer.json"), []byte(tc.composer), 0o644); err != nil {
					t.Fatal(err)
				}
			}
			cs := m.checkPHPExtensions(ctx, []store.Project{p})
			if len(cs) == 0 || !cs[0].OK || !strings.Contains(cs[0].Detail, "PHP "+have[0]+" (process) has ") || !strings.Contains(cs[0].Detail, "standard") {
				t.Fatalf("first check %+v: want the extensions of PHP %s", cs, have[0])
			}
			if tc.composer == "" {
				if len(cs) != 1 {
					t.Errorf("checks %+v: want only the list", cs)
				}
				return
			}
			if len(cs) != 2 || cs[1].OK != tc.ok || !strings.Contains(cs[1].Detail, tc.want) {
				t.Fatalf("checks %+v: want ok=%v and %q", cs, tc.ok, tc.want)
			}
			if !tc.ok && cs[1].Fix != "sudo apt-get install php"+have[0]+"-nosuchext php"+have[0]+"-pdo_nosuch" {
				t.Errorf("fix %q", cs[1].Fix)
			}
		})
	}
	t.Run("packages", func(t *testing.T) {
		got := phpExtPackages("8.4", []string{"pdo_mysql", "mysqli", "dom", "simplexml", "redis", "zend-opcache", "ctype"})
		want := "php8.4-mysql php8.4-xml php8.4-redis php8.4-opcache php8.4-common"
		if strings.Join(got, " ") != want {
			t.Errorf("phpExtPackages = %v, want %s", got, want)
		}
	})
}

// TestManifestPHP adds projects from devport.toml files with php = "X.Y":
// an installed version is stored and written back, one that is not is
// refused naming the key, and nothing is stored.
func TestManifestPHP(t *testing.T) {
	have := servedPHP()
	if len(have) == 0 {
		t.Skip("no mod_php here")
	}
	ctx := context.Background()
	m := testManager(t)
	toml := func(v string) string { return "[services.web]\nstack = \"php\"\nphp = \"" + v + "\"\n" }
	bad := writeTree(t, map[string]string{"index.php": "<?php", "devport.toml": toml("5.6")})
	_, err := m.Add(ctx, wire.AddRequest{Dir: bad, Name: "bad"})
	if !errors.Is(err, stacks.ErrNoPHPVersion) || !strings.Contains(err.Error(), "services.web: PHP 5.6 is not installed") {
		t.Fatalf("php = 5.6: %v", err)
	}
	if ps, _ := m.db.Projects(ctx); len(ps) != 0 {
		t.Fatalf("a refused devport.toml stored %+v", ps)
	}
	good := writeTree(t, map[string]string{"index.php": "<?php", "devport.toml": toml(have[0])})
	p, err := m.Add(ctx, wire.AddRequest{Dir: good, Name: "good"})
	if err != nil || p.Services[0].PHP != have[0] {
		t.Fatalf("php = %s: %+v, %v", have[0], p, err)
	}
	f, _, err := fileFromProject(p, nil)
	if err != nil || f.Services["web"].PHP != have[0] {
		t.Errorf("written back: %+v, %v", f.Services["web"], err)
	}
	if _, err := m.Add(ctx, wire.AddRequest{Dir: writeTree(t, map[string]string{"index.php": "<?php", "devport.toml": toml("8")}), Name: "worse"}); err == nil ||
		!strings.Contains(err.Error(), `services.web.php: "8" is not a PHP version`) {
		t.Errorf("php = 8: %v", err)
	}
}
