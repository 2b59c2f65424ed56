package stacks

import (
	"context"
	"fmt"
	"io"
	"os"
	"strconv"
	"strings"

	"github.com/devport/devport/internal/stackdef"
)

// containerDatabase is the container runner of a database stack (mariadb,
// postgres): a Database. Its clients run in the service's container
// (docker exec), so the host needs none, and the versions of client and
// server always match.
type containerDatabase struct {
	*containerRunner
}

var _ Database = (*containerDatabase)(nil)

// running is the container Dump and Restore run their clients in.
func (d *containerDatabase) running(op string) (string, error) {
	c := d.current()
	if c == nil || !c.running() {
		return "", fmt.Errorf("%s %s: the service is not running: start it first", op, d.spec.label())
	}
	return c.id, nil
}

// Dump writes a plain-SQL dump of Spec.Database: mariadb-dump
// --single-transaction (a consistent snapshot of InnoDB tables without
// locking them) with routines, triggers and events, as root; pg_dump
// without owners and grants, so that the dump loads into a database of
// another user.
func (d *containerDatabase) Dump(ctx context.Context, w io.Writer) error {
	id, err := d.running("dump")
	if err != nil {
		return err
	}
	e := d.dumpCommand()
	e.stdout = w
	if err := d.execIn(ctx, id, e); err != nil {
		return fmt.Errorf("dump %s: %w", d.spec.label(), err)
	}
	return nil
}

func (d *containerDatabase) dumpCommand() execSpec {
	if d.spec.Stack == stackdef.MariaDB {
		return execSpec{cmd: []string{"mariadb-dump", "--user=root", "--single-transaction", "--routines", "--triggers",
			"--events", "--hex-blob", "--default-character-set=utf8mb4", d.spec.Database}, env: d.rootEnv()}
	}
	return execSpec{cmd: []string{"pg_dump", "--username=" + d.spec.User, "--no-owner", "--no-privileges",
		"--dbname=" + d.spec.Database}, env: d.userEnv()}
}

// rootEnv and userEnv carry the password into an exec.
func (d *containerDatabase) rootEnv() []string { return []string{"MYSQL_PWD=" + d.spec.Password} }
func (d *containerDatabase) userEnv() []string {
	if d.spec.Stack == stackdef.MariaDB {
		return []string{"MYSQL_PWD=" + d.spec.Password}
	}
	return []string{"PGPASSWORD=" + d.spec.Password}
}

// Restore replaces Spec.Database with the dump read from r. A dump the
// server refuses leaves the old content in place:
//
//   - postgres loads it into a scratch database in one transaction, and
//     only once that succeeded drops the old database and renames the
//     scratch one;
//   - mariadb (which cannot rename a database) first dumps the old content
//     into a file in Spec.RunDir, then drops, creates and loads; when the
//     load fails it loads the old content back, and when even that fails
//     the error names the file, which is then kept.
func (d *containerDatabase) Restore(ctx context.Context, r io.Reader) error {
	id, err := d.running("restore")
	if err != nil {
		return err
	}
	if d.spec.Stack == stackdef.MariaDB {
		err = d.restoreMariaDB(ctx, id, r)
	} else {
		err = d.restorePostgres(ctx, id, r)
	}
	if err != nil {
		return fmt.Errorf("restore %s: %w", d.spec.label(), err)
	}
	return nil
}

// mariadbSQL runs statements as root.
func (d *containerDatabase) mariadbSQL(ctx context.Context, id, sql string) error {
	return d.execIn(ctx, id, execSpec{cmd: []string{"mariadb", "--user=root", "--execute=" + sql}, env: d.rootEnv()})
}

func (d *containerDatabase) restoreMariaDB(ctx context.Context, id string, r io.Reader) error {
	db := "`" + d.spec.Database + "`"
	recreate := "DROP DATABASE IF EXISTS " + db + "; CREATE DATABASE " + db
	if err := d.mariadbSQL(ctx, id, "CREATE DATABASE IF NOT EXISTS "+db); err != nil {
		return err
	}
	if err := os.MkdirAll(d.spec.RunDir, 0o700); err != nil {
		return fmt.Errorf("create run folder: %w", err)
	}
	backup, err := os.CreateTemp(d.spec.RunDir, d.spec.Database+"-before-restore-*.sql")
	if err != nil {
		return fmt.Errorf("back up the current content: %w", err)
	}
	keep := false
	defer func() {
		backup.Close()
		if !keep {
			os.Remove(backup.Name())
		}
	}()
	e := d.dumpCommand()
	e.stdout = backup
	if err := d.execIn(ctx, id, e); err != nil {
		return fmt.Errorf("back up the current content: %w", err)
	}
	if err := d.mariadbSQL(ctx, id, recreate); err != nil {
		return err
	}
	load := func(in io.Reader) error {
		return d.execIn(ctx, id, execSpec{cmd: []string{"mariadb", "--user=root", d.spec.Database}, env: d.rootEnv(), stdin: in})
	}
	loadErr := load(r)
	if loadErr == nil {
		return nil
	}
	// Put the old content back, even when ctx ended.
	ctx = context.WithoutCancel(ctx)
	_, err = backup.Seek(0, io.SeekStart)
	if err == nil {
		if err = d.mariadbSQL(ctx, id, recreate); err == nil {
			err = load(backup)
		}
	}
	if err != nil {
		keep = true
		return fmt.Errorf("%w; putting the old content back failed too (%v): it is in %s", loadErr, err, backup.Name())
	}
	return fmt.Errorf("%w (the database is as it was)", loadErr)
}

// psql runs statements as Spec.User (the superuser of postgres's image)
// in database db, each in its own transaction (CREATE and DROP DATABASE
// cannot run in one).
func (d *containerDatabase) psql(ctx context.Context, id, db string, out io.Writer, sql ...string) error {
	cmd := []string{"psql", "--username=" + d.spec.User, "--dbname=" + db, "--no-psqlrc", "--quiet",
		"--no-align", "--tuples-only", "--set=ON_ERROR_STOP=1"}
	for _, s := range sql {
		cmd = append(cmd, "--command="+s)
	}
	return d.execIn(ctx, id, execSpec{cmd: cmd, env: d.userEnv(), stdout: out})
}

// containerPGIdent quotes a validated name (containerSQLNameRe) as a
// postgres identifier.
func containerPGIdent(name string) string { return `"` + name + `"` }

func (d *containerDatabase) restorePostgres(ctx context.Context, id string, r io.Reader) error {
	scratch := d.spec.Database + "_devport_restore"
	if len(scratch) > 63 {
		scratch = scratch[len(scratch)-63:]
	}
	// Connections to the old database end with it (WITH (FORCE) from
	// PostgreSQL 13 on, pg_terminate_backend before that).
	var version strings.Builder
	if err := d.psql(ctx, id, "postgres", &version, "SHOW server_version_num"); err != nil {
		return err
	}
	force := ""
	if n, _ := strconv.Atoi(strings.TrimSpace(version.String())); n >= 130000 {
		force = " WITH (FORCE)"
	}
	if err := d.psql(ctx, id, "postgres", nil,
		"DROP DATABASE IF EXISTS "+containerPGIdent(scratch)+force,
		"CREATE DATABASE "+containerPGIdent(scratch)+" OWNER "+containerPGIdent(d.spec.User)); err != nil {
		return err
	}
	loadErr := d.execIn(ctx, id, execSpec{
		cmd: []string{"psql", "--username=" + d.spec.User, "--dbname=" + scratch, "--no-psqlrc", "--quiet",
			"--set=ON_ERROR_STOP=1", "--single-transaction"},
		env: d.userEnv(), stdin: r,
	})
	if loadErr != nil {
		dropErr := d.psql(context.WithoutCancel(ctx), id, "postgres", nil, "DROP DATABASE IF EXISTS "+containerPGIdent(scratch)+force)
		if dropErr != nil {
			return fmt.Errorf("%w (the database is as it was; the scratch database %s is left: %v)", loadErr, scratch, dropErr)
		}
		return fmt.Errorf("%w (the database is as it was)", loadErr)
	}
	terminate := "SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity WHERE datname = '" + d.spec.Database +
		"' AND pid <> pg_backend_pid()"
	if err := d.psql(ctx, id, "postgres", nil, terminate,
		"DROP DATABASE IF EXISTS "+containerPGIdent(d.spec.Database)+force,
		"ALTER DATABASE "+containerPGIdent(scratch)+" RENAME TO "+containerPGIdent(d.spec.Database)); err != nil {
		return fmt.Errorf("swap in the restored database (it is loaded in %s): %w", scratch, err)
	}
	return nil
}

// Shell is `docker exec -it CONTAINER mariadb|psql` connected to
// Spec.Database as Spec.User; the password is in the returned environment
// and reaches the client through `-e NAME` (docker exec copies the value
// from its own environment), never on a command line.
func (d *containerDatabase) Shell() (argv, env []string) {
	target := d.ContainerID()
	if target == "" {
		target = containerName(d.spec.Home, d.spec.Project, d.spec.Service)
	}
	pw := d.userEnv()[0]
	name, _, _ := strings.Cut(pw, "=")
	argv = []string{"docker", "exec", "-it", "-e", name, target}
	if d.spec.Stack == stackdef.MariaDB {
		argv = append(argv, "mariadb", "--user="+d.spec.User, d.spec.Database)
	} else {
		argv = append(argv, "psql", "--username="+d.spec.User, "--dbname="+d.spec.Database)
	}
	return argv, []string{pw}
}
