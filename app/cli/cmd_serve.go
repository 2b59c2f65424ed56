package cli

import (
	"context"
	"flag"
	"fmt"
	"log/slog"

	"github.com/devport/devport/app/engine"
)

func (c *CLI) serve(ctx context.Context, args []string) error {
	fs := flag.NewFlagSet("serve", flag.ContinueOnError)
	headless := fs.Bool("headless", false, "run without a window")
	l := launchFlags(fs, "with the window: start in the tray without showing it")
	pos, err := c.flags(fs, args)
	if err != nil {
		return err
	}
	if len(pos) > 0 {
		return fmt.Errorf("%w: devport serve takes no arguments, got %q", ErrUsage, pos)
	}
	if !*headless {
		return c.openWindow(ctx, l)
	}
	if err := l.checkPorts(); err != nil {
		return err
	}
	o := l.serve
	o.Start = splitList(l.start)
	o.Restore = !l.noRestore
	o.Out = c.Stdout
	o.TuneGC = true // a headless engine: the proxy's throughput first
	paths, err := c.paths()
	if err != nil {
		return err
	}
	m, err := engine.NewManager(ctx, engine.Options{Paths: paths, Logger: slog.New(slog.NewTextHandler(c.Stderr, nil)),
		Supervisor: engine.SelfSupervisor()})
	if err != nil {
		return err
	}
	return joinClose(m.Serve(ctx, o), m)
}

type closer interface{ Close() error }

func joinClose(err error, c closer) error {
	if cerr := c.Close(); err == nil {
		return cerr
	}
	return err
}
