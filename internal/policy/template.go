package policy

import "strings"

// tmpl is a string from a policy that may contain policy variables
// ("IAM policy elements: Variables and tags",
// https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_variables.html).
// When parts is nil the string is used as written.
type tmpl struct {
	raw   string
	parts []tpart
}

type tpart struct {
	lit    string // literal policy text (wildcards act), or the escaped character
	esc    bool   // lit came from ${*}, ${?} or ${$}: always literal
	key    string // lower-case condition key of a variable; "" for text
	def    string
	hasDef bool
}

// compileTmpl parses the variables of s. Variables are recognised only when
// vars is set (Version 2012-10-17); in a resource ARN only after the fifth
// colon ("only the part after the fifth colon is substituted").
func compileTmpl(s string, vars, resource bool) tmpl {
	t := tmpl{raw: s}
	if !vars || !strings.Contains(s, "${") {
		return t
	}
	start := 0
	if resource {
		n := 0
		start = len(s)
		for i := 0; i < len(s); i++ {
			if s[i] == ':' {
				if n++; n == 5 {
					start = i + 1
					break
				}
			}
		}
	}
	var parts []tpart
	lit := s[:start]
	rest := s[start:]
	found := false
	for {
		i := strings.Index(rest, "${")
		if i < 0 {
			break
		}
		j := strings.IndexByte(rest[i:], '}')
		if j < 0 {
			break
		}
		body := rest[i+2 : i+j]
		var p tpart
		switch body {
		case "*", "?", "$":
			p = tpart{lit: body, esc: true}
		default:
			key, def, hasDef := body, "", false
			if k := strings.IndexByte(body, ','); k >= 0 {
				key = body[:k]
				d := strings.TrimSpace(body[k+1:])
				if len(d) >= 2 && d[0] == '\'' && d[len(d)-1] == '\'' {
					def, hasDef = d[1:len(d)-1], true
				} else {
					// not a well-formed default: keep the text as written
					lit += rest[:i+j+1]
					rest = rest[i+j+1:]
					continue
				}
			}
			key = strings.TrimSpace(key)
			if key == "" {
				lit += rest[:i+j+1]
				rest = rest[i+j+1:]
				continue
			}
			p = tpart{key: strings.ToLower(key), def: def, hasDef: hasDef}
		}
		found = true
		lit += rest[:i]
		if lit != "" {
			parts = append(parts, tpart{lit: lit})
		}
		lit = ""
		parts = append(parts, p)
		rest = rest[i+j+1:]
	}
	if !found {
		return t
	}
	lit += rest
	if lit != "" {
		parts = append(parts, tpart{lit: lit})
	}
	t.parts = parts
	return t
}

// Escaped patterns: a substituted string is written into a buffer where `*`
// and `?` are wildcards and escByte introduces a literal byte, so text that
// came from a variable value (or ${*}) can never act as a wildcard.
const escByte = 0

// expand writes t into buf. With glob, the result is an escaped pattern for
// matchEscaped; without, it is the plain substituted text. ok is false when a
// variable cannot be resolved (key absent or multivalued, no default).
func (t *tmpl) expand(buf []byte, c *Context, glob bool) ([]byte, bool) {
	for i := range t.parts {
		p := &t.parts[i]
		switch {
		case p.key != "":
			v, ok := c.single(p.key)
			if !ok {
				if !p.hasDef {
					return buf, false
				}
				v = p.def
			}
			buf = appendLiteral(buf, v, glob)
		case p.esc:
			buf = appendLiteral(buf, p.lit, glob)
		default:
			if glob {
				for j := 0; j < len(p.lit); j++ {
					if p.lit[j] == escByte {
						buf = append(buf, escByte)
					}
					buf = append(buf, p.lit[j])
				}
			} else {
				buf = append(buf, p.lit...)
			}
		}
	}
	return buf, true
}

func appendLiteral(buf []byte, s string, glob bool) []byte {
	if !glob {
		return append(buf, s...)
	}
	for i := 0; i < len(s); i++ {
		if c := s[i]; c == '*' || c == '?' || c == escByte {
			buf = append(buf, escByte)
		}
		buf = append(buf, s[i])
	}
	return buf
}

// matchEscaped is arn.Match over an escaped pattern.
func matchEscaped(p []byte, s string, fold bool) bool {
	pi, si := 0, 0
	starP, starS := -1, 0
	for si < len(s) {
		if pi < len(p) {
			c := p[pi]
			switch {
			case c == '*':
				starP, starS = pi, si
				pi++
				continue
			case c == '?':
				pi++
				si += runeLen(s[si:])
				continue
			case c == escByte && pi+1 < len(p):
				if p[pi+1] == s[si] || fold && lower(p[pi+1]) == lower(s[si]) {
					pi += 2
					si++
					continue
				}
			case c == s[si] || fold && lower(c) == lower(s[si]):
				pi++
				si++
				continue
			}
		}
		if starP < 0 {
			return false
		}
		starS++
		pi, si = starP+1, starS
	}
	for pi < len(p) && p[pi] == '*' {
		pi++
	}
	return pi == len(p)
}

// likeEscaped is arn.Like over an escaped pattern: the first five
// colon-separated fields are matched one by one.
func likeEscaped(p []byte, s string) bool {
	for field := 0; field < 5; field++ {
		pi := indexColonEscaped(p)
		si := strings.IndexByte(s, ':')
		if pi < 0 || si < 0 {
			return false
		}
		if !matchEscaped(p[:pi], s[:si], false) {
			return false
		}
		p, s = p[pi+1:], s[si+1:]
	}
	return matchEscaped(p, s, false)
}

func indexColonEscaped(p []byte) int {
	for i := 0; i < len(p); i++ {
		if p[i] == escByte {
			i++
			continue
		}
		if p[i] == ':' {
			return i
		}
	}
	return -1
}

func lower(c byte) byte {
	if 'A' <= c && c <= 'Z' {
		return c + 'a' - 'A'
	}
	return c
}

func runeLen(s string) int {
	c := s[0]
	n := 1
	switch {
	case c >= 0xF0:
		n = 4
	case c >= 0xE0:
		n = 3
	case c >= 0xC0:
		n = 2
	}
	if n > len(s) {
		return 1
	}
	for i := 1; i < n; i++ {
		if s[i]&0xC0 != 0x80 {
			return 1
		}
	}
	return n
}
