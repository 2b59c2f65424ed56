-- 0010: the PHP version of a php service (devport add --php, devport set
-- --php, devport.toml's php = "8.3"): MAJOR.MINOR, '' when none is set
-- (then the app picks the newest version that composer.json's require.php
-- allows, else the newest there is). The process runtime loads that
-- version's mod_php; the container runtime runs php:X.Y-apache.

ALTER TABLE services ADD COLUMN php TEXT NOT NULL DEFAULT '';
