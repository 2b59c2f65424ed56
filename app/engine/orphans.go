package engine

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"time"

	"github.com/devport/devport/stacks"
	"github.com/devport/devport/store"
)

// A killed engine must leave nothing running. Every backend process and
// hook runs under devport's supervisor (Options.Supervisor), which takes
// its whole tree down when the engine dies, SIGKILL included. Should the
// supervisors die with it (the whole tree killed at once), the process
// group of every backend is in the store: the next engine of this data
// folder ends what is left of them before it starts anything.

// SuperviseCommand is the hidden subcommand that runs the supervisor.
const SuperviseCommand = stacks.SuperviseCommand

// Supervise runs the supervisor (devport __supervise ARGS...) and returns
// its exit code.
func Supervise(args []string) int { return stacks.Supervise(args) }

// selfExe is this binary's path, links resolved (what devport setup
// grants), or "devport".
func selfExe() string {
	exe, err := os.Executable()
	if err != nil {
		return "devport"
	}
	if real, err := filepath.EvalSymlinks(exe); err == nil {
		return real
	}
	return exe
}

// SelfSupervisor is Options.Supervisor for the devport binary that runs
// now, or nil when it cannot find itself.
func SelfSupervisor() []string {
	exe, err := os.Executable()
	if err != nil {
		return nil
	}
	return []string{exe, SuperviseCommand}
}

// recordGroup stores the process group of a backend the process runtime
// just started, so that a later engine can end it should this one be
// killed. A container has none: the next engine adopts it or removes it
// (reconcileContainers).
func (m *Manager) recordGroup(ctx context.Context, project, service string, runner stacks.Runner) {
	pg, ok := runner.(interface{ ProcessGroup() (stacks.Group, bool) })
	if !ok {
		return
	}
	g, ok := pg.ProcessGroup()
	if !ok {
		return
	}
	b, err := json.Marshal(g)
	if err == nil {
		err = m.db.SetBackendGroup(context.WithoutCancel(ctx), store.BackendGroup{Project: project, Service: service, Data: string(b)})
	}
	if err != nil {
		m.log.Warn("record a backend's process group", "project", project, "service", service, "err", err)
	}
}

// forgetGroups forgets the process groups of project's backends once they
// are stopped.
func (m *Manager) forgetGroups(ctx context.Context, project string) {
	if err := m.db.DeleteBackendGroups(context.WithoutCancel(ctx), project); err != nil {
		m.log.Warn("forget the process groups", "project", project, "err", err)
	}
}

// killLeftovers ends what an earlier engine of this data folder left
// running (it was killed before it could stop its backends), then forgets
// their groups. It runs before this engine starts anything, so a restarted
// engine runs exactly one set of backends.
func (m *Manager) killLeftovers(ctx context.Context, out io.Writer) {
	rows, err := m.db.BackendGroups(ctx)
	if err != nil || len(rows) == 0 {
		return
	}
	groups := make([]stacks.Group, 0, len(rows))
	for _, r := range rows {
		var g stacks.Group
		if json.Unmarshal([]byte(r.Data), &g) == nil {
			groups = append(groups, g)
		}
	}
	ctx, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	n, err := stacks.KillGroups(ctx, groups)
	if n > 0 {
		fmt.Fprintf(out, "devport: ended %d backend processes an earlier engine left running\n", n)
		m.log.Warn("ended leftover backend processes", "count", n)
	}
	if err != nil {
		m.log.Warn("end leftover backend processes", "err", err)
		return // keep the records: the next start tries again
	}
	m.forgetGroups(ctx, "")
}
