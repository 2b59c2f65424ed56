package store

import (
	"context"
	"errors"
	"maps"
	"testing"
)

// TestSetServiceEnv: SetServiceEnv adds, replaces and removes variables
// of several services in one call, keeps a value with a line break whole,
// and a project that does not exist is ErrNotFound; SetBeforeStart sets
// and clears the hook. (Refusals: TestHostileValuesRefused.)
func TestSetServiceEnv(t *testing.T) {
	ctx := context.Background()
	db, _ := openTest(t)
	mustAdd(t, db, Project{Name: "shop", Root: "/srv/shop", Domains: []string{"shop.test"}, BeforeStart: "make",
		Services: []Service{{Name: "web", Stack: "php", Env: map[string]string{"APP_ENV": "dev", "OLD": "1"}},
			{Name: "api", Stack: "uwsgi", App: "app:app", PathPrefix: "/api"}}})
	env := func() map[string]map[string]string {
		t.Helper()
		p, err := db.Project(ctx, "shop")
		if err != nil {
			t.Fatal(err)
		}
		out := map[string]map[string]string{}
		for _, s := range p.Services {
			out[s.Name] = s.Env
		}
		return out
	}
	pem := "-----BEGIN KEY-----\nabc\n-----END KEY-----"
	got, err := db.SetServiceEnv(ctx, "shop", []EnvChange{
		{Service: "web", Set: map[string]string{"APP_ENV": "test", "KEY": pem}, Unset: []string{"OLD", "NOT_THERE"}},
		{Service: "api", Set: map[string]string{"WORKERS": "2"}},
	})
	if err != nil {
		t.Fatal(err)
	}
	wantWeb := map[string]string{"APP_ENV": "test", "KEY": pem}
	wantAPI := map[string]string{"WORKERS": "2"}
	if !maps.Equal(got["web"], wantWeb) || !maps.Equal(got["api"], wantAPI) {
		t.Errorf("SetServiceEnv returned %v", got)
	}
	if e := env(); !maps.Equal(e["web"], wantWeb) || !maps.Equal(e["api"], wantAPI) {
		t.Errorf("stored %v", e)
	}
	got, err = db.SetServiceEnv(ctx, "shop", []EnvChange{{Service: "api", Unset: []string{"WORKERS"}}})
	if err != nil || got["api"] != nil || len(env()["api"]) != 0 {
		t.Errorf("after unsetting the last variable: returned %v (%v), stored %v", got, err, env()["api"])
	}
	if _, err := db.SetServiceEnv(ctx, "nope", []EnvChange{{Service: "web", Set: map[string]string{"A": "1"}}}); !errors.Is(err, ErrNotFound) {
		t.Errorf("SetServiceEnv(nope) = %v, want ErrNotFound", err)
	}

	for _, cmd := range []string{"composer install && npm ci", ""} {
		if err := db.SetBeforeStart(ctx, "shop", cmd); err != nil {
			t.Fatal(err)
		}
		if p, _ := db.Project(ctx, "shop"); p.BeforeStart != cmd {
			t.Errorf("before_start %q, want %q", p.BeforeStart, cmd)
		}
	}
	if err := db.SetBeforeStart(ctx, "nope", "make"); !errors.Is(err, ErrNotFound) {
		t.Errorf("SetBeforeStart(nope) = %v, want ErrNotFound", err)
	}
}
