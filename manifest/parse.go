package manifest

import (
	"errors"
	"fmt"
	"os"
	"regexp"
	"slices"
	"strconv"
	"strings"

	"github.com/BurntSushi/toml"
)

// Parse reads the manifest at path and validates it. Every error is an
// *Error (several are joined with errors.Join) naming path, the line and
// the key.
func Parse(path string) (File, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return File{}, fmt.Errorf("read %s: %w", path, err)
	}
	return ParseBytes(path, data)
}

// ParseBytes is Parse for data already read; path is used in errors.
func ParseBytes(path string, data []byte) (File, error) {
	f := File{Path: path, lines: keyLines(data)}
	md, err := toml.Decode(string(data), &f)
	if err != nil {
		return File{}, f.decodeError(data, err)
	}
	var errs []*Error
	for _, k := range md.Undecoded() {
		if e := f.unknownKey(md, k); e != nil {
			errs = append(errs, e)
		}
	}
	if err := f.Validate(); err != nil {
		if joined, ok := err.(interface{ Unwrap() []error }); ok {
			for _, e := range joined.Unwrap() {
				if me, ok := e.(*Error); ok {
					errs = append(errs, me)
				}
			}
		}
	}
	if len(errs) > 0 {
		return File{}, joinSorted(errs)
	}
	return f, nil
}

// decodeError turns a toml syntax or type error into an *Error with its line.
func (f *File) decodeError(data []byte, err error) error {
	var pe toml.ParseError
	if errors.As(err, &pe) {
		line := pe.Position.Line
		if s := pe.Position.Start; s >= 0 && s <= len(data) {
			// the lexer may count the newline that ended the bad line
			line = 1 + strings.Count(string(data[:s]), "\n")
		}
		msg := strings.TrimPrefix(pe.Message, "toml: ")
		if msg == "" {
			msg = strings.TrimPrefix(pe.Error(), "toml: ")
		}
		return &Error{File: f.Path, Line: line, Msg: "invalid TOML: " + msg}
	}
	if m := typeErrRE.FindStringSubmatch(err.Error()); m != nil {
		line, _ := strconv.Atoi(m[1])
		return &Error{File: f.Path, Line: line, Key: m[2], Msg: m[3]}
	}
	return &Error{File: f.Path, Msg: strings.TrimPrefix(err.Error(), "toml: ")}
}

// typeErrRE matches toml's type errors: `toml: line 3 (last key
// "services.web.workers"): incompatible types: ...`.
var typeErrRE = regexp.MustCompile(`^toml: line (\d+) \(last key "([^"]*)"\): (.*)$`)

// unknownKey reports an undecoded key, unless its parent is undecoded too
// (then the parent is the one to report).
func (f *File) unknownKey(md toml.MetaData, k toml.Key) *Error {
	if len(k) > 1 && slices.ContainsFunc(md.Undecoded(), func(o toml.Key) bool { return slices.Equal(o, k[:len(k)-1]) }) {
		return nil
	}
	if len(k) > 3 && k[0] == "services" && k[2] == "env" {
		return nil // nested tables under env are reported by their type
	}
	if len(k) > 2 && k[0] == "php" && k[1] == "ini" {
		return nil // date.timezone = ... is a nested table: validate joins it with dots
	}
	level := ""
	switch {
	case len(k) == 1:
	case len(k) == 3 && k[0] == "services":
		level = "services"
	case len(k) == 2 && (k[0] == "routes" || k[0] == "hooks" || k[0] == "database" || k[0] == "php"):
		level = k[0]
	}
	key := strings.Join(k, ".")
	msg := "unknown key"
	if cands, ok := known[level]; ok {
		if c := closest(k[len(k)-1], cands); c != "" {
			msg += fmt.Sprintf("; did you mean %q?", c)
		} else {
			msg += "; known keys here: " + strings.Join(cands, ", ")
		}
	} else if len(k) == 2 && k[0] == "services" {
		msg = "a service must be a table: [services." + k[1] + "] with stack = ..."
	}
	return &Error{File: f.Path, Line: f.line(key), Key: key, Msg: msg}
}

// line finds the line of key, or of its closest parent that has one.
func (f *File) line(key string) int {
	for key != "" {
		if n, ok := f.lines[key]; ok {
			return n
		}
		i := strings.LastIndexByte(key, '.')
		if i < 0 {
			break
		}
		key = key[:i]
	}
	return 0
}

// keyLines maps each key of a TOML document to the line it is defined on:
// "services.web.stack", and both "routes.prefix" (first) and
// "routes.0.prefix" for arrays of tables. It is a line scanner, not a
// parser: it runs only on text toml has accepted or rejected, to put line
// numbers on errors, and a key it misses falls back to its parent's line.
func keyLines(data []byte) map[string]int {
	lines := map[string]int{}
	set := func(k string, n int) {
		if _, ok := lines[k]; !ok {
			lines[k] = n
		}
	}
	counts := map[string]int{}
	var table, indexed []string
	inMulti := ""
	for i, raw := range strings.Split(string(data), "\n") {
		n := i + 1
		s := strings.TrimSpace(raw)
		if inMulti != "" {
			if strings.Count(s, inMulti)%2 == 1 {
				inMulti = ""
			}
			continue
		}
		switch {
		case s == "" || s[0] == '#':
			continue
		case strings.HasPrefix(s, "[["):
			end := strings.Index(s, "]]")
			if end < 0 {
				continue
			}
			table = splitKey(s[2:end])
			name := strings.Join(table, ".")
			idx := counts[name]
			counts[name]++
			indexed = append(slices.Clone(table), fmt.Sprint(idx))
			set(name, n)
			set(strings.Join(indexed, "."), n)
			continue
		case s[0] == '[':
			end := strings.LastIndexByte(s, ']')
			if end < 0 {
				continue
			}
			table = splitKey(s[1:end])
			indexed = nil
			for j := 1; j <= len(table); j++ {
				set(strings.Join(table[:j], "."), n)
			}
			continue
		}
		eq := keyEnd(s)
		if eq < 0 {
			continue
		}
		key := splitKey(s[:eq])
		for j := 1; j <= len(key); j++ {
			set(strings.Join(append(slices.Clone(table), key[:j]...), "."), n)
			if indexed != nil {
				set(strings.Join(append(slices.Clone(indexed), key[:j]...), "."), n)
			}
		}
		for _, q := range []string{`"""`, `'''`} {
			if strings.Count(s[eq:], q)%2 == 1 {
				inMulti = q
			}
		}
	}
	return lines
}

// keyEnd is the index of the "=" that ends the key of a key/value line,
// skipping quoted key parts; -1 when there is none.
func keyEnd(s string) int {
	var quote byte
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch {
		case quote != 0:
			if c == quote {
				quote = 0
			}
		case c == '"' || c == '\'':
			quote = c
		case c == '=':
			return i
		}
	}
	return -1
}

// splitKey splits a dotted key into its parts, unquoting quoted parts.
func splitKey(s string) []string {
	var parts []string
	var b strings.Builder
	var quote byte
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch {
		case quote != 0:
			if c == quote {
				quote = 0
			} else {
				b.WriteByte(c)
			}
		case c == '"' || c == '\'':
			quote = c
		case c == '.':
			parts = append(parts, strings.TrimSpace(b.String()))
			b.Reset()
		case c == ' ' || c == '\t':
		default:
			b.WriteByte(c)
		}
	}
	return append(parts, strings.TrimSpace(b.String()))
}
