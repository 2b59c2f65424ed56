package resolve

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io/fs"
	"net"
	"os"
	"path/filepath"
	"strings"
)

// Default locations of the split-DNS files.
const (
	// DefaultResolvedDir holds systemd-resolved drop-ins (resolved.conf(5)).
	DefaultResolvedDir = "/etc/systemd/resolved.conf.d"
	// ResolvedDropInName is devport's drop-in in that directory.
	ResolvedDropInName = "devport.conf"
	// DefaultResolverDir holds macOS per-domain resolver files (resolver(5)).
	DefaultResolverDir = "/etc/resolver"
)

// splitMarker is the first line of every file devport writes for split DNS;
// a file without it belongs to someone else (Valet, a VPN client) and is
// never overwritten or removed.
const splitMarker = "# managed by devport: devport dns off removes this file"

// Split says where devport's DNS responder listens and for which TLDs, and
// where the OS files go.
type Split struct {
	// Addr is the responder's address, "127.0.0.1:PORT" ([Server.Addr]).
	Addr string
	// TLDs are the managed TLDs, such as "test".
	TLDs []string
	// Dir overrides the OS directory (DefaultResolvedDir on Linux,
	// DefaultResolverDir on macOS), for tests.
	Dir string
	// NoReload skips telling the OS resolver about the change (and the
	// check that it is running), for tests with a temporary Dir.
	NoReload bool
}

// ResolvedDropIn renders the systemd-resolved drop-in that sends queries
// for the TLDs, and only those, to addr:
//
//	[Resolve]
//	DNS=127.0.0.1:5354
//	Domains=~test
//
// "~test" is a route-only domain: it routes, it is never appended to
// single-label names. DNS= with a port needs systemd 246 or later (Debian 12
// has 252). Note that resolved also sends names matching no routing domain
// to the global DNS= servers alongside the links' servers; the responder
// answers those REFUSED and resolved uses the link's answer.
func ResolvedDropIn(addr string, tlds []string) ([]byte, error) {
	ip, port, err := splitAddr(addr)
	if err != nil {
		return nil, err
	}
	domains, err := routeDomains(tlds)
	if err != nil {
		return nil, err
	}
	server := ip.String() + ":" + port
	if ip.To4() == nil {
		server = "[" + ip.String() + "]:" + port
	}
	var b bytes.Buffer
	fmt.Fprintf(&b, "%s\n[Resolve]\nDNS=%s\nDomains=%s\n", splitMarker, server, strings.Join(domains, " "))
	return b.Bytes(), nil
}

// ResolverFile renders a macOS /etc/resolver/<tld> file that sends queries
// for that TLD to addr (resolver(5): "nameserver" and "port").
func ResolverFile(addr string) ([]byte, error) {
	ip, port, err := splitAddr(addr)
	if err != nil {
		return nil, err
	}
	return fmt.Appendf(nil, "%s\nnameserver %s\nport %s\n", splitMarker, ip, port), nil
}

// splitAddr checks that addr is a literal IP and a port.
func splitAddr(addr string) (net.IP, string, error) {
	host, port, err := net.SplitHostPort(addr)
	if err != nil {
		return nil, "", fmt.Errorf("split DNS: responder address %q: %w", addr, err)
	}
	ip := net.ParseIP(host)
	if ip == nil || ip.IsUnspecified() {
		return nil, "", fmt.Errorf("split DNS: responder address %q: give the IP the responder listens on, such as 127.0.0.1:5354", addr)
	}
	if port == "" || port == "0" {
		return nil, "", fmt.Errorf("split DNS: responder address %q: give the port the responder listens on (Server.Addr after Start)", addr)
	}
	return ip, port, nil
}

func routeDomains(tlds []string) ([]string, error) {
	if len(tlds) == 0 {
		return nil, errors.New("split DNS: TLDs: give at least one managed TLD, such as \"test\"")
	}
	var out []string
	for _, t := range tlds {
		n, err := normalizeTLD(t)
		if err != nil {
			return nil, fmt.Errorf("split DNS: %w", err)
		}
		out = append(out, "~"+strings.TrimSuffix(n, "."))
	}
	return out, nil
}

// writeOwned writes a split-DNS file atomically, refusing to replace a file
// devport did not write. It reports whether the content changed.
func writeOwned(path string, data []byte) (bool, error) {
	old, err := os.ReadFile(path)
	switch {
	case errors.Is(err, fs.ErrNotExist):
	case err != nil:
		return false, fmt.Errorf("read %s: %w", path, err)
	case !bytes.HasPrefix(old, []byte(splitMarker+"\n")):
		return false, fmt.Errorf("%s exists and was not written by devport: move it away or remove it, then retry", path)
	case bytes.Equal(old, data):
		return false, nil
	}
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		return false, fmt.Errorf("create %s: %w", filepath.Dir(path), err)
	}
	if err := replaceFile(path, data, 0o644); err != nil {
		return false, err
	}
	return true, nil
}

// removeOwned removes a split-DNS file if devport wrote it, and reports
// whether it did.
func removeOwned(path string) (bool, error) {
	old, err := os.ReadFile(path)
	if errors.Is(err, fs.ErrNotExist) {
		return false, nil
	}
	if err != nil {
		return false, fmt.Errorf("read %s: %w", path, err)
	}
	if !bytes.HasPrefix(old, []byte(splitMarker+"\n")) {
		return false, nil
	}
	if err := os.Remove(path); err != nil {
		return false, fmt.Errorf("remove %s: %w", path, err)
	}
	return true, nil
}

// InstallSplit wires the OS resolver to send queries for s.TLDs to the
// responder at s.Addr: a systemd-resolved drop-in on Linux (then restarts
// resolved), /etc/resolver/<tld> files on macOS. It returns
// ErrResolvedNotRunning when resolved is not the system resolver on Linux,
// and ErrNotSupported elsewhere. Whether names then resolve is for [Check]
// to say: a VPN can still take DNS over.
func InstallSplit(ctx context.Context, s Split) error { return installSplit(ctx, s) }

// RemoveSplit undoes [InstallSplit], removing only files devport wrote.
func RemoveSplit(ctx context.Context, s Split) error { return removeSplit(ctx, s) }

// SplitAvailable returns nil when [InstallSplit] can work on this machine:
// on Linux, when systemd-resolved is the running resolver
// (ErrResolvedNotRunning otherwise); on macOS, always; elsewhere
// ErrNotSupported.
func SplitAvailable(ctx context.Context) error { return splitAvailable(ctx) }

// splitApplyArgs is the devport command line that installs s with
// privileges: it carries the responder's address, since the elevated
// process cannot ask the user's engine.
func splitApplyArgs(s Split) []string {
	return []string{"dns", "split", "--apply", "--addr", s.Addr}
}
