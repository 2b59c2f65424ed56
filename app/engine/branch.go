package engine

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"time"

	"github.com/fsnotify/fsnotify"

	"github.com/devport/devport/app/wire"
	"github.com/devport/devport/internal/stackdef"
	"github.com/devport/devport/stacks"
	"github.com/devport/devport/store"
)

// Databases that follow the git branch (devport.toml's [database]
// follow_git_branch, devport db NAME follow on): while such a project
// runs, a watcher reads .git/HEAD. On a checkout it snapshots each
// database under the branch it held (branch-OLD) and restores the new
// branch's snapshot (branch-NEW); a branch seen for the first time keeps
// what the database holds, a copy of the branch it came from. The branch
// the data belongs to is kept in a file, so a checkout made while the
// project was stopped is caught up at its next start.

// branchDebounce lets git finish writing HEAD (and a rebase pass through
// its branches) before the watcher reads it.
const branchDebounce = 300 * time.Millisecond

// branchFile remembers which branch the data of project's databases
// belongs to.
func (p Paths) branchFile(project string) string {
	return filepath.Join(p.Data, "snapshots", project, "branch")
}

// gitBranch reads the branch checked out in dir: "" for a folder that is
// no git work tree, and the commit for a detached HEAD.
func gitBranch(dir string) string {
	b, err := os.ReadFile(filepath.Join(dir, ".git", "HEAD"))
	if err != nil {
		return ""
	}
	head := strings.TrimSpace(string(b))
	if ref, ok := strings.CutPrefix(head, "ref: refs/heads/"); ok {
		return ref
	}
	return head
}

// branchTagRE is what a branch name keeps in a snapshot tag.
var branchTagRE = regexp.MustCompile(`[^A-Za-z0-9._-]+`)

// branchTag is the snapshot tag of a branch: feature/login is
// branch-feature_login.
func branchTag(branch string) string {
	t := "branch-" + branchTagRE.ReplaceAllString(branch, "_")
	if len(t) > 128 {
		t = t[:128]
	}
	return t
}

// followBranch starts the branch watcher of project name for run r, when
// the project follows its branch and has a database. It ends when r is no
// longer the project's run or the engine stops.
func (m *Manager) followBranch(p store.Project, r *run) {
	if !p.FollowBranch || p.Root == "" || !hasDatabase(p) {
		return
	}
	m.goBackground(func(ctx context.Context) { m.watchBranch(ctx, p.Name, p.Root, r) })
}

func hasDatabase(p store.Project) bool {
	for _, d := range p.Data {
		if stackdef.IsDatabase(d.Stack) {
			return true
		}
	}
	return false
}

// watchBranch is the watcher of one run: see followBranch.
func (m *Manager) watchBranch(ctx context.Context, name, root string, r *run) {
	m.syncBranch(ctx, name, root) // a checkout made while it was stopped
	w, err := fsnotify.NewWatcher()
	if err != nil {
		m.log.Warn("follow git branch: watcher", "project", name, "err", err)
		return
	}
	defer w.Close()
	// HEAD is replaced by a rename: watch its folder.
	if err := w.Add(filepath.Join(root, ".git")); err != nil {
		m.log.Warn("follow git branch: no .git folder to watch", "project", name, "err", err)
		return
	}
	debounce := time.NewTimer(time.Hour)
	debounce.Stop()
	alive := time.NewTicker(time.Second)
	defer alive.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case ev, ok := <-w.Events:
			if !ok {
				return
			}
			if filepath.Base(ev.Name) == "HEAD" {
				debounce.Reset(branchDebounce)
			}
		case <-w.Errors:
		case <-alive.C:
			m.mu.Lock()
			current := m.runs[name] == r
			m.mu.Unlock()
			if !current {
				return
			}
		case <-debounce.C:
			m.syncBranch(ctx, name, root)
		}
	}
}

// syncBranch brings the databases of project name in step with the
// branch checked out in root.
func (m *Manager) syncBranch(ctx context.Context, name, root string) {
	branch := gitBranch(root)
	if branch == "" {
		return
	}
	file := m.paths.branchFile(name)
	b, err := os.ReadFile(file)
	if errors.Is(err, fs.ErrNotExist) {
		_ = writeBranch(file, branch) // the data so far is this branch's
		return
	}
	old := strings.TrimSpace(string(b))
	if old == branch {
		return
	}
	release := m.holdRequests(name)
	msg, err := m.switchBranch(ctx, name, old, branch)
	release()
	if err != nil {
		m.log.Warn("follow git branch", "project", name, "from", old, "to", branch, "err", err)
		m.emit(wire.Event{Kind: wire.EventNotice, Project: name, Detail: "the databases did not follow the checkout of " + branch + ": " + err.Error()})
		return
	}
	if err := writeBranch(file, branch); err != nil {
		m.log.Warn("follow git branch: remember the branch", "project", name, "err", err)
	}
	m.log.Info("follow git branch", "project", name, "from", old, "to", branch, "did", msg)
	m.event(ctx, store.Event{Project: name, Kind: "branch", Detail: msg})
	m.emit(wire.Event{Kind: wire.EventNotice, Project: name, Detail: msg})
}

// holdRequests makes new requests to project name wait (the proxy holds
// them, as during a start) until release is called. Requests already at
// a backend finish on their own.
func (m *Manager) holdRequests(name string) (release func()) {
	m.mu.Lock()
	r := m.runs[name]
	if r == nil || r.hold != nil {
		m.mu.Unlock()
		return func() {}
	}
	g := newGate()
	r.hold = g
	m.mu.Unlock()
	m.publish()
	return func() {
		m.mu.Lock()
		r.hold = nil
		m.mu.Unlock()
		m.publish() // the route is up again; then the waiting requests go
		g.open()
	}
}

func writeBranch(file, branch string) error {
	if err := os.MkdirAll(filepath.Dir(file), 0o700); err != nil {
		return err
	}
	return os.WriteFile(file, []byte(branch+"\n"), 0o600)
}

// switchBranch snapshots every database of project name as branch old's,
// then restores branch next's snapshot where there is one; it says what
// it did.
func (m *Manager) switchBranch(ctx context.Context, name, old, next string) (string, error) {
	p, err := m.db.Project(ctx, name)
	if err != nil {
		return "", err
	}
	var did []string
	for _, d := range p.Data {
		if !stackdef.IsDatabase(d.Stack) {
			continue
		}
		err := m.withDatabase(ctx, name, d.Name, func(db stacks.Database, p store.Project, d store.DataService) error {
			dir := m.paths.Snapshots(p.Name, d.Name)
			if err := writeDump(ctx, db, filepath.Join(dir, branchTag(old)+snapshotExt)); err != nil {
				return fmt.Errorf("snapshot of %s for branch %s: %w", d.Name, old, err)
			}
			saved := filepath.Join(dir, branchTag(next)+snapshotExt)
			if _, err := os.Stat(saved); err != nil {
				did = append(did, fmt.Sprintf("%s: saved branch %s; %s is new, so it starts as a copy of %s", d.Name, old, next, old))
				return nil
			}
			if err := loadFile(ctx, db, saved, true); err != nil {
				// Put branch old's data back: the database must not stay half-loaded.
				if rerr := loadFile(context.WithoutCancel(ctx), db, filepath.Join(dir, branchTag(old)+snapshotExt), true); rerr != nil {
					err = errors.Join(err, fmt.Errorf("putting %s back: %w", old, rerr))
				}
				return fmt.Errorf("restore %s for branch %s: %w", d.Name, next, err)
			}
			did = append(did, fmt.Sprintf("%s: saved branch %s, restored branch %s", d.Name, old, next))
			return nil
		})
		if err != nil {
			return "", err
		}
	}
	return "databases follow " + next + " (" + strings.Join(did, "; ") + ")", nil
}

// SetFollowBranch turns branch following of project name's databases on
// or off; a running project starts or ends its watcher at its next start.
func (m *Manager) SetFollowBranch(ctx context.Context, name string, on bool) error {
	p, err := m.db.Project(ctx, name)
	if err != nil {
		return err
	}
	if on && gitBranch(p.Root) == "" {
		return &store.ValidationError{Field: "follow", Value: p.Root, Reason: "is not a git work tree (no .git/HEAD)",
			Fix: "run git init there first, or leave branch following off"}
	}
	if err := m.db.SetFollowBranch(ctx, name, on); err != nil {
		return err
	}
	p.FollowBranch = on
	m.mu.Lock()
	r := m.runs[name]
	m.mu.Unlock()
	if on && r != nil && r.state == wire.StateRunning {
		m.followBranch(p, r)
	}
	m.emit(wire.Event{Kind: wire.EventAdded, Project: name})
	return nil
}
