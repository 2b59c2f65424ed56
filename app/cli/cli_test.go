package cli

import (
	"bytes"
	"context"
	"errors"
	"io"
	"os"
	"strings"
	"testing"
)

// TestREADMEMatchesHelp keeps README's CLI reference true: every usage
// line `devport help` prints must appear in it word for word.
func TestREADMEMatchesHelp(t *testing.T) {
	readme, err := os.ReadFile("../../README.md")
	if err != nil {
		t.Fatal(err)
	}
	var out bytes.Buffer
	c := &CLI{Stdout: &out, Stderr: &out, Getenv: func(string) string { return "" }}
	if err := c.Run(context.Background(), []string{"help"}); err != nil {
		t.Fatal(err)
	}
	for _, line := range strings.Split(out.String(), "\n") {
		line = strings.TrimSpace(line)
		if !strings.HasPrefix(line, "devport ") || strings.HasPrefix(line, "devport "+Version) {
			continue
		}
		if !bytes.Contains(readme, []byte(line)) {
			t.Errorf("README.md lacks the usage line %q", line)
		}
	}
}

func TestUsageErrors(t *testing.T) {
	tests := []struct {
		name string
		args []string
		want string
	}{
		{"unknown command", []string{"nope"}, "unknown command"},
		{"unknown flag", []string{"ls", "--bogus"}, "flag provided but not defined"},
		{"start needs a name", []string{"start"}, "devport start NAME"},
		{"two folders", []string{"add", "a", "b"}, "one folder"},
		{"serve needs headless", []string{"serve"}, "--headless"},
		{"bad port", []string{"serve", "--headless", "--https-port", "70000"}, "port 70000"},
		{"export needs a format", []string{"export", "shop"}, "--format nginx or --format compose"},
		{"export bad format", []string{"export", "shop", "--format", "caddy"}, `--format is "caddy"`},
		{"export compose needs -o", []string{"export", "shop", "--format", "compose"}, "give -o"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			var out bytes.Buffer
			home := t.TempDir()
			c := homeCLI(home, &out)
			err := c.Run(context.Background(), tc.args)
			if !errors.Is(err, ErrUsage) || !strings.Contains(err.Error(), tc.want) {
				t.Errorf("err = %v, want a usage error containing %q", err, tc.want)
			}
		})
	}
}

// homeCLI is a CLI on the data folder home, writing everything to out.
func homeCLI(home string, out io.Writer) *CLI {
	return &CLI{Stdout: out, Stderr: out, Getenv: func(k string) string {
		if k == "DEVPORT_HOME" {
			return home
		}
		return ""
	}}
}
