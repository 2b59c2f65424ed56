package store

import (
	"context"
	"fmt"
	"time"
)

// Event is one entry of the history: a service started, stopped or crashed,
// a certificate issued.
type Event struct {
	ID      int64     // assigned by AddEvent
	Time    time.Time // now when zero; reads return UTC
	Project string    // project name, "" for engine-wide events
	Service string    // service name, "" for project-wide events
	Kind    string    // what happened, e.g. "started", "crashed", "cert-issued"; required
	Detail  string    // free text for people, e.g. "exit status 1"
}

// AddEvent appends e to the history.
func (db *DB) AddEvent(ctx context.Context, e Event) error {
	if e.Kind == "" {
		return &ValidationError{Field: "kind", Value: e.Kind, Reason: "an event needs a kind",
			Fix: `set Event.Kind, e.g. "started"`}
	}
	if e.Time.IsZero() {
		e.Time = time.Now()
	}
	_, err := db.w.ExecContext(ctx, `INSERT INTO events (time, project, service, kind, detail) VALUES (?, ?, ?, ?, ?)`,
		formatTime(e.Time), e.Project, e.Service, e.Kind, e.Detail)
	if err != nil {
		return fmt.Errorf("store: add event: %w", err)
	}
	return nil
}

// Events returns the history newest first: of the project called project, or
// of everything when project is "". limit <= 0 means no limit.
func (db *DB) Events(ctx context.Context, project string, limit int) ([]Event, error) {
	q, args := `SELECT id, time, project, service, kind, detail FROM events`, []any{}
	if project != "" {
		q += ` WHERE project = ?`
		args = append(args, project)
	}
	if limit <= 0 {
		limit = -1 // SQLite: no limit
	}
	q += ` ORDER BY time DESC, id DESC LIMIT ?`
	args = append(args, limit)

	rows, err := db.r.QueryContext(ctx, q, args...)
	if err != nil {
		return nil, fmt.Errorf("store: events: %w", err)
	}
	defer rows.Close()
	var es []Event
	for rows.Next() {
		var e Event
		var t string
		if err := rows.Scan(&e.ID, &t, &e.Project, &e.Service, &e.Kind, &e.Detail); err != nil {
			return nil, fmt.Errorf("store: events: %w", err)
		}
		if e.Time, err = parseTime(t); err != nil {
			return nil, fmt.Errorf("store: events: %w", err)
		}
		es = append(es, e)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("store: events: %w", err)
	}
	return es, nil
}
