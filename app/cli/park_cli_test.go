package cli

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestParkCommand drives devport park, parked, rm and unpark in-process
// on a throwaway data folder with no engine running.
func TestParkCommand(t *testing.T) {
	home := t.TempDir()
	sites := t.TempDir()
	for name, body := range map[string]string{
		"blog/index.html": "<p>blog</p>",
		"docs/index.html": "<p>docs</p>",
		"notes/todo.txt":  "nothing to serve",
	} {
		p := filepath.Join(sites, name)
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
		wantErr string // "" for success
		wantOut []string
	}{
		{"nothing parked", []string{"park"}, "", []string{"no parked folders: park one with devport park DIR"}},
		{"park", []string{"park", sites}, "", []string{"added blog at https://blog.test/ (static)", "added docs at", "skipped notes: nothing to run in it", "no engine runs now"}},
		{"ls shows them", []string{"ls"}, "", []string{"blog", "docs"}},
		{"parked", []string{"parked"}, "", []string{sites, "blog, docs"}},
		{"park lists too", []string{"park"}, "", []string{sites, "blog, docs"}},
		{"parked --json", []string{"parked", "--json"}, "", []string{`"dir": "` + sites + `"`, `"blog"`}},
		{"rm of a parked project is refused", []string{"rm", "blog"}, "devport unpark " + sites, nil},
		{"park two folders", []string{"park", sites, sites}, "one folder", nil},
		{"unpark needs the folder", []string{"unpark"}, "devport unpark DIR", nil},
		{"unpark", []string{"unpark", sites}, "", []string{"removed blog", "removed docs", "unparked " + sites}},
		{"ls is empty", []string{"ls"}, "", []string{"no projects yet"}},
		{"unpark again", []string{"unpark", sites}, "is not a parked folder", nil},
		{"the idle timeout is a setting", []string{"config", "set", "park.idle_timeout", "soon"}, "not a duration", nil},
		{"in config ls", []string{"config"}, "", []string{"park.idle_timeout", "10m0s (default)"}},
	}
	for _, st := range steps {
		t.Run(st.name, func(t *testing.T) {
			out.Reset()
			err := c.Run(ctx, st.args)
			switch {
			case st.wantErr == "" && err != nil:
				t.Fatalf("%v: %v\n%s", st.args, err, out.String())
			case st.wantErr != "" && (err == nil || !strings.Contains(err.Error(), st.wantErr)):
				t.Fatalf("%v: err = %v, want %q", st.args, err, st.wantErr)
			}
			for _, w := range st.wantOut {
				if !strings.Contains(out.String(), w) {
					t.Errorf("%v printed %q, want %q", st.args, out.String(), w)
				}
			}
		})
	}
}
