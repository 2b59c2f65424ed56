package e2e

import (
	"os/exec"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/devport/devport/internal/testenv"
)

// window is a devport window running under Xvfb.
type window struct {
	cmd  *exec.Cmd
	out  *lockedBuffer
	done chan error
}

// startWindow runs `devport ARGS` on display, without a session bus (so
// without a tray: closing it quits), and stops it when the test ends.
func startWindow(t *testing.T, e *env, display string, args ...string) *window {
	t.Helper()
	cmd := exec.Command(bin, args...)
	cmd.Env = append(withoutDBus(e.environ()), "DISPLAY="+display, "LANG=en_US.UTF-8")
	return runWindow(t, cmd)
}

// runWindow starts cmd, a devport window, in its own process group with
// its output kept, and stops the group when the test ends: a failed test
// still stops the engine and its backends.
func runWindow(t *testing.T, cmd *exec.Cmd) *window {
	t.Helper()
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	w := &window{cmd: cmd, out: &lockedBuffer{}, done: make(chan error, 1)}
	cmd.Stdout, cmd.Stderr = w.out, w.out
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	go func() { w.done <- cmd.Wait() }()
	t.Cleanup(func() {
		if cmd.ProcessState == nil {
			syscall.Kill(-cmd.Process.Pid, syscall.SIGTERM)
			select {
			case <-w.done:
			case <-time.After(30 * time.Second):
				syscall.Kill(-cmd.Process.Pid, syscall.SIGKILL)
				<-w.done
			}
		}
	})
	return w
}

// quit sends SIGTERM, as a session manager would, and insists on exit 0.
func (w *window) quit(t *testing.T) {
	t.Helper()
	if err := w.cmd.Process.Signal(syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	w.exited(t)
}

// exited waits up to 30 s for the window to exit, which must be with 0
// and with no panic or thread error in its output.
func (w *window) exited(t *testing.T) {
	t.Helper()
	select {
	case err := <-w.done:
		if err != nil {
			t.Errorf("the window exited with %v:\n%s", err, w.out.String())
		}
	case <-time.After(30 * time.Second):
		t.Fatalf("the window did not quit 30 s after it was asked to:\n%s", w.out.String())
	}
	if s := w.out.String(); strings.Contains(s, "panic") || strings.Contains(s, "should have been called in fyne.Do") {
		t.Errorf("the window's output shows a panic or a thread error:\n%s", s)
	}
}

// TestSecondLaunch: with a window open, `devport --start shop` finds it
// through the engine's control socket, has it start shop, and exits 0:
// the X server still has one devport window. The open window may host
// the engine, or be attached to a headless one.
func TestSecondLaunch(t *testing.T) {
	for _, tool := range []string{"Xvfb", "xdotool"} {
		testenv.Tool(t, tool)
	}
	testenv.Need(t, "apache2", testenv.Have("apache2") || fileExists("/usr/sbin/apache2"), testenv.InstallFix)
	tests := []struct {
		name     string
		headless bool // the window attaches to `devport serve --headless`
		together bool // the second launch comes before the first window is up (a double click)
	}{
		{name: "window hosts the engine"},
		{name: "window attached to a headless engine", headless: true},
		{name: "two launches at once", together: true},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			e := newEnv(t)
			e.mustRun("add", e.copyExample("php-shop", "shop"))
			display := startXvfb(t)
			ports := []string{"--https-port", strconv.Itoa(freePort(t)), "--http-port", strconv.Itoa(freePort(t))}
			var g *engine
			if tc.headless {
				g = e.serve(ports...)
			}
			first := startWindow(t, e, display, ports...)
			x := xdo{t: t, display: display}
			switch {
			case tc.together:
			case tc.headless:
				waitFor(t, "the window attaches", func() bool { return strings.Contains(first.out.String(), "attached to the engine") })
				x.waitWindow("^devport$")
			default:
				waitFor(t, "the engine is ready", func() bool { return strings.Contains(first.out.String(), "devport: ready") })
				x.waitWindow("^devport$")
			}

			// The same ports: should the second launch host the engine
			// (it won the race of two at once), it binds no others.
			second := startWindow(t, e, display, append(ports, "--start", "shop")...)
			// One of them exits 0, having raised the other: the second,
			// unless both came at once and the second won the window lock.
			var gone, open *window
			select {
			case err := <-second.done:
				second.done <- err
				gone, open = second, first
			case err := <-first.done:
				if !tc.together {
					t.Fatalf("the first window exited (%v):\n%s", err, first.out.String())
				}
				first.done <- err
				gone, open = first, second
			case <-time.After(60 * time.Second):
				t.Fatalf("no launch exited within 60 s:\nfirst:\n%s\nsecond:\n%s", first.out.String(), second.out.String())
			}
			if err := <-gone.done; err != nil {
				t.Fatalf("the launch that found the other window: %v\n%s", err, gone.out.String())
			}
			if !strings.Contains(gone.out.String(), "already open") {
				t.Errorf("the launch that exited did not say it found the window:\n%s", gone.out.String())
			}
			waitFor(t, "shop runs (--start of the second launch)", func() bool { st, _ := e.lsState("shop"); return st == "running" })
			time.Sleep(time.Second) // a second window would be mapped by now
			if ids := strings.Fields(x.search("^devport$")); len(ids) != 1 {
				t.Errorf("%d devport windows, want 1 (%v)", len(ids), ids)
			}
			if open.cmd.ProcessState != nil {
				t.Fatalf("the window that stayed exited:\n%s", open.out.String())
			}
			open.quit(t)
			if tc.headless {
				if err := g.stop(t); err != nil {
					t.Errorf("engine exit: %v\n%s", err, g.output())
				}
			}
		})
	}
}
