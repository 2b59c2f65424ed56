package e2e

import (
	"bytes"
	"context"
	"crypto/x509"
	"encoding/json"
	"encoding/pem"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/devport/devport/internal/testenv"
)

// TestFirstSites does what a new user does: add a PHP and a FastAPI
// project, serve them, trust the CA for real, open both over HTTPS with
// verification on (curl and Chromium), stop, and untrust.
func TestFirstSites(t *testing.T) {
	testenv.Need(t, "root (the system trust store)", os.Geteuid() == 0, testenv.InstallFix)
	testenv.Need(t, "apache2", testenv.Have("apache2") || fileExists("/usr/sbin/apache2"), testenv.InstallFix)
	testenv.Need(t, "python3-uvicorn and python3-fastapi", haveUvicorn(), testenv.InstallFix)
	testenv.Tool(t, "curl")
	testenv.Need(t, "certutil (libnss3-tools)", testenv.Have("certutil"), testenv.InstallFix)
	testenv.Tool(t, "chromium")
	testenv.Need(t, "update-ca-certificates", testenv.Have("update-ca-certificates") || fileExists("/usr/sbin/update-ca-certificates"), testenv.InstallFix)

	e := newEnv(t)
	shopDir := e.copyExample("php-shop", "shop")
	apiDir := e.copyExample("fastapi-api", "fastapi")

	out := e.mustRun("add", shopDir)
	if !strings.Contains(out, "added shop (php, process) at https://shop.test") {
		t.Errorf("add php: %q", out)
	}
	out = e.mustRun("add", apiDir, "--name", "fastapi")
	if !strings.Contains(out, "added fastapi (uvicorn main:app, process) at https://fastapi.test") {
		t.Errorf("add fastapi: %q", out)
	}

	httpsPort, httpPort := freePort(t), freePort(t)
	g := e.serve("--start", "shop,fastapi", "--https-port", fmt.Sprint(httpsPort), "--http-port", fmt.Sprint(httpPort))
	base := func(host string) string { return fmt.Sprintf("https://%s:%d", host, httpsPort) }
	resolve := func(host string) string { return fmt.Sprintf("%s:%d:127.0.0.1", host, httpsPort) }

	t.Run("second engine is refused", func(t *testing.T) {
		r := e.run("serve", "--headless", "--https-port", fmt.Sprint(freePort(t)), "--http-port", fmt.Sprint(freePort(t)))
		if r.code == 0 || !strings.Contains(r.stderr, "an engine is already running") {
			t.Errorf("exit %d, stderr %q", r.code, r.stderr)
		}
	})
	t.Run("control socket is private", func(t *testing.T) {
		fi, err := os.Stat(filepath.Join(e.home, "devport.sock"))
		if err != nil {
			t.Fatal(err)
		}
		if fi.Mode()&os.ModeSocket == 0 || fi.Mode().Perm() != 0o600 {
			t.Errorf("control socket mode %v, want socket 0600", fi.Mode())
		}
	})

	trustLock(t)
	caPath := strings.TrimSpace(e.mustRun("ca"))
	// Before trust, verification must fail: otherwise the checks below
	// would prove nothing.
	t.Run("untrusted before devport trust", func(t *testing.T) {
		err := exec.Command("curl", "-sS", "-o", "/dev/null", "--resolve", resolve("shop.test"), base("shop.test")+"/").Run()
		if err == nil {
			t.Errorf("curl verified the site before devport trust")
		}
		ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
		defer cancel()
		cmd := exec.CommandContext(ctx, "chromium", chromiumArgs(t, "shop.test", base("shop.test")+"/")...)
		cmd.Env = e.environ()
		var out, errb bytes.Buffer
		cmd.Stdout, cmd.Stderr = &out, &errb
		_ = cmd.Run()
		if strings.Contains(out.String(), "php-shop says hello") {
			t.Errorf("chromium loaded the site before devport trust")
		}
	})
	t.Cleanup(func() { untrustAndCheck(t, e, caPath) })
	out = e.mustRun("trust")
	for _, want := range []string{"system", "nss"} {
		if !storeLine(out, want, "trusted") {
			t.Errorf("trust did not report %s as trusted:\n%s", want, out)
		}
	}

	t.Run("curl php front controller over https", func(t *testing.T) {
		body := curl(t, "--resolve", resolve("shop.test"), base("shop.test")+"/some/route?x=1")
		for _, want := range []string{"php-shop says hello", "path: /some/route", "https: on", "host: shop.test", "client: 127.0.0.1"} {
			if !strings.Contains(body, want) {
				t.Errorf("want %q in:\n%s", want, body)
			}
		}
	})
	t.Run("curl fastapi over https", func(t *testing.T) {
		body := curl(t, "--resolve", resolve("fastapi.test"), base("fastapi.test")+"/")
		var got map[string]any
		if err := json.Unmarshal([]byte(body), &got); err != nil {
			t.Fatalf("%v: %s", err, body)
		}
		if got["scheme"] != "https" || got["hello"] != "from fastapi-api" {
			t.Errorf("fastapi saw %v", got)
		}
	})
	t.Run("subdomain routes to the project", func(t *testing.T) {
		body := curl(t, "--resolve", resolve("www.shop.test"), base("www.shop.test")+"/")
		if !strings.Contains(body, "php-shop says hello") {
			t.Errorf("www.shop.test: %s", body)
		}
	})
	t.Run("http redirects to https", func(t *testing.T) {
		out, err := exec.Command("curl", "-sS", "-o", "/dev/null", "-w", "%{http_code} %{redirect_url}",
			"--resolve", fmt.Sprintf("shop.test:%d:127.0.0.1", httpPort), fmt.Sprintf("http://shop.test:%d/a?b=c", httpPort)).Output()
		if err != nil {
			t.Fatal(err)
		}
		if want := fmt.Sprintf("308 https://shop.test:%d/a?b=c", httpsPort); string(out) != want {
			t.Errorf("got %q, want %q", out, want)
		}
	})
	t.Run("unknown host lists the sites", func(t *testing.T) {
		// A name no project serves gets the one fallback certificate, not
		// one of its own (so a flood of names costs nothing): -k.
		out, err := exec.Command("curl", "-sSk", "-w", "\n%{http_code}", "--resolve", resolve("nope.test"), base("nope.test")+"/").Output()
		if err != nil {
			t.Fatal(err)
		}
		s := string(out)
		if !strings.HasSuffix(s, "404") || !strings.Contains(s, "shop.test") || !strings.Contains(s, "fastapi.test") {
			t.Errorf("unknown host page: %s", s)
		}
	})
	t.Run("chromium trusts the site through NSS", func(t *testing.T) {
		dom := chromium(t, e, "shop.test", base("shop.test")+"/from/chromium")
		if !strings.Contains(dom, "php-shop says hello") || !strings.Contains(dom, "https: on") {
			t.Errorf("chromium DOM:\n%s", dom)
		}
	})
	t.Run("ls shows both running", func(t *testing.T) {
		var ps []struct {
			Name, State, URL string
		}
		if err := json.Unmarshal([]byte(e.mustRun("ls", "--json")), &ps); err != nil {
			t.Fatal(err)
		}
		if len(ps) != 2 || ps[0].State != "running" || ps[1].State != "running" {
			t.Errorf("ls: %+v", ps)
		}
		if ps[1].URL != base("shop.test")+"/" {
			t.Errorf("url %q, want %q", ps[1].URL, base("shop.test")+"/")
		}
	})
	t.Run("stopped project gets a 502 page that says how to start it", func(t *testing.T) {
		e.mustRun("stop", "shop")
		out, err := exec.Command("curl", "-sS", "-w", "\n%{http_code}", "--resolve", resolve("shop.test"), base("shop.test")+"/").Output()
		if err != nil {
			t.Fatal(err)
		}
		s := string(out)
		if !strings.HasSuffix(s, "502") || !strings.Contains(s, "devport start shop") {
			t.Errorf("stopped page: %s", s)
		}
		if left := processesMentioning(filepath.Join(e.home, "run", "shop-")); len(left) > 0 {
			t.Errorf("stop left processes: %v", left)
		}
		e.mustRun("start", "shop")
		if body := curl(t, "--resolve", resolve("shop.test"), base("shop.test")+"/"); !strings.Contains(body, "php-shop") {
			t.Errorf("after restart: %s", body)
		}
	})

	t.Run("logs show the backend's access lines", func(t *testing.T) {
		out := e.mustRun("logs", "shop", "-n", "200")
		if !strings.Contains(out, "GET /some/route") {
			t.Errorf("devport logs shop:\n%s", out)
		}
	})
	t.Run("a crashed backend comes back with no 502 in between", func(t *testing.T) {
		var ps []struct {
			Name     string
			Services []struct{ Upstream string }
		}
		if err := json.Unmarshal([]byte(e.mustRun("ls", "--json")), &ps); err != nil {
			t.Fatal(err)
		}
		sock := strings.TrimPrefix(ps[0].Services[0].Upstream, "unix:")
		pids := processesMentioning(sock)
		if ps[0].Name != "fastapi" || len(pids) == 0 {
			t.Fatalf("no uvicorn process found for %+v", ps[0])
		}
		for _, p := range pids {
			var pid int
			fmt.Sscan(p, &pid)
			syscall.Kill(pid, syscall.SIGKILL)
		}
		// The engine starts it again by itself, and requests that arrive
		// meanwhile wait for it: none sees a 502.
		for end := time.Now().Add(4 * time.Second); time.Now().Before(end); {
			out, _ := exec.Command("curl", "-sS", "-w", "\n%{http_code}", "--resolve", resolve("fastapi.test"), base("fastapi.test")+"/").Output()
			if s := string(out); !strings.HasSuffix(s, "200") || !strings.Contains(s, "from fastapi-api") {
				t.Fatalf("while it restarts after a crash:\n%s", s)
			}
			time.Sleep(100 * time.Millisecond)
		}
		e.mustRun("restart", "fastapi")
		if body := curl(t, "--resolve", resolve("fastapi.test"), base("fastapi.test")+"/"); !strings.Contains(body, "from fastapi-api") {
			t.Errorf("after restart: %s", body)
		}
	})

	if err := g.stop(t); err != nil {
		t.Errorf("engine exit after SIGTERM: %v\n%s", err, g.output())
	}
	assertNoProcesses(t, e.root)
}

func curl(t *testing.T, args ...string) string {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	cmd := exec.CommandContext(ctx, "curl", append([]string{"-sS", "--fail-with-body"}, args...)...)
	var out, errb bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &errb
	if err := cmd.Run(); err != nil {
		t.Fatalf("curl %s: %v\n%s%s", strings.Join(args, " "), err, errb.String(), out.String())
	}
	return out.String()
}

// chromium loads url in headless Chromium with HOME set to the env's user
// home, so it reads the NSS database devport trust wrote.
func chromium(t *testing.T, e *env, host, url string) string {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	cmd := exec.CommandContext(ctx, "chromium", chromiumArgs(t, host, url)...)
	cmd.Env = e.environ()
	var out, errb bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &errb
	if err := cmd.Run(); err != nil {
		t.Fatalf("chromium: %v\n%s", err, errb.String())
	}
	if strings.Contains(errb.String(), "Page load failed") || strings.Contains(errb.String(), "ERR_CERT") {
		t.Fatalf("chromium could not load %s:\n%s", url, errb.String())
	}
	return out.String()
}

func chromiumArgs(t *testing.T, host, url string) []string {
	return []string{"--headless", "--no-sandbox", "--disable-gpu", "--disable-quic",
		"--no-first-run", "--disable-background-networking", "--disable-component-update", "--disable-sync",
		"--user-data-dir=" + t.TempDir(), "--host-resolver-rules=MAP " + host + " 127.0.0.1", "--dump-dom", url}
}

// untrustAndCheck runs devport untrust and proves no store still holds the CA.
func untrustAndCheck(t *testing.T, e *env, caPath string) {
	t.Helper()
	r := e.run("untrust")
	if r.code != 0 {
		t.Errorf("untrust: exit %d: %s%s", r.code, r.stdout, r.stderr)
	}
	raw, err := os.ReadFile(caPath)
	if err != nil {
		t.Fatalf("read CA: %v", err)
	}
	blk, _ := pem.Decode(raw)
	ca, err := x509.ParseCertificate(blk.Bytes)
	if err != nil {
		t.Fatal(err)
	}
	bundle, _ := os.ReadFile("/etc/ssl/certs/ca-certificates.crt")
	for rest := bundle; ; {
		var b *pem.Block
		b, rest = pem.Decode(rest)
		if b == nil {
			break
		}
		if bytes.Equal(b.Bytes, ca.Raw) {
			t.Errorf("the system bundle still holds the devport CA")
		}
	}
	if matches, _ := filepath.Glob("/usr/local/share/ca-certificates/*"); len(matches) > 0 {
		for _, m := range matches {
			if b, _ := os.ReadFile(m); bytes.Contains(b, raw[:len(raw)/2]) || bytes.Equal(pemBytes(b), ca.Raw) {
				t.Errorf("anchor left behind: %s", m)
			}
		}
	}
	links, _ := filepath.Glob("/etc/ssl/certs/*")
	for _, l := range links {
		if _, err := os.Stat(l); err != nil { // dangling
			if dest, _ := os.Readlink(l); strings.Contains(dest, "devport") || strings.Contains(l, "devport") {
				t.Errorf("dangling link left behind: %s -> %s", l, dest)
			}
		}
	}
	nssdb := filepath.Join(e.user, ".pki", "nssdb")
	out, _ := exec.Command("certutil", "-L", "-d", "sql:"+nssdb).CombinedOutput()
	if strings.Contains(string(out), ca.Subject.CommonName) {
		t.Errorf("NSS still lists the CA:\n%s", out)
	}
}

func pemBytes(b []byte) []byte {
	blk, _ := pem.Decode(b)
	if blk == nil {
		return nil
	}
	return blk.Bytes
}

func fileExists(p string) bool {
	_, err := os.Stat(p)
	return err == nil
}

// storeLine reports whether the trust report has a line "STORE STATUS ...".
func storeLine(out, store, status string) bool {
	for _, l := range strings.Split(out, "\n") {
		if f := strings.Fields(l); len(f) >= 2 && f[0] == store && f[1] == status {
			return true
		}
	}
	return false
}
