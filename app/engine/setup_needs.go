package engine

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"os/user"

	"github.com/devport/devport/app/wire"
	"github.com/devport/devport/certs"
)

// SetupNeeds says what devport setup would put in order, each with why
// it matters to the user: the window shows them in its banner, above one
// Finish setup button. Nothing: everything is in order.
func (m *Manager) SetupNeeds(ctx context.Context) []wire.SetupNeed {
	var needs []wire.SetupNeed
	domains, _ := m.Domains(ctx)
	certOf := "every site's certificate"
	if len(domains) > 0 {
		certOf = domains[0] + "'s certificate"
	}
	for _, st := range m.ca.TrustStatus(ctx, certs.TrustOptions{System: true, NSS: true}) {
		if !st.Trusted {
			needs = append(needs, wire.SetupNeed{What: "trust",
				Why: fmt.Sprintf("your browser will warn about %s: devport's CA is not trusted (%s store)", certOf, st.Store)})
			break
		}
	}
	method, results, err := m.NameStatus(ctx)
	switch {
	case err != nil:
	case method == dnsNone && len(domains) == 0:
		needs = append(needs, wire.SetupNeed{What: "names", Why: "the projects you add will not open in your browser: devport manages no name resolution yet"})
	default:
		for _, r := range results {
			if !r.OK {
				needs = append(needs, wire.SetupNeed{What: "names", Why: r.Name + " will not open in your browser: its name does not resolve"})
				break
			}
		}
	}
	if e := m.Engine(); e.HTTPSPort != 0 && e.HTTPSPort != defaultHTTPSPort && !hasBindCap(ctx, selfExe()) && os.Geteuid() != 0 {
		needs = append(needs, wire.SetupNeed{What: "ports",
			Why: fmt.Sprintf("sites open at port %d, not 443: devport may not bind 443 yet", e.HTTPSPort)})
	}
	return needs
}

// FinishSetup is devport setup for the window: root's steps through
// pkexec, whose agent asks for the password (a window has no terminal
// for sudo), or in this process when it is root.
func (h Host) FinishSetup(ctx context.Context) ([]wire.SetupStep, error) {
	o := SetupOptions{Elevate: pkexec}
	if os.Geteuid() != 0 {
		if u, err := user.Current(); err == nil {
			o.User = u.Username
		}
	}
	return h.Setup(ctx, o)
}

// pkexec runs argv as root through pkexec and returns what it printed.
func pkexec(ctx context.Context, argv []string) ([]byte, error) {
	p, err := exec.LookPath("pkexec")
	if err != nil {
		return nil, errors.New("pkexec is not installed (sudo apt-get install pkexec), so the window cannot ask for root: run devport setup in a terminal")
	}
	var out, errb bytes.Buffer
	cmd := exec.CommandContext(ctx, p, argv...)
	cmd.Stdout, cmd.Stderr = &out, &errb
	if err := cmd.Run(); err != nil {
		return out.Bytes(), fmt.Errorf("pkexec: %w: %s", err, bytes.TrimSpace(errb.Bytes()))
	}
	return out.Bytes(), nil
}
