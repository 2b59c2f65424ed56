package e2e

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/devport/devport/internal/testenv"
)

// TestComposePHPIni: the compose layout gives the php service the
// project's php.ini, devport.toml's [php.ini] and devport set --php-ini
// alike, read back by ini_get in the site (Apache's mod_php, through
// nginx) and by the container's php command line; devport's development
// defaults stay out of it (the layout is for production).
func TestComposePHPIni(t *testing.T) {
	needDocker(t)
	testenv.Need(t, "docker-compose (Debian package docker-compose)", testenv.Have("docker-compose"), testenv.InstallFix)
	testenv.Need(t, "image "+nginxImage+" (scripts/build-test-images.sh)", exec.Command("docker", "image", "inspect", nginxImage).Run() == nil, testenv.InstallFix)
	testenv.Need(t, "image "+phpImage+" (scripts/build-test-images.sh)", exec.Command("docker", "image", "inspect", phpImage).Run() == nil, testenv.InstallFix)
	testenv.Tool(t, "curl")

	e := newEnv(t)
	e.mustRun("config", "set", "container.image.php", phpImage)
	dir := filepath.Join(e.root, "inishop")
	if err := os.MkdirAll(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	files := map[string]string{
		"index.php": `<?php foreach (['memory_limit', 'upload_max_filesize', 'display_errors'] as $k) { echo $k, '=', ini_get($k), "\n"; }` + "\n",
		"devport.toml": "name = \"inishop\"\n\n[services.web]\nstack = \"php\"\n\n" +
			"[php.ini]\nmemory_limit = \"768M\"\n",
	}
	for name, body := range files {
		if err := os.WriteFile(filepath.Join(dir, name), []byte(body), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	e.mustRun("add", dir)
	e.mustRun("set", "inishop", "--php-ini", "upload_max_filesize=33M")
	ca := strings.TrimSpace(e.mustRun("ca"))

	const domain = "inishop.test"
	var c *composeRun
	var httpsPort int
	for attempt := 1; ; attempt++ {
		var httpPort int
		httpsPort, httpPort = freePort(t), freePort(t)
		out := e.mustRun("export", "inishop", "--format", "compose", "-o", filepath.Join(dir, "docker-compose.yml"),
			"--nginx-image", nginxImage, "--publish-https", fmt.Sprintf("127.0.0.1:%d", httpsPort),
			"--publish-http", fmt.Sprintf("127.0.0.1:%d", httpPort))
		if !strings.Contains(out, "php-web.ini") {
			t.Errorf("export printed %q, want it to name php-web.ini", out)
		}
		ini, err := os.ReadFile(filepath.Join(dir, "php-web.ini"))
		if err != nil {
			t.Fatal(err)
		}
		for _, want := range []string{`memory_limit = "768M"`, `upload_max_filesize = "33M"`} {
			if !strings.Contains(string(ini), want) {
				t.Errorf("php-web.ini lacks %q:\n%s", want, ini)
			}
		}
		if strings.Contains(string(ini), "\ndisplay_errors") {
			t.Errorf("php-web.ini sets devport's development default display_errors:\n%s", ini)
		}
		cmd := exec.Command("docker-compose", "-f", "docker-compose.yml", "config", "-q")
		cmd.Dir = dir
		if out, err := cmd.CombinedOutput(); err != nil {
			t.Fatalf("docker-compose config rejects the export: %v\n%s", err, out)
		}
		if c, err = upCompose(t, dir); err == nil {
			break
		}
		if attempt < 3 && strings.Contains(err.Error(), "port is already allocated") {
			continue
		}
		t.Fatal(err)
	}
	c.waitReady(t, ca, domain, httpsPort, []string{"/"})

	t.Run("the site reads the ini", func(t *testing.T) {
		got := httpsGet(t, ca, domain, httpsPort, "/")
		for _, want := range []string{"memory_limit=768M\n", "upload_max_filesize=33M\n"} {
			if got.status != 200 || !strings.Contains(got.body, want) {
				t.Errorf("got %d %q, want %q\n%s", got.status, got.body, want, c.logs(t))
			}
		}
	})
	t.Run("the ini is not served", func(t *testing.T) {
		if got := httpsGet(t, ca, domain, httpsPort, "/php-web.ini"); got.status != 403 {
			t.Errorf("GET /php-web.ini: %d %q, want 403", got.status, got.body)
		}
	})
	t.Run("the container's php reads the ini", func(t *testing.T) {
		out, err := c.compose(time.Minute, "exec", "-T", "web", "php", "-r", `echo ini_get("memory_limit"), " ", ini_get("upload_max_filesize");`)
		if err != nil || strings.TrimSpace(out) != "768M 33M" {
			t.Errorf("php -r: %v %q, want \"768M 33M\"", err, out)
		}
	})
}
