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
	"os/exec"
	"path/filepath"
	"testing"
	"time"

	"github.com/devport/devport/internal/testenv"
)

// TestNginxAccepts runs the real `nginx -t` on every golden project's
// nginx export, in a private prefix (the system nginx is never touched).
// The e2e test (e2e/export_test.go) also runs it in front of backends.
func TestNginxAccepts(t *testing.T) {
	testenv.Tool(t, "nginx")
	dir := t.TempDir()
	cert, key := selfSigned(t, dir)
	params, err := os.ReadFile("/etc/nginx/uwsgi_params")
	testenv.Need(t, "/etc/nginx/uwsgi_params", err == nil, "apt-get install nginx-light (nginx-common ships it)")
	if err := os.WriteFile(filepath.Join(dir, "uwsgi_params"), params, 0o644); err != nil {
		t.Fatal(err)
	}
	for name, p := range projects {
		t.Run(name, func(t *testing.T) {
			var b bytes.Buffer
			if err := Nginx(&b, p, Options{HTTPSListen: "127.0.0.1:8443", HTTPListen: "127.0.0.1:8080", Cert: cert, Key: key}); err != nil {
				t.Fatal(err)
			}
			site := filepath.Join(dir, name+".conf")
			if err := os.WriteFile(site, b.Bytes(), 0o644); err != nil {
				t.Fatal(err)
			}
			conf := filepath.Join(dir, name+"-main.conf")
			main := "pid " + dir + "/nginx.pid;\nerror_log stderr;\nevents {}\nhttp {\n" +
				"    client_body_temp_path " + dir + "/body;\n    proxy_temp_path " + dir + "/proxy;\n" +
				"    fastcgi_temp_path " + dir + "/fastcgi;\n    uwsgi_temp_path " + dir + "/uwsgi;\n" +
				"    scgi_temp_path " + dir + "/scgi;\n    include " + site + ";\n}\n"
			if err := os.WriteFile(conf, []byte(main), 0o644); err != nil {
				t.Fatal(err)
			}
			out, err := exec.Command("nginx", "-t", "-p", dir, "-e", "stderr", "-c", conf).CombinedOutput()
			if err != nil {
				t.Fatalf("nginx -t: %v\n%s\n%s", err, out, b.String())
			}
		})
	}
}

// selfSigned writes a throwaway certificate and key for nginx -t.
func selfSigned(t *testing.T, dir string) (cert, key string) {
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
