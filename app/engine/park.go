package engine

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"maps"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"

	"github.com/devport/devport/app/wire"
	"github.com/devport/devport/manifest"
	"github.com/devport/devport/stacks"
	"github.com/devport/devport/store"
)

// Parked folders (devport park DIR, Herd's and Valet's park): every
// subfolder of a parked folder is a project at SUBFOLDER.test, planned as
// devport add plans it (planAdd: the folder's devport.toml, the split
// shape, or the detected stack) and stored with a note of the folder it
// came from (store.AddParkedProject). While the engine serves, each parked
// folder is watched (park_watch.go): a folder created in it becomes a
// project at once, a folder removed from it takes its project with it.
// Parked projects start on the first request to their domain (the route's
// Wake, below) and stop after park.idle_timeout without one
// (park_idle.go), so a folder of 30 projects costs nothing until one is
// opened. A subfolder that cannot be a project (nothing detected, a name
// or domain another project has) is skipped with one line saying why,
// never failing the rest.

// parking is the Manager's state of the parked folders.
type parking struct {
	// mu serialises Park, Unpark and every scan of a parked folder, so
	// two never add or remove the same subfolder's project.
	mu sync.Mutex

	stateMu sync.Mutex
	// watches are the folders watched now, each with the channel that
	// stops its watcher.
	watches map[string]chan struct{}
	// gone are the parked folders that vanished: their projects are
	// stopped and wake no more until the folder is back.
	gone map[string]bool
}

// goneDirs returns a copy of the folders that vanished.
func (pk *parking) goneDirs() map[string]bool {
	pk.stateMu.Lock()
	defer pk.stateMu.Unlock()
	out := make(map[string]bool, len(pk.gone))
	for d := range pk.gone {
		out[d] = true
	}
	return out
}

// setGone records whether dir is gone and reports whether that changed.
func (pk *parking) setGone(dir string, gone bool) bool {
	pk.stateMu.Lock()
	defer pk.stateMu.Unlock()
	if pk.gone[dir] == gone {
		return false
	}
	if gone {
		if pk.gone == nil {
			pk.gone = map[string]bool{}
		}
		pk.gone[dir] = true
	} else {
		delete(pk.gone, dir)
	}
	return true
}

// parkPath is dir as parked folders are stored: absolute and clean.
func parkPath(dir string) (string, error) {
	if dir == "" {
		return "", &store.ValidationError{Field: "folder", Reason: "missing", Fix: "name the folder that holds your projects: devport park DIR"}
	}
	abs, err := filepath.Abs(dir)
	if err != nil {
		return "", fmt.Errorf("folder %q: %w", dir, err)
	}
	return filepath.Clean(abs), nil
}

// Park makes every subfolder of dir a project (see the top of this file)
// and, while the engine serves, watches dir for more. Parking a folder
// again looks at it again. It returns what it did, one line per project
// added and per subfolder skipped.
func (m *Manager) Park(ctx context.Context, dir string) (wire.ParkReport, error) {
	abs, err := parkPath(dir)
	if err != nil {
		return wire.ParkReport{}, err
	}
	if fi, err := os.Stat(abs); err != nil || !fi.IsDir() {
		return wire.ParkReport{}, &store.ValidationError{Field: "folder", Value: dir,
			Reason: "does not exist or is not a folder", Fix: "name the folder that holds your projects"}
	}
	if what := projectIn(abs); what != "" {
		return wire.ParkReport{}, &store.ValidationError{Field: "folder", Value: dir,
			Reason: "is a project itself (" + what + "), not a folder of projects",
			Fix:    "park the folder that holds your projects, or add this one with devport add " + abs}
	}
	m.park.mu.Lock()
	defer m.park.mu.Unlock()
	added, err := m.db.Park(ctx, abs)
	if err != nil {
		return wire.ParkReport{}, err
	}
	rep := wire.ParkReport{Dir: abs}
	if !added {
		rep.Lines = append(rep.Lines, abs+" is parked already: looked at it again")
	} else {
		m.event(ctx, store.Event{Kind: "parked", Detail: abs})
	}
	lines, _ := m.scanParked(ctx, abs)
	rep.Lines = append(rep.Lines, lines...)
	if m.watchParked(abs) {
		rep.Lines = append(rep.Lines, "each project starts on its first request and stops when idle; folders created in "+abs+" become projects at once")
	} else {
		rep.Lines = append(rep.Lines, "no engine runs now: once one does (devport serve --headless, or the window), each project starts on its first request, and "+abs+" is watched for new folders")
	}
	return rep, nil
}

// projectIn says what makes dir a project itself ("" when nothing does):
// parking it would make its subfolders (public/, api/) projects.
func projectIn(dir string) string {
	if _, err := os.Stat(filepath.Join(dir, manifest.FileName)); err == nil {
		return "it has a " + manifest.FileName
	}
	if d, err := stacks.Detect(dir); err == nil && !appInSubproject(dir, d.App) {
		return d.Stack + " detected"
	}
	return ""
}

// projectFiles are the files that make a folder a Python project even when
// its app sits one package deeper.
var projectFiles = []string{"requirements.txt", "pyproject.toml", "setup.py", "setup.cfg", "Pipfile", "uv.lock", "poetry.lock", "manage.py"}

// appInSubproject reports whether the app Detect found one package deeper
// (api.main:app) belongs to a subfolder that is a project on its own: api/
// is no package (no __init__.py), detection finds a project in it, and the
// folder itself declares nothing. Such a folder holds projects (sites/api,
// sites/shop) rather than being one.
func appInSubproject(dir, app string) bool {
	pkg, _, dotted := strings.Cut(strings.SplitN(app, ":", 2)[0], ".")
	if !dotted || pkg == "" {
		return false
	}
	sub := filepath.Join(dir, pkg)
	if _, err := os.Stat(filepath.Join(sub, "__init__.py")); err == nil {
		return false
	}
	for _, f := range projectFiles {
		if _, err := os.Stat(filepath.Join(dir, f)); err == nil {
			return false
		}
	}
	_, err := stacks.Detect(sub)
	return err == nil
}

// Unpark stops and removes the projects of a parked folder, stops watching
// it and forgets it; the folders themselves are untouched. A folder that is
// gone can be unparked too.
func (m *Manager) Unpark(ctx context.Context, dir string) (wire.ParkReport, error) {
	abs, err := parkPath(dir)
	if err != nil {
		return wire.ParkReport{}, err
	}
	m.park.mu.Lock()
	defer m.park.mu.Unlock()
	dirs, err := m.db.ParkedDirs(ctx)
	if err != nil {
		return wire.ParkReport{}, err
	}
	i := slices.IndexFunc(dirs, func(d store.ParkedDir) bool { return d.Path == abs })
	if i < 0 {
		fix := "no folder is parked"
		if len(dirs) > 0 {
			fix = "devport parked lists the parked folders"
		}
		return wire.ParkReport{}, &store.ValidationError{Field: "folder", Value: dir, Reason: "is not a parked folder", Fix: fix}
	}
	m.unwatchParked(abs)
	rep := wire.ParkReport{Dir: abs}
	defer m.syncHosts(ctx) // once for every project removed
	for _, name := range dirs[i].Projects {
		if err := m.remove(ctx, name); err != nil && !errors.Is(err, store.ErrNotFound) {
			m.watchParked(abs) // still parked: still watched
			return rep, fmt.Errorf("unpark %s: remove %s: %w; the folder stays parked: run devport unpark %s again", abs, name, err, abs)
		}
		rep.Lines = append(rep.Lines, "removed "+name)
	}
	if err := m.db.Unpark(ctx, abs); err != nil {
		return rep, err
	}
	m.park.setGone(abs, false)
	m.event(ctx, store.Event{Kind: "unparked", Detail: abs})
	rep.Lines = append(rep.Lines, "unparked "+abs+" (its folders are untouched)")
	return rep, nil
}

// Parked lists the parked folders with their projects. A folder is
// missing when it is not there, or when the engine has not seen it back
// yet (its projects wake once it has); a scan in progress finishes first.
func (m *Manager) Parked(ctx context.Context) ([]wire.ParkedFolder, error) {
	m.park.mu.Lock()
	defer m.park.mu.Unlock()
	dirs, err := m.db.ParkedDirs(ctx)
	if err != nil {
		return nil, err
	}
	gone := m.park.goneDirs()
	out := make([]wire.ParkedFolder, 0, len(dirs))
	for _, d := range dirs {
		out = append(out, wire.ParkedFolder{Dir: d.Path, Projects: d.Projects, Missing: gone[d.Path] || !isDir(d.Path)})
	}
	return out, nil
}

// parkedDir is the parked folder project name came from, if any.
func (m *Manager) parkedDir(ctx context.Context, name string) (string, bool) {
	parked, err := m.db.ParkedProjects(ctx)
	if err != nil {
		return "", false
	}
	dir, ok := parked[name]
	return dir, ok
}

// refuseParked refuses to remove a project of a parked folder: the next
// look at the folder would add it again.
func (m *Manager) refuseParked(ctx context.Context, name string) error {
	dir, ok := m.parkedDir(ctx, name)
	if !ok {
		return nil
	}
	return &store.ValidationError{Field: "name", Value: name,
		Reason: "its folder is in the parked folder " + dir + ", which would add it again",
		Fix:    "move its folder out of " + dir + ", or devport unpark " + dir}
}

// scanParked brings the projects of the parked folder dir in line with its
// subfolders: a subfolder without a project becomes one (or is skipped,
// with the reason), a project whose subfolder is gone is removed, and a
// dir that vanished has its projects stopped (parkedGone). It returns a
// line per change and per skipped subfolder, and the subfolders that are
// no project yet (the watcher watches them for the files that make them
// one). The caller holds m.park.mu.
func (m *Manager) scanParked(ctx context.Context, dir string) (lines, waiting []string) {
	changed := false
	defer func() {
		if changed {
			m.syncHosts(ctx) // once for every project added or removed
		}
	}()
	entries, err := os.ReadDir(dir)
	if err != nil {
		if fi, serr := os.Stat(dir); serr != nil || !fi.IsDir() {
			return m.parkedGone(ctx, dir), nil
		}
		return []string{fmt.Sprintf("cannot read %s: %v", dir, err)}, nil
	}
	if m.park.setGone(dir, false) {
		m.publish() // it is back: its projects wake again
	}
	ps, err := m.db.Projects(ctx)
	if err != nil {
		return []string{fmt.Sprintf("cannot read the projects: %v", err)}, nil
	}
	parked, err := m.db.ParkedProjects(ctx)
	if err != nil {
		return []string{fmt.Sprintf("cannot read the parked projects: %v", err)}, nil
	}
	subs := map[string]bool{}
	for _, e := range entries {
		if strings.HasPrefix(e.Name(), ".") {
			continue // .git, .cache: never a site
		}
		sub := filepath.Join(dir, e.Name())
		if fi, err := os.Stat(sub); err == nil && fi.IsDir() { // a symlinked folder counts
			subs[sub] = true
		}
	}
	// Projects whose folder went away go with it.
	kept := ps[:0:0]
	for _, p := range ps {
		if parked[p.Name] != dir || subs[p.Root] {
			kept = append(kept, p)
			continue
		}
		if err := m.remove(ctx, p.Name); err != nil && !errors.Is(err, store.ErrNotFound) {
			lines = append(lines, fmt.Sprintf("could not remove %s, whose folder %s is gone: %v", p.Name, p.Root, err))
			kept = append(kept, p)
			continue
		}
		changed = true
		lines = append(lines, fmt.Sprintf("removed %s: its folder %s is gone", p.Name, p.Root))
	}
	ps = kept
	owner := map[string]string{} // folder: project
	for _, p := range ps {
		if p.Root != "" {
			owner[p.Root] = p.Name
		}
	}
	for _, sub := range slices.Sorted(maps.Keys(subs)) {
		if name, ok := owner[sub]; ok {
			if parked[name] != dir {
				lines = append(lines, fmt.Sprintf("skipped %s: it is project %s already", filepath.Base(sub), name))
			}
			continue
		}
		line, ok := m.parkFolder(ctx, dir, sub, &ps, parked)
		lines = append(lines, line)
		changed = changed || ok
		if !ok {
			waiting = append(waiting, sub)
		}
	}
	return lines, waiting
}

// parkFolder adds the subfolder sub of the parked folder dir as a project,
// as devport add would, and appends it to ps. ok is false when it was
// skipped; the line says what happened either way.
func (m *Manager) parkFolder(ctx context.Context, dir, sub string, ps *[]store.Project, parked map[string]string) (line string, ok bool) {
	base := filepath.Base(sub)
	if _, err := os.Stat(filepath.Join(sub, manifest.FileName)); errors.Is(err, fs.ErrNotExist) {
		if _, err := stacks.Detect(sub); errors.Is(err, stacks.ErrNotDetected) {
			return fmt.Sprintf("skipped %s: nothing to run in it (no index.php, composer.json, Python app or index.html); "+
				"add it by hand with devport add %s --stack …", base, sub), false
		}
	}
	p, routes, err := m.planAdd(ctx, wire.AddRequest{Dir: sub})
	if err != nil {
		return fmt.Sprintf("skipped %s: %s", base, firstLine(err.Error())), false
	}
	if why := parkClash(p, *ps, parked, sub); why != "" {
		return "skipped " + base + ": " + why, false
	}
	p, err = m.storePlanned(ctx, p, routes, dir)
	if err != nil {
		return fmt.Sprintf("skipped %s: %s", base, firstLine(err.Error())), false
	}
	*ps = append(*ps, p)
	parked[p.Name] = dir
	var stacks []string
	for _, s := range p.Services {
		stacks = append(stacks, s.Stack)
	}
	return fmt.Sprintf("added %s at %s (%s)", p.Name, m.siteURL(p.Domains[0]), strings.Join(stacks, "+")), true
}

// parkClash says which project already has p's name or one of its
// domains, "" when none: a parked folder's subfolder never takes what
// another project has, whether that one was added by hand or is the
// subfolder of the same name in another parked folder.
func parkClash(p store.Project, ps []store.Project, parked map[string]string, sub string) string {
	for _, q := range ps {
		taken := ""
		if q.Name == p.Name {
			taken = "the name " + p.Name
		} else {
			for _, d := range p.Domains {
				if slices.ContainsFunc(q.Domains, func(o string) bool { return strings.EqualFold(o, d) }) {
					taken = d
					break
				}
			}
		}
		if taken == "" {
			continue
		}
		owner := "project " + q.Name
		switch {
		case parked[q.Name] != "":
			owner += " (" + q.Root + ", parked in " + parked[q.Name] + ")"
		case q.Root != "":
			owner += " (" + q.Root + ")"
		}
		return fmt.Sprintf("%s is taken by %s; rename one of the folders, or add this one under another name: devport add %s --name NAME",
			taken, owner, sub)
	}
	return ""
}

// parkedGone handles a parked folder that vanished (unmounted, renamed,
// deleted): its projects are stopped, not removed, and wake no more until
// it is back. Removing them would lose their settings and routes (devport
// set, devport route) to a disk that is only unmounted; and that is the
// system as it was, waiting: the watcher looks for the folder, and when it
// is back, a scan brings its projects in line with it. devport unpark
// forgets them. It returns a line per project stopped and one that says
// so, the first time only.
func (m *Manager) parkedGone(ctx context.Context, dir string) []string {
	if !m.park.setGone(dir, true) {
		return nil
	}
	parked, err := m.db.ParkedProjects(ctx)
	if err != nil {
		return []string{fmt.Sprintf("%s is gone, and its projects cannot be read: %v", dir, err)}
	}
	var names []string
	for name, d := range parked {
		if d == dir {
			names = append(names, name)
		}
	}
	slices.Sort(names)
	var lines []string
	for _, name := range names {
		m.mu.Lock()
		running := m.runs[name] != nil
		m.mu.Unlock()
		if !running {
			continue
		}
		if err := m.Stop(ctx, name); err != nil && !errors.Is(err, ErrNotRunning) {
			lines = append(lines, fmt.Sprintf("could not stop %s: %v", name, err))
			continue
		}
		lines = append(lines, "stopped "+name+": its folder is gone")
	}
	msg := fmt.Sprintf("parked folder %s is gone: its %d projects are stopped and come back when it does; devport unpark %s forgets them",
		dir, len(names), dir)
	lines = append(lines, msg)
	m.log.Warn("parked folder gone", "dir", dir, "projects", len(names))
	m.event(ctx, store.Event{Kind: "parked-gone", Detail: dir})
	m.emit(wire.Event{Kind: wire.EventWarning, Detail: msg})
	m.publish() // its routes wake no more
	return lines
}

// waker is the Wake of a parked project's routes (routes.go).
func (m *Manager) waker(name string) func() <-chan struct{} {
	return func() <-chan struct{} { return m.wake(name) }
}

// closedGate is the channel of a wake that needs no start: the request
// matches again at once.
var closedGate = func() chan struct{} { ch := make(chan struct{}); close(ch); return ch }()

// wake starts a parked project for the request that asks for it, once:
// the proxy calls it on the request's goroutine for a route that is down
// (proxy.Route.Wake), and holds the request on the channel it returns.
// The project becomes starting at once (the gate serve --start uses, which
// Manager.start takes over), and the start runs in the background; every
// other request that asks meanwhile gets the same gate.
func (m *Manager) wake(name string) <-chan struct{} {
	m.mu.Lock()
	r := m.runs[name]
	if r != nil {
		switch r.state {
		case wire.StateStarting, wire.StateCrashed: // a start is under way: wait for it
			ch := r.ready.ch
			m.mu.Unlock()
			return ch
		case wire.StateRunning: // the table is older than the start: match again
			m.mu.Unlock()
			return closedGate
		}
		// Stopping (idle, or the user's stop) or failed: start it again.
		// A stop in progress finishes first (the project's lock).
	}
	r = &run{state: wire.StateStarting, ready: newGate()}
	m.runs[name] = r
	m.mu.Unlock()
	if !m.goBackground(func(ctx context.Context) { m.wakeStart(ctx, name, r) }) {
		m.dropPlaceholder(name, r) // not serving: nothing can start
		return nil
	}
	return r.ready.ch
}

// wakeStart is the start wake asked for.
func (m *Manager) wakeStart(ctx context.Context, name string, r *run) {
	m.log.Info("starting a parked project for its first request", "project", name)
	m.publish() // its routes wait on r's gate
	m.stateEvent(name, wire.StateStarting, "")
	if err := m.start(ctx, name, userStart); err != nil {
		m.log.Warn("start parked project", "project", name, "err", err)
	}
	m.dropPlaceholder(name, r)
}

// dropPlaceholder removes the starting run r of project name when no start
// took it over (the engine stopped, the project was removed), so requests
// held on it go on and the project shows stopped.
func (m *Manager) dropPlaceholder(name string, r *run) {
	m.mu.Lock()
	stale := m.runs[name] == r && r.services == nil
	if stale {
		delete(m.runs, name)
	}
	m.mu.Unlock()
	if stale {
		r.settle()
		m.publish()
		m.stateEvent(name, wire.StateStopped, "")
	}
}
