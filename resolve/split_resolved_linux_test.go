package resolve

import (
	"context"
	"errors"
	"net"
	"os"
	"os/exec"
	"slices"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/devport/devport/internal/testenv"
)

// resolvedScript runs systemd-resolved in a private mount namespace with a
// tmpfs over /run/systemd, devport's drop-in directory bound onto
// /run/systemd/resolved.conf.d and, if the system lacks it, a
// systemd-resolve user in a bound copy of passwd/group. Nothing of it
// outlives the namespace.
const resolvedScript = `set -e
dropins=$1; bin=$2; tmp=$3
mount -t tmpfs tmpfs /run/systemd
mkdir /run/systemd/resolved.conf.d
mount --bind "$dropins" /run/systemd/resolved.conf.d
if ! getent passwd systemd-resolve >/dev/null; then
  cp /etc/passwd "$tmp/passwd"; echo 'systemd-resolve:x:990:990::/:/usr/sbin/nologin' >> "$tmp/passwd"
  cp /etc/group "$tmp/group"; echo 'systemd-resolve:x:990:' >> "$tmp/group"
  mount --bind "$tmp/passwd" /etc/passwd; mount --bind "$tmp/group" /etc/group
fi
exec "$bin"
`

// TestResolvedLive checks the drop-in with a real systemd-resolved: its
// stub at 127.0.0.53 must route shop.test to devport's responder. It runs
// where a systemd-resolved binary exists but is not the running resolver
// (set DEVPORT_RESOLVED_BIN to an unpacked one). scripts/install-deps.sh
// does not install the systemd-resolved package: on Debian that turns
// /etc/resolv.conf into a link to a stub that nothing serves in a container.
func TestResolvedLive(t *testing.T) {
	bin := os.Getenv("DEVPORT_RESOLVED_BIN")
	if bin == "" {
		bin = "/lib/systemd/systemd-resolved"
	}
	if _, err := os.Stat(bin); err != nil {
		t.Skipf("no systemd-resolved binary at %s (set DEVPORT_RESOLVED_BIN)", bin)
	}
	if os.Geteuid() != 0 || !testenv.Have("unshare") {
		t.Skip("needs root and unshare to run systemd-resolved in a private mount namespace")
	}
	if resolvedRunning(context.Background()) == nil {
		t.Skip("systemd-resolved is already the system resolver; 127.0.0.53 is taken")
	}
	srv := startServer(t, "test")
	ctx, cancel := context.WithTimeout(context.Background(), 15*time.Second)
	defer cancel()

	dropins := t.TempDir()
	if err := InstallSplit(ctx, Split{Addr: srv.Addr(), TLDs: []string{"test"}, Dir: dropins, NoReload: true}); err != nil {
		t.Fatal(err)
	}
	cmd := exec.CommandContext(ctx, "unshare", "--mount", "--propagation", "private",
		"sh", "-c", resolvedScript, "sh", dropins, bin, t.TempDir())
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	cmd.Cancel = func() error { return syscall.Kill(-cmd.Process.Pid, syscall.SIGTERM) }
	cmd.WaitDelay = 3 * time.Second
	var logs strings.Builder
	cmd.Stdout, cmd.Stderr = &logs, &logs
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		_ = syscall.Kill(-cmd.Process.Pid, syscall.SIGTERM)
		_ = cmd.Wait()
		// The stub must be gone: no process left behind.
		if c, err := net.DialTimeout("tcp", "127.0.0.53:53", 200*time.Millisecond); err == nil {
			c.Close()
			t.Errorf("systemd-resolved still listens after the test")
		}
	})

	stub := goResolver("127.0.0.53:53", "udp")
	var got []string
	var err error
	for deadline := time.Now().Add(8 * time.Second); time.Now().Before(deadline); time.Sleep(100 * time.Millisecond) {
		lctx, lcancel := context.WithTimeout(ctx, time.Second)
		got, err = stub.LookupHost(lctx, "shop.test")
		lcancel()
		if err == nil {
			break
		}
	}
	slices.Sort(got)
	if err != nil || !slices.Equal(got, []string{"127.0.0.1", "::1"}) {
		t.Fatalf("shop.test through systemd-resolved = %v, %v; want [127.0.0.1 ::1]\nresolved output:\n%s", got, err, logs.String())
	}
	t.Logf("shop.test through systemd-resolved's stub: %v", got)
}

// TestSplitWithoutResolved: where systemd-resolved is not running (this CI
// container), InstallSplit says so and writes nothing.
func TestSplitWithoutResolved(t *testing.T) {
	ctx := context.Background()
	if resolvedRunning(ctx) == nil {
		t.Skip("systemd-resolved is running here")
	}
	dir := t.TempDir()
	err := InstallSplit(ctx, Split{Addr: "127.0.0.1:5354", TLDs: []string{"test"}, Dir: dir})
	if !errors.Is(err, ErrResolvedNotRunning) {
		t.Fatalf("InstallSplit = %v, want ErrResolvedNotRunning", err)
	}
	if left, _ := os.ReadDir(dir); len(left) != 0 {
		t.Fatalf("wrote %v although resolved is not running", left)
	}
}

func TestChoose(t *testing.T) {
	ctx := context.Background()
	want := MethodHosts
	if resolvedRunning(ctx) == nil {
		want = MethodResolver
	}
	tests := []struct {
		tld  string
		want Method
	}{
		{"localhost", MethodLocalhost},
		{".localhost.", MethodLocalhost},
		{"test", want},
	}
	for _, tc := range tests {
		t.Run(tc.tld, func(t *testing.T) {
			if got := Choose(ctx, tc.tld); got != tc.want {
				t.Fatalf("Choose(%q) = %s, want %s", tc.tld, got, tc.want)
			}
		})
	}
}
