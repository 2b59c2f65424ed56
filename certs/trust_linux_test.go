package certs

import (
	"context"
	"encoding/pem"
	"io/fs"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/devport/devport/internal/testenv"
)

// TestTrustRealStores installs a fresh CA into the real system store and
// into NSS databases under a temporary HOME, checks that OpenSSL and
// certutil accept it, then removes it and proves nothing is left: no
// anchor, no dangling link, not in the bundle, not in the Java keystore,
// not in NSS. Install and removal are slow (seconds), so they happen once.
func TestTrustRealStores(t *testing.T) {
	needRoot(t)
	for _, tool := range []string{"update-ca-certificates", "certutil", "openssl"} {
		testenv.Tool(t, tool)
	}
	systemStoreLock(t)
	home := t.TempDir()
	t.Setenv("HOME", home) // nothing may touch the real ~/.pki
	a := openTestCA(t)
	opts := TrustOptions{System: true, NSS: true, Home: home}
	nssdb := filepath.Join(home, ".pki", "nssdb")

	// A Firefox profile with its own database, as Firefox creates it.
	profile := filepath.Join(home, ".mozilla", "firefox", "abcd1234.default-release")
	if err := os.MkdirAll(profile, 0o700); err != nil {
		t.Fatal(err)
	}
	if out, err := exec.Command("certutil", "-N", "-d", "sql:"+profile, "--empty-password").CombinedOutput(); err != nil {
		t.Fatalf("certutil -N: %v\n%s", err, out)
	}

	danglingBefore := danglingLinks(t)
	bundle := systemBundle(t)
	t.Cleanup(func() {
		// Runs even when a subtest failed half-way; Untrust is idempotent.
		ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
		defer cancel()
		if r, err := a.Untrust(ctx, opts); err != nil {
			t.Errorf("cleanup Untrust: %v\n%s", err, r)
		}
		assertNothingLeft(t, a, danglingBefore, nssdb, profile)
	})

	ctx := context.Background()
	start := time.Now()
	r, err := a.Trust(ctx, opts)
	t.Logf("Trust took %v:\n%s", time.Since(start).Round(time.Millisecond), r)
	if err != nil {
		t.Fatal(err)
	}

	t.Run("report", func(t *testing.T) {
		wantLocations := []string{a.anchorPath(), nssdb, profile}
		if len(r) != len(wantLocations) {
			t.Fatalf("%d results, want %d", len(r), len(wantLocations))
		}
		for k, s := range r {
			if !s.Trusted || s.Err != nil || s.Location != wantLocations[k] {
				t.Errorf("result %d = %+v, want trusted at %s", k, s, wantLocations[k])
			}
		}
		if !strings.HasPrefix(a.anchorPath(), "/usr/local/share/ca-certificates/devport_local_CA_") {
			t.Errorf("anchor %s", a.anchorPath())
		}
		lines := strings.Split(r.String(), "\n")
		if len(lines) != 3 || !strings.HasPrefix(lines[0], "system  trusted  /usr/local/share/ca-certificates/") ||
			!strings.HasPrefix(lines[1], "nss  trusted  "+nssdb) {
			t.Errorf("String() =\n%s", r)
		}
	})

	t.Run("status", func(t *testing.T) {
		st := a.TrustStatus(ctx, opts)
		if len(st) != 3 {
			t.Fatalf("status = %s", st)
		}
		for _, s := range st {
			if !s.Trusted || s.Err != nil {
				t.Errorf("%+v", s)
			}
		}
	})

	leafPEM := writeLeaf(t, a, "shop.test")
	t.Run("openssl verifies a leaf against the system bundle", func(t *testing.T) {
		out, err := exec.Command("openssl", "verify", "-CAfile", bundle, "-verify_hostname", "shop.test", leafPEM).CombinedOutput()
		if err != nil {
			t.Errorf("openssl verify: %v\n%s", err, out)
		}
	})

	t.Run("openssl enforces the name constraints", func(t *testing.T) {
		evil := filepath.Join(t.TempDir(), "google.pem")
		leaf := signDirect(t, a, []string{"google.com"}, []net.IP{net.IPv4(8, 8, 8, 8)})
		if err := os.WriteFile(evil, pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: leaf.Raw}), 0o644); err != nil {
			t.Fatal(err)
		}
		out, err := exec.Command("openssl", "verify", "-CAfile", bundle, evil).CombinedOutput()
		if err == nil {
			t.Errorf("openssl accepted a google.com leaf:\n%s", out)
		}
	})

	t.Run("certutil lists it", func(t *testing.T) {
		assertNSS(t, a, nssdb, true)
		assertNSS(t, a, profile, true)
	})

	t.Run("Debian's Java hook copied it", func(t *testing.T) {
		keytool := findKeytool()
		if keytool == "" || !fileExists(javaCacerts) {
			t.Skip("no Java keystore")
		}
		aliases, err := javaAliases(ctx, keytool, a.Root())
		if err != nil {
			t.Fatal(err)
		}
		// Informational: this is what Untrust must clean up.
		t.Logf("Java aliases: %v", aliases)
	})

	t.Run("trust again changes nothing", func(t *testing.T) {
		start := time.Now()
		r, err := a.Trust(ctx, opts)
		if err != nil {
			t.Fatal(err)
		}
		for _, s := range r {
			if !s.Trusted || s.Detail != "already trusted" {
				t.Errorf("%+v", s)
			}
		}
		if d := time.Since(start); d > 5*time.Second {
			t.Errorf("took %v; should only check", d)
		}
	})

	t.Run("untrust", func(t *testing.T) {
		start := time.Now()
		r, err := a.Untrust(ctx, opts)
		t.Logf("Untrust took %v:\n%s", time.Since(start).Round(time.Millisecond), r)
		if err != nil {
			t.Fatal(err)
		}
		for _, s := range r {
			if s.Trusted {
				t.Errorf("still trusted: %+v", s)
			}
		}
		assertNothingLeft(t, a, danglingBefore, nssdb, profile)
		out, err := exec.Command("openssl", "verify", "-CAfile", bundle, leafPEM).CombinedOutput()
		if err == nil {
			t.Errorf("openssl still verifies the leaf:\n%s", out)
		}
		if st := a.TrustStatus(ctx, opts); len(st) != 3 || slices.ContainsFunc(st, func(s StoreResult) bool { return s.Trusted || s.Err != nil }) {
			t.Errorf("status after untrust:\n%s", st)
		}
	})
}

// assertNothingLeft proves the CA is gone from every store.
func assertNothingLeft(t *testing.T, a *Authority, danglingBefore []string, nssdbs ...string) {
	t.Helper()
	anchor := a.anchorPath()
	if _, err := os.Lstat(anchor); err == nil {
		t.Errorf("anchor %s still exists", anchor)
	}
	anchorDir := filepath.Dir(anchor)
	entries, err := os.ReadDir(anchorDir)
	if err != nil {
		t.Fatal(err)
	}
	for _, e := range entries {
		p := filepath.Join(anchorDir, e.Name())
		if strings.Contains(e.Name(), "devport") {
			t.Errorf("%s left behind", p)
		}
		if in, _ := pemFileContains(p, a.Root()); in {
			t.Errorf("%s holds the CA", p)
		}
	}
	for _, l := range danglingLinks(t) {
		if !slices.Contains(danglingBefore, l) {
			t.Errorf("dangling link left behind: %s", l)
		}
	}
	certEntries, err := os.ReadDir(etcCertsDir)
	if err != nil {
		t.Fatal(err)
	}
	for _, e := range certEntries {
		p := filepath.Join(etcCertsDir, e.Name())
		if e.Type()&fs.ModeSymlink != 0 && linksTo(p, anchor) {
			t.Errorf("link to the anchor left behind: %s", p)
		}
	}
	if in, err := pemFileContains(systemBundle(t), a.Root()); err != nil || in {
		t.Errorf("bundle still holds the CA (err %v)", err)
	}
	if keytool := findKeytool(); keytool != "" && fileExists(javaCacerts) {
		aliases, err := javaAliases(context.Background(), keytool, a.Root())
		if err != nil || len(aliases) > 0 {
			t.Errorf("Java keystore still holds the CA as %v (err %v)", aliases, err)
		}
	}
	for _, db := range nssdbs {
		assertNSS(t, a, db, false)
	}
}

// danglingLinks lists the symlinks in /etc/ssl/certs that resolve nowhere
// (find /etc/ssl/certs -xtype l).
func danglingLinks(t *testing.T) []string {
	t.Helper()
	entries, err := os.ReadDir(etcCertsDir)
	if err != nil {
		t.Fatal(err)
	}
	var out []string
	for _, e := range entries {
		p := filepath.Join(etcCertsDir, e.Name())
		if e.Type()&fs.ModeSymlink == 0 {
			continue
		}
		if _, err := os.Stat(p); err != nil {
			out = append(out, p)
		}
	}
	return out
}

func systemBundle(t *testing.T) string {
	t.Helper()
	for _, b := range bundles {
		if fileExists(b) {
			return b
		}
	}
	t.Fatal("no system CA bundle")
	return ""
}

func writeLeaf(t *testing.T, a *Authority, name string) string {
	t.Helper()
	c, err := a.Issue([]string{name})
	if err != nil {
		t.Fatal(err)
	}
	p := filepath.Join(t.TempDir(), "leaf.pem")
	if err := os.WriteFile(p, pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: c.Certificate[0]}), 0o644); err != nil {
		t.Fatal(err)
	}
	return p
}

// TestRemoveDanglingLinks works on a copy of the /etc/ssl/certs layout:
// only dangling links that lead to the anchor go, and a gap in a hash
// chain is closed.
func TestRemoveDanglingLinks(t *testing.T) {
	dir := t.TempDir()
	anchor := filepath.Join(t.TempDir(), "devport_x.crt") // already deleted
	for _, f := range []string{"other.pem", "unrelated2.pem"} {
		if err := os.WriteFile(filepath.Join(dir, f), []byte("cert"), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	links := map[string]string{
		"devport_x.pem": anchor,          // update-ca-certificates' link
		"abcd1234.0":    "devport_x.pem", // OpenSSL hash link, same hash as other.pem
		"abcd1234.1":    "other.pem",
		"abcd1234.2":    "unrelated2.pem",             // survives as abcd1234.1
		"unrelated.pem": "/nonexistent/unrelated.crt", // someone else's dangling link
	}
	for name, target := range links {
		if err := os.Symlink(target, filepath.Join(dir, name)); err != nil {
			t.Fatal(err)
		}
	}
	n, err := removeDanglingLinks(dir, anchor)
	if err != nil || n != 2 {
		t.Fatalf("removed %d, err %v; want 2", n, err)
	}
	for _, name := range []string{"devport_x.pem", "abcd1234.2"} {
		if _, err := os.Lstat(filepath.Join(dir, name)); err == nil {
			t.Errorf("%s still there", name)
		}
	}
	for _, name := range []string{"unrelated.pem", "unrelated2.pem", "other.pem"} {
		if _, err := os.Lstat(filepath.Join(dir, name)); err != nil {
			t.Errorf("%s removed: %v", name, err)
		}
	}
	// The hash chain has no gap: .0 and .1 are the two remaining links.
	for name, target := range map[string]string{"abcd1234.0": "other.pem", "abcd1234.1": "unrelated2.pem"} {
		if got, err := os.Readlink(filepath.Join(dir, name)); err != nil || got != target {
			t.Errorf("%s -> %s (%v), want %s", name, got, err, target)
		}
	}
}

// TestTrustNSSForOtherUser: root creating ~/.pki/nssdb in another user's
// home hands it to that user, or their browser could not open it.
func TestTrustNSSForOtherUser(t *testing.T) {
	needRoot(t)
	testenv.Tool(t, "certutil")
	const nobody = 65534
	home := filepath.Join(t.TempDir(), "home")
	if err := os.Mkdir(home, 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.Chown(home, nobody, nobody); err != nil {
		t.Fatal(err)
	}
	a := openTestCA(t)
	opts := TrustOptions{NSS: true, Home: home}
	t.Cleanup(func() { _, _ = a.Untrust(context.Background(), opts) })
	if r, err := a.Trust(context.Background(), opts); err != nil || len(r) != 1 || !r[0].Trusted {
		t.Fatalf("Trust = %s, %v", r, err)
	}
	err := filepath.WalkDir(filepath.Join(home, ".pki"), func(p string, _ fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if uid, _, _ := fileOwner(p); uid != nobody {
			t.Errorf("%s owned by uid %d, want %d", p, uid, nobody)
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
}

// systemStoreLock serialises the tests of this repository that change the
// system trust store (these and e2e's), which go test runs in parallel
// packages: two update-ca-certificates runs at once would race on
// /etc/ssl/certs. The same lock file is taken in e2e/helpers_test.go.
func systemStoreLock(t *testing.T) { testenv.Lock(t, "truststore") }
