-- 0007: a project's data services (MariaDB, PostgreSQL, Redis, Mailpit):
-- started before its web services, reached by those through environment
-- variables, never routed to by path. version is what the user asked for
-- ('' = the newest the host has, or the image's default tag); port is the
-- loopback port clients use, chosen once at add and held by one data
-- service only; password is the generated one of the database user ('' for
-- the services that have none); db_name is the database and user it
-- creates ('' for the services that have none). A data service's name is unique in its
-- project among web and data services alike (the store checks the web
-- side).

CREATE TABLE data_services (
    id         INTEGER PRIMARY KEY,
    project_id INTEGER NOT NULL REFERENCES projects (id) ON DELETE CASCADE,
    name       TEXT NOT NULL,
    stack      TEXT NOT NULL,
    runtime    TEXT NOT NULL DEFAULT 'process',
    image      TEXT NOT NULL DEFAULT '',
    version    TEXT NOT NULL DEFAULT '',
    port       INTEGER NOT NULL CHECK (port > 0 AND port < 65536),
    password   TEXT NOT NULL DEFAULT '',
    db_name    TEXT NOT NULL DEFAULT '',      -- the database and its user; kept when the project is renamed
    UNIQUE (project_id, name)
);
CREATE UNIQUE INDEX data_services_by_port ON data_services (port);

-- follow_branch: the project's databases follow its git branch (devport.toml's
-- [database] follow_git_branch): a checkout snapshots the database under the
-- old branch's name and restores the new branch's snapshot.
ALTER TABLE projects ADD COLUMN follow_branch INTEGER NOT NULL DEFAULT 0;
