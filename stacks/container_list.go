package stacks

import (
	"context"
	"errors"
	"fmt"
	"path/filepath"

	cerrdefs "github.com/containerd/errdefs"
	"github.com/docker/docker/api/types/container"
	"github.com/docker/docker/api/types/filters"
	"github.com/docker/docker/api/types/network"
	"github.com/docker/docker/api/types/volume"
	"github.com/docker/docker/client"
)

// Container is a devport container, as ListContainers finds it.
type Container struct {
	ID, Name         string
	Project, Service string
	State            string // "running", "exited", "created", ...
}

// homeFilter selects what carries home's label, and project's when set.
func homeFilter(home, project string) filters.Args {
	f := filters.NewArgs(filters.Arg("label", LabelHome+"="+filepath.Clean(home)))
	if project != "" {
		f.Add("label", LabelProject+"="+project)
	}
	return f
}

// ListContainers returns the containers of data folder home (all states).
// An engine that does not answer gives a *DockerError.
func ListContainers(ctx context.Context, cli *client.Client, home string) ([]Container, error) {
	list, err := cli.ContainerList(ctx, container.ListOptions{All: true, Filters: homeFilter(home, "")})
	if err != nil {
		if client.IsErrConnectionFailed(err) {
			return nil, dockerError(cli, err)
		}
		return nil, fmt.Errorf("list containers: %w", err)
	}
	out := make([]Container, 0, len(list))
	for _, c := range list {
		name := ""
		if len(c.Names) > 0 {
			name = c.Names[0]
		}
		out = append(out, Container{ID: c.ID, Name: name, Project: c.Labels[LabelProject],
			Service: c.Labels[LabelService], State: c.State})
	}
	return out, nil
}

// RemoveContainer force-removes one container; one that is already gone is
// not an error.
func RemoveContainer(ctx context.Context, cli *client.Client, id string) error {
	err := cli.ContainerRemove(ctx, id, container.RemoveOptions{Force: true})
	if err != nil && !cerrdefs.IsNotFound(err) && !isRemovalInProgress(err) {
		if client.IsErrConnectionFailed(err) {
			return dockerError(cli, err)
		}
		return fmt.Errorf("remove container %s: %w", shortID(id), err)
	}
	return nil
}

// RemoveContainers removes every container, volume (the installed
// requirements) and network of data folder home, or only project's when it
// is set.
func RemoveContainers(ctx context.Context, cli *client.Client, home, project string) error {
	list, err := cli.ContainerList(ctx, container.ListOptions{All: true, Filters: homeFilter(home, project)})
	if err != nil {
		if client.IsErrConnectionFailed(err) {
			return dockerError(cli, err)
		}
		return fmt.Errorf("list containers: %w", err)
	}
	var errs []error
	for _, c := range list {
		errs = append(errs, RemoveContainer(ctx, cli, c.ID))
	}
	vols, err := cli.VolumeList(ctx, volume.ListOptions{Filters: homeFilter(home, project)})
	if err != nil {
		return errors.Join(append(errs, fmt.Errorf("list volumes: %w", err))...)
	}
	for _, v := range vols.Volumes {
		if v.Labels[LabelData] != "" {
			continue // a data service's: kept unless purged (RemoveDataVolume)
		}
		if err := cli.VolumeRemove(ctx, v.Name, true); err != nil && !cerrdefs.IsNotFound(err) {
			errs = append(errs, fmt.Errorf("remove volume %s: %w", v.Name, err))
		}
	}
	nets, err := cli.NetworkList(ctx, network.ListOptions{Filters: homeFilter(home, project)})
	if err != nil {
		return errors.Join(append(errs, fmt.Errorf("list networks: %w", err))...)
	}
	for _, n := range nets {
		if err := cli.NetworkRemove(ctx, n.ID); err != nil && !cerrdefs.IsNotFound(err) {
			errs = append(errs, fmt.Errorf("remove network %s: %w", n.Name, err))
		}
	}
	return errors.Join(errs...)
}

// RemoveIdleNetworks removes the project networks of data folder home
// whose project keep does not claim (a killed engine leaves them behind).
// A network a container still uses stays: Docker refuses, and the
// container's own removal takes the network with it later. It returns the
// names it removed.
func RemoveIdleNetworks(ctx context.Context, cli *client.Client, home string, keep func(project string) bool) ([]string, error) {
	nets, err := cli.NetworkList(ctx, network.ListOptions{Filters: homeFilter(home, "")})
	if err != nil {
		if client.IsErrConnectionFailed(err) {
			return nil, dockerError(cli, err)
		}
		return nil, fmt.Errorf("list networks: %w", err)
	}
	var removed []string
	for _, n := range nets {
		if keep(n.Labels[LabelProject]) {
			continue
		}
		if err := cli.NetworkRemove(ctx, n.ID); err == nil {
			removed = append(removed, n.Name)
		}
	}
	return removed, nil
}
