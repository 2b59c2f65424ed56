package e2e

import (
	"context"
	"fmt"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/devport/devport/internal/testenv"
)

// TestContainerTrustsDevportSites calls a devport site over HTTPS from a
// container, with verification on and no devport CA in any store: only
// the bundle mounted read-only at /etc/devport/ca-bundle.pem and the
// SSL_CERT_FILE that devport's container runtime sets. The container
// shares the host's network (the proxy listens on loopback only), and a
// second run without the bundle must fail, so the check proves something.
func TestContainerTrustsDevportSites(t *testing.T) {
	testenv.Need(t, "docker", testenv.Have("docker") && exec.Command("docker", "info").Run() == nil, testenv.InstallFix)
	testenv.Need(t, "image "+uvicornImage+" (scripts/build-test-images.sh)", exec.Command("docker", "image", "inspect", uvicornImage).Run() == nil, testenv.InstallFix)
	testenv.Need(t, "apache2", testenv.Have("apache2") || fileExists("/usr/sbin/apache2"), testenv.InstallFix)
	e := newEnv(t)
	e.mustRun("add", e.copyExample("php-shop", "shop"))
	port := freePort(t)
	g := e.serve("--start", "shop", "--https-port", fmt.Sprint(port), "--http-port", fmt.Sprint(freePort(t)))
	defer g.stop(t)
	bundle := filepath.Join(e.home, "ca", "bundle.pem")
	script := fmt.Sprintf(`import urllib.request; print(urllib.request.urlopen("https://shop.test:%d/from/container", timeout=10).read().decode())`, port)

	run := func(withBundle bool) (string, error) {
		ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
		defer cancel()
		args := []string{"run", "--rm", "--network", "host", "--add-host", "shop.test:127.0.0.1",
			"--label", "devport.test=" + e.root}
		if withBundle { // as stacks' container runtime mounts it
			args = append(args, "-v", bundle+":/etc/devport/ca-bundle.pem:ro", "-e", "SSL_CERT_FILE=/etc/devport/ca-bundle.pem")
		}
		args = append(args, uvicornImage, "python3", "-c", script)
		out, err := exec.CommandContext(ctx, "docker", args...).CombinedOutput()
		return string(out), err
	}
	out, err := run(true)
	if err != nil || !strings.Contains(out, "php-shop says hello") || !strings.Contains(out, "https: on") {
		t.Errorf("container with the bundle: %v\n%s", err, out)
	}
	if out, err := run(false); err == nil || !strings.Contains(out, "CERTIFICATE_VERIFY_FAILED") {
		t.Errorf("the container verified the site without the bundle (is a devport CA trusted system-wide?): %v\n%s", err, out)
	}
}
