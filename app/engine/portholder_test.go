package engine

import (
	"net"
	"os"
	"runtime"
	"strings"
	"testing"
)

func TestPortHolders(t *testing.T) {
	if runtime.GOOS != "linux" {
		t.Skip("port holders come from /proc")
	}
	tests := []struct {
		name, network, addr string
	}{
		{"ipv4", "tcp4", "127.0.0.1:0"},
		{"ipv6", "tcp6", "[::1]:0"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			l, err := net.Listen(tc.network, tc.addr)
			if err != nil {
				t.Skipf("no %s loopback: %v", tc.name, err)
			}
			defer l.Close()
			port := l.Addr().(*net.TCPAddr).Port
			hs := portHolders(port)
			if len(hs) != 1 || hs[0].PID != os.Getpid() {
				t.Fatalf("portHolders(%d) = %v, want this process (pid %d)", port, hs, os.Getpid())
			}
			if got := describeHolder(port); !strings.Contains(got, "pid") {
				t.Errorf("describeHolder = %q", got)
			}
		})
	}
	t.Run("free port", func(t *testing.T) {
		l, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			t.Fatal(err)
		}
		port := l.Addr().(*net.TCPAddr).Port
		l.Close()
		if hs := portHolders(port); len(hs) != 0 {
			t.Errorf("free port %d held by %v", port, hs)
		}
		if got := describeHolder(port); !strings.Contains(got, "ss -ltnp") {
			t.Errorf("describeHolder of a free port = %q", got)
		}
	})
}
