package e2e

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/devport/devport/internal/testenv"
)

// callerApp is a FastAPI app that fetches another devport site over HTTPS
// with Python's default, verifying TLS context: it trusts devport's CA
// only through the bundle devport points SSL_CERT_FILE at. It connects to
// 127.0.0.1 and sends SNI and Host for the site, so no DNS is involved.
const callerApp = `import socket, ssl
from fastapi import FastAPI
from fastapi.responses import PlainTextResponse

app = FastAPI()


@app.get("/call", response_class=PlainTextResponse)
def call(host: str, port: int):
    ctx = ssl.create_default_context()
    with socket.create_connection(("127.0.0.1", port), timeout=10) as raw:
        with ctx.wrap_socket(raw, server_hostname=host) as s:
            s.sendall(f"GET /from/backend HTTP/1.1\r\nHost: {host}\r\nConnection: close\r\n\r\n".encode())
            data = b""
            while chunk := s.recv(65536):
                data += chunk
    return data.decode(errors="replace")
`

// phpCallerApp is the PHP twin of callerApp: PHP's openssl streams verify
// with OpenSSL's default paths, which SSL_CERT_FILE points at the bundle.
// As root, Apache's workers run as nobody, so the bundle must be readable
// by them.
const phpCallerApp = `<?php
header('Content-Type: text/plain; charset=utf-8');
$host = $_GET['host'];
$port = (int) $_GET['port'];
$ctx = stream_context_create([
    'ssl' => ['peer_name' => $host, 'verify_peer' => true, 'verify_peer_name' => true],
    'http' => ['header' => "Host: $host\r\n", 'ignore_errors' => true],
]);
$body = @file_get_contents("https://127.0.0.1:$port/from/php", false, $ctx);
if ($body === false) {
    echo "call failed: ", error_get_last()['message'] ?? '?', "\n";
    echo "SSL_CERT_FILE=", getenv('SSL_CERT_FILE'), " readable=", is_readable((string) getenv('SSL_CERT_FILE')) ? 'yes' : 'no', "\n";
} else {
    echo $body;
}
`

// TestBackendTrustsDevportSites shows that a backend devport starts can
// call another *.test site over verified HTTPS without the CA being in any
// system store, and that the same call fails without devport's bundle.
func TestBackendTrustsDevportSites(t *testing.T) {
	testenv.Need(t, "apache2", testenv.Have("apache2") || fileExists("/usr/sbin/apache2"), testenv.InstallFix)
	testenv.Need(t, "python3-uvicorn and python3-fastapi", haveUvicorn(), testenv.InstallFix)
	testenv.Tool(t, "curl")
	e := newEnv(t)
	shop := e.copyExample("php-shop", "shop")
	caller := filepath.Join(e.root, "caller")
	if err := os.MkdirAll(caller, 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(caller, "main.py"), []byte(callerApp), 0o644); err != nil {
		t.Fatal(err)
	}
	phpCaller := filepath.Join(e.root, "phpcaller")
	if err := os.MkdirAll(phpCaller, 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(phpCaller, "index.php"), []byte(phpCallerApp), 0o644); err != nil {
		t.Fatal(err)
	}
	e.mustRun("add", shop)
	e.mustRun("add", caller)
	e.mustRun("add", phpCaller)
	port := freePort(t)
	g := e.serve("--start", "shop,caller,phpcaller", "--https-port", fmt.Sprint(port), "--http-port", fmt.Sprint(freePort(t)))
	ca := strings.TrimSpace(e.mustRun("ca"))

	t.Run("python", func(t *testing.T) {
		body := curl(t, "--cacert", ca, "--resolve", fmt.Sprintf("caller.test:%d:127.0.0.1", port),
			fmt.Sprintf("https://caller.test:%d/call?host=shop.test&port=%d", port, port))
		if !strings.Contains(body, "php-shop says hello") || !strings.Contains(body, "path: /from/backend") {
			t.Errorf("the backend's call to shop.test:\n%s", body)
		}
	})
	t.Run("php (Apache's workers run as nobody under root)", func(t *testing.T) {
		body := curl(t, "--cacert", ca, "--resolve", fmt.Sprintf("phpcaller.test:%d:127.0.0.1", port),
			fmt.Sprintf("https://phpcaller.test:%d/?host=shop.test&port=%d", port, port))
		if !strings.Contains(body, "php-shop says hello") || !strings.Contains(body, "path: /from/php") {
			t.Errorf("PHP's call to shop.test:\n%s", body)
		}
	})

	t.Run("without the bundle the same call fails", func(t *testing.T) {
		script := fmt.Sprintf(`import ssl, socket
ctx = ssl.create_default_context()
with socket.create_connection(("127.0.0.1", %d), timeout=10) as raw:
    ctx.wrap_socket(raw, server_hostname="shop.test")
`, port)
		cmd := exec.Command("/usr/bin/python3", "-c", script)
		cmd.Env = append(os.Environ(), "SSL_CERT_FILE=/etc/ssl/certs/ca-certificates.crt")
		out, err := cmd.CombinedOutput()
		if err == nil || !strings.Contains(string(out), "CERTIFICATE_VERIFY_FAILED") {
			t.Errorf("python verified a devport site with only the system roots (is a devport CA trusted system-wide?): %v\n%s", err, out)
		}
	})
	if err := g.stop(t); err != nil {
		t.Errorf("engine exit: %v\n%s", err, g.output())
	}
}
