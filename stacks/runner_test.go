//go:build unix

package stacks

import (
	"context"
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/devport/devport/internal/shellquote"
	"github.com/devport/devport/internal/stackdef"
)

func TestNewRunner(t *testing.T) {
	base := t.TempDir()
	valid := Spec{Project: "shop", Service: "web", Stack: stackdef.PHP, Dir: base, RunDir: filepath.Join(base, "run")}
	tests := []struct {
		name    string
		edit    func(*Spec)
		wantErr error  // errors.Is, when set
		wantMsg string // substring; "" means no error
	}{
		{name: "php", edit: func(*Spec) {}},
		{name: "uvicorn", edit: func(s *Spec) { s.Stack, s.App = stackdef.Uvicorn, "main:app" }},
		{name: "uvicorn dotted module", edit: func(s *Spec) { s.Stack, s.App = stackdef.Uvicorn, "app.main:create_app" }},
		{name: "unknown stack", edit: func(s *Spec) { s.Stack = "rails" }, wantErr: ErrUnknownStack, wantMsg: `stack "rails"`},
		{name: "relative folder", edit: func(s *Spec) { s.Dir = "shop" }, wantMsg: "absolute"},
		{name: "relative run folder", edit: func(s *Spec) { s.RunDir = "run" }, wantMsg: "absolute"},
		{name: "no service name", edit: func(s *Spec) { s.Service = "" }, wantMsg: "service name"},
		{name: "uvicorn without app", edit: func(s *Spec) { s.Stack = stackdef.Uvicorn }, wantMsg: "module:attribute"},
		{name: "uvicorn app without attribute", edit: func(s *Spec) { s.Stack, s.App = stackdef.Uvicorn, "main" }, wantMsg: "module:attribute"},
		{name: "gunicorn", edit: func(s *Spec) { s.Stack, s.App, s.Workers = stackdef.Gunicorn, "main:app", 3 }},
		{name: "wsgi", edit: func(s *Spec) { s.Stack, s.App = stackdef.WSGI, "mysite.wsgi:application" }},
		{name: "uwsgi", edit: func(s *Spec) { s.Stack, s.App = stackdef.UWSGI, "app:app" }},
		{name: "wsgi without app", edit: func(s *Spec) { s.Stack = stackdef.WSGI }, wantMsg: `wsgi app "" must be module:attribute`},
		{name: "uwsgi app without attribute", edit: func(s *Spec) { s.Stack, s.App = stackdef.UWSGI, "app" }, wantMsg: "module:attribute"},
		{name: "negative workers", edit: func(s *Spec) { s.Stack, s.App, s.Workers = stackdef.Gunicorn, "main:app", -1 }, wantMsg: "workers is -1"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			spec := valid
			tc.edit(&spec)
			r, err := NewRunner(spec)
			if tc.wantMsg == "" {
				if err != nil {
					t.Fatalf("NewRunner: %v", err)
				}
				pr := r.(*procRunner)
				if pr.spec.LogPath != filepath.Join(spec.RunDir, spec.Service+".log") || pr.spec.StopTimeout != DefaultStopTimeout {
					t.Errorf("defaults not filled: LogPath %q, StopTimeout %s", pr.spec.LogPath, pr.spec.StopTimeout)
				}
				if err := r.Stop(t.Context()); err != nil {
					t.Errorf("Stop before Start: %v", err)
				}
				return
			}
			if err == nil || !strings.Contains(err.Error(), tc.wantMsg) {
				t.Fatalf("NewRunner error = %v, want %q", err, tc.wantMsg)
			}
			if tc.wantErr != nil && !errors.Is(err, tc.wantErr) {
				t.Errorf("error %v is not %v", err, tc.wantErr)
			}
		})
	}
}

// TestStopLeavesNothing starts each stack for real and checks that Stop
// takes down the whole process group and touches nothing in the project.
func TestStopLeavesNothing(t *testing.T) {
	requireLinux(t)
	tests := []struct {
		name  string
		stack string
		files map[string]string
		app   string
	}{
		{name: "php", stack: stackdef.PHP, files: phpSite},
		{name: "uvicorn", stack: stackdef.Uvicorn, files: map[string]string{"main.py": fastAPIApp}, app: "main:api"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			requireStack(t, tc.stack)
			spec := testSpec(t, tc.stack, tc.files)
			spec.App = tc.app
			before := tree(t, spec.Dir)
			r := mustRunner(t, spec)

			began := time.Now()
			up := startRunner(t, r)
			startTook := time.Since(began)
			if status, _ := get(t, up, "/", nil); status == 0 {
				t.Fatal("no answer")
			}
			again, err := r.Start(t.Context())
			if err != nil || again != up {
				t.Errorf("second Start = %v, %v; want the running %v", again, err, up)
			}
			pgid := pgidOf(t, r)
			members := groupMembers(t, pgid)
			exited := r.Exited()

			began = time.Now()
			if err := r.Stop(t.Context()); err != nil {
				t.Fatalf("Stop: %v", err)
			}
			t.Logf("%s: start %s, stop %s, group of %d processes", tc.stack,
				startTook.Round(time.Millisecond), time.Since(began).Round(time.Millisecond), len(members))
			assertGroupGone(t, pgid)
			if !isClosed(exited) || r.Err() != nil {
				t.Errorf("after Stop: Exited closed %v, Err %v; want closed and no error (a stop, not a crash)", isClosed(exited), r.Err())
			}
			if err := r.Stop(t.Context()); err != nil {
				t.Errorf("second Stop: %v", err)
			}
			if after := tree(t, spec.Dir); strings.Join(after, "\n") != strings.Join(before, "\n") {
				t.Errorf("project changed:\nbefore %q\nafter  %q", before, after)
			}
			if _, err := os.Stat(spec.LogPath); err != nil {
				t.Errorf("log: %v", err)
			}
		})
	}
}

// stubbornApp ignores SIGTERM once it serves, so only SIGKILL stops it.
const stubbornApp = `import signal
from fastapi import FastAPI

api = FastAPI()

@api.on_event("startup")
def ignore_term():
    signal.signal(signal.SIGTERM, signal.SIG_IGN)
`

func TestStopEscalates(t *testing.T) {
	requireStack(t, stackdef.Uvicorn)
	requireLinux(t)
	tests := []struct {
		name        string
		stopTimeout time.Duration
		ctxTimeout  time.Duration
		wantErr     error
		min, max    time.Duration
	}{
		{name: "SIGKILL after StopTimeout", stopTimeout: 600 * time.Millisecond, ctxTimeout: 10 * time.Second, min: 600 * time.Millisecond, max: 3 * time.Second},
		{name: "ctx ends first", stopTimeout: 10 * time.Second, ctxTimeout: 300 * time.Millisecond, wantErr: context.DeadlineExceeded, min: 300 * time.Millisecond, max: 3 * time.Second},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			spec := uvicornSpec(t, map[string]string{"main.py": stubbornApp})
			spec.StopTimeout = tc.stopTimeout
			r := mustRunner(t, spec)
			startRunner(t, r)
			pgid := pgidOf(t, r)

			ctx, cancel := context.WithTimeout(t.Context(), tc.ctxTimeout)
			defer cancel()
			began := time.Now()
			err := r.Stop(ctx)
			took := time.Since(began)
			t.Logf("Stop took %s: %v", took.Round(time.Millisecond), err)
			if !errors.Is(err, tc.wantErr) && (err != nil || tc.wantErr != nil) {
				t.Errorf("Stop = %v, want %v", err, tc.wantErr)
			}
			if took < tc.min || took > tc.max {
				t.Errorf("Stop took %s, want between %s and %s", took, tc.min, tc.max)
			}
			if err != nil { // the SIGKILL is on its way: another Stop finishes the job
				if err := r.Stop(t.Context()); err != nil {
					t.Errorf("second Stop: %v", err)
				}
			}
			assertGroupGone(t, pgid)
		})
	}
}

func TestStopCancelsStart(t *testing.T) {
	requireStack(t, stackdef.Uvicorn)
	requireLinux(t)
	spec := uvicornSpec(t, map[string]string{"main.py": "import time\ntime.sleep(60)\n"})
	r := mustRunner(t, spec)
	errc := make(chan error, 1)
	go func() {
		_, err := r.Start(t.Context())
		errc <- err
	}()
	// Wait until the backend is running, then stop it.
	deadline := time.Now().Add(10 * time.Second)
	var pgid int
	for pgid == 0 && time.Now().Before(deadline) {
		time.Sleep(20 * time.Millisecond)
		pgid = runningPgid(t, filepath.Join(spec.RunDir, "api.sock"))
	}
	if pgid == 0 {
		t.Fatal("backend did not start")
	}
	began := time.Now()
	if err := r.Stop(t.Context()); err != nil {
		t.Fatalf("Stop: %v", err)
	}
	err := <-errc
	t.Logf("Stop during Start took %s; Start: %v", time.Since(began).Round(time.Millisecond), err)
	var se *StartError
	if !errors.As(err, &se) || !errors.Is(err, context.Canceled) {
		t.Errorf("Start = %v, want a *StartError wrapping context.Canceled", err)
	}
	assertGroupGone(t, pgid)
}

func TestStartErrorMessage(t *testing.T) {
	exitErr := exec.Command("false").Run()
	tests := []struct {
		name string
		err  *StartError
		want string
	}{
		{
			name: "exit with tail",
			err:  &StartError{Command: "/usr/sbin/apache2 -f /run/web/httpd.conf -DFOREGROUND", Tail: []string{"AH00072: make_sock: could not bind", "AH00015: Unable to open logs"}, Err: exitErr},
			want: "apache2 exited at start: exit status 1\n  AH00072: make_sock: could not bind\n  AH00015: Unable to open logs",
		},
		{
			name: "python module",
			err:  &StartError{Command: "/usr/bin/python3 -m uvicorn main:app --uds /run/api.sock", Err: exitErr},
			want: "uvicorn exited at start: exit status 1",
		},
		{
			name: "status 0",
			err:  &StartError{Command: "/usr/bin/python3 -m uvicorn main:app", Err: errExitedZero},
			want: "uvicorn exited at start: exit status 0",
		},
		{
			name: "timeout",
			err:  &StartError{Command: "/usr/sbin/apache2", Err: context.DeadlineExceeded},
			want: "apache2 did not become ready: context deadline exceeded",
		},
		{
			name: "exec failure",
			err:  &StartError{Command: "/nope/apache2 -f x", Err: exec.ErrNotFound},
			want: "apache2 failed to start: executable file not found in $PATH",
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if got := tc.err.Error(); got != tc.want {
				t.Errorf("Error() =\n%s\nwant\n%s", got, tc.want)
			}
			if !errors.Is(tc.err, tc.err.Err) {
				t.Error("Unwrap lost Err")
			}
		})
	}
}

func TestShellJoin(t *testing.T) {
	tests := []struct {
		name string
		argv []string
		want string
	}{
		{name: "plain", argv: []string{"/usr/sbin/apache2", "-f", "/run/x.conf", "-DFOREGROUND"}, want: "/usr/sbin/apache2 -f /run/x.conf -DFOREGROUND"},
		{name: "glob and spaces", argv: []string{"python3", "--forwarded-allow-ips", "*", "/my dir"}, want: "python3 --forwarded-allow-ips '*' '/my dir'"},
		{name: "quote and empty", argv: []string{"echo", "it's", ""}, want: `echo 'it'\''s' ''`},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if got := shellquote.Join(tc.argv); got != tc.want {
				t.Errorf("shellJoin = %s, want %s", got, tc.want)
			}
		})
	}
}

func TestLogTail(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "logs", "svc.log")
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(path, []byte("old run line\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	f, off, err := openLog(path, "cmd --flag")
	if err != nil {
		t.Fatal(err)
	}
	for i := range 30 {
		f.WriteString(strings.Repeat("x", i) + "\n\n")
	}
	f.Close()
	tests := []struct {
		name   string
		offset int64
		n      int
		want   int
		first  string
	}{
		{name: "last lines of this run", offset: off, n: tailLines, want: tailLines, first: strings.Repeat("x", 15)},
		{name: "fewer lines than asked", offset: off, n: 100, want: 29, first: "x"}, // the empty line 0 is skipped
		{name: "offset at the end", offset: 1 << 20, n: 5, want: 0},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got := logTail(path, tc.offset, tc.n)
			if len(got) != tc.want {
				t.Fatalf("got %d lines, want %d: %q", len(got), tc.want, got)
			}
			if tc.want > 0 && got[0] != tc.first {
				t.Errorf("first line %q, want %q", got[0], tc.first)
			}
		})
	}
	t.Run("the cause stays in front of a long tail", func(t *testing.T) {
		cause := filepath.Join(dir, "cause.log")
		log := "Traceback (most recent call last):\n  File \"x.py\", line 1\nModuleNotFoundError: No module named 'nomodule'\n" +
			"[INFO] Worker exiting\n" + strings.Repeat("  File \"arbiter.py\", line 2, in run\n", 20) +
			"gunicorn.errors.HaltServer: <HaltServer 'Worker failed to boot.' 3>\n"
		if err := os.WriteFile(cause, []byte(log), 0o644); err != nil {
			t.Fatal(err)
		}
		got := logTail(cause, 0, 5)
		if len(got) != 7 || got[0] != "ModuleNotFoundError: No module named 'nomodule'" || got[1] != "…" ||
			got[6] != "gunicorn.errors.HaltServer: <HaltServer 'Worker failed to boot.' 3>" {
			t.Errorf("tail %q", got)
		}
		if got := logTail(cause, 0, 100); len(got) != 25 || got[0] != "Traceback (most recent call last):" {
			t.Errorf("a short log is returned whole: %d lines, first %q", len(got), got[0])
		}
	})
	b, _ := os.ReadFile(path)
	if !strings.HasPrefix(string(b), "old run line\n--- devport ") || !strings.Contains(string(b), ": cmd --flag\n") {
		t.Errorf("log header missing:\n%.200s", b)
	}
	if fi, _ := os.Stat(path); fi.Mode().Perm() != 0o644 {
		t.Errorf("log mode %s", fi.Mode().Perm())
	}
}
