package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"sync"
	"testing"
	"time"
)

var testTLDs = []string{"test", "localhost"}

// openTest opens a fresh database in t.TempDir() and closes it at the end.
func openTest(t *testing.T) (*DB, string) {
	t.Helper()
	path := filepath.Join(t.TempDir(), "devport.db")
	return openAt(t, path), path
}

func openAt(t *testing.T, path string) *DB {
	t.Helper()
	db, err := Open(context.Background(), Options{Path: path, TLDs: testTLDs})
	if err != nil {
		t.Fatalf("Open(%s): %v", path, err)
	}
	t.Cleanup(func() {
		if err := db.Close(); err != nil {
			t.Errorf("Close: %v", err)
		}
	})
	return db
}

func phpProject(name string, domains ...string) Project {
	return Project{
		Name:     name,
		Root:     "/srv/" + name,
		Domains:  domains,
		Services: []Service{{Name: "web", Stack: "php"}},
	}
}

func mustAdd(t *testing.T, db *DB, p Project) Project {
	t.Helper()
	got, err := db.AddProject(context.Background(), p)
	if err != nil {
		t.Fatalf("AddProject(%q): %v", p.Name, err)
	}
	return got
}

// dump renders every row of every table, for byte-for-byte comparisons of
// the database content before and after a failed write.
func dump(t *testing.T, db *DB) string {
	t.Helper()
	ctx := context.Background()
	rows, err := db.r.QueryContext(ctx, `SELECT name FROM sqlite_master WHERE type = 'table' ORDER BY name`)
	if err != nil {
		t.Fatal(err)
	}
	var tables []string
	for rows.Next() {
		var name string
		if err := rows.Scan(&name); err != nil {
			t.Fatal(err)
		}
		tables = append(tables, name)
	}
	if err := rows.Close(); err != nil {
		t.Fatal(err)
	}
	var b strings.Builder
	for _, table := range tables {
		fmt.Fprintf(&b, "== %s\n", table)
		rows, err := db.r.QueryContext(ctx, `SELECT * FROM "`+table+`" ORDER BY rowid`)
		if err != nil {
			t.Fatal(err)
		}
		cols, err := rows.Columns()
		if err != nil {
			t.Fatal(err)
		}
		vals := make([]any, len(cols))
		ptrs := make([]any, len(cols))
		for i := range vals {
			ptrs[i] = &vals[i]
		}
		for rows.Next() {
			if err := rows.Scan(ptrs...); err != nil {
				t.Fatal(err)
			}
			fmt.Fprintf(&b, "%#v\n", vals)
		}
		if err := rows.Close(); err != nil {
			t.Fatal(err)
		}
	}
	return b.String()
}

func count(t *testing.T, db *DB, query string, args ...any) int {
	t.Helper()
	var n int
	if err := db.r.QueryRowContext(context.Background(), query, args...).Scan(&n); err != nil {
		t.Fatalf("%s: %v", query, err)
	}
	return n
}

func TestAddProjectRoundTrip(t *testing.T) {
	created := time.Date(2024, 5, 6, 7, 8, 9, 123456789, time.FixedZone("CEST", 2*3600))
	tests := []struct {
		name string
		in   Project
		want Project // IDs ignored; CreatedAt checked separately when zero
	}{
		{
			name: "php defaults",
			in:   phpProject("shop", "shop.test"),
			want: Project{Name: "shop", Root: "/srv/shop", Domains: []string{"shop.test"},
				Services: []Service{{Name: "web", Stack: "php", Runtime: "process", PathPrefix: "/"}}},
		},
		{
			name: "two services sorted by name, domains keep their order",
			in: Project{
				Name: "mixed", Root: "/srv/mixed/", Domains: []string{"Mixed.TEST", "api.mixed.localhost", "b.test"},
				Services: []Service{
					{Name: "web", Stack: "php", DocRoot: "/srv/mixed/public/", PathPrefix: "/"},
					{Name: "api", Stack: "uvicorn", Runtime: "process", App: "main:app", PathPrefix: "/api/v1"},
				},
				CreatedAt: created,
			},
			want: Project{
				Name: "mixed", Root: "/srv/mixed", Domains: []string{"mixed.test", "api.mixed.localhost", "b.test"},
				Services: []Service{
					{Name: "api", Stack: "uvicorn", Runtime: "process", App: "main:app", PathPrefix: "/api/v1"},
					{Name: "web", Stack: "php", Runtime: "process", DocRoot: "/srv/mixed/public", PathPrefix: "/"},
				},
				CreatedAt: created.UTC(),
			},
		},
		{
			name: "proxy only needs no folder",
			in: Project{Name: "ext", Domains: []string{"ext.test"},
				Services: []Service{{Name: "app", Stack: "proxy", URL: "http://127.0.0.1:3000"}}},
			want: Project{Name: "ext", Domains: []string{"ext.test"},
				Services: []Service{{Name: "app", Stack: "proxy", Runtime: "process", PathPrefix: "/", URL: "http://127.0.0.1:3000"}}},
		},
		{
			name: "container runtime kept",
			in: Project{Name: "box", Root: "/srv/box", Domains: []string{"box.test"},
				Services: []Service{{Name: "web", Stack: "php", Runtime: "container"}}},
			want: Project{Name: "box", Root: "/srv/box", Domains: []string{"box.test"},
				Services: []Service{{Name: "web", Stack: "php", Runtime: "container", PathPrefix: "/"}}},
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			db, _ := openTest(t)
			ctx := context.Background()
			before := time.Now()
			added := mustAdd(t, db, tc.in)

			if added.ID == 0 {
				t.Error("AddProject returned ID 0")
			}
			for _, s := range added.Services {
				if s.ID == 0 {
					t.Errorf("service %q has ID 0", s.Name)
				}
			}
			if tc.want.CreatedAt.IsZero() {
				if added.CreatedAt.Before(before.Add(-time.Second)) || added.CreatedAt.After(time.Now().Add(time.Second)) {
					t.Errorf("CreatedAt = %v, want about now", added.CreatedAt)
				}
			}

			got, err := db.Project(ctx, tc.in.Name)
			if err != nil {
				t.Fatalf("Project: %v", err)
			}
			if !reflect.DeepEqual(got, added) {
				t.Errorf("Project() = %+v\nAddProject() = %+v", got, added)
			}
			all, err := db.Projects(ctx)
			if err != nil {
				t.Fatalf("Projects: %v", err)
			}
			if len(all) != 1 || !reflect.DeepEqual(all[0], added) {
				t.Errorf("Projects() = %+v, want [%+v]", all, added)
			}

			got.ID = 0
			for i := range got.Services {
				got.Services[i].ID = 0
			}
			if tc.want.CreatedAt.IsZero() {
				got.CreatedAt = time.Time{}
			}
			if !reflect.DeepEqual(got, tc.want) {
				t.Errorf("stored %+v\nwant   %+v", got, tc.want)
			}
		})
	}
}

func TestAddProjectDoesNotAliasInput(t *testing.T) {
	db, _ := openTest(t)
	in := phpProject("shop", "Shop.test")
	mustAdd(t, db, in)
	if in.Domains[0] != "Shop.test" || in.Services[0].Runtime != "" {
		t.Errorf("AddProject modified its argument: %+v", in)
	}
}

func TestProjectsSorted(t *testing.T) {
	db, _ := openTest(t)
	for _, name := range []string{"zeta", "alpha", "mid"} {
		p := phpProject(name, name+".test")
		p.Services = append(p.Services, Service{Name: "api", Stack: "uvicorn", App: "main:app", PathPrefix: "/api"},
			Service{Name: "admin", Stack: "php", PathPrefix: "/admin"})
		mustAdd(t, db, p)
	}
	ps, err := db.Projects(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, p := range ps {
		names = append(names, p.Name)
		var svcs []string
		for _, s := range p.Services {
			svcs = append(svcs, s.Name)
		}
		if want := []string{"admin", "api", "web"}; !reflect.DeepEqual(svcs, want) {
			t.Errorf("%s services = %v, want %v", p.Name, svcs, want)
		}
		if len(p.Domains) != 1 || p.Domains[0] != p.Name+".test" {
			t.Errorf("%s domains = %v", p.Name, p.Domains)
		}
	}
	if want := []string{"alpha", "mid", "zeta"}; !reflect.DeepEqual(names, want) {
		t.Errorf("Projects() names = %v, want %v", names, want)
	}
}

func TestProjectsEmpty(t *testing.T) {
	db, _ := openTest(t)
	ps, err := db.Projects(context.Background())
	if err != nil || len(ps) != 0 {
		t.Errorf("Projects() on a new database = %v, %v; want none", ps, err)
	}
}

func TestProjectNotFound(t *testing.T) {
	db, _ := openTest(t)
	mustAdd(t, db, phpProject("shop", "shop.test"))
	tests := []struct{ name, project string }{
		{"unknown", "nope"},
		{"case differs", "Shop"},
		{"empty", ""},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			_, err := db.Project(context.Background(), tc.project)
			if !errors.Is(err, ErrNotFound) {
				t.Fatalf("Project(%q) error = %v, want ErrNotFound", tc.project, err)
			}
			if want := fmt.Sprintf("project %q: not found", tc.project); err.Error() != want {
				t.Errorf("error = %q, want %q", err, want)
			}
		})
	}
}

func TestAddProjectTakenLeavesDatabaseUnchanged(t *testing.T) {
	tests := []struct {
		name    string
		second  Project
		wantErr string
	}{
		{
			name:    "same name",
			second:  phpProject("shop", "other.test"),
			wantErr: `name "shop": a project with this name already exists; pick another with --name`,
		},
		{
			name:    "same domain",
			second:  phpProject("store", "store.test", "shop.test"),
			wantErr: `domain "shop.test": already used by project "shop"; pick another with --domain`,
		},
		{
			name:    "same domain in other case",
			second:  phpProject("store", "SHOP.test"),
			wantErr: `domain "SHOP.test": already used by project "shop"; pick another with --domain`,
		},
		{
			name:    "secondary domain of the first",
			second:  phpProject("store", "www.shop.localhost"),
			wantErr: `domain "www.shop.localhost": already used by project "shop"; pick another with --domain`,
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			db, _ := openTest(t)
			ctx := context.Background()
			first := mustAdd(t, db, phpProject("shop", "shop.test", "www.shop.localhost"))
			before := dump(t, db)

			_, err := db.AddProject(ctx, tc.second)
			var ve *ValidationError
			if !errors.As(err, &ve) {
				t.Fatalf("AddProject error = %v (%T), want *ValidationError", err, err)
			}
			if err.Error() != tc.wantErr {
				t.Errorf("error =\n  %s\nwant\n  %s", err, tc.wantErr)
			}
			if after := dump(t, db); after != before {
				t.Errorf("database changed by a failed AddProject:\nbefore:\n%s\nafter:\n%s", before, after)
			}
			got, err := db.Project(ctx, "shop")
			if err != nil || !reflect.DeepEqual(got, first) {
				t.Errorf("first project = %+v, %v; want %+v", got, err, first)
			}
			if tc.second.Name != "shop" {
				if _, err := db.Project(ctx, tc.second.Name); !errors.Is(err, ErrNotFound) {
					t.Errorf("second project exists after failed add: %v", err)
				}
			}
		})
	}
}

func TestAddProjectInvalidLeavesDatabaseUnchanged(t *testing.T) {
	tests := []struct {
		name  string
		p     Project
		field string
	}{
		{"bad name", phpProject("Shop", "x.test"), "name"},
		{"bad second domain", phpProject("x", "x.test", "x.com"), "domain"},
		{"no services", Project{Name: "x", Root: "/x", Domains: []string{"x.test"}}, "service"},
		{"duplicate path prefix", Project{Name: "x", Root: "/x", Domains: []string{"x.test"},
			Services: []Service{{Name: "a", Stack: "php"}, {Name: "b", Stack: "php", PathPrefix: "/"}}}, "path prefix"},
		{"proxy without url", Project{Name: "x", Domains: []string{"x.test"},
			Services: []Service{{Name: "a", Stack: "proxy"}}}, "url"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			db, _ := openTest(t)
			mustAdd(t, db, phpProject("shop", "shop.test"))
			before := dump(t, db)
			_, err := db.AddProject(context.Background(), tc.p)
			var ve *ValidationError
			if !errors.As(err, &ve) || ve.Field != tc.field {
				t.Fatalf("AddProject error = %v, want *ValidationError for %q", err, tc.field)
			}
			if after := dump(t, db); after != before {
				t.Errorf("database changed:\nbefore:\n%s\nafter:\n%s", before, after)
			}
		})
	}
}

// A duplicate that gets past checkTaken (another writer committing in
// between) hits a UNIQUE constraint, which must still read as a
// *ValidationError and roll everything back.
func TestInsertUniqueViolationIsValidationError(t *testing.T) {
	tests := []struct {
		name    string
		p       Project
		wantErr string
	}{
		{"name", phpProject("shop", "new.test"),
			`name "shop": a project with this name already exists; pick another with --name`},
		{"domain", phpProject("new", "new.test", "Shop.test"),
			`domain "Shop.test": already used by another project; pick another with --domain`},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			db, _ := openTest(t)
			ctx := context.Background()
			mustAdd(t, db, phpProject("shop", "shop.test"))
			before := dump(t, db)
			p := normalize(tc.p)
			err := db.write(ctx, func(tx *sql.Tx) error { return insertProject(ctx, tx, &p, tc.p) })
			var ve *ValidationError
			if !errors.As(err, &ve) {
				t.Fatalf("insertProject error = %v (%T), want *ValidationError", err, err)
			}
			if err.Error() != tc.wantErr {
				t.Errorf("error = %q, want %q", err, tc.wantErr)
			}
			if after := dump(t, db); after != before {
				t.Errorf("database changed:\nbefore:\n%s\nafter:\n%s", before, after)
			}
		})
	}
}

func TestAddProjectCanceledContext(t *testing.T) {
	db, _ := openTest(t)
	before := dump(t, db)
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if _, err := db.AddProject(ctx, phpProject("shop", "shop.test")); !errors.Is(err, context.Canceled) {
		t.Errorf("AddProject with a canceled context = %v, want context.Canceled", err)
	}
	if after := dump(t, db); after != before {
		t.Errorf("database changed:\n%s", after)
	}
}

func TestRemoveProject(t *testing.T) {
	db, _ := openTest(t)
	ctx := context.Background()
	shop := phpProject("shop", "shop.test", "www.shop.test")
	shop.Services = append(shop.Services, Service{Name: "api", Stack: "uvicorn", App: "main:app", PathPrefix: "/api"})
	shop = mustAdd(t, db, shop)
	blog := mustAdd(t, db, phpProject("blog", "blog.test"))
	if err := db.AddEvent(ctx, Event{Project: "shop", Kind: "started"}); err != nil {
		t.Fatal(err)
	}

	if err := db.RemoveProject(ctx, "shop"); err != nil {
		t.Fatalf("RemoveProject: %v", err)
	}

	tests := []struct {
		name  string
		query string
		want  int
	}{
		{"project row gone", `SELECT COUNT(*) FROM projects WHERE id = ?`, 0},
		{"domains cascaded", `SELECT COUNT(*) FROM domains WHERE project_id = ?`, 0},
		{"services cascaded", `SELECT COUNT(*) FROM services WHERE project_id = ?`, 0},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if got := count(t, db, tc.query, shop.ID); got != tc.want {
				t.Errorf("%s = %d, want %d", tc.query, got, tc.want)
			}
		})
	}
	t.Run("other project intact", func(t *testing.T) {
		got, err := db.Project(ctx, "blog")
		if err != nil || !reflect.DeepEqual(got, blog) {
			t.Errorf("blog = %+v, %v; want %+v", got, err, blog)
		}
	})
	t.Run("events kept", func(t *testing.T) {
		es, err := db.Events(ctx, "shop", 0)
		if err != nil || len(es) != 1 {
			t.Errorf("Events(shop) = %v, %v; want the one event", es, err)
		}
	})
	t.Run("name and domains free again", func(t *testing.T) {
		mustAdd(t, db, phpProject("shop", "www.shop.test"))
	})
	t.Run("unknown project", func(t *testing.T) {
		err := db.RemoveProject(ctx, "nope")
		if !errors.Is(err, ErrNotFound) || err.Error() != `project "nope": not found` {
			t.Errorf("RemoveProject(nope) = %v, want ErrNotFound", err)
		}
	})
}

func TestSettings(t *testing.T) {
	db, _ := openTest(t)
	ctx := context.Background()
	steps := []struct {
		name   string
		set    *[2]string // key, value to set first; nil = none
		key    string
		want   string
		wantOK bool
	}{
		{name: "missing", key: "proxy.https_port"},
		{name: "set", set: &[2]string{"proxy.https_port", "443"}, key: "proxy.https_port", want: "443", wantOK: true},
		{name: "upsert replaces", set: &[2]string{"proxy.https_port", "8443"}, key: "proxy.https_port", want: "8443", wantOK: true},
		{name: "empty value is a value", set: &[2]string{"theme", ""}, key: "theme", want: "", wantOK: true},
		{name: "other key untouched", key: "proxy.https_port", want: "8443", wantOK: true},
	}
	for _, st := range steps {
		t.Run(st.name, func(t *testing.T) {
			if st.set != nil {
				if err := db.SetSetting(ctx, st.set[0], st.set[1]); err != nil {
					t.Fatalf("SetSetting: %v", err)
				}
			}
			got, ok, err := db.Setting(ctx, st.key)
			if err != nil || got != st.want || ok != st.wantOK {
				t.Errorf("Setting(%q) = %q, %v, %v; want %q, %v, nil", st.key, got, ok, err, st.want, st.wantOK)
			}
		})
	}
	t.Run("one row per key", func(t *testing.T) {
		if n := count(t, db, `SELECT COUNT(*) FROM settings`); n != 2 {
			t.Errorf("settings rows = %d, want 2", n)
		}
	})
	t.Run("empty key refused", func(t *testing.T) {
		var ve *ValidationError
		if err := db.SetSetting(ctx, "", "x"); !errors.As(err, &ve) {
			t.Errorf("SetSetting(\"\") = %v, want *ValidationError", err)
		}
	})
	t.Run("all settings", func(t *testing.T) {
		all, err := db.Settings(ctx)
		if err != nil || len(all) != 2 || all["proxy.https_port"] != "8443" || all["theme"] != "" {
			t.Errorf("Settings = %v, %v", all, err)
		}
	})
	t.Run("delete", func(t *testing.T) {
		for range 2 { // the second time the key is gone: still no error
			if err := db.DeleteSetting(ctx, "theme"); err != nil {
				t.Fatalf("DeleteSetting: %v", err)
			}
		}
		if _, ok, _ := db.Setting(ctx, "theme"); ok {
			t.Error("theme still set after DeleteSetting")
		}
		if v, ok, _ := db.Setting(ctx, "proxy.https_port"); !ok || v != "8443" {
			t.Errorf("another key was touched: %q %v", v, ok)
		}
	})
}

func TestEvents(t *testing.T) {
	db, _ := openTest(t)
	ctx := context.Background()
	base := time.Date(2025, 1, 2, 3, 4, 5, 0, time.UTC)
	// Added out of time order: the result must follow Time, not insertion.
	for _, e := range []Event{
		{Time: base.Add(2 * time.Second), Project: "shop", Service: "web", Kind: "crashed", Detail: "exit status 1"},
		{Time: base, Project: "shop", Service: "web", Kind: "started"},
		{Time: base.Add(time.Second), Project: "blog", Service: "api", Kind: "started"},
		{Time: base.Add(3 * time.Second), Kind: "cert-issued", Detail: "shop.test"},
		{Time: base.Add(3 * time.Second), Project: "shop", Kind: "stopped"}, // same time: later insert first
	} {
		if err := db.AddEvent(ctx, e); err != nil {
			t.Fatalf("AddEvent: %v", err)
		}
	}
	tests := []struct {
		name    string
		project string
		limit   int
		want    []string // kind/project
	}{
		{"all", "", 0, []string{"stopped/shop", "cert-issued/", "crashed/shop", "started/blog", "started/shop"}},
		{"limit", "", 2, []string{"stopped/shop", "cert-issued/"}},
		{"negative limit is no limit", "", -1, []string{"stopped/shop", "cert-issued/", "crashed/shop", "started/blog", "started/shop"}},
		{"project filter", "shop", 0, []string{"stopped/shop", "crashed/shop", "started/shop"}},
		{"project filter and limit", "shop", 2, []string{"stopped/shop", "crashed/shop"}},
		{"unknown project", "nope", 10, nil},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			es, err := db.Events(ctx, tc.project, tc.limit)
			if err != nil {
				t.Fatal(err)
			}
			var got []string
			for _, e := range es {
				got = append(got, e.Kind+"/"+e.Project)
			}
			if !reflect.DeepEqual(got, tc.want) {
				t.Errorf("Events(%q, %d) = %v, want %v", tc.project, tc.limit, got, tc.want)
			}
		})
	}
	t.Run("fields round-trip", func(t *testing.T) {
		es, err := db.Events(ctx, "shop", 0)
		if err != nil {
			t.Fatal(err)
		}
		e := es[1]
		want := Event{ID: e.ID, Time: base.Add(2 * time.Second), Project: "shop", Service: "web", Kind: "crashed", Detail: "exit status 1"}
		if e.ID == 0 || !reflect.DeepEqual(e, want) {
			t.Errorf("event = %+v, want %+v", e, want)
		}
	})
	t.Run("zero time means now", func(t *testing.T) {
		before := time.Now()
		if err := db.AddEvent(ctx, Event{Project: "now", Kind: "started"}); err != nil {
			t.Fatal(err)
		}
		es, err := db.Events(ctx, "now", 1)
		if err != nil || len(es) != 1 {
			t.Fatalf("Events(now) = %v, %v", es, err)
		}
		if es[0].Time.Before(before.Add(-time.Second)) || es[0].Time.After(time.Now().Add(time.Second)) {
			t.Errorf("Time = %v, want about %v", es[0].Time, before)
		}
	})
	t.Run("kind required", func(t *testing.T) {
		var ve *ValidationError
		if err := db.AddEvent(ctx, Event{Project: "shop"}); !errors.As(err, &ve) || ve.Field != "kind" {
			t.Errorf("AddEvent without kind = %v, want *ValidationError for kind", err)
		}
	})
}

// Two handles on one file (two devport processes, in effect) write at the
// same time; the busy timeout and BEGIN IMMEDIATE make them wait, not fail.
func TestConcurrentWriters(t *testing.T) {
	path := filepath.Join(t.TempDir(), "devport.db")
	dbs := []*DB{openAt(t, path), openAt(t, path)}
	ctx := context.Background()
	const workers, rounds = 3, 15

	var wg sync.WaitGroup
	errs := make(chan error, len(dbs)*workers*rounds*4)
	for d, db := range dbs {
		for w := range workers {
			wg.Add(1)
			go func() {
				defer wg.Done()
				for i := range rounds {
					name := fmt.Sprintf("p%d-%d-%d", d, w, i)
					if _, err := db.AddProject(ctx, phpProject(name, name+".test")); err != nil {
						errs <- fmt.Errorf("AddProject %s: %w", name, err)
					}
					if err := db.AddEvent(ctx, Event{Project: name, Kind: "started"}); err != nil {
						errs <- fmt.Errorf("AddEvent %s: %w", name, err)
					}
					if err := db.SetSetting(ctx, "last", name); err != nil {
						errs <- fmt.Errorf("SetSetting %s: %w", name, err)
					}
					if _, err := db.Projects(ctx); err != nil {
						errs <- fmt.Errorf("Projects: %w", err)
					}
				}
			}()
		}
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Error(err)
	}
	want := len(dbs) * workers * rounds
	for i, db := range dbs {
		ps, err := db.Projects(ctx)
		if err != nil || len(ps) != want {
			t.Errorf("handle %d: Projects() = %d projects, %v; want %d", i, len(ps), err, want)
		}
		es, err := db.Events(ctx, "", 0)
		if err != nil || len(es) != want {
			t.Errorf("handle %d: Events() = %d events, %v; want %d", i, len(es), err, want)
		}
	}
}

// Two handles race for the same domain: exactly one wins, the other gets the
// one-line validation error.
func TestConcurrentSameDomain(t *testing.T) {
	path := filepath.Join(t.TempDir(), "devport.db")
	dbs := []*DB{openAt(t, path), openAt(t, path)}
	ctx := context.Background()
	for round := range 10 {
		domain := fmt.Sprintf("race%d.test", round)
		var wg sync.WaitGroup
		errs := make([]error, len(dbs))
		for i, db := range dbs {
			wg.Go(func() {
				_, errs[i] = db.AddProject(ctx, phpProject(fmt.Sprintf("r%d-%d", round, i), domain))
			})
		}
		wg.Wait()
		var won, lost int
		for _, err := range errs {
			var ve *ValidationError
			switch {
			case err == nil:
				won++
			case errors.As(err, &ve) && ve.Field == "domain" && ve.Value == domain:
				lost++
			default:
				t.Errorf("round %d: unexpected error %v", round, err)
			}
		}
		if won != 1 || lost != 1 {
			t.Errorf("round %d: %d added, %d refused; want 1 and 1 (%v)", round, won, lost, errs)
		}
	}
}

func TestOpenCreatesPrivateFiles(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "data", "devport")
	path := filepath.Join(dir, "devport.db")
	db := openAt(t, path)
	mustAdd(t, db, phpProject("shop", "shop.test")) // makes sure the -wal file exists
	tests := []struct {
		name string
		path string
		mode os.FileMode
	}{
		{"parent dir", dir, 0o700 | os.ModeDir},
		{"database", path, 0o600},
		{"wal", path + "-wal", 0o600},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			fi, err := os.Stat(tc.path)
			if err != nil {
				t.Fatal(err)
			}
			if fi.Mode() != tc.mode {
				t.Errorf("mode of %s = %v, want %v", tc.path, fi.Mode(), tc.mode)
			}
		})
	}
}

func TestOpenErrors(t *testing.T) {
	tmp := t.TempDir()
	garbage := filepath.Join(tmp, "garbage.db")
	if err := os.WriteFile(garbage, []byte(strings.Repeat("not a database\n", 100)), 0o600); err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name    string
		opts    Options
		wantErr string
	}{
		{"no path", Options{TLDs: testTLDs}, "store: Options.Path is empty"},
		{"no TLDs", Options{Path: filepath.Join(tmp, "a.db")}, `store: tlds "": no managed TLD is configured; set Options.TLDs, e.g. {"test", "localhost"}`},
		{"TLD with dot", Options{Path: filepath.Join(tmp, "b.db"), TLDs: []string{".test"}}, `store: tld ".test": must be given without the leading dot; use "test"`},
		{"TLD with space", Options{Path: filepath.Join(tmp, "c.db"), TLDs: []string{"my test"}}, `store: tld "my test": must be lowercase letters, digits and hyphens, like test; use "test"`},
		{"not a database", Options{Path: garbage, TLDs: testTLDs}, "store: open " + garbage + ": "},
		{"parent is a file", Options{Path: filepath.Join(garbage, "x.db"), TLDs: testTLDs}, "store: mkdir " + garbage + ": not a directory"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			db, err := Open(context.Background(), tc.opts)
			if err == nil {
				db.Close()
				t.Fatal("Open succeeded")
			}
			if !strings.HasPrefix(err.Error(), tc.wantErr) {
				t.Errorf("error =\n  %v\nwant prefix\n  %s", err, tc.wantErr)
			}
		})
	}
	t.Run("nothing created for bad options", func(t *testing.T) {
		for _, name := range []string{"a.db", "b.db", "c.db"} {
			if _, err := os.Stat(filepath.Join(tmp, name)); !errors.Is(err, os.ErrNotExist) {
				t.Errorf("%s exists after a refused Open", name)
			}
		}
	})
}

func TestOpenPathWithSpecialCharacters(t *testing.T) {
	path := filepath.Join(t.TempDir(), "dir with space?x#y%z", "devport.db")
	db := openAt(t, path)
	mustAdd(t, db, phpProject("shop", "shop.test"))
	if _, err := os.Stat(path); err != nil {
		t.Errorf("database not at %s: %v", path, err)
	}
}
