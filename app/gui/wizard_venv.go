package gui

import (
	"bytes"
	"fmt"
	"strings"
	"sync"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/container"
	"fyne.io/fyne/v2/theme"
	"fyne.io/fyne/v2/widget"

	"github.com/devport/devport/app/wire"
)

// The wizard's Python environment, as devport add --venv: when the preview
// says the project declares dependencies (requirements.txt, pyproject.toml)
// and has no environment to run in, the review step offers to create
// .venv and install them, checked. Create then runs that first, here (the
// folder is on this machine, whichever engine stores the project), with
// pip's output on the review step, and adds the project only when it
// succeeded; an add that then fails removes the .venv it made.

// venvOffer is what the preview (Checks.DescribeEnv) names only when it
// would create the environment: its line "dependencies in … but no
// environment (.venv): devport add --venv DIR creates it".
const venvOffer = "--venv"

// venvLogLines is how many of the creation's last output lines the review
// step keeps.
const venvLogLines = 200

func (w *Wizard) newVenvWidgets() {
	w.Venv = widget.NewCheck("Create .venv and install the dependencies", func(bool) {
		if w.Step == StepReview {
			w.Review.SetText(w.summary())
		}
	})
	w.Venv.SetChecked(true)
	w.Venv.Hide()
	w.VenvLog = widget.NewLabel("")
	w.VenvLog.TextStyle = fyne.TextStyle{Monospace: true}
	w.venvLogBox = container.NewScroll(w.VenvLog) // both ways: pip's lines are long
	w.venvLogBox.SetMinSize(fyne.NewSize(0, 6*theme.TextSize()+2*theme.Padding()+7*theme.LineSpacing()))
	w.venvLogBox.Hide()
}

// offerVenv shows the venv box when the preview of the request offers to
// create the environment, and hides it otherwise.
func (w *Wizard) offerVenv() {
	req := w.request()
	req.Venv = false
	w.venvOffered = strings.Contains(w.u.opts.Checks.DescribeEnv(req), venvOffer)
	show(w.Venv, w.venvOffered)
	w.relayout()
}

// describeEnv is the review's line about the project's environment: the
// one it has, or what the venv box will do ("" for a project that is not
// a Python one).
func (w *Wizard) describeEnv(req wire.AddRequest) string {
	env := strings.TrimSpace(w.u.opts.Checks.DescribeEnv(req))
	if env == "" {
		return ""
	}
	if w.venvOffered && !req.Venv {
		env += " (or check the box below)"
	}
	return fmt.Sprintf("Python:   %s\n", env)
}

// createVenv runs the creation for req before the add, off the UI thread,
// showing its output lines as they come. remove deletes what it made.
func (w *Wizard) createVenv(req wire.AddRequest) (remove func() error, err error) {
	w.u.do(func() {
		w.VenvLog.SetText("")
		w.venvLines = nil
		w.venvLogBox.Show()
		w.CreateErr.SetText("Creating .venv and installing the dependencies…")
		w.relayout()
	})
	out := &lineWriter{fn: func(line string) { w.u.do(func() { w.addVenvLine(line) }) }}
	remove, err = w.u.opts.Checks.CreateVenv(w.ctx, req, out)
	out.Flush()
	if err != nil {
		return nil, fmt.Errorf("creating .venv failed, so the project was not added: %w", err)
	}
	w.u.do(func() { w.CreateErr.SetText("Creating…") })
	return remove, nil
}

// addVenvLine shows one more line of the creation's output, keeping the
// last venvLogLines, scrolled to the newest.
func (w *Wizard) addVenvLine(line string) {
	w.venvLines = append(w.venvLines, line)
	if n := len(w.venvLines); n > venvLogLines {
		w.venvLines = w.venvLines[n-venvLogLines:]
	}
	w.VenvLog.SetText(strings.Join(w.venvLines, "\n"))
	w.venvLogBox.ScrollToBottom()
}

// lineWriter hands each line written to it to fn, without its newline.
type lineWriter struct {
	mu  sync.Mutex
	buf []byte
	fn  func(line string)
}

func (l *lineWriter) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.buf = append(l.buf, p...)
	for {
		i := bytes.IndexByte(l.buf, '\n')
		if i < 0 {
			break
		}
		l.fn(strings.TrimRight(string(l.buf[:i]), "\r"))
		l.buf = l.buf[i+1:]
	}
	return len(p), nil
}

// Flush hands on a last line that had no newline.
func (l *lineWriter) Flush() {
	l.mu.Lock()
	defer l.mu.Unlock()
	if len(l.buf) > 0 {
		l.fn(string(l.buf))
		l.buf = nil
	}
}
