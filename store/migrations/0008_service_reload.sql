-- 0008: reload on save of a Python service (devport.toml's [services.NAME]
-- reload, reload_include and reload_exclude). reload is 1 (the default:
-- the engine restarts the service when the project's Python files,
-- templates or config change) or 0; reload_include and reload_exclude are
-- JSON arrays of file patterns relative to the project folder, '[]' when
-- none.

ALTER TABLE services ADD COLUMN reload INTEGER NOT NULL DEFAULT 1 CHECK (reload IN (0, 1));
ALTER TABLE services ADD COLUMN reload_include TEXT NOT NULL DEFAULT '[]';
ALTER TABLE services ADD COLUMN reload_exclude TEXT NOT NULL DEFAULT '[]';
