-- 0011: a project's own PHP settings. php_ini is a JSON object of php.ini
-- directives ('{}' when none): devport.toml's [php.ini] at add, then
-- devport set NAME --php-ini KEY=VALUE; devport writes them into the
-- project's ini after the distribution's settings and its development
-- defaults. xdebug is 1 while Xdebug is to be loaded (devport xdebug NAME
-- on|off); 0 (the default) leaves the extension out entirely.

ALTER TABLE projects ADD COLUMN php_ini TEXT NOT NULL DEFAULT '{}';
ALTER TABLE projects ADD COLUMN xdebug INTEGER NOT NULL DEFAULT 0 CHECK (xdebug IN (0, 1));
