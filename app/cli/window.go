package cli

import (
	"context"
	"flag"
	"fmt"
	"io"
	"os"

	"github.com/devport/devport/app/engine"
)

// WindowOptions are what the desktop window needs to host or attach to an
// engine. The CLI fills them from `devport [flags]` and `devport serve`
// without --headless.
type WindowOptions struct {
	Paths     engine.Paths
	Serve     engine.ServeOptions // ports; Serve.Start is left empty (see Start)
	Start     []string            // projects to start once the engine is ready
	Minimized bool                // start in the tray, without showing the window
	Stderr    io.Writer           // diagnostics
}

// WindowFunc opens the desktop window and blocks until it quits. main sets
// it (see app/desktop), so that this package and every CLI command stay
// free of the GL and windowing libraries.
type WindowFunc func(ctx context.Context, o WindowOptions) error

// RunWithWindow is Run with a desktop window: `devport` without a command,
// or `devport serve` without --headless, opens it through open.
func RunWithWindow(ctx context.Context, args []string, open WindowFunc) error {
	return (&CLI{Stdout: os.Stdout, Stderr: os.Stderr, Getenv: os.Getenv, Window: open}).Run(ctx, args)
}

// How `devport help` lists the window.
const (
	windowUsage = "devport [--minimized] [--start NAME,NAME] [--no-restore] [--https-port N] [--http-port N]"
	windowHelp  = "open the desktop window (it hosts the engine, or attaches to a running one); the projects that ran when devport last stopped start again, unless --no-restore; with a window already open, bring that one to the front (starting --start) and exit"
)

// launch is what devport serve and devport [flags] are told: the
// engine's ports, the projects to start, and for the window whether to
// start in the tray.
type launch struct {
	serve     engine.ServeOptions
	start     string
	minimized bool
	noRestore bool
}

// launchFlags adds the flags of launch to fs.
func launchFlags(fs *flag.FlagSet, minimizedHelp string) *launch {
	l := &launch{}
	fs.BoolVar(&l.minimized, "minimized", false, minimizedHelp)
	fs.StringVar(&l.start, "start", "", "comma-separated projects to start")
	fs.BoolVar(&l.noRestore, "no-restore", false, "do not start again the projects that ran when devport last stopped (and forget them)")
	fs.IntVar(&l.serve.HTTPSPort, "https-port", 0, "HTTPS port (default 443, falling back to 8443)")
	fs.IntVar(&l.serve.HTTPPort, "http-port", 0, "HTTP port that redirects to HTTPS (default 80, falling back to 8080)")
	return l
}

// checkPorts refuses ports no listener can have.
func (l *launch) checkPorts() error {
	for _, p := range []int{l.serve.HTTPSPort, l.serve.HTTPPort} {
		if p < 0 || p > 65535 {
			return fmt.Errorf("%w: port %d: pick one between 1 and 65535", ErrUsage, p)
		}
	}
	return nil
}

// windowCmd parses the launch flags of `devport [flags]` and opens the window.
func (c *CLI) windowCmd(ctx context.Context, args []string) error {
	fs := flag.NewFlagSet("devport", flag.ContinueOnError)
	l := launchFlags(fs, "start in the tray without showing the window")
	pos, err := c.flags(fs, args)
	if err != nil {
		return err
	}
	if len(pos) > 0 {
		return fmt.Errorf("%w: unknown command %q; see devport help", ErrUsage, pos[0])
	}
	return c.openWindow(ctx, l)
}

// openWindow checks the ports and hands over to the window.
func (c *CLI) openWindow(ctx context.Context, l *launch) error {
	if c.Window == nil {
		return fmt.Errorf("%w: this build has no desktop window: run devport serve --headless", ErrUsage)
	}
	if err := l.checkPorts(); err != nil {
		return err
	}
	l.serve.Restore = !l.noRestore
	if c.Getenv("DISPLAY") == "" && c.Getenv("WAYLAND_DISPLAY") == "" {
		return fmt.Errorf("%w: no display (DISPLAY and WAYLAND_DISPLAY are unset): run devport serve --headless, or set DISPLAY", ErrUsage)
	}
	paths, err := c.paths()
	if err != nil {
		return err
	}
	return c.Window(ctx, WindowOptions{Paths: paths, Serve: l.serve, Start: splitList(l.start), Minimized: l.minimized, Stderr: c.Stderr})
}
