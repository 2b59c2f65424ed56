package certs

import (
	"bytes"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"errors"
	"net"
	"os"
	"path/filepath"
	"testing"
	"time"
)

// writeLegacyCA writes a root as devport made it before issue 11.9 (name
// constraints, but no extended key usage and no email constraint) into
// dir, and returns it.
func writeLegacyCA(t *testing.T, dir string) *x509.Certificate {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	serial, err := randomSerial()
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{
		SerialNumber:                serial,
		Subject:                     pkix.Name{CommonName: "devport local CA legacy " + serial.Text(16)[:8], Organization: []string{"devport development CA"}},
		NotBefore:                   time.Now().Add(-time.Hour),
		NotAfter:                    time.Now().Add(caValidity),
		KeyUsage:                    x509.KeyUsageCertSign | x509.KeyUsageCRLSign,
		BasicConstraintsValid:       true,
		IsCA:                        true,
		MaxPathLenZero:              true,
		PermittedDNSDomainsCritical: true,
		PermittedDNSDomains:         []string{"test", "localhost"},
		PermittedIPRanges: []*net.IPNet{
			{IP: net.IPv4(127, 0, 0, 0).To4(), Mask: net.CIDRMask(8, 32)},
			{IP: net.IPv6loopback, Mask: net.CIDRMask(128, 128)},
		},
	}
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
	write(t, filepath.Join(dir, keyFile), pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: keyDER}))
	write(t, filepath.Join(dir, certFile), pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der}))
	cert, err := x509.ParseCertificate(der)
	if err != nil {
		t.Fatal(err)
	}
	return cert
}

func openDir(t *testing.T, dir string) *Authority {
	t.Helper()
	a, err := Open(Options{Dir: dir, TLDs: []string{"test"}})
	if err != nil {
		t.Fatal(err)
	}
	return a
}

func TestLegacy(t *testing.T) {
	t.Run("a new root is not legacy", func(t *testing.T) {
		a := openTestCA(t)
		if a.Legacy() {
			t.Error("Legacy() = true for a root made now")
		}
		if got := a.Root().ExtKeyUsage; len(got) != 1 || got[0] != x509.ExtKeyUsageServerAuth {
			t.Errorf("ExtKeyUsage = %v, want serverAuth only", got)
		}
		if got := a.Root().PermittedEmailAddresses; len(got) != 1 || got[0] != emailConstraint {
			t.Errorf("PermittedEmailAddresses = %v", got)
		}
	})
	t.Run("an old root is used as it is", func(t *testing.T) {
		dir := filepath.Join(t.TempDir(), "ca")
		old := writeLegacyCA(t, dir)
		before, err := os.ReadFile(filepath.Join(dir, certFile))
		if err != nil {
			t.Fatal(err)
		}
		a := openDir(t, dir)
		if !a.Legacy() {
			t.Error("Legacy() = false for a root without the new limits")
		}
		if !a.Root().Equal(old) {
			t.Error("Open replaced the root")
		}
		after, err := os.ReadFile(filepath.Join(dir, certFile))
		if err != nil || !bytes.Equal(before, after) {
			t.Errorf("Open rewrote %s (err %v)", certFile, err)
		}
		c, err := a.Issue([]string{"shop.test"})
		if err != nil {
			t.Fatal(err)
		}
		pool := x509.NewCertPool()
		pool.AddCert(old)
		if _, err := c.Leaf.Verify(x509.VerifyOptions{Roots: pool, DNSName: "shop.test"}); err != nil {
			t.Error(err)
		}
	})
}

func TestRenew(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "ca")
	oldRoot := writeLegacyCA(t, dir)
	a := openDir(t, dir)
	renewed, retired, err := a.Renew()
	if err != nil {
		t.Fatal(err)
	}

	t.Run("the new root is in place", func(t *testing.T) {
		if renewed.Legacy() {
			t.Error("renewed root is legacy")
		}
		if renewed.Root().Equal(oldRoot) || renewed.Root().Subject.CommonName == oldRoot.Subject.CommonName {
			t.Error("renewed root is the old one, or shares its CN (trust stores name files by it)")
		}
		if renewed.CertPath() != filepath.Join(dir, certFile) {
			t.Errorf("CertPath = %s", renewed.CertPath())
		}
		b := openDir(t, dir)
		if !b.Root().Equal(renewed.Root()) {
			t.Error("Open does not load the renewed root")
		}
		fi, err := os.Stat(filepath.Join(dir, keyFile))
		if err != nil || fi.Mode().Perm() != 0o600 {
			t.Errorf("key file: %v, %v", fi, err)
		}
		if _, err := os.Stat(filepath.Join(dir, nextDir)); err == nil {
			t.Errorf("%s left behind", nextDir)
		}
		if _, err := renewed.Issue([]string{"shop.test"}); err != nil {
			t.Error(err)
		}
	})
	t.Run("the retired root can only be untrusted", func(t *testing.T) {
		if !retired.Root().Equal(oldRoot) {
			t.Fatal("retired is not the old root")
		}
		if filepath.Dir(retired.CertPath()) != filepath.Join(dir, retiredDir) {
			t.Errorf("retired CertPath = %s", retired.CertPath())
		}
		if c, err := readCert(retired.CertPath()); err != nil || !c.Equal(oldRoot) {
			t.Errorf("retired copy: %v", err)
		}
		if _, err := retired.Issue([]string{"shop.test"}); !errors.Is(err, ErrRetired) {
			t.Errorf("retired Issue = %v, want ErrRetired", err)
		}
		if _, _, err := retired.Renew(); !errors.Is(err, ErrRetired) {
			t.Errorf("retired Renew = %v, want ErrRetired", err)
		}
		if _, err := retired.WriteBundle(); !errors.Is(err, ErrRetired) {
			t.Errorf("retired WriteBundle = %v, want ErrRetired", err)
		}
	})
	t.Run("Retired lists it until Forget", func(t *testing.T) {
		list, err := openDir(t, dir).Retired()
		if err != nil || len(list) != 1 || !list[0].Root().Equal(oldRoot) {
			t.Fatalf("Retired = %v, %v", list, err)
		}
		if err := renewed.Forget(); !errors.Is(err, ErrNotRetired) {
			t.Errorf("Forget of the root in use = %v, want ErrNotRetired", err)
		}
		if err := list[0].Forget(); err != nil {
			t.Fatal(err)
		}
		if list, err := renewed.Retired(); err != nil || len(list) != 0 {
			t.Errorf("Retired after Forget = %v, %v", list, err)
		}
	})
}

// TestRenewInterrupted puts the CA folder in each state a crash during
// Renew can leave, and checks that Open ends with one whole root, and that
// the old one is listed by Retired whenever the new one is in place.
func TestRenewInterrupted(t *testing.T) {
	tests := []struct {
		name string
		// crash leaves dir as Renew would at some point; newDir holds a
		// complete new root to take files from.
		crash   func(t *testing.T, a *Authority, dir, newDir string)
		renewed bool // Open must load the new root (else the old one)
	}{
		{"retired, nothing written", func(t *testing.T, a *Authority, dir, newDir string) {
			if _, err := a.retire(); err != nil {
				t.Fatal(err)
			}
		}, false},
		{"new key written, certificate not", func(t *testing.T, a *Authority, dir, newDir string) {
			if _, err := a.retire(); err != nil {
				t.Fatal(err)
			}
			copyFile(t, filepath.Join(newDir, keyFile), filepath.Join(dir, nextDir, keyFile))
		}, false},
		{"both written, none moved", func(t *testing.T, a *Authority, dir, newDir string) {
			if _, err := a.retire(); err != nil {
				t.Fatal(err)
			}
			copyFile(t, filepath.Join(newDir, keyFile), filepath.Join(dir, nextDir, keyFile))
			copyFile(t, filepath.Join(newDir, certFile), filepath.Join(dir, nextDir, certFile))
		}, true},
		{"key moved, certificate not", func(t *testing.T, a *Authority, dir, newDir string) {
			if _, err := a.retire(); err != nil {
				t.Fatal(err)
			}
			copyFile(t, filepath.Join(newDir, keyFile), filepath.Join(dir, keyFile))
			copyFile(t, filepath.Join(newDir, certFile), filepath.Join(dir, nextDir, certFile))
		}, true},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			dir := filepath.Join(t.TempDir(), "ca")
			oldRoot := writeLegacyCA(t, dir)
			newDir := filepath.Join(t.TempDir(), "new")
			newRoot := openDir(t, newDir).Root()
			if err := os.MkdirAll(filepath.Join(dir, nextDir), 0o700); err != nil {
				t.Fatal(err)
			}
			tc.crash(t, openDir(t, dir), dir, newDir)

			a, err := Open(Options{Dir: dir, TLDs: []string{"test"}})
			if err != nil {
				t.Fatalf("Open after the crash: %v", err)
			}
			want := oldRoot
			if tc.renewed {
				want = newRoot
			}
			if !a.Root().Equal(want) {
				t.Errorf("Open loaded the %s root", map[bool]string{true: "old", false: "new"}[tc.renewed])
			}
			if _, err := a.Issue([]string{"shop.test"}); err != nil {
				t.Errorf("Issue: %v", err)
			}
			if _, err := os.Stat(filepath.Join(dir, nextDir)); err == nil {
				t.Errorf("%s left behind", nextDir)
			}
			list, err := a.Retired()
			if err != nil {
				t.Fatal(err)
			}
			if wantN := map[bool]int{true: 1, false: 0}[tc.renewed]; len(list) != wantN {
				t.Errorf("Retired lists %d roots, want %d", len(list), wantN)
			}
			if tc.renewed && len(list) == 1 && !list[0].Root().Equal(oldRoot) {
				t.Error("Retired does not list the old root")
			}
		})
	}
}

func copyFile(t *testing.T, from, to string) {
	t.Helper()
	data, err := os.ReadFile(from)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.MkdirAll(filepath.Dir(to), 0o700); err != nil {
		t.Fatal(err)
	}
	write(t, to, data)
}

func TestOpenRoot(t *testing.T) {
	dir := t.TempDir()
	a := openDir(t, dir)
	r, err := OpenRoot(a.CertPath())
	if err != nil {
		t.Fatal(err)
	}
	if !r.Root().Equal(a.Root()) {
		t.Error("OpenRoot read another certificate")
	}
	if _, err := r.Issue([]string{"shop.test"}); !errors.Is(err, ErrRetired) {
		t.Errorf("Issue without the key = %v, want ErrRetired", err)
	}
	if _, err := OpenRoot(filepath.Join(dir, "root-key.pem")); err == nil {
		t.Error("a key file opened as a root")
	}
}
