package engine

import (
	"context"

	"github.com/devport/devport/resolve"
	"github.com/devport/devport/store"
)

// checkResolution looks every project domain up through the system
// resolver (and getent, which goes through nsswitch as browsers do) and
// expects loopback answers.
//
// A name that should resolve and does not says how to put it back: under
// the hosts method, devport setup rewrites the block; under the resolver
// (a VPN or another resolver took .test over), the hosts method works
// behind any of them.
func (m *Manager) checkResolution(ctx context.Context, ps []store.Project) []Check {
	checker := resolve.Checker{HostsPath: m.hostsPath}
	method, _ := m.DNSMethod(ctx)
	var out []Check
	for _, p := range ps {
		for _, d := range p.Domains {
			r := checker.Check(ctx, d)
			c := Check{Name: "resolve " + d, OK: r.OK, Detail: r.Detail, Fix: r.Fix}
			switch {
			case r.OK:
			case method == dnsResolver:
				c.Fix = r.Fix + " (the hosts file works behind a VPN or another resolver)"
			default:
				c.Fix = "devport setup"
			}
			out = append(out, c)
		}
	}
	return out
}
