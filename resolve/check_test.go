package resolve

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/hex"
	"os"
	"os/exec"
	"strings"
	"testing"
	"time"

	"github.com/devport/devport/internal/testenv"
)

func randomName(t *testing.T, prefix, tld string) string {
	t.Helper()
	b := make([]byte, 4)
	if _, err := rand.Read(b); err != nil {
		t.Fatal(err)
	}
	return prefix + "-" + hex.EncodeToString(b) + "." + tld
}

// getentFields runs `getent DB NAME` and returns the distinct first column
// (the addresses); an unknown name gives none.
func getentFields(t *testing.T, db, name string) []string {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	out, err := exec.CommandContext(ctx, "getent", db, name).Output()
	if err != nil && ctx.Err() != nil {
		t.Fatalf("getent %s %s: %v", db, name, err)
	}
	var addrs []string
	for _, line := range strings.Split(string(out), "\n") {
		if f := strings.Fields(line); len(f) > 0 && !strings.Contains(strings.Join(addrs, " "), f[0]) {
			addrs = append(addrs, f[0])
		}
	}
	return addrs
}

// TestRealHostsFile switches the hosts method on and off on the real
// /etc/hosts and looks the name up through glibc (getent) each time. The
// original bytes are saved first and written back in t.Cleanup if the test
// leaves anything different, even when it fails midway.
func TestRealHostsFile(t *testing.T) {
	testenv.Need(t, "root (to edit the real /etc/hosts)", os.Geteuid() == 0, testenv.InstallFix)
	testenv.Tool(t, "getent")
	testenv.Lock(t, "hosts")
	original, err := os.ReadFile(DefaultHostsPath)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		now, err := os.ReadFile(DefaultHostsPath)
		if err == nil && bytes.Equal(now, original) {
			return
		}
		if err := rewriteInPlace(DefaultHostsPath, original); err != nil {
			t.Errorf("RESTORE FAILED, put these bytes back in /etc/hosts by hand: %q: %v", original, err)
			return
		}
		t.Logf("restored the original /etc/hosts in cleanup")
	})

	ctx, cancel := context.WithTimeout(context.Background(), 15*time.Second)
	defer cancel()
	name := randomName(t, "shop", "test")
	if got := getentFields(t, "hosts", name); len(got) != 0 {
		t.Fatalf("before: getent hosts %s = %v, want nothing", name, got)
	}

	if err := SetHosts(ctx, DefaultHostsPath, []string{name}); err != nil {
		t.Fatalf("SetHosts: %v", err)
	}
	tests := []struct {
		db   string
		want string
	}{
		// getent hosts asks for AF_INET6 first (glibc's getent.c), so the
		// ::1 line wins; ahostsv4 is the IPv4 view.
		{"hosts", "::1"},
		{"ahostsv4", "127.0.0.1"},
		{"ahosts", "127.0.0.1"},
	}
	for _, tc := range tests {
		t.Run("on/getent "+tc.db, func(t *testing.T) {
			got := getentFields(t, tc.db, name)
			if !strings.Contains(" "+strings.Join(got, " ")+" ", " "+tc.want+" ") || nonLoopback(got) {
				t.Fatalf("getent %s %s = %v, want %s and only loopback", tc.db, name, got, tc.want)
			}
		})
	}
	t.Run("on/Check", func(t *testing.T) {
		r := Check(ctx, name)
		if !r.OK || r.Method != MethodHosts || r.Fix != "" {
			t.Fatalf("Check = %+v, want OK by hosts", r)
		}
	})

	if err := RemoveHosts(ctx, DefaultHostsPath); err != nil {
		t.Fatalf("RemoveHosts: %v", err)
	}
	now, err := os.ReadFile(DefaultHostsPath)
	if err != nil || !bytes.Equal(now, original) {
		t.Fatalf("after RemoveHosts /etc/hosts = %q, want the original %q", now, original)
	}
	for _, db := range []string{"hosts", "ahosts"} {
		if got := getentFields(t, db, name); len(got) != 0 {
			t.Fatalf("off: getent %s %s = %v, want nothing", db, name, got)
		}
	}

	// A name that resolves elsewhere, as when a VPN's DNS answers for
	// .test: Check must say so and offer the hosts file.
	t.Run("non-loopback answer", func(t *testing.T) {
		vpn := randomName(t, "vpn", "test")
		if err := rewriteInPlace(DefaultHostsPath, append(bytes.Clone(original), []byte("\n10.20.30.40 "+vpn+"\n")...)); err != nil {
			t.Fatal(err)
		}
		r := Check(ctx, vpn)
		if err := rewriteInPlace(DefaultHostsPath, original); err != nil {
			t.Fatal(err)
		}
		if r.OK || r.Fix != HostsFix || !strings.Contains(r.Detail, "10.20.30.40, not loopback") {
			t.Fatalf("Check = %+v, want not OK, naming 10.20.30.40, fix %q", r, HostsFix)
		}
	})
}

func TestCheck(t *testing.T) {
	hosts := writeTemp(t, "127.0.0.1 localhost\n")
	c := Checker{HostsPath: hosts, Timeout: 3 * time.Second}
	ctx := context.Background()
	tests := []struct {
		name       string
		host       string
		wantOK     bool
		wantMethod Method
		wantFix    string
		wantDetail string
	}{
		{
			name: "localhost itself, in the hosts file", host: "localhost",
			wantOK: true, wantMethod: MethodHosts,
		},
		{
			// glibc 2.36 with "hosts: files dns" and Go's resolver do
			// not resolve *.localhost; browsers and curl do.
			name: "a .localhost name", host: randomName(t, "shop", "localhost"),
			wantOK: true, wantMethod: MethodLocalhost, wantDetail: "browsers",
		},
		{
			name: "an unknown .test name", host: randomName(t, "nope", "test"),
			wantOK: false, wantMethod: MethodNone, wantFix: HostsFix, wantDetail: "does not resolve",
		},
		{
			name: "an invalid name", host: "bad name.test",
			wantOK: false, wantMethod: MethodNone, wantDetail: "only letters",
		},
	}
	t.Run("cancelled", func(t *testing.T) {
		cctx, cancel := context.WithCancel(ctx)
		cancel()
		r := c.Check(cctx, "localhost")
		if r.OK || !strings.Contains(r.Detail, "did not finish") {
			t.Fatalf("Check with a cancelled context = %+v", r)
		}
	})
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			r := c.Check(ctx, tc.host)
			t.Logf("%+v", r)
			if r.OK != tc.wantOK || r.Method != tc.wantMethod || r.Fix != tc.wantFix || !strings.Contains(r.Detail, tc.wantDetail) {
				t.Fatalf("Check(%q) = %+v; want ok=%v method=%s fix=%q detail~%q", tc.host, r, tc.wantOK, tc.wantMethod, tc.wantFix, tc.wantDetail)
			}
		})
	}
}
