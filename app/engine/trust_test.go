package engine

import (
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"math/big"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// TestRenewCA: a root made by an older devport (no serverAuth-only usage,
// no email constraint) keeps working until the user runs devport trust
// --new-root; then a new root replaces it, the old one is removed from the
// stores it was in (none here) and forgotten, and a leaf signed now
// chains to the new root.
func TestRenewCA(t *testing.T) {
	home := t.TempDir()
	paths := Paths{Data: home, Logs: home + "/logs", Run: home + "/run"}
	writeOldRoot(t, paths.CA())
	m, err := NewManager(context.Background(), Options{Paths: paths})
	if err != nil {
		t.Fatal(err)
	}
	defer m.Close()
	if !m.LegacyCA() {
		t.Fatal("an old root is not reported as legacy")
	}
	o := TrustOptions{Home: t.TempDir()} // no store: nothing on this machine changes
	rep, err := m.Trust(context.Background(), o)
	if err != nil || !strings.Contains(rep, "devport trust --new-root") || !m.LegacyCA() {
		t.Fatalf("trust of a legacy root: %v\n%s", err, rep)
	}
	rep, err = m.RenewCA(context.Background(), o)
	if err != nil || !strings.Contains(rep, "made a new root") {
		t.Fatalf("RenewCA: %v\n%s", err, rep)
	}
	if m.LegacyCA() {
		t.Error("the new root is legacy")
	}
	if left, _ := filepath.Glob(filepath.Join(paths.CA(), "retired", "*")); len(left) != 0 {
		t.Errorf("the old root is still kept, though no store trusts it: %v", left)
	}
	leaf, err := m.ca.Issue([]string{"shop.test"})
	if err != nil {
		t.Fatal(err)
	}
	roots := x509.NewCertPool()
	roots.AddCert(m.ca.Root())
	if _, err := leaf.Leaf.Verify(x509.VerifyOptions{DNSName: "shop.test", Roots: roots}); err != nil {
		t.Errorf("a leaf signed after the renewal does not chain to the new root: %v", err)
	}
	rep, err = m.RenewCA(context.Background(), o)
	if err != nil || !strings.Contains(rep, "nothing to renew") {
		t.Errorf("RenewCA of a new root: %v\n%s", err, rep)
	}
}

// writeOldRoot writes a root into dir as devport made it before the root
// was limited to TLS servers: name constraints, no extended key usage.
func writeOldRoot(t *testing.T, dir string) {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{SerialNumber: big.NewInt(time.Now().UnixNano()), Subject: pkix.Name{CommonName: "devport local CA (old)"},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(24 * time.Hour), IsCA: true, BasicConstraintsValid: true,
		KeyUsage: x509.KeyUsageCertSign, PermittedDNSDomainsCritical: true, PermittedDNSDomains: managedTLDs}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, key.Public(), key)
	if err != nil {
		t.Fatal(err)
	}
	keyDER, err := x509.MarshalPKCS8PrivateKey(key)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.MkdirAll(dir, 0o700); err != nil {
		t.Fatal(err)
	}
	for name, block := range map[string]*pem.Block{"root-key.pem": {Type: "PRIVATE KEY", Bytes: keyDER}, "root.pem": {Type: "CERTIFICATE", Bytes: der}} {
		if err := os.WriteFile(filepath.Join(dir, name), pem.EncodeToMemory(block), 0o600); err != nil {
			t.Fatal(err)
		}
	}
}
