package postgres

import (
	"math/rand/v2"
	"strings"
	"testing"
	"unicode/utf8"
)

func TestPrefixEnd(t *testing.T) {
	cases := map[string]struct {
		prefix string
		end    string
		ok     bool
	}{
		"empty":                    {"", "", false},
		"ascii":                    {"user/", "user0", true},
		"DEL becomes U+0080":       {"a\u007f", "a\u0080", true},
		"multi-byte":               {"日", "旦", true},
		"continuation byte BF":     {"a\u00bf", "a\u00c0", true},
		"before the surrogates":    {"x\ud7ff", "x\ue000", true},
		"last code point carries":  {"a\U0010ffff", "b", true},
		"only the last code point": {"\U0010ffff\U0010ffff", "", false},
		"three-byte to four-byte":  {"\uffff", "\U00010000", true},
	}
	for name, tc := range cases {
		end, ok := prefixEnd(tc.prefix)
		if end != tc.end || ok != tc.ok {
			t.Errorf("%s: prefixEnd(%q) = %q, %v; want %q, %v", name, tc.prefix, end, ok, tc.end, tc.ok)
		}
		if ok && !utf8.ValidString(end) {
			t.Errorf("%s: end %q is not UTF-8", name, end)
		}
	}
}

// For valid UTF-8, k >= p && k < prefixEnd(p) is exactly "k has prefix p".
func TestPrefixEndIsExact(t *testing.T) {
	alphabet := []rune{'a', 'b', 0x7f, 0x80, 0xbf, 0x7ff, 0x800, 0xd7ff, 0xe000, 0xffff, 0x10000, utf8.MaxRune}
	r := rand.New(rand.NewPCG(1, 2))
	word := func() string {
		var b strings.Builder
		for range r.IntN(4) {
			b.WriteRune(alphabet[r.IntN(len(alphabet))])
		}
		return b.String()
	}
	for range 20000 {
		p, k := word(), word()
		if r.IntN(2) == 0 {
			k = p + k
		}
		end, ok := prefixEnd(p)
		in := k >= p && (!ok || k < end)
		if in != strings.HasPrefix(k, p) {
			t.Fatalf("prefix %q key %q end %q: range says %v", p, k, end, in)
		}
	}
}

func TestValidPrefix(t *testing.T) {
	for in, want := range map[string]string{
		"abc":        "abc",
		"ab\xffc":    "ab",
		"a\x00b":     "a",
		"x\uFFFDy":   "x\uFFFDy",
		"\xe6\x97":   "",
		"ok\xe6\x97": "ok",
	} {
		if got := validPrefix(in); got != want {
			t.Errorf("validPrefix(%q) = %q, want %q", in, got, want)
		}
	}
}
