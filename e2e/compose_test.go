package e2e

// The compose layout of `devport export --format compose`, run for real
// with docker-compose (Debian's docker-compose 1.29.2). The exported
// docker-compose.yml has no top-level `name:` key, which 1.29 rejects
// ("'name' does not match any of the regexes: '^x-'"): the test names each
// compose project with -p, as a user would, or the folder's name does.

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/devport/devport/internal/testenv"
)

// nginxImage is the stand-in for nginx:1.27 (Debian's nginx-light; built
// by scripts/build-test-images.sh).
const nginxImage = "devport-test/nginx:bookworm"

// clientPHP is added to the copied examples: what PHP takes for the client
// address and HTTPS.
const clientPHP = `<?php
header('Content-Type: text/plain; charset=utf-8');
echo "client: ", $_SERVER['REMOTE_ADDR'], "\n";
echo "https: ", $_SERVER['HTTPS'] ?? 'off', "\n";
`

// TestCompose adds examples/php-api-split and examples/apache-chain to
// devport (process runtime), exports both as compose layouts with the
// stand-in images named by the container.image.* settings, runs each with
// docker-compose on free loopback ports, and checks over HTTPS with
// devport's CA that the layout answers as devport does: PHP sees https and
// the client's address, /api reaches FastAPI with root_path /api, and the
// chain's /py reaches FastAPI through Apache. It leaves no container,
// network or volume behind.
func TestCompose(t *testing.T) {
	needDocker(t)
	testenv.Need(t, "docker-compose (Debian package docker-compose)", testenv.Have("docker-compose"), testenv.InstallFix)
	testenv.Need(t, "image "+nginxImage+" (scripts/build-test-images.sh)", exec.Command("docker", "image", "inspect", nginxImage).Run() == nil, testenv.InstallFix)
	testenv.Need(t, "apache2 (devport's own runtime, for comparison)", testenv.Have("apache2") || fileExists("/usr/sbin/apache2"), testenv.InstallFix)
	testenv.Need(t, "uvicorn, fastapi and gunicorn for /usr/bin/python3", exec.Command("/usr/bin/python3", "-c", "import uvicorn, fastapi, gunicorn").Run() == nil, testenv.InstallFix)

	testenv.Tool(t, "curl")

	e := newEnv(t)
	e.mustRun("config", "set", "container.image.php", phpImage)
	e.mustRun("config", "set", "container.image.uvicorn", uvicornImage)
	e.mustRun("config", "set", "container.image.gunicorn", uvicornImage)
	split := e.copyExample("php-api-split", "split")
	chain := e.copyExample("apache-chain", "chain")
	// The split shape with gunicorn's uvicorn workers at /api: the layout
	// runs devport's RootPathWorker for the root_path.
	gsplit := e.copyExample("php-api-split", "gsplit")
	toml := "name = \"gsplit\"\n\n[services.web]\nstack = \"php\"\n\n" +
		"[services.api]\nstack = \"gunicorn\"\nprefix = \"/api\"\napp = \"api.main:app\"\n"
	if err := os.WriteFile(filepath.Join(gsplit, "devport.toml"), []byte(toml), 0o644); err != nil {
		t.Fatal(err)
	}
	for _, dir := range []string{split, chain, gsplit} {
		if err := os.WriteFile(filepath.Join(dir, "client.php"), []byte(clientPHP), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	e.mustRun("add", split)
	e.mustRun("add", chain, "--stack", "php", "--chain", "/py")
	e.mustRun("add", gsplit)
	devHTTPS, devHTTP := freePort(t), freePort(t)
	e.serve("--https-port", strconv.Itoa(devHTTPS), "--http-port", strconv.Itoa(devHTTP))
	e.mustRun("start", "split")
	e.mustRun("start", "chain")
	e.mustRun("start", "gsplit")
	ca := strings.TrimSpace(e.mustRun("ca"))

	type request struct {
		name, path string
		status     int
		want       []string // in the body (after ":PORT" replaces the port)
	}
	projects := []struct {
		name, dir string
		requests  []request
	}{
		{"split", split, []request{
			{"php at /", "/?page=1", 200, []string{"php-api-split php", "path: /\n", "https: on"}},
			{"php sees https and the client", "/client.php", 200, []string{"https: on", "client: "}},
			{"api: root_path /api", "/api/items/3", 200, []string{`"item_id":3`, `"root_path":"/api"`, `"scheme":"https"`,
				`"url":"https://split.test:PORT/api/items/3"`}},
			{"api 404 from FastAPI", "/api/nope", 404, []string{`"detail":"Not Found"`}},
		}},
		{"gsplit", gsplit, []request{
			{"php at /", "/", 200, []string{"php-api-split php", "https: on"}},
			{"gunicorn: root_path /api", "/api/items/4", 200, []string{`"item_id":4`, `"root_path":"/api"`, `"scheme":"https"`,
				`"url":"https://gsplit.test:PORT/api/items/4"`}},
		}},
		{"chain", chain, []request{
			{"php at /", "/", 200, []string{"apache-chain php", "https: on"}},
			{"php sees https and the client", "/client.php", 200, []string{"https: on", "client: "}},
			{"py through Apache", "/py/hello", 200, []string{`"hello":"from uvicorn behind apache"`, `"root_path":"/py"`,
				`"scheme":"https"`, `"url_for":"https://chain.test:PORT/py/x"`}},
			{"bare /py redirected by Apache", "/py", 308, nil},
		}},
	}
	for _, p := range projects {
		t.Run(p.name, func(t *testing.T) {
			domain := p.name + ".test"
			// A free port may be taken before compose publishes it: other
			// packages' tests start containers with ephemeral ports from
			// the same range at the same time. Then export again on others.
			var c *composeRun
			var httpsPort, httpPort int
			for attempt := 1; ; attempt++ {
				httpsPort, httpPort = freePort(t), freePort(t)
				out := e.mustRun("export", p.name, "--format", "compose", "-o", filepath.Join(p.dir, "docker-compose.yml"),
					"--nginx-image", nginxImage, "--publish-https", fmt.Sprintf("127.0.0.1:%d", httpsPort),
					"--publish-http", fmt.Sprintf("127.0.0.1:%d", httpPort))
				for _, want := range []string{"nginx.conf", "apache-web.conf", filepath.Join("certs", domain+"-key.pem"), "devport's CA"} {
					if !strings.Contains(out, want) {
						t.Errorf("export printed %q, want it to name %q", out, want)
					}
				}
				checkLayoutFiles(t, p.dir, domain)
				var err error
				if c, err = upCompose(t, p.dir); err == nil {
					break
				}
				if attempt < 3 && strings.Contains(err.Error(), "port is already allocated") {
					t.Logf("attempt %d: %v; again on other ports", attempt, strings.SplitN(err.Error(), "\n", 2)[0])
					continue
				}
				t.Fatal(err)
			}
			base := fmt.Sprintf("https://%s:%d", domain, httpsPort)
			var paths []string
			for _, r := range p.requests {
				paths = append(paths, r.path)
			}
			c.waitReady(t, ca, domain, httpsPort, paths)

			for _, r := range p.requests {
				t.Run(r.name, func(t *testing.T) {
					got := httpsGet(t, ca, domain, httpsPort, r.path)
					dev := httpsGet(t, ca, domain, devHTTPS, r.path)
					if got.status != r.status {
						t.Fatalf("compose: %d %q, want %d\n%s", got.status, got.body, r.status, c.logs(t))
					}
					for _, w := range r.want {
						if !strings.Contains(got.body, w) {
							t.Errorf("compose answer lacks %q:\n%s", w, got.body)
						}
					}
					if r.path == "/client.php" {
						c.checkClient(t, got.body)
						got.body, dev.body = dropLine(got.body, "client: "), dropLine(dev.body, "client: ")
					}
					if got != dev {
						t.Errorf("compose and devport answer differently:\ncompose %+v\ndevport %+v", got, dev)
					}
				})
			}
			t.Run("the layout's files are not served", func(t *testing.T) {
				for _, path := range []string{"/certs/" + domain + "-key.pem", "/certs/" + domain + ".pem",
					"/docker-compose.yml", "/nginx.conf", "/apache-web.conf"} {
					if got := httpsGet(t, ca, domain, httpsPort, path); got.status != 403 {
						t.Errorf("GET %s: %d %q, want 403", path, got.status, got.body)
					}
				}
			})
			t.Run("http redirects to the published https port", func(t *testing.T) {
				got := httpGet(t, domain, httpPort, "/x?y=1")
				if want := base + "/x?y=1"; got.status != 301 || got.location != want {
					t.Errorf("got %d %q, want 301 to %q", got.status, got.location, want)
				}
			})
		})
	}
}

// checkLayoutFiles checks what export wrote next to docker-compose.yml: the
// images the settings name, the Apache site, and the key's mode.
func checkLayoutFiles(t *testing.T, dir, domain string) {
	t.Helper()
	compose, err := os.ReadFile(filepath.Join(dir, "docker-compose.yml"))
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{"image: " + phpImage, "image: " + uvicornImage, "image: " + nginxImage,
		"./apache-web.conf:/etc/apache2/sites-enabled/000-default.conf:ro"} {
		if !bytes.Contains(compose, []byte(want)) {
			t.Errorf("docker-compose.yml lacks %q:\n%s", want, compose)
		}
	}
	fi, err := os.Stat(filepath.Join(dir, "certs", domain+"-key.pem"))
	if err != nil || fi.Mode().Perm() != 0o600 {
		t.Errorf("certs/%s-key.pem: %v, mode %v, want 0600", domain, err, fi)
	}
	cmd := exec.Command("docker-compose", "-f", "docker-compose.yml", "config", "-q")
	cmd.Dir = dir
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("docker-compose config rejects the export: %v\n%s\n%s", err, out, compose)
	}
}

// composeRun is one compose project brought up by the test.
type composeRun struct {
	dir, project string
}

// upCompose runs docker-compose up -d in dir under a unique project name,
// and always takes it down again (with its volumes), checking that no
// container, network or volume of it is left. A failed up is taken down
// at once and returned with compose's output.
func upCompose(t *testing.T, dir string) (*composeRun, error) {
	t.Helper()
	b := make([]byte, 4)
	rand.Read(b)
	c := &composeRun{dir: dir, project: "devporte2e" + filepath.Base(dir) + hex.EncodeToString(b)}
	t.Cleanup(func() {
		if out, err := c.compose(3*time.Minute, "down", "-v", "--remove-orphans", "--timeout", "5"); err != nil {
			t.Errorf("docker-compose down: %v\n%s", err, out)
		}
		filter := "label=com.docker.compose.project=" + c.project
		for _, kind := range [][]string{{"ps", "-aq"}, {"network", "ls", "-q"}, {"volume", "ls", "-q"}} {
			out, err := exec.Command("docker", append(kind, "--filter", filter)...).Output()
			if err != nil {
				t.Errorf("docker %s: %v", strings.Join(kind, " "), err)
				continue
			}
			if left := strings.Fields(string(out)); len(left) > 0 {
				t.Errorf("docker %s: %v left behind by %s", kind[0], left, c.project)
				rm := map[string][]string{"ps": {"rm", "-f"}, "network": {"network", "rm"}, "volume": {"volume", "rm", "-f"}}[kind[0]]
				_ = exec.Command("docker", append(rm, left...)...).Run()
			}
		}
	})
	if out, err := c.compose(5*time.Minute, "up", "-d"); err != nil {
		err = fmt.Errorf("docker-compose up: %w\n%s\n%s", err, out, c.logs(t))
		if dout, derr := c.compose(3*time.Minute, "down", "-v", "--remove-orphans", "--timeout", "5"); derr != nil {
			err = fmt.Errorf("%w\ndocker-compose down: %v\n%s", err, derr, dout)
		}
		return nil, err
	}
	return c, nil
}

// compose runs docker-compose on the project with a deadline.
func (c *composeRun) compose(timeout time.Duration, args ...string) (string, error) {
	ctx, cancel := context.WithTimeout(context.Background(), timeout)
	defer cancel()
	cmd := exec.CommandContext(ctx, "docker-compose", append([]string{"-p", c.project, "-f", "docker-compose.yml"}, args...)...)
	cmd.Dir = c.dir
	out, err := cmd.CombinedOutput()
	return string(out), err
}

// logs is the compose project's output, for failure messages.
func (c *composeRun) logs(t *testing.T) string {
	t.Helper()
	out, _ := c.compose(time.Minute, "logs", "--no-color", "--tail", "40")
	return out
}

// waitReady polls each path through nginx until it answers with neither
// a connection error nor a 502/503/504 (nginx's answer while a backend
// still starts).
func (c *composeRun) waitReady(t *testing.T, ca, domain string, port int, paths []string) {
	t.Helper()
	deadline := time.Now().Add(90 * time.Second)
	for _, path := range paths {
		for {
			r := httpsGet(t, ca, domain, port, path)
			if r.status != 0 && r.status != 502 && r.status != 503 && r.status != 504 {
				break
			}
			if time.Now().After(deadline) {
				t.Fatalf("the compose layout did not answer %s in 90s (last: %d %q)\n%s", path, r.status, r.body, c.logs(t))
			}
			time.Sleep(250 * time.Millisecond)
		}
	}
}

// checkClient checks the client address PHP saw: the one nginx saw (the
// compose network's gateway, through which docker publishes the port to
// loopback), not nginx's own address, which Apache would report without
// mod_remoteip.
func (c *composeRun) checkClient(t *testing.T, body string) {
	t.Helper()
	client := ""
	for _, l := range strings.Split(body, "\n") {
		if v, ok := strings.CutPrefix(l, "client: "); ok {
			client = v
		}
	}
	id, err := c.compose(time.Minute, "ps", "-q", "nginx")
	if err != nil {
		t.Fatalf("docker-compose ps: %v\n%s", err, id)
	}
	out, err := exec.Command("docker", "inspect", "-f", "{{json .NetworkSettings.Networks}}", strings.TrimSpace(id)).Output()
	if err != nil {
		t.Fatalf("docker inspect nginx: %v", err)
	}
	var nets map[string]struct{ IPAddress, Gateway string }
	if err := json.Unmarshal(out, &nets); err != nil || len(nets) != 1 {
		t.Fatalf("nginx's networks %s: %v", out, err)
	}
	for _, n := range nets {
		if client == "" || client == n.IPAddress || client != n.Gateway {
			t.Errorf("PHP saw client %q; want nginx's client, the gateway %s (nginx itself is %s)", client, n.Gateway, n.IPAddress)
		}
	}
}

// answer is what a request got, with the port replaced by ":PORT".
type answer struct {
	status   int
	body     string
	location string
}

// httpsGet requests path of domain on 127.0.0.1:port with curl, trusting
// only devport's CA.
func httpsGet(t *testing.T, ca, domain string, port int, path string) answer {
	t.Helper()
	return curlAnswer(t, port, "--cacert", ca, "--resolve", fmt.Sprintf("%s:%d:127.0.0.1", domain, port),
		fmt.Sprintf("https://%s:%d%s", domain, port, path))
}

// httpGet requests path over plain HTTP.
func httpGet(t *testing.T, domain string, port int, path string) answer {
	t.Helper()
	return curlAnswer(t, port, "--resolve", fmt.Sprintf("%s:%d:127.0.0.1", domain, port),
		fmt.Sprintf("http://%s:%d%s", domain, port, path))
}

// curlAnswer runs curl (no redirects followed); a connection error is
// status 0, so callers can wait for a server.
func curlAnswer(t *testing.T, port int, args ...string) answer {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	const sep = "\n--devport-e2e--\n"
	cmd := exec.CommandContext(ctx, "curl", append([]string{"-sS", "--max-time", "20", "-w", sep + "%{http_code} %{redirect_url}"}, args...)...)
	var out, errb bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &errb
	if err := cmd.Run(); err != nil {
		return answer{body: strings.TrimSpace(errb.String())}
	}
	body, meta, _ := strings.Cut(out.String(), sep)
	code, loc, _ := strings.Cut(meta, " ")
	status, _ := strconv.Atoi(code)
	p := ":" + strconv.Itoa(port)
	return answer{status: status, body: strings.ReplaceAll(body, p, ":PORT"), location: strings.ReplaceAll(loc, p, ":PORT")}
}

// dropLine removes the lines that start with prefix.
func dropLine(s, prefix string) string {
	var keep []string
	for _, l := range strings.Split(s, "\n") {
		if !strings.HasPrefix(l, prefix) {
			keep = append(keep, l)
		}
	}
	return strings.Join(keep, "\n")
}
