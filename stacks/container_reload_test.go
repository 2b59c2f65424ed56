//go:build unix

package stacks

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/devport/devport/internal/stackdef"
)

// TestContainerReload: a Python container's server restarts in place on
// Reload, in the same container at the same upstream, and answers with
// the edited code; a server that no longer starts comes back as a
// *StartError with its log's tail, the container is gone and Exited
// closed, and Start runs it again once the code is fixed. PHP has no
// restart in place.
func TestContainerReload(t *testing.T) {
	cli := requireDocker(t, testUvicornImage, testPHPImage)
	version := func(stack, v string) (file, src string) {
		if stack == stackdef.Uvicorn || stack == stackdef.Gunicorn {
			return "main.py", "from fastapi import FastAPI\nfrom fastapi.responses import PlainTextResponse\napp = FastAPI()\n\n@app.get('/', response_class=PlainTextResponse)\ndef root():\n    return '" + v + "'\n"
		}
		return "app.py", "from flask import Flask\napp = Flask(__name__)\n\n@app.get('/')\ndef root():\n    return '" + v + "'\n"
	}
	for _, stack := range []string{stackdef.Uvicorn, stackdef.Gunicorn, stackdef.WSGI, stackdef.UWSGI} {
		t.Run(stack, func(t *testing.T) {
			file, src := version(stack, "one")
			spec := containerSpec(t, cli, stack, testUvicornImage, map[string]string{file: src})
			spec.App = strings.TrimSuffix(file, ".py") + ":app"
			t.Cleanup(func() {
				_ = cli.VolumeRemove(t.Context(), depsVolumeName(spec.Home, spec.Project, spec.Service), true)
			})
			r := mustContainerRunner(t, spec)
			up := startRunner(t, r)
			defer stopRunner(t, r)
			id := r.ContainerID()
			body := func(up Upstream) string {
				t.Helper()
				var status int
				var b string
				if stack == stackdef.UWSGI {
					status, b = uwsgiGet(t, up, "/", nil, nil)
				} else {
					status, b = get(t, up, "/", nil)
				}
				if status != 200 {
					t.Fatalf("GET / = %d %s", status, b)
				}
				return b
			}
			if got := body(up); got != "one" {
				t.Fatalf("first answer %q", got)
			}
			exited := r.Exited()

			_, src = version(stack, "two")
			writeFiles(t, spec.Dir, map[string]string{file: src})
			began := time.Now()
			up2, err := r.Reload(t.Context())
			if err != nil {
				t.Fatalf("Reload: %v", err)
			}
			t.Logf("%s reloaded in place in %s", stack, time.Since(began).Round(time.Millisecond))
			if up2 != up || r.ContainerID() != id {
				t.Errorf("reloaded at %+v in %s, want the same upstream %+v and container %s", up2, shortID(r.ContainerID()), up, shortID(id))
			}
			if got := body(up2); got != "two" {
				t.Errorf("after the reload: %q, want the edited code's answer", got)
			}
			if isClosed(exited) {
				t.Fatal("Exited closed by a reload in place")
			}

			t.Run("a server that no longer starts", func(t *testing.T) {
				if err := os.WriteFile(filepath.Join(spec.Dir, file), []byte("this is not python (\n"), 0o644); err != nil {
					t.Fatal(err)
				}
				_, err := r.Reload(t.Context())
				var se *StartError
				if !errors.As(err, &se) || len(se.Tail) == 0 {
					t.Fatalf("Reload = %v, want a *StartError with the log's tail", err)
				}
				if !strings.Contains(strings.Join(se.Tail, "\n"), "SyntaxError") {
					t.Errorf("tail %q does not show the SyntaxError", se.Tail)
				}
				waitClosed(t, exited, 10*time.Second, "Exited after a failed reload")
				if ids := homeContainers(t, cli, spec.Home); len(ids) != 0 {
					t.Errorf("containers left after a failed reload: %v", ids)
				}
				if _, err := r.Reload(t.Context()); !errors.Is(err, ErrNoReload) {
					t.Errorf("Reload with nothing running = %v, want ErrNoReload", err)
				}
				_, src := version(stack, "three")
				writeFiles(t, spec.Dir, map[string]string{file: src})
				up3 := startRunner(t, r)
				if got := body(up3); got != "three" {
					t.Errorf("started again: %q", got)
				}
			})
		})
	}
	t.Run("php has no restart in place", func(t *testing.T) {
		spec := containerSpec(t, cli, stackdef.PHP, testPHPImage, phpSite)
		r := mustContainerRunner(t, spec)
		startRunner(t, r)
		defer stopRunner(t, r)
		if _, err := r.Reload(t.Context()); !errors.Is(err, ErrNoReload) {
			t.Errorf("Reload = %v, want ErrNoReload", err)
		}
	})
}
