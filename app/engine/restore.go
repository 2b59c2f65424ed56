package engine

import (
	"context"
	"errors"
	"fmt"
	"io"
	"slices"
	"strings"

	"github.com/devport/devport/store"
)

// Restore: the projects that run are recorded as they start and stop, so
// the next engine of this data folder starts them again, whether the last
// one quit or was killed (SIGKILL, a crash, a power cut). The record is
// one setting, settingRestore, a comma-separated list of project names
// (names have no commas: store.ValidateName). It changes:
//   - a start that reaches running adds the project;
//   - a stop the user asked for (devport stop, rm, rename, an idle parked
//     project) and a start that fails, or a crash loop given up on,
//     remove it;
//   - the engine quitting (StopAll) leaves it as it is: those projects
//     were running when devport quit.
//
// An engine started with Restore false (--no-restore) forgets the record
// instead: it starts with nothing running, and records from there.

// settingRestore holds the projects to start again (see above). It is not
// one of KnownSettings: devport config neither lists nor sets it.
const settingRestore = "engine.restore"

// recordRunning adds project name to the record, or takes it out. A
// failure to write it is logged: the project runs (or stops) all the
// same, and only the next launch's restore is wrong.
func (m *Manager) recordRunning(ctx context.Context, name string, running bool) {
	ctx = context.WithoutCancel(ctx) // a cancelled start still records its end
	m.restoreMu.Lock()
	defer m.restoreMu.Unlock()
	names, err := m.Restorable(ctx)
	if err != nil {
		m.log.Warn("restore: read what runs", "err", err)
		return
	}
	i, found := slices.BinarySearch(names, name)
	switch {
	case running && !found:
		names = slices.Insert(names, i, name)
	case !running && found:
		names = slices.Delete(names, i, i+1)
	default:
		return
	}
	if err := m.writeRestorable(ctx, names); err != nil {
		m.log.Warn("restore: record what runs", "project", name, "running", running, "err", err)
	}
}

func (m *Manager) writeRestorable(ctx context.Context, names []string) error {
	if len(names) == 0 {
		return m.db.DeleteSetting(ctx, settingRestore)
	}
	return m.db.SetSetting(ctx, settingRestore, strings.Join(names, ","))
}

// Restorable returns the projects recorded as running, sorted: what the
// next engine starts again.
func (m *Manager) Restorable(ctx context.Context) ([]string, error) {
	v, ok, err := m.db.Setting(ctx, settingRestore)
	if err != nil || !ok {
		return nil, err
	}
	var names []string
	for _, n := range strings.Split(v, ",") {
		if n = strings.TrimSpace(n); n != "" {
			names = append(names, n)
		}
	}
	slices.Sort(names)
	return slices.Compact(names), nil
}

// toRestore is what Serve starts again: the recorded projects that still
// exist, less those it starts anyway (ServeOptions.Start). Without
// o.Restore it forgets the record and returns nothing.
func (m *Manager) toRestore(ctx context.Context, o ServeOptions, out io.Writer) []string {
	if !o.Restore {
		m.restoreMu.Lock()
		defer m.restoreMu.Unlock()
		if err := m.writeRestorable(ctx, nil); err != nil {
			m.log.Warn("restore: forget what ran", "err", err)
		}
		return nil
	}
	names, err := m.Restorable(ctx)
	if err != nil {
		fmt.Fprintf(out, "devport: cannot tell what ran before (%v): nothing is started again\n", err)
		return nil
	}
	var restore []string
	for _, n := range names {
		if slices.Contains(o.Start, n) {
			continue
		}
		if _, err := m.db.Project(ctx, n); errors.Is(err, store.ErrNotFound) {
			m.recordRunning(ctx, n, false) // removed behind the engine's back
			continue
		}
		restore = append(restore, n)
	}
	return restore
}

// restore starts the projects that ran when the last engine stopped, each
// in the background (the Manager owns the goroutines: StopAll ends them),
// and says how each went. One that fails is failed like any start, and
// the engine serves on.
func (m *Manager) restore(names []string, out io.Writer) {
	if len(names) == 0 {
		return
	}
	fmt.Fprintf(out, "devport: starting again what ran when devport last stopped: %s (--no-restore skips this)\n", strings.Join(names, ", "))
	for _, name := range names {
		m.goBackground(func(ctx context.Context) {
			if err := m.Start(ctx, name); err != nil {
				if ctx.Err() == nil {
					fmt.Fprintf(out, "devport: %s did not start again: %s\n", name, firstLine(err.Error()))
				}
				return
			}
			fmt.Fprintf(out, "devport: %s is running at %s\n", name, m.siteURL(m.primaryDomain(ctx, name)))
		})
	}
}
