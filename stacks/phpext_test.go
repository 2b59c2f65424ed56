package stacks

import (
	"context"
	"os"
	"path/filepath"
	"reflect"
	"testing"
)

func TestParseModules(t *testing.T) {
	out := "[PHP Modules]\nCore\nmbstring\nPDO\npdo_mysql\nZend OPcache\nxdebug\n\n[Zend Modules]\nXdebug\nZend OPcache\n\n"
	want := []string{"core", "mbstring", "opcache", "pdo", "pdo_mysql", "xdebug", "zend-opcache"}
	if got := parseModules([]byte(out)); !reflect.DeepEqual(got, want) {
		t.Errorf("parseModules = %v, want %v", got, want)
	}
}

func TestComposerExtensions(t *testing.T) {
	dir := t.TempDir()
	c := `{"require": {"php": ">=8.1", "ext-mbstring": "*", "EXT-Intl": "*", "ext-pdo_mysql": "*", "symfony/console": "^6"}}`
	if err := os.WriteFile(filepath.Join(dir, "composer.json"), []byte(c), 0o644); err != nil {
		t.Fatal(err)
	}
	got, err := ComposerExtensions(dir)
	if want := []string{"intl", "mbstring", "pdo_mysql"}; err != nil || !reflect.DeepEqual(got, want) {
		t.Errorf("ComposerExtensions = %v, %v; want %v", got, err, want)
	}
	if got, err := ComposerExtensions(t.TempDir()); err != nil || got != nil {
		t.Errorf("no composer.json: %v, %v", got, err)
	}
}

// TestPHPModulesOfHost reads the host PHP's extensions with its own
// command line, as doctor does.
func TestPHPModulesOfHost(t *testing.T) {
	var cli string
	for _, v := range PHPVersions() {
		if v.CLI != "" {
			cli = v.CLI
			break
		}
	}
	if cli == "" {
		t.Skip("no phpX.Y command line here (apt-get install php-cli)")
	}
	mods, err := PHPModules(context.Background(), cli)
	if err != nil {
		t.Fatal(err)
	}
	for _, m := range []string{"core", "standard", "pcre"} {
		if !contains(mods, m) {
			t.Errorf("%s -m lacks %s: %v", cli, m, mods)
		}
	}
}

func contains(s []string, v string) bool {
	for _, x := range s {
		if x == v {
			return true
		}
	}
	return false
}
