package engine

import (
	"context"
	"maps"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/devport/devport/app/wire"
	"github.com/devport/devport/internal/testenv"
	"github.com/devport/devport/stacks"
	"github.com/devport/devport/store"
)

// TestPHPBadInput: devport xdebug on without the extension, a bad ini
// directive, and the PHP commands of a project without a php service each
// give one line naming the fix, and the project is unchanged.
func TestPHPBadInput(t *testing.T) {
	ctx := context.Background()
	m := testManager(t)
	dir := t.TempDir()
	writeFiles(t, dir, map[string]string{"index.php": "<?php echo 1;\n"})
	testenv.Need(t, "apache2 and mod_php", stacks.Check("php", dir) == nil, testenv.InstallFix)
	if _, err := m.Add(ctx, wire.AddRequest{Dir: dir, Name: "shop", Stack: "php"}); err != nil {
		t.Fatal(err)
	}
	if _, err := m.SetPHPIni(ctx, "shop", map[string]string{"memory_limit": "1G"}, nil); err != nil {
		t.Fatal(err)
	}
	py := t.TempDir()
	writeFiles(t, py, map[string]string{"main.py": "app = None\n"})
	if _, err := m.Add(ctx, wire.AddRequest{Dir: py, Name: "api", Stack: "uvicorn", App: "main:app"}); err != nil {
		t.Fatal(err)
	}
	old := hostXdebug
	hostXdebug = func(context.Context, string) (string, bool, error) { return "8.2", false, nil }
	t.Cleanup(func() { hostXdebug = old })

	tests := []struct {
		name string
		do   func() error
		want string
	}{
		{"xdebug on without the extension", func() error { _, err := m.SetXdebug(ctx, "shop", true); return err }, "-xdebug (or php-xdebug"},
		{"ini value with a newline", func() error {
			_, err := m.SetPHPIni(ctx, "shop", map[string]string{"memory_limit": "2G\n[PHP]"}, nil)
			return err
		}, "newline"},
		{"ini section as key", func() error { _, err := m.SetPHPIni(ctx, "shop", map[string]string{"[PHP]": "1"}, nil); return err }, "directive name"},
		{"nothing to change", func() error { _, err := m.SetPHPIni(ctx, "shop", nil, nil); return err }, "--php-ini KEY=VALUE"},
		{"xdebug of a project without php", func() error { _, err := m.SetXdebug(ctx, "api", true); return err }, "no php service"},
		{"php of a project without php", func() error {
			_, err := m.PHPCommand(ctx, "api", wire.PHPCommandRequest{Tool: wire.ToolPHP})
			return err
		}, "no php service"},
		{"unknown tool", func() error { _, err := m.PHPCommand(ctx, "shop", wire.PHPCommandRequest{Tool: "pecl"}); return err }, "devport php or devport composer"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			err := tc.do()
			if err == nil || !strings.Contains(err.Error(), tc.want) || strings.Contains(err.Error(), "\n") {
				t.Errorf("error %v, want one line naming %q", err, tc.want)
			}
			p, err := m.db.Project(ctx, "shop")
			if err != nil {
				t.Fatal(err)
			}
			if p.Xdebug || !maps.Equal(p.PHPIni, map[string]string{"memory_limit": "1G"}) {
				t.Errorf("the project changed: xdebug %v, php.ini %v", p.Xdebug, p.PHPIni)
			}
		})
	}
}

func TestDoctorXdebug(t *testing.T) {
	ctx := context.Background()
	m := testManager(t)
	old := hostXdebug
	t.Cleanup(func() { hostXdebug = old })
	ps := []store.Project{
		{Name: "off", Services: []store.Service{{Name: "web", Stack: "php"}}},
		{Name: "on", Xdebug: true, Services: []store.Service{{Name: "web", Stack: "php"}}},
		{Name: "py", Services: []store.Service{{Name: "web", Stack: "uvicorn"}}},
		{Name: "box", Services: []store.Service{{Name: "web", Stack: "php", Runtime: wire.RuntimeContainer}}},
	}
	tests := []struct {
		name      string
		installed bool
		want      map[string]bool // check name -> OK
		fix       string
	}{
		{"installed", true, map[string]bool{"xdebug (off)": true, "xdebug (on)": true}, ""},
		{"missing", false, map[string]bool{"xdebug (off)": true, "xdebug (on)": false}, "-xdebug"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			hostXdebug = func(context.Context, string) (string, bool, error) { return "8.2", tc.installed, nil }
			got := map[string]bool{}
			for _, c := range m.checkXdebugInstalled(ctx, ps) {
				got[c.Name] = c.OK
				if !c.OK && !strings.Contains(c.Fix, tc.fix) {
					t.Errorf("%s: fix %q, want %q", c.Name, c.Fix, tc.fix)
				}
				if !strings.Contains(c.Detail, "8.2") {
					t.Errorf("%s: detail %q does not name the PHP version", c.Name, c.Detail)
				}
			}
			if !maps.Equal(got, tc.want) {
				t.Errorf("checks %v, want %v", got, tc.want)
			}
		})
	}
}

// TestPHPCommandComposer: devport composer prefers the project's
// composer.phar, else Debian's composer, both run by the project's php
// with its ini, in the project folder.
func TestPHPCommandComposer(t *testing.T) {
	ctx := context.Background()
	testenv.Tool(t, "php")
	m := testManager(t)
	dir := t.TempDir()
	writeFiles(t, dir, map[string]string{"index.php": "<?php echo 1;\n"})
	testenv.Need(t, "apache2 and mod_php", stacks.Check("php", dir) == nil, testenv.InstallFix)
	if _, err := m.Add(ctx, wire.AddRequest{Dir: dir, Name: "shop", Stack: "php"}); err != nil {
		t.Fatal(err)
	}
	old := hostComposer
	t.Cleanup(func() { hostComposer = old })
	tests := []struct {
		name     string
		phar     bool
		host     string
		want     string // argv[1]; "" for an error
		errorHas string
	}{
		{name: "Debian's composer", host: "/bin/sh", want: "/bin/sh"},
		{name: "the project's composer.phar first", phar: true, host: "/bin/sh", want: "composer.phar"},
		{name: "neither", host: "/nonexistent/composer", errorHas: "apt install composer"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			hostComposer = tc.host
			phar := filepath.Join(dir, "composer.phar")
			if tc.phar {
				writeFiles(t, dir, map[string]string{"composer.phar": "<?php\n"})
				defer os.Remove(phar)
			}
			cmd, err := m.PHPCommand(ctx, "shop", wire.PHPCommandRequest{Tool: wire.ToolComposer, Args: []string{"install"}})
			if tc.want == "" {
				if err == nil || !strings.Contains(err.Error(), tc.errorHas) {
					t.Errorf("PHPCommand = %v, want an error naming %q", err, tc.errorHas)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if len(cmd.Argv) != 3 || !strings.Contains(filepath.Base(cmd.Argv[0]), "php") || cmd.Argv[1] != tc.want || cmd.Argv[2] != "install" || cmd.Dir != dir {
				t.Errorf("command %q in %s, want [php %s install] in %s", cmd.Argv, cmd.Dir, tc.want, dir)
			}
			if !slices.ContainsFunc(cmd.Env, func(kv string) bool { return strings.HasPrefix(kv, "PHP_INI_SCAN_DIR=") }) {
				t.Errorf("env %q lacks PHP_INI_SCAN_DIR", cmd.Env)
			}
		})
	}
}

// TestPHPContainerExecNoComposer: devport composer in a container carries
// the one-line fix the container script prints when there is no Composer
// (composer.phar, the process runtime); devport php does not need it.
func TestPHPContainerExecNoComposer(t *testing.T) {
	root := t.TempDir()
	env := func(c wire.Command) string {
		for i, a := range c.Argv {
			if a == "-e" && i+1 < len(c.Argv) && strings.HasPrefix(c.Argv[i+1], "DEVPORT_NO_COMPOSER=") {
				return strings.TrimPrefix(c.Argv[i+1], "DEVPORT_NO_COMPOSER=")
			}
		}
		return ""
	}
	msg := env(phpContainerExec("abc", "shop", root, wire.PHPCommandRequest{Tool: wire.ToolComposer, Args: []string{"install"}}))
	for _, want := range []string{"composer.phar", root, "devport set shop --runtime process"} {
		if !strings.Contains(msg, want) {
			t.Errorf("message %q lacks %q", msg, want)
		}
	}
	if strings.ContainsAny(msg, "\n\r") {
		t.Errorf("message %q is not one line", msg)
	}
	if m := env(phpContainerExec("abc", "shop", root, wire.PHPCommandRequest{Tool: wire.ToolPHP})); m != "" {
		t.Errorf("devport php carries %q", m)
	}
}
