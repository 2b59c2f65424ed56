package engine

import (
	"context"
	"crypto/x509"
	"encoding/pem"
	"os"
	"path/filepath"
	"reflect"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/devport/devport/certs"
	"github.com/devport/devport/export"
	"github.com/devport/devport/internal/stackdef"
	"github.com/devport/devport/stacks"
	"github.com/devport/devport/store"
)

func TestParseUpstream(t *testing.T) {
	cases := []struct{ in, network, address, protocol string }{
		{"http://127.0.0.1:8081", "tcp", "127.0.0.1:8081", export.ProtocolHTTP},
		{"unix:/run/d/api.sock", "unix", "/run/d/api.sock", export.ProtocolHTTP},
		{"uwsgi://127.0.0.1:3031", "tcp", "127.0.0.1:3031", export.ProtocolUWSGI},
		{"uwsgi:unix:/run/d/web.sock", "unix", "/run/d/web.sock", export.ProtocolUWSGI},
	}
	for _, c := range cases {
		t.Run(c.in, func(t *testing.T) {
			n, a, p := parseUpstream(c.in)
			if n != c.network || a != c.address || p != c.protocol {
				t.Errorf("parseUpstream(%q) = %q %q %q, want %q %q %q", c.in, n, a, p, c.network, c.address, c.protocol)
			}
		})
	}
}

// TestExportOf converts a stopped split project: sockets where devport
// would start the Python services, a warning for php's port, stripping
// exactly where the proxy strips, and live upstreams when running.
func TestExportOf(t *testing.T) {
	paths := Paths{Data: "/d", Logs: "/d/logs", Run: "/d/run"}
	sp := store.Project{Name: "shop", Root: t.TempDir(), Domains: []string{"shop.test"}, Services: []store.Service{
		{Name: "api", Stack: "uvicorn", App: "main:app", PathPrefix: "/api"},
		{Name: "legacy", Stack: "uwsgi", App: "app:app", PathPrefix: "/legacy"},
		{Name: "web", Stack: "php", PathPrefix: "/"},
	}}
	routes := []store.Route{{Project: "shop", PathPrefix: "/static", Kind: store.RouteStatic, Target: "/srv/static",
		CacheControl: "max-age=60"}}

	p, warnings, err := exportOf(sp, routes, nil, paths)
	if err != nil {
		t.Fatal(err)
	}
	byName := map[string]export.Service{}
	for _, s := range p.Services {
		byName[s.Name] = s
	}
	cases := []struct {
		name string
		got  export.Service
		want export.Service
	}{
		{"uvicorn: socket, stripped", byName["api"], export.Service{Name: "api", Stack: "uvicorn", App: "main:app",
			Prefix: "/api", Strip: true, Network: "unix", Address: "/d/run/shop-api/api.sock"}},
		{"uwsgi: socket, uwsgi protocol, not stripped", byName["legacy"], export.Service{Name: "legacy", Stack: "uwsgi",
			App: "app:app", Prefix: "/legacy", Network: "unix", Address: "/d/run/shop-legacy/legacy.sock", Protocol: export.ProtocolUWSGI}},
		{"php: placeholder port", byName["web"], export.Service{Name: "web", Stack: "php", Prefix: "/", Network: "tcp",
			Address: "127.0.0.1:8080"}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			if !reflect.DeepEqual(c.got, c.want) {
				t.Errorf("got %+v\nwant %+v", c.got, c.want)
			}
		})
	}
	if len(warnings) != 1 || !strings.Contains(warnings[0], "devport start shop") {
		t.Errorf("warnings = %q, want one telling to start shop", warnings)
	}
	if len(p.Routes) != 1 || p.Routes[0].Kind != export.KindStatic || p.Routes[0].CacheControl != "max-age=60" {
		t.Errorf("routes = %+v", p.Routes)
	}

	t.Run("running: live upstreams, no warning", func(t *testing.T) {
		live := map[string]string{"web": "http://127.0.0.1:41000", "api": "unix:/x/api.sock", "legacy": "uwsgi:unix:/x/l.sock"}
		p, warnings, err := exportOf(sp, nil, live, paths)
		if err != nil {
			t.Fatal(err)
		}
		if len(warnings) != 0 {
			t.Errorf("warnings = %q", warnings)
		}
		for _, s := range p.Services {
			if want := live[s.Name]; !strings.HasSuffix(want, s.Address) {
				t.Errorf("service %s address %q, want from %q", s.Name, s.Address, want)
			}
		}
	})
}

// TestExportOfChain: the chain's declared route makes the php service's
// Apache forward the prefix (export.Service.Links), and nginx sends the
// prefix to php, not to the uvicorn service.
func TestExportOfChain(t *testing.T) {
	sp := store.Project{Name: "chain", Root: t.TempDir(), Domains: []string{"chain.test"}, Services: []store.Service{
		{Name: "py", Stack: "uvicorn", App: "py.main:app", PathPrefix: "/py"},
		{Name: "web", Stack: "php", PathPrefix: "/"},
	}}
	routes := []store.Route{{Project: "chain", PathPrefix: "/py", Kind: store.RouteService, Target: "web"}}
	p, _, err := exportOf(sp, routes, nil, Paths{Data: "/d", Logs: "/d/logs", Run: "/d/run"})
	if err != nil {
		t.Fatal(err)
	}
	links := map[string][]export.Link{}
	for _, s := range p.Services {
		links[s.Name] = s.Links
	}
	want := map[string][]export.Link{"py": nil, "web": {{Prefix: "/py", Service: "py"}}}
	if !reflect.DeepEqual(links, want) {
		t.Errorf("links = %+v, want %+v", links, want)
	}
	p.Services[0].Address, p.Services[1].Address = "x", "y"
	files, err := export.ComposeLayout(p, export.Options{})
	if err != nil {
		t.Fatal(err)
	}
	for _, f := range files {
		if f.Name == export.ComposeApacheFile("web") && !strings.Contains(string(f.Data), `ProxyPass "/py/" "http://py:8000/"`) {
			t.Errorf("Apache site lacks the link:\n%s", f.Data)
		}
		if f.Name == export.ComposeNginxFile && strings.Contains(string(f.Data), "proxy_pass http://chain_py") {
			t.Errorf("nginx routes /py itself:\n%s", f.Data)
		}
	}
}

// TestExportImage: the compose layout runs what devport's container
// runtime would: the service's image, else the stack's setting, else
// export's default ("").
func TestExportImage(t *testing.T) {
	ctx := context.Background()
	m := testManager(t)
	if err := m.SetSetting(ctx, SettingImagePrefix+"uvicorn", "devport-test/python:bookworm"); err != nil {
		t.Fatal(err)
	}
	plain, legacy := t.TempDir(), t.TempDir()
	writeFiles(t, legacy, map[string]string{"composer.json": `{"require": {"php": "~7.3.0"}}`})
	cases := []struct {
		name string
		root string
		s    store.Service
		want string
	}{
		{"stack default", plain, store.Service{Stack: "php"}, ""},
		{"stack setting", plain, store.Service{Stack: "uvicorn"}, "devport-test/python:bookworm"},
		{"service image", plain, store.Service{Stack: "php", Image: "mine/php:1"}, "mine/php:1"},
		{"uwsgi keeps export's default", plain, store.Service{Stack: "uwsgi"}, ""},
		{"php version set, run as a process", plain, store.Service{Stack: "php", PHP: "8.1"}, "php:8.1-apache"},
		{"composer.json's require.php", legacy, store.Service{Stack: "php"}, "php:7.3-apache"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			if got := m.exportImage(ctx, c.root, c.s); got != c.want {
				t.Errorf("exportImage = %q, want %q", got, c.want)
			}
		})
	}
	if stackdef.DefaultImage("uwsgi") == "" {
		t.Error("stacks has no default uwsgi image; exportImage's fallback assumes one")
	}
}

// TestExportOfData: the data services go to the compose layout with the
// database and user devport made, and the web services get the variables
// devport gives a container on the project's network: the service's name
// and the stack's own port, whatever runtime and host port it has here.
func TestExportOfData(t *testing.T) {
	sp := store.Project{Name: "my-shop", Root: t.TempDir(), Domains: []string{"shop.test"},
		Services: []store.Service{
			{Name: "api", Stack: stackdef.Uvicorn, App: "main:app", PathPrefix: "/api"},
			{Name: "web", Stack: stackdef.PHP, PathPrefix: "/"},
		},
		Data: []store.DataService{
			{ID: 1, Name: "db", Stack: stackdef.MariaDB, Runtime: "process", Port: 13306, Password: "pw$1", DBName: "my_shop"},
			{ID: 2, Name: "cache", Stack: stackdef.Redis, Runtime: "container", Port: 16379, Version: "7.2"},
			{ID: 3, Name: "mail", Stack: stackdef.Mailpit, Runtime: "process", Port: 11025},
			{ID: 4, Name: "pg", Stack: stackdef.Postgres, Runtime: "process", Port: 15432, Password: "pgpw", Image: "mine/pg:1", DBName: "my_shop"},
		}}
	p, _, err := exportOf(sp, nil, nil, Paths{Data: "/d", Logs: "/d/logs", Run: "/d/run"})
	if err != nil {
		t.Fatal(err)
	}
	wantData := []export.DataService{
		{Name: "db", Stack: stackdef.MariaDB, Database: "my_shop", User: "my_shop", Password: "pw$1"},
		{Name: "cache", Stack: stackdef.Redis, Version: "7.2"},
		{Name: "mail", Stack: stackdef.Mailpit},
		{Name: "pg", Stack: stackdef.Postgres, Image: "mine/pg:1", Database: "my_shop", User: "my_shop", Password: "pgpw"},
	}
	if !reflect.DeepEqual(p.Data, wantData) {
		t.Errorf("data = %+v\nwant %+v", p.Data, wantData)
	}
	inContainers := sp
	inContainers.Data = nil
	for _, d := range sp.Data {
		d.Runtime = "container"
		inContainers.Data = append(inContainers.Data, d)
	}
	wantEnv := dataEnv(inContainers, "container")
	for _, s := range p.Services {
		env := envMap(s.Env)
		for k, v := range map[string]string{"DB_HOST": "db", "DB_PORT": "3306", "DB_DATABASE": "my_shop", "DB_PASSWORD": "pw$1",
			"DATABASE_URL": "mysql://my_shop:pw$1@db:3306/my_shop", "REDIS_URL": "redis://cache:6379",
			"MAIL_HOST": "mail", "MAIL_PORT": "1025", "PG_DB_HOST": "pg", "PG_DB_PORT": "5432"} {
			if env[k] != v {
				t.Errorf("%s: %s=%q, want %q", s.Name, k, env[k], v)
			}
		}
		if !reflect.DeepEqual(s.Env, wantEnv) {
			t.Errorf("%s: env %q, want dataEnv's %q", s.Name, s.Env, wantEnv)
		}
		if want := map[string]string{"web": stacks.PHPSendmail}[s.Name]; s.Sendmail != want {
			t.Errorf("%s: sendmail_path %q, want %q", s.Name, s.Sendmail, want)
		}
	}
	for i := range p.Services {
		p.Services[i].Address = "x"
	}
	files, err := export.ComposeLayout(p, export.Options{})
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{`"DB_HOST=db"`, `"MARIADB_PASSWORD=pw$$1"`, "image: mine/pg:1", "image: redis:7.2", "condition: service_healthy"} {
		if !strings.Contains(string(files[0].Data), want) {
			t.Errorf("docker-compose.yml lacks %s:\n%s", want, files[0].Data)
		}
	}
	if notes := phpExtensionNotes(p); len(notes) != 1 || !strings.Contains(notes[0], "service web runs php:8.3-apache") ||
		!strings.Contains(notes[0], "docker-php-ext-install mysqli pdo_mysql") || !strings.Contains(notes[0], "docker-php-ext-install pgsql pdo_pgsql") {
		t.Errorf("notes = %q", notes)
	}

	t.Run("without Mailpit, PHP's own sendmail", func(t *testing.T) {
		q := sp
		q.Data = sp.Data[:2]
		p, _, err := exportOf(q, nil, nil, Paths{Data: "/d", Logs: "/d/logs", Run: "/d/run"})
		if err != nil {
			t.Fatal(err)
		}
		for _, s := range p.Services {
			if s.Sendmail != "" {
				t.Errorf("%s: sendmail_path %q", s.Name, s.Sendmail)
			}
		}
	})
	t.Run("without data services, nothing", func(t *testing.T) {
		q := sp
		q.Data = nil
		p, _, err := exportOf(q, nil, nil, Paths{Data: "/d", Logs: "/d/logs", Run: "/d/run"})
		if err != nil {
			t.Fatal(err)
		}
		for _, s := range p.Services {
			if s.Env != nil || s.Sendmail != "" {
				t.Errorf("%s: env %q, sendmail %q", s.Name, s.Env, s.Sendmail)
			}
		}
		if p.Data != nil || phpExtensionNotes(p) != nil {
			t.Errorf("data %+v, notes %q", p.Data, phpExtensionNotes(p))
		}
	})
}

// TestExportDataImage: a data service's image in the compose layout is
// what devport's container runtime would run: its own, else the official
// one of its version (export's choice), else the container.image.STACK
// setting, else export's default.
func TestExportDataImage(t *testing.T) {
	ctx := context.Background()
	m := testManager(t)
	if err := m.SetSetting(ctx, SettingImagePrefix+stackdef.MariaDB, "devport-test/mariadb:bookworm"); err != nil {
		t.Fatal(err)
	}
	cases := []struct {
		name string
		d    store.DataService
		want string
	}{
		{"service image", store.DataService{Stack: stackdef.MariaDB, Image: "mine/mariadb:1", Version: "10.11"}, "mine/mariadb:1"},
		{"a version: export's official image", store.DataService{Stack: stackdef.MariaDB, Version: "10.11"}, ""},
		{"stack setting", store.DataService{Stack: stackdef.MariaDB}, "devport-test/mariadb:bookworm"},
		{"no setting: export's default", store.DataService{Stack: stackdef.Redis}, ""},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			if got := m.exportDataImage(ctx, c.d); got != c.want {
				t.Errorf("exportDataImage = %q, want %q", got, c.want)
			}
		})
	}
}

// TestWriteComposeCerts: the compose layout's certificate comes from
// devport's CA for every domain, its key is 0600, and a certificate that is
// not devport's is kept.
func TestWriteComposeCerts(t *testing.T) {
	ca, err := certs.Open(certs.Options{Dir: t.TempDir(), TLDs: []string{"test"}})
	if err != nil {
		t.Fatal(err)
	}
	dir := filepath.Join(t.TempDir(), "certs")
	msg, err := writeComposeCerts(ca, dir, []string{"shop.test", "www.shop.test"})
	if err != nil {
		t.Fatal(err)
	}
	certPath, keyPath := filepath.Join(dir, "shop.test.pem"), filepath.Join(dir, "shop.test-key.pem")
	if !strings.Contains(msg, certPath) || !strings.Contains(msg, "devport's CA") {
		t.Errorf("message %q does not name the files and the CA", msg)
	}
	t.Run("key is 0600", func(t *testing.T) {
		fi, err := os.Stat(keyPath)
		if err != nil || fi.Mode().Perm() != 0o600 {
			t.Errorf("key: %v %v", fi.Mode(), err)
		}
	})
	t.Run("certificate verifies for every domain", func(t *testing.T) {
		b, err := os.ReadFile(certPath)
		if err != nil {
			t.Fatal(err)
		}
		block, _ := pem.Decode(b)
		leaf, err := x509.ParseCertificate(block.Bytes)
		if err != nil {
			t.Fatal(err)
		}
		pool := x509.NewCertPool()
		pool.AddCert(ca.Root())
		for _, name := range []string{"shop.test", "www.shop.test", "api.shop.test"} {
			if _, err := leaf.Verify(x509.VerifyOptions{DNSName: name, Roots: pool, CurrentTime: time.Now()}); err != nil {
				t.Errorf("%s: %v", name, err)
			}
		}
	})
	t.Run("key matches", func(t *testing.T) {
		b, _ := os.ReadFile(keyPath)
		block, _ := pem.Decode(b)
		if block == nil || block.Type != "PRIVATE KEY" {
			t.Fatalf("key file: %q", b)
		}
		if _, err := x509.ParsePKCS8PrivateKey(block.Bytes); err != nil {
			t.Error(err)
		}
	})
	t.Run("a foreign certificate is kept", func(t *testing.T) {
		other, err := certs.Open(certs.Options{Dir: t.TempDir(), TLDs: []string{"test"}})
		if err != nil {
			t.Fatal(err)
		}
		odir := t.TempDir()
		if _, err := writeComposeCerts(other, odir, []string{"shop.test"}); err != nil {
			t.Fatal(err)
		}
		before, _ := os.ReadFile(filepath.Join(odir, "shop.test.pem"))
		msg, err := writeComposeCerts(ca, odir, []string{"shop.test"})
		if err != nil {
			t.Fatal(err)
		}
		after, _ := os.ReadFile(filepath.Join(odir, "shop.test.pem"))
		if !strings.HasPrefix(msg, "kept") || string(before) != string(after) {
			t.Errorf("message %q; certificate replaced: %v", msg, string(before) != string(after))
		}
	})
	t.Run("devport's own is renewed", func(t *testing.T) {
		before, _ := os.ReadFile(certPath)
		if _, err := writeComposeCerts(ca, dir, []string{"shop.test", "www.shop.test"}); err != nil {
			t.Fatal(err)
		}
		after, _ := os.ReadFile(certPath)
		if string(before) == string(after) {
			t.Error("devport's certificate was not renewed")
		}
	})
}

// TestExportPHPIni: a php service of the compose layout gets the project's
// php.ini directives as the runtimes write them, and values a hostile
// devport.toml could hold (had they got past validation into the store)
// never become a line of their own: no section, no second directive, no
// extension.
func TestExportPHPIni(t *testing.T) {
	sp := store.Project{Name: "shop", Root: t.TempDir(), Domains: []string{"shop.test"}, Services: []store.Service{
		{Name: "web", Stack: "php", PathPrefix: "/"},
		{Name: "api", Stack: "uvicorn", App: "main:app", PathPrefix: "/api"},
	}}
	tests := []struct {
		name string
		ini  map[string]string
		want []string // lines of the php service's entry
		not  []string // substrings no line may start with
	}{
		{"none: no entry", nil, nil, nil},
		{"directives", map[string]string{"memory_limit": "1G", "error_reporting": "E_ALL & ~E_DEPRECATED"},
			[]string{`memory_limit = "1G"`, `error_reporting = E_ALL & ~E_DEPRECATED`}, []string{"display_errors"}},
		{"hostile", map[string]string{
			"memory_limit":       "1G\n[evil]\nauto_prepend_file=/etc/passwd",
			"upload_max_size":    "1\"\nallow_url_include = On\n\"",
			"x\ny":               "1",
			"post_max_size":      "1\rauto_append_file=/etc/shadow",
			"extension":          "evil.so",
			"max_input_vars":     "${HOME}",
			"session.save_path":  `\`,
			"max_execution_time": "60",
		}, []string{`max_execution_time = "60"`},
			[]string{"[", "auto_prepend_file", "allow_url_include", "y = ", "auto_append_file", "extension", "max_input_vars", "session.save_path", "memory_limit", "upload_max_size"}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			sp := sp
			sp.PHPIni = tc.ini
			p, _, err := exportOf(sp, nil, nil, Paths{Data: "/d", Run: "/d/run"})
			if err != nil {
				t.Fatal(err)
			}
			var ini []byte
			for _, s := range p.Services {
				if s.Stack != stackdef.PHP && s.PHPIni != nil {
					t.Errorf("service %s (%s) got an ini", s.Name, s.Stack)
				}
				if s.Stack == stackdef.PHP {
					ini = s.PHPIni
				}
			}
			if tc.want == nil && tc.not == nil {
				if ini != nil {
					t.Errorf("entry %q, want none", ini)
				}
				return
			}
			lines := strings.Split(string(ini), "\n")
			for _, w := range tc.want {
				if !slices.Contains(lines, w) {
					t.Errorf("entry lacks line %q:\n%s", w, ini)
				}
			}
			for _, l := range lines {
				if strings.ContainsRune(l, '\r') {
					t.Errorf("line %q holds a carriage return", l)
				}
				for _, n := range tc.not {
					if strings.HasPrefix(l, n) {
						t.Errorf("line %q starts with %q:\n%s", l, n, ini)
					}
				}
			}
			// The compose layout takes it, and writes it as it is.
			files, err := export.ComposeLayout(p, export.Options{ComposeFile: filepath.Join(sp.Root, "docker-compose.yml")})
			if err != nil {
				t.Fatal(err)
			}
			i := slices.IndexFunc(files, func(f export.File) bool { return f.Name == export.ComposePHPIniFile("web") })
			if i < 0 || string(files[i].Data) != string(ini) {
				t.Errorf("layout files %v lack %s with the entry", files, export.ComposePHPIniFile("web"))
			}
		})
	}
}
