package cli

import (
	"context"
	"flag"
	"fmt"
	"os"

	"github.com/devport/devport/app/engine"
)

// initCmd writes DIR/devport.toml from detection: devport init DIR [--force].
func (c *CLI) initCmd(ctx context.Context, args []string) error {
	fs := flag.NewFlagSet("init", flag.ContinueOnError)
	force := fs.Bool("force", false, "overwrite an existing devport.toml")
	pos, err := c.flags(fs, args)
	if err != nil {
		return err
	}
	if len(pos) != 1 {
		return fmt.Errorf("%w: devport init DIR (got %d arguments)", ErrUsage, len(pos))
	}
	path, lines, err := engine.InitFile(pos[0], *force)
	if err != nil {
		return err
	}
	fmt.Fprintf(c.Stdout, "wrote %s:\n", path)
	for _, l := range lines {
		fmt.Fprintf(c.Stdout, "  %s\n", l)
	}
	fmt.Fprintf(c.Stdout, "add it with: devport add %s\n", pos[0])
	return nil
}

// exportConfig writes a stored project back to its folder's devport.toml
// (or -o FILE, or stdout with -o -): devport export-config NAME.
func (c *CLI) exportConfig(ctx context.Context, args []string) error {
	fs := flag.NewFlagSet("export-config", flag.ContinueOnError)
	out := fs.String("o", "", "write here instead of the project folder's devport.toml; - for stdout")
	pos, err := c.flags(fs, args)
	if err != nil {
		return err
	}
	name, err := oneName("export-config", pos)
	if err != nil {
		return err
	}
	m, err := c.manager(ctx) // reads only: safe beside a running engine
	if err != nil {
		return err
	}
	defer m.Close()
	data, defaultPath, warnings, err := m.ExportConfig(ctx, name)
	if err != nil {
		return err
	}
	for _, w := range warnings {
		fmt.Fprintln(c.Stderr, "warning:", w)
	}
	if *out == "-" {
		_, err := c.Stdout.Write(data)
		return err
	}
	path := *out
	if path == "" {
		path = defaultPath
	}
	if err := os.WriteFile(path, data, 0o644); err != nil {
		return err
	}
	fmt.Fprintf(c.Stdout, "wrote %s\n", path)
	return nil
}
