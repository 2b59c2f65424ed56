package stacks

import (
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"

	"github.com/devport/devport/internal/shellquote"
	"github.com/devport/devport/internal/stackdef"
	"github.com/docker/docker/api/types/mount"
	"github.com/docker/go-connections/nat"
)

// Where things live inside the containers.
const (
	phpAppDir       = "/var/www/html"                               // the project folder (php)
	phpVhostPath    = "/etc/apache2/sites-enabled/000-default.conf" // the generated site replaces the image's default site
	phpPort         = "80"
	pyAppDir        = "/app"          // the project folder (uvicorn)
	pyDepsDir       = "/devport/deps" // the named volume with the installed requirements
	pyPort          = "8000"
	pyScriptPath    = "/devport/run.sh"
	pyWorkerDir     = "/devport/py" // gunicorn's --pythonpath for RootPathWorker
	pyDebugPort     = "5678"        // debugpy's, published on 127.0.0.1:Spec.DebugPort
	phpScriptPath   = "/devport/php-run.sh"
	containerVhost  = "apache-site.conf"   // in RunDir
	containerEntry  = "python-run.sh"      // in RunDir
	containerWorker = "gunicorn-worker.py" // in RunDir
	containerPHPRun = "php-run.sh"         // in RunDir
	containerPHPIni = "php-devport.ini"    // in RunDir: zz-devport.ini (phpini.go)
	phpIniMount     = "/devport/php/zz-devport.ini"
	phpScanDir      = "/run/devport-php" // PHP_INI_SCAN_DIR in a php container, made by phpIniScript
)

// containerPlan is what one service's container is made of.
type containerPlan struct {
	image string
	cmd   []string // nil: the image's own CMD
	// imageCmd appends the image's own CMD to cmd when the container is
	// created: cmd wraps it.
	imageCmd bool
	env      []string
	workDir  string
	port     string // the container's TCP port
	// protocol is what the server speaks on port: ProtocolHTTP or
	// ProtocolUWSGI.
	protocol string
	mounts   []mount.Mount
	volume   string            // named volume to create first ("" for none)
	network  string            // the project's network, joined under the service's name
	files    map[string][]byte // generated files, by path in RunDir
	// debugPort publishes debugpy's pyDebugPort on this 127.0.0.1 port
	// (Spec.Debug); 0 publishes nothing more.
	debugPort int
	// extraHosts are added to the container's /etc/hosts
	// ("host.docker.internal:host-gateway" for Xdebug).
	extraHosts []string

	// The data stacks (container_data.go):

	// hostPort publishes port on this fixed 127.0.0.1 port instead of an
	// ephemeral one (0).
	hostPort int
	// uiPort is a second TCP port, published on an ephemeral 127.0.0.1
	// port, that is the Upstream (Mailpit's web UI); "" : port is.
	uiPort       string
	stopSignal   string            // "" : the image's
	volumeLabels map[string]string // on top of the service's labels
	// dataFromImage mounts volume where the image's PGDATA says
	// (resolveDataMount), once the image is present.
	dataFromImage bool
	ready         *containerDataCheck // nil: an HTTP (or uwsgi) answer on the Upstream
}

// upstreamPort is the container port the Upstream is published from.
func (p containerPlan) upstreamPort() string {
	if p.uiPort != "" {
		return p.uiPort
	}
	return p.port
}

// portBindings exposes the plan's ports and publishes them on 127.0.0.1.
func (p containerPlan) portBindings() (nat.PortSet, nat.PortMap) {
	exposed, bindings := nat.PortSet{}, nat.PortMap{}
	add := func(port string, host int) {
		hp := ""
		if host != 0 {
			hp = strconv.Itoa(host)
		}
		k := nat.Port(port + "/tcp")
		exposed[k] = struct{}{}
		bindings[k] = []nat.PortBinding{{HostIP: "127.0.0.1", HostPort: hp}}
	}
	add(p.port, p.hostPort)
	if p.uiPort != "" {
		add(p.uiPort, 0)
	}
	if p.debugPort != 0 {
		add(pyDebugPort, p.debugPort)
	}
	return exposed, bindings
}

// planContainer builds the container of spec's stack. It checks the bind
// mount sources: a folder that does not exist is an error here, not an
// empty folder Docker creates as root. proxyFrom are the addresses devport's
// proxy connects from, as the container sees them (the project network's
// gateways): the only ones whose forwarding headers Apache trusts.
func planContainer(s Spec, image string, proxyFrom []string) (containerPlan, error) {
	if stackdef.IsData(s.Stack) { // no project folder in its container
		p, err := planDataContainer(s, image)
		if err != nil {
			return containerPlan{}, err
		}
		p.network = networkName(s.Home, s.Project)
		return p, nil
	}
	if !isDir(s.Dir) {
		return containerPlan{}, folderMissing(s.Dir)
	}
	var p containerPlan
	switch s.Stack {
	case stackdef.PHP:
		var err error
		if p, err = planPHP(s, image, proxyFrom); err != nil {
			return containerPlan{}, err
		}
	case stackdef.Uvicorn, stackdef.Gunicorn, stackdef.WSGI, stackdef.UWSGI:
		var err error
		if p, err = planPython(s, image); err != nil {
			return containerPlan{}, err
		}
	default:
		return containerPlan{}, fmt.Errorf("service %s: stack %q: %w (use php, uvicorn, gunicorn, wsgi or uwsgi)", s.label(), s.Stack, ErrUnknownStack)
	}
	if s.CABundle != "" {
		p.mounts = append(p.mounts, mount.Mount{Type: mount.TypeBind, Source: s.CABundle, Target: ContainerCABundle, ReadOnly: true})
	}
	p.network = networkName(s.Home, s.Project)
	return p, nil
}

// ContainerCABundle is where a container sees Spec.CABundle.
const ContainerCABundle = "/etc/devport/ca-bundle.pem"

// planPython runs one of the Python stacks: the project folder mounted at
// /app, a named volume for its requirements, and a generated script that
// installs requirements.txt when it changed, checks that the server is
// importable, and execs it on TCP with the process runtime's flags:
//
//   - uvicorn: --proxy-headers, and --root-path for a prefix;
//   - gunicorn: uvicorn's workers (devport's RootPathWorker for a prefix);
//   - wsgi: gunicorn's sync workers, SCRIPT_NAME for a prefix;
//   - uwsgi: the uwsgi protocol on --socket (the proxy speaks it), with
//     --die-on-term --vacuum --master --need-app, mounted at the prefix.
//
// With Spec.Debug, uvicorn and gunicorn run under debugpy as in the
// process runtime (one gunicorn worker, no timeout), listening on the
// container's pyDebugPort, published on 127.0.0.1:DebugPort only; the
// script first checks that the image (or requirements.txt) has debugpy.
// uWSGI refuses it.
func planPython(s Spec, image string) (containerPlan, error) {
	prefix := ""
	if p := s.PathPrefix; p != "" && p != "/" {
		prefix = p
	}
	bind := "0.0.0.0:" + pyPort
	workers := strconv.Itoa(s.workers())
	p := containerPlan{
		image:   image,
		cmd:     []string{"sh", pyScriptPath},
		env:     []string{"PYTHONUNBUFFERED=1", "PYTHONDONTWRITEBYTECODE=1", "PIP_DISABLE_PIP_VERSION_CHECK=1"},
		workDir: pyAppDir,
		port:    pyPort,
		volume:  depsVolumeName(s.Home, s.Project, s.Service),
		mounts: []mount.Mount{
			{Type: mount.TypeBind, Source: filepath.Clean(s.Dir), Target: pyAppDir},
			{Type: mount.TypeVolume, Source: depsVolumeName(s.Home, s.Project, s.Service), Target: pyDepsDir},
			{Type: mount.TypeBind, Source: filepath.Join(s.RunDir, containerEntry), Target: pyScriptPath, ReadOnly: true},
		},
		files: map[string][]byte{},
	}
	debug := "" // what runs the server under debugpy, after "$PY"
	if s.Debug {
		if s.Stack == stackdef.UWSGI {
			return containerPlan{}, fmt.Errorf("service %s: %w", s.label(), ErrNoDebugger)
		}
		debug = "-Xfrozen_modules=off -m debugpy --listen 0.0.0.0:" + pyDebugPort + " "
		p.debugPort = s.debugPort()
		p.env = append(p.env, debugEnv...)
	}
	var pre, run, modules, server string // pre: shell lines before the server's loop
	switch s.Stack {
	case stackdef.Uvicorn:
		args := append(uvicornApp(s.App), "--host", "0.0.0.0", "--port", pyPort,
			"--proxy-headers", "--forwarded-allow-ips", "*", "--timeout-keep-alive", keepAliveSeconds(), "--app-dir", pyAppDir)
		if prefix != "" {
			args = append(args, "--root-path", prefix)
		}
		server, modules, run = "uvicorn", "uvicorn", `"$PY" `+debug+`-m uvicorn `+shellquote.Join(args)
	case stackdef.Gunicorn, stackdef.WSGI:
		args := []string{}
		modules, server = "gunicorn", "gunicorn"
		if s.Stack == stackdef.Gunicorn {
			modules, server = "gunicorn uvicorn", "gunicorn and uvicorn"
			if prefix != "" {
				p.files[containerWorker] = []byte(asgiWorkerSource)
				p.mounts = append(p.mounts, mount.Mount{Type: mount.TypeBind, Source: filepath.Join(s.RunDir, containerWorker),
					Target: pyWorkerDir + "/" + asgiWorkerModule + ".py", ReadOnly: true})
				args = append(args, "--pythonpath", pyWorkerDir, "-k", asgiWorkerClass)
			} else {
				args = append(args, "-k", "uvicorn.workers.UvicornWorker")
			}
		}
		args = append(args, gunicornWorkerArgs(s)...)
		args = append(args, "--bind", bind, "--forwarded-allow-ips", "*", "--keep-alive", keepAliveSeconds(), "--chdir", pyAppDir)
		if prefix != "" {
			args = append(args, "--env", "SCRIPT_NAME="+prefix)
		}
		run = `"$PY" ` + debug + `-m gunicorn ` + shellquote.Join(append(args, s.App))
	case stackdef.UWSGI:
		args := []string{"--socket", bind, "--master", "--die-on-term", "--vacuum", "--need-app",
			"--buffer-size", "65535", "--processes", workers, "--chdir", pyAppDir}
		if prefix != "" {
			args = append(args, "--manage-script-name", "--mount", prefix+"="+s.App)
		} else {
			args = append(args, "--module", s.App)
		}
		p.protocol = ProtocolUWSGI
		server = "uWSGI"
		pre, run = fmt.Sprintf(uwsgiRun, image), `"$UWSGI" $PLUGIN `+shellquote.Join(args)
	default:
		return containerPlan{}, fmt.Errorf("service %s: stack %q: %w", s.label(), s.Stack, ErrUnknownStack)
	}
	run = pre + fmt.Sprintf(serveLoop, run, server)
	if modules != "" {
		run = fmt.Sprintf(pythonImportCheck, modules, server, image, strings.ReplaceAll(modules, " ", " and ")) + run
	}
	if debug != "" {
		run = fmt.Sprintf(debugpyImportCheck, image, s.label(), s.Project) + run
	}
	p.files[containerEntry] = []byte(fmt.Sprintf(pythonScript, pyDepsDir, image, s.Stack) + run + "\n")
	return p, nil
}

// pythonScript installs requirements.txt into the deps volume when its hash
// changed since the last install; the stack's run line follows it.
const pythonScript = `# Generated by devport: install requirements.txt (when changed), then run %[3]s.
set -e
DEPS=%[1]s
PY=$(command -v python3 || command -v python || true)
if [ -z "$PY" ]; then
    echo "devport: image %[2]s has no python3: choose a Python image with --image" >&2
    exit 127
fi
if [ -f requirements.txt ]; then
    want=$(sha256sum requirements.txt | cut -d' ' -f1)
    have=$(cat "$DEPS/requirements.sha256" 2>/dev/null || true)
    if [ "$want" != "$have" ]; then
        echo "devport: installing requirements.txt into the volume at $DEPS"
        rm -rf "$DEPS/lib" "$DEPS/requirements.sha256"
        "$PY" -m pip install --no-cache-dir --target "$DEPS/lib" -r requirements.txt
        echo "$want" > "$DEPS/requirements.sha256"
    else
        echo "devport: requirements.txt unchanged, reusing the installed packages"
    fi
fi
export PYTHONPATH="$DEPS/lib${PYTHONPATH:+:$PYTHONPATH}"
export PATH="$DEPS/lib/bin:$PATH"
`

// serveLoop runs the server (%[1]s, a shell command line; %[2]s its name)
// and restarts it in place on SIGHUP: a reload on save (containerRunner's
// Reload) then costs the server's start, not a new container's. TERM or
// INT stop it, and its own exit ends the script, so the container, with
// its status. The script's pid and the server's go to serverPIDFile's
// folder: Reload signals the one and waits for the other to change.
const serveLoop = `echo $$ > ` + scriptPIDFile + `
restart=0 stop=0 pid=
# The server runs in its own process group when setsid is there, and
# TERM goes to the whole group, as in the process runtime: gunicorn's
# workers then stop at once instead of after the master's graceful wait.
SETSID=$(command -v setsid || true)
term() { [ -n "$pid" ] && { kill -TERM -"$pid" 2>/dev/null || kill -TERM "$pid" 2>/dev/null; }; }
trap 'restart=1; term' HUP
trap 'stop=1; term' TERM INT
while :; do
    restart=0
    $SETSID %[1]s &
    pid=$!
    echo "$pid" > ` + serverPIDFile + `
    rc=0
    while :; do
        wait "$pid" || rc=$?
        kill -0 "$pid" 2>/dev/null || break
    done
    if [ "$stop" = 1 ] || [ "$restart" = 0 ]; then
        exit "$rc"
    fi
    echo "devport: files changed: restarting %[2]s"
done`

// scriptPIDFile and serverPIDFile are where a Python container's script
// (serveLoop) writes its pid and its server's.
const (
	scriptPIDFile = "/tmp/devport-script.pid"
	serverPIDFile = "/tmp/devport-server.pid"
)

// pythonImportCheck fails with the fix when the server's modules do not
// import: %[1]s the modules, %[2]s the server's name, %[3]s the image, %[4]s
// what to add to requirements.txt.
const pythonImportCheck = `for m in %[1]s; do
    if ! "$PY" -c "import $m" 2>/dev/null; then
        echo "devport: $m is not installed in image %[3]s: add %[4]s to requirements.txt (%[2]s serves this app)" >&2
        exit 1
    fi
done
`

// debugpyImportCheck fails with the fix when debugpy does not import:
// %[1]s the image, %[2]s the service, %[3]s the project.
const debugpyImportCheck = `if ! "$PY" -c "import debugpy" 2>/dev/null; then
    echo "devport: debugpy is not installed in image %[1]s: add debugpy to requirements.txt to debug %[2]s, or turn debugging off: devport debug %[3]s off" >&2
    exit 1
fi
`

// uwsgiRun finds a uwsgi binary (the image's, or pyuwsgi's from
// requirements.txt) and loads the python3 plugin when it is a plugin
// build (Debian's): %[1]s the image. The command that runs it follows.
const uwsgiRun = `UWSGI=$(command -v uwsgi || command -v pyuwsgi || true)
if [ -z "$UWSGI" ]; then
    echo "devport: uWSGI is not installed in image %[1]s: add pyuwsgi (prebuilt wheels) or uwsgi to requirements.txt" >&2
    exit 1
fi
PLUGIN=
for d in /usr/lib/uwsgi/plugins /usr/lib/uwsgi; do
    if [ -e "$d/python3_plugin.so" ]; then PLUGIN="--plugin python3"; fi
done
`

// writeFiles writes the plan's generated files into the run folder.
func (p containerPlan) writeFiles(runDir string) error {
	if err := os.MkdirAll(runDir, 0o700); err != nil {
		return fmt.Errorf("create run folder: %w", err)
	}
	for name, data := range p.files {
		path := filepath.Join(runDir, name)
		tmp := path + ".tmp"
		if err := os.WriteFile(tmp, data, 0o644); err != nil {
			return fmt.Errorf("write %s: %w", name, err)
		}
		if err := os.Rename(tmp, path); err != nil {
			return fmt.Errorf("write %s: %w", name, err)
		}
	}
	return nil
}

// hash identifies a plan: a running container made from the same one can be
// adopted.
func (p containerPlan) hash() string {
	h := sha256.New()
	enc := json.NewEncoder(h)
	names := make([]string, 0, len(p.files))
	for n := range p.files {
		names = append(names, n)
	}
	slices.Sort(names)
	_ = enc.Encode([]any{p.image, p.cmd, p.imageCmd, p.env, p.workDir, p.port, p.mounts, p.volume, p.network, names})
	if p.hostPort != 0 || p.uiPort != "" || p.stopSignal != "" || p.dataFromImage {
		_ = enc.Encode([]any{p.hostPort, p.uiPort, p.stopSignal, p.volumeLabels, p.dataFromImage})
	}
	if p.debugPort != 0 {
		_ = enc.Encode([]any{"debug", p.debugPort})
	}
	if len(p.extraHosts) > 0 {
		_ = enc.Encode([]any{"hosts", p.extraHosts})
	}
	for _, n := range names {
		h.Write(p.files[n])
	}
	return hex.EncodeToString(h.Sum(nil))[:16]
}
