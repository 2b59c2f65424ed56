// Package testenv decides what a test does when this machine lacks
// something it needs: it skips, or, under DEVPORT_REQUIRE_ALL=1 (CI), it
// fails, because there a missing dependency is a broken setup rather than a
// reason to test less.
//
// Every program a test runs is listed in Tools with the Debian package that
// provides it; TestToolsInstalled holds that table to the test set of
// scripts/install-deps.sh, so a test cannot come to depend on a program that
// only a hand-installed machine has.
package testenv

import (
	"bufio"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/textproto"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"testing"
	"time"
)

// InstallFix is the fix for anything scripts/install-deps.sh provides.
const InstallFix = "scripts/install-deps.sh test installs it"

// RequireAll reports whether DEVPORT_REQUIRE_ALL=1 asks that nothing skip.
func RequireAll() bool { return os.Getenv("DEVPORT_REQUIRE_ALL") == "1" }

// Need skips t when ok is false, saying what is missing and fix, or fails
// it under DEVPORT_REQUIRE_ALL=1.
func Need(t testing.TB, what string, ok bool, fix string) {
	t.Helper()
	if ok {
		return
	}
	if RequireAll() {
		t.Fatalf("%s is required (DEVPORT_REQUIRE_ALL=1): %s", what, fix)
	}
	t.Skipf("%s is missing: %s", what, fix)
}

// Tools maps every program the tests run to the Debian package that
// provides it. Each package is in the test set of scripts/install-deps.sh
// (TestToolsInstalled), except those of Essential packages, which every
// Debian system has ("" here).
var Tools = map[string]string{
	"apache2":                "apache2",
	"certutil":               "libnss3-tools",
	"chromium":               "chromium",
	"composer":               "composer",
	"curl":                   "curl",
	"dbus-daemon":            "dbus",
	"dbus-run-session":       "dbus",
	"dig":                    "bind9-dnsutils",
	"django-admin":           "python3-django",
	"docker":                 "docker.io",
	"docker-compose":         "docker-compose",
	"docker-registry":        "docker-registry",
	"getcap":                 "libcap2-bin",
	"setcap":                 "libcap2-bin",
	"getent":                 "", // libc-bin, Essential
	"git":                    "git",
	"import":                 "imagemagick",
	"mailpit":                "", // not a Debian package: install-deps.sh test builds it with go install into /usr/local/bin
	"mariadb":                "mariadb-client",
	"mariadbd":               "mariadb-server",
	"nginx":                  "nginx-light",
	"openssl":                "openssl",
	"pgrep":                  "procps",
	"php":                    "php-cli",
	"psql":                   "postgresql-client",
	"python3":                "python3",
	"redis-cli":              "redis-tools",
	"redis-server":           "redis-server",
	"setpriv":                "", // util-linux, Essential
	"sudo":                   "sudo",
	"systemctl":              "systemd",
	"visudo":                 "sudo",
	"unshare":                "", // util-linux, Essential
	"update-ca-certificates": "ca-certificates",
	"uwsgi":                  "uwsgi",
	"xdotool":                "xdotool",
	"Xvfb":                   "xvfb",
	"sh":                     "", // dash, Essential
	"false":                  "", // coreutils, Essential
	"cp":                     "", // coreutils, Essential
	"go":                     "", // the toolchain that runs the tests
}

// Look finds a program on PATH or in the sbin folders, which are not on an
// ordinary user's PATH on Debian (apache2, setcap). It returns "" when the
// program is not there.
func Look(name string) string {
	if p, err := exec.LookPath(name); err == nil {
		return p
	}
	for _, d := range []string{"/usr/sbin", "/sbin"} {
		p := filepath.Join(d, name)
		if fi, err := os.Stat(p); err == nil && !fi.IsDir() && fi.Mode()&0o111 != 0 {
			return p
		}
	}
	return ""
}

// Tool returns the path of program name, skipping t (or failing it under
// DEVPORT_REQUIRE_ALL=1) when it is missing. A name missing from Tools
// fails t at once: add it there, with its package, and to install-deps.sh.
func Tool(t testing.TB, name string) string {
	t.Helper()
	pkg, known := Tools[name]
	if !known {
		t.Fatalf("testenv: %s is not in testenv.Tools: add it with its Debian package, and the package to scripts/install-deps.sh's test set", name)
	}
	p := Look(name)
	fix := InstallFix
	if pkg != "" {
		fix = "apt-get install " + pkg + " (" + InstallFix + ")"
	}
	Need(t, name, p != "", fix)
	return p
}

// Have reports whether program name is installed (see Look).
func Have(name string) bool { return Look(name) != "" }

// Lock holds an exclusive lock named name across every test process of
// this machine until t ends: go test runs packages in parallel, and tests
// that change something the machine shares must take turns. Use
// "truststore" for the system trust store, NSS and Java's keystore, and
// "hosts" for /etc/hosts and port 443.
func Lock(t testing.TB, name string) {
	t.Helper()
	f, err := os.OpenFile(filepath.Join(os.TempDir(), "devport-"+name+".lock"), os.O_CREATE|os.O_RDWR, 0o600)
	if err != nil {
		t.Fatal(err)
	}
	if err := lockFile(f); err != nil {
		f.Close()
		t.Fatal(err)
	}
	t.Cleanup(func() { f.Close() })
}

// Debugpy returns Debian's python3 when it can import debugpy (the
// python3-debugpy package), skipping t (or failing it under
// DEVPORT_REQUIRE_ALL=1) when it cannot.
func Debugpy(t testing.TB) string {
	t.Helper()
	py := "/usr/bin/python3"
	ok := exec.Command(py, "-c", "import debugpy").Run() == nil
	Need(t, "debugpy for "+py, ok, "apt-get install python3-debugpy ("+InstallFix+")")
	return py
}

// DAPInitialize connects to a Debug Adapter Protocol server at addr (TCP),
// sends the `initialize` request an IDE sends first, and waits up to
// timeout for its response, reading past any events before it. DAP
// messages are JSON framed by a Content-Length header, as in LSP.
func DAPInitialize(addr string, timeout time.Duration) error {
	c, err := net.DialTimeout("tcp", addr, timeout)
	if err != nil {
		return err
	}
	defer c.Close()
	_ = c.SetDeadline(time.Now().Add(timeout))
	body, _ := json.Marshal(map[string]any{"seq": 1, "type": "request", "command": "initialize",
		"arguments": map[string]any{"clientID": "devport-test", "adapterID": "debugpy", "pathFormat": "path",
			"linesStartAt1": true, "columnsStartAt1": true}})
	if _, err := fmt.Fprintf(c, "Content-Length: %d\r\n\r\n%s", len(body), body); err != nil {
		return err
	}
	r := textproto.NewReader(bufio.NewReader(c))
	for {
		h, err := r.ReadMIMEHeader()
		if err != nil {
			return fmt.Errorf("read a DAP header: %w", err)
		}
		n, err := strconv.Atoi(h.Get("Content-Length"))
		if err != nil {
			return fmt.Errorf("DAP header without a Content-Length: %v", h)
		}
		msg := make([]byte, n)
		if _, err := io.ReadFull(r.R, msg); err != nil {
			return fmt.Errorf("read a DAP message: %w", err)
		}
		var m struct {
			Type       string `json:"type"`
			RequestSeq int    `json:"request_seq"`
			Command    string `json:"command"`
			Success    bool   `json:"success"`
			Message    string `json:"message"`
		}
		if err := json.Unmarshal(msg, &m); err != nil {
			return fmt.Errorf("DAP message %q: %w", msg, err)
		}
		if m.Type == "response" && m.RequestSeq == 1 {
			if m.Command != "initialize" || !m.Success {
				return fmt.Errorf("initialize failed: %s", msg)
			}
			return nil
		}
	}
}
