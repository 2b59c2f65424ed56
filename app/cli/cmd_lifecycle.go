package cli

import (
	"context"
	"flag"
	"fmt"

	"github.com/devport/devport/app/wire"
)

func (c *CLI) start(ctx context.Context, args []string) error   { return c.act(ctx, "start", args) }
func (c *CLI) stop(ctx context.Context, args []string) error    { return c.act(ctx, "stop", args) }
func (c *CLI) restart(ctx context.Context, args []string) error { return c.act(ctx, "restart", args) }

// act sends start, stop or restart to the running engine, which owns the
// ports and the backend processes. With no engine, start and restart run
// one in the background first.
func (c *CLI) act(ctx context.Context, action string, args []string) error {
	pos, err := c.flags(flag.NewFlagSet(action, flag.ContinueOnError), args)
	if err != nil {
		return err
	}
	name, err := oneName(action, pos)
	if err != nil {
		return err
	}
	cl, err := c.engine(ctx)
	if err != nil {
		return err
	}
	if cl == nil {
		// Fail the same way for an unknown project with or without an engine.
		m, err := c.manager(ctx)
		if err != nil {
			return err
		}
		defer m.Close()
		if _, err := m.Status(ctx, name); err != nil {
			return err
		}
		if action == "stop" {
			return fmt.Errorf("%s is not running: no devport engine is running", name)
		}
		if cl, err = c.spawnEngine(ctx, m); err != nil {
			return err
		}
	}
	var st wire.ProjectStatus
	err = c.withProgress(ctx, cl, name, func() (err error) { // image pulls of the container runtime
		st, err = cl.Act(ctx, action, name)
		return err
	})
	if err != nil {
		return err
	}
	switch action {
	case "stop":
		fmt.Fprintf(c.Stdout, "stopped %s\n", st.Name)
	default:
		fmt.Fprintf(c.Stdout, "%s is %s at %s\n", st.Name, st.State, st.URL)
	}
	return nil
}
