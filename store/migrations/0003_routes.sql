-- 0003: routes a project declares beyond its services' own path prefixes:
-- a prefix sent to one of its services, served from a folder by the proxy,
-- or forwarded to an external URL. A route at a service's own prefix
-- replaces that service's default route. Durations are in milliseconds and
-- 0 means the proxy's default, as does max_body 0 (-1: no limit).

CREATE TABLE routes (
    id                 INTEGER PRIMARY KEY,
    project_id         INTEGER NOT NULL REFERENCES projects (id) ON DELETE CASCADE,
    path_prefix        TEXT NOT NULL CHECK (substr(path_prefix, 1, 1) = '/'),
    kind               TEXT NOT NULL CHECK (kind IN ('service', 'static', 'url')),
    target             TEXT NOT NULL,              -- service name, absolute folder or URL
    strip_prefix       INTEGER NOT NULL DEFAULT 0,
    cache_control      TEXT NOT NULL DEFAULT '',
    connect_timeout_ms INTEGER NOT NULL DEFAULT 0,
    read_timeout_ms    INTEGER NOT NULL DEFAULT 0,
    write_timeout_ms   INTEGER NOT NULL DEFAULT 0,
    max_body           INTEGER NOT NULL DEFAULT 0,
    UNIQUE (project_id, path_prefix)
);
