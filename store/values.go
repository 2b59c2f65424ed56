package store

import (
	"path/filepath"
	"regexp"
	"strings"

	"github.com/devport/devport/internal/valuerule"
)

// The checks in this file turn the rules of internal/valuerule (what every
// consumer of a stored value can carry, issue 11.6) into ValidationErrors
// that name the field and the fix. A value is refused once, where it
// enters (AddProject, AddRoute, SetServiceRuntime), so that nothing stored
// fails only at start. manifest/validate.go applies the same rules to
// devport.toml (TestManifestAgrees holds the two together), and each
// writer still quotes what it writes.

// ValidateFolder checks an absolute folder path the store keeps (a
// project's folder, a document root, a static route's folder). field names
// it in the error ("folder", "document root"). Spaces are fine, writers
// quote them; a quote, a backslash, a "$" (a variable to Apache and nginx),
// control characters such as a newline, and bytes that are not UTF-8 are
// refused.
func ValidateFolder(field, path string) error {
	if r := valuerule.Folder(path); r != "" {
		return &ValidationError{Field: field, Value: path, Reason: r, Fix: "rename or move the folder"}
	}
	if !filepath.IsAbs(path) {
		return &ValidationError{Field: field, Value: path, Reason: "must be an absolute path", Fix: "give the full path, e.g. /home/me/shop"}
	}
	return nil
}

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
	return valuerule.URL(raw)
}

// ValidateCacheControl checks a static route's Cache-Control value:
// directives separated by commas, each a name with an optional value of
// letters, digits and hyphens ("public, max-age=2592000, immutable").
// Quoted directive values are refused with the rest (quotes, ";", "{",
// "}", "$", line breaks), because nginx's add_header would read them.
func ValidateCacheControl(v string) error {
	if r := valuerule.CacheControl(v); r != "" {
		return &ValidationError{Field: "cache control", Value: v, Reason: r,
			Fix: `use e.g. --cache-control "public, max-age=2592000"`}
	}
	return nil
}

// ValidateImage checks the syntax of a container image reference
// ("php:8.3-apache", "registry.example/team/app@sha256:…"): letters,
// digits and "._/:@+-", starting with a letter or digit, which a shell, a
// YAML file and an echo in a script carry as they are. Whether the image
// exists is Docker's business.
func ValidateImage(image string) error {
	if r := valuerule.Image(image); r != "" {
		return &ValidationError{Field: "image", Value: image, Reason: r, Fix: "pass an image reference such as --image php:8.3-apache"}
	}
	return nil
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

// appRE is MODULE:ATTRIBUTE, or MODULE:FACTORY() for a factory that
// gunicorn and uWSGI call at start (uvicorn cannot: validateService).
var appRE = regexp.MustCompile(`^[A-Za-z_][\w.]*:[A-Za-z_]\w*(?:\(\))?$`)

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
