package certs

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/asn1"
	"encoding/pem"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/devport/devport/internal/testenv"
)

// oidEmailAddress is the PKCS #9 emailAddress attribute of a subject.
var oidEmailAddress = asn1.ObjectIdentifier{1, 2, 840, 113549, 1, 9, 1}

// signTemplate signs tmpl with the CA key directly, bypassing Issue, as a
// thief of the key would.
func signTemplate(t *testing.T, a *Authority, tmpl *x509.Certificate) *x509.Certificate {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	if tmpl.SerialNumber, err = randomSerial(); err != nil {
		t.Fatal(err)
	}
	tmpl.NotBefore, tmpl.NotAfter = time.Now().Add(-time.Hour), time.Now().Add(24*time.Hour)
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

// opensslVerify runs `openssl verify -purpose purpose` on leaf against
// only the CA's root, and returns its output and whether it succeeded.
func opensslVerify(t *testing.T, openssl string, a *Authority, leaf *x509.Certificate, purpose string) (string, bool) {
	t.Helper()
	path := filepath.Join(t.TempDir(), "leaf.pem")
	if err := os.WriteFile(path, pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: leaf.Raw}), 0o644); err != nil {
		t.Fatal(err)
	}
	out, err := exec.Command(openssl, "verify", "-no-CApath", "-no-CAstore", "-CAfile", a.CertPath(), "-purpose", purpose, path).CombinedOutput()
	return strings.TrimSpace(string(out)), err == nil
}

// TestRootOnlyForTLSServers is issue 11.9: a leaf signed with the CA key
// for anything but a TLS server (S/MIME for someone's mailbox, a TLS
// client) must fail verification, in OpenSSL and Go, while
// the server leaves devport issues keep passing.
func TestRootOnlyForTLSServers(t *testing.T) {
	openssl := testenv.Tool(t, "openssl")
	a := openTestCA(t)
	mailbox := func(eku x509.ExtKeyUsage) *x509.Certificate {
		return &x509.Certificate{
			Subject:        pkix.Name{CommonName: "CEO"},
			EmailAddresses: []string{"ceo@bigbank.com"},
			KeyUsage:       x509.KeyUsageDigitalSignature | x509.KeyUsageKeyEncipherment,
			ExtKeyUsage:    []x509.ExtKeyUsage{eku},
		}
	}
	// The mailbox only in the subject's emailAddress (an IA5String), which
	// OpenSSL also holds to the email constraints.
	subjectOnly := &x509.Certificate{
		Subject: pkix.Name{CommonName: "CEO", ExtraNames: []pkix.AttributeTypeAndValue{
			{Type: oidEmailAddress, Value: asn1.RawValue{Tag: asn1.TagIA5String, Bytes: []byte("ceo@bigbank.com")}}}},
		KeyUsage:    x509.KeyUsageDigitalSignature,
		ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageAny},
	}
	served, err := a.Issue([]string{"shop.test", "*.shop.test"})
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name    string
		leaf    *x509.Certificate
		purpose string
		ok      bool
	}{
		{"S/MIME signing for ceo@bigbank.com", signTemplate(t, a, mailbox(x509.ExtKeyUsageEmailProtection)), "smimesign", false},
		{"S/MIME encryption for ceo@bigbank.com", signTemplate(t, a, mailbox(x509.ExtKeyUsageEmailProtection)), "smimeencrypt", false},
		// "any" skips every purpose check: only the email constraint stops it.
		{"a mailbox for any purpose", signTemplate(t, a, mailbox(x509.ExtKeyUsageAny)), "any", false},
		{"a mailbox in the subject only", signTemplate(t, a, subjectOnly), "any", false},
		{"TLS client shop.test", signTemplate(t, a, &x509.Certificate{DNSNames: []string{"shop.test"},
			KeyUsage: x509.KeyUsageDigitalSignature, ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageClientAuth}}), "sslclient", false},
		{"TLS server shop.test", served.Leaf, "sslserver", true},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			out, ok := opensslVerify(t, openssl, a, tc.leaf, tc.purpose)
			if ok != tc.ok {
				t.Errorf("openssl verify -purpose %s: ok = %v, want %v:\n%s", tc.purpose, ok, tc.ok, out)
			}
		})
	}

	pool := x509.NewCertPool()
	pool.AddCert(a.Root())
	goTests := []struct {
		name string
		leaf *x509.Certificate
		opts x509.VerifyOptions
		ok   bool
	}{
		{"Go: S/MIME for ceo@bigbank.com", tests[0].leaf,
			x509.VerifyOptions{KeyUsages: []x509.ExtKeyUsage{x509.ExtKeyUsageEmailProtection}}, false},
		// ExtKeyUsageAny skips Go's usage checks: the email constraint must hold alone.
		{"Go: a mailbox for any usage", tests[2].leaf,
			x509.VerifyOptions{KeyUsages: []x509.ExtKeyUsage{x509.ExtKeyUsageAny}}, false},
		{"Go: TLS client", tests[4].leaf,
			x509.VerifyOptions{KeyUsages: []x509.ExtKeyUsage{x509.ExtKeyUsageClientAuth}}, false},
		{"Go: TLS server shop.test", served.Leaf, x509.VerifyOptions{DNSName: "api.shop.test"}, true},
	}
	for _, tc := range goTests {
		t.Run(tc.name, func(t *testing.T) {
			tc.opts.Roots = pool
			_, err := tc.leaf.Verify(tc.opts)
			if (err == nil) != tc.ok {
				t.Errorf("Verify: %v, want ok = %v", err, tc.ok)
			}
		})
	}
}
