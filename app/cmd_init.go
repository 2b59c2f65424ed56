package app

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"os"
	"path/filepath"

	"github.com/devport/devport/manifest"
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
	dir, err := filepath.Abs(pos[0])
	if err != nil {
		return err
	}
	if fi, err := os.Stat(dir); err != nil || !fi.IsDir() {
		return fmt.Errorf("devport init %s: not a folder: pass an existing project folder", pos[0])
	}
	f, err := detectFile(dir)
	if err != nil {
		return fmt.Errorf("devport init %s: %w", pos[0], err)
	}
	path := filepath.Join(dir, manifest.FileName)
	if err := f.Validate(); err != nil { // detection gave something the file cannot hold
		return fmt.Errorf("devport init %s: %w", pos[0], err)
	}
	flags := os.O_WRONLY | os.O_CREATE | os.O_EXCL
	if *force {
		flags = os.O_WRONLY | os.O_CREATE | os.O_TRUNC
	}
	if err := writeFile(path, flags, manifest.Write(f)); err != nil {
		if errors.Is(err, os.ErrExist) {
			return fmt.Errorf("%s already exists: edit it, or overwrite it with devport init --force %s", path, pos[0])
		}
		return err
	}
	fmt.Fprintf(c.Stdout, "wrote %s:\n", path)
	for _, sn := range sortedKeys(f.Services) {
		fmt.Fprintf(c.Stdout, "  %s\n", describeService(sn, f.Services[sn]))
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
	p, routes, err := m.projectRoutes(ctx, name)
	if err != nil {
		return err
	}
	f, warnings, err := fileFromProject(p, routes)
	if err != nil {
		return err
	}
	for _, w := range warnings {
		fmt.Fprintln(c.Stderr, "warning:", w)
	}
	data := manifest.Write(f)
	if *out == "-" {
		_, err := c.Stdout.Write(data)
		return err
	}
	path := *out
	if path == "" {
		path = filepath.Join(p.Root, manifest.FileName)
	}
	if err := writeFile(path, os.O_WRONLY|os.O_CREATE|os.O_TRUNC, data); err != nil {
		return err
	}
	fmt.Fprintf(c.Stdout, "wrote %s\n", path)
	return nil
}

func writeFile(path string, flags int, data []byte) error {
	fh, err := os.OpenFile(path, flags, 0o644)
	if err != nil {
		return err
	}
	if _, err := fh.Write(data); err != nil {
		fh.Close()
		return err
	}
	return fh.Close()
}
