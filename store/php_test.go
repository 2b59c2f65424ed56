package store

import (
	"context"
	"errors"
	"testing"
)

// TestPHPVersion checks the column of migration 0010: a php service's
// version as stored, set and refused.
func TestPHPVersion(t *testing.T) {
	ctx := context.Background()
	db, _ := openTest(t)
	_, err := db.AddProject(ctx, Project{Name: "shop", Root: t.TempDir(), Domains: []string{"shop.test"},
		Services: []Service{{Name: "api", Stack: "uvicorn", App: "main:app", PathPrefix: "/api"}, {Name: "web", Stack: "php", PHP: "7.4"}}})
	if err != nil {
		t.Fatal(err)
	}
	read := func() string {
		t.Helper()
		p, err := db.Project(ctx, "shop")
		if err != nil {
			t.Fatal(err)
		}
		return p.Services[1].PHP
	}
	if got := read(); got != "7.4" {
		t.Fatalf("stored php %q, want 7.4", got)
	}
	if err := db.SetServicePHP(ctx, "shop", "web", "8.4"); err != nil || read() != "8.4" {
		t.Fatalf("set 8.4: %v, read %q", err, read())
	}
	for _, tc := range []struct {
		name, service, version string
		field                  bool // a *ValidationError, else ErrNotFound
	}{
		{"patch level", "web", "8.4.1", true},
		{"word", "web", "latest", true},
		{"newline", "web", "8.4\n", true},
		{"leading v", "web", "v8.4", true},
		{"not php", "api", "8.4", true},
		{"no service", "nope", "8.4", false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			err := db.SetServicePHP(ctx, "shop", tc.service, tc.version)
			var ve *ValidationError
			if tc.field && (!errors.As(err, &ve) || ve.Field != "php") {
				t.Fatalf("SetServicePHP(%q, %q) = %v, want a php validation error", tc.service, tc.version, err)
			}
			if !tc.field && !errors.Is(err, ErrNotFound) {
				t.Fatalf("SetServicePHP(%q) = %v, want ErrNotFound", tc.service, err)
			}
			if got := read(); got != "8.4" {
				t.Fatalf("after a refused set the version is %q, want 8.4", got)
			}
		})
	}
	t.Run("add refuses", func(t *testing.T) {
		for _, s := range []Service{{Name: "web", Stack: "php", PHP: "8"}, {Name: "web", Stack: "uvicorn", App: "main:app", PHP: "8.2"}} {
			if _, err := db.AddProject(ctx, Project{Name: "bad", Root: t.TempDir(), Domains: []string{"bad.test"}, Services: []Service{s}}); err == nil {
				t.Errorf("AddProject with %+v succeeded", s)
			}
		}
	})
	if err := db.SetServicePHP(ctx, "shop", "web", ""); err != nil || read() != "" {
		t.Fatalf("clear: %v, read %q", err, read())
	}
}
