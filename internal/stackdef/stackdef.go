// Package stackdef is the one list of devport's stacks: their names and
// what each one is. stacks runs them, manifest and store validate them, the
// engine plans with them, export writes them out, and the CLI's help and the
// window's drop-downs list them, all from this table, so adding a stack is a
// change here and in the code that runs it, never a hunt for string
// literals (TestNoStackLiterals holds that in place).
//
// It imports nothing but the standard library, so every package may read it.
package stackdef

import (
	"slices"
	"strings"
)

// The stack names.
const (
	PHP      = "php"      // Apache with mod_php
	Uvicorn  = "uvicorn"  // an ASGI app under uvicorn
	Gunicorn = "gunicorn" // an ASGI app under gunicorn with uvicorn workers
	WSGI     = "wsgi"     // a WSGI app (Flask, Django) under gunicorn's sync workers
	UWSGI    = "uwsgi"    // a WSGI app under uWSGI, reached over the uwsgi protocol
	Static   = "static"   // a folder the proxy serves itself
	Proxy    = "proxy"    // a server the user runs; the proxy forwards to its URL

	// The data services: started before the web services, never routed
	// to by path, their data kept in the data dir or a named volume.
	MariaDB  = "mariadb"  // MariaDB (MySQL's protocol); MySQL is accepted as a name for it
	Postgres = "postgres" // PostgreSQL
	Redis    = "redis"    // Redis
	Mailpit  = "mailpit"  // Mailpit: SMTP that keeps every message, with a web UI and an API

	// MySQL is the name people also give MariaDB (Canonical maps it).
	MySQL = "mysql"
)

// The families of Python apps: a detected app carries over between the
// stacks of one family (an ASGI app runs under uvicorn or gunicorn).
const (
	FamilyASGI = "asgi"
	FamilyWSGI = "wsgi"
)

// The default images of the container runtime, the official ones.
const (
	DefaultPHPImage      = "php:8.3-apache"
	DefaultPythonImage   = "python:3.12-slim"
	DefaultMariaDBImage  = "mariadb:11"
	DefaultPostgresImage = "postgres:17"
	DefaultRedisImage    = "redis:7"
	DefaultMailpitImage  = "axllent/mailpit"
)

// Def is what a stack is.
type Def struct {
	Name string
	// Help describes the stack in a sentence fragment, for help texts and
	// drop-downs.
	Help string
	// PHP and Python say which language's apps the stack runs. A Python
	// stack takes its app as MODULE:ATTRIBUTE.
	PHP, Python bool
	// Family is the Python app family (FamilyASGI, FamilyWSGI), "" for
	// the others.
	Family string
	// Process is true when the stack runs a backend (as a process or a
	// container); false when nothing runs (Static, Proxy).
	Process bool
	// ServedByProxy is true when the proxy serves the stack's files
	// itself (Static).
	ServedByProxy bool
	// DefaultImage is the container runtime's image when the service and
	// the settings name none; "" for stacks that run no container.
	DefaultImage string
	// StripsPrefix is true when the proxy removes a service's path prefix
	// before forwarding: the ASGI stacks get the prefix as root_path and
	// route on the rest. The WSGI stacks take the full path and split
	// SCRIPT_NAME off themselves, and Apache serves the prefix as a path.
	StripsPrefix bool
	// Data is true for the data services (databases, caches, mail): they
	// start before the web services, get no path route, keep their data
	// across runs, and hand their connection to the web services as
	// environment variables.
	Data bool
	// Port is a data service's conventional TCP port (3306, 5432, 6379;
	// Mailpit's SMTP port 1025): the one it has inside its container, and
	// what its clients expect; 0 for the web stacks.
	Port int
	// Database is true for the data services that hold SQL databases
	// (snapshots, dumps, DB_* variables).
	Database bool
}

// defs is every stack, in the order help texts and drop-downs list them.
var defs = []Def{
	{Name: PHP, Help: "PHP under Apache (mod_php)", PHP: true, Process: true, DefaultImage: DefaultPHPImage},
	{Name: Uvicorn, Help: "an ASGI app (FastAPI, Starlette) under uvicorn", Python: true, Family: FamilyASGI, Process: true,
		DefaultImage: DefaultPythonImage, StripsPrefix: true},
	{Name: Gunicorn, Help: "an ASGI app under gunicorn with uvicorn workers", Python: true, Family: FamilyASGI, Process: true,
		DefaultImage: DefaultPythonImage, StripsPrefix: true},
	{Name: WSGI, Help: "a WSGI app (Flask, Django) under gunicorn", Python: true, Family: FamilyWSGI, Process: true,
		DefaultImage: DefaultPythonImage},
	{Name: UWSGI, Help: "a WSGI app under uWSGI (the uwsgi protocol)", Python: true, Family: FamilyWSGI, Process: true,
		DefaultImage: DefaultPythonImage},
	{Name: Static, Help: "a folder of files the proxy serves", ServedByProxy: true},
	{Name: Proxy, Help: "a server you already run, at its URL"},
	{Name: MariaDB, Help: "a MariaDB (MySQL) database", Process: true, Data: true, Database: true, Port: 3306,
		DefaultImage: DefaultMariaDBImage},
	{Name: Postgres, Help: "a PostgreSQL database", Process: true, Data: true, Database: true, Port: 5432,
		DefaultImage: DefaultPostgresImage},
	{Name: Redis, Help: "a Redis cache and store", Process: true, Data: true, Port: 6379, DefaultImage: DefaultRedisImage},
	{Name: Mailpit, Help: "Mailpit, which catches the mail the app sends and shows it", Process: true, Data: true, Port: 1025,
		DefaultImage: DefaultMailpitImage},
}

// Canonical is the stack name for name: MySQL is MariaDB, the rest are
// themselves.
func Canonical(name string) string {
	if name == MySQL {
		return MariaDB
	}
	return name
}

// All returns every stack.
func All() []Def { return slices.Clone(defs) }

// Lookup returns the stack called name.
func Lookup(name string) (Def, bool) {
	for _, d := range defs {
		if d.Name == name {
			return d, true
		}
	}
	return Def{}, false
}

// Names lists the stacks for which keep is true (all when keep is nil).
func Names(keep func(Def) bool) []string {
	var out []string
	for _, d := range defs {
		if keep == nil || keep(d) {
			out = append(out, d.Name)
		}
	}
	return out
}

// Folder reports whether a project service may use the stack: every
// stack but Proxy, which `devport add --proxy URL` makes instead.
func Folder(d Def) bool { return d.Name != Proxy }

// Web reports whether the stack serves requests under a path prefix: every
// stack but the data services.
func Web(d Def) bool { return !d.Data }

// IsData reports whether stack is a data service (see Def.Data).
func IsData(stack string) bool { d, _ := Lookup(stack); return d.Data }

// IsDatabase reports whether stack is an SQL database (see Def.Database).
func IsDatabase(stack string) bool { d, _ := Lookup(stack); return d.Database }

// Port is a data stack's conventional port (see Def.Port), 0 for others.
func Port(stack string) int { d, _ := Lookup(stack); return d.Port }

// Runs reports whether the stack runs a backend (see Def.Process).
func Runs(d Def) bool { return d.Process }

// IsPython reports whether stack runs a Python app.
func IsPython(stack string) bool { d, _ := Lookup(stack); return d.Python }

// IsPHP reports whether stack runs PHP.
func IsPHP(stack string) bool { d, _ := Lookup(stack); return d.PHP }

// RunsNothing reports whether a service of stack starts no backend: a
// server the user runs (Proxy) or a folder the proxy serves (Static).
func RunsNothing(stack string) bool {
	d, ok := Lookup(stack)
	return ok && !d.Process
}

// Family is stack's Python app family, or the stack's own name for the
// others (so two stacks share a family only when they run the same kind of
// app).
func Family(stack string) string {
	if d, _ := Lookup(stack); d.Family != "" {
		return d.Family
	}
	return stack
}

// DefaultImage is the container image of stack when nothing names one, ""
// for stacks that run no container.
func DefaultImage(stack string) string { d, _ := Lookup(stack); return d.DefaultImage }

// StripsPrefix reports whether the proxy removes a service's path prefix
// before forwarding to a backend of stack (see Def.StripsPrefix).
func StripsPrefix(stack string) bool { d, _ := Lookup(stack); return d.StripsPrefix }

// List joins names for a message: "php, uvicorn or static".
func List(names []string, last string) string {
	switch len(names) {
	case 0:
		return ""
	case 1:
		return names[0]
	}
	return strings.Join(names[:len(names)-1], ", ") + " " + last + " " + names[len(names)-1]
}

// PHPImage is the official image of PHP version v, php:X.Y-apache.
func PHPImage(v string) string { return "php:" + v + "-apache" }
