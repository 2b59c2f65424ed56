package store

import (
	"context"
	"fmt"
)

// SetServiceRuntime changes how one service of a project runs: its runtime
// ("process" or "container"; the syntax is checked here, which ones exist is
// the app's business) and its container image ("" for the default; the
// syntax of ValidateImage). Nothing
// else of the project changes. A project or service that does not exist
// gives an error wrapping ErrNotFound; a bad runtime a *ValidationError.
func (db *DB) SetServiceRuntime(ctx context.Context, project, service, runtime, image string) error {
	runtime, err := checkRuntime(runtime, image)
	if err != nil {
		return err
	}
	res, err := db.w.ExecContext(ctx, `UPDATE services SET runtime = ?, image = ?
		WHERE name = ? AND project_id = (SELECT id FROM projects WHERE name = ?)`, runtime, image, service, project)
	if err != nil {
		return fmt.Errorf("store: set runtime of %s/%s: %w", project, service, err)
	}
	n, err := res.RowsAffected()
	if err != nil {
		return fmt.Errorf("store: set runtime of %s/%s: %w", project, service, err)
	}
	if n == 0 {
		if _, err := db.Project(ctx, project); err != nil {
			return err
		}
		return fmt.Errorf("service %q of project %q: %w", service, project, ErrNotFound)
	}
	return nil
}

// checkRuntime is a service's runtime as stored ("" is the process
// runtime), checked with its image, or why either is refused.
func checkRuntime(runtime, image string) (string, error) {
	if runtime == "" {
		runtime = runtimeProcess
	}
	if !isKeyword(runtime) {
		return "", &ValidationError{Field: "runtime", Value: runtime,
			Reason: "may only contain lowercase letters, digits and hyphens", Fix: "use --runtime process or --runtime container"}
	}
	return runtime, ValidateImage(image)
}
