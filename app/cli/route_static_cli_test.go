package cli

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestRouteStaticRelativeToProject runs devport route NAME add --static
// DIR from a shell whose current directory is not the project's: a
// relative DIR is the project's folder, and one that does not exist is
// refused with its full path (issue 16, item 7).
func TestRouteStaticRelativeToProject(t *testing.T) {
	home, proj := t.TempDir(), t.TempDir()
	if err := os.WriteFile(filepath.Join(proj, "index.php"), []byte("<?php echo 1;"), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.Mkdir(filepath.Join(proj, "staticfiles"), 0o755); err != nil {
		t.Fatal(err)
	}
	var out bytes.Buffer
	c := homeCLI(home, &out)
	ctx := context.Background()
	if err := c.Run(ctx, []string{"add", proj, "--name", "site"}); err != nil {
		t.Fatalf("add: %v\n%s", err, out.String())
	}
	elsewhere := t.TempDir()
	if err := os.Mkdir(filepath.Join(elsewhere, "staticfiles"), 0o755); err != nil { // a decoy in the shell's cwd
		t.Fatal(err)
	}
	t.Chdir(elsewhere)
	tests := []struct {
		name    string
		args    []string
		wantErr string // "" for success
		wantOut string
	}{
		{"relative folder of the project", []string{"/static", "--static", "staticfiles"}, "", filepath.Join(proj, "staticfiles")},
		{"missing folder", []string{"/media", "--static", "media"}, filepath.Join(proj, "media"), ""},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			out.Reset()
			err := c.Run(ctx, append([]string{"route", "site", "add"}, tc.args...))
			switch {
			case tc.wantErr == "" && err != nil:
				t.Fatalf("%v: %v\n%s", tc.args, err, out.String())
			case tc.wantErr != "" && (err == nil || !strings.Contains(err.Error(), tc.wantErr)):
				t.Fatalf("%v: err = %v, want one naming %s", tc.args, err, tc.wantErr)
			}
			if !strings.Contains(out.String(), tc.wantOut) {
				t.Errorf("%v printed %q, want %q", tc.args, out.String(), tc.wantOut)
			}
		})
	}
}

// TestInitThenAddKeepsDetectedRoutes runs devport init on a Flask folder
// with static/, then add: the /static route detection makes is in the
// file, printed by init, and stored by add (issue 16, item 7).
func TestInitThenAddKeepsDetectedRoutes(t *testing.T) {
	home, proj := t.TempDir(), filepath.Join(t.TempDir(), "blog")
	for name, body := range map[string]string{
		"app.py":         "from flask import Flask\napp = Flask(__name__)\n",
		"static/app.css": "body{}",
	} {
		p := filepath.Join(proj, name)
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, []byte(body), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	var out bytes.Buffer
	c := homeCLI(home, &out)
	ctx := context.Background()
	steps := []struct {
		name    string
		args    []string
		wantOut []string
	}{
		{"init", []string{"init", proj}, []string{"route /static → static static"}},
		{"add", []string{"add", proj}, nil},
		{"route ls", []string{"route", "blog", "ls"}, []string{"/static", filepath.Join(proj, "static")}},
	}
	for _, st := range steps {
		out.Reset()
		if err := c.Run(ctx, st.args); err != nil {
			if st.name == "add" && strings.Contains(err.Error(), "gunicorn") {
				t.Skipf("no gunicorn here: %v", err)
			}
			t.Fatalf("%s: %v\n%s", st.name, err, out.String())
		}
		for _, w := range st.wantOut {
			if !strings.Contains(out.String(), w) {
				t.Errorf("%s printed %q, want %q", st.name, out.String(), w)
			}
		}
	}
	toml, err := os.ReadFile(filepath.Join(proj, "devport.toml"))
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(string(toml), `static = "static"`) {
		t.Errorf("devport.toml has no static route:\n%s", toml)
	}
}
