package stacks

import (
	"bufio"
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"net"
	"strings"
)

// uwsgiPacket encodes a uwsgi request header: modifier1 0 (a WSGI
// request), the 16-bit little-endian size of the vars, modifier2 0, then
// each var as a 16-bit little-endian key length, the key, a 16-bit
// little-endian value length and the value. The request body, if any,
// follows the packet on the connection.
func uwsgiPacket(vars [][2]string) ([]byte, error) {
	size := 0
	for _, kv := range vars {
		if len(kv[0]) > 0xffff || len(kv[1]) > 0xffff {
			return nil, fmt.Errorf("uwsgi var %.40q: longer than 65535 bytes", kv[0])
		}
		size += 4 + len(kv[0]) + len(kv[1])
	}
	if size > 0xffff {
		return nil, fmt.Errorf("uwsgi vars: %d bytes, more than the 65535 a packet holds", size)
	}
	b := make([]byte, 4, 4+size)
	b[0] = 0
	binary.LittleEndian.PutUint16(b[1:3], uint16(size))
	b[3] = 0
	for _, kv := range vars {
		b = binary.LittleEndian.AppendUint16(b, uint16(len(kv[0])))
		b = append(b, kv[0]...)
		b = binary.LittleEndian.AppendUint16(b, uint16(len(kv[1])))
		b = append(b, kv[1]...)
	}
	return b, nil
}

// uwsgiProbeVars is the readiness request: GET / from the loopback.
func uwsgiProbeVars() [][2]string {
	return [][2]string{
		{"REQUEST_METHOD", "GET"},
		{"REQUEST_URI", "/"},
		{"PATH_INFO", "/"},
		{"QUERY_STRING", ""},
		{"SCRIPT_NAME", ""},
		{"SERVER_PROTOCOL", "HTTP/1.1"},
		{"SERVER_NAME", "localhost"},
		{"SERVER_PORT", "80"},
		{"HTTP_HOST", "localhost"},
		{"HTTP_USER_AGENT", probeUserAgent},
		{"REMOTE_ADDR", "127.0.0.1"},
		{"REMOTE_PORT", "0"},
	}
}

// errNoStatusLine is an answer on a uwsgi socket that is not HTTP.
var errNoStatusLine = errors.New("no HTTP status line in the answer")

// probeUWSGI sends the readiness request over the uwsgi protocol and
// reports whether an HTTP status line came back (any status).
func probeUWSGI(ctx context.Context, up Upstream) error {
	ctx, cancel := context.WithTimeout(ctx, probeTimeout)
	defer cancel()
	var d net.Dialer
	conn, err := d.DialContext(ctx, up.Network, up.Address)
	if err != nil {
		return err
	}
	defer conn.Close()
	if dl, ok := ctx.Deadline(); ok {
		_ = conn.SetDeadline(dl)
	}
	stop := context.AfterFunc(ctx, func() { _ = conn.Close() })
	defer stop()
	pkt, err := uwsgiPacket(uwsgiProbeVars())
	if err != nil {
		return err
	}
	if _, err := conn.Write(pkt); err != nil {
		return err
	}
	line, err := bufio.NewReader(conn).ReadString('\n')
	if err != nil {
		if ctx.Err() != nil {
			return ctx.Err()
		}
		return fmt.Errorf("read the answer: %w", err)
	}
	if !strings.HasPrefix(line, "HTTP/1.") {
		return fmt.Errorf("%w: %.60q", errNoStatusLine, line)
	}
	return nil
}

// readiness returns the readiness check of up, and what releases its idle
// connections: an HTTP GET (the answer carrying token when it is set), or
// the same request in the uwsgi protocol.
func readiness(up Upstream, token string) (check func(context.Context) error, closeIdle func()) {
	if up.Protocol == ProtocolUWSGI {
		return func(ctx context.Context) error { return probeUWSGI(ctx, up) }, func() {}
	}
	c := probeClient(up)
	return func(ctx context.Context) error { return probe(ctx, c, token) }, c.CloseIdleConnections
}
