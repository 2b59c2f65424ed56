package resolve

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"fmt"
	"net"
	"net/netip"
	"os"
	"os/exec"
	"slices"
	"strings"
	"time"
)

// Method is how a name reached loopback.
type Method string

// The methods [Check] reports.
const (
	// MethodHosts: the hosts file maps the name to loopback.
	MethodHosts Method = "hosts"
	// MethodResolver: DNS answered loopback (devport's responder through
	// split DNS, or another local resolver such as dnsmasq).
	MethodResolver Method = "resolver"
	// MethodLocalhost: a *.localhost name, which browsers map to loopback
	// themselves (RFC 6761), whatever the system resolver does.
	MethodLocalhost Method = "localhost"
	// MethodNone: the name does not resolve to loopback.
	MethodNone Method = "none"
)

// HostsFix is the command that adds the project names to the hosts file,
// the fallback that works behind any VPN or DNS setting.
const HostsFix = "devport dns hosts"

// Result is what [Check] found for one name.
type Result struct {
	Name string `json:"name"`
	// OK is true when the name answers loopback and nothing else.
	OK     bool   `json:"ok"`
	Method Method `json:"method"`
	// Resolver holds the addresses Go's net.DefaultResolver returned, and
	// ResolverErr its error, if any.
	Resolver    []string `json:"resolver,omitempty"`
	ResolverErr string   `json:"resolver_error,omitempty"`
	// Getent holds the addresses `getent ahosts NAME` printed. It goes
	// through nsswitch and glibc's getaddrinfo, as most browsers and
	// tools do. GetentRan is false when getent is not installed.
	Getent    []string `json:"getent,omitempty"`
	GetentRan bool     `json:"getent_ran"`
	// Detail says in one sentence what was found.
	Detail string `json:"detail"`
	// Fix is the command to run when OK is false.
	Fix string `json:"fix,omitempty"`
}

// Checker looks names up. The zero value checks against [DefaultHostsPath]
// with a 3 s timeout per lookup.
type Checker struct {
	// HostsPath is the hosts file consulted to tell MethodHosts from
	// MethodResolver; DefaultHostsPath when empty.
	HostsPath string
	// Timeout bounds each lookup; 3 s when zero.
	Timeout time.Duration
}

// Check looks name up through the system resolver with the zero [Checker].
func Check(ctx context.Context, name string) Result {
	return Checker{}.Check(ctx, name)
}

// Check resolves name for real, through Go's resolver and through
// `getent ahosts` when it is installed, and says whether it answers
// loopback, by which method, and if not, what to run.
//
// Go's resolver caches the hosts file for up to 5 s, so a check right after
// a hosts change may see the old file through it; getent never caches.
func (c Checker) Check(ctx context.Context, name string) Result {
	r := Result{Name: name, Method: MethodNone}
	n, err := normalizeName(name)
	if err != nil {
		r.Detail = err.Error()
		return r
	}
	r.Name = n
	timeout := c.Timeout
	if timeout <= 0 {
		timeout = 3 * time.Second
	}

	lctx, cancel := context.WithTimeout(ctx, timeout)
	addrs, err := net.DefaultResolver.LookupIPAddr(lctx, n)
	cancel()
	for _, a := range addrs {
		r.Resolver = append(r.Resolver, a.IP.String())
	}
	if err != nil {
		r.ResolverErr = err.Error()
	}
	r.Getent, r.GetentRan = getent(ctx, timeout, n)
	if err := ctx.Err(); err != nil {
		r.Detail = fmt.Sprintf("the check of %s did not finish: %v", n, err)
		return r
	}

	resolverOK := loopbackOnly(r.Resolver)
	getentOK := !r.GetentRan || loopbackOnly(r.Getent)
	localhostTLD := n == "localhost" || strings.HasSuffix(n, ".localhost")
	inHosts := hostsMapsLoopback(c.hostsPath(), n)

	switch {
	case resolverOK && getentOK:
		r.OK = true
		switch {
		case inHosts:
			r.Method = MethodHosts
			r.Detail = fmt.Sprintf("%s resolves to loopback through the hosts file", n)
		case localhostTLD:
			r.Method = MethodLocalhost
			r.Detail = fmt.Sprintf("%s resolves to loopback (a .localhost name)", n)
		default:
			r.Method = MethodResolver
			r.Detail = fmt.Sprintf("%s resolves to loopback through DNS", n)
		}
	case localhostTLD && !nonLoopback(r.Resolver) && !nonLoopback(r.Getent):
		// glibc without nss-myhostname or systemd-resolved (Debian 12's
		// default "hosts: files dns") and Go's resolver do not resolve
		// *.localhost; Chromium, Firefox and curl do it themselves.
		r.OK = true
		r.Method = MethodLocalhost
		r.Detail = fmt.Sprintf("%s is a .localhost name: browsers and curl map it to loopback themselves, but this system's resolver does not, so other programs (Go, Python, Node) need %q", n, HostsFix)
	case nonLoopback(r.Resolver) || nonLoopback(r.Getent):
		r.Detail = fmt.Sprintf("%s resolves to %s, not loopback: another DNS server (a VPN, a corporate resolver) answers for it", n, strings.Join(nonLoopbackOf(append(slices.Clone(r.Resolver), r.Getent...)), ", "))
		r.Fix = HostsFix
	case inHosts:
		r.Detail = fmt.Sprintf("%s is in %s but lookups do not find it: check that the hosts: line of /etc/nsswitch.conf lists files", n, c.hostsPath())
		r.Fix = "grep '^hosts:' /etc/nsswitch.conf"
	case resolverOK != getentOK:
		which := "getent (glibc, nsswitch)"
		if !resolverOK {
			which = "Go's resolver"
		}
		r.Detail = fmt.Sprintf("%s resolves to loopback for some programs but not through %s", n, which)
		r.Fix = HostsFix
	default:
		r.Detail = fmt.Sprintf("%s does not resolve: neither the hosts file nor DNS answers for it", n)
		r.Fix = HostsFix
	}
	return r
}

func (c Checker) hostsPath() string {
	if c.HostsPath != "" {
		return c.HostsPath
	}
	return DefaultHostsPath
}

// getent runs `getent ahosts NAME` (getaddrinfo through nsswitch) and
// returns the distinct addresses; ran is false when getent is missing.
// Exit status 2 means "not found" and gives no addresses.
func getent(ctx context.Context, timeout time.Duration, name string) (addrs []string, ran bool) {
	path, err := exec.LookPath("getent")
	if err != nil {
		return nil, false
	}
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	out, err := exec.CommandContext(ctx, path, "ahosts", name).Output()
	var exitErr *exec.ExitError
	if err != nil && !errors.As(err, &exitErr) {
		return nil, false
	}
	sc := bufio.NewScanner(bytes.NewReader(out))
	for sc.Scan() {
		if f := strings.Fields(sc.Text()); len(f) > 0 && !slices.Contains(addrs, f[0]) {
			addrs = append(addrs, f[0])
		}
	}
	return addrs, true
}

func loopbackOnly(addrs []string) bool {
	return len(addrs) > 0 && !nonLoopback(addrs)
}

func nonLoopback(addrs []string) bool { return len(nonLoopbackOf(addrs)) > 0 }

func nonLoopbackOf(addrs []string) []string {
	var out []string
	for _, a := range addrs {
		ip, err := netip.ParseAddr(a)
		if (err != nil || !ip.Unmap().IsLoopback()) && !slices.Contains(out, a) {
			out = append(out, a)
		}
	}
	return out
}

// hostsMapsLoopback reports whether any line of the hosts file maps name to
// a loopback address, inside devport's block or not.
func hostsMapsLoopback(path, name string) bool {
	f, err := os.Open(path)
	if err != nil {
		return false
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		line, _, _ := strings.Cut(sc.Text(), "#")
		fields := strings.Fields(line)
		if len(fields) < 2 {
			continue
		}
		ip, err := netip.ParseAddr(fields[0])
		if err != nil || !ip.IsLoopback() {
			continue
		}
		for _, h := range fields[1:] {
			if strings.EqualFold(strings.TrimSuffix(h, "."), name) {
				return true
			}
		}
	}
	return false
}
