package certs

import (
	"crypto/x509"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"time"
)

// Legacy reports whether the root lacks the limits this version gives a
// new one: the serverAuth-only extended key usage and the email name
// constraint (issue 11.9). Such a root, made by an older devport, keeps
// working as it is; replacing it is the user's decision (Renew), because the
// new root must be trusted again in every store.
func (a *Authority) Legacy() bool {
	c := a.cert
	serverOnly := slices.Equal(c.ExtKeyUsage, []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth}) && len(c.UnknownExtKeyUsage) == 0
	return !serverOnly || len(c.PermittedEmailAddresses) == 0 || !c.PermittedDNSDomainsCritical
}

// Renew replaces the root in Options.Dir with a new one, made with this
// version's limits for the TLDs a was opened with, and a new key. It
// returns renewed, the new root (trust it with renewed.Trust), and retired,
// the old one (untrust it with retired.Untrust; it can no longer Issue).
// a must not be used afterwards: its files are gone. An Issuer switches
// with SetAuthority(renewed).
//
// The old root's certificate stays in Dir/retired until retired.Forget is
// called, so that a renewal whose untrust did not finish (no root
// privileges, a crash) can be finished later through Retired. Renew is
// crash-safe: the new files are written to Dir/next first and moved into
// place, and Open finishes a renewal that was interrupted in between.
func (a *Authority) Renew() (renewed, retired *Authority, err error) {
	if a.key == nil {
		return nil, nil, fmt.Errorf("certs: renew: %w", ErrRetired)
	}
	retiredPath, err := a.retire()
	if err != nil {
		return nil, nil, err
	}
	next := filepath.Join(a.dir, nextDir)
	if err := os.RemoveAll(next); err != nil {
		return nil, nil, fmt.Errorf("certs: renew: %w", err)
	}
	if err := os.Mkdir(next, 0o700); err != nil {
		return nil, nil, fmt.Errorf("certs: renew: %w", err)
	}
	b := &Authority{dir: a.dir, certPath: filepath.Join(a.dir, certFile), tlds: a.tlds, now: a.now, leafValidity: a.leafValidity}
	if err := b.create(filepath.Join(next, certFile), filepath.Join(next, keyFile), a.tlds); err != nil {
		return nil, nil, errors.Join(err, os.RemoveAll(next))
	}
	if err := finishRenewal(a.dir); err != nil {
		return nil, nil, err
	}
	b.setDomains()
	return b, a.retiredCopy(retiredPath), nil
}

// retire keeps a copy of the root in Dir/retired and returns its path.
func (a *Authority) retire() (string, error) {
	dir := filepath.Join(a.dir, retiredDir)
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return "", fmt.Errorf("certs: %w", err)
	}
	path := filepath.Join(dir, a.cert.SerialNumber.Text(16)+".pem")
	data, err := os.ReadFile(a.certPath)
	if err != nil {
		return "", fmt.Errorf("certs: %w", err)
	}
	if err := writeNew(path, data, 0o644); err != nil && !errors.Is(err, fs.ErrExist) {
		return "", err
	}
	return path, nil
}

// retiredCopy is a's root as a retired Authority whose certificate is at
// path: it can Untrust, TrustStatus and Forget, nothing else.
func (a *Authority) retiredCopy(path string) *Authority {
	r := &Authority{dir: a.dir, certPath: path, cert: a.cert, tlds: a.tlds, now: a.now, leafValidity: a.leafValidity}
	r.setDomains()
	return r
}

// Retired returns the roots Renew replaced whose Forget has not been
// called, oldest first: the ones that may still be trusted somewhere.
// Untrust each, then Forget it. A file that is not a certificate is
// skipped.
func (a *Authority) Retired() ([]*Authority, error) {
	dir := filepath.Join(a.dir, retiredDir)
	entries, err := os.ReadDir(dir)
	if errors.Is(err, fs.ErrNotExist) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("certs: %w", err)
	}
	type found struct {
		r         *Authority
		notBefore time.Time
	}
	var out []found
	for _, e := range entries {
		if e.IsDir() || !strings.HasSuffix(e.Name(), ".pem") {
			continue
		}
		path := filepath.Join(dir, e.Name())
		cert, err := readCert(path)
		if err != nil || cert.Equal(a.cert) {
			continue // a renewal interrupted before the swap retired the current root
		}
		r := &Authority{dir: a.dir, certPath: path, cert: cert, tlds: a.tlds, now: a.now, leafValidity: a.leafValidity}
		r.setDomains()
		out = append(out, found{r, cert.NotBefore})
	}
	slices.SortStableFunc(out, func(x, y found) int { return x.notBefore.Compare(y.notBefore) })
	roots := make([]*Authority, len(out))
	for i, f := range out {
		roots[i] = f.r
	}
	return roots, nil
}

// Forget deletes a retired root's certificate from Dir/retired; call it
// once Untrust has removed the root from every store. It fails with
// ErrNotRetired for a root in use.
func (a *Authority) Forget() error {
	if a.key != nil {
		return fmt.Errorf("certs: forget %s: %w", a.certPath, ErrNotRetired)
	}
	if err := os.Remove(a.certPath); err != nil && !errors.Is(err, fs.ErrNotExist) {
		return fmt.Errorf("certs: %w", err)
	}
	return nil
}

// finishRenewal moves a renewal in dir/next into place. Renew writes the
// key, then the certificate, and moves them in the same order, so:
// next/root.pem present means the new root is complete and is moved in
// (what is left of it: the key may be in place already); without it, the
// renewal stopped while writing and the old root stays. It is a no-op
// without dir/next.
func finishRenewal(dir string) error {
	next := filepath.Join(dir, nextDir)
	complete, err := exists(filepath.Join(next, certFile))
	if err != nil {
		return err
	}
	if !complete {
		if err := os.RemoveAll(next); err != nil {
			return fmt.Errorf("certs: remove unfinished renewal: %w", err)
		}
		return nil
	}
	if ok, err := exists(filepath.Join(next, keyFile)); err != nil {
		return err
	} else if ok {
		if err := os.Rename(filepath.Join(next, keyFile), filepath.Join(dir, keyFile)); err != nil {
			return fmt.Errorf("certs: renew: %w", err)
		}
	}
	if err := os.Rename(filepath.Join(next, certFile), filepath.Join(dir, certFile)); err != nil {
		return fmt.Errorf("certs: renew: %w", err)
	}
	if err := syncDir(dir); err != nil {
		return err
	}
	if err := os.RemoveAll(next); err != nil {
		return fmt.Errorf("certs: renew: %w", err)
	}
	return nil
}

// syncDir makes renames in dir durable.
func syncDir(dir string) error {
	d, err := os.Open(dir)
	if err != nil {
		return fmt.Errorf("certs: %w", err)
	}
	defer d.Close()
	if err := d.Sync(); err != nil {
		return fmt.Errorf("certs: sync %s: %w", dir, err)
	}
	return nil
}

// OpenRoot loads only the root certificate at path, for the trust stores:
// the Authority it returns can Trust, Untrust and TrustStatus, and nothing
// else (it has no key; Issue gives ErrRetired). devport setup's privileged
// part uses it, so that root never opens, let alone creates files in, the
// CA folder of the user who asked.
func OpenRoot(path string) (*Authority, error) {
	cert, err := readCert(path)
	if err != nil {
		return nil, &CAFileError{Path: path, Err: err}
	}
	if !cert.IsCA {
		return nil, &CAFileError{Path: path, Err: errors.New("not a CA certificate")}
	}
	a := &Authority{dir: filepath.Dir(path), certPath: path, cert: cert, now: time.Now, leafValidity: leafValidity}
	a.setDomains()
	return a, nil
}
