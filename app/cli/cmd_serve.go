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
	minimized := fs.Bool("minimized", false, "with the window: start in the tray without showing it")
	start := fs.String("start", "", "comma-separated projects to start")
	var o engine.ServeOptions
	fs.IntVar(&o.HTTPSPort, "https-port", 0, "HTTPS port (default 443, falling back to 8443)")
	fs.IntVar(&o.HTTPPort, "http-port", 0, "HTTP port that redirects to HTTPS (default 80, falling back to 8080)")
	pos, err := c.flags(fs, args)
	if err != nil {
		return err
	}
	if len(pos) > 0 {
		return fmt.Errorf("%w: devport serve takes no arguments, got %q", ErrUsage, pos)
	}
	if !*headless {
		return c.openWindow(ctx, o, splitList(*start), *minimized)
	}
	for _, p := range []int{o.HTTPSPort, o.HTTPPort} {
		if p < 0 || p > 65535 {
			return fmt.Errorf("%w: port %d: pick one between 1 and 65535", ErrUsage, p)
		}
	}
	o.Start = splitList(*start)
	o.Out = c.Stdout
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
