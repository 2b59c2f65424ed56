package stacks

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"time"
)

// probeTimeout bounds one readiness request, so that a backend that accepts
// connections but hangs does not eat the whole start deadline in one try.
const probeTimeout = 2 * time.Second

// probeUserAgent marks readiness requests (the Apache config keys on it).
const probeUserAgent = "devport-readiness"

// probeClient is an HTTP client that dials up whatever URL it is given: a
// TCP port or a unix socket. Keep-alives are off so that no idle connection
// outlives the probe.
func probeClient(up Upstream) *http.Client {
	return &http.Client{
		Transport: &http.Transport{
			DialContext: func(ctx context.Context, _, _ string) (net.Conn, error) {
				var d net.Dialer
				return d.DialContext(ctx, up.Network, up.Address)
			},
			DisableKeepAlives: true,
			Proxy:             nil, // never HTTP_PROXY: the backend is local
		},
		// A redirect is an answer; following it could leave the backend.
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse },
	}
}

// probeTokenHeader carries a backend's probe token (see launch.token).
const probeTokenHeader = "X-Devport-Ready"

// errForeignAnswer is a probe answered by a server without the expected token.
var errForeignAnswer = errors.New("answered by another server")

// probe sends GET / and reports whether an HTTP response came back. A 404 or
// a 500 still means the server is up and serving. When token is set, the
// response must carry it in probeTokenHeader.
func probe(ctx context.Context, c *http.Client, token string) error {
	ctx, cancel := context.WithTimeout(ctx, probeTimeout)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, "http://localhost/", nil)
	if err != nil {
		return err
	}
	req.Header.Set("User-Agent", probeUserAgent)
	resp, err := c.Do(req)
	if err != nil {
		return err
	}
	_, _ = io.Copy(io.Discard, io.LimitReader(resp.Body, 64<<10))
	resp.Body.Close()
	if token != "" && resp.Header.Get(probeTokenHeader) != token {
		return fmt.Errorf("%w (%s)", errForeignAnswer, resp.Status)
	}
	return nil
}
