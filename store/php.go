package store

import (
	"context"
	"fmt"

	"github.com/devport/devport/internal/stackdef"
	"github.com/devport/devport/internal/valuerule"
)

// ValidatePHPVersion checks a php service's version as the store will
// (valuerule.PHPVersion: "" or MAJOR.MINOR), and names the flag that fixes
// it.
func ValidatePHPVersion(v string) error {
	if r := valuerule.PHPVersion(v); r != "" {
		return &ValidationError{Field: "php", Value: v, Reason: r, Fix: "use --php 8.2 (devport php versions lists what is installed)"}
	}
	return nil
}

// SetServicePHP sets the PHP version of one php service of a project
// (Service.PHP; "" lets the app choose). Nothing else of the project
// changes. A bad version or a service of another stack is a
// *ValidationError, and a project or service that does not exist gives an
// error wrapping ErrNotFound.
func (db *DB) SetServicePHP(ctx context.Context, project, service, version string) error {
	if err := ValidatePHPVersion(version); err != nil {
		return err
	}
	res, err := db.w.ExecContext(ctx, `UPDATE services SET php = ?
		WHERE name = ? AND stack = ? AND project_id = (SELECT id FROM projects WHERE name = ?)`,
		version, service, stackdef.PHP, project)
	if err != nil {
		return fmt.Errorf("store: set php of %s/%s: %w", project, service, err)
	}
	n, err := res.RowsAffected()
	if err != nil {
		return fmt.Errorf("store: set php of %s/%s: %w", project, service, err)
	}
	if n == 0 {
		p, err := db.Project(ctx, project)
		if err != nil {
			return err
		}
		for _, s := range p.Services {
			if s.Name == service {
				return &ValidationError{Field: "php", Value: version, Reason: "service " + service + " runs " + s.Stack + ", not php",
					Fix: "name a php service with --service"}
			}
		}
		return fmt.Errorf("service %q of project %q: %w", service, project, ErrNotFound)
	}
	return nil
}
