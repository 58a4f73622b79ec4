package conformance

import (
	"regexp"
	"regexp/syntax"
	"strconv"
	"strings"
	"unicode/utf8"
)

// GoPattern translates a model pattern (Java regular-expression syntax, as
// the AWS models write them) into Go's RE2 syntax: \uXXXX escapes become
// \x{XXXX}, and the negative lookahead "(?!-)" that one IAM pattern uses is
// dropped (RE2 has no lookaround; the result accepts a superset). The
// pattern is anchored at both ends, as AWS applies it to the whole value.
func GoPattern(p string) string {
	// Java reads "\u10000" as U+1000 followed by '0'; the models mean the
	// supplementary planes.
	p = strings.ReplaceAll(p, `\u10000-\u10FFFF`, `\x{10000}-\x{10FFFF}`)
	var b strings.Builder
	for i := 0; i < len(p); i++ {
		if p[i] == '\\' && i+1 < len(p) && p[i+1] == 'u' && isHex4(p[i+2:]) {
			b.WriteString(`\x{` + p[i+2:i+6] + `}`)
			i += 5
			continue
		}
		if p[i] == '\\' && i+1 < len(p) {
			b.WriteString(p[i : i+2])
			i++
			continue
		}
		b.WriteByte(p[i])
	}
	q := strings.ReplaceAll(b.String(), "(?!-)", "")
	return `^(?:` + q + `)$`
}

func isHex4(s string) bool {
	if len(s) < 4 {
		return false
	}
	for _, c := range s[:4] {
		if !strings.ContainsRune("0123456789abcdefABCDEF", c) {
			return false
		}
	}
	return true
}

// Pattern is a compiled model pattern that can both match values and
// generate them.
type Pattern struct {
	Source string
	re     *regexp.Regexp
	tree   *syntax.Regexp
}

// CompilePattern compiles a model pattern; it fails for the few constructs
// RE2 cannot express.
func CompilePattern(p string) (*Pattern, error) {
	g := GoPattern(p)
	re, err := regexp.Compile(g)
	if err != nil {
		return nil, err
	}
	tree, err := syntax.Parse(g, syntax.Perl)
	if err != nil {
		return nil, err
	}
	return &Pattern{Source: p, re: re, tree: tree.Simplify()}, nil
}

// Match reports whether s matches the whole pattern.
func (p *Pattern) Match(s string) bool { return p.re.MatchString(s) }

// Generate returns a string matching the pattern whose length (in UTF-16
// code units, as AWS counts) lies in [minLen, maxLen] (maxLen < 0: no
// bound), preferring the characters of seed where the pattern allows them,
// so that callers get distinct, readable values. ok is false when none of
// the lengths it tries fits.
//
// Its cost is bounded whatever the pattern: every attempt stops at a
// length limit and after a number of generation steps proportional to it
// (nested repeats of parts that write nothing, such as "(a?)*" inside
// another repeat, would otherwise loop fill×fill times), and trimming is
// linear. Unbounded, one such pattern in a TooLong variant kept a run busy
// for minutes on a loaded machine.
func (p *Pattern) Generate(seed string, minLen, maxLen int) (string, bool) {
	// The value is built up to limit bytes: room for minLen (a too-long
	// value needs max+1 units), at least 4096, never far beyond maxLen.
	limit := max(4096, minLen+1)
	if maxLen >= 0 && maxLen+1 < limit {
		limit = maxLen + 1
	}
	limit = min(limit, maxGenerated)
	// Try growing repetition counts until the length fits.
	for _, fill := range []int{len(seed), 1, 2, 4, 8, 12, 16, 24, 32, 48, 64, 100, 128, 200, 256, 512, 1024, 2048} {
		if fill < 1 {
			continue
		}
		g := generator{seed: []rune(seed), fill: fill, limit: limit, budget: 8*limit + 100_000}
		var b strings.Builder
		g.gen(&b, p.tree)
		if g.budget < 0 {
			continue // the pattern's repeats write too little: give up on this fill
		}
		s := b.String()
		n := utf16Len(s)
		if n < minLen || (maxLen >= 0 && n > maxLen) {
			// Trim an over-long value when the pattern still matches.
			if maxLen >= 0 && n > maxLen && minLen <= maxLen {
				if t := prefixUTF16(s, maxLen); utf16Len(t) >= minLen && p.Match(t) {
					return t, true
				}
			}
			continue
		}
		if p.Match(s) {
			return s, true
		}
	}
	return "", false
}

// maxGenerated bounds the length of a generated value (bytes): the longest
// string constraint the harness breaks on purpose is below 200,000.
const maxGenerated = 1 << 20

// prefixUTF16 is the longest prefix of s at most n UTF-16 code units long.
func prefixUTF16(s string, n int) string {
	units := 0
	for i, r := range s {
		w := 1
		if r > 0xFFFF {
			w = 2
		}
		if units+w > n {
			return s[:i]
		}
		units += w
	}
	return s
}

type generator struct {
	seed  []rune
	pos   int // next seed rune to offer
	fill  int // repetition count for unbounded repeats
	limit int // repeats stop once the value is this long (nested repeats multiply)
	// budget is the number of generation steps left; below zero the
	// attempt is abandoned.
	budget int
}

// pick returns a rune of the class, preferring the next seed rune, then
// letters and digits, then the first rune of the class.
func (g *generator) pick(ranges []rune) rune {
	in := func(c rune) bool {
		for i := 0; i+1 < len(ranges); i += 2 {
			if c >= ranges[i] && c <= ranges[i+1] {
				return true
			}
		}
		return false
	}
	if len(g.seed) > 0 {
		c := g.seed[g.pos%len(g.seed)]
		g.pos++
		if in(c) {
			return c
		}
	}
	for _, c := range "abcdefghijklmnopqrstuvwxyz0123456789ABCDEF" {
		if in(c) {
			return c
		}
	}
	for i := 0; i+1 < len(ranges); i += 2 {
		lo := ranges[i]
		// Skip control characters and whitespace when the class offers better.
		for c := lo; c <= ranges[i+1] && c < lo+64; c++ {
			if c > ' ' && c != 0x7f && utf8.ValidRune(c) {
				return c
			}
		}
	}
	if len(ranges) > 0 {
		return ranges[0]
	}
	return 'a'
}

func (g *generator) gen(b *strings.Builder, re *syntax.Regexp) {
	g.budget--
	if g.budget < 0 {
		return
	}
	switch re.Op {
	case syntax.OpLiteral:
		for _, r := range re.Rune {
			b.WriteRune(r)
		}
	case syntax.OpCharClass:
		b.WriteRune(g.pick(re.Rune))
	case syntax.OpAnyChar, syntax.OpAnyCharNotNL:
		b.WriteRune(g.pick([]rune{'a', 'z'}))
	case syntax.OpCapture:
		g.gen(b, re.Sub[0])
	case syntax.OpConcat:
		for _, s := range re.Sub {
			g.gen(b, s)
		}
	case syntax.OpAlternate:
		g.gen(b, re.Sub[0])
	case syntax.OpStar:
		g.repeat(b, re.Sub[0], g.fill)
	case syntax.OpPlus:
		g.repeat(b, re.Sub[0], max(1, g.fill))
	case syntax.OpQuest:
		// Optional parts are left out: a prefix such as "!" or a version
		// suffix changes meaning more often than it helps.
	case syntax.OpRepeat:
		n := g.fill
		if n < re.Min {
			n = re.Min
		}
		if re.Max >= 0 && n > re.Max {
			n = re.Max
		}
		g.repeat(b, re.Sub[0], n)
	}
	// Anchors, word boundaries and empty matches write nothing.
}

func (g *generator) repeat(b *strings.Builder, re *syntax.Regexp, n int) {
	for i := 0; i < n && b.Len() < g.limit && g.budget >= 0; i++ {
		g.gen(b, re)
	}
}

// utf16Len is the length of s as Java counts it (UTF-16 code units).
func utf16Len(s string) int {
	n := 0
	for _, r := range s {
		if r > 0xFFFF {
			n += 2
		} else {
			n++
		}
	}
	return n
}

// lowerFirst is how AWS validation messages name a member: its model name
// with the first letter in lower case ("userName").
func lowerFirst(s string) string {
	if s == "" {
		return s
	}
	r, n := utf8.DecodeRuneInString(s)
	return strings.ToLower(string(r)) + s[n:]
}

func itoa(i int) string { return strconv.Itoa(i) }
