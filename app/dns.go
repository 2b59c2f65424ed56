package app

import (
	"context"
	"errors"

	"github.com/devport/devport/resolve"
)

// How project domains reach 127.0.0.1. The choice is stored so the engine
// keeps the hosts block in step as projects come and go.
const (
	settingDNSMethod = "dns.method"
	dnsHosts         = "hosts" // a managed block in /etc/hosts
	dnsNone          = ""      // the user resolves names themselves (or uses .localhost)
)

// Domains returns every domain of every project.
func (m *Manager) Domains(ctx context.Context) ([]string, error) {
	ps, err := m.db.Projects(ctx)
	if err != nil {
		return nil, err
	}
	var out []string
	for _, p := range ps {
		out = append(out, p.Domains...)
	}
	return out, nil
}

// DNSMethod is how names are made to resolve: "hosts" or "" (none).
func (m *Manager) DNSMethod(ctx context.Context) (string, error) {
	v, _, err := m.db.Setting(ctx, settingDNSMethod)
	return v, err
}

// SetDNSMethod records the method. It does not touch the system; the
// CLI does that, with elevation when needed.
func (m *Manager) SetDNSMethod(ctx context.Context, method string) error {
	return m.db.SetSetting(ctx, settingDNSMethod, method)
}

// syncHosts rewrites the hosts block after a project was added or
// removed, when the hosts method is on. Without the rights to write the
// file it only warns: the project change itself succeeded, and doctor and
// `devport dns hosts` say how to finish.
func (m *Manager) syncHosts(ctx context.Context) {
	method, err := m.DNSMethod(ctx)
	if err != nil || method != dnsHosts {
		return
	}
	names, err := m.Domains(ctx)
	if err == nil {
		err = resolve.SetHosts(ctx, m.hostsPath, names)
	}
	var ne *resolve.NeedsElevationError
	switch {
	case errors.As(err, &ne):
		m.log.Warn("cannot update the hosts file; run devport dns hosts", "path", ne.Path)
	case err != nil:
		m.log.Warn("update the hosts file", "err", err)
	}
}
