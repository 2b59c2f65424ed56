//go:build !unix

package proxy

import "net"

// idlePeek cannot look into a socket here: a connection closed while idle
// is found when the request sent on it gets nothing back (and is
// retried), and one with unsolicited bytes when they fail to parse.
type idlePeek struct{}

func newIdlePeek(net.Conn) *idlePeek { return nil }

func (*idlePeek) isQuiet() bool { return true }
