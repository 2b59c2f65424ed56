package gui

import (
	"bytes"
	"strings"
	"sync"
)

// OutputLog keeps the progress lines of a hosted engine (Serve's Out):
// the settings show why a port fallback is active, and the launcher waits
// for "ready".
type OutputLog struct {
	mu    sync.Mutex
	buf   bytes.Buffer
	lines []string
	ready chan struct{}
	once  sync.Once
}

func (o *OutputLog) Write(p []byte) (int, error) {
	o.mu.Lock()
	defer o.mu.Unlock()
	o.buf.Write(p)
	for {
		line, err := o.buf.ReadString('\n')
		if err != nil {
			o.buf.WriteString(line)
			break
		}
		line = strings.TrimRight(line, "\n")
		o.lines = append(o.lines, line)
		if strings.HasPrefix(line, "devport: ready") {
			o.once.Do(func() { close(o.readyCh()) })
		}
	}
	return len(p), nil
}

func (o *OutputLog) readyCh() chan struct{} {
	if o.ready == nil {
		o.ready = make(chan struct{})
	}
	return o.ready
}

// fallback returns the lines that explain a port fallback, if any.
func (o *OutputLog) fallback() string {
	o.mu.Lock()
	defer o.mu.Unlock()
	// Serve explains a fallback in the lines before "serving": from the
	// one saying why the port was refused to the one saying "instead".
	var out []string
	in := false
	for _, l := range o.lines {
		if strings.HasPrefix(l, "devport: serving") {
			break
		}
		if strings.Contains(l, "cannot bind") || strings.Contains(l, "in use by another program") {
			in = true
		}
		if in {
			out = append(out, strings.TrimSpace(strings.TrimPrefix(l, "devport: ")))
		}
	}
	return strings.Join(out, "\n")
}

// EngineOutput is where a hosted engine writes its progress (pass it as
// ServeOptions.Out).
func (u *UI) EngineOutput() *OutputLog { return &u.output }

// Ready is closed once the hosted engine said it is ready.
func (o *OutputLog) Ready() <-chan struct{} {
	o.mu.Lock()
	defer o.mu.Unlock()
	return o.readyCh()
}
