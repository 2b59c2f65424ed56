package store

import (
	"context"
	"fmt"
)

// BackendGroup is the process group of one running backend, as the engine
// recorded it: Data is opaque to the store (stacks.Group as JSON).
type BackendGroup struct {
	Project, Service string
	Data             string
}

// SetBackendGroup records the process group of a backend that started,
// replacing the one of its previous start.
func (db *DB) SetBackendGroup(ctx context.Context, g BackendGroup) error {
	_, err := db.w.ExecContext(ctx, `INSERT INTO backend_groups (project, service, data) VALUES (?, ?, ?)
		ON CONFLICT (project, service) DO UPDATE SET data = excluded.data`, g.Project, g.Service, g.Data)
	if err != nil {
		return fmt.Errorf("store: record the process group of %s/%s: %w", g.Project, g.Service, err)
	}
	return nil
}

// DeleteBackendGroups forgets the process groups of project's backends
// (every project's when project is ""), once they are stopped.
func (db *DB) DeleteBackendGroups(ctx context.Context, project string) error {
	_, err := db.w.ExecContext(ctx, `DELETE FROM backend_groups WHERE ? = '' OR project = ?`, project, project)
	if err != nil {
		return fmt.Errorf("store: forget the process groups of %q: %w", project, err)
	}
	return nil
}

// BackendGroups returns every recorded process group.
func (db *DB) BackendGroups(ctx context.Context) ([]BackendGroup, error) {
	rows, err := db.r.QueryContext(ctx, `SELECT project, service, data FROM backend_groups ORDER BY project, service`)
	if err != nil {
		return nil, fmt.Errorf("store: process groups: %w", err)
	}
	defer rows.Close()
	var out []BackendGroup
	for rows.Next() {
		var g BackendGroup
		if err := rows.Scan(&g.Project, &g.Service, &g.Data); err != nil {
			return nil, fmt.Errorf("store: process groups: %w", err)
		}
		out = append(out, g)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("store: process groups: %w", err)
	}
	return out, nil
}
