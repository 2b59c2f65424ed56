package export

import (
	"bytes"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"math/big"
	"os"
	"path/filepath"
	"testing"
	"time"
)

// TestNginxAccepts runs the real `nginx -t` on every golden project's
// nginx export, in a private prefix (the system nginx is never touched).
// The e2e test (e2e/export_test.go) also runs it in front of backends.
func TestNginxAccepts(t *testing.T) {
	env := newNginxEnv(t)
	for name, p := range projects {
		t.Run(name, func(t *testing.T) {
			var b bytes.Buffer
			if err := Nginx(&b, p, Options{HTTPSListen: "127.0.0.1:8443", HTTPListen: "127.0.0.1:8080", Cert: env.cert, Key: env.key}); err != nil {
				t.Fatal(err)
			}
			if out, ok := env.check(t, b.Bytes()); !ok {
				t.Fatalf("nginx -t: %s\n%s", out, b.String())
			}
		})
	}
}

// selfSigned writes a throwaway certificate and key for nginx -t.
func selfSigned(t testing.TB, dir string) (cert, key string) {
	t.Helper()
	k, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: "export test"},
		DNSNames: []string{"shop.test"}, NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(time.Hour)}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &k.PublicKey, k)
	if err != nil {
		t.Fatal(err)
	}
	kder, err := x509.MarshalPKCS8PrivateKey(k)
	if err != nil {
		t.Fatal(err)
	}
	cert, key = filepath.Join(dir, "cert.pem"), filepath.Join(dir, "key.pem")
	if err := os.WriteFile(cert, pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der}), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(key, pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: kder}), 0o600); err != nil {
		t.Fatal(err)
	}
	return cert, key
}
