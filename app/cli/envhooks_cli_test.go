package cli

import (
	"bytes"
	"context"
	"errors"
	"maps"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestSetEnvHooks drives devport set --env, --env-unset, --before-start
// and --before-start-unset in-process on a throwaway data folder (no
// engine: engine.Local), with a value a cloned repository could carry.
func TestSetEnvHooks(t *testing.T) {
	home := t.TempDir()
	shop, two := t.TempDir(), t.TempDir()
	for path, body := range map[string]string{
		filepath.Join(shop, "index.php"): "<?php echo 1;",
		filepath.Join(two, "index.php"):  "<?php echo 1;",
		filepath.Join(two, "main.py"):    "app = None\n",
		filepath.Join(two, "devport.toml"): "[services.web]\nstack = \"php\"\n\n[services.api]\nstack = \"uvicorn\"\nprefix = \"/api\"\napp = \"main:app\"\n" +
			"env = { TOKEN = \"x\" }\n",
	} {
		if err := os.WriteFile(path, []byte(body), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	var out bytes.Buffer
	c := homeCLI(home, &out)
	ctx := context.Background()
	do := func(args ...string) error {
		out.Reset()
		return c.Run(ctx, args)
	}
	if err := do("add", shop, "--name", "shop"); err != nil {
		t.Fatalf("add: %v\n%s", err, out.String())
	}
	if err := do("add", two, "--name", "two"); err != nil {
		t.Fatalf("add: %v\n%s", err, out.String())
	}
	steps := []struct {
		name    string
		args    []string
		wantErr string // "" for success
		usage   bool   // the error is ErrUsage
		wantOut string
	}{
		{"set", []string{"set", "shop", "--env", "APP_ENV=dev", "--env", "URL=http://x/?a=b"}, "", false, "  APP_ENV=dev\n  URL=http://x/?a=b\n"},
		{"hostile value shown quoted", []string{"set", "shop", "--env", "web:PEM=a\nFAKE=1\x1b[2J"}, "", false, `  PEM="a\nFAKE=1\x1b[2J"`},
		{"unset", []string{"set", "shop", "--env-unset", "APP_ENV"}, "", false, "shop/web's environment (stopped):\n  PEM="},
		{"bad name", []string{"set", "shop", "--env", "A B=1"}, `env "A B": is not an environment variable name`, false, ""},
		{"bad unset", []string{"set", "shop", "--env-unset", "A;id"}, `env "A;id"`, false, ""},
		{"no =", []string{"set", "shop", "--env", "APP_ENV"}, "[SERVICE:]KEY=VALUE", false, ""},
		{"no such service", []string{"set", "shop", "--env", "api:A=1"}, `service "api": no such service`, false, ""},
		{"with --php", []string{"set", "shop", "--env", "A=1", "--php", "8.2"}, "on their own", true, ""},
		{"several services, none named", []string{"set", "two", "--env", "A=1"}, "several services (api, web)", false, ""},
		{"several services, one named", []string{"set", "two", "--env", "web:A=1", "--env-unset", "api:TOKEN"}, "", false,
			"two/api has no variables of its own (stopped)\ntwo/web's environment (stopped):\n  A=1\n"},
		{"--service is the default", []string{"set", "two", "--service", "api", "--env", "B=2"}, "", false, "two/api's environment (stopped):\n  B=2\n"},
		{"hook", []string{"set", "shop", "--before-start", "composer install && echo \"$HOME\""}, "", false,
			"shop runs before start: composer install && echo \"$HOME\" (from its next start)\n"},
		{"hook and unset", []string{"set", "shop", "--before-start", "x", "--before-start-unset"}, "not both", true, ""},
		{"empty hook", []string{"set", "shop", "--before-start", ""}, "--before-start-unset removes", false, ""},
		{"hook unset", []string{"set", "shop", "--before-start-unset"}, "", false, "shop runs nothing before start\n"},
	}
	for _, st := range steps {
		t.Run(st.name, func(t *testing.T) {
			err := do(st.args...)
			switch {
			case st.wantErr == "" && err != nil:
				t.Fatalf("%q: %v\n%s", st.args, err, out.String())
			case st.wantErr != "" && (err == nil || !strings.Contains(err.Error(), st.wantErr)):
				t.Fatalf("%q: err = %v, want %q", st.args, err, st.wantErr)
			case st.usage && !errors.Is(err, ErrUsage):
				t.Errorf("%q: err = %v, want a usage error", st.args, err)
			}
			if !strings.Contains(out.String(), st.wantOut) {
				t.Errorf("%q printed %q, want %q", st.args, out.String(), st.wantOut)
			}
		})
	}

	m, err := c.manager(ctx)
	if err != nil {
		t.Fatal(err)
	}
	defer m.Close()
	p, err := m.Status(ctx, "shop")
	if err != nil {
		t.Fatal(err)
	}
	want := map[string]string{"URL": "http://x/?a=b", "PEM": "a\nFAKE=1\x1b[2J"}
	if !maps.Equal(p.Services[0].Env, want) || p.BeforeStart != "" {
		t.Errorf("stored env %q, before_start %q; want %q and none", p.Services[0].Env, p.BeforeStart, want)
	}
}
