package stacks

import (
	"bytes"
	"context"
	"crypto/rand"
	"fmt"
	"net"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"text/template"

	"github.com/devport/devport/assets"
)

// httpdTemplate is parsed once; it is never modified afterwards.
var httpdTemplate = template.Must(template.New("httpd.conf").
	Funcs(confFuncs).
	Parse(assets.HTTPDConf))

// confFuncs quote values for the Apache config templates: q a value, dirq
// a path as a <Directory> pattern.
var confFuncs = template.FuncMap{"q": confQuote, "dirq": dirQuote}

// httpdConfig is the data of assets.HTTPDConf.
type httpdConfig struct {
	ServerRoot    string // the parent of the modules folder (/usr/lib/apache2)
	RunDir        string // DefaultRuntimeDir: Apache's runtime files
	PidFile       string
	MutexDir      string // "file:RunDir": file-based mutexes live (briefly: they are unlinked at once) there
	PHPModule     string // absolute path of libphp*.so
	PHPModuleName string // "php_module" (PHP 8) or "php7_module"
	User, Group   string // only when devport runs as root (Apache refuses to serve as root): the folder's owner, or nobody
	Listen        string // 127.0.0.1:port
	ServerName    string
	TypesConfig   string // /etc/mime.types, or /dev/null without it
	DocRoot       string
	ProbeToken    string // sent back to the readiness probe only: proves the answer is this Apache's
	KeepAlive     string // Off (ApacheKeepAlive)
	Links         []apacheLink
	Sendmail      string // PHP's sendmail_path, "" for PHP's own (Spec.Sendmail)
}

// apache is the php stack: `apache2 -f RunDir/httpd.conf -DFOREGROUND` with
// mod_php and a private config.
type apache struct {
	spec  Spec
	tools toolchain
	// freePort picks the port for an attempt. Tests replace it to hand out
	// a port that is already taken.
	freePort func(ctx context.Context, attempt int) (int, error)
	// asRoot adds User/Group to the config (the project folder's owner, or
	// nobody: workerAccount) and checks that the document root is readable
	// by that user.
	asRoot bool
}

func newApache(spec Spec, tools toolchain) *apache {
	return &apache{spec: spec, tools: tools, freePort: loopbackPort, asRoot: os.Geteuid() == 0}
}

func (a *apache) confPath() string { return filepath.Join(a.spec.RunDir, "httpd.conf") }
func (a *apache) pidPath() string  { return filepath.Join(a.spec.RunDir, "httpd.pid") }

func (a *apache) prepare(ctx context.Context, attempt int) (launch, error) {
	bin, err := a.tools.apache2()
	if err != nil {
		return launch{}, err
	}
	cfg, err := a.config()
	if err != nil {
		return launch{}, err
	}
	port, err := a.freePort(ctx, attempt)
	if err != nil {
		return launch{}, fmt.Errorf("choose a port for apache: %w", err)
	}
	cfg.Listen = net.JoinHostPort("127.0.0.1", strconv.Itoa(port))
	cfg.ProbeToken = rand.Text()
	if err := a.writeConfig(cfg); err != nil {
		return launch{}, err
	}
	iniEnv, err := a.phpConfD(ctx)
	if err != nil {
		return launch{}, err
	}
	_ = os.Remove(a.pidPath()) // a stale pid file only earns a warning, but keep the log clean
	return launch{
		path:     bin,
		args:     []string{"-f", a.confPath(), "-DFOREGROUND"},
		dir:      a.spec.RunDir,
		env:      append(append(os.Environ(), a.spec.Env...), iniEnv...),
		upstream: Upstream{Network: "tcp", Address: cfg.Listen},
		token:    cfg.ProbeToken,
	}, nil
}

// config fills everything but Listen.
func (a *apache) config() (httpdConfig, error) {
	mod, err := a.tools.phpModuleFor(a.spec.PHP)
	if err != nil {
		return httpdConfig{}, err
	}
	docRoot, err := a.docRoot()
	if err != nil {
		return httpdConfig{}, err
	}
	cfg := httpdConfig{
		ServerRoot:    filepath.Dir(a.tools.modulesDir),
		RunDir:        a.spec.RunDir,
		PidFile:       a.pidPath(),
		MutexDir:      "file:" + a.spec.RunDir,
		PHPModule:     mod,
		PHPModuleName: phpModuleName(mod),
		ServerName:    serverName(a.spec),
		TypesConfig:   "/etc/mime.types",
		DocRoot:       docRoot,
		KeepAlive:     ApacheKeepAlive,
		Sendmail:      a.spec.Sendmail,
	}
	if !isFile(cfg.TypesConfig) {
		cfg.TypesConfig = os.DevNull // mod_mime fails to start without a types file
	}
	for _, p := range []string{cfg.RunDir, cfg.DocRoot, cfg.PHPModule, cfg.ServerRoot} {
		if !confSafe(p) {
			return httpdConfig{}, fmt.Errorf("path %q holds a character apache's config cannot carry (\", \\, a newline or ${): rename or move it", p)
		}
	}
	for _, l := range a.spec.Links {
		cfg.Links = append(cfg.Links, l.render(false))
	}
	if a.asRoot {
		u, err := workerAccount(a.spec.Dir)
		if err != nil {
			return httpdConfig{}, err
		}
		if err := readableBy(docRoot, u); err != nil {
			return httpdConfig{}, err
		}
		for _, l := range a.spec.Links {
			if l.Upstream.Network == "unix" {
				if err := shareSocket(l.Upstream.Address, u); err != nil {
					return httpdConfig{}, err
				}
			}
		}
		cfg.User, cfg.Group = u.user, u.group
	}
	return cfg, nil
}

// docRoot is Spec.DocRoot, else Dir/public when it exists, else Dir.
func (a *apache) docRoot() (string, error) {
	if !isDir(a.spec.Dir) {
		return "", folderMissing(a.spec.Dir)
	}
	root := a.spec.DocRoot
	if root == "" {
		root = a.spec.Dir
		if pub := filepath.Join(a.spec.Dir, "public"); isDir(pub) {
			root = pub
		}
	}
	if !isDir(root) {
		return "", fmt.Errorf("document root %q does not exist: create it or choose another one", root)
	}
	return filepath.Clean(root), nil
}

func (a *apache) writeConfig(cfg httpdConfig) error {
	var b bytes.Buffer
	if err := httpdTemplate.Execute(&b, cfg); err != nil {
		return fmt.Errorf("render apache config: %w", err)
	}
	if err := os.MkdirAll(a.spec.RunDir, 0o700); err != nil {
		return fmt.Errorf("create run folder: %w", err)
	}
	tmp := a.confPath() + ".tmp"
	if err := os.WriteFile(tmp, b.Bytes(), 0o600); err != nil {
		return fmt.Errorf("write apache config: %w", err)
	}
	if err := os.Rename(tmp, a.confPath()); err != nil {
		return fmt.Errorf("write apache config: %w", err)
	}
	return nil
}

// phpConfD writes the project's PHP scan folder (RunDir/php: the
// distribution's apache2 conf.d without Xdebug, and zz-devport.ini) and
// returns the environment that points mod_php at it. mod_php reads it
// once, when Apache starts as the user devport runs as.
func (a *apache) phpConfD(ctx context.Context) ([]string, error) {
	p, err := HostPHP(ctx, a.spec.phpVersion())
	if err != nil {
		return nil, err
	}
	if err := checkXdebug(ctx, a.spec, p); err != nil {
		return nil, err
	}
	dir := filepath.Join(a.spec.RunDir, "php")
	if err := WritePHPConfD(dir, p.ConfD("apache2"), phpIni(a.spec, xdebugHostProcess)); err != nil {
		return nil, err
	}
	return []string{"PHP_INI_SCAN_DIR=" + dir}, nil
}

// retry: the port chosen by loopbackPort can be taken before Apache binds it.
func (a *apache) retry(err *StartError) bool {
	for _, l := range err.Tail {
		if strings.Contains(l, "AH00072") || strings.Contains(l, "Address already in use") {
			return true
		}
	}
	return false
}

// cleanup removes the pid file; the config stays for debugging.
func (a *apache) cleanup() { _ = os.Remove(a.pidPath()) }

// loopbackPort asks the kernel for a free loopback port. Apache binds it a
// few milliseconds later; if someone else got there first, Start retries.
func loopbackPort(ctx context.Context, _ int) (int, error) {
	var lc net.ListenConfig
	l, err := lc.Listen(ctx, "tcp", "127.0.0.1:0")
	if err != nil {
		return 0, err
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port, nil
}

var phpVersionRe = regexp.MustCompile(`libphp(\d+)`)

// phpModuleName is the module's name in LoadModule: php_module since PHP 8,
// php7_module (php5_module) before.
func phpModuleName(path string) string {
	m := phpVersionRe.FindStringSubmatch(filepath.Base(path))
	if m == nil || m[1] == "" {
		return "php_module"
	}
	if major, _ := strconv.Atoi(m[1]); major < 8 {
		return "php" + m[1] + "_module"
	}
	return "php_module"
}

var hostLabelRe = regexp.MustCompile(`^[a-z0-9]([a-z0-9-]*[a-z0-9])?$`)

// serverName is "service.project" (both are DNS labels), which keeps
// Apache from guessing one (AH00558).
func serverName(s Spec) string {
	var labels []string
	for _, l := range []string{s.Service, s.Project} {
		if hostLabelRe.MatchString(l) {
			labels = append(labels, l)
		}
	}
	if len(labels) == 0 {
		return "localhost"
	}
	return strings.Join(labels, ".")
}

// confQuote quotes a value for the Apache config; confSafe has vetted it.
func confQuote(s string) string { return `"` + s + `"` }

// dirPattern escapes the characters a <Directory> path treats as
// wildcards (apr_fnmatch: "*", "?" and "[", which opens a class; "]" alone
// is literal) as one-character classes, so that the section matches the
// folder itself: a folder named "my[1]" otherwise matches no <Directory>,
// and every request to it is denied. A backslash would not do: Apache then
// takes the path as a literal with the backslashes in it.
var dirPattern = strings.NewReplacer("[", "[[]", "*", "[*]", "?", "[?]")

// dirQuote quotes path as a <Directory> pattern that matches exactly it.
func dirQuote(path string) string { return confQuote(dirPattern.Replace(path)) }

// confSafe rejects what cannot sit inside a quoted Apache config value: a
// quote or backslash (Apache's escaping), a line break, or ${ (variable
// expansion).
func confSafe(s string) bool {
	return !strings.ContainsAny(s, "\"\\\n\r") && !strings.Contains(s, "${")
}
