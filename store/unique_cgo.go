//go:build cgo

package store

import (
	"errors"

	"github.com/mattn/go-sqlite3"
)

// isUniqueViolation reports whether err is a UNIQUE or PRIMARY KEY constraint
// failure, which a race with another writer can still produce after the
// duplicate checks.
func isUniqueViolation(err error) bool {
	var se sqlite3.Error
	return errors.As(err, &se) &&
		(se.ExtendedCode == sqlite3.ErrConstraintUnique || se.ExtendedCode == sqlite3.ErrConstraintPrimaryKey)
}

// isBusy reports whether err is SQLite's "database is locked" that its
// busy handler does not wait out: another process opening a new file
// sets up its WAL at the same moment.
func isBusy(err error) bool {
	var se sqlite3.Error
	return errors.As(err, &se) && (se.Code == sqlite3.ErrBusy || se.Code == sqlite3.ErrLocked)
}
