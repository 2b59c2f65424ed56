package e2e

import (
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/devport/devport/internal/testenv"
)

// TestSetupGrantsLowPorts runs devport setup on a copy of the binary, then
// starts that copy as an ordinary user, which must now bind 443 and 80.
func TestSetupGrantsLowPorts(t *testing.T) {
	testenv.Need(t, "root (setcap, and setpriv to drop to nobody)", os.Geteuid() == 0, testenv.InstallFix)
	testenv.Tool(t, "setpriv")
	testenv.Need(t, "getcap (libcap2-bin)", testenv.Have("getcap") || fileExists("/usr/sbin/getcap"), testenv.InstallFix)
	for _, p := range []string{"127.0.0.1:443", "127.0.0.1:80"} {
		l, err := net.Listen("tcp", p)
		if err != nil {
			t.Skipf("%s is taken on this machine: %v", p, err)
		}
		l.Close()
	}
	e := newEnv(t)
	copyBin := filepath.Join(e.root, "devport")
	raw, err := os.ReadFile(bin)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(copyBin, raw, 0o755); err != nil {
		t.Fatal(err)
	}
	out := e.mustRun2(copyBin, "setup")
	if !strings.Contains(out, "may now bind ports 443 and 80") {
		t.Errorf("setup said: %s", out)
	}
	getcap, _ := exec.LookPath("getcap")
	if getcap == "" {
		getcap = "/usr/sbin/getcap"
	}
	caps, err := exec.Command(getcap, copyBin).Output()
	if err != nil || !strings.Contains(string(caps), "cap_net_bind_service=ep") {
		t.Fatalf("getcap %s: %q, %v", copyBin, caps, err)
	}
	for _, d := range []string{e.home, e.user} {
		if err := os.Chown(d, 65534, 65534); err != nil {
			t.Fatal(err)
		}
	}
	g := e.serveArgv([]string{"setpriv", "--reuid=65534", "--regid=65534", "--clear-groups", copyBin, "serve", "--headless"})
	if o := g.output(); !strings.Contains(o, "serving https on 127.0.0.1:443") || strings.Contains(o, "instead") {
		t.Errorf("engine as nobody after setup:\n%s", o)
	}
	if err := g.stop(t); err != nil {
		t.Errorf("exit after SIGTERM: %v\n%s", err, g.output())
	}
}
