package engine

import (
	"context"
	"io"
	"slices"

	"github.com/devport/devport/app/wire"
	"github.com/devport/devport/stacks"
	"github.com/devport/devport/store"
)

// This file holds what the window needs of the engine beyond Local: the
// settings of an engine this process hosts (Host), and the checks the
// wizard runs on a folder before anything is stored (Checks). The GUI
// declares the interfaces; desktop passes these in.

// Host is the settings' view of a Manager this process hosts.
type Host struct{ *Manager }

// TrustStatus checks the system store and NSS for the CA.
func (h Host) TrustStatus(ctx context.Context) []wire.TrustState {
	return h.Manager.TrustStatus(ctx, TrustOptions{System: true, NSS: true})
}

// ChangeTrust trusts or untrusts the CA in one store (wire.StoreSystem or
// wire.StoreNSS).
func (h Host) ChangeTrust(ctx context.Context, store string, trust bool) (string, error) {
	o := TrustOptions{System: store == wire.StoreSystem, NSS: store == wire.StoreNSS}
	if trust {
		return h.Trust(ctx, o)
	}
	return h.Untrust(ctx, o)
}

// DataDir is the engine's data folder.
func (h Host) DataDir() string { return h.paths.Data }

// Checks are the wizard's questions about a folder on this machine,
// answered as `devport add` would answer them.
type Checks struct{}

// Detect says what runs the folder.
func (Checks) Detect(dir string) (wire.Detection, error) {
	d, err := stacks.Detect(dir)
	return wire.Detection{Stack: d.Stack, App: d.App, DocRoot: d.DocRoot}, err
}

// DescribeAdd says what `devport add` would create (see DescribeAdd).
func (Checks) DescribeAdd(req wire.AddRequest) (string, error) { return DescribeAdd(req) }

// CheckStack says whether stack's programs are installed.
func (Checks) CheckStack(stack, dir string) error { return stacks.Check(stack, dir) }

// CheckChain checks a chain prefix (see CheckChain).
func (Checks) CheckChain(dir, prefix string) error { return CheckChain(dir, prefix) }

// CheckName validates a project name as the store will.
func (Checks) CheckName(name string) error { return store.ValidateName("name", name) }

// CheckDomain validates a domain as the store will.
func (Checks) CheckDomain(domain string) error { return store.ValidateDomain(domain, managedTLDs) }

// NameFromFolder is the project name a folder suggests.
func (Checks) NameFromFolder(dir string) string { return nameFromFolder(dir) }

// TLDs are the top-level domains devport serves.
func (Checks) TLDs() []string { return ManagedTLDs() }

func (Checks) DetectData(dir string) []wire.DataProposal { return DetectData(dir) }

// PHPVersions are the PHP versions a php service of runtime can run,
// newest first: the host's that Apache loads (process); or those whose
// php:X.Y-apache image Docker has, then the other official ones
// (container).
func (Checks) PHPVersions(ctx context.Context, runtime string) []string {
	if runtime != wire.RuntimeContainer {
		return servedPHP()
	}
	local, _ := PHPImages(ctx)
	out := slices.Clone(local)
	for _, v := range slices.Backward(stacks.OfficialPHPVersions) {
		if !slices.Contains(out, v) {
			out = append(out, v)
		}
	}
	return out
}

// DescribeEnv says what add's preview says of a Python project's
// environment, or that it has none to run in (see DescribeEnv).
func (Checks) DescribeEnv(req wire.AddRequest) string { return DescribeEnv(req) }

// CreateVenv makes the .venv a Python project lacks, writing its progress
// to out (see CreateVenv); remove deletes it again if it made it, for an
// add that then fails.
func (Checks) CreateVenv(ctx context.Context, req wire.AddRequest, out io.Writer) (remove func() error, err error) {
	v, err := CreateVenv(ctx, VenvOptions{Request: req, Out: out})
	return v.Remove, err
}

// DockerReason says why the container runtime cannot be used here, or ""
// when a Docker engine answers.
func (Checks) DockerReason(ctx context.Context) string {
	if err := checkServiceRuntime(ctx, wire.RuntimeContainer, "", ""); err != nil {
		return err.Error()
	}
	return ""
}
