package export

import (
	"bytes"
	_ "embed"
	"fmt"
	"io"
	"net"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"text/template"
	"unicode/utf8"

	"github.com/devport/devport/assets"
	"github.com/devport/devport/internal/shellquote"
	"github.com/devport/devport/internal/stackdef"
)

//go:embed compose.yml.tmpl
var composeSource string

//go:embed apache-site.conf.tmpl
var apacheSource string

var (
	composeTmpl = template.Must(template.New("compose").Funcs(template.FuncMap{"quote": yamlQuote, "scalar": yamlScalar}).Parse(composeSource))
	apacheTmpl  = template.Must(template.New("apache").Parse(apacheSource))
)

// yamlQuote is s as a double-quoted YAML string, with "$" doubled so
// compose does not take it for a variable. Go's escapes (\n, \x01, \u2028)
// are YAML's too; bytes that are not UTF-8 are an error, since a YAML
// file is Unicode text and "\xee" in it is the character U+00EE.
func yamlQuote(s string) (string, error) {
	if !utf8.ValidString(s) {
		return "", fmt.Errorf("%q is not UTF-8, which a YAML file cannot carry", s)
	}
	return strconv.Quote(strings.ReplaceAll(s, "$", "$$")), nil
}

// yamlScalar is s as a YAML scalar that reads back as the string s: as
// it is when neither YAML 1.1 (PyYAML, docker-compose 1.29) nor 1.2 reads
// it as anything else, else yamlQuote. Plain means: starting with a
// lowercase letter (so never a number, a date or an indicator), ending
// with a letter, digit or "_" (so never "key:"), image-reference
// characters only, and not a word YAML 1.1 reads as a boolean or null.
// Service names and images such as php:8.3-apache stay as they are.
func yamlScalar(s string) (string, error) {
	if yamlPlainRe.MatchString(s) && !yamlWords[s] {
		return s, nil
	}
	return yamlQuote(s)
}

var yamlPlainRe = regexp.MustCompile(`^[a-z]([A-Za-z0-9._/:@+-]*[A-Za-z0-9_])?$`)

// yamlWords are the plain words YAML 1.1 reads as booleans or null.
var yamlWords = map[string]bool{"y": true, "n": true, "yes": true, "no": true, "on": true, "off": true,
	"true": true, "false": true, "null": true}

// Names of the compose layout's files, in the folder of docker-compose.yml.
const (
	// ComposeFile is docker-compose.yml's default name.
	ComposeFile = "docker-compose.yml"
	// ComposeNginxFile is the nginx configuration the compose file mounts.
	ComposeNginxFile = "nginx.conf"
	// ComposeCertDir is the folder nginx reads DOMAIN.pem and
	// DOMAIN-key.pem from (/etc/nginx/certs in its container).
	ComposeCertDir = "certs"
	// composeWorkerFile is the gunicorn worker with a root_path.
	composeWorkerFile = assets.GunicornWorkerModule + ".py"
)

// ComposeApacheFile is the name of the Apache site the compose layout
// writes for php service service.
func ComposeApacheFile(service string) string { return "apache-" + service + ".conf" }

// ComposePHPIniFile is the name of the php.ini entry the compose layout
// writes for php service service when the project has directives
// (Service.PHPIni).
func ComposePHPIniFile(service string) string { return "php-" + service + ".ini" }

// DefaultNginxImage is the nginx image of the compose layout. The php
// and Python ones are those of devport's container runtime
// (stackdef.DefaultImage).
const DefaultNginxImage = "nginx:1.27"

// Ports and paths inside the containers of the compose layout.
const (
	pythonPort     = "8000"
	phpPort        = "80"
	phpAppDir      = "/var/www/html"
	phpSitePath    = "/etc/apache2/sites-enabled/000-default.conf" // replaces the image's default site
	pythonAppDir   = "/app"
	pythonWorkerIn = "/devport/py" // gunicorn's --pythonpath for the worker
	// phpIniDir holds the php service's ini entry (ComposePHPIniFile) in
	// its container, as devport's container runtime mounts it. PHP scans
	// it after the image's compiled-in conf.d: an empty entry of
	// PHP_INI_SCAN_DIR stands for that folder (the official images'
	// /usr/local/etc/php/conf.d, Debian's /etc/php/X.Y/SAPI/conf.d), so the
	// image's extensions load as before and the project's settings win.
	phpIniDir  = "/devport/php"
	phpIniName = "zz-devport.ini"
)

// File is one file of the compose layout.
type File struct {
	Name string // relative to the folder of docker-compose.yml
	Data []byte
}

// composeService is one rendered compose service.
type composeService struct {
	Name        string
	Image       string
	WorkingDir  string
	Command     string   // one shell command line, run with sh -c; "" keeps the image's CMD
	Args        []string // the command in exec form, when Command is ""
	Environment []string
	Volumes     []string
	DependsOn   []dependency
	// Conditions writes DependsOn in the long form, with conditions
	// (needed as soon as one of them waits for a healthy service).
	Conditions bool

	// Data services only.
	Data       bool   // no init: the images' entrypoints run the server as PID 1
	Health     string // the healthcheck, a sh script
	StopSignal string
	StopGrace  string
}

// dependency is one entry of a service's depends_on.
type dependency struct {
	Name      string
	Condition string // "service_started", "service_healthy"
}

// composeNginxService is the compose service of nginx, a name no other
// service of the layout may have.
const composeNginxService = "nginx"

// composeData is what compose.yml.tmpl renders.
type composeData struct {
	Project     string
	NginxImage  string
	Ports       []string // "127.0.0.1:443:443"
	Cert, Key   string
	NginxConf   string
	Files       []string // the other generated files, for the header
	NginxMounts []string
	NginxDeps   []string // the services nginx forwards to
	Services    []composeService
	Data        []composeService // the data services
	Volumes     []string         // named volumes: pip caches, data
	// HealthInterval, HealthTimeout, HealthRetries and HealthStart time
	// the data services' healthchecks.
	HealthInterval, HealthTimeout, HealthStart string
	HealthRetries                              int
}

// composeLayout is what the files of the layout are rendered from.
type composeLayout struct {
	p          Project
	o          Options
	dir        string // the folder of docker-compose.yml (absolute, or "" for the project folder)
	file       string // docker-compose.yml's name
	httpsPort  string // the published https port
	ports      []string
	worker     bool // a gunicorn service needs composeWorkerFile
	nginxImage string
}

// newLayout checks p and o and resolves what the layout's files share.
func newLayout(p Project, o Options) (*composeLayout, error) {
	if err := p.validate(); err != nil {
		return nil, err
	}
	l := &composeLayout{p: p, o: o, dir: p.Root, file: ComposeFile, nginxImage: o.NginxImage}
	if o.ComposeFile != "" {
		if !filepath.IsAbs(o.ComposeFile) {
			return nil, fmt.Errorf("export: compose file %q must be an absolute path", o.ComposeFile)
		}
		l.dir, l.file = filepath.Dir(o.ComposeFile), filepath.Base(o.ComposeFile)
	}
	if l.nginxImage == "" {
		l.nginxImage = DefaultNginxImage
	}
	if !imageRe.MatchString(l.nginxImage) {
		return nil, fmt.Errorf("export: nginx image %q is not an image reference: give one such as nginx:1.27", l.nginxImage)
	}
	https, err := publish("HTTPSPublish (--publish-https)", o.HTTPSPublish, "127.0.0.1:443")
	if err != nil {
		return nil, err
	}
	http, err := publish("HTTPPublish (--publish-http)", o.HTTPPublish, "127.0.0.1:80")
	if err != nil {
		return nil, err
	}
	_, l.httpsPort, _ = net.SplitHostPort(https)
	l.ports = []string{https + ":443", http + ":80"}
	if err := p.validateData(); err != nil {
		return nil, err
	}
	for _, s := range p.Services {
		if s.Name == composeNginxService {
			return nil, fmt.Errorf("export: project %s: service %s has the name of the compose layout's nginx container: give the service another name", p.Name, s.Name)
		}
		if s.Image != "" && !imageRe.MatchString(s.Image) {
			return nil, fmt.Errorf("export: project %s, service %s: image %q is not an image reference: devport set %s --service %s --image IMAGE",
				p.Name, s.Name, s.Image, p.Name, s.Name)
		}
		if err := checkPHPIni(s.PHPIni); err != nil {
			return nil, fmt.Errorf("export: project %s, service %s: %w: fix the project's php.ini directives (devport set %s --php-ini KEY=VALUE)",
				p.Name, s.Name, err, p.Name)
		}
		if s.Stack == stackdef.Gunicorn && clean(s.Prefix) != "/" {
			l.worker = true
		}
	}
	return l, nil
}

// imageRe is a plausible image reference, safe in YAML and a shell.
var imageRe = regexp.MustCompile(`^[A-Za-z0-9][A-Za-z0-9._/:@+-]*$`)

// publish checks a published address, "HOST:PORT" or "PORT" (on
// 127.0.0.1), and returns it as docker wants it ("[::1]:8443" for IPv6).
func publish(field, v, def string) (string, error) {
	if v == "" {
		return def, nil
	}
	host, port, err := net.SplitHostPort(v)
	if err != nil {
		host, port = "127.0.0.1", v
	}
	n, err := strconv.Atoi(port)
	if err != nil || n < 1 || n > 65535 {
		return "", fmt.Errorf("export: %s %q: give HOST:PORT with a port from 1 to 65535, such as 127.0.0.1:8443", field, v)
	}
	ip := net.ParseIP(host)
	if ip == nil {
		return "", fmt.Errorf("export: %s %q: the host must be an IP address, such as 127.0.0.1 (loopback) or 0.0.0.0 (every interface)", field, v)
	}
	return net.JoinHostPort(ip.String(), strconv.Itoa(n)), nil
}

// ComposeLayout renders the whole compose layout: docker-compose.yml (or
// the base name of o.ComposeFile) first, then ComposeNginxFile, an Apache
// site per php service (ComposeApacheFile) and the gunicorn worker when a
// gunicorn service has a path prefix. All of them belong in one folder;
// the certificate and key go in its ComposeCertDir.
func ComposeLayout(p Project, o Options) ([]File, error) {
	l, err := newLayout(p, o)
	if err != nil {
		return nil, err
	}
	var compose, nginx bytes.Buffer
	if err := l.compose(&compose); err != nil {
		return nil, err
	}
	if err := l.nginx(&nginx); err != nil {
		return nil, err
	}
	files := []File{{l.file, compose.Bytes()}, {ComposeNginxFile, nginx.Bytes()}}
	for _, s := range p.Services {
		if s.Stack != stackdef.PHP {
			continue
		}
		var b bytes.Buffer
		if err := l.apacheSite(&b, s); err != nil {
			return nil, err
		}
		files = append(files, File{ComposeApacheFile(s.Name), b.Bytes()})
		if len(s.PHPIni) > 0 {
			files = append(files, File{ComposePHPIniFile(s.Name), s.PHPIni})
		}
	}
	if l.worker {
		files = append(files, File{composeWorkerFile, []byte(assets.GunicornWorker)})
	}
	return files, nil
}

// Compose writes p as a docker-compose.yml: nginx publishing 443 and 80
// (on 127.0.0.1 unless o says otherwise) with ComposeNginxFile and the
// certificates mounted, and one container per service with the project
// folder mounted, reached by nginx over the compose network. Only nginx
// publishes ports. Paths are relative to the folder of o.ComposeFile (the
// project folder by default). ComposeLayout writes it with the files it
// mounts.
func Compose(w io.Writer, p Project, o Options) error {
	l, err := newLayout(p, o)
	if err != nil {
		return err
	}
	return l.compose(w)
}

// ComposeNginx writes the nginx configuration of the compose layout: the
// routes of Nginx, with upstreams on the compose network, static folders
// at the paths Compose mounts them, and a redirect to the published https
// port.
func ComposeNginx(w io.Writer, p Project, o Options) error {
	l, err := newLayout(p, o)
	if err != nil {
		return err
	}
	return l.nginx(w)
}

func (l *composeLayout) compose(w io.Writer) error {
	p := l.p
	d := composeData{Project: p.Name, NginxImage: l.nginxImage, Ports: l.ports, NginxConf: "./" + ComposeNginxFile,
		Cert: "./" + ComposeCertDir, Key: "/etc/nginx/certs"}
	for _, s := range p.Services {
		if s.Stack != stackdef.PHP {
			continue
		}
		d.Files = append(d.Files, "./"+ComposeApacheFile(s.Name))
		if len(s.PHPIni) > 0 {
			d.Files = append(d.Files, "./"+ComposePHPIniFile(s.Name))
		}
	}
	if l.worker {
		d.Files = append(d.Files, "./"+composeWorkerFile)
	}
	for _, r := range p.Routes {
		if r.Kind == KindStatic {
			src, err := l.mountSource(r.Target)
			if err != nil {
				return err
			}
			d.NginxMounts = append(d.NginxMounts, src+":"+staticMount(r.Prefix)+":ro")
		}
	}
	for _, s := range p.Services {
		if s.Public != "" {
			src, err := l.mountSource(s.Public)
			if err != nil {
				return err
			}
			d.NginxMounts = append(d.NginxMounts, src+":"+publicMount(s.Name)+":ro")
		}
	}
	for _, s := range p.Services {
		cs, caches, err := l.service(s)
		if err != nil {
			return err
		}
		if cs.Name == "" {
			continue
		}
		d.Services = append(d.Services, cs)
		d.NginxDeps = append(d.NginxDeps, cs.Name)
		d.Volumes = append(d.Volumes, caches...)
	}
	for _, ds := range p.Data {
		cs := dataService(ds)
		d.Data = append(d.Data, cs)
		d.Volumes = append(d.Volumes, dataVolume(ds.Name))
	}
	if mp := p.mailpit(); mp != nil {
		d.NginxDeps = append(d.NginxDeps, mp.Name) // its UI at mail.DOMAIN
	}
	d.HealthInterval, d.HealthTimeout, d.HealthRetries, d.HealthStart = healthInterval, healthTimeout, healthRetries, healthStartPeriod
	var buf bytes.Buffer
	if err := composeTmpl.Execute(&buf, d); err != nil {
		return fmt.Errorf("export: render docker-compose.yml of %s: %w", p.Name, err)
	}
	_, err := w.Write(buf.Bytes())
	return err
}

func (l *composeLayout) nginx(w io.Writer) error {
	q := l.p
	q.Routes = append([]Route(nil), l.p.Routes...)
	for i, r := range q.Routes {
		if r.Kind == KindStatic {
			q.Routes[i].Target = staticMount(r.Prefix)
		}
	}
	q.Services = append([]Service(nil), l.p.Services...)
	for i, s := range q.Services {
		if s.Public != "" {
			q.Services[i].Public = publicMount(s.Name)
		}
	}
	o := l.o
	if o.Cert == "" {
		o.Cert = "/etc/nginx/certs/" + firstOr(q.Domains) + ".pem"
	}
	var mail *mailUI
	if mp := l.p.mailpit(); mp != nil {
		mail = &mailUI{Upstream: ident(q.Name, mp.Name), Server: mp.Name + ":" + mailpitUIPort}
		for _, d := range q.Domains {
			mail.Domains = append(mail.Domains, mailDomain(d))
		}
	}
	return renderNginx(w, q, o, l.httpsPort, func(s Service) string {
		if s.Stack == stackdef.PHP {
			return s.Name + ":" + phpPort
		}
		return s.Name + ":" + pythonPort
	}, mail)
}

func firstOr(ds []string) string {
	if len(ds) == 0 {
		return ""
	}
	return ds[0]
}

// publicMount is where the nginx container sees a service's public folder.
func publicMount(service string) string { return "/srv/public/" + service }

// staticMount is where the nginx container sees a static route's folder.
func staticMount(prefix string) string {
	name := strings.Trim(clean(prefix), "/")
	if name == "" {
		name = "root"
	}
	return "/srv/static/" + strings.ReplaceAll(name, "/", "-")
}

// rel is path as compose wants it: relative to the layout's folder
// ("./public", "../shop") when both lie in the project folder, so the
// layout moves with the project, else absolute.
func (l *composeLayout) rel(path string) string {
	if l.p.Root == "" || l.dir == "" {
		return path
	}
	_, pathIn := inside(l.p.Root, path)
	_, dirIn := inside(l.p.Root, l.dir)
	if !pathIn || !dirIn {
		return path
	}
	rel, err := filepath.Rel(l.dir, path)
	if err != nil {
		return path
	}
	rel = filepath.ToSlash(rel)
	switch {
	case rel == ".":
		return "./"
	case rel == "..":
		return "../"
	case strings.HasPrefix(rel, "../"):
		return rel
	}
	return "./" + rel
}

// mountSource is path as the source of a short-syntax volume (rel),
// which compose splits on ":".
func (l *composeLayout) mountSource(path string) (string, error) {
	src := l.rel(path)
	if strings.Contains(src, ":") {
		return "", fmt.Errorf("export: project %s: folder %s holds \":\", which compose's volume syntax splits on: rename it, or write the layout into a folder inside it", l.p.Name, path)
	}
	return src, nil
}

// inside reports whether path lies in (or is) dir, and where relative to it.
func inside(dir, path string) (string, bool) {
	if dir == "" || path == "" {
		return "", false
	}
	rel, err := filepath.Rel(dir, path)
	if err != nil || rel == ".." || strings.HasPrefix(rel, "../") {
		return "", false
	}
	return filepath.ToSlash(rel), true
}

// image is s's image, or def.
func image(s Service, def string) string {
	if s.Image != "" {
		return s.Image
	}
	return def
}

// service is the container of service s, with the named volumes it needs;
// a zero service for stack "proxy", which runs nothing. The Python stacks
// run their server as `python3 -m …`, which works in python:* images and
// in Debian's python3 alike.
func (l *composeLayout) service(s Service) (composeService, []string, error) {
	cs, caches, err := l.serviceOwn(s)
	if err != nil || cs.Name == "" {
		return cs, caches, err
	}
	// The data services' variables after the service's own, and every
	// data service answering before the service starts, as under devport.
	cs.Environment = append(cs.Environment, s.Env...)
	for _, d := range l.p.Data {
		cs.DependsOn = append(cs.DependsOn, dependency{Name: d.Name, Condition: "service_healthy"})
		cs.Conditions = true
	}
	return cs, caches, nil
}

// serviceOwn is service without the data services: the container of the
// stack.
func (l *composeLayout) serviceOwn(s Service) (composeService, []string, error) {
	p := l.p
	cs := composeService{Name: s.Name}
	workers := s.Workers
	if workers <= 0 {
		workers = 2
	}
	prefix := clean(s.Prefix)
	// Every value goes into the sh -c script as one word (shellQuote),
	// whatever validation let through; app is the quoted s.App.
	app := shellquote.Quote(s.App)
	pip := func(server string) string {
		if s.Requirements != "" {
			return "python3 -m pip install -r " + shellquote.Quote(s.Requirements) + " " + server
		}
		return "python3 -m pip install " + server
	}
	cache := "pip-cache-" + s.Name
	root, err := l.mountSource(p.Root)
	if err != nil {
		return composeService{}, nil, err
	}
	python := func(def string) {
		cs.Image = image(s, def)
		cs.WorkingDir = pythonAppDir
		cs.Environment = []string{"PYTHONUNBUFFERED=1", "PIP_DISABLE_PIP_VERSION_CHECK=1"}
		cs.Volumes = []string{root + ":" + pythonAppDir, cache + ":/root/.cache/pip"}
	}
	switch s.Stack {
	case stackdef.Proxy:
		return composeService{}, nil, nil
	case stackdef.PHP:
		// The image's own CMD runs Apache with the generated site.
		cs.Image = image(s, stackdef.DefaultPHPImage)
		cs.Volumes = []string{root + ":" + phpAppDir, "./" + ComposeApacheFile(s.Name) + ":" + phpSitePath + ":ro"}
		if len(s.PHPIni) > 0 {
			cs.Volumes = append(cs.Volumes, "./"+ComposePHPIniFile(s.Name)+":"+phpIniDir+"/"+phpIniName+":ro")
			cs.Environment = append(cs.Environment, "PHP_INI_SCAN_DIR=:"+phpIniDir)
		}
		for _, lk := range s.Links {
			cs.DependsOn = append(cs.DependsOn, dependency{Name: lk.Service, Condition: "service_started"})
		}
		return cs, nil, nil
	case stackdef.Uvicorn:
		python(stackdef.DefaultPythonImage)
		cmd := pip("uvicorn") + " && exec python3 -m uvicorn " + app + " --host 0.0.0.0 --port " + pythonPort +
			" --proxy-headers --forwarded-allow-ips '*'"
		if prefix != "/" {
			cmd += " --root-path " + shellquote.Quote(prefix)
		}
		cs.Command = cmd
	case stackdef.Gunicorn:
		python(stackdef.DefaultPythonImage)
		worker := "-k uvicorn.workers.UvicornWorker"
		if prefix != "/" {
			// UvicornWorker takes no root_path: devport's worker class
			// reads it from SCRIPT_NAME, as in the process runtime.
			worker = "--pythonpath " + pythonWorkerIn + " -k " + assets.GunicornWorkerModule + ".RootPathWorker"
			cs.Environment = append(cs.Environment, "SCRIPT_NAME="+prefix)
			cs.Volumes = append(cs.Volumes, "./"+composeWorkerFile+":"+pythonWorkerIn+"/"+composeWorkerFile+":ro")
		}
		cs.Command = pip("gunicorn uvicorn") + " && exec python3 -m gunicorn " + worker + " -w " +
			strconv.Itoa(workers) + " -b 0.0.0.0:" + pythonPort + " --forwarded-allow-ips '*' " + app
	case stackdef.WSGI:
		python(stackdef.DefaultPythonImage)
		cs.Command = pip("gunicorn") + " && exec python3 -m gunicorn -w " + strconv.Itoa(workers) + " -b 0.0.0.0:" +
			pythonPort + " --forwarded-allow-ips '*' " + app
		if prefix != "/" {
			cs.Environment = append(cs.Environment, "SCRIPT_NAME="+prefix)
		}
	case stackdef.UWSGI:
		// pyuwsgi is uWSGI in prebuilt wheels: no compiler in the image.
		python(stackdef.DefaultPythonImage)
		cmd := pip("pyuwsgi") + " && exec uwsgi --socket 0.0.0.0:" + pythonPort + " --master --die-on-term --vacuum --need-app" +
			" --buffer-size 65535 --processes " + strconv.Itoa(workers)
		if prefix != "/" {
			cmd += " --manage-script-name --mount " + shellquote.Quote(prefix+"="+s.App)
		} else {
			cmd += " --module " + app
		}
		cs.Command = cmd
	default:
		return composeService{}, nil, fmt.Errorf("export: project %s, service %s: stack %q has no container layout", p.Name, s.Name, s.Stack)
	}
	return cs, []string{cache}, nil
}

// apacheData is what apache-site.conf.tmpl renders.
type apacheData struct {
	Project, Service, ServerName string
	DocRoot                      string // in the container
	// Guard is the folder of the compose layout in the container when it
	// lies in the mounted project folder: its generated files and
	// certificates must not be served.
	Guard, GuardFiles string
	Links             []apacheLink
	Sendmail          string // PHP's sendmail_path, "" for PHP's own
}

// apacheLink is one ProxyPass of a php service.
type apacheLink struct {
	Bare, Prefix, Target string // "/py", "/py/", "http://py:8000/"
}

// apacheSite writes the Apache site of php service s: the document root,
// .htaccess, HTTPS=on for X-Forwarded-Proto: https and the client address
// from X-Forwarded-For (as devport's runtimes do), and its links.
func (l *composeLayout) apacheSite(w io.Writer, s Service) error {
	p := l.p
	d := apacheData{Project: p.Name, Service: s.Name, ServerName: firstOr(p.Domains), DocRoot: phpAppDir, Sendmail: s.Sendmail}
	if s.DocRoot != "" {
		rel, ok := inside(p.Root, s.DocRoot)
		if !ok {
			return fmt.Errorf("export: project %s, service %s: document root %s lies outside the project folder %s, which is all the container mounts: choose a folder inside it",
				p.Name, s.Name, s.DocRoot, p.Root)
		}
		if rel != "." {
			d.DocRoot = phpAppDir + "/" + rel
		}
	}
	if rel, ok := inside(p.Root, l.dir); ok {
		d.Guard = phpAppDir
		if rel != "." {
			d.Guard += "/" + rel
		}
		names := []string{regexp.QuoteMeta(l.file), regexp.QuoteMeta(ComposeNginxFile), `apache-.+\.conf`, `php-.+\.ini`, regexp.QuoteMeta(composeWorkerFile)}
		d.GuardFiles = "^(" + strings.Join(names, "|") + ")$"
	}
	for _, lk := range s.Links {
		bare := clean(lk.Prefix)
		d.Links = append(d.Links, apacheLink{Bare: bare, Prefix: bare + "/", Target: "http://" + lk.Service + ":" + pythonPort + "/"})
	}
	if v := d.DocRoot + d.Guard + d.ServerName; !apacheSafe(v) {
		return fmt.Errorf("export: project %s, service %s: the document root or domain holds a quote, backslash, \"${\" or control character, which Apache's config cannot carry: rename the folder",
			p.Name, s.Name)
	}
	if !apacheSafe(d.Sendmail) {
		return fmt.Errorf("export: project %s, service %s: the sendmail_path %q holds a quote, backslash, \"${\" or control character, which Apache's config cannot carry",
			p.Name, s.Name, d.Sendmail)
	}
	var buf bytes.Buffer
	if err := apacheTmpl.Execute(&buf, d); err != nil {
		return fmt.Errorf("export: render the Apache site of %s/%s: %w", p.Name, s.Name, err)
	}
	_, err := w.Write(buf.Bytes())
	return err
}

// apacheSafe reports whether v can stand in double quotes in Apache's
// config: no quote, backslash, "${" (a variable) or control character.
func apacheSafe(v string) bool {
	return !strings.ContainsAny(v, "\"\\") && !strings.Contains(v, "${") &&
		strings.IndexFunc(v, func(r rune) bool { return r < 0x20 || r == 0x7f }) < 0
}
