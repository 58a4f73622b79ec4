package awsproto

import (
	"reflect"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"time"
	"unicode/utf16"
)

// shapePlan is what the codecs and the validator compute once per shape and
// cache: the compiled pattern, the enum set, the validation names of members.
type shapePlan struct {
	pattern   Matcher // nil when the shape has none or it cannot be matched (see CompilePattern)
	enum      map[string]struct{}
	enumText  string   // "[A, B, C]"
	pathNames []string // structures: lower-camel member names, as validation paths spell them
	// constraints are all the shape's constraints, as a message about the
	// elements of a list or map lists them: "Member must have length less
	// than or equal to 128, Member must have length greater than or equal
	// to 1, Member must satisfy regular expression pattern: [a-z]+".
	constraints string
}

var plans sync.Map // *Shape → *shapePlan

func planOf(s *Shape) *shapePlan {
	if p, ok := plans.Load(s); ok {
		return p.(*shapePlan)
	}
	p := &shapePlan{}
	if s.Pattern != "" {
		p.pattern = CompilePattern(s.Pattern)
	}
	if len(s.Enum) > 0 {
		p.enum = make(map[string]struct{}, len(s.Enum))
		for _, e := range s.Enum {
			p.enum[e] = struct{}{}
		}
		p.enumText = "[" + strings.Join(s.Enum, ", ") + "]"
	}
	p.constraints = constraintsText(s, p.enumText)
	if s.Kind == KindStructure {
		p.pathNames = make([]string, len(s.Members))
		for i, m := range s.Members {
			p.pathNames[i] = LowerCamel(m.Name)
		}
	}
	actual, _ := plans.LoadOrStore(s, p)
	return actual.(*shapePlan)
}

// constraintsText lists every constraint of s in the order AWS's messages
// list them (maximum before minimum, then the pattern and the enum).
func constraintsText(s *Shape, enumText string) string {
	var out []string
	word := "length"
	switch s.Kind {
	case KindInteger, KindLong, KindFloat, KindDouble:
		word = "value"
	case KindStructure, KindBoolean, KindTimestamp, KindDocument:
		return ""
	}
	if s.Max != nil {
		out = append(out, "Member must have "+word+" less than or equal to "+num(*s.Max))
	}
	if s.Min != nil {
		out = append(out, "Member must have "+word+" greater than or equal to "+num(*s.Min))
	}
	if s.Kind == KindString && s.Pattern != "" {
		out = append(out, "Member must satisfy regular expression pattern: "+s.Pattern)
	}
	if s.Kind == KindString && enumText != "" {
		out = append(out, "Member must satisfy enum value set: "+enumText)
	}
	return strings.Join(out, ", ")
}

// LowerCamel lowers the first letter of name: AWS validation messages name
// members this way ("KeyId" → "keyId", "KMSKeyId" → "kMSKeyId").
func LowerCamel(name string) string {
	if name == "" || name[0] < 'A' || name[0] > 'Z' {
		return name
	}
	b := []byte(name)
	b[0] += 'a' - 'A'
	return string(b)
}

var patternCache sync.Map // string → Matcher (nil when uncompilable)

// CompilePattern compiles a model pattern (a Java regular expression, matched
// against the whole value as Java's Matcher.matches does). A pattern with
// lookarounds, which RE2 cannot compile, gets the equivalent matcher written
// by hand in lookaroundPatterns; any other is translated to Go's RE2, with
// what RE2 spells differently (\uXXXX, \Z, \p{Alpha}-style POSIX classes)
// rewritten. When the pattern is neither listed nor compilable (a
// backreference, a possessive quantifier, a lookaround of a future model)
// it returns nil and the pattern is skipped rather than rejecting every
// request; TestLookaroundModelPatterns fails when a model has one.
func CompilePattern(pat string) Matcher {
	if m, ok := patternCache.Load(pat); ok {
		if m == nil {
			return nil
		}
		return m.(Matcher)
	}
	var m Matcher
	if hand, ok := lookaroundPatterns[pat]; ok {
		m = hand
	} else if re, err := regexp.Compile("^(?:" + translateJavaRegexp(pat) + ")$"); err == nil {
		m = re
	}
	// m is a nil interface (not a nil *regexp.Regexp in one) when neither
	// applies, so callers can test it against nil.
	patternCache.Store(pat, m)
	return m
}

var javaClasses = map[string]string{
	"Alpha": `a-zA-Z`, "Digit": `0-9`, "Alnum": `a-zA-Z0-9`, "Upper": `A-Z`, "Lower": `a-z`,
	"Punct": `!-/:-@\[-` + "`" + `{-~`, "Space": ` \t\n\x0B\f\r`, "XDigit": `0-9a-fA-F`,
	"Print": `\x20-\x7E`, "Graph": `\x21-\x7E`, "Cntrl": `\x00-\x1F\x7F`, "ASCII": `\x00-\x7F`, "Blank": ` \t`,
}

func translateJavaRegexp(p string) string {
	var b strings.Builder
	inClass := 0
	for i := 0; i < len(p); i++ {
		c := p[i]
		switch {
		case c == '\\' && i+1 < len(p):
			n := p[i+1]
			switch {
			case n == 'u' && i+5 < len(p) && isHex4(p[i+2:i+6]):
				hi, _ := strconv.ParseUint(p[i+2:i+6], 16, 32)
				// Java classes spell supplementary characters as surrogate
				// pairs (\uD800\uDC00); RE2 wants the code point.
				if hi >= 0xD800 && hi < 0xDC00 && i+11 < len(p) && p[i+6] == '\\' && p[i+7] == 'u' && isHex4(p[i+8:i+12]) {
					lo, _ := strconv.ParseUint(p[i+8:i+12], 16, 32)
					if lo >= 0xDC00 && lo < 0xE000 {
						r := utf16.DecodeRune(rune(hi), rune(lo))
						b.WriteString(`\x{` + strconv.FormatInt(int64(r), 16) + `}`)
						i += 11
						continue
					}
				}
				b.WriteString(`\x{` + p[i+2:i+6] + `}`)
				i += 5
				continue
			case n == 'Z':
				b.WriteString(`\z`)
				i++
				continue
			case n == 'h':
				b.WriteString(`[\t \x{A0}\x{1680}\x{180e}\x{2000}-\x{200a}\x{202f}\x{205f}\x{3000}]`)
				i++
				continue
			case n == 'p' || n == 'P':
				if i+2 < len(p) && p[i+2] == '{' {
					if end := strings.IndexByte(p[i+2:], '}'); end > 0 {
						name := p[i+3 : i+2+end]
						name = strings.TrimPrefix(name, "Is")
						if cls, ok := javaClasses[name]; ok {
							neg := n == 'P'
							if inClass > 0 && !neg {
								b.WriteString(cls)
							} else if neg {
								b.WriteString(`[^` + cls + `]`)
							} else {
								b.WriteString(`[` + cls + `]`)
							}
							i += 2 + end
							continue
						}
						if name == "Alphabetic" || name == "Letter" {
							name = "L"
						}
						b.WriteString(`\` + string(n) + `{` + name + `}`)
						i += 2 + end
						continue
					}
				}
			}
			b.WriteByte(c)
			b.WriteByte(n)
			i++
			continue
		case c == '{' && inClass == 0:
			// RE2 caps repeat counts at 1000; a larger bound is dropped
			// (the shape's length constraint still applies).
			if end := strings.IndexByte(p[i:], '}'); end > 0 {
				lo, hi, comma := strings.Cut(p[i+1:i+end], ",")
				if n, err := strconv.Atoi(hi); err == nil && comma && n > 1000 {
					if m, err := strconv.Atoi(lo); err == nil && m <= 1000 {
						b.WriteString("{" + lo + ",}")
						i += end
						continue
					}
				}
			}
		case c == '.' && inClass == 0:
			// Java's . excludes every line terminator, RE2's only \n.
			b.WriteString(javaDot)
			continue
		case c == '[':
			inClass++
		case c == ']' && inClass > 0:
			inClass--
		}
		b.WriteByte(c)
	}
	return b.String()
}

// javaDot is Java's . (without DOTALL): any character but a line terminator.
const javaDot = `[^\n\r\x{85}\x{2028}\x{2029}]`

func isHex4(s string) bool {
	for i := 0; i < 4; i++ {
		c := s[i]
		if !(c >= '0' && c <= '9' || c >= 'a' && c <= 'f' || c >= 'A' && c <= 'F') {
			return false
		}
	}
	return true
}

// TimeType is the reflect type of time.Time, which timestamp members point to.
var TimeType = reflect.TypeOf(time.Time{})
