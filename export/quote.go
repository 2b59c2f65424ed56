package export

import (
	"fmt"
	"regexp"
	"strings"
	"unicode/utf8"
)

// Each writer quotes what it writes (issue 11.6). The store and
// devport.toml refuse values no consumer can carry before they are stored,
// but the writers do not rely on it: a value is one shell word in
// compose's sh -c script, one nginx argument, one YAML string, whatever it
// holds; what a format cannot carry at all is an error, never output.

// nginxArg is s as one nginx argument: as it is when nginx reads it so,
// else double-quoted (nginxQuoted).
func nginxArg(s string) (string, error) {
	if s != "" && strings.IndexFunc(s, func(r rune) bool { return !nginxSafe(r) }) < 0 {
		return s, nil
	}
	return nginxQuoted(s)
}

func nginxSafe(r rune) bool {
	return r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' || strings.ContainsRune("_-./:@[]=,+~*%", r)
}

// nginxQuoted is s as a double-quoted nginx string, with '"' and '\'
// escaped. nginx expands variables inside quotes too and has no escape
// for "$", so a "$" is an error, as are control characters (a line break
// would survive in the string, but nothing devport writes needs one).
func nginxQuoted(s string) (string, error) {
	for _, r := range s {
		switch {
		case r == '$':
			return "", fmt.Errorf("%q holds \"$\", which nginx reads as a variable even in quotes", s)
		case r < 0x20 || r == 0x7f:
			return "", fmt.Errorf("%q holds a control character, which nginx's config should not carry", s)
		}
	}
	return `"` + strings.NewReplacer(`\`, `\\`, `"`, `\"`).Replace(s) + `"`, nil
}

// nginxArgs is nginxArg of each word of ws, separated by spaces.
func nginxArgs(ws []string) (string, error) {
	out := make([]string, len(ws))
	for i, w := range ws {
		q, err := nginxArg(w)
		if err != nil {
			return "", err
		}
		out[i] = q
	}
	return strings.Join(out, " "), nil
}

// nameRe is a devport project or service name (store.ValidateName), which
// the templates write as YAML keys, nginx identifiers and comments.
var devportNameRe = regexp.MustCompile(`^[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?$`)

// domainRe is a DNS name as the store keeps domains.
var domainRe = regexp.MustCompile(`^([a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?\.)+[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?$`)

// listenRe is a listen value devport writes: PORT, HOST:PORT or
// [IPV6]:PORT.
var listenRe = regexp.MustCompile(`^(([A-Za-z0-9.*-]+|\[[0-9A-Fa-f:.]+\]):)?[0-9]{1,5}$`)

// phpIniLineRe is a line a php service's ini entry may hold (Service.PHPIni):
// nothing, a comment, or one directive whose value is a double-quoted
// string without '"' or '\', or a bare constant expression (E_ALL &
// ~E_DEPRECATED), as package stacks writes them. Control characters,
// "${" and the extension keys are refused apart (checkPHPIni).
var phpIniLineRe = regexp.MustCompile(`^(|;.*|[A-Za-z_][A-Za-z0-9_]*(\.[A-Za-z0-9_-]+)* = ("[^"\\]*"|~?\s*[A-Z_][A-Z0-9_]*(\s*[&|^]\s*~?\s*([A-Z_][A-Z0-9_]*|[0-9]+))*))$`)

// phpIniWordRe are the words PHP's ini scanner reads as a value in any
// case, wherever they stand: as a directive's name, a syntax error that
// ends PHP's reading of the file.
var phpIniWordRe = regexp.MustCompile(`(?i)^(true|on|yes|false|off|no|none|null)$`)

// checkPHPIni checks a php.ini entry before the compose layout writes it:
// one directive per line, so that no value can open a section, add a
// directive or load an extension; PHP's ini scanner ends a line at "\r"
// as well as "\n", so no control character but "\n" may appear at all.
func checkPHPIni(ini []byte) error {
	s := string(ini)
	if !utf8.ValidString(s) {
		return fmt.Errorf("its php.ini entry is not UTF-8")
	}
	if strings.IndexFunc(s, func(r rune) bool { return r != '\n' && (r < 0x20 || r == 0x7f) }) >= 0 {
		return fmt.Errorf("its php.ini entry holds a control character")
	}
	for _, line := range strings.Split(strings.TrimSuffix(s, "\n"), "\n") {
		key, _, _ := strings.Cut(line, " ")
		switch {
		case strings.HasPrefix(line, ";"):
		case !phpIniLineRe.MatchString(line) || strings.Contains(line, "${"):
			return fmt.Errorf("its php.ini entry holds %q, which is not one directive", line)
		case phpIniWordRe.MatchString(key):
			return fmt.Errorf("its php.ini entry names a directive %q, a word PHP's ini scanner reads as a value", key)
		case strings.EqualFold(key, "extension") || strings.EqualFold(key, "zend_extension"):
			return fmt.Errorf("its php.ini entry loads an extension (%q): the image's conf.d entries do that", line)
		}
	}
	return nil
}
