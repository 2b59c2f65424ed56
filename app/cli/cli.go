package cli

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"strings"

	"github.com/devport/devport/app/engine"
	"github.com/devport/devport/app/wire"
)

// Version is devport's version, set at build time with -ldflags "-X".
var Version = "dev"

// CLI runs devport's subcommands. Its fields are the process's streams and
// environment, so tests can run it in-process.
type CLI struct {
	Stdout, Stderr io.Writer
	Getenv         func(string) string
	// Window opens the desktop window; nil in builds without one (then
	// `devport` alone prints the usage).
	Window WindowFunc
}

// Run runs devport with the process's own streams and environment.
func Run(ctx context.Context, args []string) error {
	return (&CLI{Stdout: os.Stdout, Stderr: os.Stderr, Getenv: os.Getenv}).Run(ctx, args)
}

// ErrUsage marks an error in how a command was called; main exits 2 for it.
var ErrUsage = errors.New("usage")

// ExitError is a command that ended with an exit code of its own and has
// said what it had to say (the supervisor passes its backend's on): main
// exits with Code and prints nothing.
type ExitError struct{ Code int }

func (e *ExitError) Error() string { return fmt.Sprintf("exit status %d", e.Code) }

type command struct {
	name, args, help string
	run              func(c *CLI, ctx context.Context, args []string) error
}

// commands in the order `devport help` lists them.
var commands = []command{
	{"add", "DIR [--name N] [--domain D] [--stack php|uvicorn|gunicorn|wsgi|uwsgi|static] [--app MODULE:APP] [--runtime process|container] [--image IMAGE] [--php X.Y] [--chain PREFIX] [--data NAME=STACK,...] [--venv]\n       devport add --name N [--domain D] --proxy URL",
		"add a project folder (detects the stack), or a server you already run", (*CLI).add},
	{"init", "DIR [--force]", "write DIR/devport.toml from what detection finds, for the team to commit", (*CLI).initCmd},
	{"export-config", "NAME [-o FILE|-]", "write a project as stored back to its folder's devport.toml (or FILE, or stdout)", (*CLI).exportConfig},
	{"set", "NAME [--service S] [--runtime process|container] [--image IMAGE] [--php X.Y|auto]\n       devport set NAME --php-ini KEY=VALUE... [--php-ini-unset KEY...]\n       devport set NAME [--env [SERVICE:]KEY=VALUE...] [--env-unset [SERVICE:]KEY...] [--before-start CMD | --before-start-unset]",
		"switch a service between a local process and a Docker container, or choose its PHP version; or set (or remove) php.ini directives of a project's PHP, on top of devport.toml's [php.ini]; or set (or remove) variables of a service's environment and the before_start hook, on top of devport.toml's env and hooks (a running project restarts, but for the hook, which runs at the next start)", (*CLI).set},
	{"ls", "[--json]", "list projects, their URLs and state", (*CLI).ls},
	{"start", "NAME", "start a project's backends and route its domain to them (starts a background engine when none runs)", (*CLI).start},
	{"stop", "NAME", "stop a project's backends", (*CLI).stop},
	{"restart", "NAME", "stop and start a project", (*CLI).restart},
	{"rename", "NAME NEW [--domain D]", "rename a project; a domain NAME.TLD becomes NEW.TLD unless --domain names another (a running project starts again)", (*CLI).rename},
	{"rm", "NAME [--purge]", "stop and remove a project (its folder is untouched; the data of its data services is kept unless --purge)", (*CLI).rm},
	{"service", "NAME add SERVICE --stack mariadb|mysql|postgres|redis|mailpit [--version V] [--runtime process|container] [--image IMAGE]\n       devport service NAME rm SERVICE [--purge]\n       devport service NAME ls [--json]",
		"add a database, Redis or Mailpit to a project; its web services get DB_*, DATABASE_URL, REDIS_URL, MAIL_* (a running project restarts)", (*CLI).service},
	{"db", "NAME snapshot [TAG] | snapshots | restore TAG | import FILE[.sql|.sql.gz] | export [-o FILE] | shell | follow on|off  [--service S]",
		"snapshot, restore, import or export a project's database, open its client, or have it follow the git branch", (*CLI).dbCmd},
	{"python", "[--service S] NAME [ARGS...]", "run the interpreter a project's Python service runs with (its virtualenv, or inside its container), in the project folder, with the service's environment (DB_*, DATABASE_URL, REDIS_URL, MAIL_*, devport.toml's env); every argument after NAME is Python's", (*CLI).python},
	{"manage", "[--service S] NAME [ARGS...]", "run a Django project's manage.py the same way (devport manage shop migrate)", (*CLI).manage},
	{"flask", "[--service S] NAME [ARGS...]", "run Flask's CLI the same way, with FLASK_APP set from the service's app (devport flask shop routes)", (*CLI).flask},
	{"php", "versions [--json]", "list the PHP versions installed for the process runtime (which Apache can load, as mod_php) and the php:X.Y-apache images Docker has", (*CLI).php},
	{"debug", "NAME on|off [--service S]", "run a project's Python service under debugpy, listening on 127.0.0.1:5678 for your IDE to attach (VS Code: a Python \"attach\" configuration), or as before (a running project restarts)", (*CLI).debug},
	{"php", "NAME [ARGS...]", "run the PHP a project's site runs with, with its php.ini (devport.toml's [php.ini], Xdebug when on), in the project folder, with the site's environment (DB_*, DATABASE_URL, REDIS_URL, MAIL_*, devport.toml's env), inside its container in the container runtime; every argument after NAME is PHP's", (*CLI).php},
	{"composer", "NAME [ARGS...]", "run Composer the same way: the project's composer.phar, else Debian's composer (devport composer shop install)", (*CLI).composer},
	{"xdebug", "NAME on|off", "load Xdebug for a project's PHP (step debugging for requests with the XDEBUG_TRIGGER cookie or parameter, to your IDE on port 9003), or leave it out entirely (a running project restarts)", (*CLI).xdebug},
	{"park", "[DIR]", "make every subfolder of DIR a project at SUBFOLDER.test that starts on its first request and stops when idle, and watch DIR for more; without DIR, list the parked folders", (*CLI).park},
	{"unpark", "DIR", "stop and remove the projects of a parked folder, and stop watching it (its folders are untouched)", (*CLI).unpark},
	{"parked", "[--json]", "list the parked folders and their projects", (*CLI).parked},
	{"logs", "NAME [--service S] [--access] [-n LINES] [-f]", "show a project's backend logs, or its proxy access log", (*CLI).logs},
	{"route", "NAME add PREFIX --service S|--static DIR|--url URL [--strip] [--cache-control V] [--connect-timeout D] [--read-timeout D] [--write-timeout D] [--max-body SIZE]\n       devport route NAME rm PREFIX\n       devport route NAME ls [--json]",
		"route a path prefix of a project to a service, a folder or a URL", (*CLI).route},
	{"export", "NAME --format nginx|compose [-o FILE|-] [--https-listen ADDR] [--http-listen ADDR] [--cert FILE] [--key FILE] [--publish-https ADDR] [--publish-http ADDR] [--nginx-image IMAGE]",
		"write the project's routes as an nginx config, or a docker-compose.yml with nginx and the services", (*CLI).exportCmd},
	{"config", "[ls] | get KEY | set KEY VALUE | unset KEY", "show or change devport's settings (container.image.STACK, gui.default_tld, park.idle_timeout)", (*CLI).config},
	{"trust", "[--system=false] [--nss=false] [--java] [--new-root]", "install the local CA into the system store, NSS (Chromium, Firefox) and, with --java, Java's keystore; --new-root replaces a root made by an older devport", (*CLI).trust},
	{"untrust", "[--java]", "remove the local CA from every store", (*CLI).untrust},
	{"ca", "", "print the path of the local CA certificate", (*CLI).ca},
	{"dns", "status [--json] | hosts | resolver [--port N] [--responder-only] | off", "show how project domains resolve; keep them in /etc/hosts, or answer DNS for .test from the engine", (*CLI).dns},
	{"doctor", "[--json]", "check trust stores, name resolution, ports, binaries and the data folder; print fixes", (*CLI).doctor},
	{"setup", "[--java] [--undo]", "do once everything that needs root, asking for it once: trust the CA (system store, your browsers' NSS, with --java Java's), make every project's name resolve, let devport bind 443 and 80", (*CLI).setup},
	{"serve", "[--headless] [--minimized] [--start NAME,NAME] [--no-restore] [--https-port N] [--http-port N]", "run the engine until Ctrl-C: with the desktop window, or --headless without one; the projects that ran when devport last stopped start again, unless --no-restore", (*CLI).serve},
	{"quit", "", "stop the running engine and every project it runs", (*CLI).quit},
	{"version", "", "print devport's version", (*CLI).version},
}

// Run runs one subcommand.
func (c *CLI) Run(ctx context.Context, args []string) error {
	if len(args) > 0 && args[0] == engine.SuperviseCommand { // hidden: the engine runs backends under it
		if code := engine.Supervise(args[1:]); code != 0 {
			return &ExitError{Code: code}
		}
		return nil
	}
	if c.Window != nil && (len(args) == 0 || (strings.HasPrefix(args[0], "-") && args[0] != "-h" && args[0] != "--help")) {
		return c.windowCmd(ctx, args)
	}
	if len(args) == 0 || args[0] == "help" || args[0] == "-h" || args[0] == "--help" {
		c.usage(c.Stdout)
		return nil
	}
	for _, cmd := range commands {
		if cmd.name == args[0] {
			return cmd.run(c, ctx, args[1:])
		}
	}
	c.usage(c.Stderr)
	return fmt.Errorf("%w: unknown command %q; see devport help", ErrUsage, args[0])
}

func (c *CLI) usage(w io.Writer) {
	fmt.Fprintf(w, "devport %s: local HTTPS domains and backends for your projects\n\nUsage:\n", Version)
	for _, cmd := range commands {
		fmt.Fprintf(w, "  %s\n        %s\n", strings.TrimSpace("devport "+cmd.name+" "+cmd.args), cmd.help)
	}
	fmt.Fprintf(w, "  %s\n        %s\n", windowUsage, windowHelp)
	fmt.Fprint(w, "\nEnvironment:\n  DEVPORT_HOME  keep all of devport's data under this folder (default: XDG dirs)\n")
}

// flags parses a subcommand's flags, which may come before or after its
// positional arguments (devport add DIR --name shop).
func (c *CLI) flags(fs *flag.FlagSet, args []string) ([]string, error) {
	fs.SetOutput(io.Discard)
	var pos []string
	for {
		if err := fs.Parse(args); err != nil {
			if errors.Is(err, flag.ErrHelp) {
				fs.SetOutput(c.Stdout)
				fs.PrintDefaults()
			}
			return nil, fmt.Errorf("%w: devport %s: %v", ErrUsage, fs.Name(), err)
		}
		args = fs.Args()
		if len(args) == 0 {
			return pos, nil
		}
		pos = append(pos, args[0])
		args = args[1:]
	}
}

func (c *CLI) paths() (engine.Paths, error) { return engine.ResolvePaths(c.Getenv) }

// manager opens a Manager on the store directly, for what is not the
// running engine's business (reading logs, doctor, trust) or when none runs.
func (c *CLI) manager(ctx context.Context) (*engine.Manager, error) {
	p, err := c.paths()
	if err != nil {
		return nil, err
	}
	return engine.NewManager(ctx, engine.Options{Paths: p})
}

// engine returns a client when an engine is running, and nil when none is.
func (c *CLI) engine(ctx context.Context) (*wire.Client, error) {
	p, err := c.paths()
	if err != nil {
		return nil, err
	}
	cl, err := wire.Dial(ctx, p.Control())
	if errors.Is(err, wire.ErrEngineDown) {
		return nil, nil
	}
	return cl, err
}

// api is what the commands that change projects, routes and settings
// call: wire.Client for a running engine (it owns the ports and backends,
// so changes must go through it) and engine.Local for a Manager of the
// store when none runs. Both store, publish and announce the same way.
type api interface {
	List(ctx context.Context) ([]wire.ProjectStatus, error)
	Add(ctx context.Context, req wire.AddRequest) (wire.ProjectStatus, error)
	Remove(ctx context.Context, name string) error
	RemoveWith(ctx context.Context, name string, purge bool) (wire.RemoveReport, error)
	AddDataService(ctx context.Context, name string, req wire.DataServiceRequest) (wire.ProjectStatus, error)
	RemoveDataService(ctx context.Context, name, service string, purge bool) (wire.DataServiceRemoval, error)
	Database(ctx context.Context, action, name string, req wire.SnapshotRequest) (wire.DatabaseResult, error)
	PythonCommand(ctx context.Context, name string, req wire.PythonRequest) (wire.Command, error)
	SetRuntime(ctx context.Context, name string, req wire.RuntimeRequest) (wire.ProjectStatus, error)
	SetDebug(ctx context.Context, name string, req wire.DebugRequest) (wire.ProjectStatus, error)
	SetPHP(ctx context.Context, name string, req wire.PHPRequest) (wire.ProjectStatus, error)
	SetPHPIni(ctx context.Context, name string, req wire.PHPIniRequest) (wire.ProjectStatus, error)
	SetXdebug(ctx context.Context, name string, req wire.XdebugRequest) (wire.ProjectStatus, error)
	SetEnv(ctx context.Context, name string, req wire.EnvRequest) (wire.ProjectStatus, error)
	SetHooks(ctx context.Context, name string, req wire.HooksRequest) (wire.ProjectStatus, error)
	PHPCommand(ctx context.Context, name string, req wire.PHPCommandRequest) (wire.Command, error)
	Rename(ctx context.Context, name string, req wire.RenameRequest) (wire.ProjectStatus, error)
	AddRoute(ctx context.Context, name string, req wire.RouteRequest) (wire.RouteStatus, error)
	RemoveRoute(ctx context.Context, name, prefix string) error
	SetSetting(ctx context.Context, key, value string) error
	UnsetSetting(ctx context.Context, key string) error
	Park(ctx context.Context, dir string) (wire.ParkReport, error)
	Unpark(ctx context.Context, dir string) (wire.ParkReport, error)
	Parked(ctx context.Context) ([]wire.ParkedFolder, error)
}

var (
	_ api = (*wire.Client)(nil)
	_ api = engine.Local{}
)

// withAPI runs fn on the running engine's client, or on a Manager of the
// store when no engine runs; cl is the client, nil in the second case
// (for progress drawing, which only a running engine streams).
func (c *CLI) withAPI(ctx context.Context, fn func(a api, cl *wire.Client) error) error {
	cl, err := c.engine(ctx)
	if err != nil {
		return err
	}
	if cl != nil {
		return fn(cl, cl)
	}
	m, err := c.manager(ctx)
	if err != nil {
		return err
	}
	return joinClose(fn(engine.Local{M: m}, nil), m)
}

func oneName(cmd string, pos []string) (string, error) {
	if len(pos) != 1 {
		return "", fmt.Errorf("%w: devport %s NAME (got %d arguments)", ErrUsage, cmd, len(pos))
	}
	return pos[0], nil
}

func splitList(s string) []string {
	var out []string
	for _, f := range strings.Split(s, ",") {
		if f = strings.TrimSpace(f); f != "" {
			out = append(out, f)
		}
	}
	return out
}

// printJSON writes v as the --json forms print it: indented, one value.
func (c *CLI) printJSON(v any) error {
	enc := json.NewEncoder(c.Stdout)
	enc.SetIndent("", "  ")
	return enc.Encode(v)
}

// nonNil is s, or an empty list for nil, so --json prints [] rather than
// null when there is nothing.
func nonNil[T any](s []T) []T {
	if s == nil {
		return []T{}
	}
	return s
}
