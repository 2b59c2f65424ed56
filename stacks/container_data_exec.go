package stacks

import (
	"context"
	"fmt"
	"io"
	"strings"
	"time"

	"github.com/docker/docker/api/types/container"
	"github.com/docker/docker/pkg/stdcopy"
)

// ExecError is a command devport ran in a service's container (docker
// exec) that failed: a readiness check, a dump, a restore. It keeps the
// command (passwords are never in it: they go in the exec's environment),
// the exit status and the last lines of its standard error, which carry
// the server's message ("ERROR 1064 (42000) at line 3: You have an error
// in your SQL syntax ...").
type ExecError struct {
	Command []string
	Code    int
	Tail    []string
}

func (e *ExecError) Error() string {
	msg := fmt.Sprintf("%s exited with status %d", e.Command[0], e.Code)
	if len(e.Tail) > 0 {
		msg += ": " + strings.Join(e.Tail, " / ")
	}
	return msg
}

// execTailLines is how many lines of an exec's standard error an ExecError
// keeps.
const execTailLines = 5

// execSpec is one command to run in a container.
type execSpec struct {
	cmd    []string
	env    []string  // KEY=value, on top of the container's
	stdin  io.Reader // nil: no standard input
	stdout io.Writer // nil: discarded
}

// execIn runs e in container id and waits for it. A non-zero exit is an
// *ExecError; a failure to read e.stdin is an error too, even when the
// command then succeeded on the part it got.
func (r *containerRunner) execIn(ctx context.Context, id string, e execSpec) error {
	created, err := r.cli.ContainerExecCreate(ctx, id, container.ExecOptions{
		Cmd: e.cmd, Env: e.env, AttachStdin: e.stdin != nil, AttachStdout: true, AttachStderr: true,
	})
	if err != nil {
		return fmt.Errorf("docker exec %s: %w", e.cmd[0], r.wrap(err))
	}
	att, err := r.cli.ContainerExecAttach(ctx, created.ID, container.ExecAttachOptions{})
	if err != nil {
		return fmt.Errorf("docker exec %s: %w", e.cmd[0], r.wrap(err))
	}
	defer att.Close()
	// Closing the connection ends the copies below, and the command's
	// output pipes with them.
	stop := context.AfterFunc(ctx, func() { att.Close() })
	defer stop()

	stdinDone := make(chan error, 1)
	if e.stdin != nil {
		go func() {
			// A write fails when the command stopped reading (it failed:
			// its status and standard error say why); a read failure is
			// a truncated input, which must not look like its end.
			src := &readRecorder{r: e.stdin}
			_, _ = io.Copy(att.Conn, src)
			if src.err != nil {
				att.Close()
				stdinDone <- fmt.Errorf("read the input of %s: %w", e.cmd[0], src.err)
				return
			}
			_ = att.CloseWrite()
			stdinDone <- nil
		}()
	}
	stdout := e.stdout
	if stdout == nil {
		stdout = io.Discard
	}
	var stderr tailBuffer
	_, copyErr := stdcopy.StdCopy(stdout, &stderr, att.Reader)
	att.Close()
	if e.stdin != nil {
		select {
		case err := <-stdinDone:
			if err != nil && ctx.Err() == nil {
				return err // the input's error, not the closed connection's
			}
		case <-ctx.Done():
		}
	}
	if ctx.Err() != nil {
		return fmt.Errorf("docker exec %s: %w", e.cmd[0], ctx.Err())
	}
	if copyErr != nil {
		return fmt.Errorf("docker exec %s: %w", e.cmd[0], copyErr)
	}
	// The stream ends as the command does; its status follows shortly.
	for deadline := time.Now().Add(5 * time.Second); ; {
		info, err := r.cli.ContainerExecInspect(ctx, created.ID)
		if err != nil {
			return fmt.Errorf("docker exec %s: %w", e.cmd[0], r.wrap(err))
		}
		if !info.Running {
			if info.ExitCode != 0 {
				return &ExecError{Command: e.cmd, Code: info.ExitCode, Tail: errorTail(stderr.lines(20))}
			}
			return nil
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("docker exec %s: still running after its output ended", e.cmd[0])
		}
		select {
		case <-ctx.Done():
			return fmt.Errorf("docker exec %s: %w", e.cmd[0], ctx.Err())
		case <-time.After(20 * time.Millisecond):
		}
	}
}

// readRecorder keeps the error of the reader it wraps (io.EOF excluded).
type readRecorder struct {
	r   io.Reader
	err error
}

func (rr *readRecorder) Read(p []byte) (int, error) {
	n, err := rr.r.Read(p)
	if err != nil && err != io.EOF {
		rr.err = err
	}
	return n, err
}

// errorTail keeps the server's error of a client's last lines: from the
// last line with ERROR in it (mariadb echoes the failed statement before
// it, psql adds the LINE and a caret after it), at most execTailLines.
func errorTail(lines []string) []string {
	for i := len(lines) - 1; i >= 0; i-- {
		if strings.Contains(lines[i], "ERROR") {
			lines = lines[i:]
			break
		}
	}
	if len(lines) > execTailLines {
		lines = lines[len(lines)-execTailLines:]
	}
	return lines
}

// tailBuffer keeps the last 64 KiB written to it.
type tailBuffer struct{ b []byte }

const tailBufferMax = 64 << 10

func (t *tailBuffer) Write(p []byte) (int, error) {
	t.b = append(t.b, p...)
	if len(t.b) > tailBufferMax {
		t.b = append(t.b[:0], t.b[len(t.b)-tailBufferMax:]...)
	}
	return len(p), nil
}

// lines returns the last n non-empty lines.
func (t *tailBuffer) lines(n int) []string {
	var out []string
	for _, l := range strings.Split(string(t.b), "\n") {
		if l = strings.TrimSpace(l); l != "" {
			out = append(out, l)
		}
	}
	if len(out) > n {
		out = out[len(out)-n:]
	}
	return out
}
