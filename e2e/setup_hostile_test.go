package e2e

import (
	"bytes"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/devport/devport/internal/testenv"
)

// TestSetupHostile runs devport setup where a step cannot be done: no way
// to become root, /etc/hosts on a read-only mount, and systemd-resolved
// present but not running. Each must say so in one line with its fix, exit
// non-zero when a step failed, and leave the part it could not do as it
// was: /etc/hosts byte for byte, no sudoers grant, no drop-in, and no
// resolution method recorded that is not installed. The root cases run in
// a private mount namespace (unshare), so the real /etc/hosts and
// /run/systemd are never changed by the mounts; setup --undo cleans what
// the other steps did, even when the test fails.
func TestSetupHostile(t *testing.T) {
	testenv.Need(t, "root (mount namespaces, setpriv to become nobody)", os.Geteuid() == 0, testenv.InstallFix)
	for _, tool := range []string{"unshare", "setpriv", "systemctl", "getcap", "certutil"} {
		testenv.Tool(t, tool)
	}
	hosts := lockSystem(t)
	unchanged := func(t *testing.T, dp string) {
		t.Helper()
		if now, _ := os.ReadFile("/etc/hosts"); !bytes.Equal(now, hosts) {
			t.Errorf("/etc/hosts changed:\n%s", now)
			_ = os.WriteFile("/etc/hosts", hosts, 0o644)
		}
		if left, _ := filepath.Glob("/etc/.hosts.devport-*"); len(left) > 0 {
			t.Errorf("temporary files left in /etc: %v", left)
		}
		if left, _ := filepath.Glob("/etc/sudoers.d/devport-*"); len(left) > 0 {
			t.Errorf("a sudoers grant was written: %v", left)
		}
		if left, _ := filepath.Glob("/etc/systemd/resolved.conf.d/*devport*"); len(left) > 0 {
			t.Errorf("a resolved drop-in was written: %v", left)
		}
	}
	// undo runs setup --undo as root outside any namespace, and checks that
	// nothing of devport's is left in the stores, /etc/hosts or the binary.
	undo := func(t *testing.T, e *env, dp string) {
		t.Cleanup(func() {
			cmd := exec.Command(dp, "setup", "--undo")
			cmd.Env = e.environ()
			if out, err := cmd.CombinedOutput(); err != nil {
				t.Errorf("setup --undo: %v\n%s", err, out)
			}
			unchanged(t, dp)
			assertCAGone(t, e, filepath.Join(e.home, "ca", "root.pem"))
			if caps, _ := exec.Command(testenv.Look("getcap"), dp).Output(); len(caps) > 0 {
				t.Errorf("the capability stayed: %s", caps)
			}
		})
	}
	// inNamespace runs devport setup as root in a private mount namespace
	// where script has set the mounts up first.
	inNamespace := func(t *testing.T, e *env, dp, script string) (string, error) {
		t.Helper()
		cmd := exec.Command("unshare", "--mount", "--propagation", "private", "sh", "-c", "set -e; "+script+`; exec "$@"`, "sh", dp, "setup")
		cmd.Env = e.environ()
		out, err := cmd.CombinedOutput()
		return string(out), err
	}
	lineOf := func(out, step string) string {
		for _, l := range strings.Split(out, "\n") {
			if strings.Contains(l, " "+step) {
				return l
			}
		}
		return ""
	}

	t.Run("no way to become root", func(t *testing.T) {
		e := newEnv(t)
		dp := e.ownBinary()
		for _, d := range []string{e.home, e.user} {
			if err := os.Chown(d, 65534, 65534); err != nil {
				t.Fatal(err)
			}
		}
		site := e.copyExample("php-shop", "noroot")
		run := func(args ...string) (string, error) {
			cmd := exec.Command("setpriv", append([]string{"--reuid=65534", "--regid=65534", "--clear-groups", dp}, args...)...)
			// A PATH with neither sudo nor pkexec on it.
			cmd.Env = []string{"HOME=" + e.user, "DEVPORT_HOME=" + e.home, "PATH=" + t.TempDir(), "LANG=C.UTF-8"}
			out, err := cmd.CombinedOutput()
			return string(out), err
		}
		if out, err := run("add", site); err != nil {
			t.Fatalf("add: %v\n%s", err, out)
		}
		out, err := run("setup")
		if err == nil {
			t.Errorf("setup exited 0 although the steps that need root did not run:\n%s", out)
		}
		if l := lineOf(out, "the steps that need root"); !strings.HasPrefix(l, "failed") || !strings.Contains(out, "fix: run as root: "+dp+" setup --apply ") {
			t.Errorf("setup does not name the command to run as root:\n%s", out)
		}
		if l := lineOf(out, "names resolve"); !strings.HasPrefix(l, "skipped") {
			t.Errorf("setup recorded a resolution method it could not install: %q\n%s", l, out)
		}
		// The engine must not believe it manages /etc/hosts: it would ask
		// sudo for every project added.
		if out, _ := run("dns", "status"); strings.Contains(out, "method: hosts") {
			t.Errorf("dns status after a setup that could not reach root:\n%s", out)
		}
		unchanged(t, dp)
		if caps, _ := exec.Command(testenv.Look("getcap"), dp).Output(); len(caps) > 0 {
			t.Errorf("the binary got a capability: %s", caps)
		}
	})

	t.Run("hosts file on a read-only mount", func(t *testing.T) {
		e := newEnv(t)
		dp := e.ownBinary()
		undo(t, e, dp)
		e.mustRun2(dp, "add", e.copyExample("php-shop", "readonly"))
		out, err := inNamespace(t, e, dp, "mount --bind /etc/hosts /etc/hosts; mount -o remount,bind,ro /etc/hosts")
		if err == nil {
			t.Errorf("setup exited 0 although /etc/hosts could not be written:\n%s", out)
		}
		if l := lineOf(out, "name resolution"); !strings.HasPrefix(l, "failed") || !strings.Contains(out, "read-only") || !strings.Contains(out, ".localhost") {
			t.Errorf("the name resolution line does not say the file is read-only and what to do:\n%s", out)
		}
		if l := lineOf(out, "hosts block follows your projects"); strings.HasPrefix(l, "done") {
			t.Errorf("a grant for a hosts block that is not there: %q", l)
		}
		if l := lineOf(out, "names resolve"); !strings.HasPrefix(l, "skipped") {
			t.Errorf("setup recorded a resolution method it could not install: %q\n%s", l, out)
		}
		unchanged(t, dp)
	})

	t.Run("systemd-resolved present but not running", func(t *testing.T) {
		e := newEnv(t)
		dp := e.ownBinary()
		undo(t, e, dp)
		e.mustRun2(dp, "add", e.copyExample("php-shop", "noresolved"))
		// systemd's marker that it is the init system, with nothing behind
		// it: systemctl is-active systemd-resolved fails, as on a system
		// where the unit is installed but stopped.
		out, err := inNamespace(t, e, dp, "mount -t tmpfs tmpfs /run/systemd; mkdir /run/systemd/system")
		if err != nil {
			t.Fatalf("setup: %v\n%s", err, out)
		}
		if l := lineOf(out, "name resolution"); !strings.HasPrefix(l, "done") || !strings.Contains(l, "systemd-resolved is not running") {
			t.Errorf("setup does not say it chose the hosts file because resolved is not running: %q\n%s", l, out)
		}
		if now, _ := os.ReadFile("/etc/hosts"); !strings.Contains(string(now), "noresolved.test") {
			t.Errorf("the hosts block does not hold the project:\n%s", now)
		}
		if left, _ := filepath.Glob("/etc/systemd/resolved.conf.d/*devport*"); len(left) > 0 {
			t.Errorf("a resolved drop-in was written: %v", left)
		}
	})
}
