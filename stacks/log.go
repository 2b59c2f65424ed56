package stacks

import (
	"bytes"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"time"
)

const (
	tailLines = 15       // lines of log a StartError keeps
	tailBytes = 64 << 10 // how much of the log's end is read to find them
)

// openLog opens path for appending (creating it 0644 and its folder 0755),
// writes a header naming the command, and returns the file with the offset
// just past the header: the start of what this run writes.
func openLog(path, command string) (*os.File, int64, error) {
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		return nil, 0, fmt.Errorf("create log folder: %w", err)
	}
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_APPEND|os.O_CREATE, 0o644)
	if err != nil {
		return nil, 0, fmt.Errorf("open log: %w", err)
	}
	fmt.Fprintf(f, "--- devport %s: %s\n", time.Now().Format(time.RFC3339), command)
	off, err := f.Seek(0, io.SeekEnd)
	if err != nil {
		f.Close()
		return nil, 0, fmt.Errorf("open log: %w", err)
	}
	return f, off, nil
}

// logTail returns the last n non-empty lines written to path after offset.
// It is best effort: an unreadable log gives no lines.
func logTail(path string, offset int64, n int) []string {
	f, err := os.Open(path)
	if err != nil {
		return nil
	}
	defer f.Close()
	fi, err := f.Stat()
	if err != nil {
		return nil
	}
	start := max(offset, fi.Size()-tailBytes)
	if start >= fi.Size() {
		return nil
	}
	buf := make([]byte, fi.Size()-start)
	if _, err := f.ReadAt(buf, start); err != nil && err != io.EOF {
		return nil
	}
	if start > offset { // began mid-line: drop the partial first line
		if i := bytes.IndexByte(buf, '\n'); i >= 0 {
			buf = buf[i+1:]
		}
	}
	var lines []string
	for l := range strings.SplitSeq(string(buf), "\n") {
		if l = strings.TrimRight(l, "\r \t"); l != "" {
			lines = append(lines, l)
		}
	}
	if len(lines) <= n {
		return lines
	}
	tail := lines[len(lines)-n:]
	// A server that reports its own failure after the app's (gunicorn's
	// arbiter after a worker's ImportError) pushes the cause out of the
	// tail: keep the first exception line of the run in front of it.
	for _, l := range lines[:len(lines)-n] {
		if pyExceptionRe.MatchString(l) {
			return append([]string{l, "…"}, tail...)
		}
	}
	return tail
}

// pyExceptionRe is the last line of a Python traceback:
// "ModuleNotFoundError: No module named 'x'", "pkg.mod.SomeException: …".
var pyExceptionRe = regexp.MustCompile(`^([A-Za-z_]\w*\.)*[A-Za-z_]\w*(Error|Exception): `)
