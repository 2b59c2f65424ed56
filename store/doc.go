// Package store keeps devport's state in a single SQLite file: projects with
// their domains and services, key/value settings, and an event history
// (started, stopped, crashed, cert issued).
//
// The database is opened through database/sql and github.com/mattn/go-sqlite3
// in WAL mode with a busy timeout, so the GUI, a headless engine and CLI
// invocations can share one file: readers never block, and a writer waits for
// another writer instead of failing with "database is locked". Every write
// transaction starts with BEGIN IMMEDIATE, which takes the write lock up front;
// a deferred transaction that reads and then writes could otherwise fail with
// SQLITE_BUSY without ever waiting (https://sqlite.org/lang_transaction.html).
//
// The schema is built by numbered migrations embedded in the binary
// (migrations/0001_init.sql, ...). Open applies the missing ones in order, each
// in its own transaction, and records them in the schema_migrations table. A
// database written by a newer devport is refused with ErrNewerSchema rather
// than being modified.
//
// Input is validated before anything is written. Bad input yields a
// *ValidationError whose one-line message names the field, the value, the
// reason and the fix, and leaves the database as it was.
package store
