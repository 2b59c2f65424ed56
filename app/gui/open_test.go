package gui

import (
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"fyne.io/fyne/v2/test"

	"github.com/devport/devport/app/wire"
	"github.com/devport/devport/internal/testenv"
)

// fakeOpener is an xdg-open of the test's own: a shell script in a temp
// folder that records what it was asked to open and its pid, writes a
// line to stderr and exits with a chosen code.
type fakeOpener struct {
	t    *testing.T
	dir  string
	path string // dir/xdg-open
}

func newFakeOpener(t *testing.T, code int, stderr string) *fakeOpener {
	t.Helper()
	testenv.Tool(t, "sh")
	dir := t.TempDir()
	f := &fakeOpener{t: t, dir: dir, path: filepath.Join(dir, "xdg-open")}
	script := fmt.Sprintf("#!/bin/sh\necho $$ >> %s/pids\necho \"$1\" >> %s/opened\necho '%s' >&2\nexit %d\n", dir, dir, stderr, code)
	if err := os.WriteFile(f.path, []byte(script), 0o755); err != nil {
		t.Fatal(err)
	}
	return f
}

func (f *fakeOpener) lines(name string) []string {
	b, _ := os.ReadFile(filepath.Join(f.dir, name))
	return strings.Fields(string(b))
}

// opened is what it was asked to open, in order.
func (f *fakeOpener) opened() []string { return f.lines("opened") }

// assertReaped fails the test when a process the opener ran is left as
// a zombie (state Z in /proc/PID/stat): nobody waited for it.
func (f *fakeOpener) assertReaped() {
	f.t.Helper()
	pids := f.lines("pids")
	if len(pids) == 0 {
		f.t.Fatal("the opener never ran")
	}
	for _, p := range pids {
		pid, _ := strconv.Atoi(p)
		b, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
		if err != nil {
			continue // gone: reaped
		}
		// pid (comm) S …: the state follows the last ')'.
		if i := strings.LastIndexByte(string(b), ')'); i > 0 && strings.HasPrefix(string(b[i+1:]), " Z") {
			f.t.Errorf("the opener (pid %d) is a zombie: nobody waited for it", pid)
		}
	}
}

// TestOpenReportsFailure: Open in browser and Open folder run the
// opener found on PATH, show its failure in the status line with the
// command that was tried, and leave no zombie behind.
func TestOpenReportsFailure(t *testing.T) {
	p := wire.ProjectStatus{Name: "shop", URL: "https://shop.test/", Root: "/srv/shop", State: wire.StateRunning, Domains: []string{"shop.test"}}
	tests := []struct {
		name    string
		missing bool // no xdg-open on PATH at all
		code    int
		stderr  string
		folder  bool // Open folder instead of Open in browser
		want    string
	}{
		{name: "browser fails", code: 3, stderr: "xdg-open: no method available for opening https://shop.test/",
			want: "Open failed: xdg-open https://shop.test/: exit status 3: xdg-open: no method available for opening https://shop.test/"},
		{name: "folder fails", code: 4, folder: true, want: "Open failed: xdg-open /srv/shop: exit status 4"},
		{name: "browser opens", want: "Opening https://shop.test/ in your browser"},
		{name: "folder opens", folder: true, want: "Opening /srv/shop"},
		{name: "no xdg-open", missing: true, want: "Open failed: xdg-open not found: install xdg-utils"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			f := newFakeOpener(t, tc.code, tc.stderr)
			if tc.missing {
				t.Setenv("PATH", t.TempDir())
			} else {
				t.Setenv("PATH", f.dir)
			}
			u := New(test.NewTempApp(t), Options{Engine: newDataEngine(p), Checks: wizardChecks{}, Manual: true})
			t.Cleanup(func() { u.Close(); u.Idle() })
			u.Idle()
			row := u.Row("shop")
			if row == nil {
				t.Fatal("no row for shop")
			}
			if tc.folder {
				test.Tap(row.Folder)
			} else {
				test.Tap(row.Open)
			}
			u.Idle()
			if got := u.Status.Text; got != tc.want {
				t.Errorf("status %q, want %q", got, tc.want)
			}
			if tc.missing {
				return
			}
			target := p.URL
			if tc.folder {
				target = p.Root
			}
			if got := f.opened(); len(got) != 1 || got[0] != target {
				t.Errorf("opened %q, want %q", got, target)
			}
			f.assertReaped()
		})
	}
}
