package gui

import (
	"bytes"
	"errors"
	"fmt"
	"os/exec"
	"strings"
	"sync"
	"time"
)

// defaultOpener is the desktop's handler for URLs and folders on Linux
// (xdg-utils). Fyne's own OpenURL starts it and never waits for it: a
// failure goes unseen and every call leaves a zombie behind.
const defaultOpener = "xdg-open"

// openerWaitDelay bounds how long Wait waits for the opener's stderr once
// it has exited: a browser it started may hold the pipe open for hours.
const openerWaitDelay = time.Second

// open hands target (a URL or a folder) to the opener (Options.Opener,
// default xdg-open). A missing opener or one that cannot start is
// returned at once; one that exits with an error is reported later
// through failed, on the UI thread, with the command that was tried and
// the last line it wrote. The child is always waited for, by a goroutine
// that ends when the opener exits (it is not killed when the window
// closes: the browser it starts must outlive devport).
func (u *UI) open(target string, failed func(msg string)) error {
	name := u.opts.Opener
	if name == "" {
		name = defaultOpener
	}
	path, err := exec.LookPath(name)
	if err != nil {
		if name == defaultOpener {
			return fmt.Errorf("%s not found: install xdg-utils", name)
		}
		return fmt.Errorf("%s not found: %w", name, err)
	}
	cmd := exec.Command(path, target)
	stderr := &lastLines{}
	cmd.Stderr = stderr
	cmd.WaitDelay = openerWaitDelay
	if err := cmd.Start(); err != nil {
		return fmt.Errorf("%s %s: %w", name, target, err)
	}
	u.bg(func() {
		err := cmd.Wait()
		if err == nil || errors.Is(err, exec.ErrWaitDelay) { // ErrWaitDelay: it succeeded, a child holds its stderr
			return
		}
		msg := fmt.Sprintf("%s %s: %v", name, target, err)
		if line := stderr.last(); line != "" {
			msg += ": " + line
		}
		u.do(func() { failed(msg) })
	})
	return nil
}

// lastLines keeps what a child writes, up to a bound, for its last line.
type lastLines struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

const lastLinesMax = 4 << 10

func (l *lastLines) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.buf.Write(p)
	if n := l.buf.Len(); n > lastLinesMax {
		l.buf.Next(n - lastLinesMax)
	}
	return len(p), nil
}

// last is the last line that is not blank.
func (l *lastLines) last() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	lines := strings.Split(strings.TrimSpace(l.buf.String()), "\n")
	return strings.TrimSpace(lines[len(lines)-1])
}
