package certs

import (
	"context"
	"os/exec"
	"strings"
	"testing"
	"time"
)

// TestTrustJava imports a fresh CA into the real system Java keystore and
// removes it again, checking each step with keytool itself.
func TestTrustJava(t *testing.T) {
	needRoot(t)
	if findKeytool() == "" || !fileExists(javaCacerts) {
		// Java is optional for devport (--java), so this never fails CI.
		t.Skip("no keytool or " + javaCacerts + ": apt-get install default-jre-headless ca-certificates-java")
	}
	systemStoreLock(t) // the keystore is shared with the system-store tests
	a := openTestCA(t)
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	opts := TrustOptions{Java: true}
	t.Cleanup(func() {
		if r, err := a.Untrust(context.Background(), opts); err != nil {
			t.Errorf("cleanup untrust: %v\n%s", err, r)
		}
	})
	listed := func() bool {
		out, err := exec.Command(findKeytool(), "-J-Duser.language=en", "-list", "-keystore", javaCacerts,
			"-storepass", javaStorePass(), "-alias", "devport-"+a.cert.SerialNumber.Text(16)).CombinedOutput()
		return err == nil && strings.Contains(string(out), "trustedCertEntry")
	}

	r, err := a.Trust(ctx, opts)
	if err != nil {
		t.Fatalf("trust: %v\n%s", err, r)
	}
	if len(r) != 1 || r[0].Store != StoreJava || !r[0].Trusted || !strings.HasPrefix(r[0].Detail, "added as devport-") {
		t.Errorf("trust report: %s", r)
	}
	if !listed() {
		t.Fatal("keytool does not list the CA after trust")
	}
	if st := a.TrustStatus(ctx, opts); len(st) != 1 || !st[0].Trusted {
		t.Errorf("status after trust: %s", st)
	}
	if r, err := a.Trust(ctx, opts); err != nil || r[0].Detail != "already trusted" {
		t.Errorf("second trust: %v %s", err, r)
	}

	r, err = a.Untrust(ctx, opts)
	if err != nil {
		t.Fatalf("untrust: %v\n%s", err, r)
	}
	if r[0].Trusted || listed() {
		t.Errorf("still in the keystore after untrust: %s", r)
	}
}
