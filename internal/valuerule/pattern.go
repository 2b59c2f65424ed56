package valuerule

import (
	"fmt"
	"path"
	"strings"
	"unicode/utf8"
)

// MaxPatternLen is the longest file pattern devport keeps.
const MaxPatternLen = 256

// FilePattern is the rule of a file pattern relative to the project folder
// (devport.toml's reload_include and reload_exclude): "*.graphql",
// "generated/*", in path.Match's syntax with "/" between folders. It must
// not be empty, absolute or leave the folder (".."), must parse (no
// unclosed "["), and may not contain control characters.
func FilePattern(p string) string {
	switch {
	case p == "":
		return "is empty: name files such as \"*.graphql\" or \"generated/*\""
	case len(p) > MaxPatternLen:
		return fmt.Sprintf("must be at most %d bytes", MaxPatternLen)
	case !utf8.ValidString(p):
		return "must be valid UTF-8"
	case strings.HasPrefix(p, "/"):
		return "must be relative to the project folder, e.g. \"generated/*\""
	}
	for _, r := range p {
		if r < 0x20 || r == 0x7f || r >= 0x80 && r < 0xa0 {
			return "may not contain control characters such as a newline or a tab"
		}
	}
	for _, seg := range strings.Split(p, "/") {
		if seg == ".." {
			return "leaves the project folder (..): name files inside it"
		}
	}
	if _, err := path.Match(p, ""); err != nil {
		return "is not a pattern: check its [ ] and \\ (the syntax is path.Match's: * ? [a-z])"
	}
	return ""
}
