package store

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"maps"
	"path/filepath"
	"slices"
	"strings"
	"time"

	"github.com/devport/devport/internal/stackdef"
	"github.com/devport/devport/internal/valuerule"
)

const (
	stackProxy     = stackdef.Proxy // the stack that forwards to an external URL and needs no folder
	runtimeProcess = "process"      // the default Service.Runtime
)

// Project is a folder served on one or more local domains by its services.
type Project struct {
	ID int64 // assigned by AddProject

	// Name identifies the project in commands and URLs: 1 to 63 lowercase
	// letters, digits and hyphens, not starting or ending with a hyphen.
	Name string

	// Root is the absolute project folder. It may be "" only when every
	// service is stack "proxy", which runs nothing from a folder.
	Root string

	// Domains are the names the project is served on, the primary one first.
	// At least one; each under a managed TLD, and used by no other project.
	// The store keeps them in lowercase.
	Domains []string

	// Services are the backends, at least one. Reads return them sorted by
	// name.
	Services []Service

	// FollowBranch makes the project's databases follow its git branch:
	// each branch has its own snapshot, restored on checkout.
	FollowBranch bool

	// Data are the data services (databases, caches, mail), sorted by
	// name; none is needed. Their names differ from every service's.
	Data []DataService

	// CreatedAt is set by AddProject when zero. Reads return it in UTC.
	CreatedAt time.Time

	// BeforeStart is a command run with sh -c in Root before the services
	// start (devport.toml's hooks.before_start); "" runs nothing.
	BeforeStart string

	// PHPIni are the project's php.ini directives (devport.toml's
	// [php.ini], then devport set --php-ini), written on top of the
	// distribution's php.ini and devport's development defaults. Keys and
	// values follow valuerule.PHPIniKey and PHPIniValue; nil when none.
	PHPIni map[string]string

	// Xdebug loads PHP's Xdebug for the project (devport xdebug NAME
	// on|off). Like Service.Debug it is the user's toggle of the moment:
	// devport.toml neither sets nor writes it.
	Xdebug bool
}

// Service is one backend of a project, reached under its path prefix.
type Service struct {
	ID int64 // assigned by AddProject

	// Name is unique in the project, with the syntax of a project name
	// ("web", "api").
	Name string

	// Stack says what runs: "php", "uvicorn" or "proxy". The store checks the
	// syntax (lowercase letters, digits, hyphens); the app knows which exist.
	Stack string

	// Runtime says how it runs: "process" (the default when empty) or
	// "container".
	Runtime string

	// Image is the container image of the container runtime; "" lets the
	// app choose (a setting, else the stack's default).
	Image string

	// App is the uvicorn application, "module:attr" (e.g. "main:app").
	App string

	// DocRoot is the php document root, absolute; "" lets the stack choose.
	DocRoot string

	// PathPrefix routes requests to this service: "/" (the default when
	// empty) or a path such as "/api" that starts with "/", does not end with
	// one, and has no "//", "." or ".." segments. Unique in the project.
	PathPrefix string

	// URL is the upstream of stack "proxy", http:// or https:// with a host.
	// Other stacks must leave it empty.
	URL string

	// Workers is the worker count of gunicorn, wsgi and uwsgi; 0 means one
	// per core.
	Workers int

	// Env is added to the backend's environment (stored as a JSON object).
	Env map[string]string

	// NoReload turns reload on save off (devport.toml's reload = false).
	// The zero value reloads: the engine restarts a Python service when
	// the project's Python files, templates or config change. The other
	// stacks ignore it.
	NoReload bool

	// ReloadInclude are file patterns, relative to the project folder,
	// that reload the service beyond the defaults ("*.graphql");
	// ReloadExclude are patterns that never do ("generated/*"), over the
	// defaults and ReloadInclude. A pattern without "/" matches a name in
	// any folder, one with "/" the path from the project folder; a folder
	// matched covers what is in it (app/engine/reload.go). Stored as JSON
	// arrays; nil when none.
	ReloadInclude, ReloadExclude []string

	// PHP is the php stack's version, MAJOR.MINOR ("8.2"); "" when none is
	// set, and the app picks one (composer.json's require.php, else the
	// newest). Only stack php may set it.
	PHP string

	// Debug runs a Python service under debugpy, listening on loopback
	// port 5678 for an IDE to attach (devport debug NAME on|off). It is
	// the user's toggle of the moment, not the project's configuration:
	// devport.toml neither sets nor writes it.
	Debug bool
}

// AddProject validates p completely, then stores it in one transaction. Bad
// input, a name or a domain already taken (even by a project added
// concurrently) return a *ValidationError, and the database is left as it was.
// It returns the project as stored: IDs and CreatedAt set, domains in
// lowercase, defaults applied and services sorted by name.
func (db *DB) AddProject(ctx context.Context, p Project) (Project, error) {
	if err := validateProject(p, db.tlds); err != nil {
		return Project{}, err
	}
	in := p
	p = normalize(p)
	err := db.write(ctx, func(tx *sql.Tx) error {
		if err := checkTaken(ctx, tx, p, in); err != nil {
			return err
		}
		return insertProject(ctx, tx, &p, in)
	})
	if ve, ok := errors.AsType[*ValidationError](err); ok {
		return Project{}, ve
	}
	if err != nil {
		return Project{}, fmt.Errorf("store: add project %q: %w", p.Name, err)
	}
	return p, nil
}

// normalize returns a copy of a validated p as it is stored.
func normalize(p Project) Project {
	if p.Root != "" {
		p.Root = filepath.Clean(p.Root)
	}
	if p.CreatedAt.IsZero() {
		p.CreatedAt = time.Now()
	}
	p.CreatedAt = p.CreatedAt.UTC()
	p.ID = 0
	domains := make([]string, len(p.Domains))
	for i, d := range p.Domains {
		domains[i] = strings.ToLower(d)
	}
	p.Domains = domains
	if len(p.PHPIni) == 0 {
		p.PHPIni = nil
	} else {
		p.PHPIni = maps.Clone(p.PHPIni)
	}
	services := make([]Service, len(p.Services))
	for i, s := range p.Services {
		s.ID = 0
		if s.Runtime == "" {
			s.Runtime = runtimeProcess
		}
		if s.PathPrefix == "" {
			s.PathPrefix = "/"
		}
		if s.DocRoot != "" {
			s.DocRoot = filepath.Clean(s.DocRoot)
		}
		s.ReloadInclude, s.ReloadExclude = cloneList(s.ReloadInclude), cloneList(s.ReloadExclude)
		services[i] = s
	}
	slices.SortFunc(services, func(a, b Service) int { return strings.Compare(a.Name, b.Name) })
	p.Services = services
	data := slices.Clone(p.Data)
	for i := range data {
		data[i].ID = 0
		if data[i].Runtime == "" {
			data[i].Runtime = runtimeProcess
		}
	}
	slices.SortFunc(data, func(a, b DataService) int { return strings.Compare(a.Name, b.Name) })
	p.Data = data
	return p
}

// checkTaken refuses a name or domain another project already has. It runs in
// the writing transaction, so nothing can slip in between check and insert
// from another connection. in is the input as given, quoted in errors.
func checkTaken(ctx context.Context, tx *sql.Tx, p, in Project) error {
	var one int
	err := tx.QueryRowContext(ctx, `SELECT 1 FROM projects WHERE name = ?`, p.Name).Scan(&one)
	switch {
	case err == nil:
		return nameTaken(in.Name)
	case !errors.Is(err, sql.ErrNoRows):
		return err
	}
	for i, d := range p.Domains {
		var owner string
		err := tx.QueryRowContext(ctx,
			`SELECT p.name FROM domains d JOIN projects p ON p.id = d.project_id WHERE d.domain = ?`, d).Scan(&owner)
		switch {
		case err == nil:
			return domainTaken(in.Domains[i], fmt.Sprintf("already used by project %q", owner))
		case !errors.Is(err, sql.ErrNoRows):
			return err
		}
	}
	return nil
}

func nameTaken(name string) *ValidationError {
	return &ValidationError{Field: "name", Value: name,
		Reason: "a project with this name already exists", Fix: "pick another with --name"}
}

func domainTaken(domain, reason string) *ValidationError {
	return &ValidationError{Field: "domain", Value: domain, Reason: reason, Fix: "pick another with --domain"}
}

// insertProject writes p and sets its IDs. A UNIQUE violation on the name or
// a domain becomes the same *ValidationError checkTaken would have returned.
func insertProject(ctx context.Context, tx *sql.Tx, p *Project, in Project) error {
	phpIni, err := encodeEnv(p.PHPIni)
	if err != nil {
		return fmt.Errorf("php.ini: %w", err)
	}
	res, err := tx.ExecContext(ctx, `INSERT INTO projects (name, root, created_at, before_start, follow_branch, php_ini, xdebug) VALUES (?, ?, ?, ?, ?, ?, ?)`,
		p.Name, p.Root, formatTime(p.CreatedAt), p.BeforeStart, p.FollowBranch, phpIni, p.Xdebug)
	if isUniqueViolation(err) {
		return nameTaken(in.Name)
	}
	if err != nil {
		return fmt.Errorf("insert project: %w", err)
	}
	if p.ID, err = res.LastInsertId(); err != nil {
		return err
	}
	for i, d := range p.Domains {
		_, err := tx.ExecContext(ctx, `INSERT INTO domains (domain, project_id, position) VALUES (?, ?, ?)`, d, p.ID, i)
		if isUniqueViolation(err) {
			return domainTaken(in.Domains[i], "already used by another project")
		}
		if err != nil {
			return fmt.Errorf("insert domain %q: %w", d, err)
		}
	}
	for i := range p.Services {
		s := &p.Services[i]
		if err := validateReload(*s); err != nil {
			return err
		}
		env, err := encodeEnv(s.Env)
		if err != nil {
			return fmt.Errorf("service %q env: %w", s.Name, err)
		}
		include, err := encodeList(s.ReloadInclude)
		if err != nil {
			return fmt.Errorf("service %q reload_include: %w", s.Name, err)
		}
		exclude, err := encodeList(s.ReloadExclude)
		if err != nil {
			return fmt.Errorf("service %q reload_exclude: %w", s.Name, err)
		}
		res, err := tx.ExecContext(ctx, `INSERT INTO services
			(project_id, name, stack, runtime, app, doc_root, path_prefix, url, image, workers, env,
			reload, reload_include, reload_exclude, debug, php)
			VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
			p.ID, s.Name, s.Stack, s.Runtime, s.App, s.DocRoot, s.PathPrefix, s.URL, s.Image, s.Workers, env,
			!s.NoReload, include, exclude, s.Debug, s.PHP)
		if err != nil {
			return fmt.Errorf("insert service %q: %w", s.Name, err)
		}
		if s.ID, err = res.LastInsertId(); err != nil {
			return err
		}
	}
	for i := range p.Data {
		if err := insertDataService(ctx, tx, p.ID, &p.Data[i]); err != nil {
			return err
		}
	}
	return nil
}

// Project returns the project called name, or an error wrapping ErrNotFound.
func (db *DB) Project(ctx context.Context, name string) (Project, error) {
	ps, err := db.load(ctx, &name)
	if err != nil {
		return Project{}, err
	}
	if len(ps) == 0 {
		return Project{}, fmt.Errorf("project %q: %w", name, ErrNotFound)
	}
	return ps[0], nil
}

// Projects returns every project sorted by name, each with its domains
// (primary first) and its services (sorted by name).
func (db *DB) Projects(ctx context.Context) ([]Project, error) {
	return db.load(ctx, nil)
}

// load reads the project called *name, or all of them when name is nil, in
// one read transaction.
func (db *DB) load(ctx context.Context, name *string) ([]Project, error) {
	where, args := "", []any(nil)
	if name != nil {
		where, args = " WHERE p.name = ?", []any{*name}
	}
	var ps []Project
	err := db.read(ctx, func(tx *sql.Tx) error {
		var err error
		if ps, err = loadProjects(ctx, tx, where, args); err != nil || len(ps) == 0 {
			return err
		}
		byID := make(map[int64]*Project, len(ps))
		for i := range ps {
			byID[ps[i].ID] = &ps[i]
		}
		if err := loadDomains(ctx, tx, where, args, byID); err != nil {
			return err
		}
		if err := loadServices(ctx, tx, where, args, byID); err != nil {
			return err
		}
		return loadDataServices(ctx, tx, where, args, byID)
	})
	if err != nil {
		return nil, fmt.Errorf("store: load projects: %w", err)
	}
	return ps, nil
}

func loadProjects(ctx context.Context, tx *sql.Tx, where string, args []any) ([]Project, error) {
	rows, err := tx.QueryContext(ctx, `SELECT p.id, p.name, p.root, p.created_at, p.before_start, p.follow_branch, p.php_ini, p.xdebug FROM projects p`+where+` ORDER BY p.name`, args...)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var ps []Project
	for rows.Next() {
		var p Project
		var created, phpIni string
		if err := rows.Scan(&p.ID, &p.Name, &p.Root, &created, &p.BeforeStart, &p.FollowBranch, &phpIni, &p.Xdebug); err != nil {
			return nil, err
		}
		if p.PHPIni, err = decodePHPIni(phpIni); err != nil {
			return nil, fmt.Errorf("project %q: %w", p.Name, err)
		}
		if p.CreatedAt, err = parseTime(created); err != nil {
			return nil, err
		}
		ps = append(ps, p)
	}
	return ps, rows.Err()
}

func loadDomains(ctx context.Context, tx *sql.Tx, where string, args []any, byID map[int64]*Project) error {
	rows, err := tx.QueryContext(ctx, `SELECT d.project_id, d.domain FROM domains d
		JOIN projects p ON p.id = d.project_id`+where+` ORDER BY d.project_id, d.position`, args...)
	if err != nil {
		return err
	}
	defer rows.Close()
	for rows.Next() {
		var id int64
		var d string
		if err := rows.Scan(&id, &d); err != nil {
			return err
		}
		if p := byID[id]; p != nil {
			p.Domains = append(p.Domains, d)
		}
	}
	return rows.Err()
}

func loadServices(ctx context.Context, tx *sql.Tx, where string, args []any, byID map[int64]*Project) error {
	rows, err := tx.QueryContext(ctx, `SELECT s.project_id, s.id, s.name, s.stack, s.runtime, s.app, s.doc_root, s.path_prefix, s.url, s.image,
		s.workers, s.env, s.reload, s.reload_include, s.reload_exclude, s.debug, s.php
		FROM services s JOIN projects p ON p.id = s.project_id`+where+` ORDER BY s.project_id, s.name`, args...)
	if err != nil {
		return err
	}
	defer rows.Close()
	for rows.Next() {
		var id int64
		var s Service
		var env, include, exclude string
		var reload bool
		if err := rows.Scan(&id, &s.ID, &s.Name, &s.Stack, &s.Runtime, &s.App, &s.DocRoot, &s.PathPrefix, &s.URL, &s.Image,
			&s.Workers, &env, &reload, &include, &exclude, &s.Debug, &s.PHP); err != nil {
			return err
		}
		s.NoReload = !reload
		if s.ReloadInclude, err = decodeList(include); err != nil {
			return fmt.Errorf("service %q reload_include %q: %w", s.Name, include, err)
		}
		if s.ReloadExclude, err = decodeList(exclude); err != nil {
			return fmt.Errorf("service %q reload_exclude %q: %w", s.Name, exclude, err)
		}
		if err := json.Unmarshal([]byte(env), &s.Env); err != nil {
			return fmt.Errorf("service %q env %q: %w", s.Name, env, err)
		}
		if len(s.Env) == 0 {
			s.Env = nil
		}
		if p := byID[id]; p != nil {
			p.Services = append(p.Services, s)
		}
	}
	return rows.Err()
}

// RemoveProject deletes the project called name with its domains and
// services; its events stay. It returns an error wrapping ErrNotFound when
// there is no such project.
func (db *DB) RemoveProject(ctx context.Context, name string) error {
	return db.execProject(ctx, name, "remove project", `DELETE FROM projects WHERE name = ?`, name)
}

// projectID is the id of project name, or an error wrapping ErrNotFound
// when there is no such project.
func projectID(ctx context.Context, tx *sql.Tx, name string) (int64, error) {
	var id int64
	err := tx.QueryRowContext(ctx, `SELECT id FROM projects WHERE name = ?`, name).Scan(&id)
	if errors.Is(err, sql.ErrNoRows) {
		return 0, fmt.Errorf("project %q: %w", name, ErrNotFound)
	}
	return id, err
}

// execProject runs query, which changes or deletes the row of project
// name, and gives an error wrapping ErrNotFound when there is no such
// project; what names the change in other errors ("store: WHAT NAME: …").
func (db *DB) execProject(ctx context.Context, name, what, query string, args ...any) error {
	res, err := db.w.ExecContext(ctx, query, args...)
	if err != nil {
		return fmt.Errorf("store: %s %s: %w", what, name, err)
	}
	n, err := res.RowsAffected()
	if err != nil {
		return fmt.Errorf("store: %s %s: %w", what, name, err)
	}
	if n == 0 {
		return fmt.Errorf("project %q: %w", name, ErrNotFound)
	}
	return nil
}

// encodeEnv renders a service's environment as the JSON object it is stored as.
func encodeEnv(env map[string]string) (string, error) {
	if len(env) == 0 {
		return "{}", nil
	}
	b, err := json.Marshal(env)
	return string(b), err
}

// encodeList renders a list of strings as the JSON array it is stored as.
func encodeList(l []string) (string, error) {
	if len(l) == 0 {
		return "[]", nil
	}
	b, err := json.Marshal(l)
	return string(b), err
}

// decodeList reads a list stored by encodeList; nil when it is empty.
func decodeList(s string) ([]string, error) {
	var l []string
	if err := json.Unmarshal([]byte(s), &l); err != nil {
		return nil, err
	}
	if len(l) == 0 {
		return nil, nil
	}
	return l, nil
}

// cloneList copies l, keeping nil for an empty list.
func cloneList(l []string) []string {
	if len(l) == 0 {
		return nil
	}
	return slices.Clone(l)
}

// validateReload checks a service's reload patterns by the rule
// devport.toml's validation uses too (internal/valuerule). AddProject and
// AddParkedProject reach it through insertProject.
func validateReload(s Service) error {
	for _, f := range []struct {
		field    string
		patterns []string
	}{{"reload_include", s.ReloadInclude}, {"reload_exclude", s.ReloadExclude}} {
		for _, p := range f.patterns {
			if reason := valuerule.FilePattern(p); reason != "" {
				return &ValidationError{Field: f.field, Value: p, Reason: fmt.Sprintf("%s (service %q)", reason, s.Name),
					Fix: "fix it in devport.toml's [services." + s.Name + "]"}
			}
		}
	}
	return nil
}
