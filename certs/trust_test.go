package certs

import (
	"context"
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/devport/devport/internal/testenv"
)

// needRoot skips the test (or fails it under DEVPORT_REQUIRE_ALL=1) unless
// it runs as root: the system stores belong to root.
func needRoot(t *testing.T) {
	t.Helper()
	testenv.Need(t, "root", os.Geteuid() == 0, "run the tests as root, as CI does")
}

func TestReportString(t *testing.T) {
	tests := []struct {
		name string
		r    Report
		want string
	}{
		{"empty", nil, ""},
		{
			"trusted system and nss",
			Report{
				{Store: StoreSystem, Location: "/usr/local/share/ca-certificates/devport_x.crt", Trusted: true},
				{Store: StoreNSS, Location: "/root/.pki/nssdb", Trusted: true, Detail: "added"},
			},
			"system  trusted  /usr/local/share/ca-certificates/devport_x.crt\nnss  trusted  /root/.pki/nssdb  added",
		},
		{
			"certutil missing",
			Report{{Store: StoreNSS, Location: "/root/.pki/nssdb", Detail: "certutil not found: apt-get install libnss3-tools",
				Err: &MissingToolError{Tool: "certutil", Hint: "apt-get install libnss3-tools"}}},
			"nss  skipped  certutil not found: apt-get install libnss3-tools",
		},
		{
			"failure keeps the command output on one line",
			Report{{Store: StoreSystem, Location: "/a.crt", Err: &CommandError{
				Args: []string{"update-ca-certificates"}, Output: "line 1\nline 2", Err: errors.New("exit status 1")}}},
			"system  failed  /a.crt  error: update-ca-certificates: exit status 1 | line 1 | line 2",
		},
		{
			"needs root",
			Report{{Store: StoreSystem, Location: "/a.crt", Err: ErrNeedsRoot, Detail: "run as root, e.g. sudo devport trust"}},
			"system  failed  /a.crt  run as root, e.g. sudo devport trust  error: " + ErrNeedsRoot.Error(),
		},
		{
			"removed",
			Report{{Store: StoreNSS, Location: "/h/.pki/nssdb", Detail: "removed"}},
			"nss  not trusted  /h/.pki/nssdb  removed",
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if got := tc.r.String(); got != tc.want {
				t.Errorf("got\n%s\nwant\n%s", got, tc.want)
			}
		})
	}
}

func TestTrustNSSWithoutCertutil(t *testing.T) {
	a := openTestCA(t)
	home := t.TempDir()
	t.Setenv("PATH", t.TempDir()) // no certutil anywhere

	r, err := a.Trust(context.Background(), TrustOptions{NSS: true, Home: home})
	var missing *MissingToolError
	if !errors.As(err, &missing) || missing.Tool != "certutil" {
		t.Fatalf("Trust error = %v, want *MissingToolError for certutil", err)
	}
	if len(r) != 1 || r[0].Trusted || r[0].state() != "skipped" {
		t.Fatalf("report = %#v", r)
	}
	line := r.String()
	if !strings.HasPrefix(line, "nss  skipped  certutil not found: ") {
		t.Errorf("String() = %q", line)
	}
	if _, err := os.Stat("/etc/debian_version"); err == nil && !strings.HasSuffix(line, "apt-get install libnss3-tools") {
		t.Errorf("String() = %q, want the Debian install hint", line)
	}
	if _, err := os.Stat(filepath.Join(home, ".pki")); err == nil {
		t.Error("created ~/.pki without certutil")
	}
}

// TestTrustNSSOnly runs as any user: NSS needs no privileges.
func TestTrustNSSOnly(t *testing.T) {
	testenv.Tool(t, "certutil")
	ctx := context.Background()
	a := openTestCA(t)
	home := t.TempDir()
	opts := TrustOptions{NSS: true, Home: home}
	nssdb := filepath.Join(home, ".pki", "nssdb")
	t.Cleanup(func() { _, _ = a.Untrust(context.Background(), opts) })

	t.Run("status before", func(t *testing.T) {
		r := a.TrustStatus(ctx, opts)
		if len(r) != 1 || r[0].Trusted || r[0].Err != nil || r[0].Detail != "no NSS database" {
			t.Errorf("status = %s", r)
		}
	})
	t.Run("trust creates the database", func(t *testing.T) {
		r, err := a.Trust(ctx, opts)
		if err != nil {
			t.Fatal(err)
		}
		if len(r) != 1 || !r[0].Trusted || r[0].Location != nssdb || r[0].Detail != "created database, added" {
			t.Errorf("report = %s", r)
		}
		fi, err := os.Stat(nssdb)
		if err != nil || fi.Mode().Perm() != 0o700 {
			t.Errorf("nssdb: %v %v", fi, err)
		}
	})
	t.Run("certutil lists it as a trusted CA", func(t *testing.T) {
		assertNSS(t, a, nssdb, true)
	})
	t.Run("trust again", func(t *testing.T) {
		r, err := a.Trust(ctx, opts)
		if err != nil || len(r) != 1 || !r[0].Trusted || r[0].Detail != "already trusted" {
			t.Errorf("report = %s, err = %v", r, err)
		}
	})
	t.Run("untrust", func(t *testing.T) {
		r, err := a.Untrust(ctx, opts)
		if err != nil || len(r) != 1 || r[0].Trusted || r[0].Detail != "removed" {
			t.Errorf("report = %s, err = %v", r, err)
		}
		assertNSS(t, a, nssdb, false)
		if st := a.TrustStatus(ctx, opts); len(st) != 1 || st[0].Trusted || st[0].Err != nil {
			t.Errorf("status after = %s", st)
		}
	})
}

// assertNSS checks with certutil itself whether db lists the CA.
func assertNSS(t *testing.T, a *Authority, db string, want bool) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	out, err := exec.CommandContext(ctx, "certutil", "-L", "-d", "sql:"+db).CombinedOutput()
	if err != nil {
		t.Fatalf("certutil -L: %v\n%s", err, out)
	}
	listed := false
	for _, line := range strings.Split(string(out), "\n") {
		if strings.HasPrefix(line, a.storeName()+" ") {
			listed = true
			if !strings.HasSuffix(strings.TrimSpace(line), "C,,") {
				t.Errorf("trust flags: %q", line)
			}
		}
	}
	if listed != want {
		t.Errorf("certutil -L -d sql:%s lists the CA: %v, want %v\n%s", db, listed, want, out)
	}
	err = exec.CommandContext(ctx, "certutil", "-L", "-d", "sql:"+db, "-n", a.storeName()).Run()
	if (err == nil) != want {
		t.Errorf("certutil -L -n %q: %v", a.storeName(), err)
	}
}
