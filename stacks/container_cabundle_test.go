//go:build unix

package stacks

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/devport/devport/internal/stackdef"
)

// TestContainerCABundle checks that a container sees the CA bundle devport
// hands it, read-only, where the environment says.
func TestContainerCABundle(t *testing.T) {
	cli := requireDocker(t, testUvicornImage)
	files := map[string]string{
		"main.py": `import os
from fastapi import FastAPI
app = FastAPI()
@app.get("/ca")
def ca():
    path = os.environ.get("SSL_CERT_FILE", "")
    with open(path) as f:
        body = f.read()
    try:
        open(path, "a").close()
        writable = True
    except OSError:
        writable = False
    return {"path": path, "requests": os.environ.get("REQUESTS_CA_BUNDLE"), "marker": "devport test roots" in body, "writable": writable}
`,
	}
	spec := containerSpec(t, cli, stackdef.Uvicorn, testUvicornImage, files)
	spec.App = "main:app"
	bundle := filepath.Join(t.TempDir(), "bundle.pem")
	if err := os.WriteFile(bundle, []byte("# devport test roots\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	spec.CABundle = bundle
	spec.Env = []string{"SSL_CERT_FILE=" + ContainerCABundle, "REQUESTS_CA_BUNDLE=" + ContainerCABundle}
	r := mustContainerRunner(t, spec)
	up := startRunner(t, r)
	defer stopRunner(t, r)
	code, body := get(t, up, "/ca", nil)
	for _, want := range []string{`"path":"` + ContainerCABundle + `"`, `"requests":"` + ContainerCABundle + `"`, `"marker":true`, `"writable":false`} {
		if code != 200 || !strings.Contains(body, want) {
			t.Errorf("GET /ca: %d %s; want %s", code, body, want)
		}
	}
}
