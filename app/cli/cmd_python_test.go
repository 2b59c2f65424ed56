package cli

import (
	"bytes"
	"context"
	"errors"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/devport/devport/app/wire"
)

func TestPythonArgs(t *testing.T) {
	tests := []struct {
		name        string
		args        []string
		wantName    string
		wantService string
		wantArgs    []string
		wantErr     bool
	}{
		{"name alone", []string{"shop"}, "shop", "", []string{}, false},
		{"flags after NAME are the program's", []string{"shop", "-c", "print(1)", "--service", "x"}, "shop", "", []string{"-c", "print(1)", "--service", "x"}, false},
		{"--service before NAME", []string{"--service", "api", "shop", "migrate"}, "shop", "api", []string{"migrate"}, false},
		{"--service=S", []string{"--service=api", "shop"}, "shop", "api", []string{}, false},
		{"-- ends devport's flags", []string{"--", "shop", "--version"}, "shop", "", []string{"--version"}, false},
		{"no NAME", nil, "", "", nil, true},
		{"only flags", []string{"--service", "api"}, "", "", nil, true},
		{"unknown devport flag before NAME", []string{"-c", "print(1)", "shop"}, "", "", nil, true},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			req, name, err := pythonArgs(wire.ToolPython, tc.args)
			if tc.wantErr {
				if !errors.Is(err, ErrUsage) || !strings.Contains(err.Error(), "devport python [--service S] NAME") {
					t.Fatalf("err = %v, want the usage", err)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if name != tc.wantName || req.Service != tc.wantService || !slices.Equal(req.Args, tc.wantArgs) || req.Tool != wire.ToolPython {
				t.Errorf("got %q %+v, want %q service %q args %q", name, req, tc.wantName, tc.wantService, tc.wantArgs)
			}
		})
	}
}

// TestRunForegroundExitCode: the program's exit code becomes devport's,
// a signal's as a shell reports it.
func TestRunForegroundExitCode(t *testing.T) {
	tests := []struct {
		name     string
		cmd      wire.Command
		wantCode int // 0: no error
		wantOut  string
	}{
		{"success", wire.Command{Argv: []string{"sh", "-c", "echo $GREETING in $(pwd)"}, Env: []string{"GREETING=hi"}, Dir: "/"}, 0, "hi in /"},
		{"exit 3", wire.Command{Argv: []string{"sh", "-c", "exit 3"}}, 3, ""},
		{"killed by TERM", wire.Command{Argv: []string{"sh", "-c", "kill -TERM $$"}}, 128 + 15, ""},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			var out bytes.Buffer
			c := &CLI{Stdout: &out, Stderr: &out}
			err := c.runForeground(tc.cmd)
			var ee *ExitError
			switch {
			case tc.wantCode == 0 && err != nil:
				t.Fatal(err)
			case tc.wantCode != 0 && (!errors.As(err, &ee) || ee.Code != tc.wantCode):
				t.Fatalf("err = %v, want exit status %d", err, tc.wantCode)
			}
			if !strings.Contains(out.String(), tc.wantOut) {
				t.Errorf("printed %q, want %q", out.String(), tc.wantOut)
			}
		})
	}
}

// TestPythonCommandsNoEngine runs devport python, manage and flask
// in-process with no engine, on a project whose virtualenv python is a
// script that prints what it was given.
func TestPythonCommandsNoEngine(t *testing.T) {
	home, proj := t.TempDir(), t.TempDir()
	files := map[string]string{
		"app.py":       "from flask import Flask\napp = Flask(__name__)\n",
		"manage.py":    "",
		"devport.toml": "[services.web]\nstack = \"wsgi\"\napp = \"app:app\"\nenv = { GREETING = \"hi\" }\n",
		".venv/bin/python": "#!/bin/sh\ncase \"$2\" in *find_spec*) exit 0;; esac\n" +
			"echo \"args: $*\"\necho \"dir: $(pwd)\"\necho \"GREETING=$GREETING FLASK_APP=$FLASK_APP\"\n" +
			"for a; do case $a in exit=*) exit ${a#exit=};; esac; done\n",
	}
	for name, body := range files {
		p := filepath.Join(proj, name)
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, []byte(body), 0o755); err != nil {
			t.Fatal(err)
		}
	}
	var out bytes.Buffer
	c := homeCLI(home, &out)
	ctx := context.Background()
	if err := c.Run(ctx, []string{"add", proj, "--name", "blog"}); err != nil {
		t.Fatalf("add: %v\n%s", err, out.String())
	}
	tests := []struct {
		name     string
		args     []string
		wantOut  []string
		wantCode int
	}{
		{"python", []string{"python", "blog", "-c", "print(1)"}, []string{"args: -c print(1)", "dir: " + proj, "GREETING=hi FLASK_APP=\n"}, 0},
		{"exit code", []string{"python", "blog", "exit=3"}, nil, 3},
		{"manage", []string{"manage", "blog", "check", "--deploy"}, []string{"args: manage.py check --deploy"}, 0},
		{"flask", []string{"flask", "blog", "routes"}, []string{"args: -m flask routes", "FLASK_APP=app:app"}, 0},
		{"--service", []string{"python", "--service", "web", "blog", "-V"}, []string{"args: -V"}, 0},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			out.Reset()
			err := c.Run(ctx, tc.args)
			var ee *ExitError
			switch {
			case tc.wantCode == 0 && err != nil:
				t.Fatalf("%v: %v\n%s", tc.args, err, out.String())
			case tc.wantCode != 0 && (!errors.As(err, &ee) || ee.Code != tc.wantCode):
				t.Fatalf("%v: err = %v, want exit status %d", tc.args, err, tc.wantCode)
			}
			for _, w := range tc.wantOut {
				if !strings.Contains(out.String(), w) {
					t.Errorf("%v printed %q, want %q", tc.args, out.String(), w)
				}
			}
		})
	}
}

// TestIsTerminal: /dev/null is a character device, not a terminal, so a
// piped or detached devport python gets no docker exec -t.
func TestIsTerminal(t *testing.T) {
	f, err := os.Open(os.DevNull)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	if isTerminal(f) {
		t.Errorf("%s is taken for a terminal", os.DevNull)
	}
}
