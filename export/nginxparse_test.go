package export

import (
	"errors"
	"fmt"
	"strings"
)

// nginxDirective is one directive of an nginx configuration as nginx reads
// it: its name and arguments (unquoted), and the directives of its block.
type nginxDirective struct {
	Args  []string
	Block []nginxDirective
}

// parseNginx splits src into directives the way nginx's tokenizer does
// (ngx_conf_read_token): words separated by spaces, "..." and '...' with
// backslash escapes, "#" comments, ";" ending a directive, "{" and "}"
// around a block. It is how the tests see what nginx will see.
func parseNginx(src string) ([]nginxDirective, error) {
	p := &nginxParser{src: src}
	ds, err := p.block(0)
	if err != nil {
		return nil, err
	}
	if p.pos < len(p.src) {
		return nil, errors.New(`unexpected "}"`)
	}
	return ds, nil
}

type nginxParser struct {
	src string
	pos int
}

func (p *nginxParser) block(depth int) ([]nginxDirective, error) {
	var out []nginxDirective
	var args []string
	for {
		tok, kind, err := p.token()
		if err != nil {
			return nil, err
		}
		switch kind {
		case "eof":
			if len(args) > 0 || depth > 0 {
				return nil, errors.New("unexpected end of file")
			}
			return out, nil
		case ";":
			if len(args) == 0 {
				return nil, errors.New(`unexpected ";"`)
			}
			out = append(out, nginxDirective{Args: args})
			args = nil
		case "{":
			inner, err := p.block(depth + 1)
			if err != nil {
				return nil, err
			}
			out = append(out, nginxDirective{Args: args, Block: inner})
			args = nil
		case "}":
			if len(args) > 0 || depth == 0 {
				return nil, errors.New(`unexpected "}"`)
			}
			return out, nil
		default:
			args = append(args, tok)
		}
	}
}

// token returns the next word, or the kind "eof", ";", "{" or "}".
func (p *nginxParser) token() (string, string, error) {
	for p.pos < len(p.src) {
		c := p.src[p.pos]
		switch {
		case c == ' ' || c == '\t' || c == '\r' || c == '\n':
			p.pos++
		case c == '#':
			for p.pos < len(p.src) && p.src[p.pos] != '\n' {
				p.pos++
			}
		case c == ';' || c == '{' || c == '}':
			p.pos++
			return "", string(c), nil
		case c == '"' || c == '\'':
			p.pos++
			var b strings.Builder
			for {
				if p.pos >= len(p.src) {
					return "", "", fmt.Errorf("unterminated %c string", c)
				}
				d := p.src[p.pos]
				p.pos++
				if d == c {
					return b.String(), "word", nil
				}
				if d == '\\' && p.pos < len(p.src) {
					e := p.src[p.pos]
					p.pos++
					switch e {
					case '"', '\'', '\\':
						b.WriteByte(e)
					case 't':
						b.WriteByte('\t')
					case 'r':
						b.WriteByte('\r')
					case 'n':
						b.WriteByte('\n')
					default:
						b.WriteByte('\\')
						b.WriteByte(e)
					}
					continue
				}
				b.WriteByte(d)
			}
		default:
			var b strings.Builder
			for p.pos < len(p.src) {
				d := p.src[p.pos]
				if strings.IndexByte(" \t\r\n;{}", d) >= 0 {
					break
				}
				if d == '\\' && p.pos+1 < len(p.src) {
					b.WriteByte(p.src[p.pos+1])
					p.pos += 2
					continue
				}
				b.WriteByte(d)
				p.pos++
			}
			return b.String(), "word", nil
		}
	}
	return "", "eof", nil
}

// walk calls f for every directive in ds and their blocks, with the
// arguments of the blocks around it.
func walk(ds []nginxDirective, outer [][]string, f func(d nginxDirective, outer [][]string)) {
	for _, d := range ds {
		f(d, outer)
		if d.Block != nil {
			walk(d.Block, append(outer, d.Args), f)
		}
	}
}
