//go:build unix

package proxy

import (
	"errors"
	"net"
	"syscall"
)

// idlePeek looks into the socket of an idle upstream connection without
// waiting: quiet reports whether it is still open with nothing to read,
// that is no unsolicited bytes (which would be taken for the next
// response) and no end of stream (the upstream closed it). It is made
// once per connection, when it is dialed, so that a look allocates
// nothing.
type idlePeek struct {
	raw   syscall.RawConn
	look  func(fd uintptr) bool
	quiet bool
	b     [1]byte
}

// newIdlePeek returns the peek of c, or nil when c has no socket to look
// into (a nil peek reports every connection quiet).
func newIdlePeek(c net.Conn) *idlePeek {
	if wc, ok := c.(*writeDeadlineConn); ok {
		c = wc.Conn
	}
	sc, ok := c.(syscall.Conn)
	if !ok {
		return nil
	}
	raw, err := sc.SyscallConn()
	if err != nil {
		return nil
	}
	p := &idlePeek{raw: raw}
	p.look = func(fd uintptr) bool {
		_, _, err := syscall.Recvfrom(int(fd), p.b[:], syscall.MSG_PEEK|syscall.MSG_DONTWAIT)
		// Only "nothing to read yet" is quiet: data, the end of the
		// stream (no error) and any other error all mean the connection
		// cannot carry the next request.
		p.quiet = errors.Is(err, syscall.EAGAIN) || errors.Is(err, syscall.EWOULDBLOCK)
		return true
	}
	return p
}

func (p *idlePeek) isQuiet() bool {
	if p == nil {
		return true
	}
	p.quiet = false
	if err := p.raw.Read(p.look); err != nil {
		return false
	}
	return p.quiet
}
