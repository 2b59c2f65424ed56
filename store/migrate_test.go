package store

import (
	"context"
	"database/sql"
	"errors"
	"path/filepath"
	"reflect"
	"strings"
	"sync"
	"testing"
	"testing/fstest"
)

func TestEmbeddedMigrations(t *testing.T) {
	ms, err := loadMigrations(migrationFiles)
	if err != nil {
		t.Fatalf("embedded migrations: %v", err)
	}
	if len(ms) == 0 || ms[0].name != "0001_init.sql" {
		t.Fatalf("embedded migrations = %v, want 0001_init.sql first", ms)
	}
}

func TestLoadMigrations(t *testing.T) {
	file := func(s string) *fstest.MapFile { return &fstest.MapFile{Data: []byte(s)} }
	tests := []struct {
		name     string
		fs       fstest.MapFS
		versions []int
		wantErr  string
	}{
		{"none", fstest.MapFS{}, nil, ""},
		{"sorted by number", fstest.MapFS{
			"migrations/0010_j.sql": file("j"), "migrations/0002_b.sql": file("b"), "migrations/0001_a.sql": file("a"),
			"migrations/0003_c.sql": file("c"), "migrations/0004_d.sql": file("d"), "migrations/0005_e.sql": file("e"),
			"migrations/0006_f.sql": file("f"), "migrations/0007_g.sql": file("g"), "migrations/0008_h.sql": file("h"),
			"migrations/0009_i.sql": file("i"), "migrations/README.md": file("ignored"),
		}, []int{1, 2, 3, 4, 5, 6, 7, 8, 9, 10}, ""},
		{"gap", fstest.MapFS{"migrations/0001_a.sql": file("a"), "migrations/0003_c.sql": file("c")},
			nil, "migration 0003_c.sql: expected version 2"},
		{"repeat", fstest.MapFS{"migrations/0001_a.sql": file("a"), "migrations/001_b.sql": file("b")},
			nil, "expected version 2"},
		{"not from one", fstest.MapFS{"migrations/0002_b.sql": file("b")},
			nil, "migration 0002_b.sql: expected version 1"},
		{"no number", fstest.MapFS{"migrations/init.sql": file("a")},
			nil, "migration init.sql: name must be NNNN_what.sql"},
		{"zero", fstest.MapFS{"migrations/0000_a.sql": file("a")},
			nil, "migration 0000_a.sql: name must be NNNN_what.sql"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			ms, err := loadMigrations(tc.fs)
			if tc.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tc.wantErr) {
					t.Fatalf("error = %v, want %q", err, tc.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			var got []int
			for _, m := range ms {
				got = append(got, m.version)
			}
			if !reflect.DeepEqual(got, tc.versions) {
				t.Errorf("versions = %v, want %v", got, tc.versions)
			}
		})
	}
}

// recorded returns the versions and names in schema_migrations.
func recorded(t *testing.T, q interface {
	QueryContext(context.Context, string, ...any) (*sql.Rows, error)
}) []string {
	t.Helper()
	rows, err := q.QueryContext(context.Background(), `SELECT version, name FROM schema_migrations ORDER BY version`)
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	var got []string
	for rows.Next() {
		var v int
		var name string
		if err := rows.Scan(&v, &name); err != nil {
			t.Fatal(err)
		}
		got = append(got, name)
	}
	if err := rows.Err(); err != nil {
		t.Fatal(err)
	}
	return got
}

func embeddedNames(t *testing.T) []string {
	t.Helper()
	ms, err := loadMigrations(migrationFiles)
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, m := range ms {
		names = append(names, m.name)
	}
	return names
}

func TestMigrateFreshDatabase(t *testing.T) {
	db, _ := openTest(t)
	if got, want := recorded(t, db.r), embeddedNames(t); !reflect.DeepEqual(got, want) {
		t.Errorf("schema_migrations = %v, want %v", got, want)
	}
	for _, table := range []string{"projects", "domains", "services", "settings", "events", "schema_migrations"} {
		t.Run(table, func(t *testing.T) {
			if n := count(t, db, `SELECT COUNT(*) FROM sqlite_master WHERE type = 'table' AND name = ?`, table); n != 1 {
				t.Errorf("table %s missing", table)
			}
		})
	}
}

func TestReopenIsIdempotent(t *testing.T) {
	path := filepath.Join(t.TempDir(), "devport.db")
	ctx := context.Background()
	db, err := Open(ctx, Options{Path: path, TLDs: testTLDs})
	if err != nil {
		t.Fatal(err)
	}
	added := mustAdd(t, db, phpProject("shop", "shop.test"))
	before := dump(t, db)
	if err := db.Close(); err != nil {
		t.Fatal(err)
	}

	for _, round := range []string{"second open", "third open"} {
		t.Run(round, func(t *testing.T) {
			db := openAt(t, path)
			if after := dump(t, db); after != before {
				t.Errorf("reopening changed the database:\nbefore:\n%s\nafter:\n%s", before, after)
			}
			got, err := db.Project(ctx, "shop")
			if err != nil || !reflect.DeepEqual(got, added) {
				t.Errorf("Project(shop) = %+v, %v; want %+v", got, err, added)
			}
		})
	}
}

func TestPragmas(t *testing.T) {
	db, _ := openTest(t)
	pools := []struct {
		name string
		db   *sql.DB
	}{{"writer", db.w}, {"reader", db.r}}
	pragmas := []struct{ pragma, want string }{
		{"journal_mode", "wal"},
		{"busy_timeout", "5000"},
		{"foreign_keys", "1"},
		{"synchronous", "1"}, // NORMAL, safe with WAL
	}
	for _, pool := range pools {
		for _, p := range pragmas {
			t.Run(pool.name+"/"+p.pragma, func(t *testing.T) {
				var got string
				if err := pool.db.QueryRowContext(context.Background(), "PRAGMA "+p.pragma).Scan(&got); err != nil {
					t.Fatal(err)
				}
				if got != p.want {
					t.Errorf("PRAGMA %s = %q, want %q", p.pragma, got, p.want)
				}
			})
		}
	}
}

func TestNewerSchemaIsRefused(t *testing.T) {
	path := filepath.Join(t.TempDir(), "devport.db")
	ctx := context.Background()
	db, err := Open(ctx, Options{Path: path, TLDs: testTLDs})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := db.w.ExecContext(ctx, `INSERT INTO schema_migrations (version, name, applied_at) VALUES (999, '0999_future.sql', '')`); err != nil {
		t.Fatal(err)
	}
	before := dump(t, db)
	if err := db.Close(); err != nil {
		t.Fatal(err)
	}

	db2, err := Open(ctx, Options{Path: path, TLDs: testTLDs})
	if err == nil {
		db2.Close()
		t.Fatal("Open succeeded on a database from the future")
	}
	if !errors.Is(err, ErrNewerSchema) {
		t.Errorf("error = %v, want ErrNewerSchema", err)
	}
	for _, want := range []string{path, "schema version 999", "upgrade devport"} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("error %q does not mention %q", err, want)
		}
	}
	if strings.Contains(err.Error(), "\n") {
		t.Errorf("error is not one line: %q", err)
	}

	// The refused file must be untouched: look at it with a raw connection.
	raw, err := sql.Open("sqlite3", dsn(path, "deferred"))
	if err != nil {
		t.Fatal(err)
	}
	defer raw.Close()
	if after := dump(t, &DB{r: raw}); after != before {
		t.Errorf("refused open changed the database:\nbefore:\n%s\nafter:\n%s", before, after)
	}
}

func TestFailedMigrationRollsBack(t *testing.T) {
	ctx := context.Background()
	raw, err := sql.Open("sqlite3", dsn(filepath.Join(t.TempDir(), "m.db"), "immediate"))
	if err != nil {
		t.Fatal(err)
	}
	defer raw.Close()
	raw.SetMaxOpenConns(1)

	good := fstest.MapFS{"migrations/0001_a.sql": {Data: []byte(`CREATE TABLE a (x INTEGER);`)}}
	if err := migrate(ctx, raw, good); err != nil {
		t.Fatal(err)
	}
	bad := fstest.MapFS{
		"migrations/0001_a.sql": good["migrations/0001_a.sql"],
		"migrations/0002_b.sql": {Data: []byte("CREATE TABLE b (x INTEGER);\nINSERT INTO missing VALUES (1);")},
	}
	err = migrate(ctx, raw, bad)
	if err == nil || !strings.Contains(err.Error(), "migration 0002_b.sql") {
		t.Fatalf("migrate error = %v, want one naming 0002_b.sql", err)
	}
	if got := recorded(t, raw); !reflect.DeepEqual(got, []string{"0001_a.sql"}) {
		t.Errorf("schema_migrations = %v, want only 0001_a.sql", got)
	}
	var n int
	if err := raw.QueryRowContext(ctx, `SELECT COUNT(*) FROM sqlite_master WHERE name = 'b'`).Scan(&n); err != nil || n != 0 {
		t.Errorf("table b left behind by a failed migration (count %d, %v)", n, err)
	}
}

// Two processes starting at once on a new file both migrate it; each
// migration must be applied exactly once.
func TestConcurrentOpen(t *testing.T) {
	path := filepath.Join(t.TempDir(), "devport.db")
	const n = 4
	dbs := make([]*DB, n)
	errs := make([]error, n)
	var wg sync.WaitGroup
	for i := range n {
		wg.Go(func() { dbs[i], errs[i] = Open(context.Background(), Options{Path: path, TLDs: testTLDs}) })
	}
	wg.Wait()
	for i := range n {
		if errs[i] != nil {
			t.Errorf("Open %d: %v", i, errs[i])
			continue
		}
		t.Cleanup(func() { dbs[i].Close() })
	}
	if t.Failed() {
		return
	}
	if got, want := recorded(t, dbs[0].r), embeddedNames(t); !reflect.DeepEqual(got, want) {
		t.Errorf("schema_migrations = %v, want %v", got, want)
	}
}
