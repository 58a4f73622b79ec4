package conformance

import (
	"strings"
	"testing"

	"github.com/rampart/rampart/internal/app"
	"github.com/rampart/rampart/internal/awsproto"
)

// TestPatternsGenerate checks the generator on every string shape with a
// pattern in the inputs of the served operations: the value it makes
// matches the pattern and fits the length bounds, and the value
// NotMatching makes does not match.
func TestPatternsGenerate(t *testing.T) {
	shapes := map[*awsproto.Shape]bool{}
	var walk func(s *awsproto.Shape)
	walk = func(s *awsproto.Shape) {
		if s == nil || shapes[s] {
			return
		}
		shapes[s] = true
		for _, m := range s.Members {
			walk(m.Shape)
		}
		if s.Member != nil {
			walk(s.Member.Shape)
		}
		if s.Key != nil {
			walk(s.Key.Shape)
			walk(s.Value.Shape)
		}
	}
	for _, h := range app.Registry(app.Deps{}).Handlers() {
		walk(h.Operation.Input)
	}
	n := 0
	for s := range shapes {
		if s.Kind != awsproto.KindString || s.Pattern == "" || len(s.Enum) > 0 {
			continue
		}
		n++
		p, err := CompilePattern(s.Pattern)
		if err != nil {
			t.Errorf("%s: pattern %q: %v", s.Name, s.Pattern, err)
			continue
		}
		g := &Gen{Salt: "t"}
		v := g.String(s)
		if !p.Match(v) {
			t.Errorf("%s: generated %q does not match %q", s.Name, v, s.Pattern)
		}
		if s.Min != nil && float64(utf16Len(v)) < *s.Min || s.Max != nil && float64(utf16Len(v)) > *s.Max {
			t.Errorf("%s: generated %q is outside the length bounds", s.Name, v)
		}
		if bad, ok := NotMatching(s); ok && p.Match(bad) {
			t.Errorf("%s: NotMatching gave %q, which matches", s.Name, bad)
		}
	}
	if n == 0 {
		t.Fatal("no patterns found")
	}
	t.Logf("%d patterned string shapes", n)
}

func TestGoPattern(t *testing.T) {
	for _, tc := range []struct {
		pattern, in string
		want        bool
	}{
		{`[\u0009\u000A\u000D\u0020-\u00FF]+`, "abc", true},
		{`[\u0009\u000A\u000D\u0020-\u00FF]+`, "\x01", false},
		{`^[a-z0-9]([a-z0-9]|-(?!-)){1,61}[a-z0-9]$`, "my-alias", true},
		{`(\u002F)|(\u002F[\u0021-\u007E]+\u002F)`, "/a/", true},
		{`(\u002F)|(\u002F[\u0021-\u007E]+\u002F)`, "a/", false},
		{`[\w+=,.@-]+`, "ann", true},
	} {
		p, err := CompilePattern(tc.pattern)
		if err != nil {
			t.Fatalf("%q: %v", tc.pattern, err)
		}
		if got := p.Match(tc.in); got != tc.want {
			t.Errorf("%q matches %q = %v, want %v", tc.pattern, tc.in, got, tc.want)
		}
	}
}

// TestGenerateBounded checks that generation ends, and fast, for patterns
// whose repeats write nothing inside other repeats, and for the long values
// of TooLong variants (whose fill count is the length wanted).
func TestGenerateBounded(t *testing.T) {
	for _, tc := range []struct {
		pattern        string
		minLen, maxLen int
		want           bool
	}{
		{`((a?)*)*`, 10, 10, false},
		{`(((\s?)*)*b)*`, 5, 5, true},
		{`([a-z]*)*`, 131073, 131073, true},
		{`[\u0009\u000A\u000D\u0020-\u00FF]+`, 131073, 131073, true},
		{`[\u0009\u000A\u000D\u0020-\u10FFFF]+`, 5, 5, true},
	} {
		p, err := CompilePattern(tc.pattern)
		if err != nil {
			t.Fatalf("%q: %v", tc.pattern, err)
		}
		v, ok := p.Generate(strings.Repeat("c", tc.maxLen), tc.minLen, tc.maxLen)
		if ok != tc.want {
			t.Errorf("%q [%d,%d]: ok = %v, want %v", tc.pattern, tc.minLen, tc.maxLen, ok, tc.want)
		}
		if ok && (utf16Len(v) < tc.minLen || utf16Len(v) > tc.maxLen || !p.Match(v)) {
			t.Errorf("%q [%d,%d]: %d units, matches %v", tc.pattern, tc.minLen, tc.maxLen, utf16Len(v), p.Match(v))
		}
	}
	// Trimming counts UTF-16 units, linearly.
	if got := prefixUTF16("a\U0001F600b", 2); got != "a" {
		t.Errorf("prefixUTF16 = %q, want %q", got, "a")
	}
}
