package gui

import (
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"fyne.io/fyne/v2/test"

	"github.com/devport/devport/app/wire"
	"github.com/devport/devport/internal/stackdef"
	"github.com/devport/devport/internal/testenv"
)

// TestSettings checks what the settings show and that they persist: the
// ports in use, the default TLD (stored, and used by the wizard), the
// detected tools, and NSS trust with Trust/Untrust (in a temp HOME).
func TestSettings(t *testing.T) {
	r := newRig(t, true)
	test.Tap(r.ui.Settings)
	s := r.ui.SettingsView
	if s == nil {
		t.Fatal("Settings did not open")
	}
	r.ui.Idle()
	if !strings.Contains(s.Ports.Text, "HTTPS on 127.0.0.1:"+strconv.Itoa(r.port)) {
		t.Errorf("ports: %q", s.Ports.Text)
	}
	for _, tool := range []string{"apache2", "php", "python", "uvicorn"} {
		if !strings.Contains(s.Tools.Text, tool) {
			t.Errorf("tools %q lack %s", s.Tools.Text, tool)
		}
	}
	if !strings.Contains(s.Docker.Text, "Docker") || !strings.Contains(s.Docker.Text, stackdef.DefaultImage(stackdef.PHP)) {
		t.Errorf("docker: %q", s.Docker.Text)
	}
	if !strings.HasPrefix(s.Trust[wire.StoreSystem].Text, "not trusted") {
		t.Errorf("system store: %q (this test never trusts the system store)", s.Trust[wire.StoreSystem].Text)
	}

	t.Run("default tld persists", func(t *testing.T) {
		s.TLD.SetSelected("localhost")
		r.ui.Idle()
		v, ok, err := r.m.Setting(context.Background(), wire.SettingDefaultTLD)
		if err != nil || !ok || v != "localhost" {
			t.Fatalf("stored %q, %v, %v; want localhost", v, ok, err)
		}
		dir := r.example("php-shop", "blog")
		r.ui.ShowWizard()
		w := r.ui.Wizard
		test.Type(w.Folder, dir)
		test.Tap(w.Next)
		test.Tap(w.Next)
		if w.Domain.Text != "blog.localhost" {
			t.Errorf("suggested %q, want blog.localhost", w.Domain.Text)
		}
		test.Tap(w.Cancel)
	})

	t.Run("nss trust and untrust", func(t *testing.T) {
		if _, err := exec.LookPath("certutil"); err != nil {
			testenv.Need(t, "certutil (libnss3-tools)", false, testenv.InstallFix)
		}
		test.Tap(s.TrustBtn[wire.StoreNSS])
		r.ui.Idle()
		if !strings.HasPrefix(s.Trust[wire.StoreNSS].Text, "trusted") || !s.TrustBtn[wire.StoreNSS].Disabled() {
			t.Fatalf("after Trust: %q (%s)", s.Trust[wire.StoreNSS].Text, s.TrustResult.Text)
		}
		test.Tap(s.UntrustBtn[wire.StoreNSS])
		r.ui.Idle()
		if strings.HasPrefix(s.Trust[wire.StoreNSS].Text, "trusted") || s.TrustBtn[wire.StoreNSS].Disabled() {
			t.Fatalf("after Untrust: %q (%s)", s.Trust[wire.StoreNSS].Text, s.TrustResult.Text)
		}
	})
	s.Win.Close()
	if r.ui.SettingsView != nil {
		t.Error("closing settings did not forget the view")
	}
}

// TestSettingsNames shows how domains resolve, and switches to the hosts
// file from the settings (the rig's own hosts file, never /etc/hosts).
func TestSettingsNames(t *testing.T) {
	r := newRig(t, true)
	ctx := context.Background()
	if _, err := r.m.Add(ctx, wire.AddRequest{Name: "ext", Domain: "names-ext.test", Proxy: "http://127.0.0.1:9"}); err != nil {
		t.Fatal(err)
	}
	test.Tap(r.ui.Settings)
	s := r.ui.SettingsView
	eventually(t, "the names are checked", func() bool {
		r.ui.Idle()
		return strings.Contains(s.Names.Text, "names-ext.test")
	})
	if !strings.Contains(s.Names.Text, "manages no name resolution") || !strings.Contains(s.Names.Text, "FAILS  names-ext.test") ||
		!strings.Contains(s.Names.Text, "use the hosts file") {
		t.Errorf("before: %q", s.Names.Text)
	}
	test.Tap(s.HostsBtn)
	eventually(t, "the hosts method is on", func() bool {
		r.ui.Idle()
		return strings.Contains(s.Names.Text, "keeps every project domain")
	})
	b, err := os.ReadFile(filepath.Join(r.root, "hosts"))
	if err != nil || !strings.Contains(string(b), "names-ext.test") || !strings.HasPrefix(string(b), "127.0.0.1 localhost\n") {
		t.Errorf("hosts file: %q %v", b, err)
	}
	// The Manager keeps the block in step from now on.
	if err := r.m.Remove(ctx, "ext"); err != nil {
		t.Fatal(err)
	}
	if b, _ := os.ReadFile(filepath.Join(r.root, "hosts")); strings.Contains(string(b), "names-ext.test") {
		t.Errorf("after remove: %q", b)
	}
}
