package stacks

import (
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"strings"

	"github.com/devport/devport/internal/stackdef"
)

// Link makes the php stack's Apache a reverse proxy for a sibling service:
// requests under Prefix go to Upstream with the prefix removed (the chain
// proxy → Apache → uvicorn of the seed topologies). Apache passes the
// proxy's X-Forwarded-Proto through, keeps the Host header
// (ProxyPreserveHost), and adds X-Forwarded-For itself.
type Link struct {
	// Prefix is the path Apache forwards, "/py" or "/py/"; it is rendered
	// with a trailing slash, and the bare "/py" redirects to "/py/".
	Prefix string
	// Upstream is the started target: a unix socket or a loopback TCP
	// address speaking HTTP.
	Upstream Upstream
	// Container is the target's "name:port" on the project's Docker
	// network (ContainerAddress), set when the target runs in a container.
	// An Apache that runs in a container itself can only reach such
	// targets; one that runs as a process uses Upstream.
	Container string
}

// ContainerAddress is where a container of the project's other services
// reaches service's container: its name on the project network and the
// port its stack listens on there.
func ContainerAddress(service, stack string) string {
	if stack == stackdef.PHP {
		return service + ":" + phpPort
	}
	return service + ":" + pyPort
}

// linkPrefixRe is a path prefix Apache's config can carry unquoted.
var linkPrefixRe = regexp.MustCompile(`^(/[A-Za-z0-9._~-]+)+/?$`)

// apacheLink is a Link as the httpd.conf template renders it.
type apacheLink struct {
	Prefix  string // "/py/"
	Bare    string // "/py": redirected to Prefix
	Pass    string // "unix:/run/api.sock|http://localhost/" or "http://127.0.0.1:8000/"
	Reverse string // "http://localhost/" or "http://127.0.0.1:8000/"
}

// validate checks a link of service label.
func (l Link) validate(label string) error {
	if !linkPrefixRe.MatchString(l.Prefix) {
		return fmt.Errorf("service %s: link prefix %q must be a path such as /py (letters, digits, '.', '_', '~', '-')", label, l.Prefix)
	}
	if l.Container != "" && (!confSafe(l.Container) || strings.ContainsAny(l.Container, "/| ")) {
		return fmt.Errorf("service %s: link %s: container address %q must be name:port", label, l.Prefix, l.Container)
	}
	if l.Upstream.Protocol != ProtocolHTTP {
		return fmt.Errorf("service %s: link %s: the target speaks %s; Apache forwards only to HTTP backends (use a uvicorn, gunicorn or wsgi service)",
			label, l.Prefix, l.Upstream.Protocol)
	}
	switch l.Upstream.Network {
	case "unix":
		if !filepath.IsAbs(l.Upstream.Address) || !confSafe(l.Upstream.Address) || strings.ContainsAny(l.Upstream.Address, "| ") {
			return fmt.Errorf("service %s: link %s: socket %q must be an absolute path without quotes, '|' or spaces", label, l.Prefix, l.Upstream.Address)
		}
	case "tcp":
		if l.Upstream.Address == "" || !confSafe(l.Upstream.Address) || strings.ContainsAny(l.Upstream.Address, "/ ") {
			return fmt.Errorf("service %s: link %s: address %q must be host:port", label, l.Prefix, l.Upstream.Address)
		}
	default:
		return fmt.Errorf("service %s: link %s: network %q must be unix or tcp", label, l.Prefix, l.Upstream.Network)
	}
	return nil
}

// render is the link's template data: to Upstream for an Apache process,
// to Container for an Apache in a container (inContainer).
func (l Link) render(inContainer bool) apacheLink {
	bare := strings.TrimSuffix(l.Prefix, "/")
	al := apacheLink{Prefix: bare + "/", Bare: bare}
	if inContainer {
		al.Reverse = "http://" + l.Container + "/"
		al.Pass = al.Reverse
		return al
	}
	if l.Upstream.Network == "unix" {
		al.Reverse = "http://localhost/"
		al.Pass = "unix:" + l.Upstream.Address + "|" + al.Reverse
	} else {
		al.Reverse = "http://" + l.Upstream.Address + "/"
		al.Pass = al.Reverse
	}
	return al
}

// shareSocket lets Apache's workers, which run as acct when devport is
// root, connect to a linked unix socket: the socket is handed to acct and
// its folder (the target's run folder, devport's own) gets search
// permission for others. Folders above it must already be searchable;
// the error names the one that is not and the fix.
func shareSocket(sock string, acct apacheAccount) error {
	dir := filepath.Dir(sock)
	fi, err := os.Stat(dir)
	if err != nil {
		return fmt.Errorf("linked socket %q: %w", sock, err)
	}
	if err := os.Chmod(dir, fi.Mode().Perm()|0o001); err != nil {
		return fmt.Errorf("linked socket %q: let %s reach it: %w", sock, acct.name, err)
	}
	if err := os.Chown(sock, int(acct.uid), int(acct.gid)); err != nil {
		return fmt.Errorf("linked socket %q: hand it to %s: %w", sock, acct.name, err)
	}
	// Every folder above must let acct search it, as for the document root.
	for d := filepath.Dir(dir); ; d = filepath.Dir(d) {
		if err := searchableBy(d, acct); err != nil {
			return fmt.Errorf("linked socket %q: %w", sock, err)
		}
		if d == filepath.Dir(d) {
			return nil
		}
	}
}
