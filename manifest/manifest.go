package manifest

import (
	"strconv"

	"github.com/devport/devport/internal/stackdef"
)

// FileName is the name of the manifest in a project folder.
const FileName = "devport.toml"

// Stacks are the stacks a service may name, in the order errors list them.
var Stacks = stackdef.Names(stackdef.Folder)

// File is a parsed devport.toml.
type File struct {
	// Name is the project name; "" means the folder's name.
	Name string `toml:"name"`
	// Domains are the project's domains, primary first; empty means NAME.test.
	Domains []string `toml:"domains"`
	// Services maps a service name ("web", "api") to how it runs.
	Services map[string]Service `toml:"services"`
	// Routes are prefixes served beyond the services' own prefixes.
	Routes []Route `toml:"routes"`
	// Hooks are commands run around the project's lifecycle.
	Hooks Hooks `toml:"hooks"`
	// Database says how the project's databases behave.
	Database Database `toml:"database"`
	// PHP is the [php] table: [php.ini] holds the project's php.ini
	// directives.
	PHP PHP `toml:"php"`

	// Path is the file the File was parsed from, used in errors.
	Path string `toml:"-"`
	// lines maps a key ("services.web.stack", "routes.1.prefix") to its
	// line; nil for a File built in code.
	lines map[string]int
}

// Service is one backend of the project.
type Service struct {
	// Stack is php, uvicorn, gunicorn, wsgi, uwsgi or static, or a data
	// service: mariadb (or mysql), postgres, redis or mailpit.
	Stack string `toml:"stack"`
	// Runtime is process (the default when "") or container.
	Runtime string `toml:"runtime"`
	// Prefix is the path prefix routed to the service; "" means "/".
	Prefix string `toml:"prefix"`
	// App is the Python stacks' MODULE:ATTRIBUTE, e.g. "main:app".
	App string `toml:"app"`
	// DocRoot is php's document root, relative to the project folder.
	DocRoot string `toml:"docroot"`
	// Workers is the worker count of gunicorn, wsgi and uwsgi; 0: one per core.
	Workers int `toml:"workers"`
	// Image is the container runtime's image; "" lets devport choose.
	Image string `toml:"image"`
	// PHP is the php stack's version, MAJOR.MINOR ("8.3"): the process
	// runtime loads that version's mod_php, the container runtime runs
	// php:8.3-apache. "" picks the newest that composer.json's require.php
	// allows, else the newest.
	PHP string `toml:"php"`
	// Env is added to the backend's environment.
	Env map[string]string `toml:"env"`
	// Version is a data service's version: one the host has (process) or
	// the image tag (container); "" for the newest, or the default image.
	Version string `toml:"version"`
	// Reload restarts a Python service when the project's Python files,
	// templates or config change, holding its requests meanwhile; nil
	// (left out) is the default, on; false turns it off. Only the Python
	// stacks take it: PHP reads a changed file on the next request.
	Reload *bool `toml:"reload"`
	// ReloadInclude are file patterns, relative to the project folder,
	// that reload the service beyond the defaults: ["*.graphql"]. A
	// pattern without "/" matches a name in any folder, one with "/" the
	// path from the project folder, and a folder matched covers what is in
	// it (path.Match's syntax: * ? [a-z]).
	ReloadInclude []string `toml:"reload_include"`
	// ReloadExclude are file patterns that never reload the service, over
	// the defaults and ReloadInclude: ["generated/*"].
	ReloadExclude []string `toml:"reload_exclude"`
}

// Route sends a prefix to a service, a static folder or a URL.
type Route struct {
	// Prefix is the path prefix, "/static" or "/".
	Prefix string `toml:"prefix"`
	// Service names a service of this file.
	Service string `toml:"service"`
	// Static is a folder relative to the project folder, served by the proxy.
	Static string `toml:"static"`
	// URL is an http:// or https:// upstream.
	URL string `toml:"url"`
	// Strip removes the prefix before forwarding (service and url routes).
	Strip bool `toml:"strip"`
	// CacheControl is sent with static files.
	CacheControl string `toml:"cache_control"`
}

// Hooks are commands run in the project folder with sh -c.
type Hooks struct {
	// BeforeStart runs before the services start ("composer install");
	// when it fails, the project does not start.
	BeforeStart string `toml:"before_start"`
}

// Database is the [database] table.
type Database struct {
	// FollowGitBranch gives each git branch its own copy of the
	// databases: a checkout snapshots them under the old branch and
	// restores the new branch's snapshot.
	FollowGitBranch bool `toml:"follow_git_branch"`
}

// PHP is the [php] table.
type PHP struct {
	// Ini are php.ini directives written on top of the distribution's
	// php.ini and devport's development defaults, for the site and
	// devport php alike: memory_limit = "1G". A dotted directive may be
	// written bare (date.timezone = "UTC") or quoted; numbers are written
	// as they are, true and false as On and Off. Values are one line
	// without '"', '\' or "${" (valuerule.PHPIniValue).
	Ini map[string]any `toml:"ini"`
}

// Settings are Ini as php.ini directives: nested tables joined with dots
// (date.timezone), numbers as written, booleans as On and Off. A value of
// another type is left out (Validate reports it).
func (p PHP) Settings() map[string]string {
	if len(p.Ini) == 0 {
		return nil
	}
	out := map[string]string{}
	flattenIni("", p.Ini, out, nil)
	return out
}

// flattenIni adds the directives of table t under prefix to out, and calls
// bad for a value that is not a string, number or boolean.
func flattenIni(prefix string, t map[string]any, out map[string]string, bad func(key string, v any)) {
	for k, v := range t {
		key := k
		if prefix != "" {
			key = prefix + "." + k
		}
		switch v := v.(type) {
		case string:
			out[key] = v
		case int64:
			out[key] = strconv.FormatInt(v, 10)
		case float64:
			out[key] = strconv.FormatFloat(v, 'f', -1, 64)
		case bool:
			out[key] = "Off"
			if v {
				out[key] = "On"
			}
		case map[string]any:
			flattenIni(key, v, out, bad)
		default:
			if bad != nil {
				bad(key, v)
			}
		}
	}
}

// known lists the keys each level accepts, for unknown-key errors.
var known = map[string][]string{
	"":         {"name", "domains", "services", "routes", "hooks", "database", "php"},
	"php":      {"ini"},
	"database": {"follow_git_branch"},
	"services": {"stack", "runtime", "prefix", "app", "docroot", "workers", "image", "env", "version", "reload", "reload_include", "reload_exclude"},
	"routes":   {"prefix", "service", "static", "url", "strip", "cache_control"},
	"hooks":    {"before_start"},
}
