//go:build unix

package stacks

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/devport/devport/internal/stackdef"
	"github.com/docker/docker/client"
)

// TestContainerPyServers runs the gunicorn, wsgi and uwsgi stacks in the
// container runtime, each mounted at /api: the same answers as the process
// runtime (TestPyServersServe), over the port Docker publishes on
// 127.0.0.1, with uWSGI reached over the uwsgi protocol.
func TestContainerPyServers(t *testing.T) {
	cli := requireDocker(t, testUvicornImage)
	for _, c := range pyServerCases {
		t.Run(c.stack, func(t *testing.T) {
			spec := containerSpec(t, cli, c.stack, testUvicornImage, c.files)
			spec.App = c.app
			spec.Workers = 2
			spec.PathPrefix = "/api"
			spec.Env = []string{"DEVPORT_TEST_VAR=from-spec"}
			t.Cleanup(func() {
				_ = cli.VolumeRemove(context.Background(), depsVolumeName(spec.Home, spec.Project, spec.Service), true)
			})
			r := mustContainerRunner(t, spec)
			began := time.Now()
			up := startRunner(t, r)
			t.Logf("%s container ready on %s after %s", c.stack, up, time.Since(began).Round(time.Millisecond))
			wantProto := ProtocolHTTP
			if c.stack == stackdef.UWSGI {
				wantProto = ProtocolUWSGI
			}
			if up.Network != "tcp" || !strings.HasPrefix(up.Address, "127.0.0.1:") || up.Protocol != wantProto {
				t.Fatalf("upstream = %+v, want tcp on 127.0.0.1 speaking %q", up, wantProto)
			}

			t.Run("master and 2 workers", func(t *testing.T) {
				n := 0
				for deadline := time.Now().Add(10 * time.Second); ; time.Sleep(100 * time.Millisecond) {
					if n = serverProcesses(t, cli, r.ContainerID()); n >= 3 || time.Now().After(deadline) {
						break
					}
				}
				if n < 3 {
					t.Errorf("%d server processes in the container, want the master and 2 workers", n)
				}
			})
			checkPyServer(t, c, up, pyAppDir)
			t.Run("a new runner adopts the container with its protocol", func(t *testing.T) {
				id := r.ContainerID()
				r2 := mustContainerRunner(t, spec)
				up2 := startRunner(t, r2)
				if r2.ContainerID() != id || up2 != up {
					t.Fatalf("adopted %s at %+v, want %s at %+v", shortID(r2.ContainerID()), up2, shortID(id), up)
				}
				infoOf(t, c.stack, up2, "/api", nil, nil)
			})
			stopRunner(t, r)
			if ids := homeContainers(t, cli, spec.Home); len(ids) != 0 {
				t.Errorf("containers after Stop: %v", ids)
			}
		})
	}
}

// serverProcesses counts the processes in the container other than its
// init and the shell that started them.
func serverProcesses(t *testing.T, cli *client.Client, id string) int {
	t.Helper()
	top, err := cli.ContainerTop(t.Context(), id, nil)
	if err != nil {
		t.Fatalf("docker top: %v", err)
	}
	col := len(top.Titles) - 1 // CMD
	n := 0
	for _, p := range top.Processes {
		if cmd := p[col]; !strings.Contains(cmd, "docker-init") && !strings.HasPrefix(cmd, "sh ") {
			n++
		}
	}
	return n
}

// TestContainerPyServerErrors: an image without Python, and an app that
// does not import, end the start with the container's last words.
func TestContainerPyServerErrors(t *testing.T) {
	cli := requireDocker(t, testPHPImage, testUvicornImage)
	tests := []struct {
		name, stack, image, app string
		files                   map[string]string
		want                    string
	}{
		{"no python at all", stackdef.WSGI, testPHPImage, "app:app", map[string]string{"app.py": flaskApp},
			"image " + testPHPImage + " has no python3: choose a Python image with --image"},
		{"uWSGI with an app that does not import", stackdef.UWSGI, testUvicornImage, "nomodule:app", map[string]string{"app.py": flaskApp},
			"exited at start"},
		{"gunicorn with an app that does not import", stackdef.Gunicorn, testUvicornImage, "nomodule:app", map[string]string{"app.py": flaskApp},
			"No module named 'nomodule'"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			spec := containerSpec(t, cli, tc.stack, tc.image, tc.files)
			spec.App = tc.app
			t.Cleanup(func() {
				_ = cli.VolumeRemove(context.Background(), depsVolumeName(spec.Home, spec.Project, spec.Service), true)
			})
			r := mustContainerRunner(t, spec)
			_, err := r.Start(t.Context())
			stopRunner(t, r)
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("Start = %v, want an error with %q", err, tc.want)
			}
		})
	}
}
