package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"strings"
)

// RenameProject gives the project called old the name name and the
// primary domain domain (its other domains, services and routes stay).
// Both are validated as AddProject validates them, and neither may belong
// to another project; a *ValidationError leaves the store as it was. Events
// keep the names they were recorded under. It returns the project as
// stored, or an error wrapping ErrNotFound.
func (db *DB) RenameProject(ctx context.Context, old, name, domain string) (Project, error) {
	p, err := db.Project(ctx, old)
	if err != nil {
		return Project{}, err
	}
	in := p
	in.Name = name
	in.Domains = append([]string{domain}, p.Domains[1:]...)
	if err := validateProject(in, db.tlds); err != nil {
		return Project{}, err
	}
	domain = strings.ToLower(domain)
	err = db.write(ctx, func(tx *sql.Tx) error {
		var owner string
		switch err := tx.QueryRowContext(ctx, `SELECT name FROM projects WHERE name = ? AND id != ?`, name, p.ID).Scan(&owner); {
		case err == nil:
			return nameTaken(name)
		case !errors.Is(err, sql.ErrNoRows):
			return err
		}
		switch err := tx.QueryRowContext(ctx,
			`SELECT p.name FROM domains d JOIN projects p ON p.id = d.project_id WHERE d.domain = ? AND p.id != ?`, domain, p.ID).Scan(&owner); {
		case err == nil:
			return domainTaken(in.Domains[0], fmt.Sprintf("already used by project %q", owner))
		case !errors.Is(err, sql.ErrNoRows):
			return err
		}
		if _, err := tx.ExecContext(ctx, `UPDATE projects SET name = ? WHERE id = ?`, name, p.ID); err != nil {
			return err
		}
		_, err := tx.ExecContext(ctx, `UPDATE domains SET domain = ? WHERE project_id = ? AND position = 0`, domain, p.ID)
		return err
	})
	if ve, ok := errors.AsType[*ValidationError](err); ok {
		return Project{}, ve
	}
	if err != nil {
		return Project{}, fmt.Errorf("store: rename project %q: %w", old, err)
	}
	return db.Project(ctx, name)
}
