package store

import (
	"fmt"
	"maps"
	"net"
	"path/filepath"
	"slices"
	"strings"
	"time"

	"github.com/devport/devport/internal/pathprefix"
	"github.com/devport/devport/internal/stackdef"
	"github.com/devport/devport/internal/valuerule"
)

const (
	maxNameLen   = 63  // a DNS label, so a name can become a subdomain
	maxLabelLen  = 63  // RFC 1035 section 2.3.4
	maxDomainLen = 253 // RFC 1035 without the trailing dot and length octets
	maxStackLen  = 32
)

// ValidateName checks a project or service name: 1 to 63 lowercase letters,
// digits and hyphens, starting with a letter or digit and not ending with a
// hyphen (^[a-z0-9][a-z0-9-]{0,62}$), so that it is also a valid DNS label.
// field names the value in the error, e.g. "name" or "service".
func ValidateName(field, s string) error {
	reason := nameReason(s)
	if reason == "" {
		return nil
	}
	flag := flagFor(field)
	fix := fmt.Sprintf("use %s %s", flag, exampleName(field))
	if sugg := suggestName(s); sugg != "" && sugg != s {
		fix = fmt.Sprintf("use %s %s", flag, sugg)
	}
	return &ValidationError{Field: field, Value: s, Reason: reason, Fix: fix}
}

func nameReason(s string) string {
	switch {
	case s == "":
		return "must not be empty"
	case len(s) > maxNameLen:
		return fmt.Sprintf("must be at most %d characters", maxNameLen)
	case !isNameChars(s):
		return "may only contain lowercase letters, digits and hyphens"
	case s[0] == '-':
		return "must start with a lowercase letter or digit"
	case s[len(s)-1] == '-':
		return "must not end with a hyphen"
	}
	return ""
}

func isNameChars(s string) bool {
	for i := 0; i < len(s); i++ {
		c := s[i]
		if !(c >= 'a' && c <= 'z' || c >= '0' && c <= '9' || c == '-') {
			return false
		}
	}
	return true
}

// suggestName turns s into the closest valid name, or "" when nothing is left.
func suggestName(s string) string {
	var b strings.Builder
	dash := false
	for _, r := range strings.ToLower(strings.TrimSpace(s)) {
		if r >= 'a' && r <= 'z' || r >= '0' && r <= '9' {
			b.WriteRune(r)
			dash = false
			continue
		}
		if !dash && b.Len() > 0 {
			b.WriteByte('-')
			dash = true
		}
	}
	out := b.String()
	if len(out) > maxNameLen {
		out = out[:maxNameLen]
	}
	return strings.Trim(out, "-")
}

func exampleName(field string) string {
	if field == "service" {
		return "web"
	}
	return "shop"
}

// flagFor names the command-line flag that sets field ("path prefix" ->
// "--path-prefix"), so that a fix reads as something to type.
func flagFor(field string) string {
	return "--" + strings.ReplaceAll(field, " ", "-")
}

// ValidateDomain checks a domain a project is served on. It must be a plain
// DNS name (letters, digits and hyphens in dot-separated labels of 1 to 63
// characters that neither start nor end with a hyphen, at least two labels, at
// most 253 characters) under one of the managed TLDs, e.g. "shop.test" for
// tlds {"test", "localhost"}. Letter case is ignored, and the store keeps
// domains in lowercase. Wildcards, ports, schemes, paths, trailing dots and IP
// addresses are refused: a domain already covers its subdomains.
func ValidateDomain(s string, tlds []string) error {
	reason := domainReason(s, tlds)
	if reason == "" {
		return nil
	}
	return &ValidationError{Field: "domain", Value: s, Reason: reason, Fix: domainFix(s, tlds)}
}

func domainReason(s string, tlds []string) string {
	switch {
	case s == "":
		return "must not be empty"
	case strings.Contains(s, "://"):
		return "must not include a scheme such as https://"
	case strings.ContainsAny(s, "/?#"):
		return "must not include a path"
	case isIP(s):
		return "must be a name, not an IP address"
	case strings.Contains(s, ":"):
		return "must not include a port"
	case strings.Contains(s, "*"):
		return "must not be a wildcard; a domain already covers its subdomains"
	case strings.HasSuffix(s, "."):
		return "must not end with a dot"
	case strings.HasPrefix(s, "."):
		return "must not start with a dot"
	case len(s) > maxDomainLen:
		return fmt.Sprintf("must be at most %d characters", maxDomainLen)
	}
	lower := strings.ToLower(s)
	labels := strings.Split(lower, ".")
	if len(labels) < 2 {
		return "needs a name and a TLD, like shop.test"
	}
	for _, l := range labels {
		if r := labelReason(l); r != "" {
			return r
		}
	}
	if len(tlds) == 0 {
		return "no TLD is managed by devport"
	}
	if !hasManagedSuffix(lower, tlds) {
		return "must end in " + tldList(tlds)
	}
	return ""
}

func labelReason(l string) string {
	switch {
	case l == "":
		return `must not contain an empty label ("..")`
	case len(l) > maxLabelLen:
		return fmt.Sprintf("label %q is longer than %d characters", l, maxLabelLen)
	case !isNameChars(l):
		return "may only contain letters, digits, hyphens and dots"
	case l[0] == '-' || l[len(l)-1] == '-':
		return fmt.Sprintf("label %q must not start or end with a hyphen", l)
	}
	return ""
}

func isIP(s string) bool {
	if strings.HasPrefix(s, "[") {
		return true
	}
	if net.ParseIP(s) != nil {
		return true
	}
	host, _, err := net.SplitHostPort(s)
	return err == nil && net.ParseIP(host) != nil
}

func hasManagedSuffix(lower string, tlds []string) bool {
	for _, t := range tlds {
		if strings.HasSuffix(lower, "."+strings.ToLower(t)) {
			return true
		}
	}
	return false
}

// tldList renders {"test", "localhost"} as ".test or .localhost".
func tldList(tlds []string) string {
	dotted := make([]string, len(tlds))
	for i, t := range tlds {
		dotted[i] = "." + t
	}
	if len(dotted) == 1 {
		return dotted[0]
	}
	return strings.Join(dotted[:len(dotted)-1], ", ") + " or " + dotted[len(dotted)-1]
}

func domainFix(s string, tlds []string) string {
	if len(tlds) == 0 {
		return `configure a TLD such as "test"`
	}
	if sugg := suggestDomain(s, tlds); sugg != "" && domainReason(sugg, tlds) == "" {
		return "use --domain " + sugg
	}
	return "use --domain with a name like shop." + tlds[0]
}

// suggestDomain guesses what the user meant: "https://Shop.com:8080/" ->
// "shop.test". It returns "" when there is nothing to go on.
func suggestDomain(s string, tlds []string) string {
	s = strings.ToLower(strings.TrimSpace(s))
	if i := strings.Index(s, "://"); i >= 0 {
		s = s[i+3:]
	}
	if i := strings.IndexAny(s, "/?#"); i >= 0 {
		s = s[:i]
	}
	if host, _, err := net.SplitHostPort(s); err == nil {
		s = host
	}
	if isIP(s) || strings.Contains(s, ":") {
		return ""
	}
	var labels []string
	for _, l := range strings.Split(s, ".") {
		if l = suggestName(l); l != "" {
			labels = append(labels, l)
		}
	}
	if len(labels) == 0 || len(tlds) == 0 {
		return ""
	}
	name := strings.Join(labels, ".")
	if len(labels) > 1 && hasManagedSuffix(name, tlds) {
		return name
	}
	if len(labels) > 1 {
		labels = labels[:len(labels)-1]
	}
	return strings.Join(labels, ".") + "." + tlds[0]
}

// checkTLDs validates Options.TLDs: plain lowercase names without a leading dot.
func checkTLDs(tlds []string) error {
	if len(tlds) == 0 {
		return &ValidationError{Field: "tlds", Value: "", Reason: "no managed TLD is configured",
			Fix: `set Options.TLDs, e.g. {"test", "localhost"}`}
	}
	for _, t := range tlds {
		bad := func(reason, fix string) error {
			return &ValidationError{Field: "tld", Value: t, Reason: reason, Fix: fix}
		}
		if strings.HasPrefix(t, ".") {
			return bad("must be given without the leading dot", fmt.Sprintf("use %q", strings.TrimLeft(t, ".")))
		}
		if t == "" || strings.HasSuffix(t, ".") || len(t) > maxDomainLen {
			return bad("must be a name such as test", `use "test"`)
		}
		for _, l := range strings.Split(t, ".") {
			if labelReason(l) != "" {
				return bad("must be lowercase letters, digits and hyphens, like test", `use "test"`)
			}
		}
	}
	return nil
}

// validateProject checks everything AddProject will store, on the values as
// the user gave them, so that errors quote the user's own input.
func validateProject(p Project, tlds []string) error {
	if err := ValidateName("name", p.Name); err != nil {
		return err
	}
	if p.Root != "" && !filepath.IsAbs(p.Root) {
		return &ValidationError{Field: "folder", Value: p.Root, Reason: "must be an absolute path",
			Fix: "pass the folder as an absolute path: devport add /home/me/" + p.Name}
	}
	if p.Root != "" {
		if err := ValidateFolder("folder", p.Root); err != nil {
			return err
		}
	}
	if r := hookReason(p.BeforeStart); r != "" {
		return &ValidationError{Field: "before start", Value: p.BeforeStart, Reason: r, Fix: "fix hooks.before_start in devport.toml"}
	}
	if err := validateDomains(p, tlds); err != nil {
		return err
	}
	if err := ValidatePHPIni(p.PHPIni, "fix it in devport.toml's [php.ini]"); err != nil {
		return err
	}
	if err := validateServices(p.Services); err != nil {
		return err
	}
	for _, d := range p.Data {
		if err := validateDataService(d); err != nil {
			return err
		}
	}
	if p.Root == "" {
		for _, s := range p.Services {
			if s.Stack != stackProxy {
				return &ValidationError{Field: "folder", Value: "",
					Reason: fmt.Sprintf("is required: service %q is stack %q, and only stack %q runs without a folder", s.Name, s.Stack, stackProxy),
					Fix:    "pass the project folder: devport add DIR"}
			}
		}
	}
	return nil
}

func validateDomains(p Project, tlds []string) error {
	if len(p.Domains) == 0 {
		fix := "add one with --domain"
		if len(tlds) > 0 {
			fix += " " + p.Name + "." + tlds[0]
		}
		return &ValidationError{Field: "domain", Value: "", Reason: "a project needs at least one domain", Fix: fix}
	}
	seen := make(map[string]bool, len(p.Domains))
	for _, d := range p.Domains {
		if err := ValidateDomain(d, tlds); err != nil {
			return err
		}
		lower := strings.ToLower(d)
		if seen[lower] {
			return &ValidationError{Field: "domain", Value: d, Reason: "is listed twice for this project",
				Fix: "give each --domain once"}
		}
		seen[lower] = true
	}
	return nil
}

func validateServices(services []Service) error {
	if len(services) == 0 {
		return &ValidationError{Field: "service", Value: "", Reason: "a project needs at least one service",
			Fix: "add one with --stack php or uvicorn, or --proxy URL"}
	}
	names := make(map[string]bool, len(services))
	prefixes := make(map[string]string, len(services))
	for _, s := range services {
		if err := ValidateName("service", s.Name); err != nil {
			return err
		}
		if names[s.Name] {
			return &ValidationError{Field: "service", Value: s.Name, Reason: "is listed twice for this project",
				Fix: "give each service its own name with --service"}
		}
		names[s.Name] = true
		if err := validateService(s); err != nil {
			return err
		}
		prefix := s.PathPrefix
		if prefix == "" {
			prefix = "/"
		}
		if other, ok := prefixes[prefix]; ok {
			return &ValidationError{Field: "path prefix", Value: prefix,
				Reason: fmt.Sprintf("is used by both service %q and service %q", other, s.Name),
				Fix:    "give each service its own --path-prefix, e.g. /api"}
		}
		prefixes[prefix] = s.Name
	}
	return nil
}

// validateService checks one service's fields other than its name.
func validateService(s Service) error {
	bad := func(field, value, reason, fix string) error {
		return &ValidationError{Field: field, Value: value,
			Reason: fmt.Sprintf("%s (service %q)", reason, s.Name), Fix: fix}
	}
	const stackFix = "use --stack php or uvicorn, or --proxy URL"
	switch {
	case s.Stack == "":
		return bad("stack", s.Stack, "must not be empty", stackFix)
	case !isKeyword(s.Stack):
		return bad("stack", s.Stack, "may only contain lowercase letters, digits and hyphens", stackFix)
	case s.Runtime != "" && !isKeyword(s.Runtime):
		return bad("runtime", s.Runtime, "may only contain lowercase letters, digits and hyphens", "use --runtime "+runtimeProcess)
	}
	if r := pathprefix.Problem(s.PathPrefix); r != "" {
		fix := "use --path-prefix with a prefix like /api"
		if sugg := suggestPathPrefix(s.PathPrefix); pathprefix.Problem(sugg) == "" && sugg != s.PathPrefix {
			fix = "use --path-prefix " + sugg
		}
		return bad("path prefix", s.PathPrefix, r, fix)
	}
	if s.Stack == stackProxy {
		if r := upstreamURLReason(s.URL); r != "" {
			return bad("url", s.URL, r, "use --proxy http://127.0.0.1:3000")
		}
	} else if s.URL != "" {
		return bad("url", s.URL, fmt.Sprintf("is only used by stack %q, not %q", stackProxy, s.Stack),
			"drop --proxy, or give a folder instead")
	}
	if s.DocRoot != "" {
		if !filepath.IsAbs(s.DocRoot) {
			return bad("document root", s.DocRoot, "must be an absolute path", "give the full path with --docroot")
		}
		if r := valuerule.Folder(s.DocRoot); r != "" {
			return bad("document root", s.DocRoot, r, "rename or move the folder")
		}
	}
	if s.App != "" && !appRE.MatchString(s.App) {
		return bad("app", s.App, "must be MODULE:ATTRIBUTE of Python names", "pass --app main:app")
	}
	if r := valuerule.Image(s.Image); r != "" {
		return bad("image", s.Image, r, "pass an image reference such as --image php:8.3-apache")
	}
	if s.PHP != "" {
		if s.Stack != stackdef.PHP {
			return bad("php", s.PHP, "only stack php has a PHP version", "drop --php")
		}
		if err := ValidatePHPVersion(s.PHP); err != nil {
			ve := err.(*ValidationError)
			return bad(ve.Field, ve.Value, ve.Reason, ve.Fix)
		}
	}
	if s.Workers < 0 {
		return bad("workers", fmt.Sprint(s.Workers), "must not be negative", "use 0 for one per core, or a count")
	}
	for _, k := range slices.Sorted(maps.Keys(s.Env)) {
		if err := ValidateEnv(k, s.Env[k]); err != nil {
			ve := err.(*ValidationError)
			return bad(ve.Field, ve.Value, ve.Reason, ve.Fix)
		}
	}
	return nil
}

// isKeyword reports whether s looks like a stack or runtime name ("php",
// "uvicorn", "process"). Which ones exist is the app's business.
func isKeyword(s string) bool {
	return s != "" && len(s) <= maxStackLen && s[0] >= 'a' && s[0] <= 'z' && isNameChars(s)
}

// suggestPathPrefix cleans p into a valid prefix: "api/v1/" -> "/api/v1".
func suggestPathPrefix(p string) string {
	var segs []string
	for _, seg := range strings.Split(p, "/") {
		seg = strings.Map(func(r rune) rune {
			if r >= 0x80 || !pathprefix.Allowed(byte(r)) {
				return -1
			}
			return r
		}, seg)
		if seg != "" && seg != "." && seg != ".." {
			segs = append(segs, seg)
		}
	}
	return "/" + strings.Join(segs, "/")
}

// validateRoute checks the fields of r that need no database.
func validateRoute(r Route) error {
	bad := func(field, value, reason, fix string) error {
		return &ValidationError{Field: field, Value: value, Reason: reason, Fix: fix}
	}
	if reason := pathprefix.Problem(r.PathPrefix); reason != "" {
		fix := "give a prefix like /static"
		if sugg := suggestPathPrefix(r.PathPrefix); pathprefix.Problem(sugg) == "" && sugg != r.PathPrefix {
			fix = "use " + sugg
		}
		return bad("path prefix", r.PathPrefix, reason, fix)
	}
	switch r.Kind {
	case RouteService:
		if err := ValidateName("service", r.Target); err != nil {
			return err
		}
	case RouteStatic:
		if !filepath.IsAbs(r.Target) {
			return bad("folder", r.Target, "must be an absolute path", "give the full path with --static")
		}
		if reason := valuerule.Folder(r.Target); reason != "" {
			return bad("folder", r.Target, reason, "rename or move the folder")
		}
	case RouteURL:
		if reason := upstreamURLReason(r.Target); reason != "" {
			return bad("url", r.Target, reason, "use --url http://127.0.0.1:3000")
		}
	default:
		return bad("kind", r.Kind, "must be service, static or url", "use --service NAME, --static DIR or --url URL")
	}
	if err := ValidateCacheControl(r.CacheControl); err != nil {
		return err
	}
	for _, d := range []struct {
		name string
		v    time.Duration
	}{{"connect timeout", r.ConnectTimeout}, {"read timeout", r.ReadTimeout}, {"write timeout", r.WriteTimeout}} {
		if d.v < 0 {
			return bad(d.name, d.v.String(), "must not be negative", "use 0 for the default, or e.g. 30s")
		}
	}
	if r.MaxBody < -1 {
		return bad("max body", fmt.Sprint(r.MaxBody), "must be -1 (no limit), 0 (default) or a size in bytes", "use e.g. --max-body 100m")
	}
	return nil
}
