package store

import (
	"context"
	"database/sql"
	"errors"
	"io/fs"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
	"testing/fstest"
)

// TestServiceReload checks the columns of migration 0008: a service's
// reload switch and its reload patterns, as stored and read, and the
// patterns the store refuses.
func TestServiceReload(t *testing.T) {
	ctx := context.Background()
	db, _ := openTest(t)
	for _, tc := range []struct {
		name string
		svc  Service
	}{
		{"default reloads", Service{Name: "api", Stack: "uvicorn", App: "main:app"}},
		{"off", Service{Name: "api", Stack: "uvicorn", App: "main:app", NoReload: true}},
		{"patterns", Service{Name: "api", Stack: "uvicorn", App: "main:app",
			ReloadInclude: []string{"*.graphql", "schema/*.sql"}, ReloadExclude: []string{"generated/*"}}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			name := strings.ReplaceAll(tc.name, " ", "-")
			if _, err := db.AddProject(ctx, Project{Name: name, Root: t.TempDir(), Domains: []string{name + ".test"},
				Services: []Service{tc.svc}}); err != nil {
				t.Fatal(err)
			}
			got, err := db.Project(ctx, name)
			if err != nil {
				t.Fatal(err)
			}
			s := got.Services[0]
			if s.NoReload != tc.svc.NoReload || !reflect.DeepEqual(s.ReloadInclude, tc.svc.ReloadInclude) ||
				!reflect.DeepEqual(s.ReloadExclude, tc.svc.ReloadExclude) {
				t.Errorf("read back NoReload=%v include=%q exclude=%q, stored %+v", s.NoReload, s.ReloadInclude, s.ReloadExclude, tc.svc)
			}
		})
	}

	for _, tc := range []struct {
		name, field string
		svc         Service
	}{
		{"empty include", "reload_include", Service{ReloadInclude: []string{""}}},
		{"absolute exclude", "reload_exclude", Service{ReloadExclude: []string{"/etc/*"}}},
		{"leaves the folder", "reload_include", Service{ReloadInclude: []string{"../x/*.py"}}},
		{"bad syntax", "reload_exclude", Service{ReloadExclude: []string{"gen[erated"}}},
		{"newline", "reload_include", Service{ReloadInclude: []string{"a\nb"}}},
	} {
		t.Run("refused/"+tc.name, func(t *testing.T) {
			svc := tc.svc
			svc.Name, svc.Stack, svc.App = "api", "uvicorn", "main:app"
			before := dump(t, db)
			_, err := db.AddProject(ctx, Project{Name: "bad", Root: t.TempDir(), Domains: []string{"bad.test"}, Services: []Service{svc}})
			var ve *ValidationError
			if !errors.As(err, &ve) || ve.Field != tc.field || !strings.Contains(ve.Reason, `service "api"`) {
				t.Fatalf("AddProject = %v, want a ValidationError on %s naming the service", err, tc.field)
			}
			if after := dump(t, db); !reflect.DeepEqual(before, after) {
				t.Errorf("a refused project changed the database")
			}
		})
	}
}

// TestServiceReloadUpgrade: the services stored before migration 0008
// reload (the default) and have no patterns.
func TestServiceReloadUpgrade(t *testing.T) {
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), "devport.db")
	old := fstest.MapFS{}
	ms, err := fs.Glob(migrationFiles, "migrations/000[1-7]_*.sql")
	if err != nil || len(ms) != 7 {
		t.Fatalf("migrations before 0008: %v %v", ms, err)
	}
	for _, name := range ms {
		b, err := fs.ReadFile(migrationFiles, name)
		if err != nil {
			t.Fatal(err)
		}
		old[name] = &fstest.MapFile{Data: b}
	}
	raw, err := sql.Open("sqlite3", dsn(path, "immediate"))
	if err != nil {
		t.Fatal(err)
	}
	if err := migrate(ctx, raw, old); err != nil {
		t.Fatal(err)
	}
	for _, q := range []string{
		`INSERT INTO projects (id, name, root, created_at) VALUES (1, 'shop', '/srv/shop', '2026-01-01T00:00:00.000000000Z')`,
		`INSERT INTO domains (domain, project_id, position) VALUES ('shop.test', 1, 0)`,
		`INSERT INTO services (project_id, name, stack, runtime, app, path_prefix) VALUES (1, 'api', 'uvicorn', 'process', 'main:app', '/')`,
	} {
		if _, err := raw.ExecContext(ctx, q); err != nil {
			t.Fatalf("%s: %v", q, err)
		}
	}
	if err := raw.Close(); err != nil {
		t.Fatal(err)
	}
	db := openAt(t, path)
	p, err := db.Project(ctx, "shop")
	if err != nil {
		t.Fatal(err)
	}
	if s := p.Services[0]; s.NoReload || s.ReloadInclude != nil || s.ReloadExclude != nil {
		t.Errorf("an upgraded service: NoReload=%v include=%q exclude=%q, want it to reload with no patterns", s.NoReload, s.ReloadInclude, s.ReloadExclude)
	}
}
