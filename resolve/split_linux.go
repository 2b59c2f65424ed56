package resolve

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
)

func installSplit(ctx context.Context, s Split) error {
	data, err := ResolvedDropIn(s.Addr, s.TLDs)
	if err != nil {
		return err
	}
	if !s.NoReload {
		if err := resolvedRunning(ctx); err != nil {
			return err
		}
	}
	path := filepath.Join(resolvedDir(s), ResolvedDropInName)
	changed, err := writeOwned(path, data)
	if err != nil {
		return fmt.Errorf("split DNS: %w", elevationOr(path, splitApplyArgs(s), err))
	}
	if changed && !s.NoReload {
		return restartResolved(ctx, splitApplyArgs(s))
	}
	return nil
}

func removeSplit(ctx context.Context, s Split) error {
	path := filepath.Join(resolvedDir(s), ResolvedDropInName)
	removed, err := removeOwned(path)
	if err != nil {
		return fmt.Errorf("split DNS: %w", elevationOr(path, []string{"dns", "off"}, err))
	}
	if removed && !s.NoReload && resolvedRunning(ctx) == nil {
		return restartResolved(ctx, []string{"dns", "off"})
	}
	return nil
}

func resolvedDir(s Split) string {
	if s.Dir != "" {
		return s.Dir
	}
	return DefaultResolvedDir
}

// resolvedRunning checks that systemd is the init system and that
// systemd-resolved is active. Without both a drop-in changes nothing.
func resolvedRunning(ctx context.Context) error {
	if _, err := os.Stat("/run/systemd/system"); errors.Is(err, fs.ErrNotExist) {
		return fmt.Errorf("%w (systemd is not the init system here)", ErrResolvedNotRunning)
	}
	if _, err := exec.LookPath("systemctl"); err != nil {
		return fmt.Errorf("%w (no systemctl)", ErrResolvedNotRunning)
	}
	if err := exec.CommandContext(ctx, "systemctl", "is-active", "--quiet", "systemd-resolved").Run(); err != nil {
		return fmt.Errorf("%w (systemctl is-active systemd-resolved: %v)", ErrResolvedNotRunning, err)
	}
	return nil
}

// restartResolved makes resolved read the drop-in. The unit in systemd 252
// has no ExecReload, so reload-or-restart restarts it; newer versions
// reload.
func restartResolved(ctx context.Context, elevate []string) error {
	cmd := []string{"systemctl", "reload-or-restart", "systemd-resolved"}
	out, err := exec.CommandContext(ctx, cmd[0], cmd[1:]...).CombinedOutput()
	if err != nil {
		return fmt.Errorf("split DNS: %w", elevationOr("systemd-resolved", elevate, &CmdError{Command: cmd, Output: string(out), Err: err}))
	}
	return nil
}

func splitAvailable(ctx context.Context) error { return resolvedRunning(ctx) }
