package cli

import (
	"context"
	"fmt"
	"os"

	"github.com/devport/devport/app/wire"
)

// php runs a project's PHP as its site runs: devport php NAME [ARGS...];
// devport php versions lists the versions there are (cmd_phpversions.go).
func (c *CLI) php(ctx context.Context, args []string) error {
	if len(args) > 0 && args[0] == "versions" {
		return c.phpVersions(ctx, args)
	}
	if len(args) == 0 {
		return fmt.Errorf("%w: devport php NAME [ARGS...], or devport php versions", ErrUsage)
	}
	return c.phpTool(ctx, wire.ToolPHP, args)
}

// composer runs Composer with a project's PHP: devport composer NAME
// [ARGS...].
func (c *CLI) composer(ctx context.Context, args []string) error {
	return c.phpTool(ctx, wire.ToolComposer, args)
}

// phpTool asks the engine (or a Manager of the store when none runs) for
// the command of tool, then runs it in the foreground: its exit code
// becomes devport's. Every argument after NAME is the program's, flags
// included (devport php shop -r 'echo 1;', devport composer shop install
// --no-dev).
func (c *CLI) phpTool(ctx context.Context, tool string, args []string) error {
	if len(args) == 0 || args[0] == "" || args[0][0] == '-' {
		return fmt.Errorf("%w: devport %s NAME [ARGS...]", ErrUsage, tool)
	}
	name := args[0]
	req := wire.PHPCommandRequest{Tool: tool, Args: args[1:], TTY: isTerminal(os.Stdin)}
	var cmd wire.Command
	err := c.withAPI(ctx, func(a api, _ *wire.Client) (err error) {
		cmd, err = a.PHPCommand(ctx, name, req)
		return err
	})
	if err != nil {
		return err
	}
	return c.runForeground(cmd)
}
