package conformance

import (
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/rampart/rampart/internal/awsproto"
)

// Gen generates input values from shapes: minimal (required members only)
// or full (every member), each satisfying the model's constraints, with
// strings made distinct by a salt so that two variants never collide on a
// name.
type Gen struct {
	Salt string
	// Known returns a known-good value for a member by its name (a policy
	// document, an e-mail address, an alias name…): constraints alone do not
	// make a value that the service can act on.
	Known func(member string) (any, bool)
	// Skip lists members the full input leaves out (pagination tokens, which
	// only mean something when a previous response handed them out).
	Skip map[string]bool
	n    int
}

// Input returns the input structure of s: required members only, or every
// member when full.
func (g *Gen) Input(s *awsproto.Shape, full bool) map[string]any {
	if s == nil {
		return map[string]any{}
	}
	v, _ := g.structure(s, full, 0).(map[string]any)
	return v
}

func (g *Gen) structure(s *awsproto.Shape, full bool, depth int) any {
	out := map[string]any{}
	// Minimal means the required members of the input; the structures
	// nested in it (a tag, a filter) get every member, as a tag without a
	// key is no tag.
	all := full || depth > 0
	for _, m := range s.Members {
		if !m.Required && (!all || depth > 3 || g.Skip[m.Name] || m.Deprecated) {
			continue
		}
		if m.Location == "statusCode" {
			continue
		}
		if s.Union && len(out) > 0 {
			break // a union takes one member
		}
		if v, ok := g.Member(m, full, depth); ok {
			out[m.Name] = v
		}
	}
	return out
}

// Member returns a value for member m.
func (g *Gen) Member(m *awsproto.Member, full bool, depth int) (any, bool) {
	if g.Known != nil {
		if v, ok := g.Known(m.Name); ok {
			return v, true
		}
	}
	return g.Value(m.Shape, full, depth)
}

// Value returns a value of shape s.
func (g *Gen) Value(s *awsproto.Shape, full bool, depth int) (any, bool) {
	switch s.Kind {
	case awsproto.KindStructure:
		if depth > 6 {
			return nil, false
		}
		return g.structure(s, full, depth+1), true
	case awsproto.KindList:
		n := 1
		if s.Min != nil && int(*s.Min) > n {
			n = int(*s.Min)
		}
		out := make([]any, 0, n)
		for i := 0; i < n; i++ {
			v, ok := g.Member(s.Member, full, depth+1)
			if !ok {
				return nil, false
			}
			out = append(out, v)
		}
		return out, true
	case awsproto.KindMap:
		k := g.String(s.Key.Shape)
		v, ok := g.Member(s.Value, full, depth+1)
		if !ok {
			return nil, false
		}
		return map[string]any{k: v}, true
	case awsproto.KindString:
		return g.String(s), true
	case awsproto.KindInteger, awsproto.KindLong:
		v := int64(1)
		if s.Min != nil && int64(*s.Min) > v {
			v = int64(*s.Min)
		}
		if s.Max != nil && int64(*s.Max) < v {
			v = int64(*s.Max)
		}
		return v, true
	case awsproto.KindFloat, awsproto.KindDouble:
		v := 1.0
		if s.Min != nil && *s.Min > v {
			v = *s.Min
		}
		return v, true
	case awsproto.KindBoolean:
		// false: flags such as DryRun or Force change what a call means.
		return false, true
	case awsproto.KindBlob:
		n := 16
		if s.Min != nil && int(*s.Min) > n {
			n = int(*s.Min)
		}
		if s.Max != nil && int(*s.Max) < n {
			n = int(*s.Max)
		}
		b := make([]byte, n)
		for i := range b {
			b[i] = byte('a' + i%26)
		}
		return b, true
	case awsproto.KindTimestamp:
		return Timestamp(), true
	case awsproto.KindDocument:
		return map[string]any{}, true
	}
	return nil, false
}

// Timestamp is the value of generated timestamps: thirty days ahead (an
// expiry, such as KMS's ValidTo, must lie in the future), on a quarter
// second, so that every protocol's form carries a fraction (epoch seconds
// 1767225600.25 in the json protocols, 2026-01-01T00:00:00.25Z in query;
// an HTTP date in a rest-json header has none).
func Timestamp() time.Time {
	return time.Now().UTC().Add(30 * 24 * time.Hour).Truncate(time.Second).Add(250 * time.Millisecond)
}

// seed is the preferred text of the next string: "cf" (conformance), the
// salt and a counter, all lower-case letters and digits.
func (g *Gen) seed() string {
	g.n++
	return "cf" + g.Salt + strconv.Itoa(g.n)
}

// String returns a string of shape s: its first enum value, or a string
// matching its pattern within its length bounds.
func (g *Gen) String(s *awsproto.Shape) string {
	if len(s.Enum) > 0 {
		return s.Enum[0]
	}
	seed := g.seed()
	minLen, maxLen := 0, -1
	if s.Min != nil {
		minLen = int(*s.Min)
	}
	if s.Max != nil {
		maxLen = int(*s.Max)
	}
	if s.Pattern != "" {
		if p := CachedPattern(s.Pattern); p != nil {
			if v, ok := p.Generate(seed, minLen, maxLen); ok {
				return v
			}
		}
	}
	return fitLength(seed, minLen, maxLen)
}

func fitLength(s string, minLen, maxLen int) string {
	if n := utf16Len(s); n < minLen {
		s += strings.Repeat("x", minLen-n)
	}
	if maxLen >= 0 && len(s) > maxLen {
		s = s[len(s)-maxLen:]
	}
	return s
}

var patterns sync.Map // pattern source → *Pattern (nil when RE2 cannot compile it)

// CachedPattern compiles p once; nil when it cannot be compiled.
func CachedPattern(p string) *Pattern {
	if v, ok := patterns.Load(p); ok {
		pt, _ := v.(*Pattern)
		return pt
	}
	pt, err := CompilePattern(p)
	if err != nil {
		patterns.Store(p, (*Pattern)(nil))
		return nil
	}
	patterns.Store(p, pt)
	return pt
}

// TooLong returns a string of shape s one unit longer than its maximum,
// matching its pattern when the pattern allows that length.
func (g *Gen) TooLong(s *awsproto.Shape) string {
	n := int(*s.Max) + 1
	if s.Pattern != "" {
		if p := CachedPattern(s.Pattern); p != nil {
			if v, ok := p.Generate(strings.Repeat("c", n), n, n); ok {
				return v
			}
		}
	}
	return strings.Repeat("c", n)
}

// NotMatching returns a string within s's length bounds that does not match
// its pattern, or false.
func NotMatching(s *awsproto.Shape) (string, bool) {
	p := CachedPattern(s.Pattern)
	if p == nil {
		return "", false
	}
	minLen, maxLen := 0, -1
	if s.Min != nil {
		minLen = int(*s.Min)
	}
	if s.Max != nil {
		maxLen = int(*s.Max)
	}
	// No control characters: they cannot travel in an XML response, so the
	// message could not echo the value as sent.
	for _, c := range []string{" ", "!", "#", "~", "%", "-", "Z", "0", "a", "\u0100", "\u2603"} {
		v := fitLength(c, minLen, maxLen)
		// fitLength pads with "x": put the odd character first.
		if utf16Len(v) < minLen || (maxLen >= 0 && utf16Len(v) > maxLen) {
			continue
		}
		if !p.Match(v) {
			return v, true
		}
	}
	return "", false
}
