package cli

import (
	"context"
	"flag"
	"fmt"
	"os"
	"os/exec"
	"strings"
	"text/tabwriter"

	"github.com/devport/devport/app/engine"
	"github.com/devport/devport/app/wire"
)

// dns manages how project domains resolve to this machine.
//
//	devport dns status [--json]   how each domain resolves now, checked for real
//	devport dns hosts             keep every domain in a managed /etc/hosts block
//	devport dns resolver [--port N] [--responder-only]
//	                              the engine answers DNS for the managed TLDs, and
//	                              the OS sends those TLDs to it (systemd-resolved,
//	                              /etc/resolver); --responder-only skips the OS part
//	devport dns off               remove the block and the OS wiring
//
// Writing /etc/hosts needs root: devport re-runs itself through sudo or
// pkexec with `--apply NAME...`, so the privileged part never reads the
// user's store and only writes the names it is given.
func (c *CLI) dns(ctx context.Context, args []string) error {
	if len(args) == 0 {
		return fmt.Errorf("%w: devport dns status|hosts|off", ErrUsage)
	}
	fs := flag.NewFlagSet("dns "+args[0], flag.ContinueOnError)
	apply := fs.Bool("apply", false, "internal: write exactly these names (used through sudo/pkexec)")
	asJSON := fs.Bool("json", false, "print JSON (status)")
	addr := fs.String("addr", "", "internal: the responder address for dns split --apply")
	port := fs.Int("port", 0, "resolver: the port of the engine's DNS responder (default 53535)")
	responderOnly := fs.Bool("responder-only", false, "resolver: run the responder but leave the OS resolver alone")
	pos, err := c.flags(fs, args[1:])
	if err != nil {
		return err
	}
	hostsPath := engine.DefaultHostsPath
	switch {
	case *apply:
		return engine.ApplyDNS(ctx, args[0], pos, *addr)
	case len(pos) > 0:
		return fmt.Errorf("%w: devport dns %s takes no arguments", ErrUsage, args[0])
	}
	m, err := c.manager(ctx)
	if err != nil {
		return err
	}
	defer m.Close()
	switch args[0] {
	case "status":
		return c.dnsStatus(ctx, m, *asJSON)
	case "hosts":
		names, err := m.UseHostsFile(ctx, c.runElevated(ctx))
		if err != nil {
			return err
		}
		if len(names) == 0 {
			fmt.Fprintf(c.Stdout, "no projects yet; devport adds their domains to %s as you add them\n", hostsPath)
			return nil
		}
		fmt.Fprintf(c.Stdout, "%s now maps %s to 127.0.0.1 and ::1; devport keeps it up to date as projects come and go\n",
			hostsPath, strings.Join(names, ", "))
		return nil
	case "resolver":
		if *port < 0 || *port > 65535 {
			return fmt.Errorf("%w: --port %d: pick one between 1 and 65535", ErrUsage, *port)
		}
		addr, err := m.UseResolver(ctx, *port, *responderOnly, c.runElevated(ctx))
		if err != nil {
			return err
		}
		fmt.Fprintf(c.Stdout, "the engine answers DNS for .%s on %s", strings.Join(engine.ManagedTLDs(), ", ."), addr)
		if !*responderOnly {
			fmt.Fprint(c.Stdout, ", and the OS resolver sends those names to it")
		}
		fmt.Fprintln(c.Stdout)
		if cl, _ := c.engine(ctx); cl != nil {
			fmt.Fprintln(c.Stdout, "restart the running engine to start the responder")
		}
		return nil
	case "off":
		if err := m.DNSOff(ctx, c.runElevated(ctx)); err != nil {
			return err
		}
		fmt.Fprintf(c.Stdout, "removed devport's block from %s and its split-DNS wiring\n", hostsPath)
		return nil
	}
	return fmt.Errorf("%w: unknown dns command %q; use status, hosts, resolver or off", ErrUsage, args[0])
}

// runElevated runs a privileged command in this terminal, so sudo can ask
// for a password.
func (c *CLI) runElevated(ctx context.Context) engine.Elevate {
	return func(argv []string) error {
		fmt.Fprintf(c.Stderr, "devport: this needs root; running: %s\n", strings.Join(argv, " "))
		cmd := exec.CommandContext(ctx, argv[0], argv[1:]...)
		cmd.Stdin, cmd.Stdout, cmd.Stderr = os.Stdin, c.Stdout, c.Stderr
		return cmd.Run()
	}
}

func (c *CLI) dnsStatus(ctx context.Context, m *engine.Manager, asJSON bool) error {
	method, results, err := m.NameStatus(ctx)
	if err != nil {
		return err
	}
	if asJSON {
		return c.printJSON(struct {
			Method  string            `json:"method"`
			Domains []wire.NameResult `json:"domains"`
		}{method, results})
	}
	if method == "" {
		rec := engine.RecommendedDNS(ctx)
		method = "none; recommended here: " + rec + " (devport dns " + rec + "), or use .localhost domains"
	}
	fmt.Fprintf(c.Stdout, "method: %s\n", method)
	tw := tabwriter.NewWriter(c.Stdout, 0, 4, 2, ' ', 0)
	for _, r := range results {
		mark := "ok"
		if !r.OK {
			mark = "FAIL"
		}
		fmt.Fprintf(tw, "%s\t%s\t%s\n", mark, r.Name, r.Detail)
		if r.Fix != "" {
			fmt.Fprintf(tw, "\t\tfix: %s\n", r.Fix)
		}
	}
	return tw.Flush()
}
