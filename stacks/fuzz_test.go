//go:build unix

package stacks

import (
	"cmp"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"

	"github.com/devport/devport/internal/pathprefix"
	"github.com/devport/devport/internal/stackdef"
	"github.com/devport/devport/store"
)

// FuzzApacheConfig feeds random values through the store's validation into
// both Apache config writers, as the design asks ("one validator per kind
// of value, used by every writer"): a link's path prefix
// (pathprefix.Problem), the project folder and a document root below it
// (store.ValidateFolder: spaces are fine) and the service's name
// (store.ValidateName). Values validation refuses are skipped. Every value
// it accepts must be taken by the writer (a stored value that fails only at
// start is the bug this hunts), and real Apache must accept the output
// (apache2 -t) with the document root carried through unchanged. The seeds,
// known-hostile values among them, run with go test; go test
// -fuzz=FuzzApacheConfig ./stacks explores further.
func FuzzApacheConfig(f *testing.F) {
	seeds := []struct{ prefix, folder, docSub, service string }{
		{"/py", "/shop", "public", "web"},
		{"/api/v1.2_~-x", "/my shop/st;a{t}i#c's", "", "web-2"},
		{"/py", "/café/ñ (1) & d*?[e]", "pub[1]", "a"},
		{"/py", "/%{HTTP_HOST}/<x>/@{y}", "a b", "web"},
		{"/py", "/a]b/c", "[", "0"},
		// Refused by validation, skipped: each is a value some writer
		// cannot carry.
		{"/p(y", "/shop", "", "web"},
		{"/py${X}", "/shop", "", "web"},
		{"/a=b", "/shop", "", "web"},
		{"/a b", "/shop", "", "web"},
		{"/py", `/a"b`, "", "web"},
		{"/py", "/a\nb", "", "web"},
		{"/py", "/a\\b", "", "web"},
		{"/py", "/${HOME}", "", "web"},
		{"/py", "/shop", "", "Web"},
		{"/py", "/shop", "", "web\n"},
	}
	for _, s := range seeds {
		f.Add(s.prefix, s.folder, s.docSub, s.service)
	}
	requireStack(f, stackdef.PHP)
	bin, err := systemTools().apache2()
	if err != nil {
		f.Fatal(err)
	}
	f.Fuzz(func(t *testing.T, prefix, folder, docSub, service string) {
		// Below a folder of this run's own (an earlier run's public/ would
		// become the document root), cleaned as the store keeps it, and
		// never above it: the folders are created.
		base := filepath.Join(t.TempDir(), "p")
		folder = filepath.Join(base, absolute(folder))
		docRoot := ""
		if docSub != "" {
			docRoot = filepath.Join(folder, docSub)
		}
		if !strings.HasPrefix(folder, base+"/") || (docRoot != "" && !strings.HasPrefix(docRoot, folder+"/")) {
			t.Skip("outside the test's folder")
		}
		if pathprefix.Problem(prefix) != "" || prefix == "" || prefix == "/" ||
			store.ValidateFolder("folder", folder) != nil ||
			(docRoot != "" && store.ValidateFolder("document root", docRoot) != nil) ||
			store.ValidateName("service", service) != nil {
			t.Skip("refused by validation")
		}
		if err := os.MkdirAll(cmp.Or(docRoot, folder), 0o755); err != nil {
			if errors.Is(err, syscall.ENAMETOOLONG) || errors.Is(err, syscall.ENOTDIR) || errors.Is(err, os.ErrExist) {
				t.Skip("the file system refuses the folder:", err)
			}
			t.Fatal(err)
		}
		run := t.TempDir()
		spec := Spec{Project: "shop", Service: service, Stack: stackdef.PHP, Dir: folder, DocRoot: docRoot, RunDir: run,
			Home: run, Links: []Link{{Prefix: prefix, Upstream: Upstream{Network: "unix", Address: filepath.Join(run, "api.sock")},
				Container: ContainerAddress("api", stackdef.Uvicorn)}}}
		if err := spec.validate(); err != nil {
			t.Fatalf("the store accepts what stacks refuses at start: %v", err)
		}

		t.Run("process", func(t *testing.T) {
			a := newApache(spec, systemTools())
			a.asRoot = false // nothing of the account matters to the syntax
			cfg, err := a.config()
			if err != nil {
				t.Fatalf("the store accepts what the config refuses at start: %v", err)
			}
			cfg.Listen, cfg.ProbeToken = "127.0.0.1:1", "token"
			if err := a.writeConfig(cfg); err != nil {
				t.Fatal(err)
			}
			apacheAccepts(t, bin, a.confPath(), "Main DocumentRoot: "+confQuote(cmp.Or(docRoot, folder))+"\n")
		})
		t.Run("container", func(t *testing.T) {
			p, err := planContainer(spec, testPHPImage, []string{"172.18.0.1"})
			if err != nil {
				t.Fatalf("the store accepts what the container's site refuses at start: %v", err)
			}
			if err := p.writeFiles(run); err != nil {
				t.Fatal(err)
			}
			// The image's main config, as far as the site needs it.
			main := filepath.Join(run, "main.conf")
			conf := strings.Join([]string{
				`ServerRoot "/usr/lib/apache2"`,
				"LoadModule mpm_prefork_module modules/mod_mpm_prefork.so",
				"LoadModule authz_core_module modules/mod_authz_core.so",
				"LoadModule dir_module modules/mod_dir.so",
				"LoadModule alias_module modules/mod_alias.so",
				"LoadModule mime_module modules/mod_mime.so",
				"PidFile " + confQuote(filepath.Join(run, "httpd.pid")),
				"DefaultRuntimeDir " + confQuote(run),
				"Listen 127.0.0.1:1",
				"Include " + confQuote(filepath.Join(run, containerVhost)),
			}, "\n")
			if err := os.WriteFile(main, []byte(conf+"\n"), 0o600); err != nil {
				t.Fatal(err)
			}
			// The virtual host's document root (a path in the container)
			// does not exist here, and Apache's warning names it as it read
			// it (its log escapes bytes outside printable ASCII as \xHH);
			// /var/www/html may exist (Debian's apache2 makes it).
			want := phpAppDir
			if docRoot != "" {
				want = phpAppDir + "/" + filepath.ToSlash(filepath.Clean(docSub))
			}
			marker := "DocumentRoot [" + logEscape(want) + "] does not exist"
			if isDir(want) {
				marker = "Main DocumentRoot" // syntax only
			}
			apacheAccepts(t, bin, main, marker)
		})
	})
}

// apacheAccepts runs apache2 -t on conf and checks that Apache read the
// document root as written: its output (a dump of the main server's
// configuration) must hold want.
func apacheAccepts(t *testing.T, bin, conf, want string) {
	t.Helper()
	out, err := exec.CommandContext(t.Context(), bin, "-t", "-D", "DUMP_RUN_CFG", "-f", conf).CombinedOutput()
	if err != nil {
		b, _ := os.ReadFile(conf)
		t.Fatalf("apache2 -t: %v\n%s\nconfig:\n%s", err, out, b)
	}
	if !strings.Contains(string(out), want) {
		t.Fatalf("apache2 read another document root:\n%s\nwant %s", out, want)
	}
}

// absolute makes s an absolute path, so that more random inputs pass
// validation.
func absolute(s string) string {
	if strings.HasPrefix(s, "/") {
		return s
	}
	return "/" + s
}

// logEscape writes s as Apache's error log does (ap_escape_logitem): bytes
// outside printable ASCII as \xHH.
func logEscape(s string) string {
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		if c := s[i]; c < 0x20 || c > 0x7e {
			fmt.Fprintf(&b, "\\x%02x", c)
		} else {
			b.WriteByte(c)
		}
	}
	return b.String()
}
