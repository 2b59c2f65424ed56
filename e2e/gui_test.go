package e2e

import (
	"bytes"
	"encoding/json"
	"fmt"
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

// layout reads where the window's controls are: the window writes their
// places to DEVPORT_LAYOUT_FILE (gui.UI.Targets), so a button that moves
// with the layout is still found.
type layout struct {
	t    *testing.T
	path string
}

// at waits until target is shown and its place holds still, and returns
// it.
func (l layout) at(target string) [2]int {
	l.t.Helper()
	var last [2]int
	stable := 0
	waitFor(l.t, target+" in the window's layout", func() bool {
		b, _ := os.ReadFile(l.path)
		var places map[string][2]int
		if json.Unmarshal(b, &places) != nil {
			return false
		}
		p, ok := places[target]
		if ok && p == last {
			stable++
		} else {
			stable, last = 0, p
		}
		time.Sleep(200 * time.Millisecond)
		return ok && stable >= 3
	})
	return last
}

// TestDesktopWindow runs the real binary under Xvfb: it waits for the
// window, clicks Start, checks the site over HTTPS with devport's CA,
// opens the wizard and the settings, takes screenshots, and quits with
// SIGTERM (exit 0), with and without a DBus session bus; with a tray host
// on the bus it starts the project and quits from the tray menu instead,
// answering the question Quit asks while a project runs.
// DEVPORT_SCREENSHOTS=DIR (make screenshots) keeps the screenshots there.
func TestDesktopWindow(t *testing.T) {
	for _, tool := range []string{"Xvfb", "xdotool", "import", "curl", "dbus-run-session"} {
		testenv.Tool(t, tool)
	}
	testenv.Need(t, "apache2", testenv.Have("apache2") || fileExists("/usr/sbin/apache2"), testenv.InstallFix)
	tests := []struct {
		name   string
		prefix []string
		shots  bool
		tray   bool // a tray host on the bus: Start and Quit from the tray menu
		start  bool // --start shop instead of clicking Start
		quit   bool // devport quit from the CLI instead of SIGTERM
		dark   bool // the dark theme: the main window's screenshots only
	}{
		{name: "no dbus", shots: true},
		{name: "dark theme", shots: true, dark: true},
		{name: "dbus session", prefix: []string{"dbus-run-session", "--"}, start: true, quit: true},
		{name: "dbus with a tray", tray: true},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			e := newEnv(t)
			site := e.copyExample("php-shop", "shop")
			e.mustRun("add", site)
			api := e.copyExample("fastapi-api", "api")
			display := startXvfb(t)
			https, http := freePort(t), freePort(t)

			argv := append(append([]string{}, tc.prefix...), bin, "--https-port", strconv.Itoa(https), "--http-port", strconv.Itoa(http))
			cmd := exec.Command(argv[0], argv[1:]...)
			places := layout{t: t, path: filepath.Join(e.root, "layout.json")}
			cmd.Env = append(withoutDBus(e.environ()), "DISPLAY="+display, "LANG=en_US.UTF-8", "DEVPORT_LAYOUT_FILE="+places.path)
			suffix := ""
			switch { // the desktop's preference decides otherwise: name the theme
			case tc.dark:
				cmd.Env, suffix = append(cmd.Env, "FYNE_THEME=dark"), "-dark"
			case tc.shots:
				cmd.Env = append(cmd.Env, "FYNE_THEME=light")
			}
			if tc.shots { // a project that fails to start, for the failure view
				broken := e.copyExample("fastapi-api", "broken")
				breakApp(t, broken, "database settings missing")
				e.mustRun("add", broken)
			}
			var tray *trayHost
			if tc.tray {
				tray = startTrayHost(t)
				cmd.Env = append(cmd.Env, "DBUS_SESSION_BUS_ADDRESS="+tray.addr)
				cmd.Args = append(cmd.Args, "--minimized") // tray only, until Show window
			}
			if tc.start {
				cmd.Args = append(cmd.Args, "--start", "shop")
			}
			w := runWindow(t, cmd)
			out := w.out
			x := xdo{t: t, display: display}
			waitFor(t, "the engine is ready", func() bool { return strings.Contains(out.String(), "devport: ready") })
			// The engine's pid is in engine.lock (with dbus-run-session,
			// cmd is the wrapper).
			b, err := os.ReadFile(filepath.Join(e.home, "engine.lock"))
			if err != nil {
				t.Fatal(err)
			}
			pid, _ := strconv.Atoi(strings.Fields(string(b))[0])
			var item string
			if tray != nil {
				item = tray.item(pid)
				time.Sleep(time.Second)
				if id := x.search("^devport$"); id != "" {
					t.Fatalf("--minimized showed the window (%s)", id)
				}
				tray.click(item, "Show window")
			}
			main := x.waitWindow("^devport$")
			time.Sleep(500 * time.Millisecond) // first frame

			switch {
			case tc.start: // started by --start once the engine was ready
			case tray != nil:
				tray.click(item, "shop (stopped)", "Start")
			default: // select shop in the sidebar, then its pane's Start
				x.click(main, places.at("project:shop"))
				x.click(main, places.at("toggle"))
			}
			url := fmt.Sprintf("https://shop.test:%d/", https)
			waitFor(t, "the site answers over HTTPS", func() bool {
				b, err := exec.Command("curl", "-sS", "--max-time", "5", "--cacert", filepath.Join(e.home, "ca", "root.pem"),
					"--resolve", fmt.Sprintf("shop.test:%d:127.0.0.1", https), url).CombinedOutput()
				return err == nil && bytes.Contains(b, []byte("php-shop says hello"))
			})
			time.Sleep(300 * time.Millisecond) // the status light turns green
			shots := t.TempDir()
			if dir := os.Getenv("DEVPORT_SCREENSHOTS"); dir != "" && tc.shots {
				shots = dir
			}
			if tc.shots {
				if r := e.run("start", "broken"); r.code == 0 {
					t.Errorf("broken started: %s", r.stdout)
				}
				x.click(main, places.at("project:broken"))
				places.at("try-again") // the failure view is up
				time.Sleep(300 * time.Millisecond)
				x.shot(main, filepath.Join(shots, "failure"+suffix+".png"))
				x.click(main, places.at("project:shop"))
				time.Sleep(300 * time.Millisecond)
			}
			x.shot(main, filepath.Join(shots, "main-window"+suffix+".png"))
			for _, tab := range []string{"Logs", "Settings"} {
				x.click(main, places.at("tab:"+tab))
				time.Sleep(time.Second) // the log loads, the PHP versions fill in
				x.shot(main, filepath.Join(shots, "tab-"+strings.ToLower(tab)+suffix+".png"))
			}
			x.click(main, places.at("tab:Overview"))

			if !tc.dark {
				x.click(main, places.at("new-project"))
				wiz := x.waitWindow("^devport: new project$")
				time.Sleep(300 * time.Millisecond)
				x.shot(wiz, filepath.Join(shots, "wizard-folder.png"))
				x.run("type", "--window", wiz, "--delay", "5", api)
				x.run("key", "--window", wiz, "Return")
				time.Sleep(500 * time.Millisecond)
				x.shot(wiz, filepath.Join(shots, "wizard.png"))
				x.click(wiz, places.at("wizard-cancel"))
				x.waitGone("^devport: new project$")
			}

			if !tc.dark {
				x.click(main, places.at("settings"))
				set := x.waitWindow("^devport: settings$")
				time.Sleep(2 * time.Second) // trust stores and tool versions load
				x.shot(set, filepath.Join(shots, "settings.png"))
			}

			if tray != nil {
				if m := tray.menu(item); len(m.kids) == 0 || !strings.HasPrefix(m.kids[0].label, "shop (running)") {
					t.Errorf("tray menu after start: %v", m.labels())
				}
				tray.click(item, "Quit")
				// shop runs: Quit asks first, in the main window.
				x.click(main, places.at("quit-confirm"))
			} else if tc.quit {
				e.mustRun("quit") // the window hosts the engine: it closes with it
			} else if err := syscall.Kill(pid, syscall.SIGTERM); err != nil { // as a session manager would
				t.Fatal(err)
			}
			w.exited(t)
		})
	}
}

// startXvfb starts a virtual display on a free number and stops it at the end.
func startXvfb(t *testing.T) string {
	t.Helper()
	for n := 90; n < 200; n++ {
		lock, sock := fmt.Sprintf("/tmp/.X%d-lock", n), fmt.Sprintf("/tmp/.X11-unix/X%d", n)
		if fileExists(lock) || fileExists(sock) {
			if !staleDisplay(lock) {
				continue
			}
			// A server that was killed left its files: the number is free.
			os.Remove(lock)
			os.Remove(sock)
		}
		d := fmt.Sprintf(":%d", n)
		cmd := exec.Command("Xvfb", d, "-screen", "0", "1280x800x24", "-nolisten", "tcp")
		if err := cmd.Start(); err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() {
			// SIGTERM lets Xvfb remove its lock and socket; SIGKILL would not.
			cmd.Process.Signal(syscall.SIGTERM)
			done := make(chan struct{})
			go func() { cmd.Wait(); close(done) }()
			select {
			case <-done:
			case <-time.After(5 * time.Second):
				cmd.Process.Kill()
				<-done
			}
			os.Remove(lock)
			os.Remove(sock)
		})
		waitFor(t, "Xvfb "+d, func() bool { return fileExists(sock) })
		return d
	}
	t.Fatal("no free X display number")
	return ""
}

// staleDisplay reports whether an X lock file names a process that is gone.
func staleDisplay(lock string) bool {
	b, err := os.ReadFile(lock)
	if err != nil {
		return true // a socket without a lock: nothing owns it
	}
	pid, err := strconv.Atoi(strings.TrimSpace(string(b)))
	return err == nil && syscall.Kill(pid, 0) != nil
}

// withoutDBus drops the session bus address, so "no dbus" really has none
// (dbus-run-session sets its own).
func withoutDBus(env []string) []string {
	var out []string
	for _, kv := range env {
		if !strings.HasPrefix(kv, "DBUS_SESSION_BUS_ADDRESS=") && !strings.HasPrefix(kv, "XDG_RUNTIME_DIR=") {
			out = append(out, kv)
		}
	}
	return out
}

type xdo struct {
	t       *testing.T
	display string
}

func (x xdo) run(args ...string) string {
	x.t.Helper()
	cmd := exec.Command("xdotool", args...)
	cmd.Env = append(os.Environ(), "DISPLAY="+x.display)
	b, err := cmd.CombinedOutput()
	if err != nil {
		x.t.Fatalf("xdotool %s: %v\n%s", strings.Join(args, " "), err, b)
	}
	return strings.TrimSpace(string(b))
}

func (x xdo) search(name string) string {
	cmd := exec.Command("xdotool", "search", "--onlyvisible", "--name", name)
	cmd.Env = append(os.Environ(), "DISPLAY="+x.display)
	b, _ := cmd.Output()
	return strings.TrimSpace(string(b))
}

func (x xdo) waitWindow(name string) string {
	x.t.Helper()
	var id string
	waitFor(x.t, "window "+name, func() bool {
		f := strings.Fields(x.search(name))
		if len(f) > 0 {
			id = f[0]
		}
		return id != ""
	})
	return id
}

func (x xdo) waitGone(name string) {
	x.t.Helper()
	waitFor(x.t, "window "+name+" closes", func() bool { return x.search(name) == "" })
}

func (x xdo) click(win string, at [2]int) {
	x.t.Helper()
	x.run("mousemove", "--window", win, strconv.Itoa(at[0]), strconv.Itoa(at[1]), "click", "1")
}

func (x xdo) shot(win, path string) {
	x.t.Helper()
	cmd := exec.Command("import", "-window", win, path)
	cmd.Env = append(os.Environ(), "DISPLAY="+x.display)
	if b, err := cmd.CombinedOutput(); err != nil {
		x.t.Fatalf("screenshot %s: %v\n%s", path, err, b)
	}
}

func waitFor(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(60 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(100 * time.Millisecond)
	}
}

// TestCLINeverTouchesTheWindow: CLI commands print nothing of Fyne's, even
// with LANG=C.UTF-8 (Fyne's init logs about that locale), and without a
// display `devport` says how to run headless instead of crashing.
func TestCLINeverTouchesTheWindow(t *testing.T) {
	t.Setenv("LANG", "C.UTF-8")
	t.Setenv("DISPLAY", "")
	t.Setenv("WAYLAND_DISPLAY", "")
	e := newEnv(t)
	tests := []struct {
		name     string
		args     []string
		code     int
		inStderr string
	}{
		{name: "version", args: []string{"version"}},
		{name: "ls", args: []string{"ls"}},
		{name: "window without display", args: nil, code: 2, inStderr: "devport serve --headless"},
		{name: "serve without display", args: []string{"serve"}, code: 2, inStderr: "devport serve --headless"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			r := e.run(tc.args...)
			if r.code != tc.code {
				t.Fatalf("exit %d, want %d\n%s", r.code, tc.code, r.stderr)
			}
			if strings.Contains(r.stderr, "Fyne") || strings.Contains(r.stderr, "GLFW") || strings.Contains(r.stderr, "panic") {
				t.Errorf("stderr shows the window libraries:\n%s", r.stderr)
			}
			if !strings.Contains(r.stderr, tc.inStderr) {
				t.Errorf("stderr %q lacks %q", r.stderr, tc.inStderr)
			}
		})
	}
}
