package manifest

import (
	"errors"
	"fmt"
	"path/filepath"
	"regexp"
	"slices"
	"sort"
	"strings"

	"github.com/devport/devport/internal/pathprefix"
	"github.com/devport/devport/internal/stackdef"
	"github.com/devport/devport/internal/valuerule"
)

var (
	nameRE   = regexp.MustCompile(`^[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?$`)
	domainRE = regexp.MustCompile(`^([a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?\.)+[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?$`)
	appRE    = regexp.MustCompile(`^[A-Za-z_][\w.]*:[A-Za-z_]\w*(?:\(\))?$`) // MODULE:ATTRIBUTE, or MODULE:FACTORY()
	envRE    = regexp.MustCompile(`^[A-Za-z_][A-Za-z0-9_]*$`)
)

// Validate checks every field and returns all problems found, each an
// *Error with the file, line and key, joined with errors.Join and sorted by
// line. It needs no file system: docroot and static folders are checked
// for staying inside the project folder, not for existing.
func (f *File) Validate() error {
	v := validator{f: f}
	if f.Name != "" && !nameRE.MatchString(f.Name) {
		v.add("name", "%q is not a project name: use lowercase letters, digits and hyphens (at most 63), e.g. %q", f.Name, "shop")
	}
	seenDomain := map[string]bool{}
	for i, d := range f.Domains {
		key := fmt.Sprintf("domains[%d]", i)
		switch {
		case !domainRE.MatchString(d) || len(d) > 253:
			v.addAt(key, "domains", "%q is not a domain: use lowercase names such as %q", d, "shop.test")
		case seenDomain[d]:
			v.addAt(key, "domains", "%q is listed twice: remove one", d)
		}
		seenDomain[d] = true
	}
	if len(f.Services) == 0 {
		v.add("services", "no services: add one, e.g. [services.web] with stack = %q", "php")
	}
	// Prefixes are unique among services and among routes. A route may
	// have a service's prefix: it replaces that service's own route, as
	// `devport route` does (the Apache chain is a service route at the
	// prefix of the service Apache forwards to).
	prefixes := map[string]string{} // prefix -> the service that has it
	for _, name := range sortedNames(f.Services) {
		v.service(name, f.Services[name], prefixes)
	}
	routePrefixes := map[string]string{}
	for i, r := range f.Routes {
		v.route(i, r, routePrefixes)
	}
	if strings.ContainsRune(f.Hooks.BeforeStart, 0) {
		v.add("hooks.before_start", "must not contain NUL characters")
	}
	v.phpIni()
	return v.err()
}

type validator struct {
	f    *File
	errs []*Error
}

// add records a problem at key (its line is looked up under key).
func (v *validator) add(key, format string, args ...any) { v.addAt(key, key, format, args...) }

// addAt records a problem shown as key and found on the line of lineKey.
func (v *validator) addAt(key, lineKey, format string, args ...any) {
	v.errs = append(v.errs, &Error{File: v.f.Path, Line: v.f.line(lineKey), Key: key, Msg: fmt.Sprintf(format, args...)})
}

func (v *validator) err() error {
	if len(v.errs) == 0 {
		return nil
	}
	return joinSorted(v.errs)
}

// joinSorted joins errs in line order with errors.Join (whose Unwrap
// returns them as []error).
func joinSorted(errs []*Error) error {
	sort.SliceStable(errs, func(i, j int) bool { return errs[i].Line < errs[j].Line })
	out := make([]error, len(errs))
	for i, e := range errs {
		out[i] = e
	}
	return errors.Join(out...)
}

func (v *validator) service(name string, s Service, prefixes map[string]string) {
	k := "services." + name
	if !nameRE.MatchString(name) {
		v.add(k, "%q is not a service name: use lowercase letters, digits and hyphens, e.g. %q", name, "web")
	}
	switch {
	case s.Stack == "":
		v.add(k, "missing stack: add stack = %q (or %s)", stackdef.PHP, strings.Join(Stacks[1:], ", "))
	case !slices.Contains(Stacks, stackdef.Canonical(s.Stack)):
		fix := "use " + strings.Join(Stacks[:len(Stacks)-1], ", ") + " or " + Stacks[len(Stacks)-1]
		if c := closest(s.Stack, Stacks); c != "" {
			fix = fmt.Sprintf("did you mean %q? (%s)", c, fix)
		}
		v.add(k+".stack", "%q is not a stack; %s", s.Stack, fix)
	}
	switch s.Runtime {
	case "", "process", "container":
	default:
		v.add(k+".runtime", "%q is not a runtime; use process or container", s.Runtime)
	}
	if stackdef.IsData(stackdef.Canonical(s.Stack)) {
		v.dataService(k, s)
		return
	}
	if s.Version != "" {
		v.add(k+".version", "only the data services (mariadb, postgres, redis, mailpit) take a version here: remove it")
	}
	prefix := s.Prefix
	if prefix == "" {
		prefix = "/"
	}
	if reason := pathprefix.Problem(prefix); reason != "" {
		v.add(k+".prefix", "%q %s, e.g. %q", s.Prefix, reason, "/api")
	} else if other, ok := prefixes[prefix]; ok {
		v.add(k+".prefix", "%q is already the prefix of %s: give each service its own prefix", prefix, other)
	} else {
		prefixes[prefix] = k
	}
	python := stackdef.IsPython(s.Stack)
	switch {
	case python && s.App == "":
		v.add(k, "missing app: the %s stack needs app = \"MODULE:ATTRIBUTE\", e.g. app = %q", s.Stack, "main:app")
	case python && !appRE.MatchString(s.App):
		v.add(k+".app", "%q is not MODULE:ATTRIBUTE: use e.g. %q", s.App, "main:app")
	case !python && s.App != "" && s.Stack != "":
		v.add(k+".app", "only the Python stacks (uvicorn, gunicorn, wsgi, uwsgi) take an app: remove it")
	}
	if s.DocRoot != "" {
		switch {
		case s.Stack != stackdef.PHP && s.Stack != "":
			v.add(k+".docroot", "only the php stack has a document root: remove it")
		default:
			if reason := relReason(s.DocRoot); reason != "" {
				v.add(k+".docroot", "%q %s", s.DocRoot, reason)
			}
		}
	}
	if s.Workers < 0 || s.Workers > 1024 {
		v.add(k+".workers", "%d: use 1 to 1024, or leave it out for one per core", s.Workers)
	} else if s.Workers > 0 && (s.Stack == stackdef.PHP || s.Stack == stackdef.Uvicorn) {
		v.add(k+".workers", "the %s stack has no worker count: remove it, or use stack gunicorn, wsgi or uwsgi", s.Stack)
	}
	if s.Image != "" {
		if s.Runtime != "container" {
			v.add(k+".image", "only the container runtime uses an image: add runtime = \"container\", or remove it")
		} else if reason := valuerule.Image(s.Image); reason != "" {
			v.add(k+".image", "%q %s, e.g. %q", s.Image, reason, "php:8.3-apache")
		}
	}
	if s.PHP != "" {
		if s.Stack != stackdef.PHP && s.Stack != "" {
			v.add(k+".php", "only the php stack has a PHP version: remove it")
		} else if reason := valuerule.PHPVersion(s.PHP); reason != "" {
			v.add(k+".php", "%q %s", s.PHP, reason)
		}
	}
	v.reload(k, s, python)
	for _, key := range sortedNames(s.Env) {
		if !envRE.MatchString(key) {
			v.add(k+".env."+key, "%q is not an environment variable name: use letters, digits and _", key)
		} else if strings.ContainsRune(s.Env[key], 0) {
			v.add(k+".env."+key, "must not contain NUL characters")
		}
	}
}

// phpIni checks [php.ini]: directive names, one-line values of the
// characters php.ini's quoted strings carry (valuerule), and types.
func (v *validator) phpIni() {
	settings := map[string]string{}
	flattenIni("", v.f.PHP.Ini, settings, func(key string, val any) {
		v.add("php.ini."+key, "a php.ini value is a string, a number or true/false, not %T: write it as a string", val)
	})
	for _, key := range sortedNames(settings) {
		k := "php.ini." + key
		if r := valuerule.PHPIniKey(key); r != "" {
			v.add(k, "%q %s", key, r)
		} else if r := valuerule.PHPIniValue(settings[key]); r != "" {
			v.add(k, "%q %s", settings[key], r)
		}
	}
}

// reload checks the reload keys of web service k: only the Python stacks
// reload on save, and each pattern must follow valuerule.FilePattern.
func (v *validator) reload(k string, s Service, python bool) {
	if !python && s.Stack != "" {
		for _, f := range []struct {
			key string
			set bool
		}{{"reload", s.Reload != nil}, {"reload_include", s.ReloadInclude != nil}, {"reload_exclude", s.ReloadExclude != nil}} {
			if f.set {
				v.add(k+"."+f.key, "only the Python stacks (uvicorn, gunicorn, wsgi, uwsgi) reload on save: remove it")
			}
		}
		return
	}
	for _, f := range []struct {
		key, example string
		patterns     []string
	}{{"reload_include", "*.graphql", s.ReloadInclude}, {"reload_exclude", "generated/*", s.ReloadExclude}} {
		for i, p := range f.patterns {
			if reason := valuerule.FilePattern(p); reason != "" {
				v.addAt(fmt.Sprintf("%s.%s[%d]", k, f.key, i), k+"."+f.key, "%q %s, e.g. %q", p, reason, f.example)
			}
		}
	}
}

// dataService checks a data service (a database, Redis, Mailpit): it has
// no prefix, app, document root or workers.
func (v *validator) dataService(k string, s Service) {
	for _, f := range []struct {
		key string
		set bool
	}{{"prefix", s.Prefix != ""}, {"app", s.App != ""}, {"docroot", s.DocRoot != ""}, {"workers", s.Workers != 0},
		{"reload", s.Reload != nil}, {"reload_include", s.ReloadInclude != nil}, {"reload_exclude", s.ReloadExclude != nil}} {
		if f.set {
			v.add(k+"."+f.key, "a %s service has no %s: remove it", s.Stack, f.key)
		}
	}
	if reason := valuerule.Version(s.Version); reason != "" {
		v.add(k+".version", "%q %s, e.g. %q", s.Version, reason, "15")
	}
	if s.Image != "" {
		if s.Runtime != "container" {
			v.add(k+".image", "only the container runtime uses an image: add runtime = \"container\", or remove it")
		} else if reason := valuerule.Image(s.Image); reason != "" {
			v.add(k+".image", "%q %s, e.g. %q", s.Image, reason, "mariadb:11")
		}
	}
	if len(s.Env) > 0 {
		v.add(k+".env", "a data service takes no env: devport sets its own")
	}
}

func (v *validator) route(i int, r Route, prefixes map[string]string) {
	k := fmt.Sprintf("routes[%d]", i)
	lk := fmt.Sprintf("routes.%d", i)
	at := func(field, format string, args ...any) {
		key, lineKey := k, lk
		if field != "" {
			key, lineKey = k+"."+field, lk+"."+field
		}
		v.addAt(key, lineKey, format, args...)
	}
	prefix := r.Prefix
	switch {
	case prefix == "":
		at("", "missing prefix: add prefix = %q", "/static")
	case pathprefix.Problem(prefix) != "":
		at("prefix", "%q %s, e.g. %q", prefix, pathprefix.Problem(prefix), "/static")
	default:
		if other, ok := prefixes[prefix]; ok {
			at("prefix", "%q is already the prefix of %s: give each route its own prefix", prefix, other)
		} else {
			prefixes[prefix] = k
		}
	}
	n := 0
	for _, t := range []string{r.Service, r.Static, r.URL} {
		if t != "" {
			n++
		}
	}
	if n != 1 {
		at("", "needs exactly one of service, static or url (has %d)", n)
		return
	}
	switch {
	case r.Service != "":
		if _, ok := v.f.Services[r.Service]; !ok {
			fix := "name one of: " + strings.Join(sortedNames(v.f.Services), ", ")
			if c := closest(r.Service, sortedNames(v.f.Services)); c != "" {
				fix = fmt.Sprintf("did you mean %q?", c)
			}
			at("service", "%q is not a service of this file; %s", r.Service, fix)
		}
	case r.Static != "":
		if reason := relReason(r.Static); reason != "" {
			at("static", "%q %s", r.Static, reason)
		}
		if r.Strip {
			at("strip", "static routes always serve the path below the prefix: remove strip")
		}
	case r.URL != "":
		if reason := valuerule.URL(r.URL); reason != "" {
			at("url", "%q %s, e.g. %q", r.URL, reason, "http://127.0.0.1:3000")
		}
	}
	if r.CacheControl != "" {
		if r.Static == "" {
			at("cache_control", "only static routes send Cache-Control: remove it")
		} else if reason := valuerule.CacheControl(r.CacheControl); reason != "" {
			at("cache_control", "%q %s, e.g. %q", r.CacheControl, reason, "public, max-age=2592000")
		}
	}
}

// relReason says why dir is not a folder inside the project folder, or "".
func relReason(dir string) string {
	if reason := valuerule.Folder(dir); reason != "" {
		return reason
	}
	if filepath.IsAbs(dir) || strings.HasPrefix(dir, "/") {
		return "must be relative to the project folder, e.g. \"public\""
	}
	c := filepath.Clean(dir)
	if c == ".." || strings.HasPrefix(c, "../") {
		return "leaves the project folder (..): use a folder inside it"
	}
	return ""
}

func sortedNames[V any](m map[string]V) []string {
	names := make([]string, 0, len(m))
	for n := range m {
		names = append(names, n)
	}
	slices.Sort(names)
	return names
}
