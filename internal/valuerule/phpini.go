package valuerule

import (
	"fmt"
	"regexp"
	"strings"
	"unicode/utf8"
)

// MaxPHPIniValueLen is the longest php.ini value devport keeps.
const MaxPHPIniValueLen = 1024

// phpIniKeyRe is a php.ini directive: a name with dotted parts
// ("memory_limit", "xdebug.mode", "opcache.jit_buffer_size"). Brackets
// (sections, arrays), "=", spaces and quotes are not part of it.
var phpIniKeyRe = regexp.MustCompile(`^[A-Za-z_][A-Za-z0-9_]*(\.[A-Za-z0-9_-]+)*$`)

// phpIniOwnKeys are directives devport writes itself, or that a table of
// one value per key cannot hold: extensions are loaded by their packages'
// conf.d entries (extension= may appear many times), and Xdebug by
// devport xdebug NAME on.
var phpIniOwnKeys = map[string]string{
	"extension":      "extensions load from their package's conf.d entry: install it (apt install php-NAME), or use a container image that has it",
	"zend_extension": "Xdebug loads with devport xdebug NAME on; other Zend extensions load from their package's conf.d entry",
}

// phpIniWords are the words PHP's ini scanner reads as a value wherever
// they stand, in any case: as a directive's name they are a syntax error,
// and PHP drops the rest of the file.
var phpIniWords = []string{"true", "on", "yes", "false", "off", "no", "none", "null"}

// IsPHPIniWord reports whether k is one of the words PHP's ini scanner
// reads as a value (phpIniWords), which cannot name a directive.
func IsPHPIniWord(k string) bool {
	for _, w := range phpIniWords {
		if strings.EqualFold(k, w) {
			return true
		}
	}
	return false
}

// PHPIniKey is the rule of a php.ini directive name that devport writes
// into a project's ini (devport.toml's [php.ini], devport set --php-ini):
// at most 128 letters, digits, "_" and dots, starting with a letter or
// "_", so that it cannot open a section, close a line or hide a second
// directive.
func PHPIniKey(k string) string {
	switch {
	case k == "":
		return "is empty: name a directive such as memory_limit"
	case len(k) > 128:
		return "must be at most 128 characters"
	case !phpIniKeyRe.MatchString(k):
		return "is not a php.ini directive name: use letters, digits, \"_\" and dots (memory_limit, xdebug.mode), without brackets, \"=\", spaces or quotes"
	case IsPHPIniWord(k):
		return "is a word php.ini reads as a value (" + strings.Join(phpIniWords, ", ") + "), not a directive name: PHP would stop reading the file there"
	}
	if why, ok := phpIniOwnKeys[strings.ToLower(k)]; ok {
		return "cannot be set here: " + why
	}
	return ""
}

// PHPIniValue is the rule of a php.ini value: one line of at most
// MaxPHPIniValueLen printable characters without '"', '\' or "${", which
// devport writes inside a double-quoted ini string (or bare, for a
// constant expression such as E_ALL & ~E_DEPRECATED: PHPIniBare), where
// they would end it, escape its end or read the environment. "" is fine
// (a directive set to nothing).
func PHPIniValue(v string) string {
	if len(v) > MaxPHPIniValueLen {
		return fmt.Sprintf("must be at most %d bytes", MaxPHPIniValueLen)
	}
	return PHPIniChars(v)
}

// PHPIniChars is PHPIniValue without the length limit: what a writer of
// php.ini checks again before it writes a value.
func PHPIniChars(v string) string {
	switch {
	case !utf8.ValidString(v):
		return "must be valid UTF-8"
	case strings.Contains(v, "${"):
		return "may not contain \"${\", which php.ini reads as an environment variable"
	}
	for _, r := range v {
		switch {
		case r < 0x20 || r == 0x7f || r >= 0x80 && r < 0xa0:
			return "may not contain control characters such as a newline: a php.ini value is one line"
		case r == '"' || r == '\\':
			return `may not contain '"' or '\', which would end or escape php.ini's quoted value`
		}
	}
	return ""
}
