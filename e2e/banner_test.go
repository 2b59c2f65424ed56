package e2e

import (
	"bytes"
	"context"
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/devport/devport/internal/testenv"
)

// TestFirstRunBanner opens the real window under Xvfb on a fresh data
// folder, as root in CI: the banner says setup is missing; a click on
// Finish setup (found where the window says it is, not at guessed
// pixels) sets the machine up, and a project added then opens over HTTPS
// with no --resolve and no --cacert. The cleanup undoes the setup, even
// when the test fails.
func TestFirstRunBanner(t *testing.T) {
	testenv.Need(t, "root (the system store, /etc/hosts)", os.Geteuid() == 0, testenv.InstallFix)
	for _, tool := range []string{"Xvfb", "xdotool", "curl", "certutil", "apache2"} {
		testenv.Tool(t, tool)
	}
	hosts := lockSystem(t)
	e := newEnv(t)
	t.Cleanup(func() {
		if r := e.run("setup", "--undo"); r.code != 0 || strings.Contains(r.stdout, "failed") {
			t.Errorf("setup --undo: exit %d\n%s%s", r.code, r.stdout, r.stderr)
		}
		if now, _ := os.ReadFile("/etc/hosts"); !bytes.Equal(now, hosts) {
			t.Errorf("/etc/hosts is not what it was after setup --undo")
			_ = os.WriteFile("/etc/hosts", hosts, 0o644)
		}
		assertCAGone(t, e, filepath.Join(e.home, "ca", "root.pem"))
	})
	display := startXvfb(t)
	https := freePort(t)
	layout := filepath.Join(e.root, "layout.json")
	cmd := exec.Command(bin, "--https-port", strconv.Itoa(https), "--http-port", strconv.Itoa(freePort(t)))
	cmd.Env = append(withoutDBus(e.environ()), "DISPLAY="+display, "LANG=en_US.UTF-8", "DEVPORT_LAYOUT_FILE="+layout)
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	var out lockedBuffer
	cmd.Stdout, cmd.Stderr = &out, &out
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	done := make(chan error, 1)
	go func() { done <- cmd.Wait() }()
	t.Cleanup(func() { // before the undo above: cleanups run last-registered first
		syscall.Kill(-cmd.Process.Pid, syscall.SIGTERM)
		select {
		case <-done:
		case <-time.After(30 * time.Second):
			syscall.Kill(-cmd.Process.Pid, syscall.SIGKILL)
			<-done
		}
	})
	x := xdo{t: t, display: display}
	main := x.waitWindow("devport")
	where := func(name string) ([2]int, bool) {
		b, err := os.ReadFile(layout)
		var places map[string][2]int
		if err != nil || json.Unmarshal(b, &places) != nil {
			return [2]int{}, false
		}
		p, ok := places[name]
		return p, ok
	}
	// The place must hold still for a second: the window is laid out
	// again while it maps and the banner's text wraps.
	var finish [2]int
	stable := 0
	waitFor(t, "the first-run banner with Finish setup", func() bool {
		p, ok := where("finish-setup")
		if ok && p == finish {
			stable++
		} else {
			stable, finish = 0, p
		}
		time.Sleep(250 * time.Millisecond)
		return ok && stable >= 4
	})
	x.click(main, finish)
	deadline := time.Now().Add(90 * time.Second)
	for {
		if _, ok := where("dismiss-setup"); ok {
			break
		}
		if time.Now().After(deadline) {
			x.shot(main, filepath.Join(e.root, "banner.png"))
			t.Fatalf("setup did not finish 90 s after Finish setup (layout %v); window:\n%s", finish, out.String())
		}
		time.Sleep(250 * time.Millisecond)
	}
	if _, ok := where("finish-setup"); ok {
		t.Errorf("Finish setup is still offered after setup:\n%s", out.String())
	}

	site := e.copyExample("php-shop", "bannersite")
	e.mustRun("add", site)
	e.mustRun("start", "bannersite")
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	curl := exec.CommandContext(ctx, "curl", "-sS", "--fail", "https://bannersite.test:"+strconv.Itoa(https)+"/")
	curl.Env = e.environ()
	body, err := curl.CombinedOutput()
	if err != nil || !strings.Contains(string(body), "php-shop says hello") {
		t.Errorf("curl with no --resolve or --cacert after Finish setup: %v\n%s\nwindow:\n%s", err, body, out.String())
	}
}
