package resolve

import (
	"context"
	"fmt"
	"os/exec"
	"path/filepath"
	"strings"
)

// installSplit writes one /etc/resolver/<tld> file per TLD. mDNSResponder
// watches the directory; flushing its cache makes stale negative answers go.
func installSplit(ctx context.Context, s Split) error {
	data, err := ResolverFile(s.Addr)
	if err != nil {
		return err
	}
	tlds, err := routeDomains(s.TLDs)
	if err != nil {
		return err
	}
	for _, t := range tlds {
		path := filepath.Join(resolverDir(s), strings.TrimPrefix(t, "~"))
		if _, err := writeOwned(path, data); err != nil {
			return fmt.Errorf("split DNS: %w", elevationOr(path, splitApplyArgs(s), err))
		}
	}
	if !s.NoReload {
		_ = exec.CommandContext(ctx, "dscacheutil", "-flushcache").Run()
	}
	return nil
}

func removeSplit(ctx context.Context, s Split) error {
	tlds, err := routeDomains(s.TLDs)
	if err != nil {
		return err
	}
	for _, t := range tlds {
		path := filepath.Join(resolverDir(s), strings.TrimPrefix(t, "~"))
		if _, err := removeOwned(path); err != nil {
			return fmt.Errorf("split DNS: %w", elevationOr(path, []string{"dns", "off"}, err))
		}
	}
	return nil
}

func resolverDir(s Split) string {
	if s.Dir != "" {
		return s.Dir
	}
	return DefaultResolverDir
}

func splitAvailable(context.Context) error { return nil }
