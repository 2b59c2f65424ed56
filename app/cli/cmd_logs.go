package cli

import (
	"bufio"
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"io/fs"
	"os"
	"time"
)

func (c *CLI) logs(ctx context.Context, args []string) error {
	fs := flag.NewFlagSet("logs", flag.ContinueOnError)
	service := fs.String("service", "", "only this service")
	access := fs.Bool("access", false, "the proxy's access log of the project (one JSON line per request)")
	lines := fs.Int("n", 50, "how many lines to show from the end of each log")
	follow := fs.Bool("f", false, "keep printing new lines until Ctrl-C")
	pos, err := c.flags(fs, args)
	if err != nil {
		return err
	}
	name, err := oneName("logs", pos)
	if err != nil {
		return err
	}
	m, err := c.manager(ctx)
	if err != nil {
		return err
	}
	files, err := m.LogFiles(ctx, name, *service, *access)
	m.Close()
	if err != nil {
		return err
	}
	offsets := make([]int64, len(files))
	for i, f := range files {
		if len(files) > 1 {
			fmt.Fprintf(c.Stdout, "==> %s <==\n", f)
		}
		if offsets[i], err = tail(c.Stdout, f, *lines); err != nil {
			return err
		}
	}
	if !*follow {
		return nil
	}
	tick := time.NewTicker(250 * time.Millisecond)
	defer tick.Stop()
	for {
		select {
		case <-ctx.Done():
			return nil
		case <-tick.C:
		}
		for i, f := range files {
			if offsets[i], err = copyFrom(c.Stdout, f, offsets[i]); err != nil {
				return err
			}
		}
	}
}

// tail writes the last n lines of a log and returns its size. A log that
// does not exist yet (the service never started) prints nothing.
func tail(w io.Writer, path string, n int) (int64, error) {
	f, err := os.Open(path)
	if errors.Is(err, fs.ErrNotExist) {
		return 0, nil
	}
	if err != nil {
		return 0, err
	}
	defer f.Close()
	ring := make([]string, 0, n)
	sc := bufio.NewScanner(f)
	sc.Buffer(make([]byte, 64*1024), 1024*1024)
	for sc.Scan() {
		if n == 0 {
			continue
		}
		if len(ring) == n {
			ring = ring[1:]
		}
		ring = append(ring, sc.Text())
	}
	if err := sc.Err(); err != nil {
		return 0, fmt.Errorf("read %s: %w", path, err)
	}
	for _, l := range ring {
		fmt.Fprintln(w, l)
	}
	return f.Seek(0, io.SeekCurrent)
}

// copyFrom writes what was appended to a log since off. A log that shrank
// was rotated or cleared, so it starts again from the top.
func copyFrom(w io.Writer, path string, off int64) (int64, error) {
	f, err := os.Open(path)
	if errors.Is(err, fs.ErrNotExist) {
		return 0, nil
	}
	if err != nil {
		return off, err
	}
	defer f.Close()
	if fi, err := f.Stat(); err == nil && fi.Size() < off {
		off = 0
	}
	if _, err := f.Seek(off, io.SeekStart); err != nil {
		return off, err
	}
	n, err := io.Copy(w, f)
	return off + n, err
}
