package stacks

import (
	"context"
	"errors"
	"fmt"
	"os/exec"
	"strings"
	"time"

	"github.com/docker/docker/client"
)

// dockerPingTimeout bounds the check that an engine answers.
const dockerPingTimeout = 5 * time.Second

// NewDockerClient returns a client for the engine DOCKER_HOST names (the
// default socket without it), negotiating the API version so that old
// engines (20.10, API 1.41) and new ones both work. It does not connect.
func NewDockerClient() (*client.Client, error) {
	cli, err := client.NewClientWithOpts(client.FromEnv, client.WithAPIVersionNegotiation())
	if err != nil {
		return nil, fmt.Errorf("docker client (check DOCKER_HOST): %w", err)
	}
	return cli, nil
}

// PingDocker reports whether an engine answers, as a *DockerError when none
// does.
func PingDocker(ctx context.Context, cli *client.Client) error {
	ctx, cancel := context.WithTimeout(ctx, dockerPingTimeout)
	defer cancel()
	if _, err := cli.Ping(ctx); err != nil {
		return dockerError(cli, err)
	}
	// Negotiation happens on the first real call, not on Ping.
	cli.NegotiateAPIVersion(ctx)
	return nil
}

func dockerError(cli *client.Client, err error) error {
	_, errD := exec.LookPath("dockerd")
	_, errC := exec.LookPath("docker")
	installed := errD == nil || errC == nil
	if !installed {
		for _, p := range []string{"/usr/bin/dockerd", "/usr/sbin/dockerd", "/usr/local/bin/dockerd"} {
			if isExecutable(p) {
				installed = true
			}
		}
	}
	return &DockerError{Host: cli.DaemonHost(), Installed: installed, Err: err}
}

// isDockerDown reports whether err means the engine cannot be reached.
func isDockerDown(err error) bool {
	return client.IsErrConnectionFailed(err) || errors.Is(err, ErrDockerUnavailable)
}

// wrap turns a connection failure into a *DockerError.
func (r *containerRunner) wrap(err error) error {
	if err != nil && client.IsErrConnectionFailed(err) {
		return dockerError(r.cli, err)
	}
	return err
}

func isPortConflict(err error) bool {
	s := err.Error()
	return containsAny(s, "port is already allocated", "address already in use")
}

func isRemovalInProgress(err error) bool {
	return containsAny(err.Error(), "already in progress")
}

func containsAny(s string, subs ...string) bool {
	for _, sub := range subs {
		if strings.Contains(s, sub) {
			return true
		}
	}
	return false
}
