package cli

import (
	"context"
	"flag"
	"fmt"
	"slices"
	"strconv"
	"text/tabwriter"

	"github.com/devport/devport/app/wire"
)

// service manages a project's data services: devport service NAME
// add|rm|ls.
func (c *CLI) service(ctx context.Context, args []string) error {
	const usage = "devport service NAME add SERVICE --stack mariadb|postgres|redis|mailpit [--version V] [--runtime process|container] [--image IMAGE], " +
		"devport service NAME rm SERVICE [--purge], or devport service NAME ls [--json]"
	if len(args) < 2 {
		return fmt.Errorf("%w: %s", ErrUsage, usage)
	}
	name, verb, rest := args[0], args[1], args[2:]
	switch verb {
	case "add":
		return c.serviceAdd(ctx, name, rest)
	case "rm":
		return c.serviceRm(ctx, name, rest)
	case "ls":
		return c.serviceLs(ctx, name, rest)
	default:
		return fmt.Errorf("%w: unknown service action %q; %s", ErrUsage, verb, usage)
	}
}

func (c *CLI) serviceAdd(ctx context.Context, name string, args []string) error {
	fs := flag.NewFlagSet("service add", flag.ContinueOnError)
	var req wire.DataServiceRequest
	fs.StringVar(&req.Stack, "stack", "", "mariadb (or mysql), postgres, redis or mailpit")
	fs.StringVar(&req.Version, "version", "", "a version the host has (process), or the image tag (container)")
	fs.StringVar(&req.Runtime, "runtime", "", "process (the host's packages; the default) or container")
	fs.StringVar(&req.Image, "image", "", "the container image (default: the official one of --version)")
	pos, err := c.flags(fs, args)
	if err != nil {
		return err
	}
	if len(pos) != 1 {
		return fmt.Errorf("%w: devport service %s add SERVICE --stack STACK (got %d arguments)", ErrUsage, name, len(pos))
	}
	req.Name = pos[0]
	if req.Stack == "" {
		return fmt.Errorf("%w: devport service %s add %s needs --stack mariadb, postgres, redis or mailpit", ErrUsage, name, req.Name)
	}
	var st wire.ProjectStatus
	err = c.withAPI(ctx, func(a api, _ *wire.Client) (err error) {
		st, err = a.AddDataService(ctx, name, req)
		return err
	})
	i := slices.IndexFunc(st.Data, func(d wire.DataServiceStatus) bool { return d.Name == req.Name })
	if i < 0 {
		return err
	}
	d := st.Data[i]
	fmt.Fprintf(c.Stdout, "added %s to %s: %s (%s) on 127.0.0.1:%d, data in %s\n", d.Name, name, d.Stack, d.Runtime, d.Port, d.Data)
	if d.MailURL != "" {
		fmt.Fprintf(c.Stdout, "its mail UI: %s\n", d.MailURL)
	}
	fmt.Fprintf(c.Stdout, "the web services get: %s\n", envKeys(d.Env))
	if err == nil && st.State != wire.StateRunning {
		fmt.Fprintf(c.Stdout, "it starts with the project: devport start %s\n", name)
	}
	return err
}

// envKeys lists the names of env, sorted, for a message.
func envKeys(env map[string]string) string {
	keys := make([]string, 0, len(env))
	for k := range env {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	out := ""
	for i, k := range keys {
		if i > 0 {
			out += " "
		}
		out += k
	}
	return out
}

func (c *CLI) serviceRm(ctx context.Context, name string, args []string) error {
	fs := flag.NewFlagSet("service rm", flag.ContinueOnError)
	purge := fs.Bool("purge", false, "also delete its data")
	pos, err := c.flags(fs, args)
	if err != nil {
		return err
	}
	if len(pos) != 1 {
		return fmt.Errorf("%w: devport service %s rm SERVICE (got %d arguments)", ErrUsage, name, len(pos))
	}
	var rep wire.DataServiceRemoval
	err = c.withAPI(ctx, func(a api, _ *wire.Client) (err error) {
		rep, err = a.RemoveDataService(ctx, name, pos[0], *purge)
		return err
	})
	if err != nil {
		return err
	}
	if rep.Kept == "" {
		fmt.Fprintf(c.Stdout, "removed %s of %s and deleted its data\n", pos[0], name)
		return nil
	}
	fmt.Fprintf(c.Stdout, "removed %s of %s; kept its data in %s (%s): adding %s again uses it, --purge deletes it\n",
		pos[0], name, rep.Kept, humanSize(rep.Size), pos[0])
	return nil
}

func (c *CLI) serviceLs(ctx context.Context, name string, args []string) error {
	fs := flag.NewFlagSet("service ls", flag.ContinueOnError)
	asJSON := fs.Bool("json", false, "print JSON, with the connection values")
	pos, err := c.flags(fs, args)
	if err != nil {
		return err
	}
	if len(pos) != 0 {
		return fmt.Errorf("%w: devport service %s ls takes no arguments", ErrUsage, name)
	}
	var ps []wire.ProjectStatus
	err = c.withAPI(ctx, func(a api, _ *wire.Client) (err error) {
		ps, err = a.List(ctx)
		return err
	})
	if err != nil {
		return err
	}
	i := slices.IndexFunc(ps, func(p wire.ProjectStatus) bool { return p.Name == name })
	if i < 0 {
		return fmt.Errorf("no project %q: see devport ls", name)
	}
	data := ps[i].Data
	if *asJSON {
		return c.printJSON(nonNil(data))
	}
	if len(data) == 0 {
		fmt.Fprintf(c.Stdout, "%s has no data services: add one with devport service %s add db --stack mariadb\n", name, name)
		return nil
	}
	tw := tabwriter.NewWriter(c.Stdout, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "SERVICE\tSTACK\tVERSION\tRUNTIME\tPORT\tDATA")
	for _, d := range data {
		version := d.Version
		if version == "" {
			version = "newest"
		}
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\t%s\n", d.Name, d.Stack, version, d.Runtime, strconv.Itoa(d.Port), d.Data)
	}
	return tw.Flush()
}

// humanSize renders a byte count: 1.5 MB; "size unknown" for -1.
func humanSize(n int64) string {
	switch {
	case n < 0:
		return "size unknown"
	case n < 1<<10:
		return fmt.Sprintf("%d bytes", n)
	case n < 1<<20:
		return fmt.Sprintf("%.1f KB", float64(n)/(1<<10))
	case n < 1<<30:
		return fmt.Sprintf("%.1f MB", float64(n)/(1<<20))
	}
	return fmt.Sprintf("%.1f GB", float64(n)/(1<<30))
}
