-- 0009: debugging on demand (devport debug NAME on|off). debug is 1 while
-- the service is to run under debugpy, listening on 127.0.0.1:5678 for an
-- IDE to attach; 0 (the default) runs it as before.

ALTER TABLE services ADD COLUMN debug INTEGER NOT NULL DEFAULT 0 CHECK (debug IN (0, 1));
