package export

import (
	"bytes"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"
	"unicode/utf8"

	"github.com/devport/devport/internal/pathprefix"
	"github.com/devport/devport/internal/shellquote"
	"github.com/devport/devport/internal/stackdef"
	"github.com/devport/devport/internal/testenv"
	"github.com/devport/devport/internal/valuerule"
	"github.com/devport/devport/store"
	"go.yaml.in/yaml/v3"
)

// The fuzz targets feed random values through the store's validation into
// each writer, as the design asks ("one validator per kind of value, used
// by every writer"): values the store refuses are skipped, and every value
// it accepts must give output the writer's own checker accepts (nginx -t,
// a YAML parser, sh), carrying the value through unchanged. Their seeds,
// known-hostile values among them, run with go test; go test -fuzz=FuzzX
// ./export explores further.

// FuzzNginxExport: a static route (prefix, folder, Cache-Control), a url
// route and a Python service with a public folder and a unix socket in the
// folder, through Nginx and nginx -t.
func FuzzNginxExport(f *testing.F) {
	seeds := []struct{ prefix, folder, cache, urlPath string }{
		{"/static", "/home/dev/shop/public/static", "public, max-age=2592000", "/base"},
		{"/assets/v1.2_~-x", "/home/dev/my shop/st;a{t}i#c's", "no-cache", "/a;b=c/%20d"},
		{"/s", "/home/dev/café/ñ", "max-age=0,must-revalidate, immutable", ""},
		{"/s", "/srv/a'b (c) & d*?[e]", "private", "/x~y"},
		{"/s", "/srv/" + strings.Repeat("d", 90), "", ""}, // a socket path of 108 bytes: too long
		{"/s", "/srv/" + strings.Repeat("d", 89), "", ""}, // 107 bytes: the longest
		// Refused by the store, skipped: each once broke a writer.
		{"/p(y", "/srv/s", "", ""},
		{"/py${X}", "/srv/s", "", ""},
		{"/api$(id>/tmp/x)", "/srv/s", "", ""},
		{"/a=b", "/srv/s", "", ""},
		{"/s", `/srv/a"b`, "", ""},
		{"/s", "/srv/a\nb", "", ""},
		{"/s", "/srv/$document_root", "", ""},
		{"/s", "/srv/s", `public"; return 302 "https://evil.example/`, ""},
		{"/s", "/srv/s", "public; x", ""},
		{"/s", "/srv/s", "", "/a b"},
		{"/s", "/srv/s", "", `/"`},
		{"/s", "/srv/s", "", "/$host"},
	}
	for _, s := range seeds {
		f.Add(s.prefix, s.folder, s.cache, s.urlPath)
	}
	env := newNginxEnv(f)
	f.Fuzz(func(t *testing.T, prefix, folder, cache, urlPath string) {
		// Absolute values, so that more random inputs pass validation.
		prefix, folder, urlPath = absolute(prefix), absolute(folder), absolute(urlPath)
		url := "http://127.0.0.1:7700" + urlPath
		if pathprefix.Problem(prefix) != "" || clean(prefix) == "/" || clean(prefix) == "/u" ||
			store.ValidateFolder("folder", folder) != nil || store.ValidateCacheControl(cache) != nil || store.ValidateURL("url", url) != nil {
			t.Skip("refused by validation")
		}
		folder = filepath.Clean(folder) // as the store keeps it
		public, socket := filepath.Join(folder, "public"), filepath.Join(folder, "run", "web.sock")
		p := Project{Name: "shop", Root: folder, Domains: []string{"shop.test"},
			Services: []Service{{Name: "web", Stack: stackdef.Uvicorn, App: "main:app", Prefix: "/", Network: "unix",
				Address: socket, Public: public}},
			Routes: []Route{{Prefix: prefix, Kind: KindStatic, Target: folder, CacheControl: cache},
				{Prefix: "/u", Kind: KindURL, Target: url}}}
		var b bytes.Buffer
		err := Nginx(&b, p, Options{HTTPSListen: "127.0.0.1:8443", HTTPListen: "127.0.0.1:8080", Cert: env.cert, Key: env.key})
		if len(socket) > maxSocketPath {
			// The socket is devport's (its run folder), not a value the
			// store validates: too long for any socket, it is an error.
			if err == nil || !strings.Contains(err.Error(), "unix socket address") {
				t.Fatalf("Nginx with a %d-byte socket path: %v, want an error", len(socket), err)
			}
			return
		}
		if err != nil {
			t.Fatalf("Nginx refused values the store accepts: %v", err)
		}
		ds, err := parseNginx(b.String())
		if err != nil {
			t.Fatalf("%v\n%s", err, b.String())
		}
		_, rest := cacheControl(cache)
		want := map[string][]string{
			"alias":      {strings.TrimSuffix(folder, "/") + "/"},
			"root":       {public},
			"server":     {"unix:" + socket},
			"proxy_pass": {strings.TrimSuffix(url, "/"), "http://shop_web"}, // a url route drops a trailing "/"
		}
		if rest != "" {
			want["add_header"] = []string{"Cache-Control", rest, "Cache-Control", "no-cache"}
		}
		got := map[string][]string{}
		walk(ds, nil, func(d nginxDirective, outer [][]string) {
			if _, ok := want[d.Args[0]]; ok {
				got[d.Args[0]] = append(got[d.Args[0]], d.Args[1:]...)
			}
		})
		for k, w := range want {
			g := slices.Compact(got[k])
			if k == "add_header" {
				g = got[k]
			}
			for _, v := range w {
				if !slices.Contains(g, v) {
					t.Errorf("%s arguments %q lack %q", k, g, v)
				}
			}
		}
		if out, ok := env.check(t, b.Bytes()); !ok {
			t.Fatalf("nginx -t: %s\n%s", out, b.String())
		}
	})
}

// FuzzComposeExport: a Python service (prefix, app, requirements, image)
// in a project folder with a static route, through ComposeLayout; the
// compose file must parse as YAML, keep every folder, and each service's
// sh -c script must parse (sh -n) and, run with stub servers, hand the
// values to them as single arguments.
func FuzzComposeExport(f *testing.F) {
	seeds := []struct {
		stack                                  byte
		prefix, app, root, static, reqs, image string
	}{
		{0, "/api", "main:app", "/home/dev/shop", "/home/dev/shop/public", "requirements.txt", ""},
		{1, "/ws", "live.app:app", "/home/dev/my shop", "/home/dev/my shop/st a'tic", "req s.txt", "python:3.12-slim"},
		{2, "/", "wsgi:application", "/home/dev/café", "/srv/elsewhere", "", "registry.example:5000/py@sha256:abcd"},
		{3, "/a.b_c~d-e", "app:app", "/srv/x;y{z}#w", "/srv/x;y{z}#w/s", "r;touch pwned", ""},
		{0, "/api", "main:app", "/home/dev/shop", "/home/dev/shop/s", "$(touch pwned)`touch pwned`'\"\\", ""},
		// Refused by the store, skipped.
		{0, "/api$(touch pwned)", "main:app", "/srv/s", "/srv/s/p", "", ""},
		{3, "/a=b", "app:app", "/srv/s", "/srv/s/p", "", ""},
		{1, "/api", "main:app;touch pwned", "/srv/s", "/srv/s/p", "", ""},
		{0, "/api", "main:app", `/srv/a"b`, "/srv/s/p", "", ""},
		{0, "/api", "main:app", "/srv/s", "/srv/s/p", "", "php$(id)"},
	}
	for _, s := range seeds {
		f.Add(s.stack, s.prefix, s.app, s.root, s.static, s.reqs, s.image)
	}
	sh := testenv.Tool(f, "sh")
	stacks := []string{stackdef.Uvicorn, stackdef.Gunicorn, stackdef.WSGI, stackdef.UWSGI}
	f.Fuzz(func(t *testing.T, stack byte, prefix, app, root, static, reqs, image string) {
		prefix, root, static = absolute(prefix), absolute(root), absolute(static)
		if pathprefix.Problem(prefix) != "" || clean(prefix) == "/zz-static" || app == "" || store.ValidateApp(app) != nil ||
			store.ValidateFolder("folder", root) != nil || store.ValidateFolder("folder", static) != nil || store.ValidateImage(image) != nil {
			t.Skip("refused by validation")
		}
		if strings.ContainsAny(root+static, ":") {
			t.Skip(`a mounted folder with ":" is refused by the compose export (TestComposeMountsWithColon)`)
		}
		if strings.ContainsRune(reqs, 0) {
			t.Skip("no argument holds NUL") // devport names the file; it is never user input
		}
		root, static = filepath.Clean(root), filepath.Clean(static)
		svc := Service{Name: "api", Stack: stacks[int(stack)%len(stacks)], App: app, Prefix: prefix, Address: "x",
			Requirements: reqs, Image: image}
		if svc.Stack == stackdef.UWSGI {
			svc.Protocol = ProtocolUWSGI
		}
		p := Project{Name: "shop", Root: root, Domains: []string{"shop.test"}, Services: []Service{svc},
			Routes: []Route{{Prefix: "/zz-static", Kind: KindStatic, Target: static}}}
		files, err := ComposeLayout(p, Options{})
		if !utf8.ValidString(reqs) {
			// Not a value the store keeps (devport names the file): the
			// writer must refuse it rather than write another name.
			if err == nil || !strings.Contains(err.Error(), "not UTF-8") {
				t.Fatalf("ComposeLayout with requirements %q: %v, want an error", reqs, err)
			}
			return
		}
		if err != nil {
			t.Fatalf("ComposeLayout refused values the store accepts: %v", err)
		}
		var doc struct {
			Services map[string]struct {
				Image   string   `yaml:"image"`
				Command []string `yaml:"command"`
				Volumes []string `yaml:"volumes"`
			} `yaml:"services"`
		}
		if err := yaml.Unmarshal(files[0].Data, &doc); err != nil {
			t.Fatalf("docker-compose.yml does not parse: %v\n%s", err, files[0].Data)
		}
		// compose turns "$$" into "$" before anything else reads a value.
		unescape := func(s string) string { return strings.ReplaceAll(s, "$$", "$") }
		mounts := append(slices.Clone(doc.Services["nginx"].Volumes), doc.Services["api"].Volumes...)
		for target, want := range map[string]string{"/srv/static/zz-static": static, pythonAppDir: root} {
			found := false
			for _, m := range mounts {
				src, rest, _ := strings.Cut(unescape(m), ":")
				if !strings.HasPrefix(rest, target) {
					continue
				}
				found = true
				if !filepath.IsAbs(src) {
					src = filepath.Join(root, src)
				}
				if filepath.Clean(src) != want {
					t.Errorf("volume %q mounts %s, want %s", m, src, want)
				}
			}
			if !found {
				t.Errorf("no volume for %s in %q", target, mounts)
			}
		}
		if got := doc.Services["api"].Image; image != "" && got != image {
			t.Errorf("image = %q, want %q", got, image)
		}
		cmd := doc.Services["api"].Command
		if len(cmd) != 3 || cmd[0] != "sh" || cmd[1] != "-c" {
			t.Fatalf("command = %q", cmd)
		}
		script := unescape(cmd[2])
		if out, err := exec.Command(sh, "-n", "-c", script).CombinedOutput(); err != nil {
			t.Fatalf("sh -n: %v\n%s\nscript: %s", err, out, script)
		}
		dir, args := runScriptWith(t, sh, script)
		if _, err := os.Stat(filepath.Join(dir, "pwned")); err == nil {
			t.Errorf("the script ran an injected command: %s", script)
		}
		wantArgs := []string{app}
		if svc.Stack == stackdef.UWSGI && clean(prefix) != "/" {
			wantArgs = []string{clean(prefix) + "=" + app}
		}
		if svc.Stack == stackdef.Uvicorn && clean(prefix) != "/" {
			wantArgs = append(wantArgs, clean(prefix))
		}
		if reqs != "" {
			wantArgs = append(wantArgs, reqs)
		}
		for _, w := range wantArgs {
			if !slices.Contains(args, w) {
				t.Errorf("the servers got %q, not %q as one argument; script: %s", args, w, script)
			}
		}
	})
}

// absolute is s with a leading "/", which random inputs mostly lack.
func absolute(s string) string {
	if strings.HasPrefix(s, "/") {
		return s
	}
	return "/" + s
}

// runScriptWith is runScript for fuzzing: sh given, and arguments read
// back as NUL-separated so that a line break in one stays in it.
func runScriptWith(t *testing.T, sh, script string) (string, []string) {
	t.Helper()
	dir, bin := t.TempDir(), t.TempDir()
	args := filepath.Join(dir, "args")
	stub := "#!/bin/sh\nfor a in \"$@\"; do printf '%s\\0' \"$a\" >> " + shellquote.Quote(args) + "; done\n"
	for _, name := range []string{"python3", "uwsgi"} {
		if err := os.WriteFile(filepath.Join(bin, name), []byte(stub), 0o755); err != nil {
			t.Fatal(err)
		}
	}
	cmd := exec.Command(sh, "-c", script)
	cmd.Dir = dir
	cmd.Env = []string{"PATH=" + bin + ":/usr/bin:/bin", "HOME=" + dir}
	cmd.WaitDelay = 5 * time.Second
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("sh -c: %v\n%s\nscript: %s", err, out, script)
	}
	data, err := os.ReadFile(args)
	if err != nil {
		t.Fatal(err)
	}
	return dir, strings.Split(strings.TrimSuffix(string(data), "\x00"), "\x00")
}

// FuzzComposeData: a database's password, version and image through the
// store's validation into the compose layout: the file must parse as
// YAML, the image must get the password unchanged (as must the web
// services, in their variables), the image must be the one given or the
// official one of the version, and the healthcheck script must run none
// of it. Passwords are devport's own (rand.Text), never validated, so the
// writer takes any: it refuses only control characters and bytes that are
// not UTF-8, with an error.
func FuzzComposeData(f *testing.F) {
	for _, pw := range hostilePasswords {
		f.Add(pw, "", "")
	}
	f.Add("KXJ4Q2ZKN3LYB7WJ5SJQ6V3XUA", "10.11", "")
	f.Add("pw", "11", "registry.example:5000/mariadb@sha256:abcd")
	f.Add("pw", "11.4-noble", "")
	// Refused by the store, skipped.
	f.Add("pw", "11; touch pwned", "")
	f.Add("pw", "", "mariadb$(id)")
	f.Add("pw", ".11", "")
	sh := testenv.Tool(f, "sh")
	f.Fuzz(func(t *testing.T, pw, version, image string) {
		if valuerule.Version(version) != "" || store.ValidateImage(image) != nil {
			t.Skip("refused by validation")
		}
		d := DataService{Name: "db", Stack: stackdef.MariaDB, Version: version, Image: image, Database: "shop", User: "shop", Password: pw}
		p := Project{Name: "shop", Root: "/home/dev/shop", Domains: []string{"shop.test"},
			Services: []Service{{Name: "web", Stack: stackdef.PHP, Prefix: "/", Address: "x", Env: []string{"DB_PASSWORD=" + pw}}},
			Data:     []DataService{d}}
		var b bytes.Buffer
		err := Compose(&b, p, Options{})
		switch {
		case pw == "":
			if err == nil || !strings.Contains(err.Error(), "needs a password") {
				t.Fatalf("Compose without a password: %v", err)
			}
			return
		case !utf8.ValidString(pw) || strings.ContainsFunc(pw, func(r rune) bool { return r < 0x20 || r == 0x7f }):
			if err == nil {
				t.Fatalf("Compose wrote a password with a control character or not UTF-8 (%q):\n%s", pw, b.String())
			}
			return
		case err != nil:
			t.Fatalf("Compose refused values the store accepts: %v", err)
		}
		doc, raw := parseCompose(t, p)
		db := doc.Services["db"]
		if !slices.Contains(db.Environment, "MARIADB_PASSWORD="+pw) || !slices.Contains(doc.Services["web"].Environment, "DB_PASSWORD="+pw) {
			t.Fatalf("the password %q did not arrive unchanged:\n%s", pw, raw)
		}
		want := image
		if want == "" {
			want = stackdef.DefaultMariaDBImage
			if version != "" {
				want = "mariadb:" + version
			}
		}
		if db.Image != want {
			t.Errorf("image %q, want %q", db.Image, want)
		}
		runHealthcheck(t, sh, db.Healthcheck.Test[1], pw)
	})
}
