package engine

import (
	"context"
	"fmt"
	"strings"

	"github.com/devport/devport/app/wire"
	"github.com/devport/devport/certs"
)

// TrustOptions select the trust stores Trust, Untrust and TrustStatus work
// on (see certs.TrustOptions).
type TrustOptions struct {
	System bool   // the operating system's store; needs root
	NSS    bool   // Chromium's and Firefox's NSS databases under Home
	Java   bool   // the system Java keystore; needs root
	Home   string // whose NSS databases; default the user's home
}

func (o TrustOptions) certs() certs.TrustOptions {
	return certs.TrustOptions{System: o.System, NSS: o.NSS, Java: o.Java, Home: o.Home}
}

// Trust installs the local CA in the chosen stores and reports, one line
// per store, what each now says. Roots an earlier RenewCA retired are
// removed from the same stores first, where that did not finish.
func (m *Manager) Trust(ctx context.Context, o TrustOptions) (string, error) {
	var b strings.Builder
	if err := m.untrustRetired(ctx, o, &b); err != nil {
		return b.String(), err
	}
	rep, err := m.ca.Trust(ctx, o.certs())
	b.WriteString(rep.String())
	if m.ca.Legacy() {
		b.WriteString("\nnote: this root was made by an older devport and may sign more than TLS servers for its names;" +
			" devport trust --new-root replaces it with one that cannot (its sites then need the new root trusted, which that command does)")
	}
	return b.String(), err
}

// Untrust removes the local CA from the chosen stores, and what
// truststore leaves behind, and reports as Trust does.
func (m *Manager) Untrust(ctx context.Context, o TrustOptions) (string, error) {
	var b strings.Builder
	if err := m.untrustRetired(ctx, o, &b); err != nil {
		return b.String(), err
	}
	rep, err := m.ca.Untrust(ctx, o.certs())
	b.WriteString(rep.String())
	return b.String(), err
}

// RenewCA replaces the root with a new one, made with this version's
// limits (it signs TLS servers only), with the user's consent: devport
// trust --new-root. The old root is removed from the chosen stores and the
// new one trusted there. A running engine keeps the old root until it
// restarts. Only a root that is not Legacy is left alone.
func (m *Manager) RenewCA(ctx context.Context, o TrustOptions) (string, error) {
	if !m.ca.Legacy() {
		rep, err := m.Trust(ctx, o)
		return "the root already signs TLS servers only; nothing to renew\n" + rep, err
	}
	renewed, _, err := m.ca.Renew()
	if err != nil {
		return "", fmt.Errorf("renew the root: %w", err)
	}
	m.ca = renewed
	m.issuer.SetAuthority(renewed)
	rep, err := m.Trust(ctx, o) // untrusts the retired root first
	return "made a new root: " + m.ca.CertPath() + "\n" + rep, err
}

// untrustRetired removes each root RenewCA retired from the stores of o,
// writing what it did to b, and forgets the root once every store is
// clear of it.
func (m *Manager) untrustRetired(ctx context.Context, o TrustOptions, b *strings.Builder) error {
	retired, err := m.ca.Retired()
	if err != nil {
		return err
	}
	for _, r := range retired {
		rep, err := r.Untrust(ctx, o.certs())
		fmt.Fprintf(b, "the old root (%s):\n%s\n", r.CertPath(), rep.String())
		if err != nil {
			return fmt.Errorf("remove the old root: %w", err)
		}
		clear := true
		for _, st := range r.TrustStatus(ctx, certs.TrustOptions{System: true, NSS: true, Home: o.Home}) {
			clear = clear && !st.Trusted
		}
		if clear {
			if err := r.Forget(); err != nil {
				return err
			}
		}
	}
	return nil
}

// LegacyCA reports whether the root predates the limits RenewCA gives a
// new one (see certs.Authority.Legacy).
func (m *Manager) LegacyCA() bool { return m.ca.Legacy() }

// TrustStatus checks, for real, whether each chosen store trusts the CA.
func (m *Manager) TrustStatus(ctx context.Context, o TrustOptions) []wire.TrustState {
	var out []wire.TrustState
	for _, r := range m.ca.TrustStatus(ctx, o.certs()) {
		st := wire.TrustState{Store: r.Store, Location: r.Location, Trusted: r.Trusted, Detail: r.Detail}
		if r.Err != nil {
			st.Err = r.Err.Error()
		}
		out = append(out, st)
	}
	return out
}

// CAPath is the path of the local CA's certificate.
func (m *Manager) CAPath() string { return m.ca.CertPath() }
