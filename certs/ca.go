package certs

import (
	"bytes"
	"crypto"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/hex"
	"encoding/pem"
	"errors"
	"fmt"
	"io/fs"
	"math/big"
	"net"
	"os"
	"os/user"
	"path/filepath"
	"strings"
	"sync"
	"time"
)

const (
	certFile = "root.pem"
	keyFile  = "root-key.pem"

	// nextDir holds a renewal in progress (Renew): the new root.pem and
	// root-key.pem, moved into place once both are written.
	nextDir = "next"
	// retiredDir keeps the certificate of each root Renew replaced, named
	// by its serial, until the caller has untrusted it and calls Forget.
	retiredDir = "retired"

	// emailConstraint is the only email domain the root permits: "invalid"
	// is reserved never to exist (RFC 2606 section 2, RFC 6761 section
	// 6.4), so the root vouches for no real mailbox. A permitted subtree is
	// used because OpenSSL reads an empty excluded one as matching nothing
	// (Go and NSS read it as everything), and Java refuses to parse it.
	emailConstraint = "invalid"

	// caValidity is long because re-trusting a new root is a manual,
	// privileged step for the user; the CA never leaves this machine and its
	// name constraints limit the damage a leaked key could do.
	caValidity = 10 * 365 * 24 * time.Hour
)

// Options configures Open.
type Options struct {
	// Dir holds root.pem (0644) and root-key.pem (0600). It is created 0700.
	Dir string
	// TLDs are the managed top-level domains without a dot, e.g. {"test"}.
	// A new CA is name-constrained to these plus "localhost"; an existing CA
	// keeps the constraints it was created with.
	TLDs []string
}

// Authority is devport's local root CA. It is safe for concurrent use.
//
// A root made by this version is limited to what devport does: name
// constraints (critical) for the managed TLDs, localhost and the loopback
// addresses, an email constraint that permits no real mailbox, and the
// serverAuth extended key usage, so that even its stolen key cannot sign a
// certificate a verifier accepts for S/MIME, TLS clients or another site.
// An older root without the last two is used as it is ([Authority.Legacy]);
// [Authority.Renew] replaces it when the user agrees.
type Authority struct {
	dir      string
	certPath string // root.pem, or the retired copy of a root Renew replaced
	cert     *x509.Certificate
	key      crypto.Signer // nil for a retired root
	domains  []string      // permitted DNS domains of cert, lowercase, no dot
	tlds     []string      // normalised Options.TLDs, for error hints

	// now and leafValidity exist so tests in this package can move the clock
	// and shorten lifetimes; Open sets them to time.Now and leafValidity.
	now          func() time.Time
	leafValidity time.Duration

	trustMu sync.Mutex // serialises Trust and Untrust (they run update-ca-certificates, certutil)
}

// Open loads the CA from opts.Dir, creating it on first use.
//
// A file that exists but cannot be used is reported as a *CAFileError, which
// names the file and the fix; Open never silently replaces a CA, because the
// old one may still be trusted by the system.
func Open(opts Options) (*Authority, error) {
	if opts.Dir == "" {
		return nil, errors.New("certs: Options.Dir is empty")
	}
	tlds, err := normalizeTLDs(opts.TLDs)
	if err != nil {
		return nil, err
	}
	a := &Authority{dir: opts.Dir, certPath: filepath.Join(opts.Dir, certFile), tlds: tlds, now: time.Now, leafValidity: leafValidity}
	certPath, keyPath := a.CertPath(), filepath.Join(opts.Dir, keyFile)
	if err := finishRenewal(opts.Dir); err != nil {
		return nil, err
	}

	certExists, err := exists(certPath)
	if err != nil {
		return nil, err
	}
	keyExists, err := exists(keyPath)
	if err != nil {
		return nil, err
	}
	switch {
	case certExists && keyExists:
		err = a.load(certPath, keyPath)
	case !certExists && !keyExists:
		err = a.create(certPath, keyPath, tlds)
	case certExists:
		err = &CAFileError{Path: keyPath, Err: fmt.Errorf("missing, but %s exists", certFile)}
	default:
		err = &CAFileError{Path: certPath, Err: fmt.Errorf("missing, but %s exists", keyFile)}
	}
	if err != nil {
		return nil, err
	}
	a.setDomains()
	return a, nil
}

// setDomains derives a.domains from the root's constraints.
func (a *Authority) setDomains() {
	a.domains = nil
	for _, d := range a.cert.PermittedDNSDomains {
		a.domains = append(a.domains, strings.ToLower(strings.TrimPrefix(d, ".")))
	}
}

// CertPath is the PEM file of the root certificate: Dir/root.pem, or for a
// retired root (from Renew or Retired) its copy in Dir/retired.
func (a *Authority) CertPath() string { return a.certPath }

// Root is the root certificate. Callers must not modify it.
func (a *Authority) Root() *x509.Certificate { return a.cert }

func (a *Authority) load(certPath, keyPath string) error {
	cert, err := readCert(certPath)
	if err != nil {
		return &CAFileError{Path: certPath, Err: err}
	}
	if !cert.IsCA || !cert.BasicConstraintsValid {
		return &CAFileError{Path: certPath, Err: errors.New("not a CA certificate")}
	}
	if now := a.now(); now.After(cert.NotAfter) {
		return &CAFileError{Path: certPath, Err: fmt.Errorf("expired on %s", cert.NotAfter.Format(time.DateOnly))}
	}
	key, err := readKey(keyPath)
	if err != nil {
		return &CAFileError{Path: keyPath, Err: err}
	}
	pub, ok := key.Public().(interface{ Equal(crypto.PublicKey) bool })
	if !ok || !pub.Equal(cert.PublicKey) {
		return &CAFileError{Path: keyPath, Err: fmt.Errorf("does not match %s", certFile)}
	}
	a.cert, a.key = cert, key
	return nil
}

func readCert(path string) (*x509.Certificate, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	block, _ := pem.Decode(data)
	if block == nil || block.Type != "CERTIFICATE" {
		return nil, errors.New("no PEM CERTIFICATE block")
	}
	return x509.ParseCertificate(block.Bytes)
}

func readKey(path string) (crypto.Signer, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	block, _ := pem.Decode(data)
	if block == nil || block.Type != "PRIVATE KEY" {
		return nil, errors.New("no PEM PRIVATE KEY (PKCS#8) block")
	}
	k, err := x509.ParsePKCS8PrivateKey(block.Bytes)
	if err != nil {
		return nil, err
	}
	signer, ok := k.(crypto.Signer)
	if !ok {
		return nil, fmt.Errorf("unsupported key type %T", k)
	}
	return signer, nil
}

func (a *Authority) create(certPath, keyPath string, tlds []string) error {
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		return fmt.Errorf("certs: generate CA key: %w", err)
	}
	serial, err := randomSerial()
	if err != nil {
		return err
	}
	suffix := make([]byte, 4)
	if _, err := rand.Read(suffix); err != nil {
		return fmt.Errorf("certs: random: %w", err)
	}
	now := a.now()
	tmpl := &x509.Certificate{
		SerialNumber: serial,
		// The CN is unique per install: truststore derives the file and NSS
		// nickname from it, so untrust finds exactly this CA, and a user
		// looking at their trust store can tell which machine made it.
		Subject: pkix.Name{
			CommonName:   "devport local CA " + installName() + " " + hex.EncodeToString(suffix),
			Organization: []string{"devport development CA"},
		},
		NotBefore: now.Add(-time.Hour),
		NotAfter:  now.Add(caValidity),
		KeyUsage:  x509.KeyUsageCertSign | x509.KeyUsageCRLSign,
		// Only TLS servers: OpenSSL, NSS, Go and Windows hold a CA's
		// extended key usage against the leaves under it (the root, not an
		// intermediate, carries it: a thief of the root key would simply
		// sign without the intermediate).
		ExtKeyUsage:           []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
		BasicConstraintsValid: true,
		IsCA:                  true,
		MaxPathLen:            0,
		MaxPathLenZero:        true,
		// Critical name constraints: verifiers that understand them (Go,
		// OpenSSL, NSS, Apple, Windows) reject anything else this CA signs;
		// verifiers that do not must reject the certificate outright.
		PermittedDNSDomainsCritical: true,
		PermittedDNSDomains:         append(append([]string(nil), tlds...), "localhost"),
		PermittedIPRanges: []*net.IPNet{
			{IP: net.IPv4(127, 0, 0, 0).To4(), Mask: net.CIDRMask(8, 32)},
			{IP: net.IPv6loopback, Mask: net.CIDRMask(128, 128)},
		},
		PermittedEmailAddresses: []string{emailConstraint},
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, key.Public(), key)
	if err != nil {
		return fmt.Errorf("certs: create CA certificate: %w", err)
	}
	cert, err := x509.ParseCertificate(der)
	if err != nil {
		return fmt.Errorf("certs: parse new CA certificate: %w", err)
	}
	keyDER, err := x509.MarshalPKCS8PrivateKey(key)
	if err != nil {
		return fmt.Errorf("certs: marshal CA key: %w", err)
	}
	if err := os.MkdirAll(a.dir, 0o700); err != nil {
		return fmt.Errorf("certs: %w", err)
	}
	// Key first: a cert without its key is useless, a key without a cert is
	// reported by Open as a CAFileError naming both files.
	if err := writeNew(keyPath, pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: keyDER}), 0o600); err != nil {
		return err
	}
	if err := writeNew(certPath, pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der}), 0o644); err != nil {
		return err
	}
	a.cert, a.key = cert, key
	return nil
}

// writeNew writes data to path atomically and never replaces an existing
// file (two processes creating the CA at once must not mix key and cert).
func writeNew(path string, data []byte, mode os.FileMode) error {
	f, err := os.CreateTemp(filepath.Dir(path), "."+filepath.Base(path)+".*")
	if err != nil {
		return fmt.Errorf("certs: %w", err)
	}
	tmp := f.Name()
	defer os.Remove(tmp)
	_, err = f.Write(data)
	if err == nil {
		err = f.Chmod(mode)
	}
	if err == nil {
		err = f.Sync()
	}
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err == nil {
		err = os.Link(tmp, path)
	}
	if err != nil {
		return fmt.Errorf("certs: write %s: %w", path, err)
	}
	return nil
}

func exists(path string) (bool, error) {
	_, err := os.Stat(path)
	switch {
	case err == nil:
		return true, nil
	case errors.Is(err, fs.ErrNotExist):
		return false, nil
	default:
		return false, fmt.Errorf("certs: %w", err)
	}
}

// randomSerial returns a random positive 128-bit serial number.
func randomSerial() (*big.Int, error) {
	limit := new(big.Int).Lsh(big.NewInt(1), 128)
	for {
		n, err := rand.Int(rand.Reader, limit)
		if err != nil {
			return nil, fmt.Errorf("certs: random serial: %w", err)
		}
		if n.Sign() > 0 {
			return n, nil
		}
	}
}

// installName is "user@host", reduced to characters that are safe in the
// file and alias names trust stores derive from the CN.
func installName() string {
	name := "unknown"
	if u, err := user.Current(); err == nil && u.Username != "" {
		name = u.Username
	} else if v := os.Getenv("USER"); v != "" {
		name = v
	}
	host, err := os.Hostname()
	if err != nil || host == "" {
		host = "localhost"
	}
	s := []byte(name + "@" + host)
	for i, c := range s {
		ok := c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || bytes.IndexByte([]byte(".-@"), c) >= 0
		if !ok {
			s[i] = '-'
		}
	}
	// CN is at most 64 characters: 17 for the prefix, 9 for the suffix.
	if len(s) > 38 {
		s = s[:38]
	}
	return string(s)
}

// normalizeTLDs lowercases, strips dots, validates and deduplicates tlds.
// "localhost" is dropped because the CA always permits it.
func normalizeTLDs(tlds []string) ([]string, error) {
	var out []string
	seen := map[string]bool{"localhost": true}
	for _, t := range tlds {
		t = strings.ToLower(strings.Trim(t, "."))
		if !validLabel(t) {
			return nil, fmt.Errorf("certs: TLD %q is not a valid DNS label", t)
		}
		if !seen[t] {
			seen[t] = true
			out = append(out, t)
		}
	}
	return out, nil
}
