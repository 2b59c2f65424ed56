package resolve

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"

	"github.com/devport/devport/internal/testenv"
)

// TestHostsBindMount replaces a file that is a bind mount, as /etc/hosts is
// in Docker containers: rename gives EBUSY, and SetHosts must fall back to
// rewriting it in place (the mounted source file changes).
func TestHostsBindMount(t *testing.T) {
	if os.Geteuid() != 0 {
		testenv.Need(t, "root (to bind-mount a file)", false, testenv.InstallFix)
	}
	dir := t.TempDir()
	src := filepath.Join(dir, "host-side")
	dst := filepath.Join(dir, "hosts")
	const original = "127.0.0.1 localhost\n"
	for _, p := range []string{src, dst} {
		if err := os.WriteFile(p, []byte(original), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	if err := syscall.Mount(src, dst, "", syscall.MS_BIND, ""); err != nil {
		testenv.Need(t, "bind mounts ("+err.Error()+")", false, testenv.InstallFix)
	}
	t.Cleanup(func() {
		if err := syscall.Unmount(dst, 0); err != nil {
			t.Errorf("unmount %s: %v", dst, err)
		}
	})
	// Show that the test really exercises the fallback.
	tmp := filepath.Join(dir, "probe")
	if err := os.WriteFile(tmp, nil, 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.Rename(tmp, dst); err == nil || !strings.Contains(err.Error(), "busy") {
		t.Fatalf("rename over the bind mount = %v, want EBUSY", err)
	}
	os.Remove(tmp)

	ctx := context.Background()
	if err := SetHosts(ctx, dst, []string{"shop.test"}); err != nil {
		t.Fatalf("SetHosts on a bind mount: %v", err)
	}
	if got := readString(t, src); !strings.Contains(got, "127.0.0.1 shop.test\n") {
		t.Fatalf("the mounted file did not change: %q", got)
	}
	if err := RemoveHosts(ctx, dst); err != nil {
		t.Fatalf("RemoveHosts on a bind mount: %v", err)
	}
	if got := readString(t, src); got != original {
		t.Fatalf("after remove: %q", got)
	}
	if left, _ := filepath.Glob(filepath.Join(dir, ".hosts.devport-*")); len(left) > 0 {
		t.Fatalf("temporary files left: %v", left)
	}
}
