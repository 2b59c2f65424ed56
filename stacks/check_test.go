package stacks

import (
	"errors"
	"os"
	"path/filepath"
	"testing"
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
		{name: "no apache2", tools: nothing, stack: StackPHP, wantBinary: "apache2",
			wantMsg: "apache2 is not installed: sudo apt-get install apache2 libapache2-mod-php"},
		{name: "no uvicorn", tools: nothing, stack: StackUvicorn, wantBinary: "uvicorn",
			wantMsg: "uvicorn is not installed: sudo apt-get install python3-uvicorn (or pip install uvicorn into " + filepath.Join(dir, ".venv") + ")"},
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
		}{name: "apache2 without mod_php", tools: apacheOnly, stack: StackPHP, wantBinary: "mod_php",
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
		for _, stack := range []string{StackPHP, StackUvicorn} {
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
	err := Check(StackUvicorn, dir)
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
	tests := []struct{ stack string }{{StackPHP}, {StackUvicorn}}
	for _, tc := range tests {
		t.Run(tc.stack, func(t *testing.T) {
			err := Check(tc.stack, t.TempDir())
			var me *MissingError
			if errors.As(err, &me) {
				skipOrFail(t, "%v", err)
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
