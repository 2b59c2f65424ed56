// Package valuerule holds the rules for the values a project stores that
// every consumer must carry (issue 11.6): Apache's config, which stacks
// writes with quoted values; the command lines of the backends;
// devport.toml; and the nginx and compose exports. The store refuses a
// value that breaks them where it enters (devport add, route, set), and
// devport.toml's validation refuses it with the file's line, from the same
// rules, so that one never accepts what the other refuses. Each writer
// still quotes what it writes.
//
// Each rule returns why a value breaks it, completing a sentence about the
// value ("may not contain control characters"), or "" when it is fine.
package valuerule

import (
	"fmt"
	"net"
	"net/url"
	"regexp"
	"strconv"
	"strings"
	"unicode/utf8"
)

// The longest values devport keeps.
const (
	MaxFolderLen       = 4095 // PATH_MAX without the NUL
	MaxURLLen          = 2048
	MaxCacheControlLen = 256
	MaxImageLen        = 255
)

// Folder is the rule of a folder path (a project's folder, a document
// root, a static folder; absolute or not is the caller's rule). Spaces are
// fine, writers quote them; a quote, a backslash, a "$" (a variable to
// Apache and nginx), control characters such as a newline, and bytes that
// are not UTF-8 are refused.
func Folder(path string) string {
	switch {
	case len(path) > MaxFolderLen:
		return fmt.Sprintf("must be at most %d bytes", MaxFolderLen)
	case !utf8.ValidString(path):
		return "must be valid UTF-8"
	}
	for _, r := range path {
		switch {
		case r < 0x20 || r == 0x7f || r >= 0x80 && r < 0xa0:
			return "may not contain control characters such as a newline or a tab"
		case r == '"' || r == '\\' || r == '$':
			return `may not contain '"', '\' or '$', which Apache's and nginx's configs cannot carry`
		}
	}
	return ""
}

var hostnameRe = regexp.MustCompile(`^[A-Za-z0-9]([A-Za-z0-9-]*[A-Za-z0-9])?(\.[A-Za-z0-9]([A-Za-z0-9-]*[A-Za-z0-9])?)*$`)

// URL is the rule of an upstream URL (a proxy service's, a url route's):
// http:// or https:// with a host (a name or an IP address) and an optional
// port and path, in printable ASCII without spaces, quotes, "\", "<", ">",
// "{", "}", "|", "^" or "$", and without credentials, a query or a
// fragment. An empty URL is the caller's business.
func URL(raw string) string {
	if len(raw) > MaxURLLen {
		return fmt.Sprintf("must be at most %d characters", MaxURLLen)
	}
	for i := 0; i < len(raw); i++ {
		if c := raw[i]; c <= ' ' || c >= 0x7f || strings.IndexByte("\"'`\\<>{}|^$", c) >= 0 {
			return `may not contain spaces, quotes, control characters or any of \ < > { } | ^ $ (percent-encode them)`
		}
	}
	lower := strings.ToLower(raw)
	if !strings.HasPrefix(lower, "http://") && !strings.HasPrefix(lower, "https://") {
		return "must start with http:// or https://"
	}
	u, err := url.Parse(raw)
	switch {
	case err != nil:
		return "is not a valid URL"
	case u.Hostname() == "":
		return "must include a host"
	case u.User != nil:
		return "must not include a user or password"
	case u.RawQuery != "" || u.ForceQuery || strings.Contains(raw, "#"):
		return "must not include a query or a fragment: requests keep their own"
	case net.ParseIP(u.Hostname()) == nil && !hostnameRe.MatchString(u.Hostname()):
		return "must have a host name of letters, digits, dots and hyphens, or an IP address"
	}
	if p := u.Port(); p != "" {
		if n, err := strconv.Atoi(p); err != nil || n < 1 || n > 65535 {
			return "must have a port from 1 to 65535"
		}
	}
	return ""
}

var cacheDirectiveRe = regexp.MustCompile(`^[A-Za-z][A-Za-z0-9-]*(=[A-Za-z0-9-]+)?$`)

// CacheControl is the rule of a static route's Cache-Control value:
// directives separated by commas, each a name with an optional value of
// letters, digits and hyphens ("public, max-age=2592000, immutable").
// Quoted directive values are refused with the rest (quotes, ";", "{",
// "}", "$", line breaks), because nginx's add_header would read them. ""
// (none) is fine.
func CacheControl(v string) string {
	if v == "" {
		return ""
	}
	if len(v) > MaxCacheControlLen {
		return fmt.Sprintf("must be at most %d characters", MaxCacheControlLen)
	}
	for _, d := range strings.Split(v, ",") {
		d = strings.Trim(d, " ")
		if d == "" {
			return "has an empty directive: separate directives with one comma"
		}
		if !cacheDirectiveRe.MatchString(d) {
			return `may only hold directives such as public or max-age=2592000, separated by commas (no quotes, ";", "{", "}", "$" or line breaks)`
		}
	}
	return ""
}

var imageRe = regexp.MustCompile(`^[A-Za-z0-9][A-Za-z0-9._/:@+-]*$`)

// Image is the rule of a container image reference ("php:8.3-apache",
// "registry.example/team/app@sha256:…"): letters, digits and "._/:@+-",
// starting with a letter or digit, which a shell, a YAML file and an echo
// in a script carry as they are. "" (the default) is fine.
func Image(image string) string {
	switch {
	case image == "":
		return ""
	case len(image) > MaxImageLen:
		return fmt.Sprintf("must be at most %d characters", MaxImageLen)
	case !imageRe.MatchString(image):
		return "is not an image reference: letters, digits and . _ / : @ + - only"
	}
	return ""
}

// Version is the rule of a data service's version, which becomes an image
// tag or picks a host's binaries: "" or at most 64 of letters, digits,
// dots, hyphens and underscores, not starting with a dot or a hyphen (an
// image tag's own syntax).
func Version(v string) string {
	if v == "" {
		return ""
	}
	if len(v) > 64 || v[0] == '.' || v[0] == '-' || !versionRE.MatchString(v) {
		return "is not a version: use letters, digits and dots, at most 64"
	}
	return ""
}

var versionRE = regexp.MustCompile(`^[A-Za-z0-9._-]+$`)

// PHPVersion is the rule of a php service's version, which names Debian's
// files (libphp8.2.so, /usr/bin/php8.2) and an image tag (php:8.2-apache):
// "" or MAJOR.MINOR, each one or two digits.
func PHPVersion(v string) string {
	if v == "" || phpVersionRE.MatchString(v) {
		return ""
	}
	return "is not a PHP version: use MAJOR.MINOR, e.g. 8.2"
}

var phpVersionRE = regexp.MustCompile(`^[0-9]{1,2}\.[0-9]{1,2}$`)
