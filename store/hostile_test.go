package store

import (
	"context"
	"errors"
	"strings"
	"testing"
)

// hostileCase is one value a CLI flag, devport.toml or the GUI may hand
// the store, with the field the refusal must name.
type hostileCase struct {
	name  string
	field string
	// op performs the write on a database that holds project "shop" (php
	// service "web" at "/", uwsgi service "api" at "/api").
	op func(ctx context.Context, db *DB) error
}

func hostileProject(mod func(*Project)) func(context.Context, *DB) error {
	return func(ctx context.Context, db *DB) error {
		p := Project{Name: "bad", Root: "/srv/bad", Domains: []string{"bad.test"},
			Services: []Service{{Name: "web", Stack: "php"}}}
		mod(&p)
		_, err := db.AddProject(ctx, p)
		return err
	}
}

func hostileService(s Service) func(context.Context, *DB) error {
	return hostileProject(func(p *Project) { p.Services = []Service{s} })
}

func hostileRoute(r Route) func(context.Context, *DB) error {
	return func(ctx context.Context, db *DB) error {
		r.Project = "shop"
		_, err := db.AddRoute(ctx, r)
		return err
	}
}

func hostileEnv(changes ...EnvChange) func(context.Context, *DB) error {
	return func(ctx context.Context, db *DB) error {
		_, err := db.SetServiceEnv(ctx, "shop", changes)
		return err
	}
}

func hostileRuntime(image string) func(context.Context, *DB) error {
	return func(ctx context.Context, db *DB) error {
		return db.SetServiceRuntime(ctx, "shop", "web", "container", image)
	}
}

// hostileCases are values that some consumer (Apache's config, a command
// line, the nginx or compose export) cannot carry, issue 11.6.
var hostileCases = []hostileCase{
	{"folder with a quote", "folder", hostileProject(func(p *Project) { p.Root = `/srv/a"b` })},
	{"folder with a newline", "folder", hostileProject(func(p *Project) { p.Root = "/srv/a\nb" })},
	{"folder with a control character", "folder", hostileProject(func(p *Project) { p.Root = "/srv/a\x01b" })},
	{"folder with a tab", "folder", hostileProject(func(p *Project) { p.Root = "/srv/a\tb" })},
	{"folder with a backslash", "folder", hostileProject(func(p *Project) { p.Root = `/srv/a\b` })},
	{"folder with an Apache variable", "folder", hostileProject(func(p *Project) { p.Root = "/srv/${HOME}" })},
	{"folder with an nginx variable", "folder", hostileProject(func(p *Project) { p.Root = "/srv/$host" })},
	{"folder not UTF-8", "folder", hostileProject(func(p *Project) { p.Root = "/srv/\xff" })},
	{"document root with a quote", "document root", hostileService(Service{Name: "web", Stack: "php", DocRoot: `/srv/bad/"pub`})},
	{"document root with a newline", "document root", hostileService(Service{Name: "web", Stack: "php", DocRoot: "/srv/bad/pub\nInclude /etc/x"})},
	{"prefix with a parenthesis", "path prefix", hostileService(Service{Name: "web", Stack: "php", PathPrefix: "/p(y"})},
	{"prefix with a variable", "path prefix", hostileService(Service{Name: "web", Stack: "php", PathPrefix: "/py${X}"})},
	{"prefix with a command substitution", "path prefix", hostileService(Service{Name: "web", Stack: "uvicorn", App: "main:app", PathPrefix: "/api$(id>/tmp/x)"})},
	{"uwsgi prefix with =", "path prefix", hostileService(Service{Name: "web", Stack: "uwsgi", App: "app:app", PathPrefix: "/a=b"})},
	{"prefix with a quote", "path prefix", hostileService(Service{Name: "web", Stack: "php", PathPrefix: `/a"b`})},
	{"prefix with a semicolon", "path prefix", hostileService(Service{Name: "web", Stack: "php", PathPrefix: "/a;b"})},
	{"prefix with a percent", "path prefix", hostileService(Service{Name: "web", Stack: "php", PathPrefix: "/a%20b"})},
	{"app with a shell command", "app", hostileService(Service{Name: "web", Stack: "uvicorn", App: "main:app;id"})},
	{"app with a space", "app", hostileService(Service{Name: "web", Stack: "uvicorn", App: "main:app --reload"})},
	{"image with a command substitution", "image", hostileService(Service{Name: "web", Stack: "php", Runtime: "container", Image: "php$(id)"})},
	{"image with a quote", "image", hostileService(Service{Name: "web", Stack: "php", Runtime: "container", Image: `php"x`})},
	{"proxy url with a space", "url", hostileService(Service{Name: "ext", Stack: "proxy", URL: "http://127.0.0.1:3000/a b"})},
	{"proxy url with a quote", "url", hostileService(Service{Name: "ext", Stack: "proxy", URL: `http://127.0.0.1:3000/a"b`})},
	{"proxy url with a newline", "url", hostileService(Service{Name: "ext", Stack: "proxy", URL: "http://127.0.0.1:3000/a\nb"})},
	{"proxy url with an nginx variable", "url", hostileService(Service{Name: "ext", Stack: "proxy", URL: "http://127.0.0.1:3000/$host"})},
	{"env name with a space", "env", hostileService(Service{Name: "web", Stack: "php", Env: map[string]string{"A B": "1"}})},
	{"env value with NUL", "env", hostileService(Service{Name: "web", Stack: "php", Env: map[string]string{"A": "1\x00"}})},
	{"hook with NUL", "before start", hostileProject(func(p *Project) { p.BeforeStart = "make\x00" })},
	{"set env name with =", "env", hostileEnv(EnvChange{Service: "web", Set: map[string]string{"A=B": "1"}})},
	{"set env name with a newline", "env", hostileEnv(EnvChange{Service: "web", Set: map[string]string{"A\nLD_PRELOAD": "/tmp/x.so"}})},
	{"set env name with a command substitution", "env", hostileEnv(EnvChange{Service: "web", Set: map[string]string{"A$(id)": "1"}})},
	{"set env value with NUL", "env", hostileEnv(EnvChange{Service: "web", Set: map[string]string{"A": "1\x00B=2"}})},
	{"unset env name with a semicolon", "env", hostileEnv(EnvChange{Service: "web", Unset: []string{"A;rm -rf /"}})},
	{"set env of a service the project lacks", "service", hostileEnv(EnvChange{Service: "nope", Set: map[string]string{"A": "1"}})},
	{"a bad env change after a good one", "env", hostileEnv(EnvChange{Service: "web", Set: map[string]string{"A": "1"}},
		EnvChange{Service: "api", Set: map[string]string{"1X": "1"}})},
	{"a good env change before a missing service", "service", hostileEnv(EnvChange{Service: "web", Set: map[string]string{"A": "1"}},
		EnvChange{Service: "nope", Set: map[string]string{"A": "1"}})},
	{"set hook with NUL", "before start", func(ctx context.Context, db *DB) error { return db.SetBeforeStart(ctx, "shop", "make\x00; id") }},

	{"route prefix with a parenthesis", "path prefix", hostileRoute(Route{PathPrefix: "/p(y", Kind: RouteService, Target: "web"})},
	{"route prefix with a variable", "path prefix", hostileRoute(Route{PathPrefix: "/py${X}", Kind: RouteService, Target: "web"})},
	{"route prefix with =", "path prefix", hostileRoute(Route{PathPrefix: "/a=b", Kind: RouteService, Target: "api"})},
	{"static folder with a quote", "folder", hostileRoute(Route{PathPrefix: "/s", Kind: RouteStatic, Target: `/srv/a"b`})},
	{"static folder with a newline", "folder", hostileRoute(Route{PathPrefix: "/s", Kind: RouteStatic, Target: "/srv/a\nb"})},
	{"static folder with an nginx variable", "folder", hostileRoute(Route{PathPrefix: "/s", Kind: RouteStatic, Target: "/srv/$document_root"})},
	{"cache control with an nginx directive", "cache control", hostileRoute(Route{PathPrefix: "/s", Kind: RouteStatic, Target: "/srv/s",
		CacheControl: `public"; return 302 "https://evil.example/`})},
	{"cache control with a semicolon", "cache control", hostileRoute(Route{PathPrefix: "/s", Kind: RouteStatic, Target: "/srv/s", CacheControl: "public; x"})},
	{"cache control with braces", "cache control", hostileRoute(Route{PathPrefix: "/s", Kind: RouteStatic, Target: "/srv/s", CacheControl: "public} {"})},
	{"cache control with a variable", "cache control", hostileRoute(Route{PathPrefix: "/s", Kind: RouteStatic, Target: "/srv/s", CacheControl: "max-age=$x"})},
	{"url route with a space", "url", hostileRoute(Route{PathPrefix: "/u", Kind: RouteURL, Target: "http://127.0.0.1:3000/a b"})},
	{"url route with a quote", "url", hostileRoute(Route{PathPrefix: "/u", Kind: RouteURL, Target: `http://127.0.0.1:3000/"`})},

	{"runtime image with a command", "image", hostileRuntime("php:8 ; id")},
	{"runtime image with a newline", "image", hostileRuntime("php\n")},
	{"runtime image with a quote", "image", hostileRuntime(`php"`)},
}

// TestHostileValuesRefused proves each hostile value is refused where it
// enters (add, route, set) with a one-line error naming its field, and
// that nothing is stored.
func TestHostileValuesRefused(t *testing.T) {
	ctx := context.Background()
	var accepted []string
	for _, tc := range hostileCases {
		t.Run(tc.name, func(t *testing.T) {
			db, _ := openTest(t)
			mustAdd(t, db, Project{Name: "shop", Root: "/srv/shop", Domains: []string{"shop.test"},
				Services: []Service{{Name: "web", Stack: "php"}, {Name: "api", Stack: "uwsgi", App: "app:app", PathPrefix: "/api"}}})
			before := dump(t, db)
			err := tc.op(ctx, db)
			if after := dump(t, db); after != before {
				accepted = append(accepted, tc.name)
				t.Errorf("stored (err %v)", err)
			}
			var ve *ValidationError
			if !errors.As(err, &ve) {
				t.Fatalf("err = %v, want a *ValidationError on %q", err, tc.field)
			}
			if ve.Field != tc.field {
				t.Errorf("Field = %q, want %q (%v)", ve.Field, tc.field, err)
			}
			if msg := err.Error(); strings.ContainsAny(msg, "\r\n") || !strings.HasPrefix(msg, tc.field+" ") {
				t.Errorf("message %q is not one line naming %q", msg, tc.field)
			}
		})
	}
	if len(accepted) > 0 {
		t.Logf("stored %d of %d hostile values: %s", len(accepted), len(hostileCases), strings.Join(accepted, "; "))
	}
}

// TestBenignValuesAccepted keeps the rules from refusing what people use:
// spaces and non-ASCII letters in folders, the usual Cache-Control values,
// IPv6 and registry hosts, line breaks in env values.
func TestBenignValuesAccepted(t *testing.T) {
	ctx := context.Background()
	tests := []struct {
		name string
		op   func(ctx context.Context, db *DB) error
	}{
		{"folder with spaces", hostileProject(func(p *Project) { p.Root = "/home/me/My Shop (2)" })},
		{"folder with non-ASCII letters", hostileProject(func(p *Project) { p.Root = "/home/me/café-ñ" })},
		{"folder with nginx's special characters, quoted by the writer", hostileProject(func(p *Project) { p.Root = "/home/me/a;b{c}#d'e" })},
		{"document root with a space", hostileService(Service{Name: "web", Stack: "php", DocRoot: "/srv/bad/public html"})},
		{"prefix with every allowed character", hostileService(Service{Name: "web", Stack: "php", PathPrefix: "/api/v1.2_~-x"})},
		{"app in a package", hostileService(Service{Name: "web", Stack: "uvicorn", App: "api.main:app"})},
		{"image by digest", hostileService(Service{Name: "web", Stack: "php", Runtime: "container",
			Image: "registry.example:5000/team/php@sha256:0123456789abcdef"})},
		{"proxy url on IPv6 with a path", hostileService(Service{Name: "ext", Stack: "proxy", URL: "http://[::1]:3000/base;v=1"})},
		{"proxy url with a name", hostileService(Service{Name: "ext", Stack: "proxy", URL: "https://api.example.org/v1"})},
		{"env value with a line break", hostileService(Service{Name: "web", Stack: "php", Env: map[string]string{"KEY": "-----BEGIN-----\nabc"}})},
		{"hook with shell syntax", hostileProject(func(p *Project) { p.BeforeStart = "composer install && npm ci | tee log; echo \"$HOME\"" })},
		{"set env value with a line break and shell syntax", func(ctx context.Context, db *DB) error {
			_, err := db.SetServiceEnv(ctx, "shop", []EnvChange{{Service: "web", Set: map[string]string{"KEY": "-----BEGIN-----\nabc\nX=$(id)"}}})
			return err
		}},
		{"set hook with shell syntax and lines", func(ctx context.Context, db *DB) error {
			return db.SetBeforeStart(ctx, "shop", "composer install &&\nnpm ci | tee log; echo \"$HOME\"")
		}},
		{"static folder with a space", hostileRoute(Route{PathPrefix: "/s", Kind: RouteStatic, Target: "/srv/my static",
			CacheControl: "public, max-age=2592000, immutable"})},
		{"cache control no-cache", hostileRoute(Route{PathPrefix: "/s", Kind: RouteStatic, Target: "/srv/s", CacheControl: "no-cache"})},
		{"cache control with revalidation", hostileRoute(Route{PathPrefix: "/s", Kind: RouteStatic, Target: "/srv/s",
			CacheControl: "max-age=0,must-revalidate, stale-while-revalidate=30"})},
		{"runtime image with a registry port", hostileRuntime("localhost:5000/php:8.3-apache")},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			db, _ := openTest(t)
			mustAdd(t, db, Project{Name: "shop", Root: "/srv/shop", Domains: []string{"shop.test"},
				Services: []Service{{Name: "web", Stack: "php"}, {Name: "api", Stack: "uwsgi", App: "app:app", PathPrefix: "/api"}}})
			if err := tc.op(ctx, db); err != nil {
				t.Fatal(err)
			}
		})
	}
}
