package export

import (
	"bytes"
	"flag"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/devport/devport/assets"
)

var update = flag.Bool("update", false, "rewrite testdata/*.golden from the current output")

// projects are the golden cases: name → project.
var projects = map[string]Project{
	"split": { // php at /, FastAPI at /api (stripped, root_path), a static folder
		Name: "shop", Root: "/home/dev/shop", Domains: []string{"shop.test", "www.shop.test"},
		Services: []Service{
			{Name: "api", Stack: "uvicorn", App: "main:app", Prefix: "/api", Strip: true,
				Network: "unix", Address: "/run/devport/shop-api/api.sock", Requirements: "api/requirements.txt"},
			{Name: "web", Stack: "php", DocRoot: "/home/dev/shop/public", Prefix: "/",
				Network: "tcp", Address: "127.0.0.1:41234"},
		},
		Routes: []Route{
			{Prefix: "/static", Kind: KindStatic, Target: "/home/dev/shop/public/static",
				CacheControl: "public, max-age=2592000"},
			{Prefix: "/api/upload", Kind: KindService, Target: "api", Strip: true, MaxBody: 100 << 20,
				ReadTimeout: 120 * time.Second, WriteTimeout: 30 * time.Second, ConnectTimeout: 1500 * time.Millisecond},
		},
	},
	"static": { // a static site with a URL route
		Name: "docs", Root: "/home/dev/docs", Domains: []string{"docs.test"},
		Routes: []Route{
			{Prefix: "/", Kind: KindStatic, Target: "/home/dev/docs/site/", CacheControl: "no-cache"},
			{Prefix: "/search", Kind: KindURL, Target: "http://127.0.0.1:7700", Strip: true, MaxBody: -1},
		},
	},
	"chain": { // nginx → Apache → uvicorn: /py goes to php, whose Apache forwards it
		Name: "chain", Root: "/home/dev/chain", Domains: []string{"chain.test"},
		Services: []Service{
			{Name: "py", Stack: "uvicorn", App: "py.main:app", Prefix: "/py", Strip: true,
				Network: "unix", Address: "/run/devport/chain-py/py.sock", Image: "registry.example/python:3.12"},
			{Name: "web", Stack: "php", Prefix: "/", Network: "unix", Address: "/run/devport/chain-web/web.sock",
				Image: "registry.example/php:8.3-apache", Links: []Link{{Prefix: "/py", Service: "py"}},
				PHPIni: []byte("; the project's [php.ini]\nmemory_limit = \"1G\"\nerror_reporting = E_ALL & ~E_DEPRECATED\n")},
		},
		Routes: []Route{{Prefix: "/py", Kind: KindService, Target: "web"}},
	},
	"uwsgi": { // Flask under uWSGI, the whole site, with public/ files first, and gunicorn at /ws
		Name: "blog", Root: "/srv/blog", Domains: []string{"blog.test"},
		Services: []Service{
			{Name: "web", Stack: "uwsgi", App: "app:app", Prefix: "/", Network: "unix",
				Address: "/run/devport/blog-web/web.sock", Protocol: ProtocolUWSGI, Workers: 4, Public: "/srv/blog/public"},
			{Name: "ws", Stack: "gunicorn", App: "live:app", Prefix: "/ws", Strip: true, Network: "unix",
				Address: "/run/devport/blog-ws/ws.sock", Workers: 2},
		},
	},
	"data": { // php with MariaDB, PostgreSQL 16, Redis and Mailpit, and FastAPI at /api
		Name: "shop", Root: "/home/dev/shop", Domains: []string{"shop.test"},
		Services: []Service{
			{Name: "api", Stack: "uvicorn", App: "main:app", Prefix: "/api", Strip: true,
				Network: "unix", Address: "/run/devport/shop-api/api.sock", Env: dataEnv},
			{Name: "web", Stack: "php", Prefix: "/", Network: "tcp", Address: "127.0.0.1:41234",
				Env: dataEnv, Sendmail: "php -r 'eval(base64_decode($argv[1]));' -- ZWNobyAxOw=="},
		},
		Data: []DataService{
			{Name: "db", Stack: "mariadb", Database: "shop", User: "shop", Password: "S3cret$pw"},
			{Name: "pg", Stack: "postgres", Version: "16", Database: "shop", User: "shop", Password: "pgpw"},
			{Name: "cache", Stack: "redis"},
			{Name: "mail", Stack: "mailpit", Image: "registry.example/mailpit:v1"},
		},
	},
}

// dataEnv is what app/engine's dataEnv gives the web services of the
// "data" project in a container: the first database plainly, the second
// under its name.
var dataEnv = []string{
	"DATABASE_URL=mysql://shop:S3cret$pw@db:3306/shop", "DB_CONNECTION=mysql", "DB_DATABASE=shop", "DB_HOST=db",
	"DB_PASSWORD=S3cret$pw", "DB_PORT=3306", "DB_USERNAME=shop",
	"PG_DATABASE_URL=postgresql://shop:pgpw@pg:5432/shop", "PG_DB_CONNECTION=pgsql", "PG_DB_DATABASE=shop", "PG_DB_HOST=pg",
	"PG_DB_PASSWORD=pgpw", "PG_DB_PORT=5432", "PG_DB_USERNAME=shop",
	"REDIS_HOST=cache", "REDIS_PORT=6379", "REDIS_URL=redis://cache:6379",
	"MAIL_HOST=mail", "MAIL_MAILER=smtp", "MAIL_PORT=1025",
}

// goldenName is the golden file of one file of the compose layout.
func goldenName(project, file string) string {
	switch file {
	case ComposeFile:
		return project + ".compose.golden"
	case ComposeNginxFile:
		return project + ".compose-nginx.golden"
	}
	return project + ".compose-" + file + ".golden"
}

func TestGolden(t *testing.T) {
	check := func(t *testing.T, golden string, got []byte) {
		t.Helper()
		golden = filepath.Join("testdata", golden)
		if *update {
			if err := os.WriteFile(golden, got, 0o644); err != nil {
				t.Fatal(err)
			}
		}
		want, err := os.ReadFile(golden)
		if err != nil {
			t.Fatalf("%v (run go test ./export -update to create it)", err)
		}
		if string(got) != string(want) {
			t.Errorf("output differs from %s (go test ./export -update rewrites it):\n%s", golden, got)
		}
	}
	for name, p := range projects {
		t.Run(name+"/nginx", func(t *testing.T) {
			var b bytes.Buffer
			if err := Nginx(&b, p, Options{}); err != nil {
				t.Fatal(err)
			}
			check(t, name+".nginx.golden", b.Bytes())
		})
		files, err := ComposeLayout(p, Options{})
		if err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		for _, f := range files {
			if f.Name == composeWorkerFile {
				continue // assets' own file, checked by TestComposeRules
			}
			t.Run(name+"/"+f.Name, func(t *testing.T) { check(t, goldenName(name, f.Name), f.Data) })
		}
	}
}

// TestNginxRules checks the rules the golden files encode, so a careless
// -update cannot bless a wrong file.
func TestNginxRules(t *testing.T) {
	render := func(p Project, o Options) string {
		var b bytes.Buffer
		if err := Nginx(&b, p, o); err != nil {
			t.Fatal(err)
		}
		return b.String()
	}
	split := render(projects["split"], Options{})
	uw := render(projects["uwsgi"], Options{})
	custom := render(projects["split"], Options{HTTPSListen: "127.0.0.1:8443", HTTPListen: "127.0.0.1:8080",
		Cert: "/tmp/c.pem", Key: "/tmp/k.pem"})
	static := render(projects["static"], Options{})
	cases := []struct {
		name, conf, want string
		absent           bool
	}{
		{"stripped prefix keeps the slash on proxy_pass", split, "location /api/ {\n        proxy_pass http://shop_api/;", false},
		{"exact prefix is stripped to /", split, "location = /api {\n        proxy_pass http://shop_api/;", false},
		{"php at / is passed unchanged", split, "location / {\n        proxy_pass http://shop_web;", false},
		{"unix socket upstream", split, "server unix:/run/devport/shop-api/api.sock;", false},
		{"tcp upstream", split, "server 127.0.0.1:41234;", false},
		{"static alias", split, "location /static/ {\n        alias /home/dev/shop/public/static/;", false},
		{"expires from max-age", split, "        expires 2592000s;\n        add_header Cache-Control \"public\";\n    }", false},
		{"static charset as devport sends it", split, "charset utf-8;", false},
		{"longest prefix first", split[strings.Index(split, "location /api/upload/"):], "location /api/ {", false},
		{"route limits", split, "client_max_body_size 104857600;\n        proxy_pass", false},
		{"read timeout", split, "proxy_read_timeout 120s;", false},
		{"connect timeout in ms", split, "proxy_connect_timeout 1500ms;", false},
		{"websocket map", split, "map $http_upgrade $shop_connection_upgrade {", false},
		{"websocket headers", split, "proxy_set_header Connection $shop_connection_upgrade;", false},
		{"forwarded proto", split, "proxy_set_header X-Forwarded-Proto $scheme;", false},
		{"default certificate", split, "ssl_certificate     /etc/nginx/certs/shop.test.pem;", false},
		{"http2 on 443", split, "listen 443 ssl http2;", false},
		{"redirect to https", split, "return 301 https://$host$request_uri;", false},
		{"both domains", split, "server_name shop.test www.shop.test;", false},
		{"listen option", custom, "listen 127.0.0.1:8443 ssl http2;", false},
		{"redirect keeps the port", custom, "return 301 https://$host:8443$request_uri;", false},
		{"cert option", custom, "ssl_certificate_key /tmp/k.pem;", false},
		{"uwsgi_pass", uw, "include uwsgi_params;\n        uwsgi_param HTTPS on;", false},
		{"uwsgi upstream used", uw, "uwsgi_pass blog_web;", false},
		{"public files first", uw, "location / {\n        root /srv/blog/public;\n        try_files $uri @blog_web;\n", false},
		{"then the app", uw, "location @blog_web {\n        include uwsgi_params;", false},
		{"no proxy_pass to uwsgi", uw, "proxy_pass http://blog_web", true},
		{"gunicorn stripped", uw, "proxy_pass http://blog_ws/;", false},
		{"url route stripped", static, "proxy_pass http://127.0.0.1:7700/;", false},
		{"no limit", static, "client_max_body_size 0;", false},
		{"static root without expires", static, "expires", true},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			if got := strings.Contains(c.conf, c.want); got == c.absent {
				t.Errorf("contains %q = %v, want %v in:\n%s", c.want, got, !c.absent, c.conf)
			}
		})
	}
}

func TestErrors(t *testing.T) {
	cases := []struct {
		name string
		p    Project
		want string
	}{
		{"no name", Project{Domains: []string{"a.test"}}, "name is empty"},
		{"no domain", Project{Name: "a"}, "has no domain"},
		{"no address", Project{Name: "a", Domains: []string{"a.test"}, Services: []Service{{Name: "web", Stack: "php"}}}, "service web: no upstream address"},
		{"unknown service", Project{Name: "a", Domains: []string{"a.test"},
			Routes: []Route{{Prefix: "/x", Kind: KindService, Target: "nope"}}}, `no service "nope"`},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			err := Nginx(&bytes.Buffer{}, c.p, Options{})
			if err == nil || !strings.Contains(err.Error(), c.want) {
				t.Errorf("err = %v, want it to mention %q", err, c.want)
			}
		})
	}
}

// layout renders p's compose layout, by file name.
func layout(t *testing.T, p Project, o Options) map[string]string {
	t.Helper()
	files, err := ComposeLayout(p, o)
	if err != nil {
		t.Fatal(err)
	}
	m := make(map[string]string, len(files))
	for _, f := range files {
		m[f.Name] = string(f.Data)
	}
	return m
}

// TestComposeRules checks what the compose goldens encode: the php site
// (HTTPS, client address, document root, links), the gunicorn worker,
// images, published addresses and the folder of the layout.
func TestComposeRules(t *testing.T) {
	split := layout(t, projects["split"], Options{})
	chain := layout(t, projects["chain"], Options{})
	uw := layout(t, projects["uwsgi"], Options{})
	custom := layout(t, projects["split"], Options{HTTPSPublish: "127.0.0.2:8443", HTTPPublish: "8080",
		NginxImage: "devport-test/nginx:bookworm"})
	v6 := layout(t, projects["static"], Options{HTTPSPublish: "[::1]:9443", HTTPPublish: "0.0.0.0:80"})
	sub := projects["split"]
	deploy := layout(t, sub, Options{ComposeFile: "/home/dev/shop/deploy/prod.yml"})
	outside := layout(t, sub, Options{ComposeFile: "/srv/deploy/docker-compose.yml"})
	cases := []struct {
		name, file, want string
		absent           bool
		in               map[string]string
	}{
		{"php: HTTPS from X-Forwarded-Proto", "apache-web.conf", `SetEnvIf X-Forwarded-Proto "^https$" HTTPS=on`, false, split},
		{"php: client from X-Forwarded-For", "apache-web.conf", "RemoteIPHeader X-Forwarded-For\nRemoteIPInternalProxy 10.0.0.0/8 172.16.0.0/12 192.168.0.0/16", false, split},
		{"php: remoteip loaded when missing", "apache-web.conf", "<IfModule !remoteip_module>\n    LoadModule remoteip_module", false, split},
		{"php: document root", "apache-web.conf", "DocumentRoot \"/var/www/html/public\"", false, split},
		{"php: site mounted over the default", ComposeFile, `"./apache-web.conf:/etc/apache2/sites-enabled/000-default.conf:ro"`, false, split},
		{"php: the image's own CMD", ComposeFile, "apache2-foreground", true, split},
		{"php: no sed", ComposeFile, "sed ", true, split},
		{"php: layout files never served", "apache-web.conf", `<Directory "/var/www/html/certs">` + "\n        Require all denied", false, split},
		{"php: no proxy without links", "apache-web.conf", "ProxyPass", true, split},
		{"default images", ComposeFile, "image: php:8.3-apache", false, split},
		{"default python image", ComposeFile, "image: python:3.12-slim", false, split},
		{"default nginx image", ComposeFile, "image: nginx:1.27\n", false, split},
		{"default published https", ComposeFile, `- "127.0.0.1:443:443"`, false, split},
		{"default published http", ComposeFile, `- "127.0.0.1:80:80"`, false, split},
		{"no top-level name (docker-compose 1.29)", ComposeFile, "\nname:", true, split},
		{"chain: ProxyPass to the service", "apache-web.conf", "ProxyPass \"/py/\" \"http://py:8000/\"\n    ProxyPassReverse \"/py/\" \"http://py:8000/\"", false, chain},
		{"chain: bare prefix redirected", "apache-web.conf", `RedirectMatch 308 "^/py$" "/py/"`, false, chain},
		{"chain: mod_proxy_http loaded when missing", "apache-web.conf", "<IfModule !proxy_http_module>\n    LoadModule proxy_http_module /usr/lib/apache2/modules/mod_proxy_http.so", false, chain},
		{"chain: nginx sends /py to Apache", ComposeNginxFile, "location /py/ {\n        proxy_pass http://chain_web;", false, chain},
		{"chain: nginx does not route /py itself", ComposeNginxFile, "proxy_pass http://chain_py", true, chain},
		{"chain: php waits for its link", ComposeFile, "depends_on:\n      - py\n    restart", false, chain},
		{"service images", ComposeFile, "image: registry.example/php:8.3-apache", false, chain},
		{"service python image", ComposeFile, "image: registry.example/python:3.12\n", false, chain},
		{"gunicorn: root_path worker", ComposeFile, "python3 -m gunicorn --pythonpath /devport/py -k devport_gunicorn_worker.RootPathWorker -w 2", false, uw},
		{"gunicorn: worker mounted", ComposeFile, `"./devport_gunicorn_worker.py:/devport/py/devport_gunicorn_worker.py:ro"`, false, uw},
		{"gunicorn: SCRIPT_NAME", ComposeFile, `"SCRIPT_NAME=/ws"`, false, uw},
		{"gunicorn: no plain UvicornWorker with a prefix", ComposeFile, "uvicorn.workers.UvicornWorker", true, uw},
		{"published https option", ComposeFile, `- "127.0.0.2:8443:443"`, false, custom},
		{"published http port alone stays on loopback", ComposeFile, `- "127.0.0.1:8080:80"`, false, custom},
		{"redirect to the published port", ComposeNginxFile, "return 301 https://$host:8443$request_uri;", false, custom},
		{"nginx still listens on 443 inside", ComposeNginxFile, "listen 443 ssl http2;", false, custom},
		{"nginx image option", ComposeFile, "image: devport-test/nginx:bookworm\n", false, custom},
		{"IPv6 publish", ComposeFile, `- "[::1]:9443:443"`, false, v6},
		{"every interface on request", ComposeFile, `- "0.0.0.0:80:80"`, false, v6},
		{"layout in a subfolder: project mounted from ..", "prod.yml", `"../:/var/www/html"`, false, deploy},
		{"layout in a subfolder: static folder relative", "prod.yml", `"../public/static:/srv/static/static:ro"`, false, deploy},
		{"layout in a subfolder: guarded there", "apache-web.conf", "<Directory \"/var/www/html/deploy\">\n        <FilesMatch \"^(prod\\.yml|", false, deploy},
		{"layout outside the project: absolute mount", ComposeFile, `"/home/dev/shop:/var/www/html"`, false, outside},
		{"layout outside the project: nothing to guard", "apache-web.conf", "Require all denied\n        </FilesMatch>", true, outside},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			got, ok := c.in[c.file]
			if !ok {
				t.Fatalf("no file %s in the layout", c.file)
			}
			if strings.Contains(got, c.want) == c.absent {
				t.Errorf("%s contains %q = %v, want %v:\n%s", c.file, c.want, !c.absent, c.absent, got)
			}
		})
	}
	t.Run("worker is the shared source", func(t *testing.T) {
		if uw[composeWorkerFile] != assets.GunicornWorker || !strings.Contains(uw[composeWorkerFile], "class RootPathWorker(UvicornWorker)") {
			t.Errorf("%s = %q", composeWorkerFile, uw[composeWorkerFile])
		}
		if _, ok := split[composeWorkerFile]; ok {
			t.Error("the worker is written without a gunicorn service")
		}
	})
}

func TestComposeErrors(t *testing.T) {
	chain := projects["chain"]
	withLink := func(l Link) Project {
		p := chain
		p.Services = append([]Service(nil), chain.Services...)
		p.Services[1].Links = []Link{l}
		return p
	}
	outside := projects["split"]
	outside.Services = append([]Service(nil), outside.Services...)
	outside.Services[1].DocRoot = "/var/www/elsewhere"
	withIni := func(ini string) Project {
		p := chain
		p.Services = append([]Service(nil), chain.Services...)
		p.Services[1].PHPIni = []byte(ini)
		return p
	}
	cases := []struct {
		name string
		p    Project
		o    Options
		want string
	}{
		{"bad https publish", chain, Options{HTTPSPublish: "localhost:443"}, "--publish-https"},
		{"bad http port", chain, Options{HTTPPublish: "127.0.0.1:99999"}, "--publish-http"},
		{"bad nginx image", chain, Options{NginxImage: "nginx latest"}, "nginx image"},
		{"relative compose file", chain, Options{ComposeFile: "docker-compose.yml"}, "absolute path"},
		{"link to a missing service", withLink(Link{Prefix: "/x", Service: "nope"}), Options{}, `service "nope"`},
		{"link to itself", withLink(Link{Prefix: "/x", Service: "web"}), Options{}, "HTTP Python service"},
		{"link at /", withLink(Link{Prefix: "/", Service: "py"}), Options{}, "link prefix"},
		{"document root outside the project", outside, Options{}, "outside the project folder"},
		{"php.ini: a section", withIni("memory_limit = \"1G\"\n[evil]\n"), Options{}, "not one directive"},
		{"php.ini: a value ending its quotes", withIni("memory_limit = \"1G\" \"x\"\n"), Options{}, "not one directive"},
		{"php.ini: a carriage return in a comment", withIni("; x\rauto_prepend_file = \"/etc/passwd\"\n"), Options{}, "control character"},
		{"php.ini: an environment variable", withIni("memory_limit = \"${HOME}\"\n"), Options{}, "not one directive"},
		{"php.ini: an extension", withIni("extension = \"evil.so\"\n"), Options{}, "loads an extension"},
		{"php.ini: a word PHP reads as a value", withIni("null = \"1\"\n"), Options{}, "reads as a value"},
		{"php.ini: not UTF-8", withIni("memory_limit = \"\xff\"\n"), Options{}, "not UTF-8"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			_, err := ComposeLayout(c.p, c.o)
			if err == nil || !strings.Contains(err.Error(), c.want) {
				t.Errorf("err = %v, want it to mention %q", err, c.want)
			}
		})
	}
}
