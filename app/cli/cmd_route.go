package cli

import (
	"context"
	"flag"
	"fmt"
	"strconv"
	"strings"
	"text/tabwriter"

	"github.com/devport/devport/app/wire"
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
	var req wire.RouteRequest
	fs.StringVar(&req.Service, "service", "", "send the prefix to this service of the project")
	fs.StringVar(&req.Static, "static", "", "serve the prefix from this folder (like nginx alias); a relative one is the project folder's")
	fs.StringVar(&req.URL, "url", "", "forward the prefix to this http(s) URL")
	fs.BoolVar(&req.Strip, "strip", false, "remove the prefix before forwarding (/api/x -> /x)")
	fs.StringVar(&req.CacheControl, "cache-control", "", `Cache-Control of static files, e.g. "public, max-age=2592000"`)
	fs.DurationVar(&req.ConnectTimeout, "connect-timeout", 0, "upstream connect timeout (default 10s)")
	fs.DurationVar(&req.ReadTimeout, "read-timeout", 0, "wait for the response headers at most this long (default: no limit)")
	fs.DurationVar(&req.WriteTimeout, "write-timeout", 0, "each write of the request to the upstream (default: no limit)")
	maxBody := fs.String("max-body", "", "largest request body: bytes or 10k, 100m, 1g; -1 for no limit (default 1g)")
	pos, err := c.flags(fs, args)
	if err != nil {
		return err
	}
	if len(pos) != 1 {
		return fmt.Errorf("%w: devport route %s add PREFIX (got %d arguments)", ErrUsage, name, len(pos))
	}
	req.Prefix = pos[0]
	n := 0
	for _, t := range []string{req.Service, req.Static, req.URL} {
		if t != "" {
			n++
		}
	}
	if n != 1 {
		return fmt.Errorf("%w: devport route %s add %s needs exactly one of --service, --static or --url", ErrUsage, name, pos[0])
	}
	// A relative --static goes to the engine as it is: the engine
	// resolves it against the project folder, not this shell's.
	if req.MaxBody, err = parseSize(*maxBody); err != nil {
		return fmt.Errorf("--max-body %q: %w; use bytes or 10k, 100m, 1g, or -1 for no limit", *maxBody, err)
	}
	var r wire.RouteStatus
	err = c.withAPI(ctx, func(a api, _ *wire.Client) (err error) {
		r, err = a.AddRoute(ctx, name, req)
		return err
	})
	if err != nil {
		return err
	}
	fmt.Fprintf(c.Stdout, "%s %s → %s %s\n", name, r.Prefix, r.Kind, r.Target)
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
	err = c.withAPI(ctx, func(a api, _ *wire.Client) error { return a.RemoveRoute(ctx, name, pos[0]) })
	if err != nil {
		return err
	}
	fmt.Fprintf(c.Stdout, "removed route %s of %s\n", pos[0], name)
	return nil
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
	rows, err := m.Routes(ctx, name)
	if err != nil {
		return err
	}
	if *asJSON {
		return c.printJSON(rows)
	}
	tw := tabwriter.NewWriter(c.Stdout, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "PREFIX\tKIND\tTARGET\tOPTIONS")
	for _, r := range rows {
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\n", r.Prefix, r.Kind, r.Target, r.Options())
	}
	return tw.Flush()
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
