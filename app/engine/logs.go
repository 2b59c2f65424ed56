package engine

import (
	"bytes"
	"context"
	"fmt"
	"os"

	"github.com/devport/devport/internal/stackdef"
)

// LogFiles are the log files of project name that `devport logs` shows:
// the proxy's access log when access is set, else the log of service (or
// of every service that runs something, when service is "").
func (m *Manager) LogFiles(ctx context.Context, name, service string, access bool) ([]string, error) {
	p, err := m.db.Project(ctx, name)
	if err != nil {
		return nil, err
	}
	if access {
		return []string{m.paths.AccessLog(p.Name)}, nil
	}
	var files []string
	for _, s := range p.Services {
		if stackdef.RunsNothing(s.Stack) || (service != "" && s.Name != service) {
			continue
		}
		files = append(files, m.paths.ServiceLog(p.Name, s.Name))
	}
	if len(files) == 0 {
		return nil, fmt.Errorf("%s has no service %q with a log; see devport ls", name, service)
	}
	return files, nil
}

// logTail is the last n lines of a log, "" when it cannot be read. A log
// is read from its last 64 KiB: a tail is what a failure shows.
func logTail(path string, n int) string {
	if path == "" {
		return ""
	}
	f, err := os.Open(path)
	if err != nil {
		return ""
	}
	defer f.Close()
	const window = 64 << 10
	fi, err := f.Stat()
	if err != nil {
		return ""
	}
	off := max(fi.Size()-window, 0)
	buf := make([]byte, fi.Size()-off)
	if _, err := f.ReadAt(buf, off); err != nil {
		return ""
	}
	lines := bytes.Split(bytes.TrimRight(buf, "\n"), []byte("\n"))
	if off > 0 && len(lines) > 1 {
		lines = lines[1:] // the first one is cut
	}
	if len(lines) > n {
		lines = lines[len(lines)-n:]
	}
	return string(bytes.Join(lines, []byte("\n")))
}
