package engine

import (
	"bufio"
	"compress/gzip"
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"time"

	"github.com/devport/devport/app/wire"
	"github.com/devport/devport/internal/stackdef"
	"github.com/devport/devport/stacks"
	"github.com/devport/devport/store"
)

// This file holds the snapshots of a project's database: consistent
// dumps (mariadb-dump --single-transaction, pg_dump), gzipped under the
// data dir, listed with size and age; restores, imports and exports of
// them. A restore or an import first dumps the database as it is, and puts
// that back when the new content fails to load: no error path loses data.

// Snapshots is the folder of the snapshots of one data service.
func (p Paths) Snapshots(project, service string) string {
	return filepath.Join(p.Data, "snapshots", project, service)
}

// tagRE is a snapshot tag: it names a file, so no slash and no dot first.
var tagRE = regexp.MustCompile(`^[A-Za-z0-9_][A-Za-z0-9._-]{0,127}$`)

// snapshotExt is the snapshots' file extension.
const snapshotExt = ".sql.gz"

// checkTag validates a snapshot tag given by a user.
func checkTag(tag string) error {
	if !tagRE.MatchString(tag) {
		return &store.ValidationError{Field: "tag", Value: tag, Reason: "is not a snapshot tag",
			Fix: "use letters, digits, dots, hyphens and underscores, e.g. before-migration"}
	}
	return nil
}

// databaseOf is the database service of p called service, or its only
// (first) one when service is "".
func databaseOf(p store.Project, service string) (store.DataService, error) {
	for _, d := range p.Data {
		if stackdef.IsDatabase(d.Stack) && (service == "" || d.Name == service) {
			return d, nil
		}
	}
	if service != "" {
		return store.DataService{}, &store.ValidationError{Field: "service", Value: service,
			Reason: "project " + p.Name + " has no database of that name", Fix: "see devport service " + p.Name + " ls"}
	}
	return store.DataService{}, &store.ValidationError{Field: "service", Reason: "project " + p.Name + " has no database",
		Fix: "add one: devport service " + p.Name + " add db --stack mariadb"}
}

// withDatabase runs fn on the database service of project name: the
// running one when the project runs, else one started for fn alone and
// stopped after it.
func (m *Manager) withDatabase(ctx context.Context, name, service string, fn func(stacks.Database, store.Project, store.DataService) error) error {
	p, err := m.db.Project(ctx, name)
	if err != nil {
		return err
	}
	d, err := databaseOf(p, service)
	if err != nil {
		return err
	}
	m.mu.Lock()
	var runner stacks.Runner
	if r := m.runs[name]; r != nil && r.state == wire.StateRunning && r.services[d.Name] != nil {
		runner = r.services[d.Name].runner
	}
	m.mu.Unlock()
	if runner == nil {
		l := m.lock(name) // no start of the project meanwhile
		l.Lock()
		defer l.Unlock()
		if runner, err = m.dataRunner(ctx, p, d); err != nil {
			return fmt.Errorf("%s/%s: %w", name, d.Name, err)
		}
		if _, err := runner.Start(ctx); err != nil {
			_ = runner.Stop(context.WithoutCancel(ctx))
			return err
		}
		defer runner.Stop(context.WithoutCancel(ctx))
	}
	db, ok := runner.(stacks.Database)
	if !ok {
		return fmt.Errorf("%s/%s: the %s runner cannot dump", name, d.Name, d.Stack)
	}
	return fn(db, p, d)
}

// Snapshot dumps the database of project name (service: "" for its only
// one) into a snapshot called tag ("" for the time now) and returns it.
func (m *Manager) Snapshot(ctx context.Context, name, service, tag string) (wire.Snapshot, error) {
	if tag == "" {
		tag = time.Now().Format("20060102-150405")
	}
	if err := checkTag(tag); err != nil {
		return wire.Snapshot{}, err
	}
	var snap wire.Snapshot
	err := m.withDatabase(ctx, name, service, func(db stacks.Database, p store.Project, d store.DataService) error {
		path := filepath.Join(m.paths.Snapshots(p.Name, d.Name), tag+snapshotExt)
		if err := writeDump(ctx, db, path); err != nil {
			return fmt.Errorf("snapshot %s/%s: %w", p.Name, d.Name, err)
		}
		snap = snapshotOf(d.Name, path)
		return nil
	})
	if err == nil {
		m.event(ctx, store.Event{Project: name, Service: snap.Service, Kind: "snapshot", Detail: snap.Tag})
	}
	return snap, err
}

// writeDump writes a dump of db to path (gzipped when path ends in .gz), through a temporary file
// renamed into place once complete: a failed dump leaves the old
// snapshot of that tag as it was.
func writeDump(ctx context.Context, db stacks.Database, path string) error {
	if err := os.MkdirAll(filepath.Dir(path), 0o700); err != nil {
		return err
	}
	f, err := os.CreateTemp(filepath.Dir(path), ".dump-*")
	if err != nil {
		return err
	}
	defer os.Remove(f.Name()) // a no-op after the rename
	defer f.Close()
	if strings.HasSuffix(path, ".gz") {
		zw := gzip.NewWriter(f)
		if err := db.Dump(ctx, zw); err != nil {
			return err
		}
		if err := zw.Close(); err != nil {
			return err
		}
	} else if err := db.Dump(ctx, f); err != nil {
		return err
	}
	if err := f.Sync(); err != nil {
		return err
	}
	if err := f.Close(); err != nil {
		return err
	}
	return os.Rename(f.Name(), path)
}

func snapshotOf(service, path string) wire.Snapshot {
	s := wire.Snapshot{Service: service, Tag: strings.TrimSuffix(filepath.Base(path), snapshotExt), Path: path}
	if fi, err := os.Stat(path); err == nil {
		s.Size, s.Time = fi.Size(), fi.ModTime()
	}
	return s
}

// Snapshots lists the snapshots of project name's databases, newest
// first.
func (m *Manager) Snapshots(ctx context.Context, name string) ([]wire.Snapshot, error) {
	p, err := m.db.Project(ctx, name)
	if err != nil {
		return nil, err
	}
	var out []wire.Snapshot
	for _, d := range p.Data {
		if !stackdef.IsDatabase(d.Stack) {
			continue
		}
		files, _ := filepath.Glob(filepath.Join(m.paths.Snapshots(p.Name, d.Name), "*"+snapshotExt))
		for _, f := range files {
			out = append(out, snapshotOf(d.Name, f))
		}
	}
	slices.SortFunc(out, func(a, b wire.Snapshot) int { return b.Time.Compare(a.Time) })
	return out, nil
}

// Restore loads the snapshot tag into the database of project name.
func (m *Manager) Restore(ctx context.Context, name, service, tag string) error {
	if err := checkTag(tag); err != nil {
		return err
	}
	p, err := m.db.Project(ctx, name)
	if err != nil {
		return err
	}
	d, err := databaseOf(p, service)
	if err != nil {
		return err
	}
	path := filepath.Join(m.paths.Snapshots(p.Name, d.Name), tag+snapshotExt)
	if _, err := os.Stat(path); errors.Is(err, fs.ErrNotExist) {
		return &store.ValidationError{Field: "tag", Value: tag, Reason: "is not a snapshot of " + name + "/" + d.Name,
			Fix: "see devport db " + name + " snapshots"}
	}
	err = m.Import(ctx, name, d.Name, path)
	if err == nil {
		m.event(ctx, store.Event{Project: name, Service: d.Name, Kind: "restore", Detail: tag})
	}
	return err
}

// Import loads a dump file (.sql, or .sql.gz) into the database of
// project name, replacing what it holds. The file is read through once
// before the database is touched (a corrupt gzip stops there), and the
// database's content is dumped first and put back when the load fails.
func (m *Manager) Import(ctx context.Context, name, service, file string) error {
	sql, err := readDumpFile(file)
	if err != nil {
		return err
	}
	defer os.Remove(sql)
	return m.withDatabase(ctx, name, service, func(db stacks.Database, p store.Project, d store.DataService) error {
		safety := filepath.Join(m.paths.Snapshots(p.Name, d.Name), "before-import"+snapshotExt)
		if err := writeDump(ctx, db, safety); err != nil {
			return fmt.Errorf("import into %s/%s: a dump of what it holds now failed, so nothing was changed: %w", p.Name, d.Name, err)
		}
		err := loadFile(ctx, db, sql, false)
		if err == nil {
			return nil
		}
		if rerr := loadFile(context.WithoutCancel(ctx), db, safety, true); rerr != nil {
			return fmt.Errorf("import into %s/%s: %w; putting its data back failed too (%v): it is in %s", p.Name, d.Name, err, rerr, safety)
		}
		return fmt.Errorf("import into %s/%s: %w; its data is as it was", p.Name, d.Name, err)
	})
}

// readDumpFile checks a dump file and returns a temporary plain-SQL copy
// of it: gzip is recognised by its magic bytes, and a gzip that does not
// decompress to its end is refused.
func readDumpFile(file string) (string, error) {
	in, err := os.Open(file)
	if err != nil {
		return "", &store.ValidationError{Field: "file", Value: file, Reason: "cannot be read: " + unwrapPath(err),
			Fix: "pass a .sql or .sql.gz file"}
	}
	defer in.Close()
	br := bufio.NewReader(in)
	var r io.Reader = br
	if magic, _ := br.Peek(2); len(magic) == 2 && magic[0] == 0x1f && magic[1] == 0x8b {
		zr, err := gzip.NewReader(br)
		if err != nil {
			return "", &store.ValidationError{Field: "file", Value: file, Reason: "is not a valid gzip file: " + err.Error(), Fix: "pass a .sql or .sql.gz file"}
		}
		r = zr
	}
	out, err := os.CreateTemp("", "devport-import-*.sql")
	if err != nil {
		return "", err
	}
	if _, err := io.Copy(out, r); err != nil {
		out.Close()
		os.Remove(out.Name())
		return "", &store.ValidationError{Field: "file", Value: file, Reason: "is corrupt: " + err.Error(), Fix: "pass a complete .sql or .sql.gz file"}
	}
	if err := out.Close(); err != nil {
		os.Remove(out.Name())
		return "", err
	}
	return out.Name(), nil
}

// unwrapPath is a file error without the path the caller already shows.
func unwrapPath(err error) string {
	if pe, ok := errors.AsType[*fs.PathError](err); ok {
		return pe.Err.Error()
	}
	return err.Error()
}

// loadFile restores db from a plain (or, when gzipped, gzip) SQL file.
func loadFile(ctx context.Context, db stacks.Database, path string, gzipped bool) error {
	f, err := os.Open(path)
	if err != nil {
		return err
	}
	defer f.Close()
	var r io.Reader = f
	if gzipped {
		zr, err := gzip.NewReader(f)
		if err != nil {
			return err
		}
		r = zr
	}
	return db.Restore(ctx, r)
}

// Export writes a dump of project name's database to file, gzipped when
// its name ends in .gz.
func (m *Manager) Export(ctx context.Context, name, service, file string) error {
	return m.withDatabase(ctx, name, service, func(db stacks.Database, p store.Project, d store.DataService) error {
		if err := writeDump(ctx, db, file); err != nil {
			return fmt.Errorf("export %s/%s: %w", p.Name, d.Name, err)
		}
		return nil
	})
}

// DatabaseShell is the command line (and extra environment) of a client
// connected to project name's database; the project must run.
func (m *Manager) DatabaseShell(ctx context.Context, name, service string) (wire.Shell, error) {
	var sh wire.Shell
	p, err := m.db.Project(ctx, name)
	if err != nil {
		return sh, err
	}
	d, err := databaseOf(p, service)
	if err != nil {
		return sh, err
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	r := m.runs[name]
	if r == nil || r.state != wire.StateRunning || r.services[d.Name] == nil {
		return sh, fmt.Errorf("%s is not running: start it first with devport start %s", name, name)
	}
	db, ok := r.services[d.Name].runner.(stacks.Database)
	if !ok {
		return sh, fmt.Errorf("%s/%s: the %s runner has no client", name, d.Name, d.Stack)
	}
	sh.Argv, sh.Env = db.Shell()
	return sh, nil
}
