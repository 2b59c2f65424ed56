package engine

import (
	"context"
	"fmt"

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
