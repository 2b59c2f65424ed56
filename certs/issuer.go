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

	"github.com/hashicorp/golang-lru/v2/simplelru"
)

// FallbackName is the DNS name of the fallback certificate: what an Issuer
// serves for a server name that no project serves.
const FallbackName = "devport.localhost"

// fallbackNames are the SANs of the fallback certificate: devport's own
// name, so a browser's "this certificate is for devport.localhost" says who
// answered, plus localhost and the loopback addresses, where the proxy's
// unknown-host page (the list of sites) is a fine answer.
var fallbackNames = []string{FallbackName, "localhost", "127.0.0.1", "::1"}

// defaultCacheSize bounds the leaves an Issuer keeps: far more than the
// SAN sets of the projects of one machine, and at most a few megabytes.
const defaultCacheSize = 256

// fallbackKey is the inflight key of the fallback certificate; no SAN set
// has it (cacheKey joins lowercase names with commas).
const fallbackKey = "\x00fallback"

// Issuer serves leaf certificates to crypto/tls through GetCertificate,
// only for the names its names callback accepts (the names a project
// serves): any other server name gets one shared fallback certificate, so
// that a client sending thousands of made-up names costs one certificate,
// not thousands (issue 11.8; Caddy's on-demand TLS "ask" endpoint is the
// model). Leaves are cached per resolved SAN set in a bounded LRU cache,
// renewed when less than a third of their lifetime is left, and issued once
// when many handshakes ask for the same names at the same time.
type Issuer struct {
	// OnIssue, when set, is called after each new leaf is issued for a
	// served name (not on cache hits, and never for the fallback
	// certificate), e.g. to record an event. It runs on the handshake
	// goroutine, so it should be quick.
	OnIssue func(names []string, notAfter time.Time)

	mu       sync.Mutex
	ca       *Authority
	names    func(serverName string) []string
	cache    *simplelru.LRU[string, *tls.Certificate] // by cacheKey of the SAN set
	fallback *tls.Certificate                         // made on first use
	inflight map[string]*issueCall
}

type issueCall struct {
	done chan struct{} // closed when cert and err are set
	cert *tls.Certificate
	err  error
}

// NewIssuer returns an Issuer signing with a. names maps a TLS server name
// (lowercase, without a trailing dot) to the SANs of its certificate, e.g.
// "api.shop.test" -> {"shop.test", "*.shop.test"}, or returns nil when no
// project serves the name. A nil names serves no name.
//
// A name that names returns nil for, and a handshake without a server name
// (a client that connected by IP address), get the fallback certificate,
// shared by all of them and never reported to OnIssue: a leaf for FallbackName,
// localhost and the loopback addresses, made once and renewed like the
// others. A browser shows a name mismatch for it, and a client that goes on
// gets the proxy's unknown-host page. SANs that names returns outside the
// CA's constraints fail the handshake with an error wrapping
// ErrNameNotAllowed.
func NewIssuer(a *Authority, names func(serverName string) []string) *Issuer {
	cache, err := simplelru.NewLRU[string, *tls.Certificate](defaultCacheSize, nil)
	if err != nil {
		panic(err) // only for a size <= 0
	}
	return &Issuer{
		ca:       a,
		names:    names,
		cache:    cache,
		inflight: make(map[string]*issueCall),
	}
}

// SetAuthority makes the Issuer sign with a from now on (after
// Authority.Renew): it drops every cached leaf and the fallback, so the
// next handshakes get certificates of the new root.
func (i *Issuer) SetAuthority(a *Authority) {
	i.mu.Lock()
	defer i.mu.Unlock()
	i.ca = a
	i.cache.Purge()
	i.fallback = nil
}

// GetCertificate implements tls.Config.GetCertificate.
func (i *Issuer) GetCertificate(hello *tls.ClientHelloInfo) (*tls.Certificate, error) {
	if hello == nil {
		return nil, errors.New("certs: nil ClientHelloInfo")
	}
	names := i.namesFor(hello.ServerName)
	fallback := names == nil
	key := fallbackKey
	if !fallback {
		key = cacheKey(names)
	}
	ctx := hello.Context()
	if ctx == nil {
		ctx = context.Background()
	}

	i.mu.Lock()
	ca := i.ca
	if c := i.cached(key, fallback); c != nil && !dueForRenewal(ca, c) {
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
	issue := names
	if fallback {
		issue = fallbackNames
	}
	cert, err := ca.Issue(issue)

	i.mu.Lock()
	delete(i.inflight, key)
	if err == nil && i.ca == ca { // not if SetAuthority ran meanwhile
		if fallback {
			i.fallback = cert
		} else {
			i.cache.Add(key, cert)
		}
	}
	i.mu.Unlock()
	call.cert, call.err = cert, err
	close(call.done)

	if err != nil {
		return nil, err
	}
	if i.OnIssue != nil && !fallback {
		i.OnIssue(slices.Clone(names), cert.Leaf.NotAfter)
	}
	return cert, nil
}

// cached is the certificate kept under key, or nil. Must be called with
// i.mu held.
func (i *Issuer) cached(key string, fallback bool) *tls.Certificate {
	if fallback {
		return i.fallback
	}
	c, _ := i.cache.Get(key)
	return c
}

// namesFor decides the SANs for a TLS server name: nil means the fallback
// certificate.
func (i *Issuer) namesFor(serverName string) []string {
	sn := strings.ToLower(strings.TrimSuffix(serverName, "."))
	if sn == "" || i.names == nil {
		return nil
	}
	if names := i.names(sn); len(names) > 0 {
		return names
	}
	return nil
}

// dueForRenewal reports whether less than a third of c's lifetime is left.
func dueForRenewal(ca *Authority, c *tls.Certificate) bool {
	lifetime := c.Leaf.NotAfter.Sub(c.Leaf.NotBefore)
	return ca.now().After(c.Leaf.NotAfter.Add(-lifetime / 3))
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
