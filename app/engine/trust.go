package engine

import (
	"context"

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
// per store, what each now says.
func (m *Manager) Trust(ctx context.Context, o TrustOptions) (string, error) {
	rep, err := m.ca.Trust(ctx, o.certs())
	return rep.String(), err
}

// Untrust removes the local CA from the chosen stores, and what
// truststore leaves behind, and reports as Trust does.
func (m *Manager) Untrust(ctx context.Context, o TrustOptions) (string, error) {
	rep, err := m.ca.Untrust(ctx, o.certs())
	return rep.String(), err
}

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
