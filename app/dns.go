package app

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"strconv"
	"strings"
	"time"

	"github.com/devport/devport/resolve"
)

// How project domains reach 127.0.0.1. The choice is stored so the engine
// keeps the hosts block in step as projects come and go.
const (
	settingDNSMethod = "dns.method"
	settingDNSPort   = "dns.port"
	dnsHosts         = "hosts"    // a managed block in /etc/hosts
	dnsResolver      = "resolver" // the engine's DNS responder (plus split DNS where the OS has it)
	dnsNone          = ""         // the user resolves names themselves (or uses .localhost)

	// defaultDNSPort is where the engine's responder listens: unprivileged,
	// so the engine needs no extra rights, and rarely taken.
	defaultDNSPort = 53535
)

// DNSPort is the port of the engine's DNS responder.
func (m *Manager) DNSPort(ctx context.Context) int {
	if v, ok, err := m.db.Setting(ctx, settingDNSPort); err == nil && ok {
		if n, err := strconv.Atoi(v); err == nil && n > 0 && n < 65536 {
			return n
		}
	}
	return defaultDNSPort
}

// startResolver runs the DNS responder for the managed TLDs while the
// engine serves, when the resolver method is on. A port it cannot bind is
// reported, not fatal: the sites still work by any other resolution.
func (m *Manager) startResolver(ctx context.Context, out io.Writer) (stop func()) {
	method, err := m.DNSMethod(ctx)
	if err != nil || method != dnsResolver {
		return func() {}
	}
	addr := net.JoinHostPort("127.0.0.1", strconv.Itoa(m.DNSPort(ctx)))
	srv, err := resolve.NewServer(resolve.Config{Addr: addr, TLDs: managedTLDs})
	if err == nil {
		err = srv.Start(ctx)
	}
	if err != nil {
		fmt.Fprintf(out, "devport: DNS responder on %s: %v; names resolve only through other means (devport dns hosts)\n", addr, err)
		return func() {}
	}
	fmt.Fprintf(out, "devport: answering DNS for .%s on %s\n", strings.Join(managedTLDs, ", ."), srv.Addr())
	return func() {
		sctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 2*time.Second)
		defer cancel()
		_ = srv.Shutdown(sctx)
	}
}

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

// DNSMethod is how names are made to resolve: "hosts", "resolver" or ""
// (none).
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

// UseHostsFile writes every project domain into the hosts block and keeps
// it in step from now on. When this process may not write the file, it
// runs the privileged command the error names through elevate (sudo in a
// terminal, pkexec from the window); elevate nil returns that error.
func (m *Manager) UseHostsFile(ctx context.Context, elevate func(argv []string) error) ([]string, error) {
	names, err := m.Domains(ctx)
	if err != nil {
		return nil, err
	}
	err = resolve.SetHosts(ctx, m.hostsPath, names)
	var ne *resolve.NeedsElevationError
	if errors.As(err, &ne) && elevate != nil {
		if rerr := elevate(ne.Command); rerr != nil {
			return nil, fmt.Errorf("%s: %w; run it yourself as root", strings.Join(ne.Command, " "), rerr)
		}
		err = nil
	}
	if err != nil {
		return nil, err
	}
	return names, m.SetDNSMethod(ctx, dnsHosts)
}

// NameStatus is how names are meant to resolve ("hosts", "resolver" or
// "") and how every project domain resolves now, checked for real.
func (m *Manager) NameStatus(ctx context.Context) (string, []resolve.Result, error) {
	method, err := m.DNSMethod(ctx)
	if err != nil {
		return "", nil, err
	}
	names, err := m.Domains(ctx)
	if err != nil {
		return "", nil, err
	}
	checker := resolve.Checker{HostsPath: m.hostsPath}
	results := make([]resolve.Result, 0, len(names))
	for _, n := range names {
		results = append(results, checker.Check(ctx, n))
	}
	return method, results, nil
}
