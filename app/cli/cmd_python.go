package cli

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/exec"
	"syscall"

	"github.com/devport/devport/app/wire"
)

// python runs the interpreter of a project's Python service: devport
// python [--service S] NAME [ARGS...].
func (c *CLI) python(ctx context.Context, args []string) error {
	return c.pythonTool(ctx, wire.ToolPython, args)
}

// manage runs Django's manage.py of a project: devport manage [--service
// S] NAME [ARGS...].
func (c *CLI) manage(ctx context.Context, args []string) error {
	return c.pythonTool(ctx, wire.ToolManage, args)
}

// flask runs Flask's CLI for a project: devport flask [--service S] NAME
// [ARGS...].
func (c *CLI) flask(ctx context.Context, args []string) error {
	return c.pythonTool(ctx, wire.ToolFlask, args)
}

// pythonTool asks the engine (or a Manager of the store when none runs)
// for the command of tool, then runs it in the foreground: its exit code
// becomes devport's.
func (c *CLI) pythonTool(ctx context.Context, tool string, args []string) error {
	req, name, err := pythonArgs(tool, args)
	if err != nil {
		return err
	}
	req.TTY = isTerminal(os.Stdin)
	var cmd wire.Command
	err = c.withAPI(ctx, func(a api, _ *wire.Client) (err error) {
		cmd, err = a.PythonCommand(ctx, name, req)
		return err
	})
	if err != nil {
		return err
	}
	return c.runForeground(cmd)
}

// pythonArgs splits devport TOOL's arguments: devport's own flags before
// NAME, and everything after NAME, flags included, for the program
// (devport python shop -c 'print(1)', devport manage shop migrate
// --plan). The flag package stops at the first argument that is not a
// flag, which is NAME.
func pythonArgs(tool string, args []string) (wire.PythonRequest, string, error) {
	req := wire.PythonRequest{Tool: tool}
	fs := flag.NewFlagSet(tool, flag.ContinueOnError)
	fs.SetOutput(io.Discard)
	fs.StringVar(&req.Service, "service", "", "the Python service, when the project has several")
	usage := fmt.Errorf("%w: devport %s [--service S] NAME [ARGS...]", ErrUsage, tool)
	if err := fs.Parse(args); err != nil {
		return req, "", fmt.Errorf("%w (%v)", usage, err)
	}
	if fs.NArg() == 0 {
		return req, "", usage
	}
	req.Args = fs.Args()[1:]
	return req, fs.Arg(0), nil
}

// runForeground runs cmd with this process's terminal, in its folder,
// with its environment on top of ours, and passes its exit code on. It
// is not tied to ctx: Ctrl-C reaches the program itself, as it would from
// a shell (a Django shell or a REPL handles it), and devport waits for it.
func (c *CLI) runForeground(cmd wire.Command) error {
	if len(cmd.Argv) == 0 {
		return errors.New("the engine gave no command to run")
	}
	x := exec.Command(cmd.Argv[0], cmd.Argv[1:]...)
	x.Dir = cmd.Dir
	x.Env = append(os.Environ(), cmd.Env...)
	x.Stdin, x.Stdout, x.Stderr = os.Stdin, c.Stdout, c.Stderr
	err := x.Run()
	if ee, ok := errors.AsType[*exec.ExitError](err); ok {
		return &ExitError{Code: exitCode(ee)}
	}
	if errors.Is(err, exec.ErrNotFound) && cmd.Argv[0] == "docker" {
		return fmt.Errorf("%w: the service runs in a container, and devport runs docker exec in it: install the docker CLI", err)
	}
	return err
}

// exitCode is a finished program's exit code as a shell gives it: 128
// plus the signal's number when a signal ended it.
func exitCode(ee *exec.ExitError) int {
	if ws, ok := ee.Sys().(interface {
		Signaled() bool
		Signal() syscall.Signal
	}); ok && ws.Signaled() {
		return 128 + int(ws.Signal())
	}
	if code := ee.ExitCode(); code >= 0 {
		return code
	}
	return 1
}
