package resolve_test

import (
	"context"
	"fmt"
	"net"
	"slices"

	"github.com/devport/devport/resolve"
)

// A responder for .test on a free loopback port, asked by Go's own DNS
// client. Names outside .test are refused, never forwarded.
func ExampleServer() {
	ctx := context.Background()
	srv, err := resolve.NewServer(resolve.Config{Addr: "127.0.0.1:0", TLDs: []string{"test"}})
	if err != nil {
		fmt.Println(err)
		return
	}
	if err := srv.Start(ctx); err != nil {
		fmt.Println(err)
		return
	}
	defer srv.Shutdown(ctx)

	r := &net.Resolver{PreferGo: true, Dial: func(ctx context.Context, network, _ string) (net.Conn, error) {
		var d net.Dialer
		return d.DialContext(ctx, network, srv.Addr())
	}}
	addrs, err := r.LookupHost(ctx, "shop.test")
	slices.Sort(addrs)
	fmt.Println(addrs, err)
	_, err = r.LookupHost(ctx, "example.com")
	fmt.Println(err != nil)
	// Output:
	// [127.0.0.1 ::1] <nil>
	// true
}

// The drop-in that routes .test to the responder through systemd-resolved.
func ExampleResolvedDropIn() {
	b, err := resolve.ResolvedDropIn("127.0.0.1:5354", []string{"test"})
	fmt.Print(string(b), err, "\n")
	// Output:
	// # managed by devport: devport dns off removes this file
	// [Resolve]
	// DNS=127.0.0.1:5354
	// Domains=~test
	// <nil>
}
