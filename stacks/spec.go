package stacks

import (
	"fmt"
	"path/filepath"
	"regexp"
	"runtime"
	"time"

	"github.com/devport/devport/internal/stackdef"
)

// The protocols an Upstream speaks.
const (
	ProtocolHTTP  = ""      // HTTP/1.1
	ProtocolUWSGI = "uwsgi" // the uwsgi protocol, as nginx's uwsgi_pass speaks it
)

// Defaults for the durations a Spec or a context may leave unset.
const (
	// DefaultStopTimeout is how long Stop waits after SIGTERM before it
	// sends SIGKILL to the process group.
	DefaultStopTimeout = 5 * time.Second
	// DefaultReadyTimeout bounds Start when its context has no deadline.
	// Apache answers in about 50 ms and uvicorn in about 250 ms here; the
	// margin is for cold caches and big apps that import a lot at startup.
	DefaultReadyTimeout = 20 * time.Second
)

// Upstream is where the proxy reaches a started backend. It has the same
// shape as proxy.Upstream; app converts between the two.
type Upstream struct {
	Network string // "tcp" or "unix"
	Address string // "127.0.0.1:8081" or "/path/to/run/api.sock"
	// Protocol is what the backend speaks there: ProtocolHTTP ("") or
	// ProtocolUWSGI ("uwsgi": request vars in a uwsgi packet, then the body;
	// the answer is an HTTP/1.x response).
	Protocol string
}

// String renders the upstream for logs and pages: http://127.0.0.1:8081 or
// unix:/path/api.sock, and uwsgi://127.0.0.1:3031 or uwsgi:unix:/path/web.sock
// for the uwsgi protocol.
func (u Upstream) String() string {
	prefix := ""
	if u.Protocol == ProtocolUWSGI {
		prefix = "uwsgi:"
	}
	if u.Network == "unix" {
		return prefix + "unix:" + u.Address
	}
	if prefix != "" {
		return "uwsgi://" + u.Address
	}
	return "http://" + u.Address
}

// Spec describes one service to run.
type Spec struct {
	Project, Service string // names, used in the config, the socket name and errors

	// Stack is stackdef.PHP, stackdef.Uvicorn, stackdef.Gunicorn, stackdef.WSGI or
	// stackdef.UWSGI.
	Stack string
	// Dir is the project folder (absolute). The Python stacks run with it
	// as working directory (uvicorn --app-dir, gunicorn and uWSGI --chdir).
	Dir string
	// DocRoot is the php document root. "" means Dir/public when that folder
	// exists, else Dir.
	DocRoot string
	// Links make the php stack's Apache forward path prefixes to sibling
	// services (ProxyPass); the targets must be started first, so their
	// upstreams are known. Other stacks must leave it empty.
	Links []Link
	// PHP is the php stack's version in the process runtime, "8.2": its
	// private Apache loads that version's mod_php (libphp8.2.so). "" loads
	// the newest installed. The container runtime ignores it: the image
	// (php:8.2-apache) carries the version.
	PHP string
	// App is the Python stacks' "module:attribute", e.g. "main:app" or
	// "mysite.wsgi:application".
	App string
	// PathPrefix, when it is not "/", tells the app the prefix the proxy
	// routes to it, so that it builds its URLs under it: uvicorn's
	// --root-path, the ASGI root_path of gunicorn's uvicorn workers, and
	// SCRIPT_NAME for the WSGI stacks. ProxyStripsPrefix says whether the
	// backend expects the prefix removed from the path or still there.
	PathPrefix string
	// Sendmail, for the php stack, is PHP's sendmail_path (PHPSendmail:
	// mail() goes to the project's Mailpit); "" keeps PHP's own.
	Sendmail string
	// PHPIni, for the php stack, are the project's php.ini settings
	// (devport.toml's [php.ini], devport set --php-ini), on top of the
	// distribution's php.ini and PHPIniDefaults (phpini.go). Keys and
	// values follow valuerule.PHPIniKey and PHPIniValue.
	PHPIni map[string]string `json:",omitempty"`
	// Xdebug, for the php stack, loads Xdebug (devport xdebug NAME on):
	// step debugging for requests that carry the trigger, connecting to
	// the IDE on XdebugPort. Off, the extension is not loaded at all.
	Xdebug bool `json:",omitempty"`
	// XdebugPort is xdebug.client_port; 0 means DefaultXdebugPort (9003).
	XdebugPort int `json:",omitempty"`
	// Workers is the number of worker processes of gunicorn and uWSGI;
	// 0 means one per CPU (runtime.NumCPU).
	Workers int
	// RunDir is the service's private folder for the generated config, the
	// pid file and the socket. It is created with mode 0700.
	RunDir string
	// LogPath receives the backend's stdout and stderr (appended; the file
	// is created 0644 and its folder 0755). "" means RunDir/<service>.log.
	LogPath string
	// Env is added to devport's own environment for the backend
	// ("KEY=value" entries; later entries win).
	Env []string
	// CABundle is a host file of trusted roots (the system's plus
	// devport's). The container runtime mounts it read-only at
	// ContainerCABundle, so Env can point TLS stacks at it there.
	CABundle string
	// StopTimeout is how long Stop lets the backend shut down gracefully
	// before it kills the group; 0 means DefaultStopTimeout.
	StopTimeout time.Duration
	// Supervisor, when set, is the argv prefix that runs devport's
	// supervisor (Supervise), e.g. []string{os.Executable(),
	// SuperviseCommand}: the process runtime then starts the backend as
	// Supervisor + [-grace StopTimeout -- backend argv...]. The supervisor
	// leads the backend's process group, is the subreaper of its tree, and
	// takes the whole tree down when the engine dies, even by SIGKILL
	// (Pdeathsig alone reaches only the direct child: Apache's children and
	// gunicorn's workers went on serving). Empty starts the backend
	// directly, as before. The container runtime ignores it.
	Supervisor []string `json:",omitempty"`
	// Debug runs a Python service under debugpy (devport debug NAME on),
	// listening on 127.0.0.1:DebugPort for an IDE to attach over DAP:
	// `python -m debugpy --listen ... -m uvicorn|gunicorn`, with one
	// gunicorn worker and no worker timeout, so a request paused at a
	// breakpoint is not killed. The uwsgi stack refuses it (uWSGI embeds
	// Python in its own binary, where debugpy cannot start its adapter).
	Debug bool `json:",omitempty"`
	// DebugPort is debugpy's port on 127.0.0.1 in both runtimes (the
	// container runtime publishes it there); 0 means DefaultDebugPort,
	// the port VS Code's attach configuration uses.
	DebugPort int `json:",omitempty"`

	// The data stacks only (stackdef.Data: mariadb, postgres, redis,
	// mailpit):

	// DataDir is the service's own data folder in the process runtime
	// (absolute; created 0700 on the first start, and initialized when
	// empty). The container runtime keeps the data in the named volume
	// DataVolume(Home, Project, Service) instead.
	DataDir string
	// Version is the version asked for: a major version ("15", "10.11",
	// "7") that the host has (process runtime; DataVersions lists them), or
	// the image tag (container runtime, when Image is empty: mariadb:11).
	// "" means the newest the host has, or the stack's default image.
	Version string
	// Port is the loopback TCP port the service answers clients on, the
	// same in both runtimes (the container runtime publishes it on
	// 127.0.0.1): the database's, Redis's, Mailpit's SMTP port. It must be
	// set (the engine chooses it once and stores it).
	Port int
	// Database, User and Password are what a database service (mariadb,
	// postgres) creates on its first start, when the database does not
	// exist yet: the database, and a user with that password who owns it
	// (and may create other databases, for test suites).
	Database, User, Password string

	// The container runtime only (NewContainerRunner):

	// Image is the container image; "" means the stack's default
	// (DefaultImage).
	Image string
	// Home is devport's data folder. Containers carry it in the
	// devport.home label, so two devport homes never touch each other's
	// containers. Required by NewContainerRunner.
	Home string
	// Progress, when set, receives the progress of an image pull: the
	// layer, the bytes done and the bytes expected (0 when unknown). It is
	// called from Start's goroutine.
	Progress func(layer string, current, total int64) `json:"-"`
}

// appRe is a Python stack's app: uvicorn's "module:attribute" syntax
// (dotted names allowed), or "module:factory()", which every Python stack
// calls at start to get the app: gunicorn (20.1 and later) and uWSGI take
// the call as it is, uvicorn as module:factory --factory (uvicornApp).
var appRe = regexp.MustCompile(`^[A-Za-z_][\w.]*:[A-Za-z_][\w.]*(?:\(\))?$`)

// validate checks what every stack needs and fills the defaults in place.
func (s *Spec) validate() error {
	if s.Service == "" {
		return fmt.Errorf("service name is empty")
	}
	if !filepath.IsAbs(s.Dir) {
		return fmt.Errorf("service %s: project folder %q must be an absolute path", s.Service, s.Dir)
	}
	if !filepath.IsAbs(s.RunDir) {
		return fmt.Errorf("service %s: run folder %q must be an absolute path", s.Service, s.RunDir)
	}
	if s.DocRoot != "" && !filepath.IsAbs(s.DocRoot) {
		return fmt.Errorf("service %s: document root %q must be an absolute path", s.Service, s.DocRoot)
	}
	if s.LogPath == "" {
		s.LogPath = filepath.Join(s.RunDir, s.Service+".log")
	}
	if s.StopTimeout <= 0 {
		s.StopTimeout = DefaultStopTimeout
	}
	if stackdef.IsPython(s.Stack) && !appRe.MatchString(s.App) {
		return fmt.Errorf("service %s: %s app %q must be module:attribute, e.g. main:app", s.Service, s.Stack, s.App)
	}
	if len(s.Links) > 0 && s.Stack != stackdef.PHP {
		return fmt.Errorf("service %s: links are for the php stack (Apache forwards them), not %s", s.Service, s.Stack)
	}
	for _, l := range s.Links {
		if err := l.validate(s.label()); err != nil {
			return err
		}
	}
	if r := CheckPHPIni(s.PHPIni); r != "" {
		return fmt.Errorf("service %s: php.ini %s", s.Service, r)
	}
	if s.Workers < 0 {
		return fmt.Errorf("service %s: workers is %d: use a positive number, or 0 for one per CPU", s.Service, s.Workers)
	}
	return nil
}

// workers is the worker count of spec: Workers, or one per CPU.
func (s *Spec) workers() int {
	if s.Workers > 0 {
		return s.Workers
	}
	return runtime.NumCPU()
}

// label names the service in errors: "shop/web", or "web" without a project.
func (s *Spec) label() string {
	if s.Project == "" {
		return s.Service
	}
	return s.Project + "/" + s.Service
}
