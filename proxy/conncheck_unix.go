//go:build unix

package proxy

import (
	"errors"
	"net"
	"syscall"
)

// idleConnQuiet reports whether an idle upstream connection is still open
// with nothing to read: no unsolicited bytes (which would be taken for the
// next response) and no end of stream (the upstream closed it). It peeks
// at the socket without waiting; a connection it cannot look into counts
// as quiet.
func idleConnQuiet(c net.Conn) bool {
	if wc, ok := c.(*writeDeadlineConn); ok {
		c = wc.Conn
	}
	sc, ok := c.(syscall.Conn)
	if !ok {
		return true
	}
	raw, err := sc.SyscallConn()
	if err != nil {
		return true
	}
	quiet := true
	var b [1]byte
	err = raw.Read(func(fd uintptr) bool {
		_, _, err := syscall.Recvfrom(int(fd), b[:], syscall.MSG_PEEK|syscall.MSG_DONTWAIT)
		// Only "nothing to read yet" is quiet: data, the end of the
		// stream (no error) and any other error all mean the connection
		// cannot carry the next request.
		quiet = errors.Is(err, syscall.EAGAIN) || errors.Is(err, syscall.EWOULDBLOCK)
		return true
	})
	return quiet && err == nil
}
