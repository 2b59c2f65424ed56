-- 0006: parked folders (devport park DIR), every subfolder of which is a
-- project, and which projects each one made: unpark removes exactly those,
-- and only they start on demand and stop when idle. Removing a project
-- removes its row; forgetting a folder forgets its rows (the engine removes
-- the projects first).

CREATE TABLE parked_dirs (
    path       TEXT PRIMARY KEY,               -- absolute folder
    created_at TEXT NOT NULL
);

CREATE TABLE parked_projects (
    project_id INTEGER PRIMARY KEY REFERENCES projects (id) ON DELETE CASCADE,
    dir        TEXT NOT NULL REFERENCES parked_dirs (path) ON DELETE CASCADE
);
CREATE INDEX parked_projects_by_dir ON parked_projects (dir);
