package certs

import (
	"bytes"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509"
	"encoding/asn1"
	"errors"
	"net"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

func openTestCA(t *testing.T) *Authority {
	t.Helper()
	a, err := Open(Options{Dir: filepath.Join(t.TempDir(), "ca"), TLDs: []string{"test"}})
	if err != nil {
		t.Fatal(err)
	}
	return a
}

func TestOpenCreatesCA(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "ca")
	a, err := Open(Options{Dir: dir, TLDs: []string{"test", ".Dev."}})
	if err != nil {
		t.Fatal(err)
	}
	root := a.Root()

	t.Run("files", func(t *testing.T) {
		for _, tc := range []struct {
			path string
			mode os.FileMode
		}{
			{dir, 0o700 | os.ModeDir},
			{a.CertPath(), 0o644},
			{filepath.Join(dir, "root-key.pem"), 0o600},
		} {
			fi, err := os.Stat(tc.path)
			if err != nil {
				t.Fatal(err)
			}
			if fi.Mode() != tc.mode {
				t.Errorf("%s: mode %v, want %v", tc.path, fi.Mode(), tc.mode)
			}
		}
		if a.CertPath() != filepath.Join(dir, "root.pem") {
			t.Errorf("CertPath = %s", a.CertPath())
		}
		key, err := os.ReadFile(filepath.Join(dir, "root-key.pem"))
		if err != nil {
			t.Fatal(err)
		}
		if !bytes.HasPrefix(key, []byte("-----BEGIN PRIVATE KEY-----")) {
			t.Errorf("key is not PKCS#8 PEM: %.40q", key)
		}
	})

	t.Run("certificate", func(t *testing.T) {
		pub, ok := root.PublicKey.(*ecdsa.PublicKey)
		if !ok || pub.Curve != elliptic.P256() {
			t.Errorf("public key %T, want ECDSA P-256", root.PublicKey)
		}
		if !root.IsCA || !root.BasicConstraintsValid || root.MaxPathLen != 0 || !root.MaxPathLenZero {
			t.Errorf("IsCA=%v BasicConstraintsValid=%v MaxPathLen=%d MaxPathLenZero=%v",
				root.IsCA, root.BasicConstraintsValid, root.MaxPathLen, root.MaxPathLenZero)
		}
		if root.KeyUsage != x509.KeyUsageCertSign|x509.KeyUsageCRLSign {
			t.Errorf("KeyUsage = %v", root.KeyUsage)
		}
		if life := root.NotAfter.Sub(root.NotBefore); life < 10*365*24*time.Hour || life > 3660*24*time.Hour {
			t.Errorf("validity %v, want about 10 years", life)
		}
		if !strings.HasPrefix(root.Subject.CommonName, "devport local CA ") || !strings.Contains(root.Subject.CommonName, "@") {
			t.Errorf("CN = %q", root.Subject.CommonName)
		}
		if root.SerialNumber.BitLen() < 100 {
			t.Errorf("serial %v is not a random 128-bit number", root.SerialNumber)
		}
		if err := root.CheckSignatureFrom(root); err != nil {
			t.Errorf("not self-signed: %v", err)
		}
	})

	t.Run("name constraints", func(t *testing.T) {
		if got, want := strings.Join(root.PermittedDNSDomains, ","), "test,dev,localhost"; got != want {
			t.Errorf("PermittedDNSDomains = %s, want %s", got, want)
		}
		var ranges []string
		for _, r := range root.PermittedIPRanges {
			ranges = append(ranges, r.String())
		}
		if got, want := strings.Join(ranges, ","), "127.0.0.0/8,::1/128"; got != want {
			t.Errorf("PermittedIPRanges = %s, want %s", got, want)
		}
		oidNameConstraints := asn1.ObjectIdentifier{2, 5, 29, 30}
		critical := false
		for _, ext := range root.Extensions {
			if ext.Id.Equal(oidNameConstraints) {
				critical = ext.Critical
			}
		}
		if !critical || !root.PermittedDNSDomainsCritical {
			t.Error("name constraints extension is not critical")
		}
	})

	t.Run("reload gives the same CA", func(t *testing.T) {
		b, err := Open(Options{Dir: dir, TLDs: []string{"test"}})
		if err != nil {
			t.Fatal(err)
		}
		if !bytes.Equal(b.Root().Raw, root.Raw) {
			t.Error("reloaded certificate differs")
		}
		if _, err := b.Issue([]string{"shop.dev"}); err != nil {
			t.Errorf("reloaded CA keeps its constraints, yet: %v", err)
		}
	})

	t.Run("unique per install", func(t *testing.T) {
		other := openTestCA(t)
		if other.Root().Subject.CommonName == root.Subject.CommonName {
			t.Errorf("two installs share CN %q", root.Subject.CommonName)
		}
	})
}

func TestOpenBadFiles(t *testing.T) {
	otherKey := func(t *testing.T) []byte {
		src := openTestCA(t)
		data, err := os.ReadFile(filepath.Join(src.dir, keyFile))
		if err != nil {
			t.Fatal(err)
		}
		return data
	}
	tests := []struct {
		name    string
		breakIt func(t *testing.T, dir string)
		badFile string
		reason  string
	}{
		{"corrupt certificate", func(t *testing.T, dir string) { write(t, filepath.Join(dir, certFile), []byte("garbage")) }, certFile, "no PEM CERTIFICATE"},
		{"truncated certificate", func(t *testing.T, dir string) { truncate(t, filepath.Join(dir, certFile)) }, certFile, ""},
		{"corrupt key", func(t *testing.T, dir string) { write(t, filepath.Join(dir, keyFile), []byte("garbage")) }, keyFile, "no PEM PRIVATE KEY"},
		{"key of another CA", func(t *testing.T, dir string) { write(t, filepath.Join(dir, keyFile), otherKey(t)) }, keyFile, "does not match"},
		{"missing key", func(t *testing.T, dir string) { remove(t, filepath.Join(dir, keyFile)) }, keyFile, "missing"},
		{"missing certificate", func(t *testing.T, dir string) { remove(t, filepath.Join(dir, certFile)) }, certFile, "missing"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			a := openTestCA(t)
			tc.breakIt(t, a.dir)
			_, err := Open(Options{Dir: a.dir, TLDs: []string{"test"}})
			var fe *CAFileError
			if !errors.As(err, &fe) {
				t.Fatalf("Open = %v, want *CAFileError", err)
			}
			if want := filepath.Join(a.dir, tc.badFile); fe.Path != want {
				t.Errorf("Path = %s, want %s", fe.Path, want)
			}
			msg := err.Error()
			for _, want := range []string{fe.Path, "delete", "devport trust", tc.reason} {
				if !strings.Contains(msg, want) {
					t.Errorf("error %q does not mention %q", msg, want)
				}
			}
		})
	}
}

func TestOpenRejectsBadTLD(t *testing.T) {
	for _, tld := range []string{"", "a b", "-x", "sh/op"} {
		t.Run(tld, func(t *testing.T) {
			if _, err := Open(Options{Dir: t.TempDir(), TLDs: []string{tld}}); err == nil {
				t.Errorf("Open accepted TLD %q", tld)
			}
		})
	}
}

// TestNameConstraintsHonoured signs leaves with the CA key directly,
// bypassing Issue's own checks, to show that verifiers enforce the
// constraints: a leaked key cannot mint a usable google.com certificate.
func TestNameConstraintsHonoured(t *testing.T) {
	a := openTestCA(t)
	pool := x509.NewCertPool()
	pool.AddCert(a.Root())
	tests := []struct {
		name   string
		dns    []string
		ips    []net.IP
		verify string // name to verify
		ok     bool
	}{
		{"google.com", []string{"google.com"}, nil, "google.com", false},
		{"google.com next to an allowed name", []string{"shop.test", "google.com"}, nil, "shop.test", false},
		{"sub-TLD lookalike", []string{"shop.nottest"}, nil, "shop.nottest", false},
		{"shop.test", []string{"shop.test"}, nil, "shop.test", true},
		{"wildcard", []string{"shop.test", "*.shop.test"}, nil, "api.shop.test", true},
		{"localhost", []string{"localhost"}, nil, "localhost", true},
		{"127.0.0.1", nil, []net.IP{net.IPv4(127, 0, 0, 1)}, "127.0.0.1", true},
		{"127.1.2.3", nil, []net.IP{net.IPv4(127, 1, 2, 3)}, "127.1.2.3", true},
		{"::1", nil, []net.IP{net.IPv6loopback}, "::1", true},
		{"10.0.0.1", nil, []net.IP{net.IPv4(10, 0, 0, 1)}, "10.0.0.1", false},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			leaf := signDirect(t, a, tc.dns, tc.ips)
			_, err := leaf.Verify(x509.VerifyOptions{Roots: pool, DNSName: tc.verify})
			if tc.ok && err != nil {
				t.Errorf("Verify: %v", err)
			}
			if !tc.ok && err == nil {
				t.Error("Verify succeeded, want a name constraint failure")
			}
		})
	}
}

// signDirect signs a leaf with the CA key, without Issue's name checks.
func signDirect(t *testing.T, a *Authority, dns []string, ips []net.IP) *x509.Certificate {
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
		SerialNumber: serial,
		NotBefore:    time.Now().Add(-time.Hour),
		NotAfter:     time.Now().Add(24 * time.Hour),
		KeyUsage:     x509.KeyUsageDigitalSignature,
		ExtKeyUsage:  []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
		DNSNames:     dns,
		IPAddresses:  ips,
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, a.Root(), key.Public(), a.key)
	if err != nil {
		t.Fatal(err)
	}
	leaf, err := x509.ParseCertificate(der)
	if err != nil {
		t.Fatal(err)
	}
	return leaf
}

func TestIssue(t *testing.T) {
	a := openTestCA(t)
	pool := x509.NewCertPool()
	pool.AddCert(a.Root())

	t.Run("leaf properties", func(t *testing.T) {
		c, err := a.Issue([]string{"Shop.Test.", "*.shop.test", "127.0.0.1", "::1", "shop.test"})
		if err != nil {
			t.Fatal(err)
		}
		leaf := c.Leaf
		if leaf == nil || len(c.Certificate) != 1 || !bytes.Equal(c.Certificate[0], leaf.Raw) {
			t.Fatal("Leaf not set or chain wrong")
		}
		if got := strings.Join(leaf.DNSNames, ","); got != "shop.test,*.shop.test" {
			t.Errorf("DNSNames = %s", got)
		}
		if len(leaf.IPAddresses) != 2 {
			t.Errorf("IPAddresses = %v", leaf.IPAddresses)
		}
		if pub, ok := leaf.PublicKey.(*ecdsa.PublicKey); !ok || pub.Curve != elliptic.P256() {
			t.Errorf("key %T, want ECDSA P-256", leaf.PublicKey)
		}
		if len(leaf.ExtKeyUsage) != 1 || leaf.ExtKeyUsage[0] != x509.ExtKeyUsageServerAuth || leaf.IsCA {
			t.Errorf("ExtKeyUsage = %v IsCA = %v", leaf.ExtKeyUsage, leaf.IsCA)
		}
		now := time.Now()
		if !leaf.NotBefore.Before(now.Add(-time.Minute)) {
			t.Errorf("NotBefore %v is not in the past", leaf.NotBefore)
		}
		if life := leaf.NotAfter.Sub(now); life < 89*24*time.Hour || life > 91*24*time.Hour {
			t.Errorf("valid for %v more, want about 90 days", life)
		}
		for _, name := range []string{"shop.test", "x.shop.test", "127.0.0.1", "::1"} {
			if _, err := leaf.Verify(x509.VerifyOptions{Roots: pool, DNSName: name}); err != nil {
				t.Errorf("Verify %s: %v", name, err)
			}
		}
	})

	refused := []string{"example.com", "google.com", "test", "*.test", "*.localhost", "shop.test.evil.com",
		"10.0.0.1", "192.168.1.1", "::2", "", "bad_name.test", "-x.test", "a..test", "*"}
	for _, name := range refused {
		t.Run("refuses "+name, func(t *testing.T) {
			_, err := a.Issue([]string{"shop.test", name})
			if !errors.Is(err, ErrNameNotAllowed) {
				t.Errorf("Issue(%q) = %v, want ErrNameNotAllowed", name, err)
			}
		})
	}

	t.Run("no names", func(t *testing.T) {
		if _, err := a.Issue(nil); !errors.Is(err, ErrNameNotAllowed) {
			t.Errorf("Issue(nil) = %v", err)
		}
	})
}

func write(t *testing.T, path string, data []byte) {
	t.Helper()
	if err := os.WriteFile(path, data, 0o600); err != nil {
		t.Fatal(err)
	}
}

func truncate(t *testing.T, path string) {
	t.Helper()
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	write(t, path, data[:len(data)/2])
}

func remove(t *testing.T, path string) {
	t.Helper()
	if err := os.Remove(path); err != nil {
		t.Fatal(err)
	}
}
