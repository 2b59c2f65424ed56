package store

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"maps"
	"slices"
)

// EnvChange changes the environment of one service (Service.Env): Set is
// added or replaced, then each key of Unset removed.
type EnvChange struct {
	Service string
	Set     map[string]string
	Unset   []string
}

// SetServiceEnv applies changes to the services of project name in one
// transaction (devport set NAME --env, after devport.toml's env). Every
// name and value is checked first by ValidateEnv: a bad one returns a
// *ValidationError on field "env" naming the variable, and nothing
// changes; so does a service the project does not have. A project that
// does not exist gives an error wrapping ErrNotFound. It returns each
// changed service's environment as stored (nil when it has none left).
func (db *DB) SetServiceEnv(ctx context.Context, name string, changes []EnvChange) (map[string]map[string]string, error) {
	for _, c := range changes {
		for _, k := range slices.Sorted(maps.Keys(c.Set)) {
			if err := ValidateEnv(k, c.Set[k]); err != nil {
				return nil, err
			}
		}
		for _, k := range c.Unset {
			if err := ValidateEnv(k, ""); err != nil {
				return nil, err
			}
		}
	}
	out := map[string]map[string]string{}
	err := db.write(ctx, func(tx *sql.Tx) error {
		id, err := projectID(ctx, tx, name)
		if err != nil {
			return err
		}
		for _, c := range changes {
			var raw string
			err := tx.QueryRowContext(ctx, `SELECT env FROM services WHERE project_id = ? AND name = ?`, id, c.Service).Scan(&raw)
			if errors.Is(err, sql.ErrNoRows) {
				return &ValidationError{Field: "service", Value: c.Service, Reason: "no such service in project " + name,
					Fix: "see devport ls --json for its services"}
			}
			if err != nil {
				return err
			}
			cur := out[c.Service] // a service named twice builds on the first change
			if _, seen := out[c.Service]; !seen {
				if err := json.Unmarshal([]byte(raw), &cur); err != nil {
					return fmt.Errorf("service %q env %q: %w", c.Service, raw, err)
				}
			}
			if cur == nil {
				cur = map[string]string{}
			}
			maps.Copy(cur, c.Set)
			for _, k := range c.Unset {
				delete(cur, k)
			}
			enc, err := encodeEnv(cur)
			if err != nil {
				return err
			}
			if _, err := tx.ExecContext(ctx, `UPDATE services SET env = ? WHERE project_id = ? AND name = ?`, enc, id, c.Service); err != nil {
				return err
			}
			out[c.Service] = cur
		}
		return nil
	})
	if ve, ok := errors.AsType[*ValidationError](err); ok {
		return nil, ve
	}
	if errors.Is(err, ErrNotFound) {
		return nil, err
	}
	if err != nil {
		return nil, fmt.Errorf("store: set env of %s: %w", name, err)
	}
	for s, env := range out {
		if len(env) == 0 {
			out[s] = nil
		}
	}
	return out, nil
}

// SetBeforeStart sets the before_start hook of project name
// (Project.BeforeStart; devport.toml's hooks.before_start, then devport
// set --before-start); "" removes it. A command that cannot run returns
// a *ValidationError and nothing changes; a project that does not exist
// gives an error wrapping ErrNotFound.
func (db *DB) SetBeforeStart(ctx context.Context, name, cmd string) error {
	if r := hookReason(cmd); r != "" {
		return &ValidationError{Field: "before start", Value: cmd, Reason: r, Fix: "give a shell command, e.g. --before-start 'composer install'"}
	}
	return db.execProject(ctx, name, "set before_start of", `UPDATE projects SET before_start = ? WHERE name = ?`, cmd, name)
}
