package certs

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"fmt"
	"net"
	"slices"
	"strings"
	"time"
)

// leafValidity is 90 days, like ACME certificates. Nothing is gained by
// longer: leaves live only in memory and the Issuer renews them
// transparently once a third of the lifetime is left. Shorter than the
// 398 days Chrome and Apple enforce for public CAs and well under Apple's
// 825-day limit that also applies to user-trusted roots
// (https://support.apple.com/en-us/103769), so no client rejects them.
const leafValidity = 90 * 24 * time.Hour

// clockSkew backdates NotBefore so a client whose clock is slightly behind
// (a VM after resume, a container) does not see a "not yet valid" cert.
const clockSkew = time.Hour

// Issue signs a new leaf certificate for names: DNS names (a leading "*."
// wildcard is allowed) under the CA's domains, or loopback IP addresses.
// The result has Leaf set and can be served by crypto/tls as is.
// A name outside the CA's constraints gives an error wrapping
// ErrNameNotAllowed, before anything is signed.
func (a *Authority) Issue(names []string) (*tls.Certificate, error) {
	if a.key == nil {
		return nil, fmt.Errorf("certs: issue: %w", ErrRetired)
	}
	if len(names) == 0 {
		return nil, fmt.Errorf("certs: issue: no names: %w", ErrNameNotAllowed)
	}
	serial, err := randomSerial()
	if err != nil {
		return nil, err
	}
	now := a.now()
	tmpl := &x509.Certificate{
		SerialNumber: serial,
		// No CN: SANs are what clients check, and OpenSSL would match a
		// hostname-like CN such as "127.0.0.1" against the DNS constraints.
		Subject:               pkix.Name{Organization: []string{"devport development certificate"}},
		NotBefore:             now.Add(-clockSkew),
		NotAfter:              now.Add(a.leafValidity),
		KeyUsage:              x509.KeyUsageDigitalSignature,
		ExtKeyUsage:           []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
		BasicConstraintsValid: true,
	}
	if tmpl.NotAfter.After(a.cert.NotAfter) {
		tmpl.NotAfter = a.cert.NotAfter
	}
	for _, n := range names {
		name, ip, err := a.checkName(n)
		if err != nil {
			return nil, err
		}
		switch {
		case ip != nil:
			if !slices.ContainsFunc(tmpl.IPAddresses, ip.Equal) {
				tmpl.IPAddresses = append(tmpl.IPAddresses, ip)
			}
		case !slices.Contains(tmpl.DNSNames, name):
			tmpl.DNSNames = append(tmpl.DNSNames, name)
		}
	}
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		return nil, fmt.Errorf("certs: generate leaf key: %w", err)
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, a.cert, key.Public(), a.key)
	if err != nil {
		return nil, fmt.Errorf("certs: sign leaf for %s: %w", strings.Join(names, ", "), err)
	}
	leaf, err := x509.ParseCertificate(der)
	if err != nil {
		return nil, fmt.Errorf("certs: parse leaf: %w", err)
	}
	return &tls.Certificate{Certificate: [][]byte{der}, PrivateKey: key, Leaf: leaf}, nil
}

// checkName canonicalises name and checks it against the CA's constraints.
// It returns the IP for an address, else the lowercase DNS name.
func (a *Authority) checkName(name string) (string, net.IP, error) {
	n := strings.ToLower(strings.TrimSuffix(strings.TrimSpace(name), "."))
	if ip := net.ParseIP(strings.Trim(n, "[]")); ip != nil {
		if ip.IsLoopback() && (ip.To4() != nil || ip.Equal(net.IPv6loopback)) {
			if v4 := ip.To4(); v4 != nil {
				ip = v4
			}
			return "", ip, nil
		}
		return "", nil, fmt.Errorf("certs: %s is not a loopback address: %w", name, ErrNameNotAllowed)
	}
	if !validDNSName(n) {
		return "", nil, fmt.Errorf("certs: %q is not a valid DNS name: %w", name, ErrNameNotAllowed)
	}
	if a.allowedDNS(n) {
		return n, nil, nil
	}
	return "", nil, a.refusal(name)
}

// allowedDNS reports whether a well-formed DNS name may be signed: it is
// under one of the CA's domains with at least one label before it (so no
// "test" or "*.test", which browsers refuse anyway), or "localhost".
func (a *Authority) allowedDNS(name string) bool {
	if name == "localhost" {
		return true
	}
	base := strings.TrimPrefix(name, "*.")
	for _, d := range a.domains {
		if strings.HasSuffix(base, "."+d) {
			return true
		}
	}
	return false
}

func (a *Authority) refusal(name string) error {
	tld := name[strings.LastIndexByte(name, '.')+1:]
	if slices.Contains(a.tlds, tld) {
		return fmt.Errorf("certs: %s: the CA in %s was created for %s only; delete %s and %s to make a new CA, then run \"devport trust\" again: %w",
			name, a.dir, strings.Join(a.domains, ", "), certFile, keyFile, ErrNameNotAllowed)
	}
	return fmt.Errorf("certs: %s is not under a devport domain (%s): %w", name, strings.Join(a.domains, ", "), ErrNameNotAllowed)
}

// validDNSName accepts lowercase hostnames, optionally with a leading "*.".
func validDNSName(name string) bool {
	if len(name) == 0 || len(name) > 253 {
		return false
	}
	for i, label := range strings.Split(name, ".") {
		if i == 0 && label == "*" && name != "*" {
			continue
		}
		if !validLabel(label) {
			return false
		}
	}
	return true
}

func validLabel(l string) bool {
	if len(l) == 0 || len(l) > 63 || l[0] == '-' || l[len(l)-1] == '-' {
		return false
	}
	for _, c := range []byte(l) {
		if !(c >= 'a' && c <= 'z' || c >= '0' && c <= '9' || c == '-') {
			return false
		}
	}
	return true
}
