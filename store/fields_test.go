package store

import (
	"context"
	"reflect"
	"testing"
)

// TestWorkersEnvHook checks the columns of migration 0004: a service's
// workers and env, and a project's before_start hook, as stored and read.
func TestWorkersEnvHook(t *testing.T) {
	ctx := context.Background()
	db, _ := openTest(t)
	p, err := db.AddProject(ctx, Project{Name: "shop", Root: t.TempDir(), Domains: []string{"shop.test"},
		BeforeStart: "composer install",
		Services: []Service{
			{Name: "api", Stack: "gunicorn", App: "main:app", PathPrefix: "/api", Workers: 3, Env: map[string]string{"A": "1", "B": "x y"}},
			{Name: "web", Stack: "php"},
		}})
	if err != nil {
		t.Fatal(err)
	}
	got, err := db.Project(ctx, "shop")
	if err != nil {
		t.Fatal(err)
	}
	if got.BeforeStart != "composer install" || got.Services[0].Workers != 3 ||
		!reflect.DeepEqual(got.Services[0].Env, map[string]string{"A": "1", "B": "x y"}) || got.Services[1].Env != nil {
		t.Errorf("read back %+v (stored %+v)", got, p)
	}
	for _, tc := range []struct {
		name string
		svc  Service
	}{
		{"negative workers", Service{Name: "web", Stack: "php", Workers: -1}},
		{"bad env name", Service{Name: "web", Stack: "php", Env: map[string]string{"A=B": "x"}}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := db.AddProject(ctx, Project{Name: "bad", Root: t.TempDir(), Domains: []string{"bad.test"}, Services: []Service{tc.svc}})
			if err == nil {
				t.Error("stored")
			}
		})
	}
}
