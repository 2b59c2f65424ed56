package cli

import (
	"context"
	"flag"
	"fmt"
	"path/filepath"
	"strings"
	"text/tabwriter"

	"github.com/devport/devport/app/wire"
)

// park makes every subfolder of a folder a project (devport park DIR),
// or lists the parked folders (devport park).
func (c *CLI) park(ctx context.Context, args []string) error {
	pos, err := c.flags(flag.NewFlagSet("park", flag.ContinueOnError), args)
	if err != nil {
		return err
	}
	switch len(pos) {
	case 0:
		return c.parkedList(ctx, false)
	case 1:
	default:
		return fmt.Errorf("%w: devport park takes one folder, got %d: %s", ErrUsage, len(pos), strings.Join(pos, " "))
	}
	dir, err := filepath.Abs(pos[0]) // the engine runs elsewhere: it needs the full path
	if err != nil {
		return err
	}
	var rep wire.ParkReport
	err = c.withAPI(ctx, func(a api, _ *wire.Client) (err error) {
		rep, err = a.Park(ctx, dir)
		return err
	})
	if err != nil {
		return err
	}
	c.printReport(rep)
	return nil
}

// unpark removes the projects of a parked folder and forgets it.
func (c *CLI) unpark(ctx context.Context, args []string) error {
	pos, err := c.flags(flag.NewFlagSet("unpark", flag.ContinueOnError), args)
	if err != nil {
		return err
	}
	if len(pos) != 1 {
		return fmt.Errorf("%w: devport unpark DIR (got %d arguments)", ErrUsage, len(pos))
	}
	dir, err := filepath.Abs(pos[0])
	if err != nil {
		return err
	}
	var rep wire.ParkReport
	err = c.withAPI(ctx, func(a api, _ *wire.Client) (err error) {
		rep, err = a.Unpark(ctx, dir)
		return err
	})
	if err != nil {
		return err
	}
	c.printReport(rep)
	return nil
}

// parked lists the parked folders and their projects.
func (c *CLI) parked(ctx context.Context, args []string) error {
	fs := flag.NewFlagSet("parked", flag.ContinueOnError)
	asJSON := fs.Bool("json", false, "print JSON")
	pos, err := c.flags(fs, args)
	if err != nil {
		return err
	}
	if len(pos) != 0 {
		return fmt.Errorf("%w: devport parked takes no arguments", ErrUsage)
	}
	return c.parkedList(ctx, *asJSON)
}

func (c *CLI) parkedList(ctx context.Context, asJSON bool) error {
	var folders []wire.ParkedFolder
	err := c.withAPI(ctx, func(a api, _ *wire.Client) (err error) {
		folders, err = a.Parked(ctx)
		return err
	})
	if err != nil {
		return err
	}
	if asJSON {
		return c.printJSON(nonNil(folders))
	}
	if len(folders) == 0 {
		fmt.Fprintln(c.Stdout, "no parked folders: park one with devport park DIR")
		return nil
	}
	tw := tabwriter.NewWriter(c.Stdout, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "FOLDER\tPROJECTS")
	for _, f := range folders {
		dir := f.Dir
		if f.Missing {
			dir += " (gone: its projects are stopped until it is back)"
		}
		projects := strings.Join(f.Projects, ", ")
		if projects == "" {
			projects = "-"
		}
		fmt.Fprintf(tw, "%s\t%s\n", dir, projects)
	}
	return tw.Flush()
}

func (c *CLI) printReport(rep wire.ParkReport) {
	for _, l := range rep.Lines {
		fmt.Fprintln(c.Stdout, l)
	}
}
