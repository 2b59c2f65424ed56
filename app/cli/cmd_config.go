package cli

import (
	"context"
	"fmt"
	"text/tabwriter"

	"github.com/devport/devport/app/engine"
	"github.com/devport/devport/app/wire"
)

// config reads and changes devport's settings: devport config [ls] | get
// KEY | set KEY VALUE | unset KEY. Settings live in the store, which the
// engine reads when it needs them, so a change applies to the next start
// whether or not an engine runs.
func (c *CLI) config(ctx context.Context, args []string) error {
	const usage = "devport config [ls], devport config get KEY, devport config set KEY VALUE, or devport config unset KEY"
	verb := "ls"
	if len(args) > 0 {
		verb, args = args[0], args[1:]
	}
	want := map[string]int{"ls": 0, "get": 1, "set": 2, "unset": 1}
	n, ok := want[verb]
	if !ok {
		return fmt.Errorf("%w: unknown config action %q; %s", ErrUsage, verb, usage)
	}
	if len(args) != n {
		return fmt.Errorf("%w: devport config %s takes %d argument(s), got %d; %s", ErrUsage, verb, n, len(args), usage)
	}
	var info engine.SettingInfo
	if n > 0 {
		var err error
		if info, err = engine.LookupSetting(args[0]); err != nil {
			return err
		}
	}
	switch verb {
	case "set": // through the running engine when there is one, which applies it
		err := c.withAPI(ctx, func(a api, _ *wire.Client) error { return a.SetSetting(ctx, args[0], args[1]) })
		if err != nil {
			return err
		}
		fmt.Fprintf(c.Stdout, "%s = %s\n", args[0], args[1])
		return nil
	case "unset":
		if err := c.withAPI(ctx, func(a api, _ *wire.Client) error { return a.UnsetSetting(ctx, args[0]) }); err != nil {
			return err
		}
		fmt.Fprintf(c.Stdout, "%s unset (default: %s)\n", args[0], info.Default)
		return nil
	}
	m, err := c.manager(ctx)
	if err != nil {
		return err
	}
	defer m.Close()
	switch verb {
	case "get":
		v, ok, err := m.Setting(ctx, args[0])
		if err != nil {
			return err
		}
		if !ok {
			v = info.Default
		}
		fmt.Fprintln(c.Stdout, v)
	default:
		all, err := m.Settings(ctx)
		if err != nil {
			return err
		}
		tw := tabwriter.NewWriter(c.Stdout, 0, 4, 2, ' ', 0)
		for _, s := range engine.KnownSettings() {
			v, set := all[s.Key]
			if !set {
				v = s.Default + " (default)"
			}
			fmt.Fprintf(tw, "%s\t%s\t%s\n", s.Key, v, s.Help)
		}
		return tw.Flush()
	}
	return nil
}
