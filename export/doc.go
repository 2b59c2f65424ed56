// Package export renders a devport project as the production layout the
// seed documents describe: an nginx configuration (upstreams, one location
// per route, static aliases, websocket and X-Forwarded-* headers) and a
// docker-compose.yml with nginx in front of one container per service.
//
// It takes plain structs (Project, Service, Route) and imports no other
// devport package; app fills them from the store and the running engine.
package export
