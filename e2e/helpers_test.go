package e2e

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/devport/devport/internal/testenv"
)

// bin is the devport binary built once for the whole package.
var bin string

// buildTags are the Makefile's TAGS: the tests run the binary make builds
// (TestBuildTagsMatchMakefile keeps the two equal).
const buildTags = "no_emoji"

func TestMain(m *testing.M) {
	dir, err := os.MkdirTemp("", "devport-e2e-bin-")
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	// 0755: one test runs the binary as nobody.
	if err := os.Chmod(dir, 0o755); err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	bin = filepath.Join(dir, "devport")
	build := exec.Command("go", "build", "-tags", buildTags, "-o", bin, "..")
	build.Stdout, build.Stderr = os.Stderr, os.Stderr
	if err := build.Run(); err != nil {
		fmt.Fprintln(os.Stderr, "build devport:", err)
		os.RemoveAll(dir)
		os.Exit(1)
	}
	code := m.Run()
	os.RemoveAll(dir)
	os.Exit(code)
}

func haveUvicorn() bool {
	return exec.Command("/usr/bin/python3", "-c", "import uvicorn, fastapi").Run() == nil
}

// env is one isolated devport installation: its own DEVPORT_HOME and HOME
// (so NSS changes land in a temp ~/.pki/nssdb, never the real one).
type env struct {
	t    *testing.T
	root string // world-readable temp root: Apache's children run as nobody
	home string // DEVPORT_HOME
	user string // HOME
}

func newEnv(t *testing.T) *env {
	t.Helper()
	// Not t.TempDir: its parents are 0700, and Apache's children (nobody)
	// must read the example sites. This root is 0755 and removed at the end.
	root, err := os.MkdirTemp("", "devport-e2e-")
	if err != nil {
		t.Fatal(err)
	}
	if err := os.Chmod(root, 0o755); err != nil {
		t.Fatal(err)
	}
	e := &env{t: t, root: root, home: filepath.Join(root, "h"), user: filepath.Join(root, "u")}
	for _, d := range []string{e.home, e.user} {
		if err := os.MkdirAll(d, 0o700); err != nil {
			t.Fatal(err)
		}
	}
	t.Cleanup(func() {
		assertNoProcesses(t, root)
		os.RemoveAll(root)
	})
	return e
}

func (e *env) environ() []string {
	var out []string
	for _, kv := range os.Environ() {
		if strings.HasPrefix(kv, "DEVPORT_HOME=") || strings.HasPrefix(kv, "HOME=") {
			continue
		}
		out = append(out, kv)
	}
	return append(out, "DEVPORT_HOME="+e.home, "HOME="+e.user)
}

// copyExample copies examples/NAME to a world-readable folder of the env.
// breakApp appends a line to a Python app's main.py that raises
// RuntimeError(why) at import: the app fails every start.
func breakApp(t *testing.T, dir, why string) {
	t.Helper()
	f, err := os.OpenFile(filepath.Join(dir, "main.py"), os.O_APPEND|os.O_WRONLY, 0)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	if _, err := fmt.Fprintf(f, "raise RuntimeError(%q)\n", why); err != nil {
		t.Fatal(err)
	}
}

func (e *env) copyExample(name, as string) string {
	e.t.Helper()
	dst := filepath.Join(e.root, as)
	err := filepath.WalkDir(filepath.Join("..", "examples", name), func(path string, d os.DirEntry, err error) error {
		if err != nil {
			return err
		}
		rel, _ := filepath.Rel(filepath.Join("..", "examples", name), path)
		target := filepath.Join(dst, rel)
		if d.IsDir() {
			return os.MkdirAll(target, 0o755)
		}
		b, err := os.ReadFile(path)
		if err != nil {
			return err
		}
		return os.WriteFile(target, b, 0o644)
	})
	if err != nil {
		e.t.Fatal(err)
	}
	return dst
}

type result struct {
	stdout, stderr string
	code           int
}

// run runs devport to completion.
func (e *env) run(args ...string) result {
	e.t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, bin, args...)
	cmd.Env = e.environ()
	var out, errb bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &errb
	err := cmd.Run()
	code := 0
	var ee *exec.ExitError
	if errors.As(err, &ee) {
		code = ee.ExitCode()
	} else if err != nil {
		e.t.Fatalf("devport %s: %v", strings.Join(args, " "), err)
	}
	return result{out.String(), errb.String(), code}
}

// mustRun2 runs another devport binary and fails unless it exits 0.
func (e *env) mustRun2(binary string, args ...string) string {
	e.t.Helper()
	cmd := exec.Command(binary, args...)
	cmd.Env = e.environ()
	out, err := cmd.CombinedOutput()
	if err != nil {
		e.t.Fatalf("%s %s: %v\n%s", binary, strings.Join(args, " "), err, out)
	}
	return string(out)
}

// mustRun runs devport and fails the test unless it exits 0.
func (e *env) mustRun(args ...string) string {
	e.t.Helper()
	r := e.run(args...)
	if r.code != 0 {
		e.t.Fatalf("devport %s: exit %d\nstdout: %s\nstderr: %s", strings.Join(args, " "), r.code, r.stdout, r.stderr)
	}
	return r.stdout
}

// engine is a `devport serve --headless` running in the background.
type engine struct {
	cmd  *exec.Cmd
	mu   sync.Mutex
	out  bytes.Buffer
	done chan error
}

// serve starts the engine and waits until it says it is ready.
func (e *env) serve(args ...string) *engine {
	e.t.Helper()
	return e.serveAs(nil, args...)
}

// serveAs is serve with a command prefix, such as setpriv to drop root.
func (e *env) serveAs(prefix []string, args ...string) *engine {
	e.t.Helper()
	return e.serveArgv(append(append(append([]string{}, prefix...), bin, "serve", "--headless"), args...))
}

// serveArgv starts an engine from a whole command line.
func (e *env) serveArgv(argv []string) *engine {
	e.t.Helper()
	cmd := exec.Command(argv[0], argv[1:]...)
	cmd.Env = e.environ()
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	pr, pw := io.Pipe()
	cmd.Stdout, cmd.Stderr = pw, pw
	if err := cmd.Start(); err != nil {
		e.t.Fatal(err)
	}
	g := &engine{cmd: cmd, done: make(chan error, 1)}
	ready := make(chan struct{})
	go func() {
		sc := bufio.NewScanner(pr)
		once := sync.Once{}
		for sc.Scan() {
			g.mu.Lock()
			g.out.WriteString(sc.Text() + "\n")
			g.mu.Unlock()
			if strings.Contains(sc.Text(), "devport: ready") {
				once.Do(func() { close(ready) })
			}
		}
	}()
	go func() { err := cmd.Wait(); pw.Close(); g.done <- err }()
	e.t.Cleanup(func() { // never leave an engine behind, even when the test failed
		if cmd.ProcessState == nil {
			syscall.Kill(-cmd.Process.Pid, syscall.SIGTERM)
			select {
			case <-g.done:
			case <-time.After(30 * time.Second):
				syscall.Kill(-cmd.Process.Pid, syscall.SIGKILL)
			}
		}
	})
	select {
	case <-ready:
	case err := <-g.done:
		e.t.Fatalf("engine exited before ready: %v\n%s", err, g.output())
	case <-time.After(60 * time.Second):
		e.t.Fatalf("engine not ready after 60s:\n%s", g.output())
	}
	return g
}

func (g *engine) output() string {
	g.mu.Lock()
	defer g.mu.Unlock()
	return g.out.String()
}

// stop sends SIGTERM (as Ctrl-C would) and returns the exit error.
func (g *engine) stop(t *testing.T) error {
	t.Helper()
	if err := g.cmd.Process.Signal(syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	select {
	case err := <-g.done:
		g.done <- err
		return err
	case <-time.After(30 * time.Second):
		t.Fatalf("engine did not exit 30s after SIGTERM:\n%s", g.output())
		return nil
	}
}

// freePort returns a loopback TCP port that was free a moment ago, on
// both 127.0.0.1 and ::1.
func freePort(t *testing.T) int {
	t.Helper()
	for i := 0; i < 20; i++ {
		l, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			t.Fatal(err)
		}
		port := l.Addr().(*net.TCPAddr).Port
		l6, err := net.Listen("tcp", fmt.Sprintf("[::1]:%d", port))
		l.Close()
		if err == nil {
			l6.Close()
			return port
		}
		if strings.Contains(err.Error(), "cannot assign") || strings.Contains(err.Error(), "not supported") {
			return port // no IPv6 loopback here
		}
	}
	t.Fatal("no free port")
	return 0
}

// assertNoProcesses fails when any process still mentions root in its
// command line: every backend's config and socket live under it.
func assertNoProcesses(t *testing.T, root string) {
	t.Helper()
	deadline := time.Now().Add(5 * time.Second)
	for {
		left := processesMentioning(root)
		if len(left) == 0 {
			return
		}
		if time.Now().After(deadline) {
			t.Errorf("processes left behind: %s", strings.Join(left, "; "))
			for _, p := range left {
				var pid int
				fmt.Sscan(p, &pid)
				syscall.Kill(pid, syscall.SIGKILL)
			}
			return
		}
		time.Sleep(100 * time.Millisecond)
	}
}

func processesMentioning(s string) []string {
	entries, _ := os.ReadDir("/proc")
	var out []string
	self := fmt.Sprint(os.Getpid())
	for _, en := range entries {
		if en.Name()[0] < '0' || en.Name()[0] > '9' || en.Name() == self {
			continue
		}
		b, err := os.ReadFile(filepath.Join("/proc", en.Name(), "cmdline"))
		if err != nil || !bytes.Contains(b, []byte(s)) {
			continue
		}
		if st, err := os.ReadFile(filepath.Join("/proc", en.Name(), "stat")); err == nil && bytes.Contains(st, []byte(") Z ")) {
			continue // a zombie awaiting its parent's wait is not running
		}
		out = append(out, en.Name()+" "+strings.ReplaceAll(string(b), "\x00", " "))
	}
	return out
}

// trustLock serialises the tests of this repository that change the
// system trust store (certs' and these), which go test runs in parallel.
func trustLock(t *testing.T) { testenv.Lock(t, "truststore") }
