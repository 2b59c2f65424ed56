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
	script := fmt.Sprintf("#!/bin/sh\necho $$ >> %s/pids\n[ -n \"$1\" ] && echo \"$1\" >> %s/opened\npwd >> %s/dirs\necho '%s' >&2\nexit %d\n", dir, dir, dir, stderr, code)
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

// TestOpenReportsFailure: Open in browser (the pane's URL) and the "⋯"
// menu's Open folder, Open in terminal and Open in editor run their
// command, show a failure in the pane with the command that was tried,
// and leave no zombie behind.
func TestOpenReportsFailure(t *testing.T) {
	tests := []struct {
		name    string
		missing bool // nothing on PATH at all
		code    int
		stderr  string
		action  string // browser, folder, terminal, editor
		// want is the status line after a start that worked, or the
		// pane's note after a failure ({cmd}: the fake's path).
		want, note string
		opened     string // the argument it was given ("" for none)
		dir        string // where it ran
	}{
		{name: "browser fails", code: 3, stderr: "xdg-open: no method available for opening https://shop.test/", action: "browser",
			note: "Open failed: xdg-open https://shop.test/: exit status 3: xdg-open: no method available for opening https://shop.test/", opened: "https://shop.test/"},
		{name: "folder fails", code: 4, action: "folder", note: "Open failed: xdg-open {root}: exit status 4", opened: "{root}"},
		{name: "browser opens", action: "browser", want: "Opening https://shop.test/ in your browser", opened: "https://shop.test/"},
		{name: "folder opens", action: "folder", want: "Opening {root}", opened: "{root}"},
		{name: "no xdg-open", missing: true, action: "browser", note: "Open failed: xdg-open not found: install xdg-utils"},
		{name: "terminal opens", action: "terminal", want: "Opening a terminal in {root}", dir: "{root}"},
		{name: "terminal fails", code: 5, stderr: "cannot open display", action: "terminal", note: "Open failed: {cmd}: exit status 5: cannot open display", dir: "{root}"},
		{name: "editor opens", action: "editor", want: "Opening {root} in {cmd}", opened: "{root}", dir: "{root}"},
		{name: "no editor", missing: true, action: "editor",
			note: "Open failed: code not found: no editor found (tried code, codium, zed, subl, phpstorm, pycharm, idea): set DEVPORT_EDITOR to your editor's command"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			root := t.TempDir()
			p := wire.ProjectStatus{Name: "shop", URL: "https://shop.test/", Root: root, State: wire.StateRunning, Domains: []string{"shop.test"}}
			f := newFakeOpener(t, tc.code, tc.stderr)
			if tc.missing {
				t.Setenv("PATH", t.TempDir())
			} else {
				t.Setenv("PATH", f.dir)
			}
			o := Options{Engine: newDataEngine(p), Checks: wizardChecks{}, Manual: true}
			if !tc.missing {
				o.Terminal, o.Editor = f.path, f.path
			}
			u := New(test.NewTempApp(t), o)
			t.Cleanup(func() { u.Close(); u.Idle() })
			u.Idle()
			pn := selectProject(t, u, "shop")
			switch tc.action {
			case "browser": // what a click on the URL runs
				pn.URL.OnTapped()
			case "folder":
				menuItem(t, pn, "Open folder").Action()
			case "terminal":
				menuItem(t, pn, "Open in terminal").Action()
			case "editor":
				menuItem(t, pn, "Open in editor").Action()
			}
			u.Idle()
			expand := strings.NewReplacer("{root}", root, "{cmd}", f.path).Replace
			if tc.want != "" {
				if want := expand(tc.want); u.Status.Text != want || pn.Note.Visible() {
					t.Errorf("status %q (note %q), want %q", u.Status.Text, pn.Note.Text, want)
				}
			} else if want := expand(tc.note); pn.Note.Text != want || !pn.Note.Visible() {
				t.Errorf("the pane says %q (shown %v), want %q", pn.Note.Text, pn.Note.Visible(), want)
			}
			if tc.missing {
				return
			}
			opened := expand(tc.opened)
			if got := f.opened(); (opened == "" && len(got) != 0) || (opened != "" && (len(got) != 1 || got[0] != opened)) {
				t.Errorf("opened %q, want %q", got, opened)
			}
			if tc.dir != "" {
				if got := f.lines("dirs"); len(got) != 1 || got[0] != expand(tc.dir) {
					t.Errorf("ran in %q, want %s", got, expand(tc.dir))
				}
			}
			f.assertReaped()
		})
	}
}
