package export

import (
	"bytes"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/devport/devport/internal/testenv"
	"go.yaml.in/yaml/v3"
)

// nginxEnv is a private nginx prefix for `nginx -t`: a throwaway
// certificate and key, and uwsgi_params. The system nginx is never touched.
type nginxEnv struct {
	dir, cert, key string
}

func newNginxEnv(t testing.TB) nginxEnv {
	t.Helper()
	testenv.Tool(t, "nginx")
	dir := t.TempDir()
	params, err := os.ReadFile("/etc/nginx/uwsgi_params")
	testenv.Need(t, "/etc/nginx/uwsgi_params", err == nil, "apt-get install nginx-light (nginx-common ships it)")
	if err := os.WriteFile(filepath.Join(dir, "uwsgi_params"), params, 0o644); err != nil {
		t.Fatal(err)
	}
	cert, key := selfSigned(t, dir)
	return nginxEnv{dir: dir, cert: cert, key: key}
}

// check runs `nginx -t` on site, an http-context configuration, and
// returns nginx's output and whether it accepted it.
func (e nginxEnv) check(t testing.TB, site []byte) (string, bool) {
	t.Helper()
	f, err := os.CreateTemp(e.dir, "site-*.conf")
	if err != nil {
		t.Fatal(err)
	}
	defer os.Remove(f.Name())
	if _, err := f.Write(site); err != nil {
		t.Fatal(err)
	}
	f.Close()
	main := f.Name() + ".main"
	defer os.Remove(main)
	d := e.dir
	conf := "pid " + d + "/nginx.pid;\nerror_log stderr;\nevents {}\nhttp {\n" +
		"    client_body_temp_path " + d + "/body;\n    proxy_temp_path " + d + "/proxy;\n" +
		"    fastcgi_temp_path " + d + "/fastcgi;\n    uwsgi_temp_path " + d + "/uwsgi;\n" +
		"    scgi_temp_path " + d + "/scgi;\n    include \"" + f.Name() + "\";\n}\n"
	if err := os.WriteFile(main, []byte(conf), 0o644); err != nil {
		t.Fatal(err)
	}
	out, err := exec.Command("nginx", "-t", "-q", "-p", d, "-e", "stderr", "-c", main).CombinedOutput()
	return strings.TrimSpace(string(out)), err == nil
}

// TestNginxCacheControlNoDirectives: a Cache-Control value stays one
// argument of add_header; today `public"; return 302 "https://evil…` closes
// the string and adds a live redirect that nginx -t accepts (issue 11.6).
func TestNginxCacheControlNoDirectives(t *testing.T) {
	env := newNginxEnv(t)
	const evil = `public"; return 302 "https://evil.example/`
	p := Project{Name: "shop", Root: "/home/dev/shop", Domains: []string{"shop.test"},
		Routes: []Route{{Prefix: "/s", Kind: KindStatic, Target: "/home/dev/shop/s", CacheControl: evil}}}
	var b bytes.Buffer
	err := Nginx(&b, p, Options{HTTPSListen: "127.0.0.1:8443", HTTPListen: "127.0.0.1:8080", Cert: env.cert, Key: env.key})
	if err != nil {
		t.Fatalf("Nginx: %v (a writer quotes what it writes, whatever validation let through)", err)
	}
	if out, ok := env.check(t, b.Bytes()); !ok {
		t.Fatalf("nginx -t: %s\n%s", out, b.String())
	}
	ds, err := parseNginx(b.String())
	if err != nil {
		t.Fatal(err)
	}
	var headers []string
	walk(ds, nil, func(d nginxDirective, outer [][]string) {
		if !slices.ContainsFunc(outer, func(a []string) bool { return len(a) == 2 && a[0] == "location" && a[1] == "/s/" }) {
			return
		}
		switch d.Args[0] {
		case "alias", "charset", "charset_types", "expires":
		case "add_header":
			headers = append(headers, strings.Join(d.Args[1:], "|"))
		default:
			t.Errorf("the Cache-Control value became a directive: %s", strings.Join(d.Args, " "))
		}
	})
	if want := "Cache-Control|" + evil; len(headers) != 1 || headers[0] != want {
		t.Errorf("add_header arguments = %q, want %q", headers, want)
	}
}

// TestNginxQuotesPaths: folders with spaces (and nginx's own special
// characters, which validation allows) reach nginx as one argument each,
// and nginx -t accepts the result.
func TestNginxQuotesPaths(t *testing.T) {
	env := newNginxEnv(t)
	spaced := filepath.Join(t.TempDir(), "my certs; {x}")
	if err := os.MkdirAll(spaced, 0o755); err != nil {
		t.Fatal(err)
	}
	cert, key := filepath.Join(spaced, "cert.pem"), filepath.Join(spaced, "key.pem")
	for from, to := range map[string]string{env.cert: cert, env.key: key} {
		data, err := os.ReadFile(from)
		if err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(to, data, 0o600); err != nil {
			t.Fatal(err)
		}
	}
	p := Project{Name: "blog", Root: "/home/dev/my blog", Domains: []string{"blog.test"},
		Services: []Service{{Name: "web", Stack: "uwsgi", App: "app:app", Prefix: "/", Network: "unix",
			Address: "/run/my devport/blog-web/web.sock", Protocol: ProtocolUWSGI, Public: "/home/dev/my blog/public"}},
		Routes: []Route{{Prefix: "/static", Kind: KindStatic, Target: "/home/dev/my blog/static;{x}#y", CacheControl: "no-cache"},
			{Prefix: "/ext", Kind: KindURL, Target: "http://127.0.0.1:7700/base;v=1"}}}
	var b bytes.Buffer
	if err := Nginx(&b, p, Options{HTTPSListen: "127.0.0.1:8443", HTTPListen: "127.0.0.1:8080", Cert: cert, Key: key}); err != nil {
		t.Fatal(err)
	}
	if out, ok := env.check(t, b.Bytes()); !ok {
		t.Fatalf("nginx -t refused folders with spaces: %s\n%s", out, b.String())
	}
	ds, err := parseNginx(b.String())
	if err != nil {
		t.Fatal(err)
	}
	want := map[string]string{
		"alias":               "/home/dev/my blog/static;{x}#y/",
		"root":                "/home/dev/my blog/public",
		"server":              "unix:/run/my devport/blog-web/web.sock",
		"ssl_certificate":     cert,
		"ssl_certificate_key": key,
		"proxy_pass":          "http://127.0.0.1:7700/base;v=1",
	}
	walk(ds, nil, func(d nginxDirective, _ [][]string) {
		if w, ok := want[d.Args[0]]; ok {
			if len(d.Args) != 2 || d.Args[1] != w {
				t.Errorf("%s arguments = %q, want [%q]", d.Args[0], d.Args[1:], w)
			}
			delete(want, d.Args[0])
		}
	})
	for k := range want {
		t.Errorf("no %s directive", k)
	}
}

// composeCommand renders p's compose file and returns the sh -c script of
// service name as sh receives it: compose turns "$$" into "$" first.
func composeCommand(t *testing.T, p Project, name string) string {
	t.Helper()
	var b bytes.Buffer
	if err := Compose(&b, p, Options{}); err != nil {
		t.Fatal(err)
	}
	var doc struct {
		Services map[string]struct {
			Command []string `yaml:"command"`
		} `yaml:"services"`
	}
	if err := yaml.Unmarshal(b.Bytes(), &doc); err != nil {
		t.Fatalf("docker-compose.yml does not parse: %v\n%s", err, b.String())
	}
	cmd := doc.Services[name].Command
	if len(cmd) != 3 || cmd[0] != "sh" || cmd[1] != "-c" {
		t.Fatalf("command of %s = %q", name, cmd)
	}
	return strings.ReplaceAll(cmd[2], "$$", "$")
}

// runScript runs script with sh -c in a temporary folder, with python3 and
// uwsgi replaced by stubs that record their arguments (runScriptWith). It
// returns the folder and the recorded arguments.
func runScript(t *testing.T, script string) (string, []string) {
	t.Helper()
	return runScriptWith(t, testenv.Tool(t, "sh"), script)
}

// TestComposeQuotesShell: a prefix or app in compose's sh -c script stays
// one argument; today prefix="/api$(touch pwned)" runs touch (issue 11.6).
func TestComposeQuotesShell(t *testing.T) {
	const prefix = "/api$(touch pwned)"
	const app = "main:app$(touch pwned)"
	tests := []struct {
		name string
		svc  Service
		want [][]string // argument pairs that must be recorded
	}{
		{"uvicorn root path", Service{Name: "api", Stack: "uvicorn", App: "main:app", Prefix: prefix, Address: "x"},
			[][]string{{"--root-path", prefix}}},
		{"quotes and backquotes", Service{Name: "api", Stack: "uvicorn", App: "main:app", Prefix: "/a'b`touch pwned`\\", Address: "x"},
			[][]string{{"--root-path", "/a'b`touch pwned`\\"}}},
		{"uvicorn app", Service{Name: "api", Stack: "uvicorn", App: app, Address: "x"},
			[][]string{{app, "--host"}}},
		{"gunicorn app", Service{Name: "api", Stack: "gunicorn", App: app, Prefix: prefix, Address: "x"},
			[][]string{{"*", app}}},
		{"wsgi app", Service{Name: "api", Stack: "wsgi", App: app, Address: "x"},
			[][]string{{"*", app}}},
		{"uwsgi mount", Service{Name: "api", Stack: "uwsgi", App: "main:app", Prefix: prefix, Address: "x", Protocol: ProtocolUWSGI},
			[][]string{{"--mount", prefix + "=main:app"}}},
		{"requirements file", Service{Name: "api", Stack: "uvicorn", App: "main:app", Address: "x", Requirements: "r.txt;touch pwned"},
			[][]string{{"-r", "r.txt;touch pwned"}}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			p := Project{Name: "shop", Root: "/home/dev/shop", Domains: []string{"shop.test"}, Services: []Service{tc.svc}}
			dir, args := runScript(t, composeCommand(t, p, "api"))
			if _, err := os.Stat(filepath.Join(dir, "pwned")); err == nil {
				t.Errorf("the script ran an injected command: pwned exists")
			}
			for _, pair := range tc.want {
				i := slices.Index(args, pair[0])
				if i < 0 || i+1 >= len(args) || args[i+1] != pair[1] {
					t.Errorf("arguments %q lack %q", args, pair)
				}
			}
		})
	}
}

// TestComposeMountsWithColon: compose's short volume syntax splits on
// ":", so a mounted folder holding one would mount the wrong path; the
// export says so instead of writing it. (A colon in the project folder
// is fine while the layout lies in it: the mount is "./".)
func TestComposeMountsWithColon(t *testing.T) {
	tests := []struct {
		name string
		p    Project
		o    Options
	}{
		{"project folder outside the layout's", Project{Name: "shop", Root: "/home/dev/a:b", Domains: []string{"shop.test"},
			Services: []Service{{Name: "web", Stack: "php", Prefix: "/", Address: "x"}}},
			Options{ComposeFile: "/home/dev/deploy/docker-compose.yml"}},
		{"static folder", Project{Name: "shop", Root: "/home/dev/shop", Domains: []string{"shop.test"},
			Services: []Service{{Name: "web", Stack: "php", Prefix: "/", Address: "x"}},
			Routes:   []Route{{Prefix: "/s", Kind: KindStatic, Target: "/home/dev/shop/st:atic"}}}, Options{}},
		{"public folder", Project{Name: "shop", Root: "/home/dev/shop", Domains: []string{"shop.test"},
			Services: []Service{{Name: "web", Stack: "uvicorn", App: "main:app", Prefix: "/", Address: "x", Public: "/srv/p:ub"}}}, Options{}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			var b bytes.Buffer
			err := Compose(&b, tc.p, tc.o)
			if err == nil || !strings.Contains(err.Error(), `":"`) {
				t.Errorf("Compose = %v, want an error about \":\"; wrote:\n%s", err, b.String())
			}
		})
	}
}

// TestYAMLScalar: every value reads back from YAML as the same string.
// The fuzzer found "000000:" (an image the charset allows) breaking the
// compose file when it was written plain.
func TestYAMLScalar(t *testing.T) {
	for _, s := range []string{"web", "api-2", "php:8.3-apache", "registry.example:5000/team/php@sha256:abcd",
		"000000:", "a:", "1", "1.0", "1e3", "0x1f", "12:30", "2001-12-14", "true", "yes", "no", "on", "off", "y", "n", "null", "~",
		"Yes", "NULL", "-a", "a b", "a #b", "'a'", `"a"`, "$HOME", "a\nb", "\u2028", "é", ""} {
		t.Run(s, func(t *testing.T) {
			q, err := yamlScalar(s)
			if err != nil {
				t.Fatal(err)
			}
			var doc map[string]any
			if err := yaml.Unmarshal([]byte("k: "+q+"\n"+q+": v\n"), &doc); err != nil {
				t.Fatalf("%s does not parse: %v", q, err)
			}
			// compose reads "$$" as "$".
			want := strings.ReplaceAll(s, "$", "$$")
			if got, ok := doc["k"].(string); !ok || got != want {
				t.Errorf("value %s reads back as %#v, want %q", q, doc["k"], want)
			}
			if _, ok := doc[want]; !ok {
				t.Errorf("key %s does not read back as %q: %#v", q, want, doc)
			}
		})
	}
	if _, err := yamlScalar("\xee"); err == nil {
		t.Error("yamlScalar accepted bytes that are not UTF-8")
	}
}
