package cli

import (
	"context"
	"flag"
	"fmt"
	"maps"
	"slices"
	"strings"

	"github.com/devport/devport/app/wire"
	"github.com/devport/devport/internal/stackdef"
)

// set switches a service's runtime: `devport set NAME --runtime container
// [--image IMAGE] [--service S]`, and chooses a php service's version:
// `devport set NAME --php 8.4` (auto: devport chooses again). --php-ini
// (below), --env and --before-start (cmd_envhooks.go) change the rest. Through the
// engine when one runs (it restarts a running project on the new runtime),
// on the store otherwise. With both, the version is checked in the new
// runtime before either changes.
func (c *CLI) set(ctx context.Context, args []string) error {
	fs := flag.NewFlagSet("set", flag.ContinueOnError)
	var req wire.RuntimeRequest
	fs.StringVar(&req.Service, "service", "", "the service to change (default: the project's only one)")
	fs.StringVar(&req.Runtime, "runtime", "", "process or container (Docker)")
	fs.StringVar(&req.Image, "image", "", "container image (default: the service's, else setting container.image.STACK, else the stack's)")
	php := fs.String("php", "", "the php service's PHP version, MAJOR.MINOR, or auto to let devport choose (composer.json's require.php, else the newest)")
	var ini wire.PHPIniRequest
	fs.Func("php-ini", "set a php.ini directive of the project's PHP: KEY=VALUE (repeatable)", func(kv string) error {
		k, v, ok := strings.Cut(kv, "=")
		if !ok {
			return fmt.Errorf("--php-ini %q: use KEY=VALUE, e.g. --php-ini memory_limit=1G", kv)
		}
		if ini.Set == nil {
			ini.Set = map[string]string{}
		}
		ini.Set[strings.TrimSpace(k)] = v
		return nil
	})
	fs.Func("php-ini-unset", "remove a php.ini directive the project set: KEY (repeatable)", func(k string) error {
		ini.Unset = append(ini.Unset, k)
		return nil
	})
	var eh envHooksFlags
	eh.define(fs)
	pos, err := c.flags(fs, args)
	if err != nil {
		return err
	}
	name, err := oneName("set", pos)
	if err != nil {
		return err
	}
	if eh.given() {
		if req.Runtime != "" || req.Image != "" || *php != "" || ini.Set != nil || ini.Unset != nil {
			return fmt.Errorf("%w: --env and --before-start are set on their own: devport set %s --env KEY=VALUE, then devport set %s --runtime ..., --php ... or --php-ini ...", ErrUsage, name, name)
		}
		return c.setEnvHooks(ctx, name, req.Service, eh)
	}
	if ini.Set != nil || ini.Unset != nil {
		if req.Runtime != "" || req.Image != "" || req.Service != "" || *php != "" {
			return fmt.Errorf("%w: --php-ini is set on its own: devport set %s --php-ini KEY=VALUE, then devport set %s --runtime ... or --php ...", ErrUsage, name, name)
		}
		return c.setPHPIni(ctx, name, ini)
	}
	if req.Runtime == "" && *php == "" {
		return fmt.Errorf("%w: devport set %s --runtime process|container [--image IMAGE], devport set %s --php X.Y, --php-ini KEY=VALUE, --env [SERVICE:]KEY=VALUE or --before-start CMD", ErrUsage, name, name)
	}
	if req.Runtime == "" && req.Image != "" {
		return fmt.Errorf("%w: --image goes with --runtime container: devport set %s --runtime container --image %s", ErrUsage, name, req.Image)
	}
	version := *php
	if version == "auto" {
		version = ""
	}
	var st wire.ProjectStatus
	err = c.withAPI(ctx, func(a api, _ *wire.Client) error {
		return c.withProgress(ctx, a, name, func() (err error) {
			if req.Runtime == "" {
				st, err = a.SetPHP(ctx, name, wire.PHPRequest{Service: req.Service, Version: version})
				return err
			}
			if *php != "" { // checked in the new runtime before it switches
				req.PHP = &version
			}
			st, err = a.SetRuntime(ctx, name, req)
			return err
		})
	})
	if err != nil {
		return err
	}
	for _, s := range st.Services {
		if stackdef.RunsNothing(s.Stack) || (req.Service != "" && s.Name != req.Service) {
			continue
		}
		what := s.Runtime
		if s.Image != "" {
			what += " " + s.Image
		}
		fmt.Fprintf(c.Stdout, "%s/%s runs as %s (%s)\n", st.Name, s.Name, what, st.State)
		if s.PHP != "" {
			fmt.Fprintf(c.Stdout, "%s/%s runs PHP %s (%s)\n", st.Name, s.Name, s.PHP, phpFromText(s.PHPFrom))
		}
	}
	for _, d := range st.Data {
		if d.Name != req.Service {
			continue
		}
		fmt.Fprintf(c.Stdout, "%s/%s runs as %s (%s), its data in %s\n", st.Name, d.Name, d.Runtime, st.State, d.Data)
		if stackdef.IsDatabase(d.Stack) {
			fmt.Fprintln(c.Stdout, "its data moved with a dump and restore; the dump is kept as snapshot before-runtime-switch")
		} else {
			fmt.Fprintf(c.Stdout, "%s's data does not move between runtimes: it starts empty there\n", d.Stack)
		}
	}
	return nil
}

// setPHPIni changes php.ini directives of a project and prints the
// project's directives as they are now.
func (c *CLI) setPHPIni(ctx context.Context, name string, req wire.PHPIniRequest) error {
	var st wire.ProjectStatus
	err := c.withAPI(ctx, func(a api, _ *wire.Client) error {
		return c.withProgress(ctx, a, name, func() (err error) {
			st, err = a.SetPHPIni(ctx, name, req)
			return err
		})
	})
	if err != nil {
		return err
	}
	if len(st.PHPIni) == 0 {
		fmt.Fprintf(c.Stdout, "%s's PHP runs with the distribution's php.ini and devport's development defaults (%s)\n", st.Name, st.State)
		return nil
	}
	fmt.Fprintf(c.Stdout, "%s's php.ini directives (%s):\n", st.Name, st.State)
	for _, k := range slices.Sorted(maps.Keys(st.PHPIni)) {
		fmt.Fprintf(c.Stdout, "  %s = %s\n", k, st.PHPIni[k])
	}
	return nil
}

// rename renames a project: `devport rename NAME NEW [--domain D]`, or
// `devport rename NAME --domain D` for a new domain alone.
func (c *CLI) rename(ctx context.Context, args []string) error {
	fs := flag.NewFlagSet("rename", flag.ContinueOnError)
	var req wire.RenameRequest
	fs.StringVar(&req.Domain, "domain", "", "the new primary domain (default: NEW.TLD when the domain was NAME.TLD, else unchanged)")
	pos, err := c.flags(fs, args)
	if err != nil {
		return err
	}
	switch {
	case len(pos) == 2:
		req.Name = pos[1]
	case len(pos) == 1 && req.Domain != "":
	default:
		return fmt.Errorf("%w: devport rename NAME NEW [--domain D]", ErrUsage)
	}
	var st wire.ProjectStatus
	err = c.withAPI(ctx, func(a api, _ *wire.Client) error {
		return c.withProgress(ctx, a, pos[0], func() (err error) {
			st, err = a.Rename(ctx, pos[0], req)
			return err
		})
	})
	if st.Name != "" {
		fmt.Fprintf(c.Stdout, "%s is now %s at %s (%s)\n", pos[0], st.Name, st.URL, st.State)
	}
	return err
}

// phpFromText says where a PHP version comes from, for people.
func phpFromText(from string) string {
	switch from {
	case "set":
		return "set for the project"
	case "composer.json":
		return "composer.json's require.php"
	case "newest":
		return "the newest installed"
	case "image":
		return "the service's image"
	case "setting":
		return "setting container.image.php"
	default:
		return "the default image"
	}
}
