package e2e

import (
	"fmt"
	"net"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/devport/devport/internal/testenv"
)

// TestBadInput checks that every kind of bad input gets a one-line error
// naming the field and the fix, a non-zero exit, and an unchanged store.
func TestBadInput(t *testing.T) {
	testenv.Need(t, "apache2", testenv.Have("apache2") || fileExists("/usr/sbin/apache2"), testenv.InstallFix)
	testenv.Need(t, "python3-uvicorn and python3-fastapi", haveUvicorn(), testenv.InstallFix)
	e := newEnv(t)
	shop := e.copyExample("php-shop", "shop")
	e.mustRun("add", shop)
	empty := filepath.Join(e.root, "empty")
	if err := os.Mkdir(empty, 0o755); err != nil {
		t.Fatal(err)
	}
	before := e.mustRun("ls", "--json")

	tests := []struct {
		name string
		args []string
		want []string // all must appear in stderr
	}{
		{"missing folder", []string{"add", filepath.Join(e.root, "nope")}, []string{"folder", "does not exist"}},
		{"invalid domain", []string{"add", shop, "--name", "x", "--domain", "shop.com"}, []string{"domain", "shop.com", ".test"}},
		{"domain with scheme", []string{"add", shop, "--name", "x", "--domain", "https://x.test"}, []string{"domain"}},
		{"duplicate domain", []string{"add", shop, "--name", "other", "--domain", "shop.test"}, []string{"domain", "shop.test", "already"}},
		{"duplicate name", []string{"add", shop}, []string{"name", "shop", "already"}},
		{"invalid name", []string{"add", shop, "--name", "Bad_Name"}, []string{"name", "Bad_Name"}},
		{"unknown stack", []string{"add", shop, "--name", "x", "--stack", "rails"}, []string{"stack", "rails", "--stack php"}},
		{"nothing to detect", []string{"add", empty}, []string{"stack", "--stack"}},
		{"uvicorn without app", []string{"add", empty, "--stack", "uvicorn"}, []string{"app", "--app"}},
		{"unknown runtime", []string{"add", shop, "--name", "x", "--runtime", "vm"}, []string{"runtime", "vm", "--runtime container"}},
		{"image without the container runtime", []string{"add", shop, "--name", "x", "--image", "php:8.3-apache"}, []string{"image", "--runtime container"}},
		{"invalid image", []string{"add", shop, "--name", "x", "--runtime", "container", "--image", "Not An Image"}, []string{"image", "Not An Image"}},
		{"bad proxy url", []string{"add", "--name", "p", "--proxy", "ftp://x"}, []string{"proxy", "http://"}},
		{"rm unknown", []string{"rm", "ghost"}, []string{"ghost", "not found"}},
		{"start unknown", []string{"start", "ghost"}, []string{"ghost", "not found"}},
		{"stop without engine", []string{"stop", "shop"}, []string{"shop is not running", "no devport engine"}},
		{"unknown command", []string{"frobnicate"}, []string{"unknown command"}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			r := e.run(tc.args...)
			if r.code == 0 {
				t.Fatalf("exit 0, want failure; stdout: %s", r.stdout)
			}
			msg := strings.TrimSpace(r.stderr)
			if tc.name != "unknown command" && strings.Count(msg, "\n") > 0 {
				t.Errorf("want a one-line error, got:\n%s", msg)
			}
			for _, w := range tc.want {
				if !strings.Contains(msg, w) {
					t.Errorf("stderr %q lacks %q", msg, w)
				}
			}
			if after := e.mustRun("ls", "--json"); after != before {
				t.Errorf("store changed:\nbefore %s\nafter  %s", before, after)
			}
		})
	}
}

// TestServeFaults covers the failures a user meets when starting: a port
// someone else holds, and a backend that crashes at start.
func TestServeFaults(t *testing.T) {
	testenv.Need(t, "python3-uvicorn and python3-fastapi", haveUvicorn(), testenv.InstallFix)
	e := newEnv(t)

	t.Run("https port in use", func(t *testing.T) {
		l, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			t.Fatal(err)
		}
		defer l.Close()
		port := l.Addr().(*net.TCPAddr).Port
		r := e.run("serve", "--headless", "--https-port", fmt.Sprint(port), "--http-port", fmt.Sprint(freePort(t)))
		holder := fmt.Sprintf("port %d is in use by e2e.test (pid %d)", port, os.Getpid())
		if r.code == 0 || !strings.Contains(r.stderr, holder) || !strings.Contains(r.stderr, "--https-port") {
			t.Errorf("exit %d, stderr %q", r.code, r.stderr)
		}
	})

	t.Run("backend crashes at start", func(t *testing.T) {
		dir := e.copyExample("fastapi-api", "broken")
		breakApp(t, dir, "database settings missing")
		e.mustRun("add", dir)
		r := e.run("serve", "--headless", "--start", "broken",
			"--https-port", fmt.Sprint(freePort(t)), "--http-port", fmt.Sprint(freePort(t)))
		if r.code == 0 {
			t.Fatalf("serve exited 0 with a broken backend:\n%s", r.stdout)
		}
		if !strings.Contains(r.stderr, "database settings missing") {
			t.Errorf("stderr does not show the backend's last log lines:\n%s", r.stderr)
		}
		assertNoProcesses(t, e.root)
	})
}

// TestPrivilegedPortFallback runs the engine as an ordinary user, who may
// not bind 443/80: it must say why, name the setcap and sysctl fixes, and
// serve on 8443/8080 instead.
func TestPrivilegedPortFallback(t *testing.T) {
	testenv.Need(t, "root (to drop to nobody with setpriv)", os.Geteuid() == 0, testenv.InstallFix)
	testenv.Tool(t, "setpriv")
	if b, err := os.ReadFile("/proc/sys/net/ipv4/ip_unprivileged_port_start"); err == nil && strings.TrimSpace(string(b)) == "0" {
		t.Skip("every user may bind low ports on this machine (ip_unprivileged_port_start=0)")
	}
	for _, p := range []string{"127.0.0.1:8443", "127.0.0.1:8080"} {
		l, err := net.Listen("tcp", p)
		if err != nil {
			t.Skipf("the fallback port %s is taken on this machine: %v", p, err)
		}
		l.Close()
	}
	e := newEnv(t)
	if err := os.Chown(e.home, 65534, 65534); err != nil {
		t.Fatal(err)
	}
	if err := os.Chown(e.user, 65534, 65534); err != nil {
		t.Fatal(err)
	}
	g := e.serveAs([]string{"setpriv", "--reuid=65534", "--regid=65534", "--clear-groups"})
	out := g.output()
	for _, want := range []string{"cannot bind 127.0.0.1:443", "setcap cap_net_bind_service=+ep",
		"sysctl net.ipv4.ip_unprivileged_port_start", "using 8443/8080 instead", "serving https on 127.0.0.1:8443"} {
		if !strings.Contains(out, want) {
			t.Errorf("engine output lacks %q:\n%s", want, out)
		}
	}
	if err := g.stop(t); err != nil {
		t.Errorf("exit after SIGTERM: %v\n%s", err, g.output())
	}
}
