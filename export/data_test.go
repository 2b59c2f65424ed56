package export

import (
	"bytes"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"

	"github.com/devport/devport/internal/shellquote"
	"github.com/devport/devport/internal/stackdef"
	"github.com/devport/devport/internal/testenv"
	"go.yaml.in/yaml/v3"
)

// composeDoc is the part of docker-compose.yml the data tests read, as
// compose reads it.
type composeDoc struct {
	Services map[string]struct {
		Image       string   `yaml:"image"`
		Command     []string `yaml:"command"`
		Environment []string `yaml:"environment"`
		Volumes     []string `yaml:"volumes"`
		Ports       []string `yaml:"ports"`
		DependsOn   any      `yaml:"depends_on"`
		Healthcheck *struct {
			Test []string `yaml:"test"`
		} `yaml:"healthcheck"`
		StopSignal string `yaml:"stop_signal"`
	} `yaml:"services"`
	Volumes map[string]any `yaml:"volumes"`
}

// parseCompose renders p's compose file and parses it, with compose's
// "$$" turned back into "$" in every string it reads.
func parseCompose(t *testing.T, p Project) (composeDoc, string) {
	t.Helper()
	var b bytes.Buffer
	if err := Compose(&b, p, Options{}); err != nil {
		t.Fatal(err)
	}
	var doc composeDoc
	if err := yaml.Unmarshal(b.Bytes(), &doc); err != nil {
		t.Fatalf("docker-compose.yml does not parse: %v\n%s", err, b.String())
	}
	unescape := func(ss []string) {
		for i := range ss {
			ss[i] = strings.ReplaceAll(ss[i], "$$", "$")
		}
	}
	for name, s := range doc.Services {
		unescape(s.Environment)
		unescape(s.Command)
		if s.Healthcheck != nil {
			unescape(s.Healthcheck.Test)
		}
		doc.Services[name] = s
	}
	return doc, b.String()
}

// TestComposeData: each data service runs its official image (by Image,
// Version or the default) with the variables its entrypoint creates the
// database from, its data in a named volume at the image's folder, and a
// healthcheck; the web services wait for them to be healthy and get
// devport's variables; nothing but nginx publishes a port.
func TestComposeData(t *testing.T) {
	doc, raw := parseCompose(t, projects["data"])
	dependsOn := func(service string) map[string]string {
		out := map[string]string{}
		switch d := doc.Services[service].DependsOn.(type) {
		case map[string]any:
			for k, v := range d {
				c, _ := v.(map[string]any)
				out[k], _ = c["condition"].(string)
			}
		case []any:
			for _, v := range d {
				out[v.(string)] = "service_started"
			}
		}
		return out
	}
	cases := []struct {
		name    string
		service string
		check   func() bool
	}{
		{"mariadb: default image", "db", func() bool { return doc.Services["db"].Image == stackdef.DefaultMariaDBImage }},
		{"postgres: the version's official image", "pg", func() bool { return doc.Services["pg"].Image == "postgres:16" }},
		{"redis: default image", "cache", func() bool { return doc.Services["cache"].Image == stackdef.DefaultRedisImage }},
		{"mailpit: the image given", "mail", func() bool { return doc.Services["mail"].Image == "registry.example/mailpit:v1" }},
		{"mariadb: database, user and passwords", "db", func() bool {
			env := doc.Services["db"].Environment
			return slices.Contains(env, "MARIADB_DATABASE=shop") && slices.Contains(env, "MARIADB_USER=shop") &&
				slices.Contains(env, "MARIADB_PASSWORD=S3cret$pw") && slices.Contains(env, "MARIADB_ROOT_PASSWORD=S3cret$pw")
		}},
		{"postgres: database, user, password and PGDATA", "pg", func() bool {
			env := doc.Services["pg"].Environment
			return slices.Contains(env, "POSTGRES_DB=shop") && slices.Contains(env, "POSTGRES_USER=shop") &&
				slices.Contains(env, "POSTGRES_PASSWORD=pgpw") && slices.Contains(env, "PGDATA=/var/lib/postgresql/data")
		}},
		{"mariadb: data volume", "db", func() bool { return slices.Equal(doc.Services["db"].Volumes, []string{"data-db:/var/lib/mysql"}) }},
		{"postgres: data volume", "pg", func() bool {
			return slices.Equal(doc.Services["pg"].Volumes, []string{"data-pg:/var/lib/postgresql/data"})
		}},
		{"redis: data volume and save point", "cache", func() bool {
			return slices.Equal(doc.Services["cache"].Volumes, []string{"data-cache:/data"}) &&
				slices.Equal(doc.Services["cache"].Command, []string{"redis-server", "--save", "60 1"})
		}},
		{"mailpit: its database in the volume", "mail", func() bool {
			return slices.Equal(doc.Services["mail"].Volumes, []string{"data-mail:/data"}) &&
				slices.Contains(doc.Services["mail"].Environment, "MP_DATABASE=/data/mailpit.db")
		}},
		{"named volumes declared", "", func() bool {
			for _, v := range []string{"data-db", "data-pg", "data-cache", "data-mail", "pip-cache-api"} {
				if _, ok := doc.Volumes[v]; !ok {
					return false
				}
			}
			return true
		}},
		{"mariadb: healthcheck queries as the user over TCP", "db", func() bool {
			h := doc.Services["db"].Healthcheck
			return h != nil && h.Test[0] == "CMD-SHELL" && strings.Contains(h.Test[1], `--protocol=tcp`) &&
				strings.Contains(h.Test[1], `--user="$MARIADB_USER"`)
		}},
		{"postgres: healthcheck and stop signal", "pg", func() bool {
			h := doc.Services["pg"].Healthcheck
			return h != nil && strings.Contains(h.Test[1], `psql --host=127.0.0.1`) && doc.Services["pg"].StopSignal == "SIGINT"
		}},
		{"every data service has a healthcheck", "", func() bool {
			for _, d := range projects["data"].Data {
				if h := doc.Services[d.Name].Healthcheck; h == nil || len(h.Test) != 2 || h.Test[1] == "" {
					return false
				}
			}
			return true
		}},
		{"web waits for every data service to be healthy", "web", func() bool {
			return maps(dependsOn("web"), map[string]string{"db": "service_healthy", "pg": "service_healthy",
				"cache": "service_healthy", "mail": "service_healthy"})
		}},
		{"web gets devport's variables", "web", func() bool {
			env := doc.Services["web"].Environment
			return slices.Contains(env, "DB_HOST=db") && slices.Contains(env, "DB_PORT=3306") &&
				slices.Contains(env, "DB_PASSWORD=S3cret$pw") && slices.Contains(env, "REDIS_URL=redis://cache:6379") &&
				slices.Contains(env, "MAIL_HOST=mail")
		}},
		{"python keeps its own variables first", "api", func() bool {
			env := doc.Services["api"].Environment
			return env[0] == "PYTHONUNBUFFERED=1" && slices.Contains(env, "DATABASE_URL=mysql://shop:S3cret$pw@db:3306/shop")
		}},
		{"nginx waits for Mailpit, whose UI it serves", "nginx", func() bool {
			_, ok := dependsOn("nginx")["mail"]
			return ok
		}},
		{"only nginx publishes ports", "", func() bool {
			for name, s := range doc.Services {
				if name != composeNginxService && len(s.Ports) > 0 {
					return false
				}
			}
			return !strings.Contains(raw, "3306:") && !strings.Contains(raw, "expose")
		}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			if !c.check() {
				t.Errorf("%s: %+v\n%s", c.service, doc.Services[c.service], raw)
			}
		})
	}

	t.Run("a link waits to start, with the long form", func(t *testing.T) {
		p := projects["chain"]
		p.Data = []DataService{{Name: "cache", Stack: stackdef.Redis}}
		_, raw := parseCompose(t, p)
		if !strings.Contains(raw, "    depends_on:\n      py:\n        condition: service_started\n      cache:\n        condition: service_healthy\n") {
			t.Errorf("web's depends_on:\n%s", raw)
		}
	})
	t.Run("without data services, the short form", func(t *testing.T) {
		_, raw := parseCompose(t, projects["chain"])
		if strings.Contains(raw, "condition:") || strings.Contains(raw, "healthcheck") {
			t.Errorf("a project without data services got conditions:\n%s", raw)
		}
	})
}

// maps reports whether a and b hold the same entries.
func maps(a, b map[string]string) bool {
	if len(a) != len(b) {
		return false
	}
	for k, v := range a {
		if b[k] != v {
			return false
		}
	}
	return true
}

// TestComposeDataSites: the php site sends mail() to Mailpit, and the
// compose layout's nginx serves Mailpit's UI at mail.DOMAIN; the nginx
// export, which runs no data service, has neither.
func TestComposeDataSites(t *testing.T) {
	p := projects["data"]
	l := layout(t, p, Options{})
	var plain bytes.Buffer
	if err := Nginx(&plain, p, Options{}); err != nil {
		t.Fatal(err)
	}
	cases := []struct {
		name, file, want string
		absent           bool
		in               map[string]string
	}{
		{"php: sendmail_path", ComposeApacheFile("web"), `php_admin_value sendmail_path "php -r 'eval(base64_decode($argv[1]));' -- ZWNobyAxOw=="`, false, l},
		{"nginx: Mailpit's upstream", ComposeNginxFile, "upstream shop_mail {\n    server mail:8025;\n}", false, l},
		{"nginx: Mailpit at mail.DOMAIN", ComposeNginxFile, "server_name mail.shop.test;\n\n    ssl_certificate     /etc/nginx/certs/shop.test.pem;", false, l},
		{"nginx: mail.DOMAIN redirected to https", ComposeNginxFile, "server_name shop.test mail.shop.test;\n    return 301", false, l},
		{"nginx: Mailpit's websocket", ComposeNginxFile, "proxy_pass http://shop_mail;\n        proxy_set_header Host $http_host;\n        proxy_http_version 1.1;\n        proxy_set_header Upgrade $http_upgrade;", false, l},
		{"nginx export: no Mailpit", "nginx", "mail", true, map[string]string{"nginx": plain.String()}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			if strings.Contains(c.in[c.file], c.want) == c.absent {
				t.Errorf("%s contains %q = %v, want %v:\n%s", c.file, c.want, !c.absent, c.absent, c.in[c.file])
			}
		})
	}
	t.Run("no Mailpit, no sendmail_path unless given", func(t *testing.T) {
		if strings.Contains(layout(t, projects["split"], Options{})[ComposeApacheFile("web")], "sendmail_path") {
			t.Error("sendmail_path without a Mailpit")
		}
	})
}

// TestComposeDataErrors: what the compose layout cannot run is an error
// that names the fix, never output.
func TestComposeDataErrors(t *testing.T) {
	base := projects["chain"]
	with := func(d ...DataService) Project {
		p := base
		p.Data = d
		return p
	}
	db := func(f func(*DataService)) DataService {
		d := DataService{Name: "db", Stack: stackdef.MariaDB, Database: "shop", User: "shop", Password: "pw"}
		f(&d)
		return d
	}
	nginxWeb := base
	nginxWeb.Services = slices.Clone(base.Services)
	nginxWeb.Services[0].Name = "nginx"
	nginxWeb.Services[1].Links = []Link{{Prefix: "/py", Service: "nginx"}}
	cases := []struct {
		name string
		p    Project
		want string
	}{
		{"a web stack", with(DataService{Name: "db", Stack: stackdef.PHP}), "not a data service"},
		{"an unknown stack", with(DataService{Name: "db", Stack: "mongodb"}), "not a data service"},
		{"named nginx", with(DataService{Name: "nginx", Stack: stackdef.Redis}), "already has a service of that name"},
		{"named as a web service", with(DataService{Name: "web", Stack: stackdef.Redis}), "already has a service of that name"},
		{"twice the same name", with(DataService{Name: "c", Stack: stackdef.Redis}, DataService{Name: "c", Stack: stackdef.Redis}), "already has a service of that name"},
		{"a bad name", with(DataService{Name: "Cache!", Stack: stackdef.Redis}), "not a devport name"},
		{"a bad image", with(DataService{Name: "c", Stack: stackdef.Redis, Image: "redis 7"}), "not an image reference"},
		{"a bad version", with(DataService{Name: "c", Stack: stackdef.Redis, Version: "7; rm -rf /"}), "not an image tag"},
		{"a database name with a backquote", with(db(func(d *DataService) { d.Database = "shop`; DROP" })), "database name"},
		{"no user", with(db(func(d *DataService) { d.User = "" })), "user name"},
		{"MariaDB's root", with(db(func(d *DataService) { d.User = "ROOT" })), "MariaDB's own administrator"},
		{"no password", with(db(func(d *DataService) { d.Password = "" })), "needs a password"},
		{"a line break in the password", with(db(func(d *DataService) { d.Password = "a\nMARIADB_USER=root" })), "control character"},
		{"a password that is not UTF-8", with(db(func(d *DataService) { d.Password = "caf\xe9" })), "not UTF-8"},
		{"a web service named nginx", nginxWeb, "compose layout's nginx container"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			var b bytes.Buffer
			err := Compose(&b, c.p, Options{})
			if err == nil || !strings.Contains(err.Error(), c.want) {
				t.Errorf("err = %v, want it to mention %q; wrote:\n%s", err, c.want, b.String())
			}
		})
	}
}

// hostilePasswords are passwords that break a writer that does not quote:
// YAML indicators, compose's variables, shell and SQL syntax.
var hostilePasswords = []string{
	`$(touch pwned)`, "`touch pwned`", `${HOME}`, `$$`, `$`, `a"b`, `a'b`, `a\b\`, `'; DROP DATABASE shop; --`,
	`a: b # c`, `- x`, `{x: [y]}`, `*alias`, `&anchor`, `!!binary`, `%YAML`, `@x`, "\u2028\u00e9", "yes", "null", "0x10",
	`"; touch pwned; echo "`, `' OR '1'='1`, "tab\x09", "a\u0085b",
}

// TestComposeDataQuotes: a hostile password reaches the data service's
// image and the web services' variables unchanged, and the healthcheck's
// script (which reads it from the environment) runs no part of it.
func TestComposeDataQuotes(t *testing.T) {
	sh := testenv.Tool(t, "sh")
	for _, pw := range hostilePasswords {
		t.Run(pw, func(t *testing.T) {
			p := projects["chain"]
			p.Data = []DataService{{Name: "db", Stack: stackdef.MariaDB, Database: "shop", User: "shop", Password: pw}}
			p.Services = slices.Clone(p.Services)
			for i := range p.Services {
				p.Services[i].Env = []string{"DB_PASSWORD=" + pw}
			}
			var b bytes.Buffer
			err := Compose(&b, p, Options{})
			if strings.ContainsFunc(pw, func(r rune) bool { return r < 0x20 || r == 0x7f }) {
				if err == nil {
					t.Fatalf("a password with a control character was written:\n%s", b.String())
				}
				return
			}
			doc, raw := parseCompose(t, p)
			if env := doc.Services["db"].Environment; !slices.Contains(env, "MARIADB_PASSWORD="+pw) || !slices.Contains(env, "MARIADB_ROOT_PASSWORD="+pw) {
				t.Errorf("db's environment %q lacks the password %q:\n%s", env, pw, raw)
			}
			for _, s := range []string{"web", "py"} {
				if env := doc.Services[s].Environment; !slices.Contains(env, "DB_PASSWORD="+pw) {
					t.Errorf("%s's environment %q lacks the password %q", s, env, pw)
				}
			}
			runHealthcheck(t, sh, doc.Services["db"].Healthcheck.Test[1], pw)
		})
	}
}

// runHealthcheck runs a MariaDB healthcheck script with the image's
// variables set and a stub mariadb that records MYSQL_PWD and its
// arguments: the password arrives whole, and nothing else runs.
func runHealthcheck(t *testing.T, sh, script, pw string) {
	t.Helper()
	if out, err := exec.Command(sh, "-n", "-c", script).CombinedOutput(); err != nil {
		t.Fatalf("sh -n: %v\n%s\nscript: %s", err, out, script)
	}
	dir, bin := t.TempDir(), t.TempDir()
	rec := filepath.Join(dir, "rec")
	stub := "#!/bin/sh\nprintf '%s\\0' \"$MYSQL_PWD\" \"$@\" > " + shellquote.Quote(rec) + "\n"
	if err := os.WriteFile(filepath.Join(bin, "mariadb"), []byte(stub), 0o755); err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command(sh, "-c", script)
	cmd.Dir = dir
	cmd.Env = []string{"PATH=" + bin + ":/usr/bin:/bin", "HOME=" + dir, "MARIADB_PASSWORD=" + pw,
		"MARIADB_USER=shop", "MARIADB_DATABASE=shop"}
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("healthcheck: %v\n%s\nscript: %s", err, out, script)
	}
	data, err := os.ReadFile(rec)
	if err != nil {
		t.Fatal(err)
	}
	got := strings.Split(strings.TrimSuffix(string(data), "\x00"), "\x00")
	if got[0] != pw || !slices.Contains(got, "--user=shop") || got[len(got)-1] != "shop" {
		t.Errorf("mariadb got MYSQL_PWD and arguments %q, want the password %q first", got, pw)
	}
	if _, err := os.Stat(filepath.Join(dir, "pwned")); err == nil {
		t.Error("the healthcheck ran a command from the password")
	}
}

// TestComposeDataConfig: docker-compose itself (Debian's 1.29, the oldest
// the layout supports) accepts the file: the long depends_on, the
// healthchecks and the named volumes.
func TestComposeDataConfig(t *testing.T) {
	compose := testenv.Tool(t, "docker-compose")
	dir := t.TempDir()
	p := projects["data"]
	p.Root = dir
	files, err := ComposeLayout(p, Options{})
	if err != nil {
		t.Fatal(err)
	}
	for _, f := range files {
		if err := os.WriteFile(filepath.Join(dir, f.Name), f.Data, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	cmd := exec.Command(compose, "-f", ComposeFile, "config")
	cmd.Dir = dir
	cmd.Env = append(os.Environ(), "HOME="+dir)
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("docker-compose config: %v\n%s\n%s", err, out, files[0].Data)
	}
	// The password as compose read it, and wrote it back escaped.
	if !strings.Contains(string(out), "MARIADB_PASSWORD: S3cret$$pw") { // written back escaped
		t.Errorf("docker-compose config read:\n%s", out)
	}
}

// TestComposeDataNginx: the compose layout's nginx configuration with
// Mailpit's server passes nginx -t (with the compose network's host names
// replaced by loopback, which nginx -t must resolve).
func TestComposeDataNginx(t *testing.T) {
	env := newNginxEnv(t)
	var b bytes.Buffer
	if err := ComposeNginx(&b, projects["data"], Options{Cert: env.cert, Key: env.key, HTTPSListen: "127.0.0.1:8443", HTTPListen: "127.0.0.1:8080"}); err != nil {
		t.Fatal(err)
	}
	conf := regexp.MustCompile(`server [a-z0-9-]+:([0-9]+);`).ReplaceAllString(b.String(), "server 127.0.0.1:$1;")
	if !strings.Contains(conf, "server_name mail.shop.test;") {
		t.Fatalf("no Mailpit server:\n%s", conf)
	}
	if out, ok := env.check(t, []byte(conf)); !ok {
		t.Fatalf("nginx -t: %s\n%s", out, conf)
	}
}
