package cli

import (
	"context"
	"flag"
	"fmt"

	"github.com/devport/devport/app/wire"
)

// debug turns debugging of a project's Python service on or off: `devport
// debug NAME on|off [--service S]`. Through the engine when one runs (it
// restarts a running project), on the store otherwise (the next start
// applies it).
func (c *CLI) debug(ctx context.Context, args []string) error {
	fs := flag.NewFlagSet("debug", flag.ContinueOnError)
	var req wire.DebugRequest
	fs.StringVar(&req.Service, "service", "", "the Python service to debug (default: the project's only one)")
	pos, err := c.flags(fs, args)
	if err != nil {
		return err
	}
	if len(pos) != 2 || (pos[1] != "on" && pos[1] != "off") {
		return fmt.Errorf("%w: devport debug NAME on|off [--service S]", ErrUsage)
	}
	name := pos[0]
	req.On = pos[1] == "on"
	var st wire.ProjectStatus
	err = c.withAPI(ctx, func(a api, _ *wire.Client) error {
		return c.withProgress(ctx, a, name, func() (err error) {
			st, err = a.SetDebug(ctx, name, req)
			return err
		})
	})
	if err != nil {
		return err
	}
	if !req.On {
		fmt.Fprintf(c.Stdout, "%s runs without the debugger (%s)\n", st.Name, st.State)
		return nil
	}
	fmt.Fprintf(c.Stdout, "%s runs under debugpy (%s): attach your IDE to 127.0.0.1:5678\n", st.Name, st.State)
	if st.State != wire.StateRunning {
		fmt.Fprintf(c.Stdout, "it listens once the project runs: devport start %s\n", st.Name)
	}
	fmt.Fprintln(c.Stdout, `VS Code: {"type": "debugpy", "request": "attach", "connect": {"host": "127.0.0.1", "port": 5678}}, with "pathMappings" to /app for a container`)
	return nil
}
