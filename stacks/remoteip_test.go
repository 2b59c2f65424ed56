//go:build unix

package stacks

import (
	"net/http"
	"strings"
	"testing"

	"github.com/devport/devport/internal/stackdef"
)

// clientAddrPage prints the client address PHP sees and the
// X-Forwarded-For header that is left for the app.
const clientAddrPage = `<?php
header('Content-Type: text/plain');
echo "remote=", $_SERVER['REMOTE_ADDR'], "\n";
echo "xff=", $_SERVER['HTTP_X_FORWARDED_FOR'] ?? '', "\n";
`

// clientAddrCases are X-Forwarded-For headers sent straight to a backend
// from the address the proxy connects from, and the client address Apache
// must hand PHP. Apache trusts exactly one hop: its peer, which is devport's
// proxy. The proxy writes the address it accepted the connection from as
// the right-most value, so that value is the client; anything to its left
// came from the client itself and proves nothing. "6.6.6.6, 127.0.0.1" is a
// client on loopback (a browser on this machine) that sent
// "X-Forwarded-For: 6.6.6.6" to a proxy that appends: the client is
// 127.0.0.1, never 6.6.6.6 (which Apache reported when it trusted every
// loopback value in the header, walking on to the left).
var clientAddrCases = []struct {
	name   string
	header []string // X-Forwarded-For lines
	want   string   // REMOTE_ADDR; "" means the peer's own address
}{
	{name: "no header", want: ""},
	{name: "the proxy's one value", header: []string{"203.0.113.7"}, want: "203.0.113.7"},
	{name: "a loopback client", header: []string{"127.0.0.1"}, want: "127.0.0.1"},
	{name: "spoofed left-most value before a loopback client", header: []string{"6.6.6.6, 127.0.0.1"}, want: "127.0.0.1"},
	{name: "spoofed left-most value before a public client", header: []string{"6.6.6.6, 203.0.113.7"}, want: "203.0.113.7"},
	{name: "spoofed private chain", header: []string{"6.6.6.6, 10.0.0.1, 192.168.1.2, 127.0.0.1"}, want: "127.0.0.1"},
	{name: "spoofed header line before the proxy's", header: []string{"6.6.6.6", "203.0.113.7"}, want: "203.0.113.7"},
}

// checkClientAddr runs clientAddrCases against clientAddrPage at path of
// up; peer is the address Apache sees the test's connections come from.
func checkClientAddr(t *testing.T, up Upstream, path, peer string) {
	t.Helper()
	for _, tc := range clientAddrCases {
		t.Run(tc.name, func(t *testing.T) {
			var h http.Header
			if tc.header != nil {
				h = http.Header{"X-Forwarded-For": tc.header}
			}
			want := tc.want
			if want == "" {
				want = peer
			}
			status, body := get(t, up, path, h)
			if status != http.StatusOK {
				t.Fatalf("GET %s = %d:\n%s", path, status, body)
			}
			if !strings.Contains(body, "remote="+want+"\n") {
				t.Errorf("X-Forwarded-For %q: PHP sees\n%swant remote=%s", tc.header, body, want)
			}
			if strings.Contains(body, "6.6.6.6") {
				t.Errorf("the spoofed address reaches PHP:\n%s", body)
			}
		})
	}
}

// TestApacheClientAddress sends forwarding headers straight to a real
// Apache from loopback, where devport's proxy connects from.
func TestApacheClientAddress(t *testing.T) {
	requireStack(t, stackdef.PHP)
	spec := testSpec(t, stackdef.PHP, map[string]string{"index.php": clientAddrPage})
	up := startRunner(t, mustRunner(t, spec))
	checkClientAddr(t, up, "/", "127.0.0.1")
}
