package cli

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"text/tabwriter"

	"github.com/devport/devport/app/engine"
)

// ErrChecksFailed makes doctor exit non-zero when something needs fixing.
var ErrChecksFailed = errors.New("some checks failed; each gives its fix above")

func (c *CLI) doctor(ctx context.Context, args []string) error {
	fs := flag.NewFlagSet("doctor", flag.ContinueOnError)
	asJSON := fs.Bool("json", false, "print JSON")
	pos, err := c.flags(fs, args)
	if err != nil {
		return err
	}
	if len(pos) > 0 {
		return fmt.Errorf("%w: devport doctor takes no arguments", ErrUsage)
	}
	o := engine.DoctorOptions{Home: c.Getenv("HOME")}
	if cl, err := c.engine(ctx); err != nil {
		return err
	} else if cl != nil {
		info, err := cl.Engine(ctx)
		if err != nil {
			return err
		}
		o.Engine = &info
	}
	m, err := c.manager(ctx)
	if err != nil {
		return err
	}
	checks := m.Doctor(ctx, o)
	if err := m.Close(); err != nil {
		return err
	}
	failed := 0
	for _, ch := range checks {
		if !ch.OK {
			failed++
		}
	}
	if *asJSON {
		if err := c.printJSON(checks); err != nil {
			return err
		}
	} else {
		tw := tabwriter.NewWriter(c.Stdout, 0, 4, 2, ' ', 0)
		for _, ch := range checks {
			mark := "ok"
			if !ch.OK {
				mark = "FAIL"
			}
			fmt.Fprintf(tw, "%s\t%s\t%s\n", mark, ch.Name, ch.Detail)
			switch {
			case ch.Fix != "" && !ch.OK:
				fmt.Fprintf(tw, "\t\tfix: %s\n", ch.Fix)
			case ch.Fix != "":
				fmt.Fprintf(tw, "\t\ttip: %s\n", ch.Fix)
			}
		}
		if err := tw.Flush(); err != nil {
			return err
		}
	}
	if failed > 0 {
		return fmt.Errorf("%d of %d checks: %w", failed, len(checks), ErrChecksFailed)
	}
	return nil
}
