package cli

import (
	"context"
	"flag"
	"fmt"
	"path/filepath"
	"strings"
	"text/tabwriter"

	"github.com/devport/devport/app/engine"
	"github.com/devport/devport/app/wire"
	"github.com/devport/devport/internal/stackdef"
)

func (c *CLI) add(ctx context.Context, args []string) error {
	fs := flag.NewFlagSet("add", flag.ContinueOnError)
	var req wire.AddRequest
	fs.StringVar(&req.Name, "name", "", "project name (default: from the folder name)")
	fs.StringVar(&req.Domain, "domain", "", "domain (default: NAME.test)")
	fs.StringVar(&req.Stack, "stack", "", "php, uvicorn, gunicorn, wsgi or uwsgi (default: detected)")
	fs.StringVar(&req.App, "app", "", "the Python app as MODULE:APP (default: detected)")
	fs.StringVar(&req.Runtime, "runtime", "process", "process or container (Docker)")
	fs.StringVar(&req.Image, "image", "", "container image (default: setting container.image.STACK, else php:8.3-apache or python:3.12-slim)")
	fs.StringVar(&req.Proxy, "proxy", "", "URL of a server you already run, instead of DIR")
	fs.StringVar(&req.Chain, "chain", "", "with --stack php: also run the FastAPI app in DIR/PREFIX, reached through Apache at PREFIX (e.g. /py)")
	fs.StringVar(&req.PHP, "php", "", "the php stack's PHP version, MAJOR.MINOR (default: the newest composer.json's require.php allows, else the newest; devport php versions)")
	fs.BoolVar(&req.Venv, "venv", false, "create the Python project's .venv and install its dependencies (requirements.txt, pyproject.toml) when it has no environment")
	data := fs.String("data", "", "data services to add with it: NAME=STACK[,NAME=STACK] (db=mariadb, cache=redis, mail=mailpit)")
	pos, err := c.flags(fs, args)
	if err != nil {
		return err
	}
	for _, kv := range splitList(*data) {
		name, stack, ok := strings.Cut(kv, "=")
		if !ok {
			return fmt.Errorf("%w: --data %q: use NAME=STACK, e.g. --data db=mariadb", ErrUsage, kv)
		}
		req.Data = append(req.Data, wire.DataServiceRequest{Name: name, Stack: stack})
	}
	switch {
	case len(pos) > 1:
		return fmt.Errorf("%w: devport add takes one folder, got %d: %s", ErrUsage, len(pos), strings.Join(pos, " "))
	case len(pos) == 1:
		if req.Dir, err = filepath.Abs(pos[0]); err != nil {
			return err
		}
	}
	preview, err := engine.DescribeAdd(req) // what will be created, before it is
	if err != nil {
		return err
	}
	fmt.Fprint(c.Stdout, preview)
	fmt.Fprint(c.Stdout, engine.DescribeEnv(req)) // venv.go: the environment, or --venv's offer
	var venv *engine.Venv
	if req.Venv { // here, not in the engine: pip's output streams to this terminal
		if venv, err = engine.CreateVenv(ctx, engine.VenvOptions{Request: req, Out: c.Stderr}); err != nil {
			return err
		}
	}
	var st wire.ProjectStatus
	err = c.withAPI(ctx, func(a api, _ *wire.Client) error {
		return c.withProgress(ctx, a, "", func() (err error) { // add --php X.Y pulls a missing php:X.Y-apache
			st, err = a.Add(ctx, req)
			return err
		})
	})
	if err != nil {
		if rerr := venv.Remove(); rerr != nil { // only one it made: nothing half-made is left
			return fmt.Errorf("%w (and removing %s: %v)", err, venv.Dir, rerr)
		}
		return err
	}
	svc := st.Services[0]
	what := svc.Stack
	if svc.App != "" {
		what += " " + svc.App
	}
	if svc.URL != "" {
		what += " → " + svc.URL
	}
	if len(st.Services) > 1 { // each was listed above
		what = fmt.Sprintf("%d services", len(st.Services))
	}
	fmt.Fprintf(c.Stdout, "added %s (%s, %s) at %s\n", st.Name, what, svc.Runtime, st.URL)
	for _, s := range st.Services {
		if s.PHP != "" {
			fmt.Fprintf(c.Stdout, "%s/%s runs PHP %s (%s)\n", st.Name, s.Name, s.PHP, phpFromText(s.PHPFrom))
		}
	}
	for _, d := range st.Data {
		fmt.Fprintf(c.Stdout, "with %s: %s on 127.0.0.1:%d (its web services get %s)\n", d.Name, d.Stack, d.Port, envKeys(d.Env))
	}
	if !stackdef.RunsNothing(svc.Stack) {
		fmt.Fprintf(c.Stdout, "start it with: devport start %s\n", st.Name)
	}
	return nil
}

func (c *CLI) rm(ctx context.Context, args []string) error {
	fs := flag.NewFlagSet("rm", flag.ContinueOnError)
	purge := fs.Bool("purge", false, "also delete the data of its data services (databases, Redis, mail)")
	pos, err := c.flags(fs, args)
	if err != nil {
		return err
	}
	name, err := oneName("rm", pos)
	if err != nil {
		return err
	}
	var rep wire.RemoveReport
	err = c.withAPI(ctx, func(a api, _ *wire.Client) (err error) {
		rep, err = a.RemoveWith(ctx, name, *purge)
		return err
	})
	if err != nil {
		return err
	}
	fmt.Fprintf(c.Stdout, "removed %s (its folder is untouched)\n", name)
	for _, k := range rep.Kept {
		fmt.Fprintf(c.Stdout, "kept the data of %s: %s (%s); devport rm --purge deletes it, adding %s again uses it\n",
			k.Service, k.Kept, humanSize(k.Size), name)
	}
	return nil
}

func (c *CLI) ls(ctx context.Context, args []string) error {
	fs := flag.NewFlagSet("ls", flag.ContinueOnError)
	asJSON := fs.Bool("json", false, "print JSON")
	if _, err := c.flags(fs, args); err != nil {
		return err
	}
	var ps []wire.ProjectStatus
	err := c.withAPI(ctx, func(a api, _ *wire.Client) (err error) {
		ps, err = a.List(ctx)
		return err
	})
	if err != nil {
		return err
	}
	if *asJSON {
		return c.printJSON(nonNil(ps))
	}
	if len(ps) == 0 {
		fmt.Fprintln(c.Stdout, "no projects yet: add one with devport add DIR")
		return nil
	}
	tw := tabwriter.NewWriter(c.Stdout, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "NAME\tURL\tSTACK\tRUNTIME\tSTATE\tFOLDER")
	for _, p := range ps {
		var stacks, runtimes []string
		for _, s := range p.Services {
			stack := s.Stack
			if s.PHP != "" {
				stack += " " + s.PHP // the version it runs, or would run
			}
			stacks = append(stacks, stack)
			runtimes = append(runtimes, s.Runtime)
		}
		state := string(p.State)
		if p.Reason != "" { // its first line: the rest is a log tail (ls --json has it all)
			first, _, _ := strings.Cut(p.Reason, "\n")
			state += ": " + first
		}
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\t%s\n", p.Name, p.URL, strings.Join(stacks, "+"),
			strings.Join(runtimes, "+"), state, p.Root)
	}
	return tw.Flush()
}
