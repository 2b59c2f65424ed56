package app

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"net"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"text/tabwriter"

	"github.com/devport/devport/resolve"
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
	hostsPath := resolve.DefaultHostsPath
	switch {
	case args[0] == "hosts" && *apply:
		return resolve.SetHosts(ctx, hostsPath, pos)
	case args[0] == "off" && *apply:
		return errors.Join(resolve.RemoveHosts(ctx, hostsPath), resolve.RemoveSplit(ctx, resolve.Split{TLDs: managedTLDs}))
	case args[0] == "split" && *apply:
		return resolve.InstallSplit(ctx, resolve.Split{Addr: *addr, TLDs: managedTLDs})
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
		return c.dnsResolver(ctx, m, *port, *responderOnly)
	case "off":
		if err := c.elevated(ctx, resolve.RemoveHosts(ctx, hostsPath)); err != nil {
			return err
		}
		if err := resolve.RemoveSplit(ctx, resolve.Split{TLDs: managedTLDs}); err != nil &&
			!errors.Is(err, resolve.ErrNotSupported) && !errors.Is(err, resolve.ErrResolvedNotRunning) {
			if err := c.elevated(ctx, err); err != nil {
				return err
			}
		}
		if err := m.SetDNSMethod(ctx, dnsNone); err != nil {
			return err
		}
		fmt.Fprintf(c.Stdout, "removed devport's block from %s and its split-DNS wiring\n", hostsPath)
		return nil
	}
	return fmt.Errorf("%w: unknown dns command %q; use status, hosts, resolver or off", ErrUsage, args[0])
}

// dnsResolver turns on the engine's DNS responder and, unless told not
// to, points the OS resolver's managed TLDs at it. Where the OS cannot be
// told (no systemd-resolved), it says so and changes nothing.
func (c *CLI) dnsResolver(ctx context.Context, m *Manager, port int, responderOnly bool) error {
	if port < 0 || port > 65535 {
		return fmt.Errorf("%w: --port %d: pick one between 1 and 65535", ErrUsage, port)
	}
	if port == 0 {
		port = m.DNSPort(ctx)
	}
	addr := net.JoinHostPort("127.0.0.1", strconv.Itoa(port))
	if !responderOnly {
		if err := resolve.SplitAvailable(ctx); err != nil {
			return fmt.Errorf("the OS resolver cannot send .test to devport here: %w; use devport dns hosts (works everywhere), "+
				"or devport dns resolver --responder-only and point your own resolver at %s", err, addr)
		}
		if err := c.elevated(ctx, resolve.InstallSplit(ctx, resolve.Split{Addr: addr, TLDs: managedTLDs})); err != nil {
			return err
		}
	}
	if err := m.db.SetSetting(ctx, settingDNSPort, strconv.Itoa(port)); err != nil {
		return err
	}
	if err := m.SetDNSMethod(ctx, dnsResolver); err != nil {
		return err
	}
	fmt.Fprintf(c.Stdout, "the engine answers DNS for .%s on %s", strings.Join(managedTLDs, ", ."), addr)
	if !responderOnly {
		fmt.Fprint(c.Stdout, ", and the OS resolver sends those names to it")
	}
	fmt.Fprintln(c.Stdout)
	if cl, _ := c.engine(ctx); cl != nil {
		fmt.Fprintln(c.Stdout, "restart the running engine to start the responder")
	}
	return nil
}

// elevated finishes an operation that failed for lack of rights by running
// the command the error names (sudo or pkexec devport ... --apply).
func (c *CLI) elevated(ctx context.Context, err error) error {
	var ne *resolve.NeedsElevationError
	if !errors.As(err, &ne) {
		return err
	}
	if rerr := c.runElevated(ctx)(ne.Command); rerr != nil {
		return fmt.Errorf("%s: %w; run it yourself as root", strings.Join(ne.Command, " "), rerr)
	}
	return nil
}

// runElevated runs a privileged command in this terminal, so sudo can ask
// for a password.
func (c *CLI) runElevated(ctx context.Context) func(argv []string) error {
	return func(argv []string) error {
		fmt.Fprintf(c.Stderr, "devport: this needs root; running: %s\n", strings.Join(argv, " "))
		cmd := exec.CommandContext(ctx, argv[0], argv[1:]...)
		cmd.Stdin, cmd.Stdout, cmd.Stderr = os.Stdin, c.Stdout, c.Stderr
		return cmd.Run()
	}
}

func (c *CLI) dnsStatus(ctx context.Context, m *Manager, asJSON bool) error {
	method, results, err := m.NameStatus(ctx)
	if err != nil {
		return err
	}
	if asJSON {
		enc := json.NewEncoder(c.Stdout)
		enc.SetIndent("", "  ")
		return enc.Encode(struct {
			Method  string           `json:"method"`
			Domains []resolve.Result `json:"domains"`
		}{method, results})
	}
	if method == "" {
		method = "none; recommended here: " + string(resolve.Choose(ctx, managedTLDs[0])) + " (devport dns " +
			string(resolve.Choose(ctx, managedTLDs[0])) + "), or use .localhost domains"
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
