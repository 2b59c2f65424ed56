package e2e

import (
	"bufio"
	"bytes"
	"context"
	"crypto/tls"
	"crypto/x509"
	"encoding/pem"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/devport/devport/certs"
	"github.com/devport/devport/internal/testenv"
)

// TestExportNginx serves examples/php-shop and examples/fastapi-api with
// devport, exports each as an nginx config, checks it with the real
// `nginx -t`, then runs nginx in front of the same backends devport
// started and compares the answers of both proxies.
func TestExportNginx(t *testing.T) {
	testenv.Tool(t, "nginx")
	testenv.Tool(t, "apache2")
	testenv.Need(t, "uvicorn and fastapi for /usr/bin/python3", haveUvicorn(), testenv.InstallFix)
	testenv.Need(t, "uwsgi with its python3 plugin", testenv.Have("uwsgi"), testenv.InstallFix)

	e := newEnv(t)
	shop := e.copyExample("php-shop", "shop")
	api := e.copyExample("fastapi-api", "api")
	static := filepath.Join(shop, "assets")
	if err := os.MkdirAll(static, 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(static, "app.css"), []byte("body{color:red}\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	// The example's /ws echo checks the upgrade headers of both proxies.
	// The split shape as one project: php at /, FastAPI at /api.
	split := e.copyExample("php-shop", "split")
	if err := os.MkdirAll(filepath.Join(split, "api"), 0o755); err != nil {
		t.Fatal(err)
	}
	mainPy, err := os.ReadFile(filepath.Join(api, "main.py"))
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(split, "api", "main.py"), mainPy, 0o644); err != nil {
		t.Fatal(err)
	}
	toml := "name = \"split\"\n\n[services.web]\nstack = \"php\"\n\n" +
		"[services.api]\nstack = \"uvicorn\"\nprefix = \"/api\"\napp = \"api.main:app\"\n"
	if err := os.WriteFile(filepath.Join(split, "devport.toml"), []byte(toml), 0o644); err != nil {
		t.Fatal(err)
	}
	e.mustRun("add", shop, "--name", "shop")
	e.mustRun("add", api, "--name", "api")
	e.mustRun("add", split)
	blog := e.copyExample("flask-app", "blog")
	// public/ files come before the app (try_files $uri @app).
	if err := os.MkdirAll(filepath.Join(blog, "public"), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(blog, "public", "robots.txt"), []byte("User-agent: *\nDisallow:\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	e.mustRun("add", blog, "--name", "blog", "--stack", "uwsgi")
	e.mustRun("route", "shop", "add", "/assets", "--static", static, "--cache-control", "public, max-age=600")
	e.mustRun("route", "api", "add", "/v1", "--service", "web", "--strip", "--read-timeout", "30s", "--max-body", "10m")
	devHTTPS, devHTTP := freePort(t), freePort(t)
	e.serve("--https-port", strconv.Itoa(devHTTPS), "--http-port", strconv.Itoa(devHTTP))
	e.mustRun("start", "shop")
	e.mustRun("start", "api")
	e.mustRun("start", "split")
	e.mustRun("start", "blog")

	// A leaf from devport's own CA for both domains.
	caPath := strings.TrimSpace(e.mustRun("ca"))
	ca, err := certs.Open(certs.Options{Dir: filepath.Dir(caPath), TLDs: []string{"test"}})
	if err != nil {
		t.Fatal(err)
	}
	leaf, err := ca.Issue([]string{"shop.test", "api.test", "split.test", "blog.test"})
	if err != nil {
		t.Fatal(err)
	}
	prefix := t.TempDir()
	certPath, keyPath := filepath.Join(prefix, "leaf.pem"), filepath.Join(prefix, "leaf-key.pem")
	var chain bytes.Buffer
	for _, der := range leaf.Certificate {
		pem.Encode(&chain, &pem.Block{Type: "CERTIFICATE", Bytes: der})
	}
	keyDER, err := x509.MarshalPKCS8PrivateKey(leaf.PrivateKey)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(certPath, chain.Bytes(), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(keyPath, pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: keyDER}), 0o600); err != nil {
		t.Fatal(err)
	}

	ngHTTPS, ngHTTP := freePort(t), freePort(t)
	for _, name := range []string{"shop", "api", "split", "blog"} {
		e.mustRun("export", name, "--format", "nginx", "-o", filepath.Join(prefix, name+".conf"),
			"--https-listen", fmt.Sprintf("127.0.0.1:%d", ngHTTPS), "--http-listen", fmt.Sprintf("127.0.0.1:%d", ngHTTP),
			"--cert", certPath, "--key", keyPath)
	}
	conf := filepath.Join(prefix, "nginx.conf")
	// The uwsgi export includes uwsgi_params, relative to the config's folder.
	params, err := os.ReadFile("/etc/nginx/uwsgi_params")
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(prefix, "uwsgi_params"), params, 0o644); err != nil {
		t.Fatal(err)
	}
	main := fmt.Sprintf(`# test wrapper: the exported files in the http context, everything else in %[1]s
daemon off;
master_process on;
worker_processes 1;
user root;
pid %[1]s/nginx.pid;
error_log stderr warn;
events { worker_connections 64; }
http {
    include /etc/nginx/mime.types;
    access_log off;
    client_body_temp_path %[1]s/body;
    proxy_temp_path %[1]s/proxy;
    fastcgi_temp_path %[1]s/fastcgi;
    uwsgi_temp_path %[1]s/uwsgi;
    scgi_temp_path %[1]s/scgi;
    include %[1]s/shop.conf;
    include %[1]s/api.conf;
    include %[1]s/split.conf;
    include %[1]s/blog.conf;
}
`, prefix)
	if err := os.WriteFile(conf, []byte(main), 0o644); err != nil {
		t.Fatal(err)
	}

	t.Run("nginx -t accepts the export", func(t *testing.T) {
		out, err := exec.Command("nginx", "-t", "-p", prefix, "-e", "stderr", "-c", conf).CombinedOutput()
		if err != nil {
			shopConf, _ := os.ReadFile(filepath.Join(prefix, "shop.conf"))
			t.Fatalf("nginx -t: %v\n%s\n%s", err, out, shopConf)
		}
	})
	if t.Failed() {
		return
	}

	ng := exec.Command("nginx", "-p", prefix, "-e", "stderr", "-c", conf)
	ngOut := &lockedBuffer{}
	ng.Stdout, ng.Stderr = ngOut, ngOut
	ng.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	if err := ng.Start(); err != nil {
		t.Fatal(err)
	}
	pgid := ng.Process.Pid
	ngDone := make(chan struct{})
	go func() { ng.Wait(); close(ngDone) }()
	t.Cleanup(func() {
		syscall.Kill(-pgid, syscall.SIGTERM)
		select {
		case <-ngDone:
		case <-time.After(10 * time.Second):
			syscall.Kill(-pgid, syscall.SIGKILL)
			<-ngDone
		}
		for i := 0; i < 50 && syscall.Kill(-pgid, 0) == nil; i++ { // workers leave after the master
			time.Sleep(20 * time.Millisecond)
		}
		if err := syscall.Kill(-pgid, 0); err == nil {
			t.Errorf("nginx process group %d still has processes", pgid)
		}
		if out, _ := exec.Command("pgrep", "-af", "nginx.*"+prefix).Output(); len(bytes.TrimSpace(out)) > 0 {
			t.Errorf("nginx left running:\n%s", out)
		}
	})

	pool := x509.NewCertPool()
	pool.AddCert(ca.Root())
	client := func(port int) *http.Client {
		return &http.Client{
			Timeout:       20 * time.Second,
			CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse },
			Transport: &http.Transport{
				TLSClientConfig: &tls.Config{RootCAs: pool},
				DialContext: func(ctx context.Context, network, _ string) (net.Conn, error) {
					return (&net.Dialer{}).DialContext(ctx, network, fmt.Sprintf("127.0.0.1:%d", port))
				},
			},
		}
	}
	viaDevport, viaNginx := client(devHTTPS), client(ngHTTPS)
	waitForNginx(t, viaNginx, fmt.Sprintf("https://shop.test:%d/", ngHTTPS), ngOut)

	type answer struct {
		status       int
		body         string
		contentType  string
		cacheControl string
	}
	get := func(t *testing.T, c *http.Client, port int, host, path string) answer {
		t.Helper()
		resp, err := c.Get(fmt.Sprintf("https://%s:%d%s", host, port, path))
		if err != nil {
			t.Fatalf("GET %s%s on %d: %v\nnginx: %s", host, path, port, err, ngOut.String())
		}
		defer resp.Body.Close()
		b, err := io.ReadAll(resp.Body)
		if err != nil {
			t.Fatal(err)
		}
		// The apps echo the Host they saw, which carries each proxy's own port.
		body := strings.ReplaceAll(string(b), ":"+strconv.Itoa(port), ":PORT")
		// nginx's expires sends max-age in a Cache-Control of its own, next to
		// the other directives: compare the directives, not the lines.
		var directives []string
		for _, v := range resp.Header.Values("Cache-Control") {
			for _, d := range strings.Split(v, ",") {
				directives = append(directives, strings.TrimSpace(d))
			}
		}
		slices.Sort(directives)
		return answer{resp.StatusCode, body, resp.Header.Get("Content-Type"), strings.Join(directives, ", ")}
	}
	cases := []struct {
		name, host, path string
		want             string // in the body, so both cannot agree on an error
		status           int
	}{
		{"php front page", "shop.test", "/", "php-shop says hello", 200},
		{"php front controller path", "shop.test", "/cart/42?x=1", "path: /cart/42", 200},
		{"php sees https", "shop.test", "/", "https: on", 200},
		{"static folder alias", "shop.test", "/assets/app.css", "body{color:red}", 200},
		{"fastapi root", "api.test", "/", `"scheme":"https"`, 200},
		{"fastapi path", "api.test", "/items/7", `{"item_id":7}`, 200},
		{"stripped prefix", "api.test", "/v1/items/8", `{"item_id":8}`, 200},
		{"stripped prefix alone", "api.test", "/v1", `"hello":"from fastapi-api"`, 200},
		{"fastapi 404", "api.test", "/nope", "Not Found", 404},
		{"fastapi 422", "api.test", "/items/x", "int", 422},
		{"split: php at /", "split.test", "/shop/1", "path: /shop/1", 200},
		{"split: api prefix stripped", "split.test", "/api/items/9", `{"item_id":9}`, 200},
		{"split: api prefix alone", "split.test", "/api", `"hello":"from fastapi-api"`, 200},
		{"split: root_path in generated URLs", "split.test", "/api/docs", "/api/openapi.json", 200},
		{"uwsgi: flask sees https", "blog.test", "/", `"scheme":"https"`, 200},
		{"uwsgi: flask builds https URLs", "blog.test", "/", `"url":"https://blog.test:PORT/"`, 200},
		{"uwsgi: flask 404", "blog.test", "/missing", "Not Found", 404},
		{"uwsgi: a public/ file before the app", "blog.test", "/robots.txt", "User-agent: *", 200},
		{"uwsgi: a public/ folder is the app's", "blog.test", "/public/", "Not Found", 404},
		{"split: openapi under the prefix", "split.test", "/api/openapi.json", `"/items/{item_id}"`, 200},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			dev := get(t, viaDevport, devHTTPS, c.host, c.path)
			ngx := get(t, viaNginx, ngHTTPS, c.host, c.path)
			if dev.status != c.status || !strings.Contains(dev.body, c.want) {
				t.Fatalf("through devport: %d %q, want %d with %q", dev.status, dev.body, c.status, c.want)
			}
			if dev != ngx {
				t.Errorf("answers differ:\ndevport %+v\nnginx   %+v", dev, ngx)
			}
		})
	}
	for _, path := range []string{"/ws", "/v1/ws"} {
		t.Run("websocket "+path, func(t *testing.T) {
			dev := wsEchoOnce(t, devHTTPS, pool, "api.test", path)
			ngx := wsEchoOnce(t, ngHTTPS, pool, "api.test", path)
			if dev != "echo hi over https" || ngx != dev {
				t.Errorf("websocket answers: devport %q, nginx %q, want both %q", dev, ngx, "echo hi over https")
			}
		})
	}
	t.Run("compose export of the split project", func(t *testing.T) {
		dir := t.TempDir()
		out := e.mustRun("export", "split", "--format", "compose", "-o", filepath.Join(dir, "docker-compose.yml"))
		if !strings.Contains(out, "nginx.conf") {
			t.Errorf("export printed %q, want both files named", out)
		}
		compose, err := os.ReadFile(filepath.Join(dir, "docker-compose.yml"))
		if err != nil {
			t.Fatal(err)
		}
		conf, err := os.ReadFile(filepath.Join(dir, "nginx.conf"))
		if err != nil {
			t.Fatal(err)
		}
		for _, want := range []string{"image: php:8.3-apache", "image: python:3.12-slim", "--root-path /api",
			"uvicorn api.main:app", `"127.0.0.1:443:443"`, "./nginx.conf:/etc/nginx/conf.d/default.conf:ro"} {
			if !strings.Contains(string(compose), want) {
				t.Errorf("docker-compose.yml lacks %q:\n%s", want, compose)
			}
		}
		for _, want := range []string{"server api:8000;", "server web:80;", "proxy_pass http://split_api/;"} {
			if !strings.Contains(string(conf), want) {
				t.Errorf("nginx.conf lacks %q:\n%s", want, conf)
			}
		}
	})
	t.Run("http redirects to https on the nginx port", func(t *testing.T) {
		resp, err := client(ngHTTP).Get(fmt.Sprintf("http://shop.test:%d/a?b=1", ngHTTP))
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		want := fmt.Sprintf("https://shop.test:%d/a?b=1", ngHTTPS)
		if resp.StatusCode != http.StatusMovedPermanently || resp.Header.Get("Location") != want {
			t.Errorf("got %d Location %q, want 301 %q", resp.StatusCode, resp.Header.Get("Location"), want)
		}
	})
}

// waitForNginx polls url until nginx answers, or fails with its output.
func waitForNginx(t *testing.T, c *http.Client, url string, out *lockedBuffer) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for {
		resp, err := c.Get(url)
		if err == nil {
			resp.Body.Close()
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("nginx did not answer %s: %v\n%s", url, err, out.String())
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// lockedBuffer collects a process's output while the test reads it.
type lockedBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *lockedBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *lockedBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}

// wsEchoOnce opens a websocket (HTTP/1.1 Upgrade) to host:port path over
// TLS, sends "hi" and returns the text message that comes back.
func wsEchoOnce(t *testing.T, port int, pool *x509.CertPool, host, path string) string {
	t.Helper()
	conn, err := tls.DialWithDialer(&net.Dialer{Timeout: 5 * time.Second}, "tcp", fmt.Sprintf("127.0.0.1:%d", port),
		&tls.Config{RootCAs: pool, ServerName: host, NextProtos: []string{"http/1.1"}})
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	conn.SetDeadline(time.Now().Add(10 * time.Second))
	fmt.Fprintf(conn, "GET %s HTTP/1.1\r\nHost: %s:%d\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"+
		"Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\r\n", path, host, port)
	br := bufio.NewReader(conn)
	resp, err := http.ReadResponse(br, nil)
	if err != nil {
		t.Fatal(err)
	}
	if resp.StatusCode != http.StatusSwitchingProtocols {
		t.Fatalf("GET %s on %d: %s, want 101", path, port, resp.Status)
	}
	// One masked text frame "hi" (client frames must be masked).
	mask := []byte{1, 2, 3, 4}
	frame := []byte{0x81, 0x80 | 2, mask[0], mask[1], mask[2], mask[3], 'h' ^ mask[0], 'i' ^ mask[1]}
	if _, err := conn.Write(frame); err != nil {
		t.Fatal(err)
	}
	hdr := make([]byte, 2)
	if _, err := io.ReadFull(br, hdr); err != nil {
		t.Fatal(err)
	}
	if hdr[0]&0x0f != 1 || hdr[1]&0x7f > 125 {
		t.Fatalf("unexpected frame header %x", hdr)
	}
	msg := make([]byte, hdr[1]&0x7f)
	if _, err := io.ReadFull(br, msg); err != nil {
		t.Fatal(err)
	}
	return string(msg)
}
