package stacks

import (
	"context"
	"crypto/rand"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"net"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"time"
)

// mariadb is the mariadb stack (MySQL's protocol) in the process runtime:
//
//	mariadbd --no-defaults --datadir=DataDir --socket=RunDir/mariadb.sock
//	  --port=Port --bind-address=127.0.0.1 --pid-file=RunDir/mariadbd.pid ...
//
// with an empty DataDir initialized first by mariadb-install-db. The admin
// account is devport's own login name (or root), authenticated by the
// unix_socket plugin over the socket in RunDir (0700): no password exists
// for it, and it cannot log in over TCP. On every start devport creates,
// when missing, Spec.Database and Spec.User with Spec.Password for the
// hosts localhost, 127.0.0.1 and % (the container runtime's helpers reach
// it by name). The user has every privilege on Spec.Database, and on every
// database the privileges a schema needs (so that test suites can create
// and fill their own), but none that administers the server (FILE, SUPER,
// SHUTDOWN, PROCESS, RELOAD, CREATE USER, GRANT OPTION). When devport runs
// as root, mariadbd runs as WorkerUser's account (see data_process.go).
type mariadb struct {
	spec  Spec
	tools toolchain
}

func newMariaDB(spec Spec, tools toolchain) *mariadb { return &mariadb{spec: spec, tools: tools} }

// mariadbBins are the MariaDB programs devport runs.
type mariadbBins struct {
	server, installDB, client, dump string
}

// mariadb finds MariaDB's server and clients.
func (t toolchain) mariadb() (mariadbBins, error) {
	var b mariadbBins
	for _, p := range []struct {
		dst       *string
		name, pkg string
	}{
		{&b.server, "mariadbd", pkgMariaDB},
		{&b.installDB, "mariadb-install-db", pkgMariaDB},
		{&b.client, "mariadb", pkgMariaDBClient},
		{&b.dump, "mariadb-dump", pkgMariaDBClient},
	} {
		var err error
		if *p.dst, err = t.findData(p.name, p.pkg); err != nil {
			return mariadbBins{}, err
		}
	}
	return b, nil
}

func (m *mariadb) socketPath() string { return filepath.Join(m.spec.RunDir, "mariadb.sock") }
func (m *mariadb) pidPath() string    { return filepath.Join(m.spec.RunDir, "mariadbd.pid") }

func (m *mariadb) prepare(ctx context.Context, _ int) (launch, error) {
	bins, err := m.tools.mariadb()
	if err != nil {
		return launch{}, err
	}
	have, err := versionOf(bins.server, []string{"--version"}, mariadbVersionRe, 2)
	if err != nil {
		return launch{}, err
	}
	if _, err := pickVersion(m.spec.Stack, m.spec.Version, have); err != nil {
		return launch{}, err
	}
	admin, err := osUserName()
	if err != nil {
		return launch{}, err
	}
	acct, err := serverAccount(m.spec)
	if err != nil {
		return launch{}, err
	}
	sock := m.socketPath()
	if err := prepareData(ctx, m.spec, acct, "mysql", sock); err != nil {
		return launch{}, err
	}
	err = initDataDir(ctx, m.spec, acct, func(ctx context.Context, dir string) error {
		return runSetup(ctx, m.spec, m.tools, acct, m.spec.RunDir, []string{bins.installDB,
			"--no-defaults", "--datadir=" + dir,
			"--auth-root-authentication-method=socket", "--auth-root-socket-user=" + admin,
			"--skip-test-db", "--skip-name-resolve"})
	})
	if err != nil {
		return launch{}, err
	}
	_ = os.Remove(m.pidPath())
	argv, err := asAccount(m.tools, acct, []string{bins.server,
		"--no-defaults", // first, or it reads /etc/mysql
		"--datadir=" + m.spec.DataDir,
		"--socket=" + sock,
		"--port=" + strconv.Itoa(m.spec.Port),
		"--bind-address=127.0.0.1",
		"--pid-file=" + m.pidPath(),
		"--skip-name-resolve",
		"--character-set-server=utf8mb4",
	})
	if err != nil {
		return launch{}, err
	}
	return launch{
		path:       argv[0],
		args:       argv[1:],
		dir:        m.spec.RunDir,
		env:        append(os.Environ(), m.spec.Env...),
		upstream:   Upstream{Network: "tcp", Address: net.JoinHostPort("127.0.0.1", strconv.Itoa(m.spec.Port))},
		ready:      func(ctx context.Context) error { return mysqlHandshake(ctx, sock) },
		afterReady: func(ctx context.Context) error { return m.createUser(ctx, bins.client, admin) },
	}, nil
}

// retry: the port is the service's own; another attempt binds the same.
func (m *mariadb) retry(*StartError) bool { return false }

// cleanup removes what a killed mariadbd leaves in the run folder.
func (m *mariadb) cleanup() {
	_ = removeSocket(m.socketPath())
	_ = os.Remove(m.pidPath())
}

// mysqlHandshake connects to the socket and reads the server's first
// packet: a handshake (protocol 10) once it serves; an error packet (0xff)
// while it starts or shuts down.
func mysqlHandshake(ctx context.Context, sock string) error {
	ctx, cancel := context.WithTimeout(ctx, clientTimeout)
	defer cancel()
	var d net.Dialer
	c, err := d.DialContext(ctx, "unix", sock)
	if err != nil {
		return err
	}
	defer c.Close()
	if dl, ok := ctx.Deadline(); ok {
		_ = c.SetDeadline(dl)
	}
	var hdr [4]byte
	if _, err := io.ReadFull(c, hdr[:]); err != nil {
		return fmt.Errorf("read handshake: %w", err)
	}
	n := int(hdr[0]) | int(hdr[1])<<8 | int(hdr[2])<<16
	body := make([]byte, min(n, 512))
	if _, err := io.ReadFull(c, body); err != nil {
		return fmt.Errorf("read handshake: %w", err)
	}
	switch {
	case len(body) > 0 && body[0] == 10:
		return nil
	case len(body) > 3 && body[0] == 0xff:
		msg := body[3:]
		if len(msg) > 6 && msg[0] == '#' { // the SQL state
			msg = msg[6:]
		}
		return fmt.Errorf("error %d: %s", binary.LittleEndian.Uint16(body[1:3]), msg)
	default:
		return errors.New("not a MariaDB handshake")
	}
}

// adminArgv is the mariadb client as the admin account over the socket.
func (m *mariadb) adminArgv(client, admin string, extra ...string) []string {
	return append([]string{client, "--no-defaults", "--socket=" + m.socketPath(), "--user=" + admin,
		"--batch", "--skip-column-names", "--default-character-set=utf8mb4"}, extra...)
}

// mariadbGrants are the privileges the user has on every database: what a
// schema needs, nothing that administers the server.
const mariadbGrants = "SELECT, INSERT, UPDATE, DELETE, CREATE, DROP, REFERENCES, INDEX, ALTER, " +
	"CREATE TEMPORARY TABLES, LOCK TABLES, EXECUTE, CREATE VIEW, SHOW VIEW, CREATE ROUTINE, " +
	"ALTER ROUTINE, EVENT, TRIGGER, SHOW DATABASES"

// createUser creates the database and the user when they are missing.
// It changes nothing that exists (a password the app changed stays).
func (m *mariadb) createUser(ctx context.Context, client, admin string) error {
	db, u, pw := m.spec.Database, m.spec.User, mysqlString(m.spec.Password)
	var b strings.Builder
	fmt.Fprintf(&b, "CREATE DATABASE IF NOT EXISTS `%s`;\n", db)
	for _, host := range []string{"localhost", "127.0.0.1", "%"} {
		who := fmt.Sprintf("'%s'@'%s'", u, host)
		fmt.Fprintf(&b, "CREATE USER IF NOT EXISTS %s IDENTIFIED BY %s;\n", who, pw)
		fmt.Fprintf(&b, "GRANT ALL PRIVILEGES ON `%s`.* TO %s;\n", db, who)
		fmt.Fprintf(&b, "GRANT %s ON *.* TO %s;\n", mariadbGrants, who)
	}
	if err := runClient(ctx, m.adminArgv(client, admin), nil, strings.NewReader(b.String()), io.Discard); err != nil {
		return fmt.Errorf("create database %s and user %s: %w", db, u, err)
	}
	return nil
}

// mysqlString quotes s as a MariaDB string literal (backslash escapes on,
// as the server's default sql_mode has them).
func mysqlString(s string) string {
	return "'" + strings.NewReplacer(`\`, `\\`, `'`, `\'`).Replace(s) + "'"
}

func (m *mariadb) clients() (mariadbBins, string, error) {
	bins, err := m.tools.mariadb()
	if err != nil {
		return bins, "", err
	}
	admin, err := osUserName()
	return bins, admin, err
}

// dump writes Spec.Database as plain SQL: mariadb-dump in one consistent
// transaction, with routines, triggers and events, and no CREATE DATABASE
// or USE (so that it loads into any database).
func (m *mariadb) dump(ctx context.Context, w io.Writer) error {
	bins, admin, err := m.clients()
	if err != nil {
		return err
	}
	argv := []string{bins.dump, "--no-defaults", "--socket=" + m.socketPath(), "--user=" + admin,
		"--single-transaction", "--routines", "--triggers", "--events", "--hex-blob",
		"--default-character-set=utf8mb4", m.spec.Database}
	return runClient(ctx, argv, nil, nil, w)
}

// restore loads the dump twice: first into a scratch database, so that a
// dump the server refuses leaves Spec.Database as it was (MariaDB cannot
// roll back DDL, nor rename a database); then, once it loaded, into
// Spec.Database, dropped and created again. The dump is kept in a
// temporary file for the two passes. The user's grants are by name, so
// they hold for the new database.
func (m *mariadb) restore(ctx context.Context, r io.Reader) error {
	bins, admin, err := m.clients()
	if err != nil {
		return err
	}
	f, err := os.CreateTemp("", "devport-restore-*.sql")
	if err != nil {
		return err
	}
	defer os.Remove(f.Name())
	defer f.Close()
	if _, err := io.Copy(f, r); err != nil {
		return fmt.Errorf("read the dump: %w", err)
	}
	admin1 := func(sql string) error {
		return runClient(ctx, m.adminArgv(bins.client, admin), nil, strings.NewReader(sql), io.Discard)
	}
	load := func(db string) error {
		if _, err := f.Seek(0, io.SeekStart); err != nil {
			return err
		}
		return runClient(ctx, m.adminArgv(bins.client, admin, "--database="+db), nil, f, io.Discard)
	}
	scratch := "devport_restore_" + strings.ToLower(rand.Text()[:8])
	if err := admin1(fmt.Sprintf("CREATE DATABASE `%s`;", scratch)); err != nil {
		return err
	}
	err = load(scratch)
	dropCtx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 30*time.Second)
	defer cancel()
	_ = runClient(dropCtx, m.adminArgv(bins.client, admin), nil, strings.NewReader(fmt.Sprintf("DROP DATABASE IF EXISTS `%s`;", scratch)), io.Discard)
	if err != nil {
		return fmt.Errorf("the dump does not load (%s is unchanged): %w", m.spec.Database, err)
	}
	db := m.spec.Database
	if err := admin1(fmt.Sprintf("DROP DATABASE IF EXISTS `%s`;\nCREATE DATABASE `%s`;", db, db)); err != nil {
		return err
	}
	return load(db)
}

// shell is the mariadb client as the user, over TCP (any local account
// can use it, unlike the socket in the private run folder).
func (m *mariadb) shell() (argv, env []string) {
	client := "mariadb"
	if bins, err := m.tools.mariadb(); err == nil {
		client = bins.client
	}
	return []string{client, "--protocol=TCP", "--host=127.0.0.1", "--port=" + strconv.Itoa(m.spec.Port),
			"--user=" + m.spec.User, "--default-character-set=utf8mb4", m.spec.Database},
		[]string{"MYSQL_PWD=" + m.spec.Password}
}
