package certs

import (
	"bytes"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
)

const bundleFile = "bundle.pem"

// systemBundles lists where distributions keep the PEM bundle of the
// roots they trust, most common first.
func systemBundles() []string {
	return []string{
		"/etc/ssl/certs/ca-certificates.crt", // Debian, Ubuntu, Arch
		"/etc/pki/tls/certs/ca-bundle.crt",   // Fedora, RHEL
		"/etc/ssl/ca-bundle.pem",             // openSUSE
		"/etc/ssl/cert.pem",                  // macOS, Alpine
	}
}

// BundlePath is the PEM bundle WriteBundle writes: the system's roots
// plus devport's.
func (a *Authority) BundlePath() string { return filepath.Join(a.dir, bundleFile) }

// WriteBundle writes the system's trusted roots followed by devport's root
// to BundlePath, so that programs devport starts can verify both public
// sites and other *.test sites without the CA being installed system-wide
// (Python's certifi, Node and curl each carry or pick their own roots
// otherwise). It rewrites the file only when its content would change, and
// replaces it atomically, so a backend reading it never sees half a file.
func (a *Authority) WriteBundle() (string, error) {
	if a.key == nil {
		return "", fmt.Errorf("certs: write bundle: %w", ErrRetired)
	}
	var sys []byte
	for _, p := range systemBundles() {
		b, err := os.ReadFile(p)
		if err == nil {
			sys = b
			break
		}
		if !errors.Is(err, fs.ErrNotExist) {
			return "", fmt.Errorf("read system roots %s: %w", p, err)
		}
	}
	root, err := os.ReadFile(a.CertPath())
	if err != nil {
		return "", fmt.Errorf("read CA: %w", err)
	}
	var buf bytes.Buffer
	buf.Write(sys)
	if len(sys) > 0 && sys[len(sys)-1] != '\n' {
		buf.WriteByte('\n')
	}
	buf.WriteString("# devport local CA\n")
	buf.Write(root)

	path := a.BundlePath()
	if old, err := os.ReadFile(path); err == nil && bytes.Equal(old, buf.Bytes()) {
		return path, nil
	}
	tmp, err := os.CreateTemp(a.dir, bundleFile+".*")
	if err != nil {
		return "", fmt.Errorf("write CA bundle: %w", err)
	}
	defer os.Remove(tmp.Name()) // after a successful rename this is a no-op
	if _, err := tmp.Write(buf.Bytes()); err != nil {
		tmp.Close()
		return "", fmt.Errorf("write CA bundle: %w", err)
	}
	if err := tmp.Chmod(0o644); err != nil {
		tmp.Close()
		return "", fmt.Errorf("write CA bundle: %w", err)
	}
	if err := tmp.Close(); err != nil {
		return "", fmt.Errorf("write CA bundle: %w", err)
	}
	if err := os.Rename(tmp.Name(), path); err != nil {
		return "", fmt.Errorf("write CA bundle: %w", err)
	}
	return path, nil
}

// BundleEnv is the environment that points the common TLS stacks at a CA
// bundle: OpenSSL and Python's ssl (SSL_CERT_FILE), requests
// (REQUESTS_CA_BUNDLE), curl (CURL_CA_BUNDLE) and Node
// (NODE_EXTRA_CA_CERTS, which adds to Node's built-in roots).
func BundleEnv(path string) []string {
	return []string{
		"SSL_CERT_FILE=" + path,
		"REQUESTS_CA_BUNDLE=" + path,
		"CURL_CA_BUNDLE=" + path,
		"NODE_EXTRA_CA_CERTS=" + path,
	}
}
