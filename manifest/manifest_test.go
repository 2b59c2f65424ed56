package manifest

import (
	"errors"
	"maps"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
)

const full = `name = "shop"
domains = ["shop.test", "www.shop.test"]

[services.web]
stack = "php"
docroot = "public"
env = { APP_ENV = "dev" }

[services.api]
stack = "gunicorn"
prefix = "/api"
app = "api.main:app"
workers = 2
reload = false
reload_include = ["*.graphql"]
reload_exclude = ["generated/*", "*_pb2.py"]

[[routes]]
prefix = "/static"
static = "static"
cache_control = "public, max-age=2592000"

[[routes]]
prefix = "/ext"
url = "http://127.0.0.1:3000"
strip = true

[hooks]
before_start = "composer install"
`

func TestParseValid(t *testing.T) {
	tests := []struct {
		name string
		src  string
		want File
	}{
		{"minimal", "[services.web]\nstack = \"php\"\n",
			File{Services: map[string]Service{"web": {Stack: "php"}}}},
		{"full", full, File{
			Name: "shop", Domains: []string{"shop.test", "www.shop.test"},
			Services: map[string]Service{
				"web": {Stack: "php", DocRoot: "public", Env: map[string]string{"APP_ENV": "dev"}},
				"api": {Stack: "gunicorn", Prefix: "/api", App: "api.main:app", Workers: 2, Reload: new(false),
					ReloadInclude: []string{"*.graphql"}, ReloadExclude: []string{"generated/*", "*_pb2.py"}},
			},
			Routes: []Route{
				{Prefix: "/static", Static: "static", CacheControl: "public, max-age=2592000"},
				{Prefix: "/ext", URL: "http://127.0.0.1:3000", Strip: true},
			},
			Hooks: Hooks{BeforeStart: "composer install"},
		}},
		{"container", "[services.web]\nstack = \"uvicorn\"\napp = \"main:app\"\nruntime = \"container\"\nimage = \"python:3.12-slim\"\n",
			File{Services: map[string]Service{"web": {Stack: "uvicorn", App: "main:app", Runtime: "container", Image: "python:3.12-slim"}}}},
		{"chain route at a service's prefix", "[services.web]\nstack = \"php\"\n[services.py]\nstack = \"uvicorn\"\napp = \"py.main:app\"\nprefix = \"/py\"\n[[routes]]\nprefix = \"/py\"\nservice = \"web\"\n",
			File{Services: map[string]Service{"web": {Stack: "php"}, "py": {Stack: "uvicorn", App: "py.main:app", Prefix: "/py"}},
				Routes: []Route{{Prefix: "/py", Service: "web"}}}},
		{"data services", "[services.web]\nstack = \"php\"\n[services.db]\nstack = \"mysql\"\nversion = \"10.11\"\n[services.cache]\nstack = \"redis\"\nruntime = \"container\"\nimage = \"redis:7\"\n[database]\nfollow_git_branch = true\n",
			File{Services: map[string]Service{"web": {Stack: "php"}, "db": {Stack: "mysql", Version: "10.11"},
				"cache": {Stack: "redis", Runtime: "container", Image: "redis:7"}}, Database: Database{FollowGitBranch: true}}},
		{"reload off", "[services.api]\nstack = \"uvicorn\"\napp = \"main:app\"\nreload = false\n",
			File{Services: map[string]Service{"api": {Stack: "uvicorn", App: "main:app", Reload: new(false)}}}},
		{"service route", "[services.web]\nstack = \"php\"\n[services.api]\nstack = \"uvicorn\"\napp = \"main:app\"\nprefix = \"/api\"\n[[routes]]\nprefix = \"/v2\"\nservice = \"api\"\n",
			File{Services: map[string]Service{"web": {Stack: "php"}, "api": {Stack: "uvicorn", App: "main:app", Prefix: "/api"}},
				Routes: []Route{{Prefix: "/v2", Service: "api"}}}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got, err := ParseBytes("shop/devport.toml", []byte(tc.src))
			if err != nil {
				t.Fatal(err)
			}
			tc.want.Path = "shop/devport.toml"
			got.lines = nil
			if !reflect.DeepEqual(got, tc.want) {
				t.Errorf("got  %+v\nwant %+v", got, tc.want)
			}
		})
	}
}

func TestParseInvalid(t *testing.T) {
	const web = "[services.web]\nstack = \"php\"\n"
	tests := []struct {
		name, src string
		want      []string // substrings of the error, the first being "file:line: key"
	}{
		{"syntax error", "name = \"shop\"\n[services.web\nstack = \"php\"\n", []string{"shop/devport.toml:2: "}},
		{"unterminated string", web + "app = \"main:app\n", []string{"shop/devport.toml:3: "}},
		{"unknown top key", "nmae = \"shop\"\n" + web, []string{`shop/devport.toml:1: nmae: unknown key; did you mean "name"?`}},
		{"unknown service key", web + "docrot = \"public\"\n", []string{`shop/devport.toml:3: services.web.docrot: unknown key; did you mean "docroot"?`}},
		{"unknown route key", web + "[[routes]]\nprefix = \"/s\"\nstatik = \"s\"\n", []string{`shop/devport.toml:5: routes.statik: unknown key; did you mean "static"?`}},
		{"unknown table", web + "[hook]\nbefore_start = \"x\"\n", []string{`shop/devport.toml:3: hook: unknown key; did you mean "hooks"?`}},
		{"wrong type", web + "workers = \"two\"\n", []string{"shop/devport.toml:3: "}},
		{"bad stack", "\n\n[services.api]\nstack = \"rails\"\n", []string{`shop/devport.toml:4: services.api.stack: "rails" is not a stack; use php, uvicorn, gunicorn, wsgi, uwsgi, static, mariadb, postgres, redis or mailpit`}},
		{"data service with a prefix", web + "[services.db]\nstack = \"postgres\"\nprefix = \"/db\"\n", []string{`shop/devport.toml:5: services.db.prefix: a postgres service has no prefix: remove it`}},
		{"hostile version", web + "[services.db]\nstack = \"postgres\"\nversion = \"15\\nRUN rm\"\n", []string{`shop/devport.toml:5: services.db.version: "15\nRUN rm" is not a version`}},
		{"version on a web service", web + "version = \"8.3\"\n", []string{`shop/devport.toml:3: services.web.version: only the data services`}},
		{"unknown database key", web + "[database]\nfollow_branch = true\n", []string{`shop/devport.toml:4: database.follow_branch: unknown key; known keys here: follow_git_branch`}},
		{"close stack", "[services.api]\nstack = \"uvicron\"\napp = \"main:app\"\n", []string{`shop/devport.toml:2: services.api.stack: "uvicron" is not a stack; did you mean "uvicorn"?`}},
		{"missing stack", "[services.web]\ndocroot = \"public\"\n", []string{"shop/devport.toml:1: services.web: missing stack"}},
		{"no services", "name = \"shop\"\n", []string{"services: no services"}},
		{"duplicate prefix", web + "[services.api]\nstack = \"uvicorn\"\napp = \"main:app\"\n", []string{
			`services.web.prefix: "/" is already the prefix of services.api`}},
		{"duplicate route prefix", web + "[[routes]]\nprefix = \"/s\"\nstatic = \"s\"\n[[routes]]\nprefix = \"/s\"\nurl = \"http://a\"\n", []string{
			`shop/devport.toml:7: routes[1].prefix: "/s" is already the prefix of routes[0]`}},
		{"missing app", "[services.api]\nstack = \"uvicorn\"\nprefix = \"/api\"\n", []string{
			`shop/devport.toml:1: services.api: missing app: the uvicorn stack needs app = "MODULE:ATTRIBUTE"`}},
		{"bad app", "[services.api]\nstack = \"wsgi\"\napp = \"main\"\n", []string{`shop/devport.toml:3: services.api.app: "main" is not MODULE:ATTRIBUTE`}},
		{"docroot escapes", "[services.web]\nstack = \"php\"\ndocroot = \"../other\"\n", []string{
			`shop/devport.toml:3: services.web.docroot: "../other" leaves the project folder (..)`}},
		{"docroot escapes after clean", "[services.web]\nstack = \"php\"\ndocroot = \"public/../../x\"\n", []string{`leaves the project folder`}},
		{"docroot absolute", "[services.web]\nstack = \"php\"\ndocroot = \"/var/www\"\n", []string{`must be relative`}},
		{"static escapes", web + "[[routes]]\nprefix = \"/s\"\nstatic = \"../../etc\"\n", []string{`shop/devport.toml:5: routes[0].static: "../../etc" leaves the project folder`}},
		{"route two targets", web + "[[routes]]\nprefix = \"/s\"\nstatic = \"s\"\nurl = \"http://x\"\n", []string{`shop/devport.toml:3: routes[0]: needs exactly one of service, static or url (has 2)`}},
		{"route unknown service", web + "[[routes]]\nprefix = \"/s\"\nservice = \"wb\"\n", []string{`routes[0].service: "wb" is not a service of this file; did you mean "web"?`}},
		{"bad prefix", "[services.web]\nstack = \"php\"\nprefix = \"api/\"\n", []string{`shop/devport.toml:3: services.web.prefix: "api/" must start with "/"`}},
		{"bad runtime", web + "runtime = \"docker\"\n", []string{`services.web.runtime: "docker" is not a runtime`}},
		{"image without container", web + "image = \"php:8\"\n", []string{`services.web.image: only the container runtime`}},
		{"workers on php", web + "workers = 2\n", []string{`services.web.workers: the php stack has no worker count`}},
		{"php version malformed", web + "php = \"8\"\n", []string{`shop/devport.toml:3: services.web.php: "8" is not a PHP version: use MAJOR.MINOR`}},
		{"php version with patch", web + "php = \"8.3.1\"\n", []string{`services.web.php: "8.3.1" is not a PHP version`}},
		{"php on uvicorn", "[services.api]\nstack = \"uvicorn\"\napp = \"main:app\"\nphp = \"8.2\"\n", []string{`shop/devport.toml:4: services.api.php: only the php stack has a PHP version`}},
		{"bad name", "name = \"My Shop\"\n" + web, []string{`shop/devport.toml:1: name: "My Shop" is not a project name`}},
		{"bad domain", "domains = [\"shop\"]\n" + web, []string{`shop/devport.toml:1: domains[0]: "shop" is not a domain`}},
		{"bad env name", web + "env = { \"A-B\" = \"x\" }\n", []string{`shop/devport.toml:3: services.web.env.A-B: "A-B" is not an environment variable name`}},
		{"reload on php", web + "reload = true\n", []string{`shop/devport.toml:3: services.web.reload: only the Python stacks (uvicorn, gunicorn, wsgi, uwsgi) reload on save`}},
		{"reload on a data service", web + "[services.db]\nstack = \"redis\"\nreload_exclude = [\"x\"]\n", []string{`shop/devport.toml:5: services.db.reload_exclude: a redis service has no reload_exclude: remove it`}},
		{"reload not a bool", "[services.api]\nstack = \"uvicorn\"\napp = \"main:app\"\nreload = \"no\"\n", []string{"shop/devport.toml:4: "}},
		{"bad reload pattern", "[services.api]\nstack = \"uvicorn\"\napp = \"main:app\"\nreload_include = [\"*.graphql\", \"gen[\"]\n", []string{
			`shop/devport.toml:4: services.api.reload_include[1]: "gen[" is not a pattern`}},
		{"reload pattern leaves the folder", "[services.api]\nstack = \"uvicorn\"\napp = \"main:app\"\nreload_exclude = [\"../x\"]\n", []string{
			`services.api.reload_exclude[0]: "../x" leaves the project folder`}},
		{"two problems", "[services.a]\nstack = \"rails\"\n[services.b]\nstack = \"php\"\ndocroot = \"..\"\n", []string{
			"shop/devport.toml:2: services.a.stack", "shop/devport.toml:5: services.b.docroot"}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			_, err := ParseBytes("shop/devport.toml", []byte(tc.src))
			if err == nil {
				t.Fatal("no error")
			}
			var e *Error
			if !errors.As(err, &e) {
				t.Errorf("error is not an *Error: %T %v", err, err)
			}
			for _, w := range tc.want {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("error\n  %v\nlacks\n  %s", err, w)
				}
			}
		})
	}
}

func TestWriteRoundTrip(t *testing.T) {
	f, err := ParseBytes("a.toml", []byte(full))
	if err != nil {
		t.Fatal(err)
	}
	f.Services["web"] = Service{Stack: "php", PHP: "8.3", Env: map[string]string{"Q": "a \"quoted\"\\ value\nwith\ttabs \x01 ü"}}
	out := Write(f)
	if again := Write(f); string(again) != string(out) {
		t.Fatal("Write is not stable")
	}
	g, err := ParseBytes("b.toml", out)
	if err != nil {
		t.Fatalf("%v\n%s", err, out)
	}
	f.lines, g.lines, f.Path, g.Path = nil, nil, "", ""
	if !reflect.DeepEqual(f, g) {
		t.Errorf("round trip changed the file:\n%+v\n%+v\n%s", f, g, out)
	}
}

func TestParseFile(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, FileName)
	if err := os.WriteFile(path, []byte(full), 0o644); err != nil {
		t.Fatal(err)
	}
	if _, err := Parse(path); err != nil {
		t.Fatal(err)
	}
	if _, err := Parse(filepath.Join(dir, "missing.toml")); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("missing file: %v, want os.ErrNotExist", err)
	}
}

// FuzzParse checks that no input panics, and that whatever parses writes
// back to a file that parses to the same thing.
func FuzzParse(f *testing.F) {
	f.Add([]byte(full))
	f.Add([]byte("[services.web]\nstack = \"php\"\n"))
	f.Fuzz(func(t *testing.T, data []byte) {
		m, err := ParseBytes("f.toml", data)
		if err != nil {
			return
		}
		out := Write(m)
		g, err := ParseBytes("g.toml", out)
		if err != nil {
			t.Fatalf("written file does not parse: %v\n%s", err, out)
		}
		m.lines, g.lines, m.Path, g.Path = nil, nil, "", ""
		if !reflect.DeepEqual(normalizeEmpty(m), normalizeEmpty(g)) {
			t.Fatalf("round trip changed the file:\n%+v\n%+v", m, g)
		}
	})
}

// normalizeEmpty treats empty and nil maps and slices alike.
func normalizeEmpty(f File) File {
	if len(f.Domains) == 0 {
		f.Domains = nil
	}
	if len(f.Routes) == 0 {
		f.Routes = nil
	}
	for k, s := range f.Services {
		if len(s.Env) == 0 {
			s.Env = nil
		}
		f.Services[k] = s
	}
	return f
}

func TestParsePHPIni(t *testing.T) {
	src := "[services.web]\nstack = \"php\"\n\n[php.ini]\nmemory_limit = \"1G\"\ndate.timezone = \"Europe/Berlin\"\n\"opcache.enable\" = 0\ndisplay_errors = false\n"
	f, err := ParseBytes("f.toml", []byte(src))
	if err != nil {
		t.Fatal(err)
	}
	want := map[string]string{"memory_limit": "1G", "date.timezone": "Europe/Berlin", "opcache.enable": "0", "display_errors": "Off"}
	if got := f.PHP.Settings(); !maps.Equal(got, want) {
		t.Errorf("Settings = %v, want %v", got, want)
	}
	back, err := ParseBytes("w.toml", Write(f))
	if err != nil {
		t.Fatalf("Write's output does not parse: %v\n%s", err, Write(f))
	}
	if got := back.PHP.Settings(); !maps.Equal(got, want) {
		t.Errorf("after Write: %v, want %v\n%s", got, want, Write(f))
	}
	if _, err := ParseBytes("f.toml", []byte(src+"[php]\nversion = \"8\"\n")); err == nil || !strings.Contains(err.Error(), "php.version") {
		t.Errorf("unknown key in [php]: %v", err)
	}
}
