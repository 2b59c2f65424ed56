package cli

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestRouteCommand drives devport route add/ls/rm in-process on a
// throwaway data folder, then checks the proxy routes built from it.
func TestRouteCommand(t *testing.T) {
	home := t.TempDir()
	proj := t.TempDir()
	if err := os.WriteFile(filepath.Join(proj, "index.php"), []byte("<?php echo 1;"), 0o644); err != nil {
		t.Fatal(err)
	}
	public := t.TempDir()
	var out bytes.Buffer
	c := homeCLI(home, &out)
	ctx := context.Background()
	do := func(args ...string) error {
		out.Reset()
		return c.Run(ctx, args)
	}
	if err := do("add", proj, "--name", "shop"); err != nil {
		t.Fatalf("add: %v\n%s", err, out.String())
	}
	steps := []struct {
		name    string
		args    []string
		wantErr string // "" for success
		wantOut string
	}{
		{"static", []string{"route", "shop", "add", "/static", "--static", public, "--cache-control", "public, max-age=2592000"}, "", "/static → static"},
		{"service with limits", []string{"route", "shop", "add", "/", "--service", "web", "--read-timeout", "30s", "--max-body", "10m"}, "", "/ → service web"},
		{"url", []string{"route", "shop", "add", "/docs", "--url", "https://example.org", "--strip"}, "", "/docs → url"},
		{"duplicate", []string{"route", "shop", "add", "/docs", "--url", "https://example.org"}, "already has a route", ""},
		{"two targets", []string{"route", "shop", "add", "/x", "--url", "https://example.org", "--static", public}, "exactly one of", ""},
		{"bad size", []string{"route", "shop", "add", "/x", "--static", public, "--max-body", "lots"}, "--max-body", ""},
		{"unknown service", []string{"route", "shop", "add", "/x", "--service", "nope"}, "not a service", ""},
		{"unknown project", []string{"route", "nope", "add", "/x", "--static", public}, "not found", ""},
		{"bad verb", []string{"route", "shop", "move"}, "unknown route action", ""},
		{"ls", []string{"route", "shop", "ls"}, "", "read=30s max-body=10485760"},
		{"rm", []string{"route", "shop", "rm", "/docs"}, "", "removed route /docs"},
		{"rm again", []string{"route", "shop", "rm", "/docs"}, "not found", ""},
	}
	for _, st := range steps {
		t.Run(st.name, func(t *testing.T) {
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
		})
	}

	m, err := c.manager(ctx)
	if err != nil {
		t.Fatal(err)
	}
	defer m.Close()
	rows, err := m.Routes(ctx, "shop")
	if err != nil {
		t.Fatal(err)
	}
	// The declared / replaces the service's own; what the proxy makes of
	// the rows: engine's TestDeclaredRoutes.
	if len(rows) != 2 {
		t.Fatalf("got %d routes, want / (declared, replacing the service default) and /static: %+v", len(rows), rows)
	}
	for _, r := range rows {
		switch r.Prefix {
		case "/":
			if !r.Declared || r.Target != "web" || r.Limits != "read=30s max-body=10485760" {
				t.Errorf("/ route: %+v", r)
			}
		case "/static":
			if r.Target != public || r.CacheControl != "public, max-age=2592000" {
				t.Errorf("/static route: %+v", r)
			}
		default:
			t.Errorf("unexpected route %+v", r)
		}
	}
}

func TestParseSize(t *testing.T) {
	tests := []struct {
		in   string
		want int64
		bad  bool
	}{
		{"", 0, false}, {"-1", -1, false}, {"1024", 1024, false}, {"10k", 10 << 10, false},
		{"100M", 100 << 20, false}, {"1g", 1 << 30, false}, {"-5", 0, true}, {"x", 0, true}, {"-1k", 0, true},
	}
	for _, tc := range tests {
		t.Run(tc.in, func(t *testing.T) {
			got, err := parseSize(tc.in)
			if (err != nil) != tc.bad || got != tc.want {
				t.Errorf("parseSize(%q) = %d, %v", tc.in, got, err)
			}
		})
	}
}
