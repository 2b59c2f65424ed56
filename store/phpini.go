package store

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"maps"
	"slices"

	"github.com/devport/devport/internal/valuerule"
)

// ValidatePHPIni checks a project's php.ini settings (Project.PHPIni) by
// valuerule's rules, in key order, and returns the first problem as a
// *ValidationError whose fix is fix.
func ValidatePHPIni(settings map[string]string, fix string) error {
	for _, k := range slices.Sorted(maps.Keys(settings)) {
		if r := valuerule.PHPIniKey(k); r != "" {
			return &ValidationError{Field: "php.ini key", Value: k, Reason: r, Fix: fix}
		}
		if r := valuerule.PHPIniValue(settings[k]); r != "" {
			return &ValidationError{Field: "php.ini " + k, Value: settings[k], Reason: r, Fix: fix}
		}
	}
	return nil
}

// SetPHPIni changes the php.ini settings of project name: each of set is
// added or replaced, then each key of unset removed. Everything is checked
// first: a bad key or value returns a *ValidationError and nothing
// changes. It returns the settings as stored.
func (db *DB) SetPHPIni(ctx context.Context, name string, set map[string]string, unset []string) (map[string]string, error) {
	if err := ValidatePHPIni(set, "use KEY=VALUE with a directive name (memory_limit=1G) and a one-line value"); err != nil {
		return nil, err
	}
	for _, k := range unset {
		if r := valuerule.PHPIniKey(k); r != "" {
			return nil, &ValidationError{Field: "php.ini key", Value: k, Reason: r, Fix: "name the directive to remove, e.g. memory_limit"}
		}
	}
	var out map[string]string
	err := db.write(ctx, func(tx *sql.Tx) error {
		var raw string
		err := tx.QueryRowContext(ctx, `SELECT php_ini FROM projects WHERE name = ?`, name).Scan(&raw)
		if errors.Is(err, sql.ErrNoRows) {
			return fmt.Errorf("project %q: %w", name, ErrNotFound)
		}
		if err != nil {
			return err
		}
		cur, err := decodePHPIni(raw)
		if err != nil {
			return err
		}
		if cur == nil {
			cur = map[string]string{}
		}
		maps.Copy(cur, set)
		for _, k := range unset {
			delete(cur, k)
		}
		enc, err := encodeEnv(cur)
		if err != nil {
			return err
		}
		if _, err := tx.ExecContext(ctx, `UPDATE projects SET php_ini = ? WHERE name = ?`, enc, name); err != nil {
			return err
		}
		out = cur
		return nil
	})
	if errors.Is(err, ErrNotFound) {
		return nil, err
	}
	if err != nil {
		return nil, fmt.Errorf("store: set php.ini of %s: %w", name, err)
	}
	if len(out) == 0 {
		out = nil
	}
	return out, nil
}

// SetXdebug turns Xdebug of project name on or off (Project.Xdebug).
// Nothing else of the project changes. A project that does not exist
// gives an error wrapping ErrNotFound.
func (db *DB) SetXdebug(ctx context.Context, name string, on bool) error {
	return db.execProject(ctx, name, "set xdebug of", `UPDATE projects SET xdebug = ? WHERE name = ?`, on, name)
}

// decodePHPIni reads the php_ini column; nil when it is empty.
func decodePHPIni(raw string) (map[string]string, error) {
	var m map[string]string
	if err := json.Unmarshal([]byte(raw), &m); err != nil {
		return nil, fmt.Errorf("php_ini %q: %w", raw, err)
	}
	if len(m) == 0 {
		return nil, nil
	}
	return m, nil
}
