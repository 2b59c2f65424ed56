package export

import (
	"bytes"
	_ "embed"
	"fmt"
	"io"
	"path/filepath"
	"strconv"
	"strings"
	"text/template"
)

//go:embed compose.yml.tmpl
var composeSource string

var composeTmpl = template.Must(template.New("compose").Funcs(template.FuncMap{"quote": yamlQuote}).Parse(composeSource))

// yamlQuote is s as a double-quoted YAML string, with "$" doubled so
// compose does not take it for a variable.
func yamlQuote(s string) string {
	return strconv.Quote(strings.ReplaceAll(s, "$", "$$"))
}

// ComposeNginxFile is the name of the nginx configuration the compose file
// mounts, next to it.
const ComposeNginxFile = "nginx.conf"

// Ports the containers listen on inside the compose network.
const (
	pythonPort = "8000"
	phpPort    = "80"
)

// composeService is one rendered compose service.
type composeService struct {
	Name        string
	Image       string
	WorkingDir  string
	Command     string // one shell command line, run with sh -c
	Environment []string
	Volumes     []string
}

// composeData is what compose.yml.tmpl renders.
type composeData struct {
	Project     string
	Cert, Key   string
	NginxConf   string
	NginxMounts []string
	Services    []composeService
	Caches      []string // named volumes
}

// Compose writes p as a docker-compose.yml for the project folder: nginx
// publishing 443 and 80 on 127.0.0.1 with ComposeNginxFile (written by
// ComposeNginx) and the certificates mounted, and one container per
// service with the folder mounted, reached by nginx over the compose
// network. Only nginx publishes ports. Paths are relative to p.Root, where
// the file belongs.
func Compose(w io.Writer, p Project, o Options) error {
	if err := p.validate(); err != nil {
		return err
	}
	d := composeData{Project: p.Name, NginxConf: "./" + ComposeNginxFile}
	d.Cert, d.Key = "./certs", "/etc/nginx/certs"
	for _, r := range p.Routes {
		if r.Kind == KindStatic {
			d.NginxMounts = append(d.NginxMounts, relTo(p.Root, r.Target)+":"+staticMount(r.Prefix)+":ro")
		}
	}
	for _, s := range p.Services {
		cs, caches, err := composeServiceOf(p, s)
		if err != nil {
			return err
		}
		if cs.Name == "" {
			continue
		}
		d.Services = append(d.Services, cs)
		d.Caches = append(d.Caches, caches...)
	}
	var buf bytes.Buffer
	if err := composeTmpl.Execute(&buf, d); err != nil {
		return fmt.Errorf("export: render docker-compose.yml of %s: %w", p.Name, err)
	}
	_, err := w.Write(buf.Bytes())
	return err
}

// ComposeNginx writes the nginx configuration of the compose layout: the
// routes of Nginx, with upstreams on the compose network and static
// folders at the paths Compose mounts them.
func ComposeNginx(w io.Writer, p Project, o Options) error {
	q := p
	q.Routes = append([]Route(nil), p.Routes...)
	for i, r := range q.Routes {
		if r.Kind == KindStatic {
			q.Routes[i].Target = staticMount(r.Prefix)
		}
	}
	if o.Cert == "" {
		o.Cert = "/etc/nginx/certs/" + firstOr(p.Domains) + ".pem"
	}
	return renderNginx(w, q, o, func(s Service) string {
		if s.Stack == "php" {
			return s.Name + ":" + phpPort
		}
		return s.Name + ":" + pythonPort
	})
}

func firstOr(ds []string) string {
	if len(ds) == 0 {
		return ""
	}
	return ds[0]
}

// staticMount is where the nginx container sees a static route's folder.
func staticMount(prefix string) string {
	name := strings.Trim(clean(prefix), "/")
	if name == "" {
		name = "root"
	}
	return "/srv/static/" + strings.ReplaceAll(name, "/", "-")
}

// relTo is path relative to root as compose wants it ("./public"), or path
// itself when it lies outside root.
func relTo(root, path string) string {
	if root == "" {
		return path
	}
	rel, err := filepath.Rel(root, path)
	if err != nil || rel == ".." || strings.HasPrefix(rel, "../") {
		return path
	}
	if rel == "." {
		return "./"
	}
	return "./" + filepath.ToSlash(rel)
}

// composeServiceOf is the container of service s, with the named volumes
// it needs; a zero service for stack "proxy", which runs nothing.
func composeServiceOf(p Project, s Service) (composeService, []string, error) {
	cs := composeService{Name: s.Name}
	workers := s.Workers
	if workers <= 0 {
		workers = 2
	}
	prefix := clean(s.Prefix)
	pip := func(server string) string {
		if s.Requirements != "" {
			return "pip install -r " + s.Requirements + " " + server
		}
		return "pip install " + server
	}
	cache := "pip-cache-" + s.Name
	python := func(image string) {
		cs.Image = image
		cs.WorkingDir = "/app"
		cs.Volumes = []string{"./:/app", cache + ":/root/.cache/pip"}
	}
	switch s.Stack {
	case "proxy":
		return composeService{}, nil, nil
	case "php":
		cs.Image = "php:8.3-apache"
		cs.Volumes = []string{"./:/var/www/html"}
		if s.DocRoot != "" && filepath.Clean(s.DocRoot) != filepath.Clean(p.Root) {
			rel := strings.TrimPrefix(relTo(p.Root, s.DocRoot), "./")
			cs.Environment = []string{"APACHE_DOCUMENT_ROOT=/var/www/html/" + rel}
			cs.Command = `sed -ri -e 's!/var/www/html!${APACHE_DOCUMENT_ROOT}!g' /etc/apache2/sites-available/*.conf && exec apache2-foreground`
		}
		return cs, nil, nil
	case "uvicorn":
		python("python:3.12-slim")
		cmd := pip("uvicorn") + " && exec uvicorn " + s.App + " --host 0.0.0.0 --port " + pythonPort +
			" --proxy-headers --forwarded-allow-ips '*'"
		if prefix != "/" {
			cmd += " --root-path " + prefix
		}
		cs.Command = cmd
	case "gunicorn":
		python("python:3.12-slim")
		cs.Command = pip("gunicorn uvicorn") + " && exec gunicorn -k uvicorn.workers.UvicornWorker -w " +
			strconv.Itoa(workers) + " -b 0.0.0.0:" + pythonPort + " --forwarded-allow-ips '*' " + s.App
		if prefix != "/" {
			// UvicornWorker takes no root_path; devport's own worker class
			// reads it from SCRIPT_NAME, as the app must here.
			cs.Environment = []string{"SCRIPT_NAME=" + prefix}
		}
	case "wsgi":
		python("python:3.12-slim")
		cs.Command = pip("gunicorn") + " && exec gunicorn -w " + strconv.Itoa(workers) + " -b 0.0.0.0:" +
			pythonPort + " --forwarded-allow-ips '*' " + s.App
		if prefix != "/" {
			cs.Environment = []string{"SCRIPT_NAME=" + prefix}
		}
	case "uwsgi":
		python("python:3.12") // uWSGI compiles on install: the full image has gcc
		cmd := pip("uwsgi") + " && exec uwsgi --socket 0.0.0.0:" + pythonPort + " --master --die-on-term --need-app" +
			" --processes " + strconv.Itoa(workers) + " --module " + s.App
		if prefix != "/" {
			cmd += " --manage-script-name --mount " + prefix + "=" + s.App
		}
		cs.Command = cmd
	default:
		return composeService{}, nil, fmt.Errorf("export: project %s, service %s: stack %q has no container layout", p.Name, s.Name, s.Stack)
	}
	return cs, []string{cache}, nil
}
