-- 0004: what devport.toml can say beyond 0001-0003: a service's worker count
-- (gunicorn, wsgi, uwsgi; 0 = one per core) and extra environment (a JSON
-- object of strings, '{}' when none), and a project's before_start hook (a
-- command run with sh -c in its folder before its services start; '' = none).

ALTER TABLE services ADD COLUMN workers INTEGER NOT NULL DEFAULT 0 CHECK (workers >= 0);
ALTER TABLE services ADD COLUMN env TEXT NOT NULL DEFAULT '{}';
ALTER TABLE projects ADD COLUMN before_start TEXT NOT NULL DEFAULT '';
