package stacks

import (
	"errors"
	"fmt"
	"strings"
)

// ErrDockerUnavailable is wrapped by *DockerError: no Docker engine answers.
var ErrDockerUnavailable = errors.New("docker is not available")

// DockerError is a Docker engine that cannot be reached: not installed, not
// running, or not accessible to this user. Its message says how to fix it.
// The process runtime does not need Docker and keeps working.
type DockerError struct {
	Host      string // DOCKER_HOST or the default socket
	Installed bool   // dockerd or the docker CLI was found
	Err       error  // what the client said
}

func (e *DockerError) Error() string {
	var b strings.Builder
	switch {
	case isPermission(e.Err):
		fmt.Fprintf(&b, "docker at %s refused access (%v): add yourself to the docker group (sudo usermod -aG docker $USER, then log in again) or run devport as root", e.Host, e.Err)
	case !e.Installed:
		fmt.Fprintf(&b, "docker is not installed (no engine answers at %s): install it with sudo apt-get install docker.io, then start it with sudo systemctl start docker", e.Host)
	default:
		fmt.Fprintf(&b, "docker is not running (no engine answers at %s): start it with sudo systemctl start docker (or sudo dockerd)", e.Host)
	}
	b.WriteString("; or run the service as a process: devport set NAME --runtime process")
	return b.String()
}

func (e *DockerError) Unwrap() []error { return []error{ErrDockerUnavailable, e.Err} }

func isPermission(err error) bool {
	return err != nil && strings.Contains(strings.ToLower(err.Error()), "permission denied")
}

// ErrImageUnavailable is wrapped by *ImageError.
var ErrImageUnavailable = errors.New("image not available")

// ImageError is an image that is not present and could not be pulled.
type ImageError struct {
	Image string
	Err   error // the pull's error
}

func (e *ImageError) Error() string {
	return fmt.Sprintf("image %s is not available locally and the pull failed (%v): provide it with docker pull %s, "+
		"or load a saved copy with docker load -i FILE, or choose another image with --image IMAGE "+
		"(devport set NAME --runtime container --image IMAGE) or the setting container.image.STACK",
		e.Image, e.Err, e.Image)
}

func (e *ImageError) Unwrap() []error { return []error{ErrImageUnavailable, e.Err} }

// ErrConflict is wrapped when a container name or a port is already taken.
var ErrConflict = errors.New("conflict")

// containerExit is a container that stopped on its own.
type containerExit struct{ code int64 }

func (e *containerExit) Error() string { return fmt.Sprintf("exit status %d", e.code) }
