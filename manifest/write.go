package manifest

import (
	"bytes"
	"fmt"
	"regexp"
	"strings"
	"unicode/utf8"
)

// Write renders f as TOML: top-level keys, then services by name, routes in
// order, and hooks, leaving out empty values. The output parses back with
// ParseBytes into an equal File; the same File always gives the same bytes.
func Write(f File) []byte {
	var b bytes.Buffer
	b.WriteString("# devport.toml: how devport runs this project (see devport's README, \"devport.toml\").\n")
	kv := func(key, value string) {
		if value != "" {
			fmt.Fprintf(&b, "%s = %s\n", key, quote(value))
		}
	}
	kv("name", f.Name)
	list := func(key string, values []string) {
		if values == nil {
			return
		}
		parts := make([]string, len(values))
		for i, v := range values {
			parts[i] = quote(v)
		}
		fmt.Fprintf(&b, "%s = [%s]\n", key, strings.Join(parts, ", "))
	}
	if len(f.Domains) > 0 {
		list("domains", f.Domains)
	}
	for _, name := range sortedNames(f.Services) {
		s := f.Services[name]
		fmt.Fprintf(&b, "\n[services.%s]\n", bareKey(name))
		kv("stack", s.Stack)
		kv("runtime", s.Runtime)
		kv("prefix", s.Prefix)
		kv("app", s.App)
		kv("docroot", s.DocRoot)
		if s.Workers != 0 {
			fmt.Fprintf(&b, "workers = %d\n", s.Workers)
		}
		kv("image", s.Image)
		kv("php", s.PHP)
		kv("version", s.Version)
		if s.Reload != nil {
			fmt.Fprintf(&b, "reload = %t\n", *s.Reload)
		}
		list("reload_include", s.ReloadInclude)
		list("reload_exclude", s.ReloadExclude)
		if len(s.Env) > 0 {
			var parts []string
			for _, k := range sortedNames(s.Env) {
				parts = append(parts, bareKey(k)+" = "+quote(s.Env[k]))
			}
			fmt.Fprintf(&b, "env = { %s }\n", strings.Join(parts, ", "))
		}
	}
	if f.Database.FollowGitBranch {
		b.WriteString("\n[database]\nfollow_git_branch = true\n")
	}
	for _, r := range f.Routes {
		b.WriteString("\n[[routes]]\n")
		kv("prefix", r.Prefix)
		kv("service", r.Service)
		kv("static", r.Static)
		kv("url", r.URL)
		if r.Strip {
			b.WriteString("strip = true\n")
		}
		kv("cache_control", r.CacheControl)
	}
	if ini := f.PHP.Settings(); len(ini) > 0 {
		b.WriteString("\n[php.ini]\n")
		for _, k := range sortedNames(ini) {
			fmt.Fprintf(&b, "%s = %s\n", quote(k), quote(ini[k]))
		}
	}
	if f.Hooks != (Hooks{}) {
		b.WriteString("\n[hooks]\n")
		kv("before_start", f.Hooks.BeforeStart)
	}
	return b.Bytes()
}

var bareRE = regexp.MustCompile(`^[A-Za-z0-9_-]+$`)

// bareKey writes k bare when TOML allows it, else quoted.
func bareKey(k string) string {
	if bareRE.MatchString(k) {
		return k
	}
	return quote(k)
}

// quote writes s as a TOML basic string. Invalid UTF-8 becomes U+FFFD
// (TOML strings are UTF-8).
func quote(s string) string {
	var b strings.Builder
	b.WriteByte('"')
	for _, r := range strings.ToValidUTF8(s, string(utf8.RuneError)) {
		switch r {
		case '"':
			b.WriteString(`\"`)
		case '\\':
			b.WriteString(`\\`)
		case '\n':
			b.WriteString(`\n`)
		case '\t':
			b.WriteString(`\t`)
		case '\r':
			b.WriteString(`\r`)
		default:
			if r < 0x20 || r == 0x7f {
				fmt.Fprintf(&b, `\u%04X`, r)
			} else {
				b.WriteRune(r)
			}
		}
	}
	b.WriteByte('"')
	return b.String()
}
