//go:build unix

package stacks

import (
	"context"
	"errors"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/devport/devport/internal/stackdef"
)

// phpSite is a front-controller app: every route lands in index.php, which
// prints what PHP sees.
var phpSite = map[string]string{
	"public/index.php": `<?php
header('Content-Type: text/plain');
echo "front controller\n";
echo "uri=", $_SERVER['REQUEST_URI'], "\n";
echo "https=", $_SERVER['HTTPS'] ?? '', "\n";
echo "remote=", $_SERVER['REMOTE_ADDR'], "\n";
echo "env=", getenv('DEVPORT_TEST_VAR'), "\n";
`,
	"public/.htaccess": `RewriteEngine On
RewriteCond %{REQUEST_FILENAME} !-f
RewriteRule ^ index.php [L]
`,
	"public/hello.txt":  "static file\n",
	"public/upload.php": uploadPage,
	"composer.json":     "{}\n",
}

func TestApacheServes(t *testing.T) {
	requireStack(t, stackdef.PHP)
	spec := testSpec(t, stackdef.PHP, phpSite)
	spec.Env = []string{"DEVPORT_TEST_VAR=from-spec"}
	r := mustRunner(t, spec)
	began := time.Now()
	up := startRunner(t, r)
	t.Logf("apache ready on %s after %s", up, time.Since(began).Round(time.Millisecond))
	if up.Network != "tcp" || !strings.HasPrefix(up.Address, "127.0.0.1:") {
		t.Fatalf("upstream = %+v, want tcp on 127.0.0.1", up)
	}

	tests := []struct {
		name   string
		path   string
		header http.Header
		status int
		want   []string // substrings of the body
		reject []string
	}{
		{name: "php output", path: "/", status: 200, want: []string{"front controller", "uri=/\n", "env=from-spec"}},
		{name: "htaccess rewrite to index.php", path: "/some/route?x=1", status: 200, want: []string{"front controller", "uri=/some/route?x=1"}},
		{name: "static file served as is", path: "/hello.txt", status: 200, want: []string{"static file"}, reject: []string{"front controller"}},
		{name: "https on with X-Forwarded-Proto https", path: "/", header: http.Header{"X-Forwarded-Proto": {"https"}}, status: 200, want: []string{"https=on\n"}},
		{name: "https on after the rewrite", path: "/some/route", header: http.Header{"X-Forwarded-Proto": {"https"}}, status: 200, want: []string{"uri=/some/route", "https=on\n"}},
		{name: "https off without the header", path: "/", status: 200, want: []string{"https=\n"}},
		{name: "https off with X-Forwarded-Proto http", path: "/", header: http.Header{"X-Forwarded-Proto": {"http"}}, status: 200, want: []string{"https=\n"}},
		{name: "remote addr from X-Forwarded-For", path: "/", header: http.Header{"X-Forwarded-For": {"203.0.113.7"}}, status: 200, want: []string{"remote=203.0.113.7\n"}},
		{name: "remote addr without X-Forwarded-For", path: "/", status: 200, want: []string{"remote=127.0.0.1\n"}},
		{name: "htaccess is not served", path: "/.htaccess", status: 403},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			status, body := get(t, up, tc.path, tc.header)
			if status != tc.status {
				t.Fatalf("status = %d, want %d; body:\n%s", status, tc.status, body)
			}
			for _, w := range tc.want {
				if !strings.Contains(body, w) {
					t.Errorf("body lacks %q:\n%s", w, body)
				}
			}
			for _, w := range tc.reject {
				if strings.Contains(body, w) {
					t.Errorf("body has %q:\n%s", w, body)
				}
			}
		})
	}

	t.Run("probe token only for the probe", func(t *testing.T) {
		tr := probeClient(up)
		defer tr.CloseIdleConnections()
		resp, err := tr.Get("http://shop.test/")
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if v := resp.Header.Get(probeTokenHeader); v != "" {
			t.Errorf("a normal request got %s: %q", probeTokenHeader, v)
		}
	})

	t.Run("access log lands in the service log", func(t *testing.T) {
		b, err := os.ReadFile(spec.LogPath)
		if err != nil {
			t.Fatal(err)
		}
		if !strings.Contains(string(b), `"GET /some/route?x=1 HTTP/1.1" 200`) {
			t.Errorf("log lacks the access line:\n%s", b)
		}
		if strings.Contains(string(b), probeUserAgent) {
			t.Errorf("log has readiness probes:\n%s", b)
		}
	})
}

func TestApacheConfigSyntax(t *testing.T) {
	requireStack(t, stackdef.PHP)
	tests := []struct {
		name   string
		asRoot bool
		docDir string // "" = the project folder (no public/)
		want   []string
		reject []string
	}{
		{name: "as root", asRoot: true, docDir: "public", want: []string{"User nobody", "/project/public\""}},
		{name: "as a user", asRoot: false, reject: []string{"\nUser ", "\nGroup "}},
	}
	if os.Geteuid() != 0 {
		tests = tests[1:] // nobody's checks need root to mean anything
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			files := map[string]string{"index.php": "<?php echo 1;"}
			if tc.docDir != "" {
				files = map[string]string{tc.docDir + "/index.php": "<?php echo 1;"}
			}
			spec := testSpec(t, stackdef.PHP, files)
			if err := spec.validate(); err != nil {
				t.Fatal(err)
			}
			a := newApache(spec, systemTools())
			a.asRoot = tc.asRoot
			l, err := a.prepare(t.Context(), 0)
			if err != nil {
				t.Fatal(err)
			}
			conf, err := os.ReadFile(a.confPath())
			if err != nil {
				t.Fatal(err)
			}
			for _, w := range append(tc.want, "Listen "+l.upstream.Address, "LoadModule php_module", "ServerName web.shop") {
				if !strings.Contains(string(conf), w) {
					t.Errorf("config lacks %q:\n%s", w, conf)
				}
			}
			for _, w := range tc.reject {
				if strings.Contains(string(conf), w) {
					t.Errorf("config has %q", w)
				}
			}
			out, err := exec.CommandContext(t.Context(), l.path, "-t", "-f", a.confPath()).CombinedOutput()
			if err != nil || !strings.Contains(string(out), "Syntax OK") {
				t.Fatalf("apache2 -t: %v\n%s", err, out)
			}
			if strings.Contains(string(conf), "/etc/apache2") {
				t.Error("config refers to /etc/apache2")
			}
		})
	}
}

// busyPort binds a loopback port for the test's lifetime. With serveHTTP,
// a foreign HTTP server answers there (so a probe gets a 200, without the
// token); otherwise connections are accepted by the kernel and never answered.
func busyPort(t *testing.T, serveHTTP bool) int {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { l.Close() })
	if serveHTTP {
		srv := &http.Server{Handler: http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
			w.Write([]byte("someone else"))
		})}
		go srv.Serve(l)
		t.Cleanup(func() { srv.Close() })
	}
	return l.Addr().(*net.TCPAddr).Port
}

func TestApachePortTaken(t *testing.T) {
	requireStack(t, stackdef.PHP)
	tests := []struct {
		name      string
		busyTimes int  // how many attempts get the busy port
		serveHTTP bool // another HTTP server holds the port
		wantStart bool
	}{
		{name: "retries once on another port", busyTimes: 1, wantStart: true},
		{name: "another HTTP server is not mistaken for apache", busyTimes: 1, serveHTTP: true, wantStart: true},
		{name: "gives up after the retry", busyTimes: 2, wantStart: false},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			spec := testSpec(t, stackdef.PHP, phpSite)
			if err := spec.validate(); err != nil {
				t.Fatal(err)
			}
			busy := busyPort(t, tc.serveHTTP)
			a := newApache(spec, systemTools())
			var attempts []int
			a.freePort = func(ctx context.Context, attempt int) (int, error) {
				attempts = append(attempts, attempt)
				if attempt < tc.busyTimes {
					return busy, nil
				}
				return loopbackPort(ctx, attempt)
			}
			r := newProcRunner(spec, a)
			t.Cleanup(func() { stopRunner(t, r) })
			up, err := r.Start(t.Context())
			if len(attempts) != 2 {
				t.Errorf("attempts = %v, want 2", attempts)
			}
			if tc.wantStart {
				if err != nil {
					t.Fatalf("Start: %v", err)
				}
				if up.Address == net.JoinHostPort("127.0.0.1", strconv.Itoa(busy)) {
					t.Fatalf("started on the busy port %d", busy)
				}
				if status, body := get(t, up, "/", nil); status != 200 || !strings.Contains(body, "front controller") {
					t.Fatalf("GET / = %d %s", status, body)
				}
				return
			}
			var se *StartError
			if !errors.As(err, &se) {
				t.Fatalf("Start error = %v (%T), want *StartError", err, err)
			}
			msg := se.Error()
			t.Logf("StartError:\n%s", msg)
			if !strings.HasPrefix(msg, "apache2 exited at start: exit status 1\n  ") {
				t.Errorf("message does not start with the command and status:\n%s", msg)
			}
			if !strings.Contains(strings.Join(se.Tail, "\n"), "AH00072") {
				t.Errorf("tail lacks AH00072: %q", se.Tail)
			}
			if len(se.Tail) > tailLines {
				t.Errorf("tail has %d lines, want at most %d", len(se.Tail), tailLines)
			}
			if strings.Contains(strings.Join(se.Tail, "\n"), "--- devport") {
				t.Errorf("tail reaches back before this attempt: %q", se.Tail)
			}
			if !strings.Contains(se.Command, "-f "+filepath.Join(spec.RunDir, "httpd.conf")+" -DFOREGROUND") {
				t.Errorf("Command = %q", se.Command)
			}
		})
	}
}

func TestApacheDocRoot(t *testing.T) {
	requireStack(t, stackdef.PHP)
	tests := []struct {
		name     string
		files    map[string]string
		docRoot  string // relative to the project; "" = default
		private  bool   // chmod the document root 0700
		rootOnly bool
		wantErr  error
		wantMsg  string
		wantBody string
	}{
		{name: "project folder without public", files: map[string]string{"index.php": "<?php echo 'top';"}, wantBody: "top"},
		{name: "public preferred", files: map[string]string{"index.php": "<?php echo 'top';", "public/index.php": "<?php echo 'pub';"}, wantBody: "pub"},
		{name: "explicit document root", files: map[string]string{"web/index.php": "<?php echo 'web';"}, docRoot: "web", wantBody: "web"},
		{name: "missing document root", files: map[string]string{"index.php": ""}, docRoot: "nope", wantMsg: "does not exist"},
		{name: "unreadable by nobody", files: map[string]string{"secret/index.php": ""}, docRoot: "secret", private: true, rootOnly: true,
			wantErr: ErrNotReadable, wantMsg: "chmod o+rx"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if tc.rootOnly && os.Geteuid() != 0 {
				t.Skip("apache switches to nobody only when devport runs as root")
			}
			spec := testSpec(t, stackdef.PHP, tc.files)
			if tc.docRoot != "" {
				spec.DocRoot = filepath.Join(spec.Dir, tc.docRoot)
			}
			if tc.private {
				if err := os.Chmod(spec.DocRoot, 0o700); err != nil {
					t.Fatal(err)
				}
			}
			r := mustRunner(t, spec)
			if tc.wantBody != "" {
				up := startRunner(t, r)
				if _, body := get(t, up, "/", nil); body != tc.wantBody {
					t.Fatalf("body = %q, want %q", body, tc.wantBody)
				}
				return
			}
			_, err := r.Start(t.Context())
			if err == nil {
				stopRunner(t, r)
				t.Fatal("Start succeeded")
			}
			t.Logf("error: %v", err)
			if tc.wantErr != nil && !errors.Is(err, tc.wantErr) {
				t.Errorf("error %v is not %v", err, tc.wantErr)
			}
			if !strings.Contains(err.Error(), tc.wantMsg) || !strings.Contains(err.Error(), spec.DocRoot) {
				t.Errorf("error %q lacks %q or the path %q", err, tc.wantMsg, spec.DocRoot)
			}
			if err := r.Stop(t.Context()); err != nil {
				t.Errorf("Stop after a failed Start: %v", err)
			}
			if fi, err := os.Stat(spec.DocRoot); err == nil && tc.private && fi.Mode().Perm() != 0o700 {
				t.Errorf("document root mode changed to %s", fi.Mode().Perm())
			}
		})
	}
}

func TestPHPModuleName(t *testing.T) {
	tests := []struct{ path, want string }{
		{"/usr/lib/apache2/modules/libphp8.2.so", "php_module"},
		{"/usr/lib/apache2/modules/libphp7.4.so", "php7_module"},
		{"/usr/lib/apache2/modules/libphp5.so", "php5_module"},
		{"/usr/lib/apache2/modules/libphp.so", "php_module"},
	}
	for _, tc := range tests {
		t.Run(filepath.Base(tc.path), func(t *testing.T) {
			if got := phpModuleName(tc.path); got != tc.want {
				t.Errorf("phpModuleName = %q, want %q", got, tc.want)
			}
		})
	}
}
