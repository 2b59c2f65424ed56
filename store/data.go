package store

import (
	"cmp"
	"context"
	"database/sql"
	"errors"
	"fmt"
	"regexp"
	"strconv"

	"github.com/devport/devport/internal/valuerule"
)

// DataService is a data service of a project: a database, a cache or a
// mail catcher that its web services use (see stackdef.Def.Data). Its name
// shares the project's service namespace: no web service has it.
type DataService struct {
	ID int64 // assigned when stored

	// Name is unique among the project's services, web and data, with the
	// syntax of a project name ("db", "cache", "mail").
	Name string
	// Stack is "mariadb", "postgres", "redis" or "mailpit"; the store
	// checks the syntax, the app knows which exist.
	Stack string
	// Runtime is "process" (the default when empty) or "container".
	Runtime string
	// Image is the container image; "" lets the app choose from Version.
	Image string
	// Version is the version asked for ("15", "10.11"); "" for the newest
	// the host has, or the default image.
	Version string
	// Port is the loopback TCP port clients use, held by this data service
	// alone.
	Port int
	// Password is the generated password of the database user, "" for the
	// services without one.
	Password string
	// DBName is the database and its user (the project's name when it was
	// added, with underscores), "" for the services without one. It stays
	// when the project is renamed: the data was made under it.
	DBName string
}

// validateDataService checks one data service's fields.
func validateDataService(d DataService) error {
	if err := ValidateName("service", d.Name); err != nil {
		return err
	}
	bad := func(field, value, reason, fix string) error {
		return &ValidationError{Field: field, Value: value,
			Reason: fmt.Sprintf("%s (service %q)", reason, d.Name), Fix: fix}
	}
	switch {
	case !isKeyword(d.Stack):
		return bad("stack", d.Stack, "may only contain lowercase letters, digits and hyphens", "use --stack mariadb, postgres, redis or mailpit")
	case d.Runtime != "" && !isKeyword(d.Runtime):
		return bad("runtime", d.Runtime, "may only contain lowercase letters, digits and hyphens", "use --runtime process or --runtime container")
	case d.Port <= 0 || d.Port > 65535:
		return bad("port", strconv.Itoa(d.Port), "is not a TCP port", "let devport choose one")
	case valuerule.Version(d.Version) != "":
		return bad("version", d.Version, valuerule.Version(d.Version), "use --version 15 or --version 10.11")
	}
	if d.DBName != "" && !dbNameRE.MatchString(d.DBName) {
		return bad("database", d.DBName, "is not a database name", "use lowercase letters, digits and underscores, starting with a letter")
	}
	if err := ValidateImage(d.Image); err != nil {
		return err
	}
	return nil
}

// dbNameRE is a database and user name both MariaDB and PostgreSQL take
// unquoted.
var dbNameRE = regexp.MustCompile(`^[a-z_][a-z0-9_]{0,62}$`)

// ValidateVersion checks a data service's version as the store will
// (valuerule.Version), and names the flag that fixes it.
func ValidateVersion(v string) error {
	if r := valuerule.Version(v); r != "" {
		return &ValidationError{Field: "version", Value: v, Reason: r, Fix: "use --version 15 or --version 10.11"}
	}
	return nil
}

// AddDataService adds a data service to project. A name any service of the
// project has, or a port another data service holds, is a
// *ValidationError; a missing project wraps ErrNotFound. Nothing is
// written on an error.
func (db *DB) AddDataService(ctx context.Context, project string, d DataService) (DataService, error) {
	if err := validateDataService(d); err != nil {
		return DataService{}, err
	}
	if d.Runtime == "" {
		d.Runtime = runtimeProcess
	}
	err := db.write(ctx, func(tx *sql.Tx) error {
		id, err := projectID(ctx, tx, project)
		if err != nil {
			return err
		}
		return insertDataService(ctx, tx, id, &d)
	})
	if ve, ok := errors.AsType[*ValidationError](err); ok {
		return DataService{}, ve
	}
	if err != nil {
		return DataService{}, fmt.Errorf("store: add service %s/%s: %w", project, d.Name, err)
	}
	return d, nil
}

// insertDataService writes d for project id, refusing a name the project's
// services have and a port another data service holds.
func insertDataService(ctx context.Context, tx *sql.Tx, projectID int64, d *DataService) error {
	var n int
	err := tx.QueryRowContext(ctx, `SELECT (SELECT COUNT(*) FROM services WHERE project_id = ?1 AND name = ?2) +
		(SELECT COUNT(*) FROM data_services WHERE project_id = ?1 AND name = ?2)`, projectID, d.Name).Scan(&n)
	if err != nil {
		return err
	}
	if n > 0 {
		return &ValidationError{Field: "service", Value: d.Name, Reason: "the project already has a service of that name",
			Fix: "pick another name, e.g. " + d.Name + "2"}
	}
	var owner string
	err = tx.QueryRowContext(ctx, `SELECT p.name || '/' || s.name FROM data_services s JOIN projects p ON p.id = s.project_id
		WHERE s.port = ?`, d.Port).Scan(&owner)
	if err == nil {
		return &ValidationError{Field: "port", Value: strconv.Itoa(d.Port), Reason: "is already the port of " + owner,
			Fix: "let devport choose a free port"}
	}
	if !errors.Is(err, sql.ErrNoRows) {
		return err
	}
	res, err := tx.ExecContext(ctx, `INSERT INTO data_services (project_id, name, stack, runtime, image, version, port, password, db_name)
		VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)`, projectID, d.Name, d.Stack, d.Runtime, d.Image, d.Version, d.Port, d.Password, d.DBName)
	if err != nil {
		return fmt.Errorf("insert service %q: %w", d.Name, err)
	}
	d.ID, err = res.LastInsertId()
	return err
}

// RemoveDataService removes a data service of project; a missing project
// or service wraps ErrNotFound. (Its data is the app's business.)
func (db *DB) RemoveDataService(ctx context.Context, project, name string) error {
	res, err := db.w.ExecContext(ctx, `DELETE FROM data_services
		WHERE name = ? AND project_id = (SELECT id FROM projects WHERE name = ?)`, name, project)
	if err != nil {
		return fmt.Errorf("store: remove service %s/%s: %w", project, name, err)
	}
	return db.oneRow(ctx, res, project, name)
}

// SetDataServiceRuntime changes how a data service runs: its runtime and
// image ("" for the default). A missing project or service wraps
// ErrNotFound.
func (db *DB) SetDataServiceRuntime(ctx context.Context, project, name, runtime, image string) error {
	runtime, err := checkRuntime(runtime, image)
	if err != nil {
		return err
	}
	res, err := db.w.ExecContext(ctx, `UPDATE data_services SET runtime = ?, image = ?
		WHERE name = ? AND project_id = (SELECT id FROM projects WHERE name = ?)`, runtime, image, name, project)
	if err != nil {
		return fmt.Errorf("store: set runtime of %s/%s: %w", project, name, err)
	}
	return db.oneRow(ctx, res, project, name)
}

// oneRow turns an update of no row into the ErrNotFound of the project or
// of its service.
func (db *DB) oneRow(ctx context.Context, res sql.Result, project, service string) error {
	n, err := res.RowsAffected()
	if err != nil {
		return fmt.Errorf("store: %s/%s: %w", project, service, err)
	}
	if n == 0 {
		if _, err := db.Project(ctx, project); err != nil {
			return err
		}
		return fmt.Errorf("service %q of project %q: %w", service, project, ErrNotFound)
	}
	return nil
}

// SetFollowBranch turns branch following of project's databases on or
// off; a missing project wraps ErrNotFound.
func (db *DB) SetFollowBranch(ctx context.Context, project string, on bool) error {
	res, err := db.w.ExecContext(ctx, `UPDATE projects SET follow_branch = ? WHERE name = ?`, on, project)
	if err != nil {
		return fmt.Errorf("store: follow branch of %s: %w", project, err)
	}
	if n, err := res.RowsAffected(); err != nil || n == 0 {
		return fmt.Errorf("project %q: %w", project, cmp.Or(err, ErrNotFound))
	}
	return nil
}

// DataPorts returns every port a data service holds, with its owner
// ("shop/db").
func (db *DB) DataPorts(ctx context.Context) (map[int]string, error) {
	rows, err := db.r.QueryContext(ctx, `SELECT s.port, p.name || '/' || s.name FROM data_services s JOIN projects p ON p.id = s.project_id`)
	if err != nil {
		return nil, fmt.Errorf("store: data ports: %w", err)
	}
	defer rows.Close()
	out := map[int]string{}
	for rows.Next() {
		var port int
		var owner string
		if err := rows.Scan(&port, &owner); err != nil {
			return nil, err
		}
		out[port] = owner
	}
	return out, rows.Err()
}

func loadDataServices(ctx context.Context, tx *sql.Tx, where string, args []any, byID map[int64]*Project) error {
	rows, err := tx.QueryContext(ctx, `SELECT s.project_id, s.id, s.name, s.stack, s.runtime, s.image, s.version, s.port, s.password, s.db_name
		FROM data_services s JOIN projects p ON p.id = s.project_id`+where+` ORDER BY s.project_id, s.name`, args...)
	if err != nil {
		return err
	}
	defer rows.Close()
	for rows.Next() {
		var id int64
		var d DataService
		if err := rows.Scan(&id, &d.ID, &d.Name, &d.Stack, &d.Runtime, &d.Image, &d.Version, &d.Port, &d.Password, &d.DBName); err != nil {
			return err
		}
		if p := byID[id]; p != nil {
			p.Data = append(p.Data, d)
		}
	}
	return rows.Err()
}
