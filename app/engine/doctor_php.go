package engine

import (
	"cmp"
	"context"

	"github.com/devport/devport/app/wire"
	"github.com/devport/devport/internal/stackdef"
	"github.com/devport/devport/stacks"
	"github.com/devport/devport/store"
)

// checkXdebug says, for each project with a php service that runs as a
// process, whether Xdebug is installed for the PHP it runs: a failure when
// the project has Xdebug on, a tip otherwise (devport xdebug needs it).
// Containers carry their own PHP: their image decides, and devport xdebug
// NAME on asks a running one.
func (m *Manager) checkXdebugInstalled(ctx context.Context, ps []store.Project) []Check {
	var out []Check
	type answer struct {
		version string
		has     bool
	}
	asked := map[string]answer{} // by the version asked for
	for _, p := range ps {
		s, err := phpServiceOf(p, "")
		if err != nil || cmp.Or(s.Runtime, wire.RuntimeProcess) != wire.RuntimeProcess || s.Stack != stackdef.PHP {
			continue
		}
		want := m.processPHP(ctx, p, s)
		a, ok := asked[want]
		if !ok {
			version, has, err := hostXdebug(ctx, want)
			if err != nil {
				continue // the stack check reports a missing PHP
			}
			a = answer{version, has}
			asked[want] = a
		}
		version, has := a.version, a.has
		c := Check{Name: "xdebug (" + p.Name + ")", OK: true}
		switch {
		case has && p.Xdebug:
			c.Detail = "installed for PHP " + version + ", and loaded (devport xdebug " + p.Name + " off leaves it out)"
		case has:
			c.Detail = "installed for PHP " + version + ", not loaded until devport xdebug " + p.Name + " on"
		case p.Xdebug:
			c.OK, c.Detail = false, "on, but not installed for PHP "+version+": the project does not start"
			c.Fix = stacks.XdebugFix(want) + " (or devport xdebug " + p.Name + " off)"
		default:
			c.Detail = "not installed for PHP " + version + "; only devport xdebug needs it"
			c.Fix = stacks.XdebugFix(want)
		}
		out = append(out, c)
	}
	return out
}
