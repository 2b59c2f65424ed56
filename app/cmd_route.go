package app

import (
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"net/http"
	"path/filepath"
	"strconv"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/devport/devport/internal/stackdef"
	"github.com/devport/devport/store"
)

// route manages the routes a project declares beyond its services' own
// prefixes: devport route NAME add|rm|ls.
func (c *CLI) route(ctx context.Context, args []string) error {
	const usage = "devport route NAME add PREFIX --service S|--static DIR|--url URL [options], " +
		"devport route NAME rm PREFIX, or devport route NAME ls"
	if len(args) < 2 {
		return fmt.Errorf("%w: %s", ErrUsage, usage)
	}
	name, verb, rest := args[0], args[1], args[2:]
	switch verb {
	case "add":
		return c.routeAdd(ctx, name, rest)
	case "rm":
		return c.routeRm(ctx, name, rest)
	case "ls":
		return c.routeLs(ctx, name, rest)
	default:
		return fmt.Errorf("%w: unknown route action %q; %s", ErrUsage, verb, usage)
	}
}

func (c *CLI) routeAdd(ctx context.Context, name string, args []string) error {
	fs := flag.NewFlagSet("route add", flag.ContinueOnError)
	service := fs.String("service", "", "send the prefix to this service of the project")
	static := fs.String("static", "", "serve the prefix from this folder (like nginx alias)")
	target := fs.String("url", "", "forward the prefix to this http(s) URL")
	strip := fs.Bool("strip", false, "remove the prefix before forwarding (/api/x -> /x)")
	cacheControl := fs.String("cache-control", "", `Cache-Control of static files, e.g. "public, max-age=2592000"`)
	connect := fs.Duration("connect-timeout", 0, "upstream connect timeout (default 10s)")
	read := fs.Duration("read-timeout", 0, "wait for the response headers at most this long (default: no limit)")
	write := fs.Duration("write-timeout", 0, "each write of the request to the upstream (default: no limit)")
	maxBody := fs.String("max-body", "", "largest request body: bytes or 10k, 100m, 1g; -1 for no limit (default 1g)")
	pos, err := c.flags(fs, args)
	if err != nil {
		return err
	}
	if len(pos) != 1 {
		return fmt.Errorf("%w: devport route %s add PREFIX (got %d arguments)", ErrUsage, name, len(pos))
	}
	r := store.Route{Project: name, PathPrefix: pos[0], StripPrefix: *strip, CacheControl: *cacheControl,
		ConnectTimeout: *connect, ReadTimeout: *read, WriteTimeout: *write}
	n := 0
	if *service != "" {
		r.Kind, r.Target, n = store.RouteService, *service, n+1
	}
	if *static != "" {
		dir, err := filepath.Abs(*static)
		if err != nil {
			return err
		}
		r.Kind, r.Target, n = store.RouteStatic, dir, n+1
	}
	if *target != "" {
		r.Kind, r.Target, n = store.RouteURL, *target, n+1
	}
	if n != 1 {
		return fmt.Errorf("%w: devport route %s add %s needs exactly one of --service, --static or --url", ErrUsage, name, pos[0])
	}
	if r.MaxBody, err = parseSize(*maxBody); err != nil {
		return fmt.Errorf("--max-body %q: %w; use bytes or 10k, 100m, 1g, or -1 for no limit", *maxBody, err)
	}
	m, err := c.manager(ctx)
	if err != nil {
		return err
	}
	r, err = m.db.AddRoute(ctx, r)
	m.Close()
	if err != nil {
		return err
	}
	if err := c.reloadRoutes(ctx); err != nil {
		return err
	}
	fmt.Fprintf(c.Stdout, "%s %s → %s %s\n", name, r.PathPrefix, r.Kind, r.Target)
	return nil
}

func (c *CLI) routeRm(ctx context.Context, name string, args []string) error {
	pos, err := c.flags(flag.NewFlagSet("route rm", flag.ContinueOnError), args)
	if err != nil {
		return err
	}
	if len(pos) != 1 {
		return fmt.Errorf("%w: devport route %s rm PREFIX (got %d arguments)", ErrUsage, name, len(pos))
	}
	m, err := c.manager(ctx)
	if err != nil {
		return err
	}
	err = m.db.RemoveRoute(ctx, name, pos[0])
	m.Close()
	if err != nil {
		return err
	}
	if err := c.reloadRoutes(ctx); err != nil {
		return err
	}
	fmt.Fprintf(c.Stdout, "removed route %s of %s\n", pos[0], name)
	return nil
}

// routeRow is one line of devport route NAME ls: the services' own routes
// and the declared ones.
// RouteStatus is one route of a project as `devport route ls` and the
// details window show it: declared ones, and each service's own.
type RouteStatus struct {
	Prefix       string `json:"prefix"`
	Kind         string `json:"kind"`
	Target       string `json:"target"`
	Strip        bool   `json:"strip,omitempty"`
	CacheControl string `json:"cache_control,omitempty"`
	Limits       string `json:"limits,omitempty"`
	Declared     bool   `json:"declared"`
	// ForwardsTo is the service Apache forwards a chain route to (app/chain.go).
	ForwardsTo string `json:"forwards_to,omitempty"`
	// FilesFirst is the folder whose files the proxy serves ahead of the
	// service (a Python app's public/, app/static.go).
	FilesFirst string `json:"files_first,omitempty"`
}

// projectRoutes loads the stored project name and its declared routes.
func (m *Manager) projectRoutes(ctx context.Context, name string) (store.Project, []store.Route, error) {
	p, err := m.db.Project(ctx, name)
	if err != nil {
		return store.Project{}, nil, err
	}
	routes, err := m.db.Routes(ctx, name)
	if err != nil {
		return store.Project{}, nil, err
	}
	return p, routes, nil
}

// routeRows is every route of p: the declared ones, then each service's
// own at its prefix unless a declared route takes it.
func routeRows(p store.Project, declared []store.Route) []RouteStatus {
	taken := make(map[string]bool)
	chains := chainLinks(p, declared)
	var rows []RouteStatus
	for _, d := range declared {
		if d.Project != p.Name {
			continue
		}
		taken[d.PathPrefix] = true
		row := RouteStatus{Prefix: d.PathPrefix, Kind: d.Kind, Target: d.Target, Strip: d.StripPrefix,
			CacheControl: d.CacheControl, Limits: limitsText(d), Declared: true}
		for _, l := range chains[d.Target] {
			if l.prefix == d.PathPrefix {
				row.ForwardsTo = l.target
			}
		}
		rows = append(rows, row)
	}
	for _, s := range p.Services {
		if taken[cleanPrefix(s.PathPrefix)] {
			continue
		}
		row := RouteStatus{Prefix: cleanPrefix(s.PathPrefix), Kind: store.RouteService, Target: s.Name,
			Strip: stackdef.StripsPrefix(s.Stack) && cleanPrefix(s.PathPrefix) != "/", FilesFirst: publicFolder(p, s)}
		if s.Stack == stackdef.Proxy {
			row.Kind, row.Target = store.RouteURL, s.URL
		}
		if s.Stack == stackdef.Static {
			row.Kind, row.Target, row.Strip = store.RouteStatic, staticFolder(p, s), false
		}
		rows = append(rows, row)
	}
	return rows
}

// Options is the route's options as `devport route ls` prints them.
func (r RouteStatus) Options() string {
	var opts []string
	if r.Strip {
		opts = append(opts, "strip")
	}
	if r.CacheControl != "" {
		opts = append(opts, "cache-control="+r.CacheControl)
	}
	if r.Limits != "" {
		opts = append(opts, r.Limits)
	}
	if r.FilesFirst != "" {
		opts = append(opts, "(files of "+r.FilesFirst+" first)")
	}
	if !r.Declared {
		opts = append(opts, "(service default)")
	}
	if r.ForwardsTo != "" {
		opts = append(opts, "(Apache forwards to "+r.ForwardsTo+")")
	}
	return strings.Join(opts, " ")
}

func (c *CLI) routeLs(ctx context.Context, name string, args []string) error {
	fs := flag.NewFlagSet("route ls", flag.ContinueOnError)
	asJSON := fs.Bool("json", false, "print JSON")
	pos, err := c.flags(fs, args)
	if err != nil {
		return err
	}
	if len(pos) != 0 {
		return fmt.Errorf("%w: devport route %s ls takes no arguments", ErrUsage, name)
	}
	m, err := c.manager(ctx)
	if err != nil {
		return err
	}
	defer m.Close()
	p, declared, err := m.projectRoutes(ctx, name)
	if err != nil {
		return err
	}
	rows := routeRows(p, declared)
	if *asJSON {
		enc := json.NewEncoder(c.Stdout)
		enc.SetIndent("", "  ")
		return enc.Encode(rows)
	}
	tw := tabwriter.NewWriter(c.Stdout, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "PREFIX\tKIND\tTARGET\tOPTIONS")
	for _, r := range rows {
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\n", r.Prefix, r.Kind, r.Target, r.Options())
	}
	return tw.Flush()
}

func limitsText(r store.Route) string {
	var parts []string
	for _, d := range []struct {
		name string
		v    time.Duration
	}{{"connect", r.ConnectTimeout}, {"read", r.ReadTimeout}, {"write", r.WriteTimeout}} {
		if d.v > 0 {
			parts = append(parts, d.name+"="+d.v.String())
		}
	}
	switch {
	case r.MaxBody < 0:
		parts = append(parts, "max-body=unlimited")
	case r.MaxBody > 0:
		parts = append(parts, "max-body="+strconv.FormatInt(r.MaxBody, 10))
	}
	return strings.Join(parts, " ")
}

// reloadRoutes asks a running engine to republish its route table; with
// no engine there is nothing to do (the next serve reads the store).
func (c *CLI) reloadRoutes(ctx context.Context) error {
	cl, err := c.engine(ctx)
	if err != nil || cl == nil {
		return err
	}
	if err := cl.do(ctx, http.MethodPost, "/v1/routes/reload", nil, nil); err != nil {
		return fmt.Errorf("saved, but the running engine did not reload its routes (restart it): %w", err)
	}
	return nil
}

// reloadRoutesHandler is the control API's POST /v1/routes/reload.
func (m *Manager) reloadRoutesHandler(w http.ResponseWriter, r *http.Request) {
	m.publish()
	writeJSON(w, http.StatusOK, struct{}{})
}

// parseSize reads "" (0: the default), "-1" (no limit), bytes, or a
// number with k, m or g (powers of 1024).
func parseSize(s string) (int64, error) {
	s = strings.ToLower(strings.TrimSpace(s))
	if s == "" {
		return 0, nil
	}
	mult := int64(1)
	switch {
	case strings.HasSuffix(s, "k"):
		mult, s = 1<<10, s[:len(s)-1]
	case strings.HasSuffix(s, "m"):
		mult, s = 1<<20, s[:len(s)-1]
	case strings.HasSuffix(s, "g"):
		mult, s = 1<<30, s[:len(s)-1]
	}
	n, err := strconv.ParseInt(s, 10, 64)
	if err != nil {
		return 0, fmt.Errorf("not a size")
	}
	if n == -1 && mult == 1 {
		return -1, nil
	}
	if n < 0 {
		return 0, fmt.Errorf("must not be negative")
	}
	return n * mult, nil
}
