package certs

import (
	"context"
	"os/exec"
	"path/filepath"
	"testing"
	"time"

	"github.com/devport/devport/internal/testenv"
)

// TestRenewRotatesTrust does what `devport trust --new-root` will: a
// legacy root trusted in the system store and NSS is renewed, the retired
// root untrusted and the new one trusted; then a leaf of the new root
// verifies against the system bundle, and nothing of the old one is left.
func TestRenewRotatesTrust(t *testing.T) {
	needRoot(t)
	for _, tool := range []string{"update-ca-certificates", "certutil", "openssl"} {
		testenv.Tool(t, tool)
	}
	systemStoreLock(t)
	home := t.TempDir()
	t.Setenv("HOME", home)
	opts := TrustOptions{System: true, NSS: true, Home: home}
	nssdb := filepath.Join(home, ".pki", "nssdb")
	dir := filepath.Join(t.TempDir(), "ca")
	writeLegacyCA(t, dir)
	old := openDir(t, dir)
	danglingBefore := danglingLinks(t)
	ctx := context.Background()

	var renewed, retired *Authority
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
		defer cancel()
		roots := []*Authority{old}
		if renewed != nil {
			roots = append(roots, renewed)
		}
		for _, a := range roots {
			if r, err := a.Untrust(ctx, opts); err != nil {
				t.Errorf("cleanup Untrust: %v\n%s", err, r)
			}
		}
		for _, a := range roots {
			assertNothingLeft(t, a, danglingBefore, nssdb)
		}
	})

	if r, err := old.Trust(ctx, opts); err != nil {
		t.Fatalf("trust the legacy root: %v\n%s", err, r)
	}
	var err error
	renewed, retired, err = old.Renew()
	if err != nil {
		t.Fatal(err)
	}
	r, err := retired.Untrust(ctx, opts)
	if err != nil {
		t.Fatalf("untrust the retired root: %v\n%s", err, r)
	}
	assertNothingLeft(t, retired, danglingBefore, nssdb)
	if r, err := renewed.Trust(ctx, opts); err != nil {
		t.Fatalf("trust the new root: %v\n%s", err, r)
	}
	for _, s := range renewed.TrustStatus(ctx, opts) {
		if !s.Trusted {
			t.Errorf("new root not trusted: %+v", s)
		}
	}
	leaf := writeLeaf(t, renewed, "shop.test")
	if out, err := exec.Command("openssl", "verify", "-purpose", "sslserver", "-CAfile", systemBundle(t), "-verify_hostname", "shop.test", leaf).CombinedOutput(); err != nil {
		t.Errorf("openssl verify against the system bundle: %v\n%s", err, out)
	}
	assertNSS(t, renewed, nssdb, true)
	if err := retired.Forget(); err != nil {
		t.Error(err)
	}
}
