package app

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"strings"
)

// Version is devport's version, set at build time with -ldflags "-X".
var Version = "dev"

// CLI runs devport's subcommands. Its fields are the process's streams and
// environment, so tests can run it in-process.
type CLI struct {
	Stdout, Stderr io.Writer
	Getenv         func(string) string
}

// Run runs devport with the process's own streams and environment.
func Run(ctx context.Context, args []string) error {
	return (&CLI{Stdout: os.Stdout, Stderr: os.Stderr, Getenv: os.Getenv}).Run(ctx, args)
}

// ErrUsage marks an error in how a command was called; main exits 2 for it.
var ErrUsage = errors.New("usage")

type command struct {
	name, args, help string
	run              func(c *CLI, ctx context.Context, args []string) error
}

// commands in the order `devport help` lists them.
var commands = []command{
	{"add", "DIR [--name N] [--domain D] [--stack php|uvicorn] [--app MODULE:APP] [--runtime process]\n       devport add --name N [--domain D] --proxy URL",
		"add a project folder (detects the stack), or a server you already run", (*CLI).add},
	{"ls", "[--json]", "list projects, their URLs and state", (*CLI).ls},
	{"start", "NAME", "start a project's backends and route its domain to them", (*CLI).start},
	{"stop", "NAME", "stop a project's backends", (*CLI).stop},
	{"restart", "NAME", "stop and start a project", (*CLI).restart},
	{"rm", "NAME", "stop and remove a project (its folder is untouched)", (*CLI).rm},
	{"logs", "NAME [--service S] [-n LINES] [-f]", "show a project's backend logs", (*CLI).logs},
	{"trust", "[--system=false] [--nss=false]", "install the local CA into the system store and NSS (Chromium, Firefox)", (*CLI).trust},
	{"untrust", "", "remove the local CA from every store", (*CLI).untrust},
	{"ca", "", "print the path of the local CA certificate", (*CLI).ca},
	{"serve", "--headless [--start NAME,NAME] [--https-port N] [--http-port N]", "run the engine in the foreground until Ctrl-C", (*CLI).serve},
	{"version", "", "print devport's version", (*CLI).version},
}

// Run runs one subcommand.
func (c *CLI) Run(ctx context.Context, args []string) error {
	if len(args) == 0 || args[0] == "help" || args[0] == "-h" || args[0] == "--help" {
		c.usage(c.Stdout)
		return nil
	}
	for _, cmd := range commands {
		if cmd.name == args[0] {
			return cmd.run(c, ctx, args[1:])
		}
	}
	c.usage(c.Stderr)
	return fmt.Errorf("%w: unknown command %q; see devport help", ErrUsage, args[0])
}

func (c *CLI) usage(w io.Writer) {
	fmt.Fprintf(w, "devport %s: local HTTPS domains and backends for your projects\n\nUsage:\n", Version)
	for _, cmd := range commands {
		fmt.Fprintf(w, "  %s\n        %s\n", strings.TrimSpace("devport "+cmd.name+" "+cmd.args), cmd.help)
	}
	fmt.Fprint(w, "\nEnvironment:\n  DEVPORT_HOME  keep all of devport's data under this folder (default: XDG dirs)\n")
}

// flags parses a subcommand's flags, which may come before or after its
// positional arguments (devport add DIR --name shop).
func (c *CLI) flags(fs *flag.FlagSet, args []string) ([]string, error) {
	fs.SetOutput(io.Discard)
	var pos []string
	for {
		if err := fs.Parse(args); err != nil {
			if errors.Is(err, flag.ErrHelp) {
				fs.SetOutput(c.Stdout)
				fs.PrintDefaults()
			}
			return nil, fmt.Errorf("%w: devport %s: %v", ErrUsage, fs.Name(), err)
		}
		args = fs.Args()
		if len(args) == 0 {
			return pos, nil
		}
		pos = append(pos, args[0])
		args = args[1:]
	}
}

func (c *CLI) paths() (Paths, error) { return ResolvePaths(c.Getenv) }

// manager opens a Manager on the store directly, for when no engine runs.
func (c *CLI) manager(ctx context.Context) (*Manager, error) {
	p, err := c.paths()
	if err != nil {
		return nil, err
	}
	return NewManager(ctx, Options{Paths: p})
}

// engine returns a client when an engine is running, and nil when none is.
func (c *CLI) engine(ctx context.Context) (*Client, error) {
	p, err := c.paths()
	if err != nil {
		return nil, err
	}
	cl, err := Dial(ctx, p)
	if errors.Is(err, ErrEngineDown) {
		return nil, nil
	}
	return cl, err
}

// either runs viaEngine when an engine answers on the control socket (it
// owns the ports and backends, so changes must go through it), and direct
// on a Manager of the store otherwise.
func (c *CLI) either(ctx context.Context, viaEngine func(*Client) error, direct func(*Manager) error) error {
	cl, err := c.engine(ctx)
	if err != nil {
		return err
	}
	if cl != nil {
		return viaEngine(cl)
	}
	m, err := c.manager(ctx)
	if err != nil {
		return err
	}
	return joinClose(direct(m), m)
}

func oneName(cmd string, pos []string) (string, error) {
	if len(pos) != 1 {
		return "", fmt.Errorf("%w: devport %s NAME (got %d arguments)", ErrUsage, cmd, len(pos))
	}
	return pos[0], nil
}

func splitList(s string) []string {
	var out []string
	for _, f := range strings.Split(s, ",") {
		if f = strings.TrimSpace(f); f != "" {
			out = append(out, f)
		}
	}
	return out
}
