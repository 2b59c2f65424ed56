package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"io/fs"
	"net/url"
	"os"
	"path/filepath"
	"strconv"
	"time"
)

// busyTimeout is how long a writer waits for another writer (another devport
// process, or the other handle in tests) before giving up with SQLITE_BUSY.
const busyTimeout = 5 * time.Second

// maxReaders bounds the read pool. WAL readers do not block each other or the
// writer, so a few are plenty for a desktop app.
const maxReaders = 4

// Options configures Open.
type Options struct {
	// Path is the SQLite file, e.g. $XDG_DATA_HOME/devport/devport.db. Missing
	// parent directories are created with mode 0700 and a new file with mode
	// 0600: the database names every project folder on the machine. SQLite
	// gives its -wal and -shm files the mode of the database file.
	Path string

	// TLDs are the managed top-level domains, without the leading dot, e.g.
	// {"test", "localhost"}. Every project domain must end in one of them, and
	// the first is used in suggested fixes.
	TLDs []string
}

// DB is an open devport database. It is safe for concurrent use, and several
// DB values (in one or several processes) may share one file.
type DB struct {
	path string
	tlds []string

	// w has a single connection and starts every transaction with BEGIN
	// IMMEDIATE: writers in this process queue in database/sql, writers in
	// other processes wait up to busyTimeout for the lock.
	w *sql.DB
	// r serves reads in deferred transactions, each one a consistent snapshot
	// that never blocks a writer (WAL).
	r *sql.DB
}

// Open opens the database at opts.Path, creating it when missing, and applies
// the migrations it lacks. It fails with ErrNewerSchema (wrapped) when the
// file was written by a newer devport.
func Open(ctx context.Context, opts Options) (*DB, error) {
	if opts.Path == "" {
		return nil, errors.New("store: Options.Path is empty")
	}
	if err := checkTLDs(opts.TLDs); err != nil {
		return nil, fmt.Errorf("store: %w", err)
	}
	path, err := filepath.Abs(opts.Path)
	if err != nil {
		return nil, fmt.Errorf("store: %w", err)
	}
	if err := os.MkdirAll(filepath.Dir(path), 0o700); err != nil {
		return nil, fmt.Errorf("store: %w", err)
	}
	if err := createFile(path); err != nil {
		return nil, fmt.Errorf("store: %w", err)
	}

	w, err := sql.Open("sqlite3", dsn(path, "immediate"))
	if err != nil {
		return nil, fmt.Errorf("store: open %s: %w", path, err)
	}
	w.SetMaxOpenConns(1)
	if err := migrateRetrying(ctx, w); err != nil {
		return nil, errors.Join(fmt.Errorf("store: open %s: %w", path, err), w.Close())
	}

	r, err := sql.Open("sqlite3", dsn(path, "deferred"))
	if err != nil {
		return nil, errors.Join(fmt.Errorf("store: open %s: %w", path, err), w.Close())
	}
	r.SetMaxOpenConns(maxReaders)
	if err := r.PingContext(ctx); err != nil {
		return nil, errors.Join(fmt.Errorf("store: open %s: %w", path, err), r.Close(), w.Close())
	}

	tlds := append([]string(nil), opts.TLDs...)
	return &DB{path: path, tlds: tlds, w: w, r: r}, nil
}

// migrateRetrying migrates, trying again for up to busyTimeout while
// SQLite says the file is locked without waiting itself: two devport
// processes that open a new data folder at once (the window and a CLI
// command) both set up its WAL, and one of them gets SQLITE_BUSY at once.
// Each migration is applied once either way (applyMigration checks).
func migrateRetrying(ctx context.Context, w *sql.DB) error {
	deadline := time.Now().Add(busyTimeout)
	for wait := 5 * time.Millisecond; ; wait = min(2*wait, 200*time.Millisecond) {
		err := migrate(ctx, w, migrationFiles)
		if err == nil || !isBusy(err) || time.Now().After(deadline) {
			return err
		}
		select {
		case <-ctx.Done():
			return errors.Join(err, ctx.Err())
		case <-time.After(wait):
		}
	}
}

// Close closes the database. Pending writes have already been committed.
func (db *DB) Close() error {
	return errors.Join(db.r.Close(), db.w.Close())
}

// createFile makes a missing database file with mode 0600 before SQLite opens
// it (SQLite would use 0644). An existing file is left as it is.
func createFile(path string) error {
	f, err := os.OpenFile(path, os.O_RDWR|os.O_CREATE|os.O_EXCL, 0o600)
	if errors.Is(err, fs.ErrExist) {
		return nil
	}
	if err != nil {
		return err
	}
	return f.Close()
}

// dsn builds a go-sqlite3 URI for path. The _ parameters are go-sqlite3's
// (https://github.com/mattn/go-sqlite3#connection-string); each runs as a
// PRAGMA on every new connection, so every pooled connection gets them.
func dsn(path, txlock string) string {
	q := url.Values{}
	q.Set("_journal_mode", "WAL")
	q.Set("_busy_timeout", strconv.FormatInt(busyTimeout.Milliseconds(), 10))
	q.Set("_foreign_keys", "on")
	q.Set("_txlock", txlock)
	// A file: URI with an escaped path keeps "?" or "#" in a directory name
	// from being read as parameters.
	return "file:" + (&url.URL{Path: path}).EscapedPath() + "?" + q.Encode()
}

// write runs fn in one write transaction (BEGIN IMMEDIATE) and commits when fn
// returns nil; on error nothing fn did is kept.
func (db *DB) write(ctx context.Context, fn func(*sql.Tx) error) error {
	tx, err := db.w.BeginTx(ctx, nil)
	if err != nil {
		return err
	}
	if err := fn(tx); err != nil {
		if rbErr := tx.Rollback(); rbErr != nil && !errors.Is(rbErr, sql.ErrTxDone) {
			return errors.Join(err, rbErr)
		}
		return err
	}
	return tx.Commit()
}

// read runs fn in a read transaction, so that several queries see one state.
func (db *DB) read(ctx context.Context, fn func(*sql.Tx) error) error {
	tx, err := db.r.BeginTx(ctx, nil)
	if err != nil {
		return err
	}
	defer tx.Rollback() // read-only: nothing to keep
	return fn(tx)
}

// timeLayout is fixed-width UTC, so stored times sort as text and stay
// readable in the sqlite3 shell.
const timeLayout = "2006-01-02T15:04:05.000000000Z07:00"

func formatTime(t time.Time) string { return t.UTC().Format(timeLayout) }

func parseTime(s string) (time.Time, error) {
	t, err := time.Parse(timeLayout, s)
	if err != nil {
		return time.Time{}, fmt.Errorf("stored time %q: %w", s, err)
	}
	return t, nil
}
