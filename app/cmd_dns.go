package app

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"os"
	"os/exec"
	"strings"
	"text/tabwriter"

	"github.com/devport/devport/resolve"
)

// dns manages how project domains resolve to this machine.
//
//	devport dns status [--json]   how each domain resolves now, checked for real
//	devport dns hosts             keep every domain in a managed /etc/hosts block
//	devport dns off               remove the block
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
	pos, err := c.flags(fs, args[1:])
	if err != nil {
		return err
	}
	hostsPath := resolve.DefaultHostsPath
	switch {
	case args[0] == "hosts" && *apply:
		return resolve.SetHosts(ctx, hostsPath, pos)
	case args[0] == "off" && *apply:
		return resolve.RemoveHosts(ctx, hostsPath)
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
		names, err := m.Domains(ctx)
		if err != nil {
			return err
		}
		if err := c.elevated(ctx, resolve.SetHosts(ctx, hostsPath, names)); err != nil {
			return err
		}
		if err := m.SetDNSMethod(ctx, dnsHosts); err != nil {
			return err
		}
		if len(names) == 0 {
			fmt.Fprintf(c.Stdout, "no projects yet; devport adds their domains to %s as you add them\n", hostsPath)
			return nil
		}
		fmt.Fprintf(c.Stdout, "%s now maps %s to 127.0.0.1 and ::1; devport keeps it up to date as projects come and go\n",
			hostsPath, strings.Join(names, ", "))
		return nil
	case "off":
		if err := c.elevated(ctx, resolve.RemoveHosts(ctx, hostsPath)); err != nil {
			return err
		}
		if err := m.SetDNSMethod(ctx, dnsNone); err != nil {
			return err
		}
		fmt.Fprintf(c.Stdout, "removed devport's block from %s\n", hostsPath)
		return nil
	}
	return fmt.Errorf("%w: unknown dns command %q; use status, hosts or off", ErrUsage, args[0])
}

// elevated finishes an operation that failed for lack of rights by running
// the command the error names (sudo or pkexec devport ... --apply), in
// this terminal so sudo can ask for a password.
func (c *CLI) elevated(ctx context.Context, err error) error {
	var ne *resolve.NeedsElevationError
	if !errors.As(err, &ne) {
		return err
	}
	fmt.Fprintf(c.Stderr, "devport: %s needs root; running: %s\n", ne.Path, strings.Join(ne.Command, " "))
	cmd := exec.CommandContext(ctx, ne.Command[0], ne.Command[1:]...)
	cmd.Stdin, cmd.Stdout, cmd.Stderr = os.Stdin, c.Stdout, c.Stderr
	if rerr := cmd.Run(); rerr != nil {
		return fmt.Errorf("%s: %w; run it yourself as root", strings.Join(ne.Command, " "), rerr)
	}
	return nil
}

func (c *CLI) dnsStatus(ctx context.Context, m *Manager, asJSON bool) error {
	method, err := m.DNSMethod(ctx)
	if err != nil {
		return err
	}
	names, err := m.Domains(ctx)
	if err != nil {
		return err
	}
	results := make([]resolve.Result, 0, len(names))
	for _, n := range names {
		results = append(results, resolve.Check(ctx, n))
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
		method = "none (run devport dns hosts, or use .localhost domains)"
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
