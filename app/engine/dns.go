package engine

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"os/exec"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/devport/devport/app/wire"
	"github.com/devport/devport/internal/stackdef"
	"github.com/devport/devport/resolve"
	"github.com/devport/devport/store"
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
		if slices.ContainsFunc(p.Data, func(d store.DataService) bool { return d.Stack == stackdef.Mailpit }) {
			for _, d := range p.Domains {
				out = append(out, mailDomain(d)) // Mailpit's UI: data.go
			}
		}
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
	if errors.As(err, &ne) && m.hostsPath == resolve.DefaultHostsPath {
		// devport setup's sudoers grant lets this run without a prompt;
		// without it, sudo -n fails at once rather than asking.
		argv := append([]string{"sudo", "-n", selfExe(), "dns", "hosts", "--apply"}, names...)
		if out, serr := exec.CommandContext(ctx, argv[0], argv[1:]...).CombinedOutput(); serr == nil {
			err = nil
		} else {
			m.log.Debug("sudo -n dns hosts --apply", "err", serr, "out", strings.TrimSpace(string(out)))
		}
	}
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
func (m *Manager) UseHostsFile(ctx context.Context, elevate Elevate) ([]string, error) {
	names, err := m.Domains(ctx)
	if err != nil {
		return nil, err
	}
	if err := elevated(resolve.SetHosts(ctx, m.hostsPath, names), elevate); err != nil {
		return nil, err
	}
	return names, m.SetDNSMethod(ctx, dnsHosts)
}

// NameStatus is how names are meant to resolve ("hosts", "resolver" or
// "") and how every project domain resolves now, checked for real.
func (m *Manager) NameStatus(ctx context.Context) (string, []wire.NameResult, error) {
	method, err := m.DNSMethod(ctx)
	if err != nil {
		return "", nil, err
	}
	names, err := m.Domains(ctx)
	if err != nil {
		return "", nil, err
	}
	checker := resolve.Checker{HostsPath: m.hostsPath}
	results := make([]wire.NameResult, 0, len(names))
	for _, n := range names {
		r := checker.Check(ctx, n)
		results = append(results, wire.NameResult{Name: r.Name, OK: r.OK, Method: string(r.Method),
			Resolver: r.Resolver, ResolverErr: r.ResolverErr, Getent: r.Getent, GetentRan: r.GetentRan,
			Detail: r.Detail, Fix: r.Fix})
	}
	return method, results, nil
}

// DefaultHostsPath is the hosts file the "hosts" method manages.
const DefaultHostsPath = resolve.DefaultHostsPath

// Elevate runs a command as root: sudo in a terminal, pkexec from the
// window. Operations that may need root take one and call it with the
// privileged `devport dns ... --apply` command when this process may not
// change the system itself.
type Elevate = func(argv []string) error

// elevated finishes an operation that failed for lack of rights by running
// the command the error names through elevate.
func elevated(err error, elevate Elevate) error {
	var ne *resolve.NeedsElevationError
	if !errors.As(err, &ne) || elevate == nil {
		return err
	}
	if rerr := elevate(ne.Command); rerr != nil {
		return fmt.Errorf("%s: %w; run it yourself as root", strings.Join(ne.Command, " "), rerr)
	}
	return nil
}

// ApplyDNS is the privileged half of `devport dns` (run as root through
// sudo or pkexec with --apply): "hosts" writes exactly names into the
// managed block of /etc/hosts, "split" points the OS resolver's managed
// TLDs at the responder on addr, "off" removes both. It never reads the
// user's store.
func ApplyDNS(ctx context.Context, action string, names []string, addr string) error {
	switch action {
	case "hosts":
		// devport setup may let the user run this without a password
		// (setupSudoers): it writes names under the managed TLDs only.
		for _, n := range names {
			if !managedName(n) {
				return fmt.Errorf("dns hosts --apply: %q is not under .%s: devport manages those names only", n, strings.Join(managedTLDs, " or ."))
			}
		}
		return resolve.SetHosts(ctx, resolve.DefaultHostsPath, names)
	case "off":
		return errors.Join(resolve.RemoveHosts(ctx, resolve.DefaultHostsPath), resolve.RemoveSplit(ctx, resolve.Split{TLDs: managedTLDs}))
	case "split":
		return resolve.InstallSplit(ctx, resolve.Split{Addr: addr, TLDs: managedTLDs})
	}
	return fmt.Errorf("dns %s --apply: unknown action; use hosts, split or off", action)
}

// RecommendedDNS is the method devport recommends on this machine for the
// managed TLDs ("hosts" or "resolver").
func RecommendedDNS(ctx context.Context) string { return string(resolve.Choose(ctx, managedTLDs[0])) }

// UseResolver turns on the engine's DNS responder on port (0: the stored
// or default port) and, unless responderOnly, points the OS resolver's
// managed TLDs at it. Where the OS cannot be told (no systemd-resolved),
// it says so and changes nothing. It returns the responder's address.
func (m *Manager) UseResolver(ctx context.Context, port int, responderOnly bool, elevate Elevate) (string, error) {
	if port == 0 {
		port = m.DNSPort(ctx)
	}
	addr := net.JoinHostPort("127.0.0.1", strconv.Itoa(port))
	if !responderOnly {
		if err := resolve.SplitAvailable(ctx); err != nil {
			return "", fmt.Errorf("the OS resolver cannot send .test to devport here: %w; use devport dns hosts (works everywhere), "+
				"or devport dns resolver --responder-only and point your own resolver at %s", err, addr)
		}
		if err := elevated(resolve.InstallSplit(ctx, resolve.Split{Addr: addr, TLDs: managedTLDs}), elevate); err != nil {
			return "", err
		}
	}
	if err := m.db.SetSetting(ctx, settingDNSPort, strconv.Itoa(port)); err != nil {
		return "", err
	}
	return addr, m.SetDNSMethod(ctx, dnsResolver)
}

// DNSOff removes devport's block from the hosts file and its split-DNS
// wiring, and records that devport manages no resolution.
func (m *Manager) DNSOff(ctx context.Context, elevate Elevate) error {
	if err := elevated(resolve.RemoveHosts(ctx, m.hostsPath), elevate); err != nil {
		return err
	}
	if err := resolve.RemoveSplit(ctx, resolve.Split{TLDs: managedTLDs}); err != nil &&
		!errors.Is(err, resolve.ErrNotSupported) && !errors.Is(err, resolve.ErrResolvedNotRunning) {
		if err := elevated(err, elevate); err != nil {
			return err
		}
	}
	return m.SetDNSMethod(ctx, dnsNone)
}

// managedName reports whether name is under one of the managed TLDs.
func managedName(name string) bool {
	name = strings.TrimSuffix(strings.ToLower(name), ".")
	for _, tld := range managedTLDs {
		if strings.HasSuffix(name, "."+tld) {
			return true
		}
	}
	return false
}
