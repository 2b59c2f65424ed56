package proxy

import (
	"errors"
	"syscall"
)

// ErrStarted is returned by a second call to Server.Start, and by Start
// after Shutdown: a Server serves once.
var ErrStarted = errors.New("proxy: server already started")

// BindError is returned by Server.Start when a listener cannot be bound.
// Permission and InUse let the caller offer the right fix (setcap or
// another port) without parsing the message.
type BindError struct {
	// Addr is the address that failed, e.g. "127.0.0.1:443".
	Addr string
	// Permission is set when the system refused the port (EACCES), as it
	// does for ports below 1024 without CAP_NET_BIND_SERVICE.
	Permission bool
	// InUse is set when another program listens there (EADDRINUSE).
	InUse bool
	// Err is the error from the system.
	Err error
}

func (e *BindError) Error() string {
	switch {
	case e.Permission:
		return "bind " + e.Addr + ": permission denied"
	case e.InUse:
		return "bind " + e.Addr + ": address already in use"
	default:
		return "bind " + e.Addr + ": " + e.Err.Error()
	}
}

func (e *BindError) Unwrap() error { return e.Err }

func newBindError(addr string, err error) *BindError {
	return &BindError{
		Addr:       addr,
		Permission: errors.Is(err, syscall.EACCES) || errors.Is(err, syscall.EPERM),
		InUse:      errors.Is(err, syscall.EADDRINUSE),
		Err:        err,
	}
}

// noIPv6 reports whether a bind failed because the machine has no IPv6
// (or no ::1 on its loopback interface).
func noIPv6(err error) bool {
	return errors.Is(err, syscall.EADDRNOTAVAIL) || errors.Is(err, syscall.EAFNOSUPPORT)
}
