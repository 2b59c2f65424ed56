//go:build unix

package stacks

import (
	"bytes"
	"context"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/devport/devport/internal/stackdef"
	"github.com/devport/devport/internal/testenv"
)

// TestPostgres starts a private PostgreSQL once and drives it as a project
// would: the user over TCP with its password, a restart, a restart with a
// session open, a dump and its restore, a dump the server refuses, the
// shell, a test suite's own database.
func TestPostgres(t *testing.T) {
	requireStack(t, stackdef.Postgres)
	psql := testenv.Tool(t, "psql")
	spec := dataSpec(t, stackdef.Postgres) // no supervisor: it would end the sessions at a stop itself
	r := newData(t, spec)
	stopData(t, r)
	db, ok := r.(Database)
	if !ok {
		t.Fatal("the postgres runner is not a Database")
	}
	// query runs sql as the user over TCP, with its password.
	query := func(t *testing.T, dbname, sql string) (string, error) {
		t.Helper()
		ctx, cancel := context.WithTimeout(t.Context(), 20*time.Second)
		defer cancel()
		cmd := exec.CommandContext(ctx, psql, "-X", "-q", "-A", "-t", "-v", "ON_ERROR_STOP=1",
			"-h", "127.0.0.1", "-p", strconv.Itoa(spec.Port), "-U", spec.User, "-d", dbname, "-c", sql)
		cmd.Env = append(os.Environ(), "PGPASSWORD="+spec.Password)
		out, err := cmd.CombinedOutput()
		return strings.TrimSpace(string(out)), err
	}
	mustQuery := func(t *testing.T, sql string) string {
		t.Helper()
		out, err := query(t, spec.Database, sql)
		if err != nil {
			t.Fatalf("%s: %v: %s", sql, err, out)
		}
		return out
	}
	rows := func(t *testing.T) string { return mustQuery(t, "SELECT name FROM items ORDER BY id") }

	runSteps(t, []step{
		{"start creates the role and the database", func(t *testing.T) {
			began := time.Now()
			up := startData(t, r)
			t.Logf("first start (initdb included) took %s", time.Since(began).Round(time.Millisecond))
			if want := (Upstream{Network: "tcp", Address: "127.0.0.1:" + strconv.Itoa(spec.Port)}); up != want {
				t.Errorf("upstream %v, want %v", up, want)
			}
			mustQuery(t, "CREATE TABLE items (id serial PRIMARY KEY, name text); INSERT INTO items (name) VALUES ('kept')")
			if got := rows(t); got != "kept" {
				t.Errorf("rows %q", got)
			}
			if owner := mustQuery(t, "SELECT pg_get_userbyid(datdba) FROM pg_database WHERE datname = current_database()"); owner != spec.User {
				t.Errorf("database owned by %q, want %q", owner, spec.User)
			}
		}},
		{"a wrong password is refused", func(t *testing.T) {
			cmd := exec.CommandContext(t.Context(), psql, "-X", "-h", "127.0.0.1", "-p", strconv.Itoa(spec.Port), "-U", spec.User, "-d", spec.Database, "-c", "SELECT 1")
			cmd.Env = append(os.Environ(), "PGPASSWORD=wrong")
			if out, err := cmd.CombinedOutput(); err == nil || !strings.Contains(string(out), "password authentication failed") {
				t.Errorf("psql with a wrong password: %v: %s", err, out)
			}
		}},
		{"the server runs as another account when devport is root", func(t *testing.T) {
			assertServerNotRoot(t, r, "postgres")
		}},
		{"the data survives a restart", func(t *testing.T) {
			began := time.Now()
			restartData(t, r)
			t.Logf("stop and start took %s", time.Since(began).Round(time.Millisecond))
			assertLogSays(t, spec, "database system is shut down")
			if got := rows(t); got != "kept" {
				t.Errorf("rows after the restart %q, want kept", got)
			}
		}},
		{"a stop does not wait for open sessions", func(t *testing.T) {
			// An app's pooled connection: a session that stays open.
			cmd := exec.CommandContext(t.Context(), psql, "-X", "-h", "127.0.0.1", "-p", strconv.Itoa(spec.Port),
				"-U", spec.User, "-d", spec.Database, "-c", "SELECT pg_sleep(60)")
			cmd.Env = append(os.Environ(), "PGPASSWORD="+spec.Password)
			if err := cmd.Start(); err != nil {
				t.Fatal(err)
			}
			defer cmd.Wait()
			defer cmd.Process.Kill()
			for deadline := time.Now().Add(5 * time.Second); mustQuery(t, "SELECT count(*) FROM pg_stat_activity WHERE query LIKE 'SELECT pg_sleep%'") != "1"; time.Sleep(20 * time.Millisecond) {
				if time.Now().After(deadline) {
					t.Fatal("the session did not start")
				}
			}
			began := time.Now()
			restartData(t, r)
			if took := time.Since(began); took > spec.StopTimeout/2 {
				t.Errorf("stop and start took %s with a session open (stop timeout %s)", took, spec.StopTimeout)
			}
			assertLogSays(t, spec, "received fast shutdown request")
			if got := rows(t); got != "kept" {
				t.Errorf("rows after the restart %q, want kept", got)
			}
		}},
		{"dump and restore bring the rows back", func(t *testing.T) {
			var dump bytes.Buffer
			if err := db.Dump(t.Context(), &dump); err != nil {
				t.Fatalf("Dump: %v", err)
			}
			if !strings.Contains(dump.String(), "CREATE TABLE public.items") || strings.Contains(dump.String(), "OWNER TO") {
				t.Errorf("dump has no items table, or sets owners:\n%.800s", dump.String())
			}
			mustQuery(t, "INSERT INTO items (name) VALUES ('changed'); CREATE TABLE extra (id int)")
			if err := db.Restore(t.Context(), &dump); err != nil {
				t.Fatalf("Restore: %v", err)
			}
			if got := rows(t); got != "kept" {
				t.Errorf("rows after the restore %q, want kept", got)
			}
			if out, err := query(t, spec.Database, "SELECT count(*) FROM extra"); err == nil {
				t.Errorf("table extra survived the restore: %s", out)
			}
			if owner := mustQuery(t, "SELECT tableowner FROM pg_tables WHERE tablename = 'items'"); owner != spec.User {
				t.Errorf("restored table owned by %q, want %q", owner, spec.User)
			}
			mustQuery(t, "INSERT INTO items (name) VALUES ('after'); DELETE FROM items WHERE name = 'after'")
		}},
		{"a dump the server refuses leaves the data", func(t *testing.T) {
			bad := "CREATE TABLE fine (id int);\nINSERT INTO fine VALUES (1);\nTHIS IS NOT SQL;\n"
			err := db.Restore(t.Context(), strings.NewReader(bad))
			if err == nil || !strings.Contains(err.Error(), `syntax error at or near "THIS"`) || !strings.Contains(err.Error(), "unchanged") {
				t.Fatalf("Restore of a corrupt dump = %v, want the server's syntax error", err)
			}
			t.Logf("Restore: %v", err)
			if got := rows(t); got != "kept" {
				t.Errorf("rows after a failed restore %q, want kept", got)
			}
			if out := mustQuery(t, "SELECT datname FROM pg_database WHERE datname LIKE 'devport_restore%'"); out != "" {
				t.Errorf("scratch database left behind: %s", out)
			}
		}},
		{"the shell connects as the user", func(t *testing.T) {
			argv, env := db.Shell()
			ctx, cancel := context.WithTimeout(t.Context(), 10*time.Second)
			defer cancel()
			cmd := exec.CommandContext(ctx, argv[0], append(argv[1:], "-X", "-A", "-t", "-c", "SELECT current_user, count(*) FROM items")...)
			cmd.Env = append(os.Environ(), env...)
			out, err := cmd.CombinedOutput()
			if err != nil || strings.TrimSpace(string(out)) != spec.User+"|1" {
				t.Errorf("shell %q: %v: %s", argv, err, out)
			}
			if strings.Contains(strings.Join(argv, " "), spec.Password) {
				t.Error("the password is on the command line")
			}
		}},
		{"a test suite creates its own database", func(t *testing.T) {
			mustQuery(t, "CREATE DATABASE test_shop")
			if out, err := query(t, "test_shop", "CREATE TABLE t (id int); INSERT INTO t VALUES (1)"); err != nil {
				t.Errorf("fill test_shop: %v: %s", err, out)
			}
			mustQuery(t, "DROP DATABASE test_shop")
		}},
	})
}
