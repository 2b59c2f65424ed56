-- 0001: projects, their domains and services, settings and the event history.
-- Times are UTC text in a fixed-width layout (2006-01-02T15:04:05.000000000Z),
-- so they sort as text.

CREATE TABLE projects (
    id         INTEGER PRIMARY KEY,
    name       TEXT NOT NULL UNIQUE,
    root       TEXT NOT NULL DEFAULT '',        -- absolute folder; '' when every service is stack 'proxy'
    created_at TEXT NOT NULL
);

-- A domain belongs to one project. position 0 is the primary domain.
CREATE TABLE domains (
    domain     TEXT PRIMARY KEY CHECK (domain = lower(domain)),
    project_id INTEGER NOT NULL REFERENCES projects (id) ON DELETE CASCADE,
    position   INTEGER NOT NULL,
    UNIQUE (project_id, position)
);

CREATE TABLE services (
    id          INTEGER PRIMARY KEY,
    project_id  INTEGER NOT NULL REFERENCES projects (id) ON DELETE CASCADE,
    name        TEXT NOT NULL,
    stack       TEXT NOT NULL,
    runtime     TEXT NOT NULL DEFAULT 'process',
    app         TEXT NOT NULL DEFAULT '',       -- uvicorn module:attr
    doc_root    TEXT NOT NULL DEFAULT '',       -- php document root
    path_prefix TEXT NOT NULL DEFAULT '/' CHECK (substr(path_prefix, 1, 1) = '/'),
    url         TEXT NOT NULL DEFAULT '',       -- upstream of stack 'proxy'
    UNIQUE (project_id, name),
    UNIQUE (project_id, path_prefix)
);

CREATE TABLE settings (
    key   TEXT PRIMARY KEY,
    value TEXT NOT NULL
);

-- Events name their project and service by name, not by key, so the history
-- of a removed project stays readable.
CREATE TABLE events (
    id      INTEGER PRIMARY KEY,
    time    TEXT NOT NULL,
    project TEXT NOT NULL DEFAULT '',
    service TEXT NOT NULL DEFAULT '',
    kind    TEXT NOT NULL,
    detail  TEXT NOT NULL DEFAULT ''
);
CREATE INDEX events_by_time ON events (time, id);
CREATE INDEX events_by_project ON events (project, time, id);
