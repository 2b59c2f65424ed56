-- 0002: the container image of a service. '' means the stack's default image
-- (or the image setting); only the container runtime uses it.

ALTER TABLE services ADD COLUMN image TEXT NOT NULL DEFAULT '';
