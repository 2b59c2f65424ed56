package cli

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
)

// setup grants the devport binary cap_net_bind_service, so it can bind
// 443 and 80 without running as root. The capability is on the file, so
// it must be granted again after every rebuild or upgrade.
func (c *CLI) setup(ctx context.Context, args []string) error {
	pos, err := c.flags(flag.NewFlagSet("setup", flag.ContinueOnError), args)
	if err != nil {
		return err
	}
	if len(pos) > 0 {
		return fmt.Errorf("%w: devport setup takes no arguments", ErrUsage)
	}
	exe, err := os.Executable()
	if err != nil {
		return fmt.Errorf("find the devport binary: %w", err)
	}
	if exe, err = filepath.EvalSymlinks(exe); err != nil {
		return fmt.Errorf("find the devport binary: %w", err)
	}
	setcap, err := lookTool("setcap")
	if err != nil {
		return errors.New("setcap is not installed: sudo apt-get install libcap2-bin")
	}
	argv := elevate([]string{setcap, "cap_net_bind_service=+ep", exe})
	if argv == nil {
		return fmt.Errorf("granting the capability needs root: run sudo setcap cap_net_bind_service=+ep %s", exe)
	}
	cmd := exec.CommandContext(ctx, argv[0], argv[1:]...)
	cmd.Stdin, cmd.Stdout, cmd.Stderr = os.Stdin, c.Stdout, c.Stderr
	if err := cmd.Run(); err != nil {
		return fmt.Errorf("%s: %w", strings.Join(argv, " "), err)
	}
	fmt.Fprintf(c.Stdout, "devport may now bind ports 443 and 80 as any user: %s\n"+
		"run devport setup again after rebuilding or upgrading it\n", exe)
	return nil
}

// elevate returns argv as it must run to have root: unchanged as root,
// through pkexec in a desktop session, through sudo in a terminal, or nil
// when there is no way.
func elevate(argv []string) []string {
	if os.Geteuid() == 0 {
		return argv
	}
	if p, err := exec.LookPath("pkexec"); err == nil && (os.Getenv("DISPLAY") != "" || os.Getenv("WAYLAND_DISPLAY") != "") {
		return append([]string{p}, argv...)
	}
	if p, err := exec.LookPath("sudo"); err == nil {
		return append([]string{p, "--"}, argv...)
	}
	return nil
}

// lookTool finds an admin tool on PATH or in the sbin folders, which are
// not on an ordinary user's PATH on Debian.
func lookTool(name string) (string, error) {
	if p, err := exec.LookPath(name); err == nil {
		return p, nil
	}
	for _, d := range []string{"/usr/sbin", "/sbin"} {
		p := filepath.Join(d, name)
		if fi, err := os.Stat(p); err == nil && fi.Mode()&0o111 != 0 {
			return p, nil
		}
	}
	return "", exec.ErrNotFound
}
