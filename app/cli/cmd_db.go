package cli

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"text/tabwriter"
	"time"

	"github.com/devport/devport/app/wire"
)

// dbCmd works on a project's database: devport db NAME snapshot [TAG],
// snapshots, restore TAG, import FILE, export [-o FILE], shell.
func (c *CLI) dbCmd(ctx context.Context, args []string) error {
	const usage = "devport db NAME snapshot [TAG] | snapshots | restore TAG | import FILE | export [-o FILE] | shell | follow on|off, with [--service S]"
	if len(args) < 2 {
		return fmt.Errorf("%w: %s", ErrUsage, usage)
	}
	name, action := args[0], args[1]
	fs := flag.NewFlagSet("db "+action, flag.ContinueOnError)
	var req wire.SnapshotRequest
	fs.StringVar(&req.Service, "service", "", "the database service, when the project has several")
	out := fs.String("o", "", "export: write the dump to FILE (gzipped when it ends in .gz) instead of stdout")
	pos, err := c.flags(fs, args[2:])
	if err != nil {
		return err
	}
	arg := func(what string) error {
		if len(pos) != 1 {
			return fmt.Errorf("%w: devport db %s %s %s", ErrUsage, name, action, what)
		}
		return nil
	}
	var res wire.DatabaseResult
	call := func() error {
		return c.withAPI(ctx, func(a api, _ *wire.Client) (err error) {
			res, err = a.Database(ctx, action, name, req)
			return err
		})
	}
	switch action {
	case "snapshot":
		if len(pos) > 1 {
			return fmt.Errorf("%w: devport db %s snapshot [TAG]", ErrUsage, name)
		}
		if len(pos) == 1 {
			req.Tag = pos[0]
		}
		if err := call(); err != nil {
			return err
		}
		s := res.Snapshots[0]
		fmt.Fprintf(c.Stdout, "snapshot %s of %s/%s: %s (%s)\n", s.Tag, name, s.Service, s.Path, humanSize(s.Size))
	case "snapshots":
		if err := call(); err != nil {
			return err
		}
		if len(res.Snapshots) == 0 {
			fmt.Fprintf(c.Stdout, "%s has no snapshots: make one with devport db %s snapshot\n", name, name)
			return nil
		}
		tw := tabwriter.NewWriter(c.Stdout, 0, 4, 2, ' ', 0)
		fmt.Fprintln(tw, "TAG\tSERVICE\tSIZE\tAGE")
		for _, s := range res.Snapshots {
			fmt.Fprintf(tw, "%s\t%s\t%s\t%s\n", s.Tag, s.Service, humanSize(s.Size), age(time.Since(s.Time)))
		}
		return tw.Flush()
	case "restore":
		if err := arg("TAG"); err != nil {
			return err
		}
		req.Tag = pos[0]
		if err := call(); err != nil {
			return err
		}
		fmt.Fprintf(c.Stdout, "restored %s of %s\n", req.Tag, name)
	case "import":
		if err := arg("FILE"); err != nil {
			return err
		}
		if req.File, err = filepath.Abs(pos[0]); err != nil {
			return err
		}
		if err := call(); err != nil {
			return err
		}
		fmt.Fprintf(c.Stdout, "imported %s into %s\n", pos[0], name)
	case "export":
		return c.dbExport(name, &req, *out, call)
	case "shell":
		if err := call(); err != nil {
			return err
		}
		return c.runShell(res.Shell)
	case "follow":
		if err := arg("on|off"); err != nil {
			return err
		}
		req.Tag = pos[0]
		if err := call(); err != nil {
			return err
		}
		fmt.Fprintf(c.Stdout, "%s: databases follow the git branch: %s (from its next checkout)\n", name, pos[0])
	default:
		return fmt.Errorf("%w: unknown db action %q; %s", ErrUsage, action, usage)
	}
	return nil
}

// dbExport has call write the dump to out, or through a temporary file
// to stdout; call sends *req, which it fills with the file.
func (c *CLI) dbExport(name string, req *wire.SnapshotRequest, out string, call func() error) error {
	if out != "" && out != "-" {
		abs, err := filepath.Abs(out)
		if err != nil {
			return err
		}
		req.File = abs
		if err := call(); err != nil {
			return err
		}
		fmt.Fprintf(c.Stderr, "exported %s to %s\n", name, abs)
		return nil
	}
	dir, err := os.MkdirTemp("", "devport-export-")
	if err != nil {
		return err
	}
	defer os.RemoveAll(dir)
	req.File = filepath.Join(dir, name+".sql")
	if err := call(); err != nil {
		return err
	}
	f, err := os.Open(req.File)
	if err != nil {
		return err
	}
	defer f.Close()
	_, err = io.Copy(c.Stdout, f)
	return err
}

// runShell runs a database client in the foreground; its exit code
// becomes devport's.
func (c *CLI) runShell(sh wire.Shell) error {
	if len(sh.Argv) == 0 {
		return errors.New("the engine gave no client command")
	}
	// Not tied to ctx: Ctrl-C belongs to the client (it cancels a query),
	// which the terminal sends it directly.
	cmd := exec.Command(sh.Argv[0], sh.Argv[1:]...)
	cmd.Env = append(os.Environ(), sh.Env...)
	cmd.Stdin, cmd.Stdout, cmd.Stderr = os.Stdin, c.Stdout, c.Stderr
	err := cmd.Run()
	if ee, ok := errors.AsType[*exec.ExitError](err); ok {
		return &ExitError{Code: ee.ExitCode()}
	}
	return err
}

// age renders a duration as snapshots list it: 5s, 3m, 2h, 4d.
func age(d time.Duration) string {
	switch {
	case d < time.Minute:
		return fmt.Sprintf("%ds", int(d.Seconds()))
	case d < time.Hour:
		return fmt.Sprintf("%dm", int(d.Minutes()))
	case d < 48*time.Hour:
		return fmt.Sprintf("%dh", int(d.Hours()))
	}
	return fmt.Sprintf("%dd", int(d.Hours()/24))
}
