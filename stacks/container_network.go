package stacks

import (
	"context"
	"fmt"

	"github.com/docker/docker/api/types/network"
)

// ensureNetwork creates the project's network unless it exists. Two
// services starting at once may both create it: the loser finds the
// winner's.
func (r *containerRunner) ensureNetwork(ctx context.Context, name string) error {
	if _, err := r.cli.NetworkInspect(ctx, name, network.InspectOptions{}); err == nil {
		return nil
	}
	_, err := r.cli.NetworkCreate(ctx, name, network.CreateOptions{Driver: "bridge", Labels: networkLabels(r.spec)})
	if err == nil {
		return nil
	}
	if _, ierr := r.cli.NetworkInspect(ctx, name, network.InspectOptions{}); ierr == nil {
		return nil
	}
	return fmt.Errorf("create network %s: %w", name, r.wrap(err))
}
