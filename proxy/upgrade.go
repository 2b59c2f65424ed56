package proxy

import (
	"bufio"
	"context"
	"crypto/tls"
	"errors"
	"net"
	"net/http"
	"sync"
)

// errShuttingDown refuses a protocol switch that arrives during Shutdown.
var errShuttingDown = errors.New("proxy: shutting down")

// upgrades tracks the client connections that ReverseProxy hijacked for a
// protocol switch (websockets). http.Server forgets a connection once it
// is hijacked, so without this a Shutdown would leave every websocket,
// its backend connection and two copying goroutines running.
type upgrades struct {
	mu      sync.Mutex
	closing bool
	conns   map[*upgradedConn]struct{}
	// byConn finds the tracked wrapper of a backend connection of an
	// HTTP/2 websocket (track, untrack in h2ws.go).
	byConn map[net.Conn]*upgradedConn
	open   sync.WaitGroup
}

func newUpgrades() *upgrades {
	return &upgrades{conns: make(map[*upgradedConn]struct{}), byConn: make(map[net.Conn]*upgradedConn)}
}

func (u *upgrades) isClosing() bool {
	u.mu.Lock()
	defer u.mu.Unlock()
	return u.closing
}

// closeAll refuses new upgrades and closes the upgraded connections, which
// ends their ReverseProxy copy loops (and so closes the backend side).
func (u *upgrades) closeAll() {
	u.mu.Lock()
	u.closing = true
	conns := make([]net.Conn, 0, len(u.conns))
	for c := range u.conns {
		conns = append(conns, c.Conn)
	}
	u.mu.Unlock()
	for _, c := range conns {
		// Close the socket under TLS: tls.Conn.Close would first try to
		// send close_notify, which can wait up to 5 s on a peer that
		// does not read.
		if tc, ok := c.(*tls.Conn); ok {
			c = tc.NetConn()
		}
		_ = c.Close()
	}
}

// wait returns when every upgraded connection has been closed by its
// handler, or when ctx is done.
func (u *upgrades) wait(ctx context.Context) error {
	done := make(chan struct{})
	go func() {
		u.open.Wait()
		close(done)
	}()
	select {
	case <-done:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}

// upgradeWriter is the ResponseWriter given to ReverseProxy for a request
// that asks for a protocol switch: its Hijack registers the connection.
// Unwrap keeps http.ResponseController (Flush, deadlines) working.
type upgradeWriter struct {
	http.ResponseWriter
	u        *upgrades
	hijacked bool
}

func (w *upgradeWriter) Unwrap() http.ResponseWriter { return w.ResponseWriter }

func (w *upgradeWriter) Hijack() (net.Conn, *bufio.ReadWriter, error) {
	w.u.mu.Lock()
	defer w.u.mu.Unlock()
	if w.u.closing {
		return nil, nil, errShuttingDown
	}
	c, brw, err := http.NewResponseController(w.ResponseWriter).Hijack()
	if err != nil {
		return nil, nil, err
	}
	w.hijacked = true
	uc := &upgradedConn{Conn: c, u: w.u}
	w.u.conns[uc] = struct{}{}
	w.u.open.Add(1)
	return uc, brw, nil
}

// upgradedConn removes itself from the tracked set when ReverseProxy
// closes it.
type upgradedConn struct {
	net.Conn
	u    *upgrades
	once sync.Once
}

func (c *upgradedConn) Close() error {
	err := c.Conn.Close()
	c.once.Do(func() {
		c.u.mu.Lock()
		delete(c.u.conns, c)
		c.u.mu.Unlock()
		c.u.open.Done()
	})
	return err
}
