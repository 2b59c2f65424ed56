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

// step is one named step of a test that drives one server through its
// life: each needs the ones before it.
type step struct {
	name string
	run  func(t *testing.T)
}

// runSteps runs steps as subtests in order, and stops at the first that
// fails.
func runSteps(t *testing.T, steps []step) {
	t.Helper()
	for _, s := range steps {
		if !t.Run(s.name, s.run) {
			t.Fatalf("step %q failed: not running the rest", s.name)
		}
	}
}

// TestMariaDB starts a private MariaDB once and drives it as a project
// would: the user over TCP, a restart, a dump and its restore, a dump the
// server refuses, the shell, a test suite's own database.
func TestMariaDB(t *testing.T) {
	requireStack(t, stackdef.MariaDB)
	client := testenv.Tool(t, "mariadb")
	spec := dataSpec(t, stackdef.MariaDB)
	r := newData(t, spec)
	stopData(t, r)
	db, ok := r.(Database)
	if !ok {
		t.Fatal("the mariadb runner is not a Database")
	}
	// query runs sql as the user, over TCP, and returns the rows.
	query := func(t *testing.T, sql string) (string, error) {
		t.Helper()
		ctx, cancel := context.WithTimeout(t.Context(), 20*time.Second)
		defer cancel()
		cmd := exec.CommandContext(ctx, client, "--no-defaults", "--protocol=TCP", "--host=127.0.0.1",
			"--port="+strconv.Itoa(spec.Port), "--user="+spec.User, "--batch", "--skip-column-names", spec.Database, "-e", sql)
		cmd.Env = append(os.Environ(), "MYSQL_PWD="+spec.Password)
		out, err := cmd.CombinedOutput()
		return strings.TrimSpace(string(out)), err
	}
	mustQuery := func(t *testing.T, sql string) string {
		t.Helper()
		out, err := query(t, sql)
		if err != nil {
			t.Fatalf("%s: %v: %s", sql, err, out)
		}
		return out
	}
	rows := func(t *testing.T) string { return mustQuery(t, "SELECT name FROM items ORDER BY id") }

	runSteps(t, []step{
		{"start creates the database and the user", func(t *testing.T) {
			began := time.Now()
			up := startData(t, r)
			t.Logf("first start (install-db included) took %s", time.Since(began).Round(time.Millisecond))
			if want := (Upstream{Network: "tcp", Address: "127.0.0.1:" + strconv.Itoa(spec.Port)}); up != want {
				t.Errorf("upstream %v, want %v", up, want)
			}
			mustQuery(t, "CREATE TABLE items (id INT AUTO_INCREMENT PRIMARY KEY, name VARCHAR(50)); INSERT INTO items (name) VALUES ('kept')")
			if got := rows(t); got != "kept" {
				t.Errorf("rows %q", got)
			}
		}},
		{"the server runs as another account when devport is root", func(t *testing.T) {
			assertServerNotRoot(t, r, "mariadbd")
		}},
		{"the data survives a restart", func(t *testing.T) {
			began := time.Now()
			restartData(t, r)
			t.Logf("stop and start took %s", time.Since(began).Round(time.Millisecond))
			assertLogSays(t, spec, "mariadbd: Shutdown complete")
			if got := rows(t); got != "kept" {
				t.Errorf("rows after the restart %q, want kept", got)
			}
		}},
		{"dump and restore bring the rows back", func(t *testing.T) {
			var dump bytes.Buffer
			if err := db.Dump(t.Context(), &dump); err != nil {
				t.Fatalf("Dump: %v", err)
			}
			if !strings.Contains(dump.String(), "CREATE TABLE `items`") || strings.Contains(dump.String(), "CREATE DATABASE") {
				t.Errorf("dump has no items table, or creates a database:\n%.500s", dump.String())
			}
			mustQuery(t, "INSERT INTO items (name) VALUES ('changed'); CREATE TABLE extra (id INT)")
			if err := db.Restore(t.Context(), &dump); err != nil {
				t.Fatalf("Restore: %v", err)
			}
			if got := rows(t); got != "kept" {
				t.Errorf("rows after the restore %q, want kept", got)
			}
			if out, err := query(t, "SELECT COUNT(*) FROM extra"); err == nil {
				t.Errorf("table extra survived the restore: %s", out)
			}
		}},
		{"a dump the server refuses leaves the data", func(t *testing.T) {
			bad := "CREATE TABLE fine (id INT);\nINSERT INTO fine VALUES (1);\nTHIS IS NOT SQL;\n"
			err := db.Restore(t.Context(), strings.NewReader(bad))
			if err == nil || !strings.Contains(err.Error(), "ERROR 1064") || !strings.Contains(err.Error(), "unchanged") {
				t.Fatalf("Restore of a corrupt dump = %v, want the server's ERROR 1064", err)
			}
			t.Logf("Restore: %v", err)
			if got := rows(t); got != "kept" {
				t.Errorf("rows after a failed restore %q, want kept", got)
			}
			if out := mustQuery(t, "SHOW DATABASES LIKE 'devport\\_restore%'"); out != "" {
				t.Errorf("scratch database left behind: %s", out)
			}
		}},
		{"the shell connects as the user", func(t *testing.T) {
			argv, env := db.Shell()
			ctx, cancel := context.WithTimeout(t.Context(), 10*time.Second)
			defer cancel()
			cmd := exec.CommandContext(ctx, argv[0], append(argv[1:], "--batch", "--skip-column-names", "-e", "SELECT CURRENT_USER(), COUNT(*) FROM items")...)
			cmd.Env = append(os.Environ(), env...)
			out, err := cmd.CombinedOutput()
			if err != nil || strings.Fields(string(out))[0] != spec.User+"@127.0.0.1" {
				t.Errorf("shell %q: %v: %s", argv, err, out)
			}
			if strings.Contains(strings.Join(argv, " "), spec.Password) {
				t.Error("the password is on the command line")
			}
		}},
		{"a test suite creates its own database", func(t *testing.T) {
			mustQuery(t, "CREATE DATABASE test_shop; CREATE TABLE test_shop.t (id INT); INSERT INTO test_shop.t VALUES (1); DROP DATABASE test_shop")
			if out, err := query(t, "SHUTDOWN"); err == nil {
				t.Errorf("the user may shut the server down: %s", out)
			}
		}},
	})
}
