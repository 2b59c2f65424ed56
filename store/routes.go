package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"time"
)

// Route kinds.
const (
	RouteService = "service" // Target is a service of the project
	RouteStatic  = "static"  // Target is an absolute folder the proxy serves
	RouteURL     = "url"     // Target is an http(s) URL
)

// Route is a path prefix of a project with what serves it. Services get a
// route at their own PathPrefix without one; a Route at the same prefix
// replaces it (to strip the prefix, or set timeouts).
type Route struct {
	ID int64 // assigned by AddRoute

	// Project is the project's name.
	Project string
	// PathPrefix is "/" or a prefix such as "/static", with the rules of
	// Service.PathPrefix. Unique in the project.
	PathPrefix string
	// Kind is RouteService, RouteStatic or RouteURL.
	Kind string
	// Target is the service name, the absolute folder, or the URL.
	Target string
	// StripPrefix forwards "/api/x" as "/x" (service and url routes).
	StripPrefix bool
	// CacheControl is sent with static files ("public, max-age=2592000").
	CacheControl string
	// ConnectTimeout, ReadTimeout and WriteTimeout bound the upstream; 0
	// takes the proxy's defaults.
	ConnectTimeout, ReadTimeout, WriteTimeout time.Duration
	// MaxBody is the largest request body in bytes; 0 takes the default,
	// -1 removes the limit.
	MaxBody int64
}

// AddRoute validates r and stores it. The project must exist, the prefix
// must be free among the project's routes, and a service route must name
// one of the project's services.
func (db *DB) AddRoute(ctx context.Context, r Route) (Route, error) {
	if r.PathPrefix == "" {
		r.PathPrefix = "/"
	}
	if err := validateRoute(r); err != nil {
		return Route{}, err
	}
	err := db.write(ctx, func(tx *sql.Tx) error {
		pid, err := projectID(ctx, tx, r.Project)
		if err != nil {
			return err
		}
		if r.Kind == RouteService {
			var n int
			if err := tx.QueryRowContext(ctx, `SELECT count(*) FROM services WHERE project_id = ? AND name = ?`,
				pid, r.Target).Scan(&n); err != nil {
				return err
			}
			if n == 0 {
				return &ValidationError{Field: "service", Value: r.Target,
					Reason: fmt.Sprintf("is not a service of project %q", r.Project),
					Fix:    "see devport ls for its services"}
			}
		}
		res, err := tx.ExecContext(ctx, `INSERT INTO routes (project_id, path_prefix, kind, target, strip_prefix,
			cache_control, connect_timeout_ms, read_timeout_ms, write_timeout_ms, max_body)
			VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
			pid, r.PathPrefix, r.Kind, r.Target, r.StripPrefix, r.CacheControl,
			r.ConnectTimeout.Milliseconds(), r.ReadTimeout.Milliseconds(), r.WriteTimeout.Milliseconds(), r.MaxBody)
		if isUniqueViolation(err) {
			return &ValidationError{Field: "path prefix", Value: r.PathPrefix,
				Reason: fmt.Sprintf("already has a route in project %q", r.Project),
				Fix:    fmt.Sprintf("remove it first with devport route %s rm %s", r.Project, r.PathPrefix)}
		}
		if err != nil {
			return err
		}
		r.ID, err = res.LastInsertId()
		return err
	})
	if err != nil {
		var ve *ValidationError
		if errors.As(err, &ve) || errors.Is(err, ErrNotFound) {
			return Route{}, err
		}
		return Route{}, fmt.Errorf("store: add route: %w", err)
	}
	return r, nil
}

// RemoveRoute deletes the route of project at prefix; an error wrapping
// ErrNotFound when there is none.
func (db *DB) RemoveRoute(ctx context.Context, project, prefix string) error {
	if prefix == "" {
		prefix = "/"
	}
	res, err := db.w.ExecContext(ctx, `DELETE FROM routes WHERE path_prefix = ?
		AND project_id = (SELECT id FROM projects WHERE name = ?)`, prefix, project)
	if err != nil {
		return fmt.Errorf("store: remove route: %w", err)
	}
	if n, err := res.RowsAffected(); err != nil {
		return fmt.Errorf("store: remove route: %w", err)
	} else if n == 0 {
		return fmt.Errorf("route %s of project %q: %w", prefix, project, ErrNotFound)
	}
	return nil
}

// Routes returns the routes of project, or of every project when project
// is "", sorted by project and prefix.
func (db *DB) Routes(ctx context.Context, project string) ([]Route, error) {
	q := `SELECT r.id, p.name, r.path_prefix, r.kind, r.target, r.strip_prefix, r.cache_control,
		r.connect_timeout_ms, r.read_timeout_ms, r.write_timeout_ms, r.max_body
		FROM routes r JOIN projects p ON p.id = r.project_id`
	var args []any
	if project != "" {
		q += ` WHERE p.name = ?`
		args = append(args, project)
	}
	rows, err := db.r.QueryContext(ctx, q+` ORDER BY p.name, r.path_prefix`, args...)
	if err != nil {
		return nil, fmt.Errorf("store: load routes: %w", err)
	}
	defer rows.Close()
	var out []Route
	for rows.Next() {
		var r Route
		var c, rd, w int64
		if err := rows.Scan(&r.ID, &r.Project, &r.PathPrefix, &r.Kind, &r.Target, &r.StripPrefix, &r.CacheControl,
			&c, &rd, &w, &r.MaxBody); err != nil {
			return nil, fmt.Errorf("store: load routes: %w", err)
		}
		r.ConnectTimeout, r.ReadTimeout, r.WriteTimeout = ms(c), ms(rd), ms(w)
		out = append(out, r)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("store: load routes: %w", err)
	}
	return out, nil
}

func ms(v int64) time.Duration { return time.Duration(v) * time.Millisecond }
