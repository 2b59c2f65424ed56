package export

import (
	"bytes"
	"flag"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
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
	"uwsgi": { // Flask under uWSGI, the whole site, and gunicorn at /ws
		Name: "blog", Root: "/srv/blog", Domains: []string{"blog.test"},
		Services: []Service{
			{Name: "web", Stack: "uwsgi", App: "app:app", Prefix: "/", Network: "unix",
				Address: "/run/devport/blog-web/web.sock", Protocol: ProtocolUWSGI, Workers: 4},
			{Name: "ws", Stack: "gunicorn", App: "live:app", Prefix: "/ws", Strip: true, Network: "unix",
				Address: "/run/devport/blog-ws/ws.sock", Workers: 2},
		},
	},
}

func TestGolden(t *testing.T) {
	formats := map[string]func(*bytes.Buffer, Project) error{
		"nginx":         func(b *bytes.Buffer, p Project) error { return Nginx(b, p, Options{}) },
		"compose":       func(b *bytes.Buffer, p Project) error { return Compose(b, p, Options{}) },
		"compose-nginx": func(b *bytes.Buffer, p Project) error { return ComposeNginx(b, p, Options{}) },
	}
	for name, p := range projects {
		for format, render := range formats {
			t.Run(name+"/"+format, func(t *testing.T) {
				var b bytes.Buffer
				if err := render(&b, p); err != nil {
					t.Fatal(err)
				}
				golden := filepath.Join("testdata", name+"."+format+".golden")
				if *update {
					if err := os.WriteFile(golden, b.Bytes(), 0o644); err != nil {
						t.Fatal(err)
					}
				}
				want, err := os.ReadFile(golden)
				if err != nil {
					t.Fatalf("%v (run go test ./export -update to create it)", err)
				}
				if got := b.String(); got != string(want) {
					t.Errorf("%s differs from %s (go test ./export -update rewrites it):\n%s", format, golden, got)
				}
			})
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
