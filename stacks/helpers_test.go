//go:build unix

package stacks

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"io/fs"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"runtime"
	"slices"
	"syscall"
	"testing"
	"time"

	"github.com/devport/devport/internal/testenv"
)

// requireStack skips (or fails) when Check says stack cannot run here.
func requireStack(t testing.TB, stack string) {
	t.Helper()
	if err := Check(stack, t.TempDir()); err != nil {
		testenv.Need(t, "stack "+stack, false, err.Error()+" ("+testenv.InstallFix+")")
	}
}

// requireLinux skips tests that read /proc.
func requireLinux(t *testing.T) {
	t.Helper()
	if runtime.GOOS != "linux" {
		t.Skip("reads /proc")
	}
}

// sharedTempDir is a t.TempDir that user nobody can read: Apache's workers
// run as nobody when the tests run as root. os.MkdirTemp makes the parent
// t.TempDir creates 0700, so open that one too.
func sharedTempDir(t *testing.T) string {
	t.Helper()
	dir := t.TempDir()
	for _, d := range []string{filepath.Dir(dir), dir} {
		if err := os.Chmod(d, 0o755); err != nil {
			t.Fatal(err)
		}
	}
	return dir
}

// writeFiles creates files (relative path => content) under dir.
func writeFiles(t *testing.T, dir string, files map[string]string) {
	t.Helper()
	for name, body := range files {
		p := filepath.Join(dir, name)
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, []byte(body), 0o644); err != nil {
			t.Fatal(err)
		}
	}
}

// testSpec is a spec whose folders all live in one shared temp dir.
func testSpec(t *testing.T, stack string, files map[string]string) Spec {
	t.Helper()
	base := sharedTempDir(t)
	dir := filepath.Join(base, "project")
	if err := os.Mkdir(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	writeFiles(t, dir, files)
	return Spec{
		Project: "shop", Service: "web", Stack: stack, Dir: dir,
		RunDir:      filepath.Join(base, "run"),
		LogPath:     filepath.Join(base, "logs", "web.log"),
		StopTimeout: 3 * time.Second,
	}
}

// startRunner starts r and registers a Stop that must succeed.
func startRunner(t *testing.T, r Runner) Upstream {
	t.Helper()
	t.Cleanup(func() { stopRunner(t, r) })
	ctx, cancel := context.WithTimeout(t.Context(), 20*time.Second)
	defer cancel()
	up, err := r.Start(ctx)
	if err != nil {
		t.Fatalf("Start: %v", err)
	}
	return up
}

func stopRunner(t *testing.T, r Runner) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 15*time.Second)
	defer cancel()
	if err := r.Stop(ctx); err != nil {
		t.Errorf("Stop: %v", err)
	}
}

// mustRunner builds a runner for spec.
func mustRunner(t *testing.T, spec Spec) *procRunner {
	t.Helper()
	r, err := NewRunner(spec)
	if err != nil {
		t.Fatalf("NewRunner: %v", err)
	}
	return r.(*procRunner)
}

// get sends a GET for path to up with the given headers and returns the
// status and body.
func get(t *testing.T, up Upstream, path string, header http.Header) (int, string) {
	t.Helper()
	tr := &http.Transport{DialContext: func(ctx context.Context, _, _ string) (net.Conn, error) {
		var d net.Dialer
		return d.DialContext(ctx, up.Network, up.Address)
	}}
	defer tr.CloseIdleConnections()
	ctx, cancel := context.WithTimeout(t.Context(), 10*time.Second)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, "http://shop.test"+path, nil)
	if err != nil {
		t.Fatal(err)
	}
	for k, v := range header {
		req.Header[k] = v
	}
	resp, err := tr.RoundTrip(req)
	if err != nil {
		t.Fatalf("GET %s via %s: %v", path, up, err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	return resp.StatusCode, string(body)
}

// pgidOf is the process group of the runner's current backend.
func pgidOf(t *testing.T, r *procRunner) int {
	t.Helper()
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.cur == nil {
		t.Fatal("no process")
	}
	return r.cur.pgid
}

// tree lists the files under dir (relative paths with sizes).
func tree(t *testing.T, dir string) []string {
	t.Helper()
	var out []string
	err := filepath.WalkDir(dir, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		info, err := d.Info()
		if err != nil {
			return err
		}
		rel, _ := filepath.Rel(dir, p)
		out = append(out, rel+" "+info.Mode().String())
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	slices.Sort(out)
	return out
}

// waitClosed waits for ch to be closed.
func waitClosed(t *testing.T, ch <-chan struct{}, within time.Duration, what string) {
	t.Helper()
	select {
	case <-ch:
	case <-time.After(within):
		t.Fatalf("%s: not within %s", what, within)
	}
}

func isClosed(ch <-chan struct{}) bool {
	select {
	case <-ch:
		return true
	default:
		return false
	}
}

// helperEnv makes the test binary act as a devport stand-in (see
// runHelper) instead of running tests.
const helperEnv = "DEVPORT_STACKS_HELPER_SPEC"

// escapeArg makes the test binary a process that leaves its process group
// for a session of its own and sleeps: what a backend's daemonizing child
// does.
const escapeArg = "__stacks_test_escape"

func TestMain(m *testing.M) {
	// The test binary is its own supervisor, as devport is: see
	// testSupervisor.
	if len(os.Args) > 1 && os.Args[1] == SuperviseCommand {
		os.Exit(Supervise(os.Args[2:]))
	}
	if len(os.Args) > 1 && os.Args[1] == escapeArg {
		_, _ = syscall.Setsid()
		time.Sleep(time.Minute)
		os.Exit(0)
	}
	if spec := os.Getenv(helperEnv); spec != "" {
		os.Exit(runHelper(spec))
	}
	if cfg := os.Getenv(engineHelperEnv); cfg != "" {
		os.Exit(runEngineHelper(cfg))
	}
	os.Exit(m.Run())
}

// engineHelperEnv makes the test binary an engine stand-in (see
// runEngineHelper) instead of running tests.
const engineHelperEnv = "DEVPORT_STACKS_HELPER_ENGINE"

// engineHelperConfig is what the engine stand-in runs.
type engineHelperConfig struct {
	Specs []Spec
	// Hook is a before_start hook's argv, started after the backends and
	// left running.
	Hook []string
	// Supervised runs everything under the supervisor, as the engine does.
	Supervised bool
}

// engineHelperReport is the engine stand-in's one line of output.
type engineHelperReport struct {
	Groups []Group // of the backends, as ProcessGroup reports them
	Err    string  `json:",omitempty"`
}

// runEngineHelper starts what cfg (JSON) describes, the way the engine
// does, prints an engineHelperReport and waits to be killed: an engine
// that dies without stopping anything.
func runEngineHelper(cfgJSON string) int {
	var groups []Group
	report := func(err error) int {
		r := engineHelperReport{Groups: groups}
		if err != nil {
			r.Err = err.Error()
		}
		b, _ := json.Marshal(r)
		fmt.Println(string(b))
		if err != nil {
			return 1
		}
		time.Sleep(time.Minute)
		return 0
	}
	var cfg engineHelperConfig
	if err := json.Unmarshal([]byte(cfgJSON), &cfg); err != nil {
		return report(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	var supervisor []string
	if cfg.Supervised {
		var err error
		if supervisor, err = testSupervisor(); err != nil {
			return report(err)
		}
	}
	for _, spec := range cfg.Specs {
		spec.Supervisor = supervisor
		r, err := NewRunner(spec)
		if err != nil {
			return report(err)
		}
		if _, err := r.Start(ctx); err != nil {
			return report(err)
		}
		g, ok := r.(interface{ ProcessGroup() (Group, bool) }).ProcessGroup()
		if !ok {
			return report(fmt.Errorf("%s: no process group after Start", spec.Service))
		}
		groups = append(groups, g)
	}
	if len(cfg.Hook) > 0 {
		cmd := SupervisedCommand(context.Background(), supervisor, time.Second, cfg.Hook[0], cfg.Hook[1:]...)
		if err := cmd.Start(); err != nil {
			return report(err)
		}
	}
	return report(nil)
}

// testSupervisor is Spec.Supervisor for tests: the test binary runs
// Supervise when its first argument is SuperviseCommand (TestMain), as
// devport's main does.
func testSupervisor() ([]string, error) {
	exe, err := os.Executable()
	if err != nil {
		return nil, err
	}
	return []string{exe, SuperviseCommand}, nil
}

// runHelper starts the backend described by the JSON spec, prints
// "pgid N" and waits to be killed: a devport that dies without stopping
// its backends.
func runHelper(specJSON string) int {
	var spec Spec
	if err := json.Unmarshal([]byte(specJSON), &spec); err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 2
	}
	r, err := NewRunner(spec)
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 2
	}
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	if _, err := r.Start(ctx); err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	pr := r.(*procRunner)
	pr.mu.Lock()
	fmt.Printf("pgid %d\n", pr.cur.pgid)
	pr.mu.Unlock()
	time.Sleep(time.Minute)
	return 0
}

// mustRead returns the content of file path.
func mustRead(t *testing.T, path string) []byte {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return b
}
