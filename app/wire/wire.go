// Package wire is devport's API as the control socket carries it: the
// types a running engine sends and receives (projects, services, routes,
// requests, events, engine info), and the Client that speaks to it.
//
// The CLI and the window use these types whether they talk to an engine in
// another process (Client) or to one they host themselves, so the two
// paths show the same things. The package imports the standard library
// only: a face never needs the engine's domain packages to read a status.
package wire

import (
	"fmt"
	"strconv"
	"strings"
	"time"
)

// State is where a project is in its life.
type State string

// The states a project moves through.
const (
	StateStopped  State = "stopped"
	StateStarting State = "starting"
	StateRunning  State = "running"
	StateStopping State = "stopping"
	// StateCrashed is a project whose backend exited on its own; the
	// engine restarts it with backoff.
	StateCrashed State = "crashed"
	// StateFailed is a project that failed to start, or crashed too often
	// in a short time: the engine gave up, and Reason says why.
	StateFailed State = "failed"
)

// The runtimes a service can use.
const (
	RuntimeProcess   = "process"
	RuntimeContainer = "container"
)

// Settings keys that faces read and write (the engine lists them all:
// `devport config ls`).
const (
	// SettingDefaultTLD is the TLD the new-project wizard suggests
	// domains under ("test" or "localhost").
	SettingDefaultTLD = "gui.default_tld"
	// SettingImagePrefix + stack ("container.image.php") names the image
	// of the container runtime for services that name none.
	SettingImagePrefix = "container.image."
	// SettingParkIdle is how long a parked project may go without a
	// request before the engine stops it (a Go duration; 0: never).
	SettingParkIdle = "park.idle_timeout"
)

// EngineInfo describes a running engine.
type EngineInfo struct {
	PID       int `json:"pid"`
	HTTPSPort int `json:"https_port"`
	HTTPPort  int `json:"http_port"`
}

// SiteURL is the https URL of domain served on port, which it carries
// unless it is 443 (or unknown, 0): the URL a browser must open.
func SiteURL(domain string, port int) string {
	if port == 0 || port == 443 {
		return "https://" + domain + "/"
	}
	return "https://" + domain + ":" + strconv.Itoa(port) + "/"
}

// ProjectStatus is a project as `devport ls` and the window show it.
type ProjectStatus struct {
	Name     string          `json:"name"`
	Root     string          `json:"root,omitempty"`
	Domains  []string        `json:"domains"`
	URL      string          `json:"url"`
	State    State           `json:"state"`
	Reason   string          `json:"reason,omitempty"`
	Services []ServiceStatus `json:"services"`
	Routes   []RouteStatus   `json:"routes,omitempty"`
	// Parked is the parked folder the project came from (devport park),
	// "" for a project added by hand. A parked project starts on its
	// first request and stops when idle.
	Parked string `json:"parked,omitempty"`
	// Data are the project's data services (databases, caches, mail).
	Data []DataServiceStatus `json:"data,omitempty"`
	// FollowBranch says whether its databases follow its git branch.
	FollowBranch bool `json:"follow_branch,omitempty"`
	// PHPIni are the project's own php.ini directives (devport.toml's
	// [php.ini], devport set --php-ini), on top of the distribution's and
	// devport's development defaults.
	PHPIni map[string]string `json:"php_ini,omitempty"`
	// Xdebug says whether its PHP loads Xdebug (devport xdebug NAME on).
	Xdebug bool `json:"xdebug,omitempty"`
	// BeforeStart is the command run with sh -c in the project folder
	// before its services start (devport.toml's hooks.before_start,
	// devport set --before-start); "" when none.
	BeforeStart string `json:"before_start,omitempty"`
}

// DataServiceStatus is one data service of a project: a database, a cache
// or a mail catcher its web services reach through Env.
type DataServiceStatus struct {
	Name    string `json:"name"`
	Stack   string `json:"stack"`
	Runtime string `json:"runtime"`
	Version string `json:"version,omitempty"` // as asked for; "" is the newest the host has, or the image's
	Image   string `json:"image,omitempty"`   // runtime container: the image it runs
	// Port is the loopback port clients on this machine connect to.
	Port int `json:"port"`
	// Env is what the project's web services get to reach it, as a
	// process on this machine sees it (containers get the service's name
	// as host).
	Env map[string]string `json:"env,omitempty"`
	// Data is where its data lives: a folder, or "volume NAME".
	Data string `json:"data"`
	// MailURL is where Mailpit's UI answers (stack mailpit).
	MailURL  string `json:"mail_url,omitempty"`
	Upstream string `json:"upstream,omitempty"` // while running: where it answers
	Log      string `json:"log,omitempty"`
}

// DataServiceRequest adds a data service to a project: devport service
// NAME add SERVICE --stack STACK.
type DataServiceRequest struct {
	Name    string `json:"name"`
	Stack   string `json:"stack"` // mariadb (or mysql), postgres, redis or mailpit
	Version string `json:"version,omitempty"`
	Runtime string `json:"runtime,omitempty"`
	Image   string `json:"image,omitempty"`
}

// Snapshot is a saved dump of a project's database: devport db NAME
// snapshots.
type Snapshot struct {
	Service string    `json:"service"`
	Tag     string    `json:"tag"`
	Path    string    `json:"path"`
	Size    int64     `json:"size"`
	Time    time.Time `json:"time"`
}

// SnapshotRequest names a snapshot (or a file, for import and export) of
// a project's database; Service "" is its only database.
type SnapshotRequest struct {
	Service string `json:"service,omitempty"`
	Tag     string `json:"tag,omitempty"`
	File    string `json:"file,omitempty"`
}

// DatabaseResult is what a database action (devport db) returns.
type DatabaseResult struct {
	Snapshots []Snapshot `json:"snapshots,omitempty"`
	Shell     Shell      `json:"shell"`
}

// Shell is the command line of a database client, and the environment
// entries it needs (the password) on top of the caller's.
type Shell struct {
	Argv []string `json:"argv"`
	Env  []string `json:"env,omitempty"`
}

// The tools of PythonRequest: devport python, devport manage (Django's
// manage.py) and devport flask (Flask's CLI).
const (
	ToolPython = "python"
	ToolManage = "manage"
	ToolFlask  = "flask"
)

// PythonRequest asks for the command that runs a Python service's own
// interpreter (POST /v1/projects/{name}/python).
type PythonRequest struct {
	Tool    string   `json:"tool"`              // ToolPython, ToolManage or ToolFlask
	Service string   `json:"service,omitempty"` // "" : the project's one Python service
	Args    []string `json:"args,omitempty"`    // passed on untouched
	// TTY says the caller's stdin is a terminal: a command run in a
	// container gets one too (docker exec -t).
	TTY bool `json:"tty,omitempty"`
}

// The tools PHPCommandRequest runs.
const (
	ToolPHP      = "php"
	ToolComposer = "composer"
)

// PHPCommandRequest asks for the command that runs a project's PHP, or
// Composer with it, as its site runs (POST
// /v1/projects/{name}/php-command).
type PHPCommandRequest struct {
	Tool string   `json:"tool"`           // ToolPHP or ToolComposer
	Args []string `json:"args,omitempty"` // passed on untouched
	// TTY says the caller's stdin is a terminal: a command run in a
	// container gets one too (docker exec -t).
	TTY bool `json:"tty,omitempty"`
}

// Command is a program for the caller to run in the foreground, with its
// terminal: Argv in Dir, with Env added to the caller's environment (later
// entries win).
type Command struct {
	Argv []string `json:"argv"`
	Env  []string `json:"env,omitempty"`
	Dir  string   `json:"dir,omitempty"`
}

// RemoveReport is what removing a project did with the data of its data
// services: kept (the default) or purged.
type RemoveReport struct {
	Kept []DataServiceRemoval `json:"kept,omitempty"`
}

// DataServiceRemoval is what removing a data service did with its data.
type DataServiceRemoval struct {
	Service string `json:"service"`
	// Kept is where the data stays ("" when it was purged or there was
	// none), with its size in bytes (-1 when unknown).
	Kept string `json:"kept,omitempty"`
	Size int64  `json:"size,omitempty"`
}

// ServiceStatus is one service of a project.
type ServiceStatus struct {
	Name       string `json:"name"`
	Stack      string `json:"stack"`
	Runtime    string `json:"runtime"`
	Image      string `json:"image,omitempty"` // runtime container: the image it runs
	PathPrefix string `json:"path_prefix"`
	App        string `json:"app,omitempty"`
	DocRoot    string `json:"doc_root,omitempty"`
	URL        string `json:"url,omitempty"`      // stack proxy: where it forwards
	Upstream   string `json:"upstream,omitempty"` // while running: where the proxy sends requests
	Log        string `json:"log,omitempty"`
	Debug      bool   `json:"debug,omitempty"` // runs under debugpy (devport debug NAME on)
	// PHP is a php service's version ("8.2"): the one it runs while
	// running, else the one it would run; "" when devport cannot tell (an
	// image of your own, or no PHP installed).
	PHP string `json:"php,omitempty"`
	// PHPFrom says where PHP comes from: "set" (devport set --php,
	// devport.toml), "composer.json" (its require.php), "newest" (the
	// newest installed), "image" (the service's image), "setting"
	// (container.image.php) or "default" (the container runtime's default
	// image).
	PHPFrom string `json:"php_from,omitempty"`
	// Env is what the service adds to its backend's environment
	// (devport.toml's env, devport set --env), without the data
	// services' variables (DataServiceStatus.Env).
	Env map[string]string `json:"env,omitempty"`
}

// RouteStatus is one route of a project as `devport route ls` and the
// details window show it: declared ones, and each service's own.
type RouteStatus struct {
	Prefix       string `json:"prefix"`
	Kind         string `json:"kind"`
	Target       string `json:"target"`
	Strip        bool   `json:"strip,omitempty"`
	CacheControl string `json:"cache_control,omitempty"`
	Limits       string `json:"limits,omitempty"`
	Declared     bool   `json:"declared"`
	// ForwardsTo is the service Apache forwards a chain route to.
	ForwardsTo string `json:"forwards_to,omitempty"`
	// FilesFirst is the folder whose files the proxy serves ahead of the
	// service (a Python app's public/).
	FilesFirst string `json:"files_first,omitempty"`
}

// Options is the route's options as `devport route ls` prints them.
func (r RouteStatus) Options() string {
	var opts []string
	if r.Strip {
		opts = append(opts, "strip")
	}
	if r.CacheControl != "" {
		opts = append(opts, "cache-control="+r.CacheControl)
	}
	if r.Limits != "" {
		opts = append(opts, r.Limits)
	}
	if r.FilesFirst != "" {
		opts = append(opts, "(files of "+r.FilesFirst+" first)")
	}
	if !r.Declared {
		opts = append(opts, "(service default)")
	}
	if r.ForwardsTo != "" {
		opts = append(opts, "(Apache forwards to "+r.ForwardsTo+")")
	}
	return strings.Join(opts, " ")
}

// AddRequest is what `devport add` and POST /v1/projects carry. Empty
// fields are detected or defaulted.
type AddRequest struct {
	Dir     string `json:"dir,omitempty"`     // project folder (absolute over the control API)
	Name    string `json:"name,omitempty"`    // default: from the folder name
	Domain  string `json:"domain,omitempty"`  // default: NAME.test
	Stack   string `json:"stack,omitempty"`   // default: detected
	App     string `json:"app,omitempty"`     // a Python stack's MODULE:APP; default: detected
	Runtime string `json:"runtime,omitempty"` // process (default) | container
	Image   string `json:"image,omitempty"`   // container image; default: setting container.image.STACK, else the stack's
	Proxy   string `json:"proxy,omitempty"`   // URL of a server the user already runs
	// PHP is the php stack's version, MAJOR.MINOR ("8.2"); "" picks
	// composer.json's require.php, else the newest.
	PHP string `json:"php,omitempty"`
	// Chain, with stack php, adds the ASGI app in DIR/<prefix> reached
	// through Apache at this prefix ("/py").
	Chain string `json:"chain,omitempty"`
	// Data are data services added with the project (the ones detection
	// proposed and the user kept).
	Data []DataServiceRequest `json:"data,omitempty"`
	// Venv asks for the Python project's environment: when it declares
	// dependencies and has none, .venv is created and they are installed
	// before the project is added (devport add --venv). The face that
	// sets it runs engine.CreateVenv, which streams pip's output to it;
	// the engine's Add does not create it.
	Venv bool `json:"venv,omitempty"`
}

// DataProposal is a data service a folder shows it needs (detection):
// the preview offers it, and the user decides.
type DataProposal struct {
	Name  string `json:"name"`
	Stack string `json:"stack"`
	Why   string `json:"why"`
}

// RenameRequest renames a project (devport rename): a new name, a new
// primary domain, or both. An empty field keeps what the project has,
// except that a domain of the form OLD.TLD follows a new name.
type RenameRequest struct {
	Name   string `json:"name,omitempty"`
	Domain string `json:"domain,omitempty"`
}

// RuntimeRequest switches a service between the process and the container
// runtime (`devport set`, POST /v1/projects/{name}/runtime).
type RuntimeRequest struct {
	Service string `json:"service,omitempty"` // "": the project's only service that runs something
	Runtime string `json:"runtime"`           // process | container
	Image   string `json:"image,omitempty"`   // container image; "" keeps the service's image
	// PHP, when set, is the php service's version in the new runtime,
	// checked there before anything changes ("" lets devport choose);
	// nil keeps the version.
	PHP *string `json:"php,omitempty"`
}

// PHPRequest sets the PHP version of a php service (`devport set NAME
// --php 8.4`, POST /v1/projects/{name}/php). A running project restarts
// on it.
type PHPRequest struct {
	Service string `json:"service,omitempty"` // "": the project's only php service
	Version string `json:"version"`           // MAJOR.MINOR; "" lets devport choose again
}

// DebugRequest turns debugging of a Python service on or off (`devport
// debug NAME on|off`, POST /v1/projects/{name}/debug): it then runs under
// debugpy, listening on 127.0.0.1:5678 for an IDE to attach.
type DebugRequest struct {
	Service string `json:"service,omitempty"` // "": the project's only Python service
	On      bool   `json:"on"`
}

// PHPIniRequest changes a project's php.ini directives (`devport set NAME
// --php-ini KEY=VALUE --php-ini-unset KEY`, POST
// /v1/projects/{name}/php-ini): Set is added or replaced, then Unset
// removed. A running project restarts to apply them.
type PHPIniRequest struct {
	Set   map[string]string `json:"set,omitempty"`
	Unset []string          `json:"unset,omitempty"`
}

// EnvRequest changes the environment of a project's services (`devport
// set NAME --env [SERVICE:]KEY=VALUE --env-unset [SERVICE:]KEY`, POST
// /v1/projects/{name}/env), all or nothing. A running project restarts
// to apply it.
type EnvRequest struct {
	Services []ServiceEnv `json:"services"`
}

// ServiceEnv is the change of one service's environment: Set is added or
// replaced, then Unset removed.
type ServiceEnv struct {
	Service string            `json:"service,omitempty"` // "": the project's only service that runs something
	Set     map[string]string `json:"set,omitempty"`
	Unset   []string          `json:"unset,omitempty"`
}

// HooksRequest sets a project's hooks (`devport set NAME --before-start
// CMD`, --before-start-unset, POST /v1/projects/{name}/hooks). BeforeStart
// "" removes the hook. It takes effect at the next start: a running
// project keeps running.
type HooksRequest struct {
	BeforeStart string `json:"before_start"`
}

// XdebugRequest turns Xdebug of a project's PHP on or off (`devport
// xdebug NAME on|off`, POST /v1/projects/{name}/xdebug).
type XdebugRequest struct {
	On bool `json:"on"`
}

// RouteRequest declares a route of a project (`devport route NAME add`,
// POST /v1/projects/{name}/routes): exactly one of Service, Static and URL.
type RouteRequest struct {
	Prefix       string `json:"prefix"`
	Service      string `json:"service,omitempty"` // send the prefix to this service of the project
	Static       string `json:"static,omitempty"`  // serve the prefix from this folder; a relative one is the project folder's
	URL          string `json:"url,omitempty"`     // forward the prefix to this http(s) URL
	Strip        bool   `json:"strip,omitempty"`
	CacheControl string `json:"cache_control,omitempty"`
	// Timeouts and the body limit; zero means the default, MaxBody -1 no limit.
	ConnectTimeout time.Duration `json:"connect_timeout,omitempty"`
	ReadTimeout    time.Duration `json:"read_timeout,omitempty"`
	WriteTimeout   time.Duration `json:"write_timeout,omitempty"`
	MaxBody        int64         `json:"max_body,omitempty"`
}

// ParkRequest names a folder to park or unpark (`devport park DIR`, POST
// /v1/parked; `devport unpark DIR`, POST /v1/parked/unpark).
type ParkRequest struct {
	Dir string `json:"dir"` // absolute over the control API
}

// ParkReport is what a park or an unpark did: one line per project added,
// removed or stopped, and per subfolder skipped with the reason.
type ParkReport struct {
	Dir   string   `json:"dir"`
	Lines []string `json:"lines"`
}

// ParkedFolder is a parked folder and the projects it made (`devport
// parked`, GET /v1/parked).
type ParkedFolder struct {
	Dir      string   `json:"dir"`
	Projects []string `json:"projects,omitempty"`
	// Missing says the folder is gone: its projects are stopped, and come
	// back when it does.
	Missing bool `json:"missing,omitempty"`
}

// Setting is one of devport's settings (`devport config`, PUT
// /v1/settings/{key}).
type Setting struct {
	Key   string `json:"key"`
	Value string `json:"value"`
}

// Detection is what devport finds in a project folder.
type Detection struct {
	Stack   string `json:"stack"`
	App     string `json:"app,omitempty"`      // a Python stack's MODULE:ATTRIBUTE
	DocRoot string `json:"doc_root,omitempty"` // an absolute folder, when not the project folder
}

// Trust store names in TrustState.Store.
const (
	StoreSystem = "system"
	StoreNSS    = "nss"
	StoreJava   = "java"
)

// TrustState is the local CA's state in one trust store (one NSS database
// each).
type TrustState struct {
	Store    string `json:"store"`
	Location string `json:"location"` // anchor file or database directory
	Trusted  bool   `json:"trusted"`  // checked, not assumed
	Detail   string `json:"detail,omitempty"`
	Err      string `json:"error,omitempty"`
}

// NameResult is how one project domain resolves now, checked for real.
type NameResult struct {
	Name string `json:"name"`
	// OK is true when the name answers loopback and nothing else.
	OK          bool     `json:"ok"`
	Method      string   `json:"method"`
	Resolver    []string `json:"resolver,omitempty"`
	ResolverErr string   `json:"resolver_error,omitempty"`
	Getent      []string `json:"getent,omitempty"`
	GetentRan   bool     `json:"getent_ran"`
	Detail      string   `json:"detail"`
	Fix         string   `json:"fix,omitempty"`
}

// Event is something that changed in the engine. The window and the tray
// subscribe to redraw when something happens, instead of polling.
type Event struct {
	Kind    EventKind
	Project string
	Service string
	State   State  // for EventState: the project's new state
	Detail  string // human-readable: a crash reason, a cert's names, a pull's layer
	// Current and Total are bytes done and expected for EventProgress
	// (Total is 0 when unknown).
	Current, Total int64
	// Raise is what a second launch of the window asked, for EventRaise.
	Raise *RaiseRequest `json:",omitempty"`
}

// RaiseRequest is what a second launch of the window (`devport`,
// `devport --start NAME`) asks of the window already open: it exits
// rather than open another (POST /v1/window/raise).
type RaiseRequest struct {
	// Show brings the window to the front (false for --minimized).
	Show bool `json:"show"`
	// Start are the projects to start (--start).
	Start []string `json:"start,omitempty"`
}

// EventKind says what an Event is about.
type EventKind string

// The kinds of Event.
const (
	EventAdded    EventKind = "added"
	EventRemoved  EventKind = "removed"
	EventState    EventKind = "state"
	EventProgress EventKind = "progress"
	EventCert     EventKind = "cert-issued"
	// EventWarning is a problem the engine keeps working through, such as
	// an access log it cannot write; Detail says what and the fix.
	EventWarning EventKind = "warning"
	// EventNotice is something the engine did on its own that the user
	// should hear of, such as databases following a git checkout; Detail
	// says what.
	EventNotice EventKind = "notice"
	// EventRaise asks the open window to come to the front and start
	// Event.Raise.Start: a second launch found it (one instance). Only
	// windows act on it.
	EventRaise EventKind = "raise"
)

// The results of a setup step.
const (
	SetupDone    = "done"
	SetupAlready = "already done"
	SetupSkipped = "skipped"
	SetupFailed  = "failed"
)

// SetupStep is one step of devport setup and what came of it.
type SetupStep struct {
	Step   string `json:"step"`
	Result string `json:"result"` // SetupDone, SetupAlready, SetupSkipped or SetupFailed
	Detail string `json:"detail,omitempty"`
	Fix    string `json:"fix,omitempty"`
}

func (s SetupStep) String() string {
	line := fmt.Sprintf("%-13s %s", s.Result, s.Step)
	if s.Detail != "" {
		line += ": " + s.Detail
	}
	if s.Fix != "" {
		line += "\n              fix: " + s.Fix
	}
	return line
}

// SetupNeed is something devport setup would put in order, and why it
// matters to the user.
type SetupNeed struct {
	What string `json:"what"` // "trust", "names" or "ports"
	Why  string `json:"why"`  // e.g. "shop.test will not open in your browser: its name does not resolve"
}
