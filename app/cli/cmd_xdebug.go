package cli

import (
	"context"
	"flag"
	"fmt"

	"github.com/devport/devport/app/wire"
)

// xdebug loads Xdebug for a project's PHP or leaves it out: `devport
// xdebug NAME on|off`. Through the engine when one runs (it restarts a
// running project), on the store otherwise (the next start applies it).
func (c *CLI) xdebug(ctx context.Context, args []string) error {
	fs := flag.NewFlagSet("xdebug", flag.ContinueOnError)
	pos, err := c.flags(fs, args)
	if err != nil {
		return err
	}
	if len(pos) != 2 || (pos[1] != "on" && pos[1] != "off") {
		return fmt.Errorf("%w: devport xdebug NAME on|off", ErrUsage)
	}
	name := pos[0]
	req := wire.XdebugRequest{On: pos[1] == "on"}
	var st wire.ProjectStatus
	err = c.withAPI(ctx, func(a api, _ *wire.Client) error {
		return c.withProgress(ctx, a, name, func() (err error) {
			st, err = a.SetXdebug(ctx, name, req)
			return err
		})
	})
	if err != nil {
		return err
	}
	if !req.On {
		fmt.Fprintf(c.Stdout, "%s's PHP runs without Xdebug (%s)\n", st.Name, st.State)
		return nil
	}
	fmt.Fprintf(c.Stdout, "%s's PHP loads Xdebug (%s): listen for it in your IDE on port 9003, then request a page with the XDEBUG_TRIGGER cookie or ?XDEBUG_TRIGGER=1 (or the browser extension's debug button)\n", st.Name, st.State)
	if st.State != wire.StateRunning {
		fmt.Fprintf(c.Stdout, "it applies once the project runs: devport start %s\n", st.Name)
	}
	fmt.Fprintf(c.Stdout, "VS Code (PHP Debug): {\"type\": \"php\", \"request\": \"launch\", \"port\": 9003}, with \"pathMappings\" {\"/var/www/html\": \"%s\"} for a container\n", st.Root)
	return nil
}
