package cli

import (
	"context"
	"flag"
	"fmt"
	"strings"
	"text/tabwriter"

	"github.com/devport/devport/app/engine"
	"github.com/devport/devport/internal/stackdef"
)

// phpVersions is `devport php versions`: the PHP versions this host has
// for the process runtime, and the php:X.Y-apache images Docker has for
// the container runtime.
func (c *CLI) phpVersions(ctx context.Context, args []string) error {
	if len(args) == 0 || args[0] != "versions" {
		return fmt.Errorf("%w: devport php versions [--json]", ErrUsage)
	}
	fs := flag.NewFlagSet("php versions", flag.ContinueOnError)
	asJSON := fs.Bool("json", false, "print JSON")
	pos, err := c.flags(fs, args[1:])
	if err != nil {
		return err
	}
	if len(pos) > 0 {
		return fmt.Errorf("%w: devport php versions takes no arguments, got %s", ErrUsage, strings.Join(pos, " "))
	}
	host := engine.PHPVersions()
	images, ierr := engine.PHPImages(ctx)
	if *asJSON {
		type version struct {
			Version string `json:"version"`
			CLI     string `json:"cli,omitempty"`
			Module  string `json:"module,omitempty"`
			FPM     string `json:"fpm,omitempty"`
			Serves  bool   `json:"serves"` // the process runtime can serve it (mod_php)
		}
		out := struct {
			Process []version `json:"process"`
			Images  []string  `json:"images"` // versions with a php:X.Y-apache image present
		}{Process: []version{}, Images: nonNil(images)}
		for _, v := range host {
			out.Process = append(out.Process, version{v.Version, v.CLI, v.Module, v.FPM, v.Serves()})
		}
		return c.printJSON(out)
	}
	if len(host) == 0 {
		fmt.Fprintln(c.Stdout, "process runtime: no PHP installed (sudo apt-get install apache2 libapache2-mod-php)")
	} else {
		fmt.Fprintln(c.Stdout, "process runtime (each project's private Apache loads its version's mod_php):")
		tw := tabwriter.NewWriter(c.Stdout, 0, 4, 2, ' ', 0)
		fmt.Fprintln(tw, "  VERSION\tSERVES\tCLI\tMOD_PHP\tPHP-FPM")
		for _, v := range host {
			serves := "yes"
			if !v.Serves() {
				serves = "no: sudo apt-get install libapache2-mod-php" + v.Version
			}
			fmt.Fprintf(tw, "  %s\t%s\t%s\t%s\t%s\n", v.Version, serves, orDash(v.CLI), orDash(v.Module), orDash(v.FPM))
		}
		if err := tw.Flush(); err != nil {
			return err
		}
	}
	fmt.Fprintln(c.Stdout, "other versions side by side: Ondřej Surý's packages (https://deb.sury.org) install php8.x and libapache2-mod-php8.x")
	switch {
	case ierr != nil:
		first, _, _ := strings.Cut(ierr.Error(), "\n")
		fmt.Fprintf(c.Stdout, "container runtime: %s\n", first)
	case len(images) == 0:
		fmt.Fprintln(c.Stdout, "container runtime: no php:X.Y-apache image here yet; a start pulls the one a project needs")
	default:
		var tags []string
		for _, v := range images {
			tags = append(tags, stackdef.PHPImage(v))
		}
		fmt.Fprintf(c.Stdout, "container runtime, images present (used without a pull): %s\n", strings.Join(tags, ", "))
	}
	return nil
}

func orDash(s string) string {
	if s == "" {
		return "-"
	}
	return s
}
