package certs

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"slices"
	"strings"
	"sync"
	"time"
)

// Issuer serves leaf certificates to crypto/tls through GetCertificate. It
// caches one certificate per resolved SAN set, renews it when less than a
// third of its lifetime is left, and issues once when many handshakes ask
// for the same names at the same time.
type Issuer struct {
	// OnIssue, when set, is called after each new certificate is issued
	// (not on cache hits), e.g. to record an event. It runs on the handshake
	// goroutine, so it should be quick.
	OnIssue func(names []string, notAfter time.Time)

	ca      *Authority
	resolve func(serverName string) []string

	mu       sync.Mutex
	cache    map[string]*tls.Certificate // by cacheKey of the SAN set
	inflight map[string]*issueCall
}

type issueCall struct {
	done chan struct{} // closed when cert and err are set
	cert *tls.Certificate
	err  error
}

// NewIssuer returns an Issuer signing with a. resolve maps a TLS server name
// to the SANs to issue, e.g. "api.shop.test" -> {"shop.test", "*.shop.test"}.
// When resolve is nil or returns nil, a name under a managed TLD gets a
// certificate for exactly that name, an empty server name (a client that
// connected by IP address) gets one for 127.0.0.1 and ::1, and any other
// name is refused with an error wrapping ErrNameNotAllowed.
func NewIssuer(a *Authority, resolve func(serverName string) []string) *Issuer {
	return &Issuer{
		ca:       a,
		resolve:  resolve,
		cache:    make(map[string]*tls.Certificate),
		inflight: make(map[string]*issueCall),
	}
}

// GetCertificate implements tls.Config.GetCertificate.
func (i *Issuer) GetCertificate(hello *tls.ClientHelloInfo) (*tls.Certificate, error) {
	if hello == nil {
		return nil, errors.New("certs: nil ClientHelloInfo")
	}
	names, err := i.namesFor(hello.ServerName)
	if err != nil {
		return nil, err
	}
	key := cacheKey(names)
	ctx := hello.Context()
	if ctx == nil {
		ctx = context.Background()
	}

	i.mu.Lock()
	if c := i.cache[key]; c != nil && !i.dueForRenewal(c) {
		i.mu.Unlock()
		return c, nil
	}
	if call := i.inflight[key]; call != nil {
		i.mu.Unlock()
		select {
		case <-call.done:
			return call.cert, call.err
		case <-ctx.Done():
			return nil, fmt.Errorf("certs: waiting for certificate for %s: %w", hello.ServerName, ctx.Err())
		}
	}
	call := &issueCall{done: make(chan struct{})}
	i.inflight[key] = call
	i.mu.Unlock()

	// Issuing is a few milliseconds of CPU with no I/O, so it runs to the
	// end even if this handshake gives up; waiters get the result.
	cert, err := i.ca.Issue(names)

	i.mu.Lock()
	delete(i.inflight, key)
	if err == nil {
		i.pruneExpired()
		i.cache[key] = cert
	}
	i.mu.Unlock()
	call.cert, call.err = cert, err
	close(call.done)

	if err != nil {
		return nil, err
	}
	if i.OnIssue != nil {
		i.OnIssue(slices.Clone(names), cert.Leaf.NotAfter)
	}
	return cert, nil
}

// namesFor decides the SANs for a TLS server name.
func (i *Issuer) namesFor(serverName string) ([]string, error) {
	sn := strings.ToLower(strings.TrimSuffix(serverName, "."))
	if sn == "" {
		return []string{"127.0.0.1", "::1"}, nil
	}
	if i.resolve != nil {
		if names := i.resolve(sn); len(names) > 0 {
			return names, nil
		}
	}
	if validDNSName(sn) && !strings.HasPrefix(sn, "*.") && i.ca.allowedDNS(sn) {
		return []string{sn}, nil
	}
	return nil, i.ca.refusal(sn)
}

// dueForRenewal reports whether less than a third of c's lifetime is left.
// Must be called with i.mu held.
func (i *Issuer) dueForRenewal(c *tls.Certificate) bool {
	lifetime := c.Leaf.NotAfter.Sub(c.Leaf.NotBefore)
	return i.ca.now().After(c.Leaf.NotAfter.Add(-lifetime / 3))
}

// pruneExpired drops expired certificates so the cache cannot grow without
// bound as names come and go. Must be called with i.mu held.
func (i *Issuer) pruneExpired() {
	now := i.ca.now()
	for k, c := range i.cache {
		if now.After(c.Leaf.NotAfter) {
			delete(i.cache, k)
		}
	}
}

// cacheKey is the canonical form of a SAN set: lowercase, sorted, unique.
func cacheKey(names []string) string {
	canon := make([]string, 0, len(names))
	for _, n := range names {
		canon = append(canon, strings.ToLower(strings.TrimSuffix(strings.TrimSpace(n), ".")))
	}
	slices.Sort(canon)
	return strings.Join(slices.Compact(canon), ",")
}
