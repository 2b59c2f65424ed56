package store

import (
	"fmt"
	"net"
	"net/url"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"unicode/utf8"
)

// The rules in this file are what every consumer of a stored value can
// carry (issue 11.6): Apache's config, which stacks writes with quoted
// values; the command lines of the backends; devport.toml; and the nginx
// and compose exports. A value is refused once, where it enters (AddProject,
// AddRoute, SetServiceRuntime), so that nothing stored fails only at
// start. manifest/validate.go applies the same rules to devport.toml (a
// test in this package holds the two together), and each writer still
// quotes what it writes.

const (
	maxFolderLen       = 4095 // PATH_MAX without the NUL
	maxURLLen          = 2048
	maxCacheControlLen = 256
	maxImageLen        = 255
)

// ValidateFolder checks an absolute folder path the store keeps (a
// project's folder, a document root, a static route's folder). field names
// it in the error ("folder", "document root"). Spaces are fine, writers
// quote them; a quote, a backslash, a "$" (a variable to Apache and nginx),
// control characters such as a newline, and bytes that are not UTF-8 are
// refused.
func ValidateFolder(field, path string) error {
	if r := folderReason(path); r != "" {
		return &ValidationError{Field: field, Value: path, Reason: r, Fix: "rename or move the folder"}
	}
	if !filepath.IsAbs(path) {
		return &ValidationError{Field: field, Value: path, Reason: "must be an absolute path", Fix: "give the full path, e.g. /home/me/shop"}
	}
	return nil
}

// folderReason says why path cannot be carried, or "". It does not check
// that path is absolute (devport.toml's folders are relative).
func folderReason(path string) string {
	switch {
	case len(path) > maxFolderLen:
		return fmt.Sprintf("must be at most %d bytes", maxFolderLen)
	case !utf8.ValidString(path):
		return "must be valid UTF-8"
	}
	for _, r := range path {
		switch {
		case isControl(r):
			return "may not contain control characters such as a newline or a tab"
		case r == '"' || r == '\\' || r == '$':
			return `may not contain '"', '\' or '$', which Apache's and nginx's configs cannot carry`
		}
	}
	return ""
}

func isControl(r rune) bool { return r < 0x20 || r == 0x7f || r >= 0x80 && r < 0xa0 }

// ValidateURL checks the upstream URL of a proxy service or a url route;
// field names it in the error ("url"). It must be http:// or https:// with
// a host (a name or an IP address) and an optional port and path, in
// printable ASCII without spaces, quotes, "\", "<", ">", "{", "}", "|", "^"
// or "$", and without credentials, a query or a fragment.
func ValidateURL(field, raw string) error {
	if r := upstreamURLReason(raw); r != "" {
		return &ValidationError{Field: field, Value: raw, Reason: r, Fix: "give a URL such as http://127.0.0.1:3000"}
	}
	return nil
}

func upstreamURLReason(raw string) string {
	if raw == "" {
		return `is required for stack "proxy"`
	}
	if len(raw) > maxURLLen {
		return fmt.Sprintf("must be at most %d characters", maxURLLen)
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
	if err != nil {
		return "is not a valid URL"
	}
	switch {
	case u.Hostname() == "":
		return "must include a host"
	case u.User != nil:
		return "must not include a user or password"
	case u.RawQuery != "" || u.ForceQuery || strings.Contains(raw, "#"):
		return "must not include a query or a fragment: requests keep their own"
	}
	if net.ParseIP(u.Hostname()) == nil && !hostnameRe.MatchString(u.Hostname()) {
		return "must have a host name of letters, digits, dots and hyphens, or an IP address"
	}
	if p := u.Port(); p != "" {
		if n, err := strconv.Atoi(p); err != nil || n < 1 || n > 65535 {
			return "must have a port from 1 to 65535"
		}
	}
	return ""
}

var hostnameRe = regexp.MustCompile(`^[A-Za-z0-9]([A-Za-z0-9-]*[A-Za-z0-9])?(\.[A-Za-z0-9]([A-Za-z0-9-]*[A-Za-z0-9])?)*$`)

// ValidateCacheControl checks a static route's Cache-Control value:
// directives separated by commas, each a name with an optional value of
// letters, digits and hyphens ("public, max-age=2592000, immutable").
// Quoted directive values are refused with the rest (quotes, ";", "{",
// "}", "$", line breaks), because nginx's add_header would read them.
func ValidateCacheControl(v string) error {
	if r := cacheControlReason(v); r != "" {
		return &ValidationError{Field: "cache control", Value: v, Reason: r,
			Fix: `use e.g. --cache-control "public, max-age=2592000"`}
	}
	return nil
}

var cacheDirectiveRe = regexp.MustCompile(`^[A-Za-z][A-Za-z0-9-]*(=[A-Za-z0-9-]+)?$`)

func cacheControlReason(v string) string {
	if v == "" {
		return ""
	}
	if len(v) > maxCacheControlLen {
		return fmt.Sprintf("must be at most %d characters", maxCacheControlLen)
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

// ValidateImage checks the syntax of a container image reference
// ("php:8.3-apache", "registry.example/team/app@sha256:…"): letters,
// digits and "._/:@+-", starting with a letter or digit, which a shell, a
// YAML file and an echo in a script carry as they are. Whether the image
// exists is Docker's business.
func ValidateImage(image string) error {
	if r := imageReason(image); r != "" {
		return &ValidationError{Field: "image", Value: image, Reason: r, Fix: "pass an image reference such as --image php:8.3-apache"}
	}
	return nil
}

var imageRe = regexp.MustCompile(`^[A-Za-z0-9][A-Za-z0-9._/:@+-]*$`)

func imageReason(image string) string {
	switch {
	case image == "":
		return ""
	case len(image) > maxImageLen:
		return fmt.Sprintf("must be at most %d characters", maxImageLen)
	case !imageRe.MatchString(image):
		return "is not an image reference: letters, digits and . _ / : @ + - only"
	}
	return ""
}

// ValidateApp checks a Python stack's application, MODULE:ATTRIBUTE
// ("main:app", "api.main:app"): Python identifiers, which every command
// line and uWSGI's --mount carry as they are.
func ValidateApp(app string) error {
	if app != "" && !appRE.MatchString(app) {
		return &ValidationError{Field: "app", Value: app, Reason: "must be MODULE:ATTRIBUTE of Python names",
			Fix: "pass --app main:app"}
	}
	return nil
}

var appRE = regexp.MustCompile(`^[A-Za-z_][\w.]*:[A-Za-z_]\w*$`)

// ValidateEnv checks one environment variable of a service: the name is
// letters, digits and "_", not starting with a digit; the value may be
// anything but NUL, which no process environment can hold. (Values reach
// the backend's environment only, never a shell line or a config file, so
// line breaks are fine.)
func ValidateEnv(key, value string) error {
	if !envRE.MatchString(key) {
		return &ValidationError{Field: "env", Value: key, Reason: "is not an environment variable name",
			Fix: "use letters, digits and _, not starting with a digit"}
	}
	if strings.ContainsRune(value, 0) {
		return &ValidationError{Field: "env", Value: key, Reason: "the value holds a NUL character", Fix: "remove it"}
	}
	return nil
}

var envRE = regexp.MustCompile(`^[A-Za-z_][A-Za-z0-9_]*$`)

// hookReason says why a before_start command cannot run, or "". It is a
// shell command by design (run with sh -c in the project folder); only a
// NUL, which no argument can hold, is refused.
func hookReason(cmd string) string {
	if strings.ContainsRune(cmd, 0) {
		return "holds a NUL character"
	}
	return ""
}
