package stacks

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"net"
	"os"
	"os/exec"
	"os/user"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/devport/devport/internal/shellquote"
	"github.com/devport/devport/internal/stackdef"
)

// The data stacks in the process runtime: MariaDB (data_mariadb.go),
// PostgreSQL (data_postgres.go), Redis (data_redis.go) and Mailpit
// (data_mailpit.go), each a private instance of the host's own binaries.
// An instance keeps its data in Spec.DataDir, its unix socket and pid file
// in Spec.RunDir, and answers on 127.0.0.1:Spec.Port only. It reads no
// system config (/etc/mysql, /etc/postgresql, /etc/redis), never goes
// through the system's service manager, and never touches the system's own
// databases. Its readiness is a real check in its own protocol, not HTTP.
//
// Root: PostgreSQL refuses to run as root, and a database server running
// as root would hand root's files to anyone who gets its admin rights. So
// when devport runs as root, mariadbd and postgres (and their
// initialization) run as the account the php stack's workers run as
// (WorkerUser: the project folder's owner, or nobody), through setpriv
// (util-linux), and DataDir and RunDir are given to that account (chown;
// recursively when the data folder belonged to someone else). That account
// must be able to pass through every folder above them; when it cannot,
// Start says which folder and the chmod that fixes it. Redis and Mailpit
// run as devport's own user, as the web stacks' masters do (Redis 7 keeps
// its dir and dbfilename from being changed at run time).
//
// Nothing is deleted on an error path: a data folder that does not start
// stays as it is. A first start initializes an empty (or missing) data
// folder in a scratch folder beside it, and renames that into place only
// once the initialization succeeded, so an interrupted first start never
// leaves a half-made database behind.

// Debian packages and install lines named in MissingError.
const (
	pkgMariaDB       = "mariadb-server"
	pkgMariaDBClient = "mariadb-client"
	pkgPostgres      = "postgresql"
	pkgRedis         = "redis-server"
	pkgSetpriv       = "util-linux"
	// mailpitInstall builds Mailpit from the Go module proxy (it is no
	// Debian package); scripts/install-deps.sh does the same.
	mailpitInstall = "GOBIN=/usr/local/bin go install github.com/axllent/mailpit@v1.33.1"
)

var (
	// ErrPortInUse is wrapped when a data service's port (Spec.Port) is
	// taken by another program.
	ErrPortInUse = errors.New("port in use")
	// ErrNoVersion is wrapped when the host has no binary of the version
	// Spec.Version asks for (DataVersions lists the ones it has).
	ErrNoVersion = errors.New("not installed")
	// ErrDataVersion is wrapped when the data folder was made by a version
	// the chosen binary cannot open (a newer PostgreSQL major).
	ErrDataVersion = errors.New("data folder of another version")
)

// clientTimeout bounds one readiness check of a data service.
const clientTimeout = 2 * time.Second

// DataVersions lists the versions of a data stack the process runtime can
// run on this host, newest first: postgres the majors under
// /usr/lib/postgresql ("15"), mariadb major.minor of mariadbd ("10.11"),
// redis the major of redis-server ("7"), mailpit major.minor ("1.33").
// Spec.Version picks one of them ("" is the newest). None installed is a
// *MissingError; a stack that is not a data stack wraps ErrUnknownStack.
func DataVersions(stack string) ([]string, error) {
	vs, err := systemTools().dataVersions(stackdef.Canonical(stack))
	if err != nil {
		return nil, err
	}
	out := make([]string, len(vs))
	for i, v := range vs {
		out[i] = v.short
	}
	return out, nil
}

// hostVersion is one installed version of a data stack.
type hostVersion struct {
	short string // what DataVersions lists and Spec.Version names: "15", "10.11", "7"
	full  string // the whole version, "10.11.19": Spec.Version may name it too
	bin   string // postgres: the version's bin folder; the others: the server binary
}

// dataVersions is DataVersions on t.
func (t toolchain) dataVersions(stack string) ([]hostVersion, error) {
	switch stack {
	case stackdef.Postgres:
		return t.postgresVersions()
	case stackdef.MariaDB:
		bins, err := t.mariadb()
		if err != nil {
			return nil, err
		}
		return versionOf(bins.server, []string{"--version"}, mariadbVersionRe, 2)
	case stackdef.Redis:
		bin, err := t.redis()
		if err != nil {
			return nil, err
		}
		return versionOf(bin, []string{"--version"}, redisVersionRe, 1)
	case stackdef.Mailpit:
		bin, err := t.mailpit()
		if err != nil {
			return nil, err
		}
		return mailpitVersion(bin)
	default:
		return nil, fmt.Errorf("stack %q: %w (the data stacks are mariadb, postgres, redis and mailpit)", stack, ErrUnknownStack)
	}
}

var (
	mariadbVersionRe = regexp.MustCompile(`Ver (\d+(?:\.\d+)*)`) // mariadbd  Ver 10.11.19-MariaDB-0+deb12u1 for ...
	redisVersionRe   = regexp.MustCompile(`v=(\d+(?:\.\d+)*)`)   // Redis server v=7.0.15 sha=...
)

// versionOf runs bin with args and reads its version with re; the short
// version keeps parts of it ("10.11" of "10.11.19" for 2).
func versionOf(bin string, args []string, re *regexp.Regexp, parts int) ([]hostVersion, error) {
	ctx, cancel := context.WithTimeout(context.Background(), importProbeTimeout)
	defer cancel()
	out, err := exec.CommandContext(ctx, bin, args...).CombinedOutput()
	m := re.FindSubmatch(out)
	if m == nil {
		return nil, fmt.Errorf("%s %s: cannot read a version from %q: %v", bin, strings.Join(args, " "), firstLine(out), err)
	}
	full := string(m[1])
	return []hostVersion{{short: shortVersion(full, parts), full: full, bin: bin}}, nil
}

// shortVersion keeps the first parts dot-separated numbers of v.
func shortVersion(v string, parts int) string {
	f := strings.SplitN(v, ".", parts+1)
	return strings.Join(f[:min(parts, len(f))], ".")
}

func firstLine(b []byte) string {
	line, _, _ := bytes.Cut(bytes.TrimSpace(b), []byte("\n"))
	return string(line)
}

// pickVersion is the installed version want names: "" is the newest, and
// a prefix at a dot matches ("10" is 10.11, "7.0" is 7.0.15).
func pickVersion(stack, want string, have []hostVersion) (hostVersion, error) {
	if len(have) == 0 {
		return hostVersion{}, fmt.Errorf("%s: no version installed", stack)
	}
	want = strings.TrimPrefix(want, "v")
	if want == "" {
		return have[0], nil
	}
	for _, v := range have {
		for _, cand := range []string{v.short, v.full} {
			if cand == want || strings.HasPrefix(cand, want+".") {
				return v, nil
			}
		}
	}
	shorts := make([]string, len(have))
	for i, v := range have {
		shorts[i] = v.short
	}
	return hostVersion{}, fmt.Errorf("%s %s is %w here (this machine has %s): install it, or run the service in a container (--runtime container --version %s)",
		stack, want, ErrNoVersion, strings.Join(shorts, ", "), want)
}

// findData finds a data stack's program in PATH, the sbin folders and
// t.bin, or says which package to install.
func (t toolchain) findData(name, pkg string) (string, error) {
	dirs := append(filepath.SplitList(t.path), t.sbin...)
	if p, ok := lookPath(name, append(dirs, t.bin...)); ok {
		return p, nil
	}
	return "", &MissingError{Binary: name, Package: pkg}
}

// checkData is Check for the data stacks.
func (t toolchain) checkData(stack string) error {
	var err error
	switch stack {
	case stackdef.MariaDB:
		_, err = t.mariadb()
	case stackdef.Postgres:
		var vs []hostVersion
		if vs, err = t.postgresVersions(); err == nil {
			_, err = postgresBins(vs[0])
		}
	case stackdef.Redis:
		_, err = t.redis()
	case stackdef.Mailpit:
		_, err = t.mailpit()
	}
	if err == nil && os.Geteuid() == 0 && (stack == stackdef.MariaDB || stack == stackdef.Postgres) {
		_, err = t.setpriv()
	}
	return err
}

// setpriv is util-linux's setpriv, which starts a server as another
// account when devport runs as root.
func (t toolchain) setpriv() (string, error) { return t.findData("setpriv", pkgSetpriv) }

// newDataRunner is NewRunner for the data stacks. spec is validated.
func newDataRunner(spec Spec, tools toolchain) (Runner, error) {
	spec.Stack = stackdef.Canonical(spec.Stack)
	if err := validateData(spec); err != nil {
		return nil, err
	}
	switch spec.Stack {
	case stackdef.MariaDB:
		be := newMariaDB(spec, tools)
		return &dbRunner{dataRunner: newDataProc(spec, be), db: be}, nil
	case stackdef.Postgres:
		be := newPostgres(spec, tools)
		return &dbRunner{dataRunner: newDataProc(spec, be), db: be}, nil
	case stackdef.Redis:
		return newDataProc(spec, newRedis(spec, tools)), nil
	default:
		return newDataProc(spec, newMailpit(spec, tools)), nil
	}
}

// sqlNameRe is a database or user name the data stacks accept: it needs no
// quoting in SQL, a shell or a URL, and fits both servers' limits.
var sqlNameRe = regexp.MustCompile(`^[A-Za-z_][A-Za-z0-9_]{0,62}$`)

// validateData checks what a data stack needs beyond Spec.validate.
func validateData(s Spec) error {
	if !filepath.IsAbs(s.DataDir) {
		return fmt.Errorf("service %s: data folder %q must be an absolute path", s.label(), s.DataDir)
	}
	if s.Port <= 0 || s.Port > 65535 {
		return fmt.Errorf("service %s: port %d: a data service needs its port (1-65535)", s.label(), s.Port)
	}
	if !stackdef.IsDatabase(s.Stack) {
		return nil
	}
	for _, f := range []struct{ what, v string }{{"database", s.Database}, {"user", s.User}} {
		if !sqlNameRe.MatchString(f.v) {
			return fmt.Errorf("service %s: %s name %q: use letters, digits and _ (not first), at most 63", s.label(), f.what, f.v)
		}
	}
	if s.Password == "" || strings.ContainsFunc(s.Password, func(r rune) bool { return r < ' ' || r == 0x7f }) {
		return fmt.Errorf("service %s: the password must be set, without control characters", s.label())
	}
	return nil
}

// dataRunner is the process Runner of a data stack: the shared lifecycle,
// with its start errors made plain (the port, the privilege drop).
type dataRunner struct {
	*procRunner
}

func newDataProc(spec Spec, be backend) *dataRunner {
	return &dataRunner{procRunner: newProcRunner(spec, be)}
}

func (r *dataRunner) Start(ctx context.Context) (Upstream, error) {
	up, err := r.procRunner.Start(ctx)
	if err != nil {
		return up, r.explain(err)
	}
	return up, nil
}

// Stop lets a backend that has one use its own fast shutdown first
// (postgres: see fastStop), then stops the group as every runner does.
func (r *dataRunner) Stop(ctx context.Context) error {
	if fs, ok := r.be.(interface{ fastStop(pgid int) }); ok {
		if p := r.current(); p != nil && p.running() {
			fs.fastStop(p.pgid)
		}
	}
	return r.procRunner.Stop(ctx)
}

// explain turns a server that could not bind its port into ErrPortInUse,
// and leaves the privilege drop (setpriv) out of a failed command's name.
func (r *dataRunner) explain(err error) error {
	var se *StartError
	if !errors.As(err, &se) {
		return err
	}
	if commandName(se.Command) == "setpriv" {
		if _, server, ok := strings.Cut(se.Command, " -- "); ok {
			se.Command = server
		}
	}
	port := strconv.Itoa(r.spec.Port)
	for _, l := range se.Tail {
		low := strings.ToLower(l)
		if !strings.Contains(low, "already in use") {
			continue
		}
		// Mailpit also binds its UI port: only its SMTP port is Spec.Port.
		if r.spec.Stack == stackdef.Mailpit && !strings.Contains(l, ":"+port) {
			continue
		}
		msg := "start " + r.spec.label() + ": " + portInUse(r.spec).Error() + " (" + commandName(se.Command) + ": " + strings.TrimSpace(l) + ")"
		return &hintError{msg: msg, err: errors.Join(ErrPortInUse, se)}
	}
	return err
}

// portInUse is the error for a data service whose port someone else holds.
func portInUse(s Spec) error {
	return &hintError{
		msg: fmt.Sprintf("port %d on 127.0.0.1 is in use by another program: free it, or remove and re-add the service so that devport picks a free port", s.Port),
		err: ErrPortInUse,
	}
}

// portFree fails with ErrPortInUse when 127.0.0.1:Port is taken. It is a
// check before the start, for a one-line answer; a server that loses the
// race still says so (dataRunner.explain).
func portFree(ctx context.Context, s Spec) error {
	var lc net.ListenConfig
	l, err := lc.Listen(ctx, "tcp", net.JoinHostPort("127.0.0.1", strconv.Itoa(s.Port)))
	if err != nil {
		if errors.Is(err, syscall.EADDRINUSE) {
			return portInUse(s)
		}
		return fmt.Errorf("port %d: %w", s.Port, err)
	}
	return l.Close()
}

// dbRunner is the Runner of a database stack: a Database.
type dbRunner struct {
	*dataRunner
	db sqlServer
}

// sqlServer is what a database backend does for Database.
type sqlServer interface {
	dump(ctx context.Context, w io.Writer) error
	restore(ctx context.Context, r io.Reader) error
	shell() (argv, env []string)
}

var _ Database = (*dbRunner)(nil)

func (r *dbRunner) Dump(ctx context.Context, w io.Writer) error {
	if err := r.needRunning(); err != nil {
		return fmt.Errorf("dump %s: %w", r.spec.label(), err)
	}
	if err := r.db.dump(ctx, w); err != nil {
		return fmt.Errorf("dump %s: %w", r.spec.label(), err)
	}
	return nil
}

func (r *dbRunner) Restore(ctx context.Context, in io.Reader) error {
	if err := r.needRunning(); err != nil {
		return fmt.Errorf("restore %s: %w", r.spec.label(), err)
	}
	if err := r.db.restore(ctx, in); err != nil {
		return fmt.Errorf("restore %s: %w", r.spec.label(), err)
	}
	return nil
}

func (r *dbRunner) Shell() (argv, env []string) { return r.db.shell() }

// needRunning fails unless a Start succeeded and the server still runs.
func (r *dbRunner) needRunning() error {
	if p := r.current(); p == nil || !p.running() {
		return errors.New("the service is not running: start it first")
	}
	return nil
}

// serverAccount is the account a database server runs as: nil for
// devport's own, or, when devport runs as root, WorkerUser's (see the
// comment at the top of this file).
func serverAccount(s Spec) (*apacheAccount, error) {
	if os.Geteuid() != 0 {
		return nil, nil
	}
	acct, err := workerAccount(s.Dir)
	if err != nil {
		return nil, fmt.Errorf("%s must not run as root: %w", s.Stack, err)
	}
	if acct.uid == 0 {
		return nil, fmt.Errorf("%s must not run as root, and no other account was found for it", s.Stack)
	}
	return &acct, nil
}

// asAccount is argv run as acct: through setpriv, which keeps the
// parent-death signal the process runtime set (a change of uid clears it).
// With acct nil it is argv itself.
func asAccount(tools toolchain, acct *apacheAccount, argv []string) ([]string, error) {
	if acct == nil {
		return argv, nil
	}
	sp, err := tools.setpriv()
	if err != nil {
		return nil, err
	}
	return append([]string{sp,
		"--reuid=" + strconv.FormatUint(uint64(acct.uid), 10),
		"--regid=" + strconv.FormatUint(uint64(acct.gid), 10),
		"--clear-groups", "--pdeathsig", "keep", "--"}, argv...), nil
}

// prepareData readies one start of a data server: its socket path fits,
// its port is free, and its data folder (for acct; marker is what an
// initialised one holds, "" for none) and run folder exist.
func prepareData(ctx context.Context, s Spec, acct *apacheAccount, marker, sock string) error {
	if err := checkSocketPath(sock); err != nil {
		return err
	}
	if err := portFree(ctx, s); err != nil {
		return err
	}
	if err := dataFolders(s, acct, marker); err != nil {
		return err
	}
	return makeRunDir(s.RunDir, sock)
}

// dataFolders creates DataDir and RunDir (0700) and, with acct, gives
// them to acct: DataDir recursively when it belonged to someone else (a
// server checks that its files are its own). acct must be able to pass
// through every folder above them. A DataDir that holds files but not
// marker (PG_VERSION, mysql; "": anything goes) is an error, and is left
// alone: devport does not know it.
func dataFolders(s Spec, acct *apacheAccount, marker string) error {
	if marker != "" {
		entries, err := os.ReadDir(s.DataDir)
		if err != nil && !errors.Is(err, fs.ErrNotExist) {
			return fmt.Errorf("read data folder: %w", err)
		}
		if _, err := os.Stat(filepath.Join(s.DataDir, marker)); len(entries) > 0 && err != nil {
			return fmt.Errorf("data folder %s holds files but no %s database (no %s): point the service at an empty folder, or move those files away",
				s.DataDir, s.Stack, marker)
		}
	}
	for _, d := range []struct{ what, path string }{{"data folder", s.DataDir}, {"run folder", s.RunDir}} {
		if err := os.MkdirAll(d.path, 0o700); err != nil {
			return fmt.Errorf("create %s: %w", d.what, err)
		}
		if acct == nil {
			continue
		}
		if err := reachableBy(s, d.path, *acct); err != nil {
			return err
		}
		if err := giveTo(d.path, *acct); err != nil {
			return fmt.Errorf("give %s %s to %s: %w", d.what, d.path, acct.name, err)
		}
	}
	return nil
}

// giveTo makes dir and, when dir was someone else's, everything in it
// acct's.
func giveTo(dir string, acct apacheAccount) error {
	fi, err := os.Stat(dir)
	if err != nil {
		return err
	}
	if uid, gid, ok := ownerIDs(fi); ok && uid == acct.uid && gid == acct.gid {
		return nil
	}
	return filepath.WalkDir(dir, func(p string, _ fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		return os.Lchown(p, int(acct.uid), int(acct.gid))
	})
}

// reachableBy checks that acct may pass through every folder above path
// (mode bits only, like readableBy).
func reachableBy(s Spec, path string, acct apacheAccount) error {
	real, err := filepath.EvalSymlinks(path)
	if err != nil {
		return err
	}
	check := func(dir string) error {
		fi, err := os.Stat(dir)
		if err != nil {
			return err
		}
		if ok, fix := allows(fi, acct, permSearch); !ok {
			return fmt.Errorf("%s runs as %s, not root, and %s cannot reach %s: folder %s (mode %s) is closed to them: %s %s (it lets them pass through, not list it), or run devport as your own user",
				s.Stack, acct.name, acct.name, path, dir, fi.Mode(), fix, dir)
		}
		return nil
	}
	sep := string(filepath.Separator)
	dir := sep
	for _, part := range strings.Split(strings.TrimPrefix(filepath.Dir(real), sep), sep) {
		if err := check(dir); err != nil {
			return err
		}
		dir = filepath.Join(dir, part)
	}
	return check(dir)
}

// initDataDir initializes DataDir when it is missing or empty (dataFolders
// has checked what a non-empty one holds): run makes a database in the
// scratch folder it is given (beside DataDir, owned by acct), which then
// takes DataDir's place.
func initDataDir(ctx context.Context, s Spec, acct *apacheAccount, run func(ctx context.Context, dir string) error) error {
	entries, err := os.ReadDir(s.DataDir)
	if err != nil && !errors.Is(err, fs.ErrNotExist) {
		return fmt.Errorf("read data folder: %w", err)
	}
	if len(entries) > 0 {
		return nil
	}
	scratch := filepath.Join(filepath.Dir(s.DataDir), "."+filepath.Base(s.DataDir)+".init")
	if err := os.RemoveAll(scratch); err != nil { // what an interrupted first start left: never data
		return fmt.Errorf("clear %s: %w", scratch, err)
	}
	if err := os.Mkdir(scratch, 0o700); err != nil {
		return fmt.Errorf("create %s: %w", scratch, err)
	}
	if acct != nil {
		if err := os.Chown(scratch, int(acct.uid), int(acct.gid)); err != nil {
			return fmt.Errorf("give %s to %s: %w", scratch, acct.name, err)
		}
	}
	if err := run(ctx, scratch); err != nil {
		return err
	}
	if err := os.Remove(s.DataDir); err != nil && !errors.Is(err, fs.ErrNotExist) { // empty: checked above
		return fmt.Errorf("replace the empty data folder: %w", err)
	}
	if err := os.Rename(scratch, s.DataDir); err != nil {
		return fmt.Errorf("move the new database into %s: %w", s.DataDir, err)
	}
	return nil
}

// runSetup runs a setup command of a data service (initdb,
// mariadb-install-db) to its end, as acct, under Spec.Supervisor like the
// server, with its output in the service log. A failure is a *StartError
// with the command's last lines.
func runSetup(ctx context.Context, s Spec, tools toolchain, acct *apacheAccount, dir string, argv []string) error {
	full, err := asAccount(tools, acct, argv)
	if err != nil {
		return err
	}
	command := shellquote.Join(argv)
	f, off, err := openLog(s.LogPath, shellquote.Join(full))
	if err != nil {
		return &StartError{Command: command, Err: err}
	}
	defer f.Close()
	cmd := SupervisedCommand(ctx, s.Supervisor, s.StopTimeout, full[0], full[1:]...)
	cmd.Dir = dir
	cmd.Env = append(os.Environ(), s.Env...)
	cmd.Stdout, cmd.Stderr = f, f
	if err := cmd.Run(); err != nil {
		if ctx.Err() != nil {
			err = fmt.Errorf("%w (%v)", ctx.Err(), err)
		}
		return &StartError{Command: command, Tail: logTail(s.LogPath, off, tailLines), Err: err}
	}
	return nil
}

// runClient runs a client program (mariadb, psql, pg_dump) to its end with
// stdin and stdout as given. A failure comes back with what the program
// said on stderr: the server's own message.
func runClient(ctx context.Context, argv, env []string, stdin io.Reader, stdout io.Writer) error {
	var stderr bytes.Buffer
	cmd := exec.CommandContext(ctx, argv[0], argv[1:]...)
	cmd.Env = append(os.Environ(), env...)
	cmd.Stdin, cmd.Stdout, cmd.Stderr = stdin, stdout, &limitedBuffer{buf: &stderr, max: 16 << 10}
	cmd.WaitDelay = time.Second
	if err := cmd.Run(); err != nil {
		msg := serverMessage(stderr.String())
		if msg == "" {
			return fmt.Errorf("%s: %w", filepath.Base(argv[0]), err)
		}
		return fmt.Errorf("%s: %s", filepath.Base(argv[0]), msg)
	}
	return nil
}

// serverMessage is what a client said on stderr, down to its ERROR lines
// when it has some (the mariadb client echoes the statement around them).
func serverMessage(stderr string) string {
	var errs []string
	for l := range strings.SplitSeq(stderr, "\n") {
		if strings.Contains(l, "ERROR") {
			errs = append(errs, strings.TrimSpace(l))
		}
	}
	if len(errs) == 0 {
		return strings.TrimSpace(stderr)
	}
	return strings.Join(errs, "\n")
}

// limitedBuffer keeps the first max bytes written to it and drops the rest.
type limitedBuffer struct {
	buf *bytes.Buffer
	max int
}

func (b *limitedBuffer) Write(p []byte) (int, error) {
	if room := b.max - b.buf.Len(); room > 0 {
		b.buf.Write(p[:min(len(p), room)])
	}
	return len(p), nil
}

// osUserName is the name of the account devport runs as: a database's
// admin account over its unix socket (MariaDB's unix_socket plugin).
func osUserName() (string, error) {
	u, err := user.Current()
	if err != nil {
		return "", fmt.Errorf("the account devport runs as (uid %d) has no name, which mariadb's admin login needs: %w", os.Geteuid(), err)
	}
	return u.Username, nil
}

// sortVersionsDesc sorts versions newest first.
func sortVersionsDesc(vs []hostVersion) {
	slices.SortFunc(vs, func(a, b hostVersion) int { return compareVersioned(b.full, a.full) })
}
