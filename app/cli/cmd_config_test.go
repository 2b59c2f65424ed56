package cli

import (
	"bytes"
	"context"
	"strings"
	"testing"
)

// TestConfigCommand drives devport config in-process on a throwaway data
// folder: every step's output or error, and that a refused value leaves
// the stored one, and what the container runtime picks, unchanged.
func TestConfigCommand(t *testing.T) {
	home := t.TempDir()
	var out bytes.Buffer
	c := homeCLI(home, &out)
	ctx := context.Background()
	steps := []struct {
		name    string
		args    []string
		wantErr string // "" for success
		wantOut string
	}{
		{"defaults listed", []string{"config"}, "", "container.image.uwsgi     python:3.12-slim (default)"},
		{"set an image", []string{"config", "set", "container.image.uwsgi", "myorg/py:1"}, "", "container.image.uwsgi = myorg/py:1"},
		{"get it", []string{"config", "get", "container.image.uwsgi"}, "", "myorg/py:1\n"},
		{"ls shows it", []string{"config", "ls"}, "", "container.image.uwsgi     myorg/py:1  "},
		{"a bad image is refused", []string{"config", "set", "container.image.uwsgi", "Bad Image"}, "must be lowercase", ""},
		{"the old value stays", []string{"config", "get", "container.image.uwsgi"}, "", "myorg/py:1\n"},
		{"an empty image is refused", []string{"config", "set", "container.image.php", ""}, "devport config unset container.image.php", ""},
		{"an unknown key names the known ones", []string{"config", "set", "nope", "x"}, "use one of gui.default_tld, container.image.php", ""},
		{"get of an unknown key", []string{"config", "get", "nope"}, "devport has no such setting", ""},
		{"a TLD devport does not serve", []string{"config", "set", "gui.default_tld", "com"}, "use test or localhost", ""},
		{"a TLD it serves", []string{"config", "set", "gui.default_tld", "localhost"}, "", "gui.default_tld = localhost"},
		{"unset", []string{"config", "unset", "container.image.uwsgi"}, "", "(default: python:3.12-slim)"},
		{"get after unset is the default", []string{"config", "get", "container.image.uwsgi"}, "", "python:3.12-slim\n"},
		{"wrong argument count", []string{"config", "set", "gui.default_tld"}, "takes 2 argument(s), got 1", ""},
		{"unknown action", []string{"config", "frob"}, "unknown config action", ""},
	}
	for _, st := range steps {
		t.Run(st.name, func(t *testing.T) {
			out.Reset()
			err := c.Run(ctx, st.args)
			switch {
			case st.wantErr == "" && err != nil:
				t.Fatalf("devport %s: %v\n%s", strings.Join(st.args, " "), err, out.String())
			case st.wantErr != "" && (err == nil || !strings.Contains(err.Error(), st.wantErr)):
				t.Fatalf("devport %s = %v, want an error with %q", strings.Join(st.args, " "), err, st.wantErr)
			case !strings.Contains(out.String(), st.wantOut):
				t.Errorf("devport %s printed:\n%s\nwant %q in it", strings.Join(st.args, " "), out.String(), st.wantOut)
			}
		})
	}
	// What the container runtime does with the setting: engine's
	// TestContainerImage.
	t.Run("the engine stores the setting", func(t *testing.T) {
		if err := c.Run(ctx, []string{"config", "set", "container.image.gunicorn", "myorg/asgi:2"}); err != nil {
			t.Fatal(err)
		}
		m, err := c.manager(ctx)
		if err != nil {
			t.Fatal(err)
		}
		defer m.Close()
		if got, ok, err := m.Setting(ctx, "container.image.gunicorn"); err != nil || !ok || got != "myorg/asgi:2" {
			t.Errorf("setting = %q, %v, %v; want the value set", got, ok, err)
		}
	})
}
