package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"path/filepath"
	"time"
)

// ParkedDir is a parked folder (devport park DIR): every subfolder of it
// is a project, which the engine adds with AddParkedProject.
type ParkedDir struct {
	// Path is the absolute, clean folder.
	Path string
	// CreatedAt is when it was parked, in UTC.
	CreatedAt time.Time
	// Projects are the names of the projects it made, sorted.
	Projects []string
}

// checkParkPath refuses a folder that is not absolute, or that a writer
// could not carry (the rule of a project's folder: its subfolders become
// project folders).
func checkParkPath(path string) error {
	if err := ValidateFolder("folder", path); err != nil {
		return err
	}
	if filepath.Clean(path) != path {
		return &ValidationError{Field: "folder", Value: path, Reason: "is not a clean path", Fix: "give it as " + filepath.Clean(path)}
	}
	return nil
}

// Park records path as a parked folder; added is false when it was parked
// already (nothing changes then).
func (db *DB) Park(ctx context.Context, path string) (added bool, err error) {
	if err := checkParkPath(path); err != nil {
		return false, err
	}
	res, err := db.w.ExecContext(ctx, `INSERT INTO parked_dirs (path, created_at) VALUES (?, ?) ON CONFLICT (path) DO NOTHING`,
		path, formatTime(time.Now()))
	if err != nil {
		return false, fmt.Errorf("store: park %s: %w", path, err)
	}
	n, err := res.RowsAffected()
	if err != nil {
		return false, fmt.Errorf("store: park %s: %w", path, err)
	}
	return n == 1, nil
}

// Unpark forgets a parked folder, and which projects it made: those that
// are left become ordinary projects, so the engine removes them first. It
// returns an error wrapping ErrNotFound when path is not parked.
func (db *DB) Unpark(ctx context.Context, path string) error {
	res, err := db.w.ExecContext(ctx, `DELETE FROM parked_dirs WHERE path = ?`, path)
	if err != nil {
		return fmt.Errorf("store: unpark %s: %w", path, err)
	}
	n, err := res.RowsAffected()
	if err != nil {
		return fmt.Errorf("store: unpark %s: %w", path, err)
	}
	if n == 0 {
		return fmt.Errorf("parked folder %s: %w", path, ErrNotFound)
	}
	return nil
}

// ParkedDirs returns every parked folder, sorted by path, with the names
// of its projects.
func (db *DB) ParkedDirs(ctx context.Context) ([]ParkedDir, error) {
	var out []ParkedDir
	err := db.read(ctx, func(tx *sql.Tx) error {
		rows, err := tx.QueryContext(ctx, `SELECT path, created_at FROM parked_dirs ORDER BY path`)
		if err != nil {
			return err
		}
		defer rows.Close()
		byPath := map[string]int{}
		for rows.Next() {
			var d ParkedDir
			var created string
			if err := rows.Scan(&d.Path, &created); err != nil {
				return err
			}
			if d.CreatedAt, err = parseTime(created); err != nil {
				return err
			}
			byPath[d.Path] = len(out)
			out = append(out, d)
		}
		if err := rows.Err(); err != nil {
			return err
		}
		links, err := parkedLinks(ctx, tx)
		if err != nil {
			return err
		}
		for _, l := range links {
			if i, ok := byPath[l.dir]; ok {
				out[i].Projects = append(out[i].Projects, l.project)
			}
		}
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("store: parked folders: %w", err)
	}
	return out, nil
}

// ParkedProjects maps the name of every project a parked folder made to
// that folder.
func (db *DB) ParkedProjects(ctx context.Context) (map[string]string, error) {
	out := map[string]string{}
	err := db.read(ctx, func(tx *sql.Tx) error {
		links, err := parkedLinks(ctx, tx)
		for _, l := range links {
			out[l.project] = l.dir
		}
		return err
	})
	if err != nil {
		return nil, fmt.Errorf("store: parked projects: %w", err)
	}
	return out, nil
}

type parkedLink struct{ project, dir string }

// parkedLinks are the parked projects with their folders, by project name.
func parkedLinks(ctx context.Context, tx *sql.Tx) ([]parkedLink, error) {
	rows, err := tx.QueryContext(ctx, `SELECT p.name, pp.dir FROM parked_projects pp
		JOIN projects p ON p.id = pp.project_id ORDER BY p.name`)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []parkedLink
	for rows.Next() {
		var l parkedLink
		if err := rows.Scan(&l.project, &l.dir); err != nil {
			return nil, err
		}
		out = append(out, l)
	}
	return out, rows.Err()
}

// AddParkedProject is AddProject for a subfolder of the parked folder dir:
// the project and the note that dir made it are stored in one
// transaction, so a parked project is never stored as an ordinary one. A
// dir that is not parked (unparked meanwhile) is an error wrapping
// ErrNotFound, and nothing is stored.
func (db *DB) AddParkedProject(ctx context.Context, p Project, dir string) (Project, error) {
	if err := validateProject(p, db.tlds); err != nil {
		return Project{}, err
	}
	in := p
	p = normalize(p)
	err := db.write(ctx, func(tx *sql.Tx) error {
		var one int
		switch err := tx.QueryRowContext(ctx, `SELECT 1 FROM parked_dirs WHERE path = ?`, dir).Scan(&one); {
		case errors.Is(err, sql.ErrNoRows):
			return fmt.Errorf("parked folder %s: %w", dir, ErrNotFound)
		case err != nil:
			return err
		}
		if err := checkTaken(ctx, tx, p, in); err != nil {
			return err
		}
		if err := insertProject(ctx, tx, &p, in); err != nil {
			return err
		}
		_, err := tx.ExecContext(ctx, `INSERT INTO parked_projects (project_id, dir) VALUES (?, ?)`, p.ID, dir)
		return err
	})
	if ve, ok := errors.AsType[*ValidationError](err); ok {
		return Project{}, ve
	}
	if err != nil {
		return Project{}, fmt.Errorf("store: add project %q of parked folder %s: %w", p.Name, dir, err)
	}
	return p, nil
}
