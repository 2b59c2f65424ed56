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

// launch starts argv in dir ("" for here). A missing program (then fix
// says what to do, when not "") or one that cannot start is returned at
// once; one that exits with an error is reported later through failed,
// on the UI thread, with the command that was tried and the last line it
// wrote. The child is always waited for, by a goroutine that ends when
// it exits (it is not killed when the window closes: the browser,
// terminal or editor it starts must outlive devport).
func (u *UI) launch(argv []string, dir, fix string, failed func(msg string)) error {
	name := argv[0]
	path, err := exec.LookPath(name)
	if err != nil {
		if fix != "" {
			return fmt.Errorf("%s not found: %s", name, fix)
		}
		return fmt.Errorf("%s not found: %w", name, err)
	}
	cmd := exec.Command(path, argv[1:]...)
	cmd.Dir = dir
	stderr := &lastLines{}
	cmd.Stderr = stderr
	cmd.WaitDelay = openerWaitDelay
	tried := strings.Join(argv, " ")
	if err := cmd.Start(); err != nil {
		return fmt.Errorf("%s: %w", tried, err)
	}
	u.bg(func() {
		err := cmd.Wait()
		if err == nil || errors.Is(err, exec.ErrWaitDelay) { // ErrWaitDelay: it succeeded, a child holds its stderr
			return
		}
		msg := fmt.Sprintf("%s: %v", tried, err)
		if line := stderr.last(); line != "" {
			msg += ": " + line
		}
		u.do(func() { failed(msg) })
	})
	return nil
}

// defaultTerminal is Debian's choice of terminal (the
// x-terminal-emulator alternative).
const defaultTerminal = "x-terminal-emulator"

// editors are tried in order when Options.Editor is not set: editors that
// open a folder as a project.
var editors = []string{"code", "codium", "zed", "subl", "phpstorm", "pycharm", "idea"}

// terminalCommand is the terminal to open in a project's folder.
func (u *UI) terminalCommand() (argv []string, fix string) {
	if u.opts.Terminal != "" {
		return strings.Fields(u.opts.Terminal), ""
	}
	return []string{defaultTerminal}, "install a terminal (apt install xterm), or set DEVPORT_TERMINAL to yours"
}

// editorCommand is the editor to open a project's folder in, followed by
// the folder.
func (u *UI) editorCommand(root string) (argv []string, fix string) {
	if u.opts.Editor != "" {
		return append(strings.Fields(u.opts.Editor), root), ""
	}
	for _, e := range editors {
		if _, err := exec.LookPath(e); err == nil {
			return []string{e, root}, ""
		}
	}
	return []string{editors[0], root}, "no editor found (tried " + strings.Join(editors, ", ") + "): set DEVPORT_EDITOR to your editor's command"
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
