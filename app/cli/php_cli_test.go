package cli

import (
	"bytes"
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/devport/devport/app/engine"
	"github.com/devport/devport/internal/testenv"
)

// TestPHPCommands drives devport php versions, add --php and set --php
// in-process on a throwaway data folder: refused versions leave the
// project as it was, --runtime with a refused --php switches nothing, and
// auto hands the choice back to devport.
func TestPHPCommands(t *testing.T) {
	var host string
	for _, v := range engine.PHPVersions() {
		if v.Serves() {
			host = v.Version
			break
		}
	}
	if host == "" {
		t.Skip("no mod_php here (" + testenv.InstallFix + ")")
	}
	home, proj := t.TempDir(), t.TempDir()
	if err := os.WriteFile(filepath.Join(proj, "index.php"), []byte("<?php echo PHP_VERSION;"), 0o644); err != nil {
		t.Fatal(err)
	}
	var out bytes.Buffer
	c := homeCLI(home, &out)
	ctx := context.Background()
	do := func(args ...string) error {
		out.Reset()
		return c.Run(ctx, args)
	}
	ls := func() string {
		t.Helper()
		if err := do("ls", "--json"); err != nil {
			t.Fatal(err)
		}
		return out.String()
	}
	if err := do("add", proj, "--name", "shop", "--php", "5.6"); err == nil || !strings.Contains(err.Error(), "PHP 5.6 is not installed") {
		t.Fatalf("add --php 5.6: %v", err)
	}
	if err := do("add", proj, "--name", "shop", "--php", host); err != nil || !strings.Contains(out.String(), "added shop (php, process)") || !strings.Contains(out.String(), "shop/web runs PHP "+host+" (set for the project)") {
		t.Fatalf("add --php %s: %v\n%s", host, err, out.String())
	}
	steps := []struct {
		name    string
		args    []string
		wantErr string // "" for success
		wantOut string
	}{
		{"versions", []string{"php", "versions"}, "", "  " + host + "      yes"},
		{"versions json", []string{"php", "versions", "--json"}, "", `"version": "` + host + `"`},
		{"neither a project nor versions", []string{"php"}, "devport php versions", ""},
		{"nothing to set", []string{"set", "shop"}, "--php X.Y", ""},
		{"image without runtime", []string{"set", "shop", "--php", host, "--image", "php:8.4-apache"}, "--image goes with --runtime container", ""},
		{"malformed", []string{"set", "shop", "--php", "8"}, "is not a PHP version", ""},
		{"not installed", []string{"set", "shop", "--php", "5.6"}, "PHP 5.6 is not installed for Apache here (" + host, ""},
		{"auto", []string{"set", "shop", "--php", "auto"}, "", "shop/web runs PHP " + host + " (the newest installed)"},
		{"again", []string{"set", "shop", "--php", host}, "", "shop/web runs PHP " + host + " (set for the project)"},
		{"ls", []string{"ls"}, "", "php " + host + "  process"},
	}
	for _, st := range steps {
		t.Run(st.name, func(t *testing.T) {
			before := ls()
			err := do(st.args...)
			switch {
			case st.wantErr == "" && err != nil:
				t.Fatalf("%v: %v\n%s", st.args, err, out.String())
			case st.wantErr != "" && (err == nil || !strings.Contains(err.Error(), st.wantErr)):
				t.Fatalf("%v: err = %v, want %q", st.args, err, st.wantErr)
			}
			if !strings.Contains(out.String(), st.wantOut) {
				t.Errorf("%v printed %q, want %q", st.args, out.String(), st.wantOut)
			}
			if st.wantErr != "" {
				if after := ls(); after != before {
					t.Errorf("a refused %v changed the project:\n%s\n%s", st.args, before, after)
				}
			}
		})
	}
	t.Run("runtime with a refused version", func(t *testing.T) {
		testenv.Tool(t, "docker")
		testenv.Need(t, "a running Docker engine", exec.Command("docker", "info").Run() == nil, "scripts/start-dockerd.sh starts one")
		before := ls()
		err := do("set", "shop", "--runtime", "container", "--php", "9.9")
		if err == nil || !strings.Contains(err.Error(), "PHP 9.9 has no official image") {
			t.Fatalf("set --runtime container --php 9.9: %v", err)
		}
		if after := ls(); after != before {
			t.Errorf("the project changed:\n%s\n%s", before, after)
		}
		if exec.Command("docker", "image", "inspect", "php:7.4-apache").Run() != nil {
			t.Skip("no php:7.4-apache image (scripts/build-test-images.sh builds it)")
		}
		if err := do("set", "shop", "--runtime", "container", "--php", "7.4"); err != nil ||
			!strings.Contains(out.String(), "shop/web runs as container php:7.4-apache (stopped)\nshop/web runs PHP 7.4 (set for the project)") {
			t.Fatalf("set --runtime container --php 7.4: %v\n%s", err, out.String())
		}
		if err := do("set", "shop", "--runtime", "process", "--php", "auto"); err != nil ||
			!strings.Contains(out.String(), "shop/web runs as process (stopped)\nshop/web runs PHP "+host+" (the newest installed)") {
			t.Fatalf("set --runtime process --php auto: %v\n%s", err, out.String())
		}
	})
}
