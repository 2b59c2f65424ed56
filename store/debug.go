package store

import (
	"context"
	"fmt"
)

// SetServiceDebug turns debugging of one service of a project on or off
// (Service.Debug). Nothing else of the project changes. A project or
// service that does not exist gives an error wrapping ErrNotFound.
func (db *DB) SetServiceDebug(ctx context.Context, project, service string, on bool) error {
	res, err := db.w.ExecContext(ctx, `UPDATE services SET debug = ?
		WHERE name = ? AND project_id = (SELECT id FROM projects WHERE name = ?)`, on, service, project)
	if err != nil {
		return fmt.Errorf("store: set debug of %s/%s: %w", project, service, err)
	}
	n, err := res.RowsAffected()
	if err != nil {
		return fmt.Errorf("store: set debug of %s/%s: %w", project, service, err)
	}
	if n == 0 {
		if _, err := db.Project(ctx, project); err != nil {
			return err
		}
		return fmt.Errorf("service %q of project %q: %w", service, project, ErrNotFound)
	}
	return nil
}
