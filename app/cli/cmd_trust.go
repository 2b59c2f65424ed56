package cli

import (
	"context"
	"flag"
	"fmt"

	"github.com/devport/devport/app/engine"
)

func (c *CLI) trustOptions(name string, args []string) (engine.TrustOptions, bool, error) {
	fs := flag.NewFlagSet(name, flag.ContinueOnError)
	newRoot := false
	if name == "trust" {
		fs.BoolVar(&newRoot, "new-root", false, "replace a root made by an older devport with one that signs TLS servers only, and trust it instead")
	}
	o := engine.TrustOptions{Home: c.Getenv("HOME")}
	fs.BoolVar(&o.System, "system", true, "the system store (curl, Python, Go, most CLIs); needs root")
	fs.BoolVar(&o.NSS, "nss", true, "NSS in ~/.pki/nssdb (Chromium, Firefox)")
	fs.BoolVar(&o.Java, "java", false, "the system Java keystore (Java, Gradle, Maven); needs root")
	pos, err := c.flags(fs, args)
	if err == nil && len(pos) > 0 {
		err = fmt.Errorf("%w: devport %s takes no arguments", ErrUsage, name)
	}
	return o, newRoot, err
}

func (c *CLI) trust(ctx context.Context, args []string) error {
	return c.changeTrust(ctx, "trust", args, (*engine.Manager).Trust)
}

func (c *CLI) untrust(ctx context.Context, args []string) error {
	return c.changeTrust(ctx, "untrust", args, (*engine.Manager).Untrust)
}

// changeTrust runs Trust or Untrust and prints what each store now says.
func (c *CLI) changeTrust(ctx context.Context, name string, args []string,
	change func(*engine.Manager, context.Context, engine.TrustOptions) (string, error)) error {
	o, newRoot, err := c.trustOptions(name, args)
	if err != nil {
		return err
	}
	if newRoot {
		change = (*engine.Manager).RenewCA
	}
	m, err := c.manager(ctx)
	if err != nil {
		return err
	}
	defer m.Close()
	rep, err := change(m, ctx, o)
	fmt.Fprintln(c.Stdout, rep)
	if err != nil {
		return fmt.Errorf("%s: %w", name, err)
	}
	return nil
}

func (c *CLI) ca(ctx context.Context, args []string) error {
	if len(args) > 0 {
		return fmt.Errorf("%w: devport ca takes no arguments", ErrUsage)
	}
	m, err := c.manager(ctx)
	if err != nil {
		return err
	}
	defer m.Close()
	fmt.Fprintln(c.Stdout, m.CAPath())
	return nil
}

func (c *CLI) version(ctx context.Context, args []string) error {
	fmt.Fprintf(c.Stdout, "devport %s\n", Version)
	return nil
}
