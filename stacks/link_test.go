//go:build unix

package stacks

import (
	"encoding/json"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"

	"github.com/devport/devport/internal/stackdef"
)

// chainApp is a FastAPI app that reports the path and headers it received.
const chainApp = `from fastapi import FastAPI, Request

app = FastAPI()

@app.get("/{rest:path}", name="echo")
def echo(rest: str, request: Request):
    return {
        "path": request.url.path,
        "scope_path": request.scope["path"],
        "root_path": request.scope.get("root_path", ""),
        "scheme": request.url.scheme,
        "host": request.headers.get("host", ""),
        "client": request.client.host if request.client else "",
        "url_for": str(request.url_for("echo", rest="a")),
    }
`

// TestApacheLinks runs the chain proxy → Apache → uvicorn with a real
// apache2 forwarding /py/ to a real uvicorn over its unix socket.
func TestApacheLinks(t *testing.T) {
	requireStack(t, stackdef.PHP)
	requireStack(t, stackdef.Uvicorn)

	target := testSpec(t, stackdef.Uvicorn, map[string]string{"main.py": chainApp})
	target.Service, target.App, target.PathPrefix = "api", "main:app", "/py"
	up := startRunner(t, mustRunner(t, target))
	if up.Network != "unix" {
		t.Fatalf("uvicorn upstream = %+v, want a unix socket", up)
	}

	spec := testSpec(t, stackdef.PHP, phpSite)
	spec.Links = []Link{{Prefix: "/py", Upstream: up}}
	web := startRunner(t, mustRunner(t, spec))

	t.Run("config passes apache2 -t and names the socket", func(t *testing.T) {
		conf, err := os.ReadFile(spec.RunDir + "/httpd.conf")
		if err != nil {
			t.Fatal(err)
		}
		for _, w := range []string{
			"LoadModule proxy_module", "LoadModule proxy_http_module", "ProxyPreserveHost On",
			`ProxyPass "/py/" "unix:` + up.Address + `|http://localhost/"`,
			`ProxyPassReverse "/py/" "http://localhost/"`,
		} {
			if !strings.Contains(string(conf), w) {
				t.Errorf("config lacks %q:\n%s", w, conf)
			}
		}
		bin, err := systemTools().apache2()
		if err != nil {
			t.Fatal(err)
		}
		out, err := exec.CommandContext(t.Context(), bin, "-t", "-f", spec.RunDir+"/httpd.conf").CombinedOutput()
		if err != nil || !strings.Contains(string(out), "Syntax OK") {
			t.Fatalf("apache2 -t: %v\n%s", err, out)
		}
	})

	tests := []struct {
		name   string
		path   string
		header http.Header
		want   map[string]string // JSON fields uvicorn reports
	}{
		{name: "prefix stripped, root_path kept", path: "/py/x/y?q=1",
			want: map[string]string{"scope_path": "/x/y", "root_path": "/py", "url_for": "http://shop.test/py/a"}},
		{name: "https passes through", path: "/py/x", header: http.Header{"X-Forwarded-Proto": {"https"}},
			want: map[string]string{"scheme": "https", "url_for": "https://shop.test/py/a"}},
		{name: "host preserved", path: "/py/", want: map[string]string{"host": "shop.test", "scope_path": "/"}},
		{name: "client from X-Forwarded-For", path: "/py/x", header: http.Header{"X-Forwarded-For": {"203.0.113.9"}},
			want: map[string]string{"client": "203.0.113.9"}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			status, body := get(t, web, tc.path, tc.header)
			if status != 200 {
				t.Fatalf("GET %s = %d\n%s", tc.path, status, body)
			}
			var got map[string]any
			if err := json.Unmarshal([]byte(body), &got); err != nil {
				t.Fatalf("not uvicorn's JSON: %v\n%s", err, body)
			}
			for k, v := range tc.want {
				if got[k] != v {
					t.Errorf("%s = %v, want %q (all: %s)", k, got[k], v, body)
				}
			}
		})
	}

	t.Run("php still answers outside the prefix", func(t *testing.T) {
		status, body := get(t, web, "/other", nil)
		if status != 200 || !strings.Contains(body, "front controller") {
			t.Fatalf("GET /other = %d %s", status, body)
		}
	})
	t.Run("bare prefix redirects", func(t *testing.T) {
		status, _ := get(t, web, "/py", nil)
		if status != http.StatusPermanentRedirect {
			t.Fatalf("GET /py = %d, want 308", status)
		}
	})
}

func TestLinkValidate(t *testing.T) {
	sock := Upstream{Network: "unix", Address: "/run/api.sock"}
	tests := []struct {
		name    string
		stack   string
		link    Link
		wantErr string
	}{
		{name: "unix ok", stack: stackdef.PHP, link: Link{Prefix: "/py", Upstream: sock}},
		{name: "tcp ok", stack: stackdef.PHP, link: Link{Prefix: "/py/", Upstream: Upstream{Network: "tcp", Address: "127.0.0.1:8000"}}},
		{name: "not php", stack: stackdef.Uvicorn, link: Link{Prefix: "/py", Upstream: sock}, wantErr: "links are for the php stack"},
		{name: "bad prefix", stack: stackdef.PHP, link: Link{Prefix: "py", Upstream: sock}, wantErr: `link prefix "py"`},
		{name: "quote in prefix", stack: stackdef.PHP, link: Link{Prefix: `/p"y`, Upstream: sock}, wantErr: "link prefix"},
		{name: "uwsgi target", stack: stackdef.PHP, link: Link{Prefix: "/py", Upstream: Upstream{Network: "unix", Address: "/s", Protocol: ProtocolUWSGI}}, wantErr: "only to HTTP backends"},
		{name: "pipe in socket", stack: stackdef.PHP, link: Link{Prefix: "/py", Upstream: Upstream{Network: "unix", Address: "/a|b"}}, wantErr: "socket"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			s := Spec{Service: "web", Stack: tc.stack, Dir: "/p", RunDir: "/r", App: "main:app", Links: []Link{tc.link}}
			err := s.validate()
			if tc.wantErr == "" {
				if err != nil {
					t.Fatal(err)
				}
				return
			}
			if err == nil || !strings.Contains(err.Error(), tc.wantErr) {
				t.Fatalf("error = %v, want %q", err, tc.wantErr)
			}
		})
	}
}

// TestShareSocket checks what root devport does so that Apache's workers
// (nobody) can connect to a linked socket.
func TestShareSocket(t *testing.T) {
	if os.Geteuid() != 0 {
		t.Skip("hands the socket to nobody: needs root")
	}
	acct, err := apacheUser()
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name       string
		parentMode os.FileMode // the folder above the socket's folder
		wantErr    string
	}{
		{name: "reachable", parentMode: 0o755},
		{name: "closed folder above", parentMode: 0o700, wantErr: "chmod o+x"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			parent := filepath.Join(sharedTempDir(t), "home")
			run := filepath.Join(parent, "run")
			if err := os.MkdirAll(run, 0o700); err != nil {
				t.Fatal(err)
			}
			if err := os.Chmod(parent, tc.parentMode); err != nil {
				t.Fatal(err)
			}
			sock := filepath.Join(run, "api.sock")
			l, err := net.Listen("unix", sock)
			if err != nil {
				t.Fatal(err)
			}
			defer l.Close()
			err = shareSocket(sock, acct)
			if tc.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tc.wantErr) || !strings.Contains(err.Error(), parent) {
					t.Fatalf("err = %v, want %q naming %s", err, tc.wantErr, parent)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			fi, _ := os.Stat(run)
			st, _ := os.Stat(sock)
			if fi.Mode().Perm()&0o001 == 0 || st.Sys().(*syscall.Stat_t).Uid != acct.uid {
				t.Errorf("run folder %s, socket owner %d; want o+x and uid %d", fi.Mode(), st.Sys().(*syscall.Stat_t).Uid, acct.uid)
			}
		})
	}
}

// TestContainerSiteLinks: a php container's generated site forwards each
// link to the target's name on the project network, and refuses a target
// that runs as a process (an Apache in a container cannot reach it).
func TestContainerSiteLinks(t *testing.T) {
	tests := []struct {
		name    string
		links   []Link
		want    []string
		wantErr string
	}{
		{name: "no links, no proxy modules", want: []string{"</VirtualHost>"}},
		{name: "a container target", links: []Link{{Prefix: "/py",
			Upstream: Upstream{Network: "tcp", Address: "127.0.0.1:32770"}, Container: ContainerAddress("py", stackdef.Uvicorn)}},
			want: []string{`ProxyPass "/py/" "http://py:8000/"`, `ProxyPassReverse "/py/" "http://py:8000/"`,
				`RedirectMatch 308 "^/py$" "/py/"`, "LoadModule proxy_http_module", "ProxyPreserveHost On"}},
		{name: "a process target", links: []Link{{Prefix: "/py", Upstream: Upstream{Network: "unix", Address: "/run/py.sock"}}},
			wantErr: "can only forward /py to a service in a container too"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			s := testSpec(t, stackdef.PHP, map[string]string{"index.php": "<?php echo 1;"})
			s.Home, s.Links = t.TempDir(), tc.links
			p, err := planContainer(s, testPHPImage, []string{"172.18.0.1"})
			if tc.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tc.wantErr) {
					t.Fatalf("planContainer = %v, want %q", err, tc.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			site := string(p.files[containerVhost])
			for _, w := range tc.want {
				if !strings.Contains(site, w) {
					t.Errorf("site lacks %q:\n%s", w, site)
				}
			}
			if len(tc.links) == 0 && strings.Contains(site, "ProxyPass") {
				t.Errorf("a site without links has ProxyPass:\n%s", site)
			}
			if p.network != networkName(s.Home, s.Project) {
				t.Errorf("network %q, want %q", p.network, networkName(s.Home, s.Project))
			}
		})
	}
}
