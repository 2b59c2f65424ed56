package e2e

import (
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/devport/devport/internal/testenv"
)

// phpReport prints one line of what PHP runs with: its folder, the
// php.ini settings the test sets (devport.toml's and devport's defaults),
// whether Xdebug is loaded, and every variable devport injects. The site
// answers it, and devport php prints it: the two must be equal.
// max_execution_time is left out: PHP's CLI hard-codes it to 0, whatever
// php.ini says (the site's 120 is checked on its own).
const phpReport = `$env = [];
foreach (getenv() as $k => $v) {
    if (preg_match('/^(REDIS_|DB_|DATABASE_|MAIL_|SSL_CERT|REQUESTS_CA|CURL_CA|NODE_EXTRA|GREETING)/', $k)) { $env[] = "$k=$v"; }
}
sort($env);
$ini = [];
foreach (['memory_limit', 'date.timezone', 'display_errors', 'upload_max_filesize', 'post_max_size'] as $k) { $ini[] = "$k=" . ini_get($k); }
echo implode(' ', array_merge([getcwd()], $ini, ['xdebug=' . (extension_loaded('xdebug') ? 1 : 0)], $env)), "\n";`

// xdebugAddr is where Xdebug connects with xdebug.client_port 9003, the
// port IDEs listen on.
const xdebugAddr = "127.0.0.1:9003"

// TestPHPIniXdebugComposer checks issue 14's items 2 to 4 against the real
// binary, Apache with mod_php, the php CLI and Composer: devport.toml's
// [php.ini] reaches ini_get in the site and in devport php, which sees the
// site's folder and environment too (a Redis data service's REDIS_URL,
// devport.toml's env); exit codes pass through; bad ini input is refused
// in one line and changes nothing; Xdebug is off until devport xdebug on,
// then connects to a DBGp client for a request with XDEBUG_TRIGGER, and is
// off again after off; devport composer install writes the autoloader of a
// project with no network dependencies; and in a container, the site and
// devport php agree again.
func TestPHPIniXdebugComposer(t *testing.T) {
	testenv.Tool(t, "curl")
	testenv.Tool(t, "php")
	testenv.Tool(t, "composer")
	testenv.Tool(t, "redis-server")
	e := newEnv(t)
	dir := filepath.Join(e.root, "phpini")
	if err := os.MkdirAll(filepath.Join(dir, "src"), 0o755); err != nil {
		t.Fatal(err)
	}
	for name, body := range map[string]string{
		"index.php": "<?php\nheader('Content-Type: text/plain');\n" + phpReport + "\n",
		"limit.php": "<?php\necho ini_get('max_execution_time');\n",
		"devport.toml": "[services.web]\nstack = \"php\"\nenv = { GREETING = \"hello from devport.toml\" }\n\n" +
			"[php.ini]\nmemory_limit = \"1G\"\ndate.timezone = \"Europe/Berlin\"\n",
		"composer.json": `{"name": "devport/phpini", "autoload": {"psr-4": {"App\\": "src/"}}}` + "\n",
		"src/Hello.php": "<?php\nnamespace App;\n\nclass Hello\n{\n    public static function hi(): string { return 'hi from the autoloader'; }\n}\n",
	} {
		if err := os.WriteFile(filepath.Join(dir, name), []byte(body), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	e.mustRun("add", dir)
	e.mustRun("service", "phpini", "add", "cache", "--stack", "redis")
	phpLine := func(t *testing.T) string {
		t.Helper()
		return strings.TrimSpace(e.mustRun("php", "phpini", "-r", phpReport))
	}
	noEngine := phpLine(t)
	for _, w := range []string{dir + " ", "memory_limit=1G ", "date.timezone=Europe/Berlin ", "display_errors=On ", "upload_max_filesize=64M ",
		"post_max_size=64M ", "xdebug=0 ", "GREETING=hello from devport.toml", "REDIS_URL=redis://127.0.0.1:"} {
		if !strings.Contains(noEngine+" ", w) {
			t.Errorf("devport php without an engine printed %q, which lacks %q", noEngine, w)
		}
	}

	port := freePort(t)
	g := e.serve("--https-port", fmt.Sprint(port), "--http-port", fmt.Sprint(freePort(t)), "--start", "phpini")
	defer func() {
		if err := g.stop(t); err != nil {
			t.Errorf("engine: %v\n%s", err, g.output())
		}
	}()
	ca := filepath.Join(e.home, "ca", "root.pem")
	site := func(t *testing.T, path string) string {
		t.Helper()
		a := httpsGet(t, ca, "phpini.test", port, path)
		if a.status != 200 {
			t.Fatalf("GET %s: %d %q\nengine:\n%s", path, a.status, a.body, g.output())
		}
		return strings.TrimSpace(a.body)
	}

	t.Run("php sees what the site sees", func(t *testing.T) {
		want := site(t, "/")
		t.Logf("the site and devport php: %s", want)
		if got := phpLine(t); got != want {
			t.Errorf("devport php printed\n%s\nthe site answered\n%s", got, want)
		}
		if noEngine != want {
			t.Errorf("devport php without an engine printed\n%s\nthe site answered\n%s", noEngine, want)
		}
	})
	t.Run("max_execution_time", func(t *testing.T) {
		if got := site(t, "/limit.php"); got != "120" {
			t.Errorf("the site's max_execution_time is %q, want devport's default 120", got)
		}
	})
	t.Run("exit codes pass through", func(t *testing.T) {
		for _, code := range []int{0, 3, 42} {
			if r := e.run("php", "phpini", "-r", fmt.Sprintf("exit(%d);", code)); r.code != code {
				t.Errorf("exit(%d): devport exited %d\n%s", code, r.code, r.stderr)
			}
		}
	})
	t.Run("set --php-ini", func(t *testing.T) {
		out := e.mustRun("set", "phpini", "--php-ini", "memory_limit=768M", "--php-ini", "max_input_vars=5000")
		if !strings.Contains(out, "memory_limit = 768M") || !strings.Contains(out, "running") {
			t.Errorf("set --php-ini printed %q", out)
		}
		if got := site(t, "/"); !strings.Contains(got, "memory_limit=768M ") {
			t.Errorf("after set --php-ini, the site says %q", got)
		}
		e.mustRun("set", "phpini", "--php-ini", "memory_limit=1G", "--php-ini-unset", "max_input_vars")
		if got := strings.TrimSpace(e.mustRun("php", "phpini", "-r", `echo ini_get("memory_limit"), " ", ini_get("max_input_vars");`)); got != "1G 1000" {
			t.Errorf("after --php-ini-unset, devport php says %q, want 1G 1000", got)
		}
	})
	t.Run("bad input", func(t *testing.T) {
		for _, tc := range []struct {
			name string
			args []string
			want string
		}{
			{"newline in a value", []string{"set", "phpini", "--php-ini", "memory_limit=2G\nextension=/tmp/evil.so"}, "newline"},
			{"section header", []string{"set", "phpini", "--php-ini", "[PHP]=x"}, "directive name"},
			{"quote", []string{"set", "phpini", "--php-ini", `memory_limit=2G" ; x`}, `'"'`},
			{"extension", []string{"set", "phpini", "--php-ini", "extension=/tmp/evil.so"}, "apt install"},
			{"no =", []string{"set", "phpini", "--php-ini", "memory_limit"}, "KEY=VALUE"},
			{"no such project", []string{"xdebug", "nope", "on"}, "nope"},
		} {
			t.Run(tc.name, func(t *testing.T) {
				r := e.run(tc.args...)
				msg := strings.TrimSpace(r.stderr)
				if r.code == 0 || !strings.Contains(msg, tc.want) || strings.Count(msg, "\n") > 0 {
					t.Errorf("devport %q: exit %d, stderr %q; want one line naming %q", tc.args, r.code, msg, tc.want)
				}
			})
		}
		if got := site(t, "/"); !strings.Contains(got, "memory_limit=1G ") {
			t.Errorf("after the refusals, the site says %q", got)
		}
		hostile := filepath.Join(e.root, "hostile")
		if err := os.MkdirAll(hostile, 0o755); err != nil {
			t.Fatal(err)
		}
		toml := "[services.web]\nstack = \"php\"\n\n[php.ini]\nmemory_limit = \"1G\\nauto_prepend_file=/etc/passwd\"\n"
		if err := os.WriteFile(filepath.Join(hostile, "devport.toml"), []byte(toml), 0o644); err != nil {
			t.Fatal(err)
		}
		r := e.run("add", hostile)
		if r.code == 0 || !strings.Contains(r.stderr, "devport.toml:5: php.ini.memory_limit") {
			t.Errorf("add of a devport.toml with an ini line in a value: exit %d\n%s", r.code, r.stderr)
		}
		if out := e.mustRun("ls"); strings.Contains(out, "hostile") {
			t.Errorf("the hostile project was stored:\n%s", out)
		}
	})
	t.Run("xdebug", func(t *testing.T) {
		if out, _ := exec.Command("php", "-n", "-r", `echo PHP_EXTENSION_DIR;`).Output(); !fileExists(filepath.Join(string(out), "xdebug.so")) {
			testenv.Need(t, "Xdebug (php-xdebug)", false, testenv.InstallFix)
		}
		l, err := net.Listen("tcp", xdebugAddr)
		if err != nil {
			t.Fatalf("this test needs %s, Xdebug's client port, and it is taken: %v", xdebugAddr, err)
		}
		defer l.Close()
		inits := make(chan string, 4)
		go func() {
			for {
				c, err := l.Accept()
				if err != nil {
					return
				}
				inits <- testenv.DBGpInit(c)
			}
		}()
		if got := site(t, "/"); !strings.Contains(got, " xdebug=0 ") {
			t.Fatalf("Xdebug is loaded before devport xdebug on: %q", got)
		}
		out := e.mustRun("xdebug", "phpini", "on")
		if !strings.Contains(out, "9003") || !strings.Contains(out, "running") {
			t.Errorf("xdebug on printed %q", out)
		}
		if got := site(t, "/"); !strings.Contains(got, " xdebug=1 ") {
			t.Errorf("after xdebug on, the site says %q", got)
		}
		select {
		case init := <-inits:
			t.Errorf("a request without the trigger opened a DBGp connection:\n%s", init)
		case <-time.After(300 * time.Millisecond):
		}
		site(t, "/?XDEBUG_TRIGGER=1")
		select {
		case init := <-inits:
			if !strings.Contains(init, "<init ") || !strings.Contains(init, "index.php") {
				t.Errorf("DBGp init packet:\n%s", init)
			}
		case <-time.After(10 * time.Second):
			t.Errorf("no DBGp connection on %s for a request with XDEBUG_TRIGGER", xdebugAddr)
		}
		if got := strings.TrimSpace(e.mustRun("php", "phpini", "-r", `echo extension_loaded("xdebug") ? 1 : 0;`)); got != "1" {
			t.Errorf("after xdebug on, devport php says xdebug=%q", got)
		}
		e.mustRun("xdebug", "phpini", "off")
		if got := site(t, "/"); !strings.Contains(got, " xdebug=0 ") {
			t.Errorf("after xdebug off, the site says %q", got)
		}
		if got := strings.TrimSpace(e.mustRun("php", "phpini", "-r", `echo extension_loaded("xdebug") ? 1 : 0;`)); got != "0" {
			t.Errorf("after xdebug off, devport php says xdebug=%q", got)
		}
	})
	t.Run("composer install", func(t *testing.T) {
		r := e.run("composer", "phpini", "install", "--no-interaction")
		if r.code != 0 {
			t.Fatalf("devport composer phpini install: exit %d\n%s\n%s", r.code, r.stdout, r.stderr)
		}
		if !fileExists(filepath.Join(dir, "vendor", "autoload.php")) {
			t.Fatalf("no vendor/autoload.php after composer install:\n%s", r.stderr)
		}
		if got := e.mustRun("php", "phpini", "-r", `require "vendor/autoload.php"; echo App\Hello::hi();`); got != "hi from the autoloader" {
			t.Errorf("the autoloader: %q", got)
		}
		if r := e.run("composer", "phpini", "no-such-command"); r.code == 0 {
			t.Errorf("an unknown composer command exited 0:\n%s", r.stderr)
		}
	})
	t.Run("in a container", func(t *testing.T) {
		needDocker(t)
		e.dockerLeftovers(t)
		testenv.Need(t, "image "+redisImage, exec.Command("docker", "image", "inspect", redisImage).Run() == nil, "scripts/build-test-images.sh builds it")
		e.mustRun("set", "phpini", "--service", "cache", "--runtime", "container", "--image", redisImage)
		e.mustRun("set", "phpini", "--service", "web", "--runtime", "container", "--image", phpImage)
		want := site(t, "/")
		for _, w := range []string{"/var/www/html ", "memory_limit=1G ", "date.timezone=Europe/Berlin ", "xdebug=0 ", "REDIS_URL=redis://cache:6379", "GREETING=hello from devport.toml"} {
			if !strings.Contains(want+" ", w) {
				t.Errorf("the container's site answered %q, which lacks %q", want, w)
			}
		}
		if got := phpLine(t); got != want {
			t.Errorf("devport php in the container printed\n%s\nthe site answered\n%s", got, want)
		}
		if r := e.run("php", "phpini", "-r", "exit(5);"); r.code != 5 {
			t.Errorf("exit(5) in the container: devport exited %d\n%s", r.code, r.stderr)
		}
		e.mustRun("stop", "phpini")
		if r := e.run("php", "phpini", "-r", "echo 1;"); r.code == 0 || !strings.Contains(r.stderr, "devport start phpini") {
			t.Errorf("devport php of a stopped container project: exit %d\n%s", r.code, r.stderr)
		}
	})
}
