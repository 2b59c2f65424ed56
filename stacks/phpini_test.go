//go:build unix

package stacks

import (
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/devport/devport/internal/stackdef"
	"github.com/devport/devport/internal/testenv"
)

// iniPage prints what PHP runs with: the settings the tests set, and
// whether Xdebug is loaded.
const iniPage = `<?php
header('Content-Type: text/plain');
foreach (['memory_limit', 'date.timezone', 'display_errors', 'upload_max_filesize', 'post_max_size', 'max_execution_time', 'error_reporting', 'mysqli.default_port'] as $k) {
    echo $k, "=", ini_get($k), "\n";
}
echo "xdebug=", extension_loaded('xdebug') ? 1 : 0, "\n";
echo "mysqli=", extension_loaded('mysqli') ? 1 : 0, "\n";
`

func TestPHPIniRender(t *testing.T) {
	tests := []struct {
		name   string
		spec   Spec
		want   []string
		reject []string
	}{
		{name: "defaults", spec: Spec{},
			want: []string{"display_errors = \"On\"\n", "error_reporting = E_ALL\n", "memory_limit = \"512M\"\n",
				"upload_max_filesize = \"64M\"\n", "post_max_size = \"64M\"\n", "max_execution_time = \"120\"\n"},
			reject: []string{"xdebug"}},
		{name: "project settings after the defaults", spec: Spec{PHPIni: map[string]string{"memory_limit": "1G", "date.timezone": "Europe/Berlin", "error_reporting": "E_ALL & ~E_DEPRECATED"}},
			want: []string{"memory_limit = \"512M\"\n", "\nmemory_limit = \"1G\"\n", "date.timezone = \"Europe/Berlin\"\n", "error_reporting = E_ALL & ~E_DEPRECATED\n"}},
		{name: "xdebug", spec: Spec{Xdebug: true},
			want: []string{"zend_extension = xdebug.so\n", "xdebug.mode = \"debug,develop\"\n", "xdebug.start_with_request = \"trigger\"\n",
				"xdebug.client_host = \"127.0.0.1\"\n", "xdebug.client_port = \"9003\"\n"}},
		{name: "hostile values never become lines", spec: Spec{PHPIni: map[string]string{"a": "1\"\nextension=/tmp/evil.so", "[PHP]": "x", "b": "${HOME}"}},
			reject: []string{"evil", "[PHP]", "${HOME}"}},
		{name: "sendmail", spec: Spec{Sendmail: PHPSendmail}, want: []string{"sendmail_path = \"" + PHPSendmail + "\"\n"}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got := string(phpIni(tc.spec, xdebugHostProcess))
			for _, w := range tc.want {
				if !strings.Contains(got, w) {
					t.Errorf("ini lacks %q:\n%s", w, got)
				}
			}
			for _, r := range tc.reject {
				if strings.Contains(got, r) {
					t.Errorf("ini has %q:\n%s", r, got)
				}
			}
			if _, err := exec.LookPath("php"); err == nil {
				// PHP itself reads it without a warning.
				path := filepath.Join(t.TempDir(), "t.ini")
				if err := os.WriteFile(path, []byte(strings.ReplaceAll(got, "zend_extension = xdebug.so\n", "")), 0o644); err != nil {
					t.Fatal(err)
				}
				out, err := exec.CommandContext(t.Context(), "php", "-n", "-c", path, "-r", `echo ini_get("memory_limit");`).CombinedOutput()
				if err != nil || strings.Contains(string(out), "Warning") {
					t.Errorf("php -c: %v\n%s", err, out)
				}
			}
		})
	}
}

func TestCheckPHPIni(t *testing.T) {
	tests := []struct {
		name string
		ini  map[string]string
		want string // substring of the problem; "" for none
	}{
		{"fine", map[string]string{"memory_limit": "1G", "date.timezone": "UTC", "disable_functions": "", "session.save_path": "/tmp;x"}, ""},
		{"newline in a value", map[string]string{"memory_limit": "1G\nauto_prepend_file=/tmp/x"}, "control character"},
		{"quote in a value", map[string]string{"memory_limit": `1G"`}, "holds"},
		{"environment variable", map[string]string{"include_path": "${HOME}"}, "${"},
		{"section header as key", map[string]string{"[PHP]": "x"}, "not a php.ini directive name"},
		{"key with =", map[string]string{"a=b": "x"}, "not a php.ini directive name"},
		{"key with a space", map[string]string{"memory limit": "1G"}, "not a php.ini directive name"},
		{"extension", map[string]string{"extension": "/tmp/evil.so"}, "conf.d"},
		{"zend_extension", map[string]string{"zend_extension": "xdebug.so"}, "devport xdebug"},
		{"a word php.ini reads as a value", map[string]string{"NONE": "1"}, "reads as a value"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got := CheckPHPIni(tc.ini)
			if (got == "") != (tc.want == "") || !strings.Contains(got, tc.want) {
				t.Errorf("CheckPHPIni = %q, want %q", got, tc.want)
			}
		})
	}
}

// TestApachePHPIni runs the project's ini in the private Apache: the
// development defaults and the project's settings reach ini_get, the
// distribution's extensions still load, and Xdebug (installed on this
// host) is not loaded until asked for, then connects to a DBGp client for
// a request with the trigger, and only for one.
func TestApachePHPIni(t *testing.T) {
	requireStack(t, stackdef.PHP)
	spec := testSpec(t, stackdef.PHP, map[string]string{"index.php": iniPage})
	spec.PHPIni = map[string]string{"memory_limit": "1G", "date.timezone": "Europe/Berlin"}
	r := mustRunner(t, spec)
	up := startRunner(t, r)
	status, body := get(t, up, "/", nil)
	for _, w := range []string{"memory_limit=1G\n", "date.timezone=Europe/Berlin\n", "display_errors=On\n", "upload_max_filesize=64M\n",
		"post_max_size=64M\n", "max_execution_time=120\n", "error_reporting=32767\n", "xdebug=0\n", "mysqli=1\n"} {
		if status != 200 || !strings.Contains(body, w) {
			t.Errorf("GET / = %d lacks %q:\n%s", status, w, body)
		}
	}
	stopRunner(t, r)

	p, err := HostPHP(t.Context(), "")
	if err != nil {
		t.Fatal(err)
	}
	testenv.Need(t, "Xdebug for PHP "+p.Version, p.HasXdebug(t.Context()), "apt install php-xdebug ("+testenv.InstallFix+")")
	dbgp := listenDBGp(t)
	spec.Xdebug, spec.XdebugPort = true, dbgp.port
	r = mustRunner(t, spec)
	up = startRunner(t, r)
	_, body = get(t, up, "/", nil)
	if !strings.Contains(body, "xdebug=1\n") {
		t.Fatalf("Xdebug on, the page says:\n%s", body)
	}
	dbgp.expectNone(t, "a request without the trigger")
	_, body = get(t, up, "/?XDEBUG_TRIGGER=1", nil)
	if !strings.Contains(body, "xdebug=1\n") {
		t.Errorf("the page with the trigger says:\n%s", body)
	}
	dbgp.expectInit(t, "index.php")
}

// dbgpListener is an IDE's side of Xdebug: it accepts DBGp connections,
// reads the init packet and lets the request go on (detach).
type dbgpListener struct {
	port  int
	inits chan string
}

func listenDBGp(t *testing.T) *dbgpListener { return listenDBGpOn(t, "127.0.0.1") }

// listenDBGpOn listens on a free port of the address host.
func listenDBGpOn(t *testing.T, host string) *dbgpListener {
	t.Helper()
	var lc net.ListenConfig
	l, err := lc.Listen(t.Context(), "tcp", net.JoinHostPort(host, "0"))
	if err != nil {
		t.Fatal(err)
	}
	d := &dbgpListener{port: l.Addr().(*net.TCPAddr).Port, inits: make(chan string, 4)}
	done := make(chan struct{})
	t.Cleanup(func() { l.Close(); <-done })
	go func() {
		defer close(done)
		for {
			c, err := l.Accept()
			if err != nil {
				return
			}
			d.inits <- testenv.DBGpInit(c)
		}
	}()
	return d
}

func (d *dbgpListener) expectInit(t *testing.T, file string) {
	t.Helper()
	select {
	case init := <-d.inits:
		if !strings.Contains(init, "<init ") || !strings.Contains(init, file) {
			t.Errorf("DBGp init packet:\n%s\nwant an <init> for %s", init, file)
		}
	case <-time.After(10 * time.Second):
		t.Error("no DBGp connection for a request with XDEBUG_TRIGGER")
	}
}

func (d *dbgpListener) expectNone(t *testing.T, what string) {
	t.Helper()
	select {
	case init := <-d.inits:
		t.Errorf("%s opened a DBGp connection:\n%s", what, init)
	case <-time.After(300 * time.Millisecond):
	}
}

// TestContainerPHPIni runs the project's ini in a php container: the
// settings reach ini_get in the site and in docker exec's php, and the
// image's own extensions still load.
func TestContainerPHPIni(t *testing.T) {
	cli := requireDocker(t, testPHPImage)
	spec := containerSpec(t, cli, stackdef.PHP, testPHPImage, map[string]string{"index.php": iniPage})
	spec.PHPIni = map[string]string{"memory_limit": "1G", "date.timezone": "Europe/Berlin"}
	r := mustContainerRunner(t, spec)
	up := startRunner(t, r)
	status, body := get(t, up, "/", nil)
	for _, w := range []string{"memory_limit=1G\n", "date.timezone=Europe/Berlin\n", "display_errors=On\n", "upload_max_filesize=64M\n", "xdebug=0\n", "mysqli=1\n"} {
		if status != 200 || !strings.Contains(body, w) {
			t.Errorf("GET / = %d lacks %q:\n%s", status, w, body)
		}
	}
	out := execIn(t, cli, r.ContainerID(), "php", "-r", `echo ini_get("memory_limit"), " ", extension_loaded("mysqli") ? 1 : 0;`)
	if !strings.Contains(out, "1G 1") {
		t.Errorf("docker exec php: %q, want 1G 1", out)
	}
}

// xdebugImage is the stand-in php image with the host's Xdebug added (the
// host and the stand-in are both bookworm's PHP 8.2, so the module fits).
const xdebugImage = "devport-test/php-apache-xdebug:bookworm"

// TestContainerXdebug runs a php container with Xdebug on: the extension
// loads, and a request with the trigger connects to a DBGp client on the
// host through host.docker.internal (host-gateway). The image is the
// stand-in with the host's xdebug.so copied in, built here when missing.
func TestContainerXdebug(t *testing.T) {
	cli := requireDocker(t, testPHPImage)
	p, err := HostPHP(t.Context(), "")
	if err != nil {
		t.Fatal(err)
	}
	testenv.Need(t, "Xdebug for PHP "+p.Version, p.HasXdebug(t.Context()), "apt install php-xdebug ("+testenv.InstallFix+")")
	docker := testenv.Tool(t, "docker")
	if exec.Command(docker, "image", "inspect", xdebugImage).Run() != nil {
		out, err := exec.CommandContext(t.Context(), p.CLI, "-n", "-r", "echo PHP_EXTENSION_DIR;").Output()
		if err != nil {
			t.Fatal(err)
		}
		ext := strings.TrimSpace(string(out))
		dir := t.TempDir()
		so, err := os.ReadFile(filepath.Join(ext, "xdebug.so"))
		if err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(dir, "xdebug.so"), so, 0o644); err != nil {
			t.Fatal(err)
		}
		df := "FROM " + testPHPImage + "\nCOPY xdebug.so " + ext + "/xdebug.so\n"
		if err := os.WriteFile(filepath.Join(dir, "Dockerfile"), []byte(df), 0o644); err != nil {
			t.Fatal(err)
		}
		if out, err := exec.CommandContext(t.Context(), docker, "build", "-q", "-t", xdebugImage, dir).CombinedOutput(); err != nil {
			t.Fatalf("docker build %s: %v\n%s", xdebugImage, err, out)
		}
	}
	gw := hostGatewayIP(t)
	dbgp := listenDBGpOn(t, gw)
	spec := containerSpec(t, cli, stackdef.PHP, xdebugImage, map[string]string{"index.php": iniPage})
	spec.Xdebug, spec.XdebugPort = true, dbgp.port
	r := mustContainerRunner(t, spec)
	up := startRunner(t, r)
	if _, body := get(t, up, "/", nil); !strings.Contains(body, "xdebug=1\n") {
		t.Fatalf("Xdebug on in a container, the page says:\n%s", body)
	}
	dbgp.expectNone(t, "a request without the trigger")
	get(t, up, "/?XDEBUG_TRIGGER=1", nil)
	dbgp.expectInit(t, "index.php")
}

// hostGatewayIP is the address host-gateway stands for: the default
// bridge's gateway, docker0's IPv4 address.
func hostGatewayIP(t *testing.T) string {
	t.Helper()
	ifc, err := net.InterfaceByName("docker0")
	if err != nil {
		t.Fatalf("docker0, the default bridge host-gateway names: %v", err)
	}
	addrs, err := ifc.Addrs()
	if err != nil {
		t.Fatal(err)
	}
	for _, a := range addrs {
		if n, ok := a.(*net.IPNet); ok && n.IP.To4() != nil {
			return n.IP.String()
		}
	}
	t.Fatalf("docker0 has no IPv4 address: %v", addrs)
	return ""
}

// TestPHPIniReadBack writes values with the characters php.ini treats
// specially outside quotes (";", "=", "$", brackets, braces, operators,
// quotes of the other kind) and reads each back with PHP's own parser:
// the quoted ones come back as they are, the constant expressions as
// their value, and PHP says nothing about the file.
func TestPHPIniReadBack(t *testing.T) {
	php := testenv.Tool(t, "php")
	values := map[string]string{
		"a.semicolon":  "a;b # c",
		"a.equals":     "x=1&y=2",
		"a.dollar":     "$HOME and $x[1]",
		"a.brackets":   "[PHP] {x} (y)",
		"a.operators":  "a | b & ~c ^ !d",
		"a.single":     "it's 'quoted'",
		"a.bool":       "On",
		"a.empty":      "",
		"a.spaces":     "  padded  ",
		"a.unicode":    "Grüße",
		"a.expression": "E_ALL & ~E_DEPRECATED",
	}
	want := map[string]string{"a.expression": "24575"}
	if r := CheckPHPIni(values); r != "" {
		t.Fatalf("CheckPHPIni refused a value: %s", r)
	}
	path := filepath.Join(t.TempDir(), "t.ini")
	if err := os.WriteFile(path, phpIni(Spec{PHPIni: values}, xdebugHostProcess), 0o644); err != nil {
		t.Fatal(err)
	}
	for k, v := range values {
		t.Run(k, func(t *testing.T) {
			out, err := exec.CommandContext(t.Context(), php, "-n", "-c", path, "-r", `echo get_cfg_var($argv[1]);`, k).CombinedOutput()
			if err != nil {
				t.Fatalf("php: %v\n%s", err, out)
			}
			w := v
			if e, ok := want[k]; ok {
				w = e
			}
			if string(out) != w {
				t.Errorf("PHP read %q, want %q", out, w)
			}
		})
	}
}
