package e2e

import (
	"bytes"
	"fmt"
	"math/rand/v2"
	"os"
	"os/exec"
	"strings"
	"testing"

	"github.com/devport/devport/internal/testenv"
)

// getent4 returns the IPv4 addresses glibc resolves name to, the way
// browsers and most tools look names up.
func getent4(name string) string {
	out, _ := exec.Command("getent", "ahostsv4", name).Output()
	fields := strings.Fields(string(out))
	if len(fields) == 0 {
		return ""
	}
	return fields[0]
}

// TestDNSHostsAndHealthyDoctor turns the hosts-file method on for real in
// /etc/hosts, follows projects being added and removed, checks that doctor
// is all green on a fully set-up machine, and restores /etc/hosts byte for
// byte, even when the test fails midway.
func TestDNSHostsAndHealthyDoctor(t *testing.T) {
	testenv.Need(t, "root (/etc/hosts, the system trust store)", os.Geteuid() == 0, testenv.InstallFix)
	testenv.Tool(t, "getent")
	testenv.Need(t, "apache2", testenv.Have("apache2") || fileExists("/usr/sbin/apache2"), testenv.InstallFix)
	testenv.Tool(t, "curl")
	testenv.Need(t, "certutil (libnss3-tools)", testenv.Have("certutil"), testenv.InstallFix)
	testenv.Lock(t, "hosts")
	original, err := os.ReadFile("/etc/hosts")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		now, _ := os.ReadFile("/etc/hosts")
		if !bytes.Equal(now, original) {
			t.Errorf("/etc/hosts differs after the test; restoring it")
			if err := os.WriteFile("/etc/hosts", original, 0o644); err != nil {
				t.Errorf("restore /etc/hosts: %v", err)
			}
		}
	})
	e := newEnv(t)
	id := rand.Uint32()
	shop, extra := fmt.Sprintf("dns-%08x.test", id), fmt.Sprintf("extra-%08x.test", id)
	e.mustRun("add", e.copyExample("php-shop", "shop"), "--domain", shop)
	port := freePort(t)
	g := e.serve("--start", "shop", "--https-port", fmt.Sprint(port), "--http-port", fmt.Sprint(freePort(t)))

	if got := getent4(shop); got != "" {
		t.Fatalf("%s resolves to %s before devport dns hosts", shop, got)
	}
	out := e.mustRun("dns", "hosts")
	if !strings.Contains(out, "maps "+shop+" to 127.0.0.1") {
		t.Errorf("dns hosts: %s", out)
	}
	if got := getent4(shop); got != "127.0.0.1" {
		t.Fatalf("getent ahostsv4 %s = %q, want 127.0.0.1", shop, got)
	}

	t.Run("the engine keeps the block in step", func(t *testing.T) {
		e.mustRun("add", "--name", "extra", "--domain", extra, "--proxy", "http://127.0.0.1:9")
		if got := getent4(extra); got != "127.0.0.1" {
			t.Errorf("after add: getent %s = %q", extra, got)
		}
		e.mustRun("rm", "extra")
		if got := getent4(extra); got != "" {
			t.Errorf("after rm: %s still resolves to %s", extra, got)
		}
	})

	t.Run("healthy doctor", func(t *testing.T) {
		trustLock(t)
		caPath := strings.TrimSpace(e.mustRun("ca"))
		t.Cleanup(func() { untrustAndCheck(t, e, caPath) })
		e.mustRun("trust")
		// The name resolves through /etc/hosts now: no --resolve.
		body := curl(t, fmt.Sprintf("https://%s:%d/", shop, port))
		if !strings.Contains(body, "php-shop says hello") {
			t.Errorf("curl by name: %s", body)
		}
		cs, r := doctorChecks(t, e)
		for _, c := range cs {
			if !c.OK {
				t.Errorf("doctor check failed on a set-up machine: %+v", c)
			}
		}
		if r.code != 0 {
			t.Errorf("doctor exit %d: %s", r.code, r.stderr)
		}
		if c, ok := findCheck(cs, "resolve "+shop); !ok || !strings.Contains(c.Detail, "hosts") {
			t.Errorf("resolve check: %+v", c)
		}
	})

	out = e.mustRun("dns", "off")
	if !strings.Contains(out, "removed") {
		t.Errorf("dns off: %s", out)
	}
	if got := getent4(shop); got != "" {
		t.Errorf("after dns off: %s resolves to %s", shop, got)
	}
	if now, _ := os.ReadFile("/etc/hosts"); !bytes.Equal(now, original) {
		t.Errorf("/etc/hosts not restored byte for byte:\n%s", now)
	}
	if err := g.stop(t); err != nil {
		t.Errorf("engine exit: %v\n%s", err, g.output())
	}
}
