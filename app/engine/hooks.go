package engine

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/devport/devport/app/wire"

	"github.com/devport/devport/internal/stackdef"
	"github.com/devport/devport/stacks"
	"github.com/devport/devport/store"
)

// hookTimeout bounds a before_start hook: long enough for a cold
// `composer install` or `pip install -r requirements.txt`. A stop ends it
// at once (its SIGTERM, then SIGKILL after hookGrace).
const (
	hookTimeout = 10 * time.Minute
	hookGrace   = 2 * time.Second
)

// HookError is a before_start hook that failed, with its last output lines.
type HookError struct {
	Command string
	Err     error
	Tail    string
}

func (e *HookError) Error() string {
	msg := fmt.Sprintf("hooks.before_start %q failed: %v", e.Command, e.Err)
	if e.Tail != "" {
		msg += "\n" + e.Tail
	}
	return msg
}

func (e *HookError) Unwrap() error { return e.Err }

// runBeforeStart runs the project's before_start hook (sh -c, in its
// folder) and appends its output to the log of the project's first service
// that runs something, where `devport logs` shows it. It returns a
// *HookError with the output's tail when the command fails.
func (m *Manager) runBeforeStart(ctx context.Context, p store.Project) error {
	if p.BeforeStart == "" {
		return nil
	}
	logPath := ""
	for _, s := range p.Services {
		if !stackdef.RunsNothing(s.Stack) {
			logPath = m.paths.ServiceLog(p.Name, s.Name)
			break
		}
	}
	var tail tailBuffer
	var w io.Writer = &tail
	if logPath != "" {
		if err := os.MkdirAll(filepath.Dir(logPath), 0o755); err != nil {
			return err
		}
		f, err := os.OpenFile(logPath, os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o644)
		if err != nil {
			return err
		}
		defer f.Close()
		fmt.Fprintf(f, "devport: %s running hooks.before_start: %s\n", time.Now().Format(time.RFC3339), p.BeforeStart)
		w = io.MultiWriter(f, &tail)
	}
	ctx, cancel := context.WithTimeout(ctx, hookTimeout)
	defer cancel()
	// Under the supervisor, as the backends run: nothing the hook starts
	// outlives it, a stop (ctx) or the engine, even a killed one.
	cmd := stacks.SupervisedCommand(ctx, m.supervisor, hookGrace, "/bin/sh", "-c", p.BeforeStart)
	cmd.Dir = p.Root
	// The data services run by now: the hook (a migration) gets the
	// variables the web services get.
	cmd.Env = append(cmd.Environ(), dataEnv(p, wire.RuntimeProcess)...)
	cmd.Stdout, cmd.Stderr = w, w
	if err := cmd.Run(); err != nil {
		return &HookError{Command: p.BeforeStart, Err: err, Tail: tail.lines(10)}
	}
	return nil
}

// tailBuffer keeps the last 8 KiB written to it.
type tailBuffer struct{ b []byte }

func (t *tailBuffer) Write(p []byte) (int, error) {
	const keep = 8 << 10
	t.b = append(t.b, p...)
	if len(t.b) > keep {
		t.b = t.b[len(t.b)-keep:]
	}
	return len(p), nil
}

// lines returns the last n lines.
func (t *tailBuffer) lines(n int) string {
	ls := strings.Split(string(bytes.TrimRight(t.b, "\n")), "\n")
	if len(ls) > n {
		ls = ls[len(ls)-n:]
	}
	return strings.Join(ls, "\n")
}
