package store

import (
	"context"
	"errors"
	"maps"
	"strings"
	"testing"
)

// TestPHPIni checks migration 0011's columns: the settings AddProject
// stores, SetPHPIni's additions and removals, its refusals (nothing
// changes), and SetXdebug.
func TestPHPIni(t *testing.T) {
	ctx := context.Background()
	db, _ := openTest(t)
	if _, err := db.AddProject(ctx, Project{Name: "shop", Root: t.TempDir(), Domains: []string{"shop.test"},
		Services: []Service{{Name: "web", Stack: "php"}}, PHPIni: map[string]string{"memory_limit": "1G"}}); err != nil {
		t.Fatal(err)
	}
	load := func() Project {
		t.Helper()
		p, err := db.Project(ctx, "shop")
		if err != nil {
			t.Fatal(err)
		}
		return p
	}
	if p := load(); !maps.Equal(p.PHPIni, map[string]string{"memory_limit": "1G"}) || p.Xdebug {
		t.Fatalf("as added: %v xdebug %v", p.PHPIni, p.Xdebug)
	}
	got, err := db.SetPHPIni(ctx, "shop", map[string]string{"date.timezone": "UTC", "memory_limit": "2G"}, nil)
	if err != nil {
		t.Fatal(err)
	}
	want := map[string]string{"date.timezone": "UTC", "memory_limit": "2G"}
	if !maps.Equal(got, want) || !maps.Equal(load().PHPIni, want) {
		t.Errorf("after set: %v, stored %v, want %v", got, load().PHPIni, want)
	}
	if _, err := db.SetPHPIni(ctx, "shop", nil, []string{"memory_limit", "not_there"}); err != nil {
		t.Fatal(err)
	}
	if p := load(); !maps.Equal(p.PHPIni, map[string]string{"date.timezone": "UTC"}) {
		t.Errorf("after unset: %v", p.PHPIni)
	}

	for _, tc := range []struct {
		name  string
		set   map[string]string
		unset []string
		want  string
	}{
		{"newline", map[string]string{"memory_limit": "1G\n[PHP]"}, nil, "newline"},
		{"section key", map[string]string{"[PHP]": "1"}, nil, "directive name"},
		{"quote", map[string]string{"a": `"`}, nil, `'"'`},
		{"extension", map[string]string{"extension": "evil.so"}, nil, "apt install"},
		{"a word php.ini reads as a value", map[string]string{"Yes": "1"}, nil, "reads as a value"},
		{"bad unset", nil, []string{"a b"}, "directive name"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := db.SetPHPIni(ctx, "shop", tc.set, tc.unset)
			var ve *ValidationError
			if !errors.As(err, &ve) || !strings.Contains(err.Error(), tc.want) || strings.Contains(err.Error(), "\n") {
				t.Errorf("SetPHPIni = %v, want a one-line *ValidationError with %q", err, tc.want)
			}
			if p := load(); !maps.Equal(p.PHPIni, map[string]string{"date.timezone": "UTC"}) {
				t.Errorf("the project changed: %v", p.PHPIni)
			}
		})
	}
	if _, err := db.SetPHPIni(ctx, "nope", map[string]string{"a": "1"}, nil); !errors.Is(err, ErrNotFound) {
		t.Errorf("SetPHPIni(nope) = %v, want ErrNotFound", err)
	}
	if _, err := db.AddProject(ctx, Project{Name: "bad", Root: t.TempDir(), Domains: []string{"bad.test"},
		Services: []Service{{Name: "web", Stack: "php"}}, PHPIni: map[string]string{"a": "1\nb=2"}}); err == nil {
		t.Error("AddProject took a value with a newline")
	}

	for _, on := range []bool{true, false} {
		if err := db.SetXdebug(ctx, "shop", on); err != nil {
			t.Fatal(err)
		}
		if p := load(); p.Xdebug != on {
			t.Errorf("after SetXdebug(%v): %v", on, p.Xdebug)
		}
	}
	if err := db.SetXdebug(ctx, "nope", true); !errors.Is(err, ErrNotFound) {
		t.Errorf("SetXdebug(nope) = %v, want ErrNotFound", err)
	}
}
