package stacks

import (
	"context"
	"fmt"
	"net/netip"

	"github.com/docker/docker/api/types/network"
)

// ensureNetwork creates the project's network unless it exists, and
// returns its IPv4 gateways: where devport's proxy's connections to a
// published port arrive from (Docker's port proxy, or the NAT of a hairpin,
// connects from the gateway of the container's network). Two services
// starting at once may both create the network: the loser finds the
// winner's.
func (r *containerRunner) ensureNetwork(ctx context.Context, name string) ([]string, error) {
	if n, err := r.cli.NetworkInspect(ctx, name, network.InspectOptions{}); err == nil {
		return gateways(n), nil
	}
	_, err := r.cli.NetworkCreate(ctx, name, network.CreateOptions{Driver: "bridge", Labels: networkLabels(r.spec)})
	n, ierr := r.cli.NetworkInspect(ctx, name, network.InspectOptions{})
	if ierr == nil {
		return gateways(n), nil
	}
	if err == nil {
		err = ierr
	}
	return nil, fmt.Errorf("create network %s: %w", name, r.wrap(err))
}

// gateways lists the IPv4 gateways of n's address pools.
func gateways(n network.Inspect) []string {
	var out []string
	for _, c := range n.IPAM.Config {
		if a, err := netip.ParseAddr(c.Gateway); err == nil && a.Is4() {
			out = append(out, a.String())
		}
	}
	return out
}
