package resolve

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"testing"
)

func TestSplitFileContent(t *testing.T) {
	tests := []struct {
		name     string
		addr     string
		tlds     []string
		resolved string // "" when an error is wanted
		resolver string
	}{
		{
			name: "one TLD", addr: "127.0.0.1:5354", tlds: []string{"test"},
			resolved: splitMarker + "\n[Resolve]\nDNS=127.0.0.1:5354\nDomains=~test\n",
			resolver: splitMarker + "\nnameserver 127.0.0.1\nport 5354\n",
		},
		{
			name: "two TLDs, dotted and upper case", addr: "127.0.0.1:40001", tlds: []string{".test", "Localhost."},
			resolved: splitMarker + "\n[Resolve]\nDNS=127.0.0.1:40001\nDomains=~test ~localhost\n",
			resolver: splitMarker + "\nnameserver 127.0.0.1\nport 40001\n",
		},
		{
			name: "IPv6 loopback needs brackets for resolved", addr: "[::1]:5354", tlds: []string{"test"},
			resolved: splitMarker + "\n[Resolve]\nDNS=[::1]:5354\nDomains=~test\n",
			resolver: splitMarker + "\nnameserver ::1\nport 5354\n",
		},
		{name: "port 0 (before Start)", addr: "127.0.0.1:0", tlds: []string{"test"}},
		{name: "no port", addr: "127.0.0.1", tlds: []string{"test"}},
		{name: "a host name", addr: "localhost:53", tlds: []string{"test"}},
		{name: "unspecified address", addr: "0.0.0.0:53", tlds: []string{"test"}},
		{name: "no TLDs", addr: "127.0.0.1:53"},
		{name: "bad TLD", addr: "127.0.0.1:53", tlds: []string{"te st"}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got, err := ResolvedDropIn(tc.addr, tc.tlds)
			if tc.resolved == "" {
				if err == nil {
					t.Fatalf("ResolvedDropIn accepted it: %q", got)
				}
				return
			}
			if err != nil || string(got) != tc.resolved {
				t.Fatalf("ResolvedDropIn = %q, %v; want %q", got, err, tc.resolved)
			}
			got, err = ResolverFile(tc.addr)
			if err != nil || string(got) != tc.resolver {
				t.Fatalf("ResolverFile = %q, %v; want %q", got, err, tc.resolver)
			}
		})
	}
}

// TestSplitInstall writes the OS files into a temporary directory. Whether
// the OS resolver then routes the TLD is not tested here: that needs a
// running systemd-resolved (Linux) or mDNSResponder (macOS), which a CI
// container does not have.
func TestSplitInstall(t *testing.T) {
	if runtime.GOOS != "linux" && runtime.GOOS != "darwin" {
		if err := InstallSplit(context.Background(), Split{Addr: "127.0.0.1:53", TLDs: []string{"test"}}); !errors.Is(err, ErrNotSupported) {
			t.Fatalf("InstallSplit = %v, want ErrNotSupported", err)
		}
		return
	}
	ctx := context.Background()
	// The files InstallSplit writes for TLDs "test" and "localhost".
	files := []string{ResolvedDropInName}
	if runtime.GOOS == "darwin" {
		files = []string{"test", "localhost"}
	}
	content := func(addr string) string {
		b, _ := ResolvedDropIn(addr, []string{"test", "localhost"})
		if runtime.GOOS == "darwin" {
			b, _ = ResolverFile(addr)
		}
		return string(b)
	}

	t.Run("install, update, remove", func(t *testing.T) {
		dir := filepath.Join(t.TempDir(), "conf.d") // created on demand
		s := Split{Addr: "127.0.0.1:5354", TLDs: []string{"test", "localhost"}, Dir: dir, NoReload: true}
		if err := InstallSplit(ctx, s); err != nil {
			t.Fatal(err)
		}
		for _, f := range files {
			if got := readString(t, filepath.Join(dir, f)); got != content(s.Addr) {
				t.Fatalf("%s = %q, want %q", f, got, content(s.Addr))
			}
		}
		s.Addr = "127.0.0.1:6000"
		if err := InstallSplit(ctx, s); err != nil {
			t.Fatalf("update: %v", err)
		}
		for _, f := range files {
			if got := readString(t, filepath.Join(dir, f)); got != content(s.Addr) {
				t.Fatalf("after update %s = %q", f, got)
			}
		}
		if err := RemoveSplit(ctx, s); err != nil {
			t.Fatal(err)
		}
		if left, _ := os.ReadDir(dir); len(left) != 0 {
			t.Fatalf("left behind: %v", left)
		}
		if err := RemoveSplit(ctx, s); err != nil {
			t.Fatalf("second remove: %v", err)
		}
	})

	t.Run("a file devport did not write is kept", func(t *testing.T) {
		dir := t.TempDir()
		foreign := filepath.Join(dir, files[0])
		const theirs = "[Resolve]\nDNS=10.0.0.1\nDomains=~corp\n"
		if err := os.WriteFile(foreign, []byte(theirs), 0o644); err != nil {
			t.Fatal(err)
		}
		s := Split{Addr: "127.0.0.1:5354", TLDs: []string{"test", "localhost"}, Dir: dir, NoReload: true}
		err := InstallSplit(ctx, s)
		if err == nil || !strings.Contains(err.Error(), "not written by devport") {
			t.Fatalf("InstallSplit over a foreign file = %v", err)
		}
		if err := RemoveSplit(ctx, s); err != nil {
			t.Fatal(err)
		}
		if got := readString(t, foreign); got != theirs {
			t.Fatalf("foreign file changed: %q", got)
		}
	})
}
