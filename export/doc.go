// Package export renders a devport project as the production layout the
// seed documents describe: an nginx configuration (upstreams, one location
// per route, static aliases, websocket and X-Forwarded-* headers) and a
// docker-compose.yml with nginx in front of one container per service,
// and one per data service (a database, Redis, Mailpit) with its data in a
// named volume.
//
// It takes plain structs (Project, Service, Route) and imports no other
// devport package; app fills them from the store and the running engine.
//
// Every writer quotes what it writes, whatever the store let through: a
// value is one word in compose's sh -c scripts (single quotes), one
// argument in nginx (double quotes with escapes), one string in YAML, and
// what a format cannot carry at all ("$" in nginx, ":" in a compose volume,
// a quote in Apache's config) is an error rather than output. The fuzz
// tests in fuzz_test.go hold the writers to their checkers (nginx -t, a
// YAML parser, sh -n).
package export
