package engine

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/devport/devport/app/wire"
	"github.com/devport/devport/internal/testenv"
	"github.com/devport/devport/stacks"
	"github.com/devport/devport/store"
)

// writeFiles writes files (path relative to dir: content) under dir.
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

// lineWith returns the line of lines that contains every part, or "".
func lineWith(lines []string, parts ...string) string {
	for _, l := range lines {
		ok := true
		for _, p := range parts {
			ok = ok && strings.Contains(l, p)
		}
		if ok {
			return l
		}
	}
	return ""
}

// TestParkScan parks folders of subfolders as a user would lay them out:
// each subfolder is a project as devport add makes it, what cannot be one
// is skipped with a line saying why, and unpark removes exactly the
// projects it made.
func TestParkScan(t *testing.T) {
	ctx := context.Background()
	m := testManager(t)
	root := t.TempDir()
	sites, other := filepath.Join(root, "sites"), filepath.Join(root, "other")
	writeFiles(t, sites, map[string]string{
		"Blog Site/index.html": "<p>blog</p>",
		"docs/devport.toml":    "name = \"handbook\"\n[services.web]\nstack = \"static\"\n",
		"docs/index.html":      "<p>docs</p>",
		"shop/index.html":      "<p>a second shop</p>",
		"notes/todo.txt":       "nothing to serve",
		".git/HEAD":            "ref: refs/heads/main",
		"readme.txt":           "a file, not a folder",
		"broken/devport.toml":  "name = \"broken\"\n[services.web]\nstack = \"rails\"\n",
		"My Blog/index.html":   "<p>maps to my-blog</p>",
		"my_blog/index.html":   "<p>maps to my-blog too</p>",
	})
	writeFiles(t, other, map[string]string{
		"blog-site/index.html": "<p>a blog of the same name</p>",
		"wiki/index.html":      "<p>wiki</p>",
	})
	writeFiles(t, root, map[string]string{"shop/index.html": "<p>the first shop, added by hand</p>"})
	if _, err := m.Add(ctx, wire.AddRequest{Dir: filepath.Join(root, "shop")}); err != nil {
		t.Fatal(err)
	}

	rep, err := m.Park(ctx, sites)
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range [][]string{
		{"added blog-site at https://blog-site.test/", "(static)"},
		{"added handbook at https://handbook.test/"}, // its devport.toml names it
		{"added my-blog", "(static)"},
		{"skipped my_blog: the name my-blog is taken by project my-blog (" + filepath.Join(sites, "My Blog") + ", parked in " + sites + ")"},
		{"skipped shop: the name shop is taken by project shop (" + filepath.Join(root, "shop") + ")", "devport add " + filepath.Join(sites, "shop") + " --name NAME"},
		{"skipped notes: nothing to run in it"},
		{"skipped broken:", "devport.toml", "rails"},
		{"no engine runs now"},
	} {
		if lineWith(rep.Lines, want...) == "" {
			t.Errorf("park: no line with %q in\n%s", want, strings.Join(rep.Lines, "\n"))
		}
	}
	for _, never := range []string{".git", "readme"} {
		if lineWith(rep.Lines, never) != "" {
			t.Errorf("park says something about %s:\n%s", never, strings.Join(rep.Lines, "\n"))
		}
	}

	// Two parked folders whose subfolders map to the same domain: the
	// second is skipped, never fatal.
	rep, err = m.Park(ctx, other)
	if err != nil {
		t.Fatal(err)
	}
	if lineWith(rep.Lines, "skipped blog-site: the name blog-site is taken by project blog-site", "parked in "+sites) == "" ||
		lineWith(rep.Lines, "added wiki") == "" {
		t.Errorf("park other:\n%s", strings.Join(rep.Lines, "\n"))
	}

	ps, err := m.List(ctx)
	if err != nil {
		t.Fatal(err)
	}
	parked := map[string]string{}
	for _, p := range ps {
		parked[p.Name] = p.Parked
	}
	want := map[string]string{"blog-site": sites, "handbook": sites, "my-blog": sites, "shop": "", "wiki": other}
	if fmt.Sprint(parked) != fmt.Sprint(want) {
		t.Errorf("projects and their parked folders: %v, want %v", parked, want)
	}

	// A parked project cannot be removed by itself: it would come back.
	err = Local{M: m}.Remove(ctx, "blog-site")
	if err == nil || wire.FieldOf(err) != "name" || !strings.Contains(err.Error(), "devport unpark "+sites) {
		t.Errorf("rm of a parked project: %v (field %q)", err, wire.FieldOf(err))
	}

	// A subfolder that goes takes its project; parking again looks again.
	if err := os.RemoveAll(filepath.Join(sites, "Blog Site")); err != nil {
		t.Fatal(err)
	}
	rep, err = m.Park(ctx, sites)
	if err != nil {
		t.Fatal(err)
	}
	if lineWith(rep.Lines, "parked already") == "" || lineWith(rep.Lines, "removed blog-site: its folder") == "" ||
		lineWith(rep.Lines, "added") != "" {
		t.Errorf("park again:\n%s", strings.Join(rep.Lines, "\n"))
	}

	folders, err := m.Parked(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if len(folders) != 2 || folders[1].Dir != sites || !slices.Equal(folders[1].Projects, []string{"handbook", "my-blog"}) {
		t.Errorf("parked: %+v", folders)
	}

	rep, err = m.Unpark(ctx, sites)
	if err != nil {
		t.Fatal(err)
	}
	if lineWith(rep.Lines, "removed handbook") == "" || lineWith(rep.Lines, "removed my-blog") == "" || lineWith(rep.Lines, "unparked "+sites) == "" {
		t.Errorf("unpark:\n%s", strings.Join(rep.Lines, "\n"))
	}
	ps, _ = m.List(ctx)
	var names []string
	for _, p := range ps {
		names = append(names, p.Name)
	}
	if !slices.Equal(names, []string{"shop", "wiki"}) {
		t.Errorf("after unpark: %v, want the hand-added shop and the other folder's wiki", names)
	}
	if _, err := os.Stat(filepath.Join(sites, "docs", "index.html")); err != nil {
		t.Errorf("unpark touched the folders: %v", err)
	}

	for _, tc := range []struct {
		name string
		do   func() error
		want string
	}{
		{"unpark a folder that is not parked", func() error { _, err := m.Unpark(ctx, sites); return err }, "is not a parked folder"},
		{"park a folder that does not exist", func() error { _, err := m.Park(ctx, filepath.Join(root, "nope")); return err }, "does not exist"},
		{"park a project folder", func() error { _, err := m.Park(ctx, filepath.Join(other, "wiki")); return err }, "is a project itself (static detected)"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			err := tc.do()
			var ve *store.ValidationError
			if !errors.As(err, &ve) || ve.Field != "folder" || !strings.Contains(err.Error(), tc.want) {
				t.Errorf("err = %v, want a folder error saying %q", err, tc.want)
			}
		})
	}
}

// TestParkIdleSetting: park.idle_timeout is listed and checked as a Go
// duration.
func TestParkIdleSetting(t *testing.T) {
	if info, err := LookupSetting(SettingParkIdle); err != nil || info.Default != "10m0s" {
		t.Fatalf("LookupSetting: %+v, %v", info, err)
	}
	for _, tc := range []struct {
		value string
		ok    bool
	}{{"10m", true}, {"3s", true}, {"0", true}, {"1h30m", true}, {"ten minutes", false}, {"-1s", false}, {"", false}, {"10", false}} {
		if err := CheckSetting(SettingParkIdle, tc.value); (err == nil) != tc.ok {
			t.Errorf("CheckSetting(%q) = %v", tc.value, err)
		}
	}
}

// fakeBackend is a Runner whose backend is an httptest server started
// after a short delay, as a real backend takes a moment to come up.
type fakeBackend struct {
	starts, stops *atomic.Int64
	mu            sync.Mutex
	srv           *httptest.Server
	exited        chan struct{}
}

func (f *fakeBackend) Start(ctx context.Context) (stacks.Upstream, error) {
	f.starts.Add(1)
	select {
	case <-time.After(300 * time.Millisecond):
	case <-ctx.Done():
		return stacks.Upstream{}, ctx.Err()
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	f.srv = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		io.WriteString(w, "hello from the backend")
	}))
	f.exited = make(chan struct{})
	return stacks.Upstream{Network: "tcp", Address: f.srv.Listener.Addr().String()}, nil
}

func (f *fakeBackend) Stop(context.Context) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.srv != nil {
		f.stops.Add(1)
		f.srv.Close()
		f.srv = nil
		close(f.exited)
	}
	return nil
}

func (f *fakeBackend) Exited() <-chan struct{} {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.exited
}

func (f *fakeBackend) Err() error { return nil }

// serveTest runs m.Serve on free loopback ports until the test ends and
// returns the HTTPS port.
func serveTest(t *testing.T, m *Manager) int {
	t.Helper()
	port := func() int {
		l, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			t.Fatal(err)
		}
		defer l.Close()
		return l.Addr().(*net.TCPAddr).Port
	}
	ctx, cancel := context.WithCancel(context.Background())
	out := &readyWriter{ready: make(chan struct{})}
	done := make(chan error, 1)
	https := port()
	go func() { done <- m.Serve(ctx, ServeOptions{HTTPSPort: https, HTTPPort: port(), Out: out}) }()
	select {
	case <-out.ready:
	case err := <-done:
		t.Fatalf("serve: %v", err)
	case <-time.After(30 * time.Second):
		t.Fatal("engine not ready after 30s")
	}
	t.Cleanup(func() {
		cancel()
		if err := <-done; err != nil {
			t.Errorf("serve: %v", err)
		}
	})
	return https
}

// readyWriter closes ready when Serve says it is ready.
type readyWriter struct {
	mu    sync.Mutex
	buf   strings.Builder
	ready chan struct{}
	once  sync.Once
}

func (w *readyWriter) Write(p []byte) (int, error) {
	w.mu.Lock()
	defer w.mu.Unlock()
	w.buf.Write(p)
	if strings.Contains(w.buf.String(), "devport: ready") {
		w.once.Do(func() { close(w.ready) })
	}
	return len(p), nil
}

// siteGet fetches https://host/ with c; an error fails the test and gives
// status 0.
func siteGet(t *testing.T, c *http.Client, host string) (int, string) {
	t.Helper()
	resp, err := c.Get("https://" + host + "/")
	if err != nil {
		t.Errorf("GET %s: %v", host, err)
		return 0, ""
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(b)
}

// siteClient is an HTTPS client that trusts m's CA and dials port.
func siteClient(t *testing.T, m *Manager, port int) *http.Client {
	t.Helper()
	pool := x509.NewCertPool()
	pool.AddCert(m.CA().Root())
	var d net.Dialer
	tr := &http.Transport{
		TLSClientConfig: &tls.Config{RootCAs: pool},
		DialContext: func(ctx context.Context, network, _ string) (net.Conn, error) {
			return d.DialContext(ctx, network, fmt.Sprintf("127.0.0.1:%d", port))
		},
	}
	t.Cleanup(tr.CloseIdleConnections)
	return &http.Client{Transport: tr, Timeout: 30 * time.Second}
}

// TestParkedStartOnRequest: a parked project starts on the first request
// to its domain, which waits for it and gets the page, not a 502; several
// first requests start it once; it stops after park.idle_timeout without a
// request, and the next request starts it again. A project added by hand
// does not start by itself.
func TestParkedStartOnRequest(t *testing.T) {
	m := testManager(t)
	root := t.TempDir()
	sites := filepath.Join(root, "sites")
	writeFiles(t, sites, map[string]string{"api/main.py": "from fastapi import FastAPI\napp = FastAPI()\n"})
	writeFiles(t, root, map[string]string{"byhand/main.py": "from fastapi import FastAPI\napp = FastAPI()\n"})
	testenv.Need(t, "python3-uvicorn", stacks.Check("uvicorn", filepath.Join(sites, "api")) == nil, testenv.InstallFix)
	var starts, stops atomic.Int64
	m.newRunner = func(stacks.Spec) (stacks.Runner, error) {
		return &fakeBackend{starts: &starts, stops: &stops}, nil
	}
	defer func(old time.Duration) { parkIdleTick = old }(parkIdleTick)
	parkIdleTick = 50 * time.Millisecond
	ctx := context.Background()
	if err := m.SetSetting(ctx, SettingParkIdle, "1s"); err != nil {
		t.Fatal(err)
	}
	if _, err := m.Add(ctx, wire.AddRequest{Dir: filepath.Join(root, "byhand")}); err != nil {
		t.Fatal(err)
	}
	port := serveTest(t, m)
	if _, err := m.Park(ctx, sites); err != nil {
		t.Fatal(err)
	}
	c := siteClient(t, m, port)
	get := func(host string) (int, string) { return siteGet(t, c, host) }
	state := func(name string) wire.State {
		st, err := m.Status(ctx, name)
		if err != nil {
			t.Fatal(err)
		}
		return st.State
	}
	if s := state("api"); s != wire.StateStopped {
		t.Fatalf("a parked project is %s before any request, want stopped", s)
	}

	var wg sync.WaitGroup
	for range 5 {
		wg.Go(func() {
			if status, body := get("api.test"); status != 200 || body != "hello from the backend" {
				t.Errorf("first request: %d %q, want 200 from the backend", status, body)
			}
		})
	}
	wg.Wait()
	if n := starts.Load(); n != 1 {
		t.Errorf("%d starts for five first requests, want 1", n)
	}
	if s := state("api"); s != wire.StateRunning {
		t.Errorf("after its first request: %s", s)
	}

	deadline := time.Now().Add(10 * time.Second)
	for state("api") != wire.StateStopped {
		if time.Now().After(deadline) {
			t.Fatal("the idle parked project was not stopped within 10s of a 1s idle timeout")
		}
		time.Sleep(50 * time.Millisecond)
	}
	if n := stops.Load(); n != 1 {
		t.Errorf("%d stops, want 1", n)
	}
	if status, body := get("api.test"); status != 200 || body != "hello from the backend" {
		t.Errorf("after the idle stop: %d %q, want it started again", status, body)
	}
	if n := starts.Load(); n != 2 {
		t.Errorf("%d starts, want 2", n)
	}

	if status, _ := get("byhand.test"); status != http.StatusBadGateway || state("byhand") != wire.StateStopped {
		t.Errorf("a project added by hand answered %d and is %s: it must not start by itself", status, state("byhand"))
	}
}

// TestParkWatch: while the engine serves, a folder created in a parked
// folder becomes a project at once (even when its files arrive after it),
// one removed takes its project with it, and a parked folder that
// vanishes has its projects stopped, not removed, until it is back.
func TestParkWatch(t *testing.T) {
	m := testManager(t)
	root := t.TempDir()
	sites := filepath.Join(root, "sites")
	writeFiles(t, sites, map[string]string{"api/main.py": "from fastapi import FastAPI\napp = FastAPI()\n"})
	testenv.Need(t, "python3-uvicorn", stacks.Check("uvicorn", filepath.Join(sites, "api")) == nil, testenv.InstallFix)
	var starts, stops atomic.Int64
	m.newRunner = func(stacks.Spec) (stacks.Runner, error) {
		return &fakeBackend{starts: &starts, stops: &stops}, nil
	}
	defer func(old time.Duration) { parkPoll = old }(parkPoll)
	parkPoll = 50 * time.Millisecond
	ctx := context.Background()
	port := serveTest(t, m)
	events, cancel := m.Subscribe()
	defer cancel()
	if _, err := m.Park(ctx, sites); err != nil {
		t.Fatal(err)
	}
	c := siteClient(t, m, port)
	get := func(host string) (int, string) { return siteGet(t, c, host) }
	projects := func() map[string]wire.State {
		ps, err := m.List(ctx)
		if err != nil {
			t.Fatal(err)
		}
		out := map[string]wire.State{}
		for _, p := range ps {
			out[p.Name] = p.State
		}
		return out
	}
	waitFor := func(what string, cond func() bool) {
		t.Helper()
		deadline := time.Now().Add(10 * time.Second)
		for !cond() {
			if time.Now().After(deadline) {
				t.Fatalf("%s: not within 10s; projects %v", what, projects())
			}
			time.Sleep(20 * time.Millisecond)
		}
	}

	// An empty folder first, its site a moment later (a copy, a clone).
	if err := os.Mkdir(filepath.Join(sites, "blog"), 0o755); err != nil {
		t.Fatal(err)
	}
	time.Sleep(2 * parkDebounce)
	writeFiles(t, sites, map[string]string{"blog/index.html": "<p>the blog</p>"})
	waitFor("a new folder becomes a project", func() bool { _, ok := projects()["blog"]; return ok })
	if status, body := get("blog.test"); status != 200 || !strings.Contains(body, "the blog") {
		t.Errorf("blog.test: %d %q", status, body)
	}
	if err := os.RemoveAll(filepath.Join(sites, "blog")); err != nil {
		t.Fatal(err)
	}
	waitFor("a removed folder takes its project", func() bool { _, ok := projects()["blog"]; return !ok })

	// The parked folder goes away (unmounted, renamed) with a project running.
	if status, _ := get("api.test"); status != 200 {
		t.Fatalf("api.test: %d", status)
	}
	away := filepath.Join(root, "away")
	if err := os.Rename(sites, away); err != nil {
		t.Fatal(err)
	}
	waitFor("the projects of a vanished folder stop", func() bool { return projects()["api"] == wire.StateStopped })
	warned := false
	for !warned {
		select {
		case e := <-events:
			warned = e.Kind == wire.EventWarning && strings.Contains(e.Detail, "parked folder "+sites+" is gone")
		case <-time.After(5 * time.Second):
			t.Fatal("no warning that the parked folder is gone")
		}
	}
	if fs, _ := m.Parked(ctx); len(fs) != 1 || !fs[0].Missing || !slices.Equal(fs[0].Projects, []string{"api"}) {
		t.Errorf("parked while gone: %+v", fs)
	}
	n := starts.Load()
	if status, body := get("api.test"); status != http.StatusBadGateway || !strings.Contains(body, "gone with the parked folder") && !strings.Contains(body, "went with the parked folder") {
		t.Errorf("a request while the folder is gone: %d %.300q", status, body)
	}
	if starts.Load() != n {
		t.Error("a request started a project whose folder is gone")
	}

	// It comes back: so do its projects, as they were.
	if err := os.Rename(away, sites); err != nil {
		t.Fatal(err)
	}
	waitFor("a parked folder that is back wakes its projects", func() bool {
		status, _ := get("api.test")
		return status == 200
	})
	if fs, _ := m.Parked(ctx); len(fs) != 1 || fs[0].Missing {
		t.Errorf("parked once back: %+v", fs)
	}
}

// TestProjectIn: a folder is a project itself when its own files say so,
// including an app one package deep (the FastAPI layout app/__init__.py +
// app/main.py, Flask's flaskr/__init__.py); a folder whose only app sits in
// a subfolder that is a project on its own (sites/api/main.py) is a folder
// of projects, and parking it is allowed.
func TestProjectIn(t *testing.T) {
	const fastapi = "from fastapi import FastAPI\napp = FastAPI()\n"
	for _, tc := range []struct {
		name    string
		files   map[string]string
		project bool
	}{
		{"one python project in a folder of projects", map[string]string{"api/main.py": fastapi}, false},
		{"two projects", map[string]string{"api/main.py": fastapi, "web/index.php": "<?php echo 1;"}, false},
		{"fastapi package layout", map[string]string{"app/__init__.py": "", "app/main.py": fastapi}, true},
		{"flask factory package", map[string]string{"flaskr/__init__.py": "from flask import Flask\ndef create_app():\n    return Flask(__name__)\n"}, true},
		{"declared dependencies beside a subfolder app", map[string]string{"requirements.txt": "fastapi\n", "api/main.py": fastapi}, true},
		{"top-level app", map[string]string{"main.py": fastapi}, true},
		{"manifest", map[string]string{"devport.toml": "name = \"x\"\n"}, true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			dir := t.TempDir()
			writeFiles(t, dir, tc.files)
			if got := projectIn(dir); (got != "") != tc.project {
				t.Errorf("projectIn = %q, want a project: %v", got, tc.project)
			}
		})
	}
}
