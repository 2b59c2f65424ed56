package stacks

import (
	"context"
	"crypto/rand"
	"fmt"
	"io"
	"net"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"time"
)

// postgres is the postgres stack in the process runtime: one of Debian's
// PostgreSQL versions (/usr/lib/postgresql/N/bin), run as
//
//	postgres -D DataDir -k RunDir -p Port -h 127.0.0.1 -c ...
//
// with an empty DataDir initialized first by initdb (superuser postgres,
// trusted over the socket in RunDir only, scram-sha-256 passwords over
// TCP; UTF8, locale C.UTF-8). Its configuration is initdb's
// postgresql.conf in DataDir and the flags: nothing in /etc/postgresql is
// read, and pg_ctlcluster is never used. PostgreSQL refuses to run as
// root: when devport runs as root, initdb and postgres run as WorkerUser's
// account (see data_process.go). On every start devport creates, when
// missing, the role Spec.User (LOGIN, CREATEDB, Spec.Password) and the
// database Spec.Database owned by it.
//
// Spec.Version "" means the version of the data folder (its PG_VERSION)
// when the host has it, else the newest: the version lives beside the
// data. A data folder of another major than the chosen binary is an error
// naming the version it needs.
type postgres struct {
	spec  Spec
	tools toolchain

	mu   sync.Mutex
	bins postgresBinSet // of the last prepare: Dump, Restore and Shell use the same version
}

func newPostgres(spec Spec, tools toolchain) *postgres { return &postgres{spec: spec, tools: tools} }

// postgresBinSet are the programs of one PostgreSQL version.
type postgresBinSet struct {
	server, initdb, isready, psql, dump string
}

// postgresVersions lists Debian's PostgreSQL versions, newest first.
func (t toolchain) postgresVersions() ([]hostVersion, error) {
	bins, _ := filepath.Glob(filepath.Join(t.pgRoot, "*", "bin", "postgres"))
	var vs []hostVersion
	for _, b := range bins {
		if !isExecutable(b) {
			continue
		}
		n := filepath.Base(filepath.Dir(filepath.Dir(b)))
		vs = append(vs, hostVersion{short: n, full: n, bin: filepath.Dir(b)})
	}
	if len(vs) == 0 {
		return nil, &MissingError{Binary: "postgres", Package: pkgPostgres}
	}
	sortVersionsDesc(vs)
	return vs, nil
}

// postgresBins are the programs of version v.
func postgresBins(v hostVersion) (postgresBinSet, error) {
	var b postgresBinSet
	for _, p := range []struct {
		dst  *string
		name string
	}{{&b.server, "postgres"}, {&b.initdb, "initdb"}, {&b.isready, "pg_isready"}, {&b.psql, "psql"}, {&b.dump, "pg_dump"}} {
		*p.dst = filepath.Join(v.bin, p.name)
		if !isExecutable(*p.dst) {
			return postgresBinSet{}, &MissingError{Binary: p.name, Package: pkgPostgres + "-" + v.short}
		}
	}
	return b, nil
}

// dataVersion is the major version that made the data folder, "" when it
// has none yet.
func (p *postgres) dataVersion() string {
	b, err := os.ReadFile(filepath.Join(p.spec.DataDir, "PG_VERSION"))
	if err != nil {
		return ""
	}
	return strings.TrimSpace(string(b))
}

// version chooses the PostgreSQL to run (see postgres).
func (p *postgres) version(have []hostVersion) (hostVersion, error) {
	data := p.dataVersion()
	if p.spec.Version == "" && data != "" {
		for _, v := range have {
			if v.short == data {
				return v, nil
			}
		}
	}
	v, err := pickVersion(p.spec.Stack, p.spec.Version, have)
	if err != nil {
		return hostVersion{}, err
	}
	if data == "" || data == v.short {
		return v, nil
	}
	how := "without an upgrade"
	if compareVersioned(data, v.short) > 0 {
		how = "as it is newer"
	}
	return hostVersion{}, &hintError{
		msg: fmt.Sprintf("data folder %s holds a PostgreSQL %s database, which PostgreSQL %s cannot open %s: use --version %s (install postgresql-%s, or --runtime container)",
			p.spec.DataDir, data, v.short, how, data, data),
		err: ErrDataVersion,
	}
}

func (p *postgres) socketPath() string {
	return filepath.Join(p.spec.RunDir, ".s.PGSQL."+strconv.Itoa(p.spec.Port))
}

func (p *postgres) prepare(ctx context.Context, _ int) (launch, error) {
	have, err := p.tools.postgresVersions()
	if err != nil {
		return launch{}, err
	}
	v, err := p.version(have)
	if err != nil {
		return launch{}, err
	}
	bins, err := postgresBins(v)
	if err != nil {
		return launch{}, err
	}
	acct, err := serverAccount(p.spec)
	if err != nil {
		return launch{}, err
	}
	sock := p.socketPath()
	if err := prepareData(ctx, p.spec, acct, "PG_VERSION", sock); err != nil {
		return launch{}, err
	}
	err = initDataDir(ctx, p.spec, acct, func(ctx context.Context, dir string) error {
		return runSetup(ctx, p.spec, p.tools, acct, p.spec.RunDir, []string{bins.initdb,
			"-D", dir, "-U", "postgres", "--auth-local=trust", "--auth-host=scram-sha-256",
			"-E", "UTF8", "--locale=C.UTF-8", "--no-instructions"})
	})
	if err != nil {
		return launch{}, err
	}
	argv, err := asAccount(p.tools, acct, []string{bins.server,
		"-D", p.spec.DataDir,
		"-k", p.spec.RunDir,
		"-p", strconv.Itoa(p.spec.Port),
		"-h", "127.0.0.1",
		"-c", "unix_socket_permissions=0700",
		"-c", "logging_collector=off", // the log is the service log
	})
	if err != nil {
		return launch{}, err
	}
	p.mu.Lock()
	p.bins = bins
	p.mu.Unlock()
	return launch{
		path:       argv[0],
		args:       argv[1:],
		dir:        p.spec.RunDir,
		env:        append(os.Environ(), p.spec.Env...),
		upstream:   Upstream{Network: "tcp", Address: net.JoinHostPort("127.0.0.1", strconv.Itoa(p.spec.Port))},
		ready:      func(ctx context.Context) error { return p.isReady(ctx, bins.isready) },
		afterReady: func(ctx context.Context) error { return p.createUser(ctx, bins.psql) },
	}, nil
}

// retry: the port is the service's own; another attempt binds the same.
func (p *postgres) retry(*StartError) bool { return false }

// cleanup removes the socket a killed postgres leaves (it replaces a
// stale lock file itself, and postmaster.pid is DataDir's: left alone).
func (p *postgres) cleanup() { _ = removeSocket(p.socketPath()) }

// fastStop asks the postmaster of group pgid for PostgreSQL's fast
// shutdown (SIGINT): it ends the sessions, writes a checkpoint and exits.
// The SIGTERM of a stop is its smart shutdown, which waits for every
// session to end, and the sessions' processes, each in a process group of
// its own, do not get it: an app's pooled connections would hold the stop
// until the SIGKILL, and the next start would recover from a crash.
func (p *postgres) fastStop(pgid int) {
	b, err := os.ReadFile(filepath.Join(p.spec.DataDir, "postmaster.pid"))
	if err != nil {
		return
	}
	pid, err := strconv.Atoi(firstLine(b))
	if err != nil || pid <= 1 {
		return
	}
	if info, ok := readProc(pid); ok && info.pgid == pgid && info.live() { // ours, not a reused pid
		_ = kill(pid, syscall.SIGINT)
	}
}

// isReady asks pg_isready, over the socket: it speaks the protocol, and
// says "rejecting connections" while the server starts.
func (p *postgres) isReady(ctx context.Context, isready string) error {
	ctx, cancel := context.WithTimeout(ctx, clientTimeout)
	defer cancel()
	return runClient(ctx, []string{isready, "-h", p.spec.RunDir, "-p", strconv.Itoa(p.spec.Port),
		"-U", "postgres", "-d", "postgres", "-t", "2"}, nil, nil, io.Discard)
}

// adminArgv is psql as the superuser over the socket, stopping at the
// first error.
func (p *postgres) adminArgv(psql, db string, extra ...string) []string {
	return append([]string{psql, "-X", "-q", "-v", "ON_ERROR_STOP=1",
		"-h", p.spec.RunDir, "-p", strconv.Itoa(p.spec.Port), "-U", "postgres", "-d", db}, extra...)
}

// createUser creates the role and the database when they are missing; it
// changes nothing that exists.
func (p *postgres) createUser(ctx context.Context, psql string) error {
	u, db, pw := pgString(p.spec.User), pgString(p.spec.Database), pgString(p.spec.Password)
	sql := fmt.Sprintf(`SELECT format('CREATE ROLE %%I LOGIN CREATEDB PASSWORD %%L', %s, %s) WHERE NOT EXISTS (SELECT FROM pg_roles WHERE rolname = %s)
\gexec
SELECT format('CREATE DATABASE %%I OWNER %%I', %s, %s) WHERE NOT EXISTS (SELECT FROM pg_database WHERE datname = %s)
\gexec
`, u, pw, u, db, u, db)
	if err := runClient(ctx, p.adminArgv(psql, "postgres"), nil, strings.NewReader(sql), io.Discard); err != nil {
		return fmt.Errorf("create role %s and database %s: %w", p.spec.User, p.spec.Database, err)
	}
	return nil
}

// pgString quotes s as a PostgreSQL string literal
// (standard_conforming_strings: only the quote doubles).
func pgString(s string) string { return "'" + strings.ReplaceAll(s, "'", "''") + "'" }

func (p *postgres) clients() (postgresBinSet, error) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.bins.psql == "" {
		return postgresBinSet{}, fmt.Errorf("%s has not started", p.spec.label())
	}
	return p.bins, nil
}

// dump writes Spec.Database as plain SQL (pg_dump), without owners and
// grants, so that it loads as whichever user restores it.
func (p *postgres) dump(ctx context.Context, w io.Writer) error {
	bins, err := p.clients()
	if err != nil {
		return err
	}
	return runClient(ctx, []string{bins.dump, "-h", p.spec.RunDir, "-p", strconv.Itoa(p.spec.Port), "-U", "postgres",
		"--no-owner", "--no-acl", "-d", p.spec.Database}, nil, nil, w)
}

// restore loads the dump, as Spec.User and in one transaction, into a new
// database owned by Spec.User; only once it loaded does that database
// replace Spec.Database (dropped, its sessions ended, and the new one
// renamed). A dump the server refuses leaves Spec.Database as it was.
func (p *postgres) restore(ctx context.Context, r io.Reader) error {
	bins, err := p.clients()
	if err != nil {
		return err
	}
	db, u := p.spec.Database, p.spec.User
	scratch := "devport_restore_" + strings.ToLower(rand.Text()[:8])
	admin := func(sql string) error {
		return runClient(ctx, p.adminArgv(bins.psql, "postgres"), nil, strings.NewReader(sql), io.Discard)
	}
	if err := admin(fmt.Sprintf(`CREATE DATABASE "%s" OWNER "%s";`, scratch, u)); err != nil {
		return err
	}
	err = runClient(ctx, p.adminArgv(bins.psql, scratch, "--single-transaction"),
		[]string{"PGOPTIONS=-c role=" + u}, r, io.Discard)
	if err != nil {
		dropCtx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 30*time.Second)
		defer cancel()
		_ = runClient(dropCtx, p.adminArgv(bins.psql, "postgres"), nil,
			strings.NewReader(fmt.Sprintf(`DROP DATABASE IF EXISTS "%s" WITH (FORCE);`, scratch)), io.Discard)
		return fmt.Errorf("the dump does not load (%s is unchanged): %w", db, err)
	}
	return admin(fmt.Sprintf("DROP DATABASE IF EXISTS \"%s\" WITH (FORCE);\nALTER DATABASE \"%s\" RENAME TO \"%s\";\n", db, scratch, db))
}

// shell is psql as the user over TCP (any local account can use it,
// unlike the socket in the private run folder).
func (p *postgres) shell() (argv, env []string) {
	psql := "psql"
	if bins, err := p.clients(); err == nil {
		psql = bins.psql
	}
	return []string{psql, "-h", "127.0.0.1", "-p", strconv.Itoa(p.spec.Port), "-U", p.spec.User, "-d", p.spec.Database},
		[]string{"PGPASSWORD=" + p.spec.Password}
}
