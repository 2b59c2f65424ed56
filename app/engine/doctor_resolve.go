package engine

import (
	"context"

	"github.com/devport/devport/resolve"
	"github.com/devport/devport/store"
)

// checkResolution looks every project domain up through the system
// resolver (and getent, which goes through nsswitch as browsers do) and
// expects loopback answers.
func (m *Manager) checkResolution(ctx context.Context, ps []store.Project) []Check {
	checker := resolve.Checker{HostsPath: m.hostsPath}
	var out []Check
	for _, p := range ps {
		for _, d := range p.Domains {
			r := checker.Check(ctx, d)
			out = append(out, Check{Name: "resolve " + d, OK: r.OK, Detail: r.Detail, Fix: r.Fix})
		}
	}
	return out
}
