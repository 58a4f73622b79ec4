package awsproto_test

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"math/rand/v2"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"testing"

	awshttp "github.com/aws/aws-sdk-go-v2/aws/transport/http"
	"github.com/aws/aws-sdk-go-v2/service/iam"
	"github.com/aws/smithy-go"

	"github.com/rampart/rampart/internal/awsproto"
	"github.com/rampart/rampart/internal/rampartest"
)

// lookaroundCases are the model patterns with lookarounds, exactly as the
// models spell them, with values that must and must not match, and the
// alphabet the brute-force comparison with the reference engine draws from.
var lookaroundCases = []struct {
	pattern  string
	alphabet string
	maxLen   int // exhaustive comparison up to this length
	match    []string
	noMatch  []string
}{
	{
		pattern:  `^[a-z0-9]([a-z0-9]|-(?!-)){1,61}[a-z0-9]$`, // iam accountAliasType
		alphabet: "a0-A ", maxLen: 6,
		match: []string{"abc", "a-b", "my-alias", "a-b-c", "0-0", "123", "a1-2b-c3",
			strings.Repeat("a", 63), "a" + strings.Repeat("-b", 31)},
		noMatch: []string{"", "a", "ab", " xx", "xx ", "a--b", "a---b", "-ab", "ab-", "-a-", "a-b--c",
			"aBc", "a_b", "a.b", strings.Repeat("a", 64), "a" + strings.Repeat("-b", 31) + "c",
			"abc\n", "abc\r\n"},
	},
	{
		pattern:  `^(?!aws:)[a-zA-Z+-=._:/]+$`, // securityhub TagKey
		alphabet: "aws:A1_ ", maxLen: 5,
		match:   []string{"a", "Name", "aws", "aws_x", "xaws:", "AWS:x", "aws-x", "aw:s", "a+b-c=d.e_f:g/h", "<;=", "0"},
		noMatch: []string{"", "aws:", "aws:x", "aws:aws:", "a b", "a*b", "a>b", "a\n", "é"},
	},
	{
		pattern:  `(?!aws:)[a-zA-Z+-=._:/]+`, // guardduty, inspector2 TagKey
		alphabet: "aws:A1_ ", maxLen: 5,
		match:   []string{"a", "Name", "aws", "xaws:", "AWS:x", "a/b"},
		noMatch: []string{"", "aws:", "aws:x", "a b", "a*b"},
	},
	{
		pattern: `^(?=.{20,2048}$)arn:aws[a-z-]*:secretsmanager:[a-z0-9-]+:\d{12}:secret:[a-zA-Z0-9/_+=.@-]+`, // ec2 SecretArn
		// Too long to enumerate: the comparison is on random values and on
		// mutations of the matching ones. The shortest value the rest of the
		// pattern admits has 46 characters, so only the upper bound bites.
		alphabet: "a1:-/\n", maxLen: 2,
		match: []string{
			"arn:aws:secretsmanager:us-east-1:123456789012:secret:x",
			"arn:aws-cn:secretsmanager:cn-north-1:123456789012:secret:db/pass-AbCdEf",
			"arn:aws:secretsmanager:us-east-1:123456789012:secret:" + strings.Repeat("x", 2048-53),
		},
		noMatch: []string{
			"arn:aws:secretsmanager:us-east-1:123456789012:secret:" + strings.Repeat("x", 2048-52),
			"arn:aws:secretsmanager:us-east-1:12345678901:secret:x",
			"arn:aws:secretsmanager:us-east-1:123456789012:secret:",
			"arn:aws:secretsmanager:us-east-1:123456789012:secret:x\n",
			"arn:aws:kms:us-east-1:123456789012:key/x",
		},
	},
	{
		pattern:  `^((?!\\[nr]).)+`, // fms ManagedServiceData
		alphabet: `\nr` + "a\n\r\u2028", maxLen: 5,
		match:   []string{"a", `{"type":"WAF"}`, `\`, `a\`, `\\`, `\t`, `n\`, `\a\b`, "é", "\t"},
		noMatch: []string{"", `\n`, `\r`, `a\nb`, `{"a":"b\r"}`, `\\n`, "a\nb", "a\rb", "a\u0085", "\u2028", "\u2029b"},
	},
	{
		pattern:  `^[0-9A-Za-z\.\-_]*(?<!\.)$`, // cognito-idp S3BucketType
		alphabet: "a.-_ ", maxLen: 5,
		match:   []string{"", "a", "my-bucket", "my.bucket", ".a", "a.b.c", "a_", "a-", "A.B"},
		noMatch: []string{".", "a.", "my.bucket.", "a..", "a b", "a/b", "a.\n"},
	},
	{
		pattern:  `(\*\.)?(((?!-)[A-Za-z0-9-]{0,62}[A-Za-z0-9])\.)+((?!-)[A-Za-z0-9-]{1,62}[A-Za-z0-9])`, // acm DomainNameString
		alphabet: "a-.*", maxLen: 7,
		match: []string{"example.com", "*.example.com", "a.bc", "a-b.c-d", "a.b.c.de", "xn--bcher-kva.example",
			strings.Repeat("a", 63) + "." + strings.Repeat("b", 63), "0.00", "*.a.bc"},
		noMatch: []string{"", "com", "a.b", "-a.com", "a-.com", "a.-com", "a.com-", "*.com", "**.a.com", "a.*.com",
			"a..com", ".a.com", "a.com.", strings.Repeat("a", 64) + ".com", "a." + strings.Repeat("b", 64), "a_b.com", "*a.com"},
	},
	{
		pattern:  `^([a-z]|(\d(?!\d{0,2}\.\d{1,3}\.\d{1,3}\.\d{1,3})))([a-z\d]|(\.(?!(\.|-)))|(-(?!\.))){1,61}[a-z\d]$`, // shield LogBucket
		alphabet: "a1.-", maxLen: 8,
		match: []string{"abc", "my-bucket", "my.bucket", "a--b", "1bucket", "123", "1.2.3", "1.2.3a", "1.2.a.4", "1234.5.6.7",
			"a1.2.3.4", "1.2.3.a4", "1a.2.3.4", strings.Repeat("a", 63)},
		noMatch: []string{"ab", "1.2.3.4", "192.168.1.1", "1.2.3.4a", "12.34.56.7x", "a..b", "a.-b", "a-.b", ".ab", "ab.", "-ab", "ab-",
			"Abc", "a_b", strings.Repeat("a", 64), "1.2.3.4.5"},
	},
	{
		pattern:  `(-?)P(?=\d|T\d)(?:(\d+)Y)?(?:(\d+)M)?(?:(\d+)([DW]))?(?:T(?:(\d+)H)?(?:(\d+)M)?(?:(\d+(?:\.\d+)?)S)?)?`, // sso-admin Duration
		alphabet: "-PT1.YMDWHS", maxLen: 4,
		match:   []string{"P1D", "-P1Y2M", "PT1H", "PT8H", "P1Y2M3DT4H5M6.5S", "P2W", "PT0S", "PT1.5S", "-PT1M", "P1M", "P1DT"},
		noMatch: []string{"", "P", "-P", "PT", "-PT", "1D", "P1", "PD", "PTH", "PT1", "P1.5D", "PT1.S", "--P1D", "P1D ", "p1d", "P1Y1Y"},
	},
}

// TestLookaroundPatterns checks each hand-written matcher against its table
// and, value for value, against a backtracking interpretation of the Java
// pattern (refMatch): every string over the case's alphabet up to maxLen
// characters, then random longer ones.
func TestLookaroundPatterns(t *testing.T) {
	for _, c := range lookaroundCases {
		t.Run(c.pattern, func(t *testing.T) {
			t.Parallel()
			m := awsproto.CompilePattern(c.pattern)
			if m == nil {
				t.Fatal("no matcher")
			}
			ref, err := parseRef(c.pattern)
			if err != nil {
				t.Fatal(err)
			}
			for _, v := range c.match {
				if !m.MatchString(v) {
					t.Errorf("%q does not match", v)
				}
				if !ref.match(v) {
					t.Errorf("reference: %q does not match", v)
				}
			}
			for _, v := range c.noMatch {
				if m.MatchString(v) {
					t.Errorf("%q matches", v)
				}
				if ref.match(v) {
					t.Errorf("reference: %q matches", v)
				}
			}
			alpha := []rune(c.alphabet)
			n, mismatches := 0, 0
			check := func(v string) {
				n++
				if got, want := m.MatchString(v), ref.match(v); got != want && mismatches < 10 {
					mismatches++
					t.Errorf("%q: matcher says %v, reference %v", v, got, want)
				}
			}
			var walk func(prefix []rune)
			walk = func(prefix []rune) {
				check(string(prefix))
				if len(prefix) == c.maxLen {
					return
				}
				for _, r := range alpha {
					walk(append(prefix, r))
				}
			}
			walk(nil)
			// Longer values: random ones, and mutations of the table's
			// matching values (one character replaced, inserted or
			// deleted), which sit near the boundary.
			rng := rand.New(rand.NewPCG(1, uint64(len(c.pattern))))
			for range 3000 {
				b := make([]rune, c.maxLen+1+rng.IntN(66))
				for i := range b {
					b[i] = alpha[rng.IntN(len(alpha))]
				}
				check(string(b))
			}
			for _, v := range c.match {
				rs := []rune(v)
				for i := 0; i <= len(rs) && i < 70; i++ {
					for _, r := range alpha {
						if i < len(rs) {
							check(string(slices.Concat(rs[:i], []rune{r}, rs[i+1:])))
						}
						check(string(slices.Concat(rs[:i], []rune{r}, rs[i:])))
					}
					if i < len(rs) {
						check(string(slices.Concat(rs[:i], rs[i+1:])))
					}
				}
			}
			t.Logf("%d values compared", n)
		})
	}
}

// TestLookaroundModelPatterns walks every pattern of every model (served or
// not) and fails when one can be neither compiled for RE2 nor matched by a
// hand-written equivalent: a model update cannot make a pattern be skipped
// silently. Every pattern with a lookaround must also have a case above.
func TestLookaroundModelPatterns(t *testing.T) {
	files, _ := filepath.Glob("../../api/models/*/service-2.json")
	if len(files) == 0 {
		t.Fatal("no models under api/models")
	}
	lookaround := regexp.MustCompile(`\(\?<?[=!]`)
	tested := map[string]bool{}
	for _, c := range lookaroundCases {
		tested[c.pattern] = false
	}
	for _, f := range files {
		data, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		var m struct {
			Shapes map[string]struct {
				Pattern string `json:"pattern"`
			} `json:"shapes"`
		}
		if err := json.Unmarshal(data, &m); err != nil {
			t.Fatalf("%s: %v", f, err)
		}
		service := filepath.Base(filepath.Dir(f))
		for name, s := range m.Shapes {
			if s.Pattern == "" {
				continue
			}
			if awsproto.CompilePattern(s.Pattern) == nil {
				t.Errorf("%s %s: pattern %s is neither RE2-compilable nor in lookaroundPatterns", service, name, s.Pattern)
			}
			if lookaround.MatchString(s.Pattern) {
				if _, ok := tested[s.Pattern]; !ok {
					t.Errorf("%s %s: pattern %s has a lookaround and no case in lookaroundCases", service, name, s.Pattern)
				}
				tested[s.Pattern] = true
			}
		}
	}
	for p, seen := range tested {
		if !seen {
			t.Errorf("lookaroundCases has %s, which no model uses", p)
		}
	}
}

// TestCreateAccountAliasPattern sends account aliases through the server:
// the pattern's lookahead is enforced with AWS's code, status and wording.
func TestCreateAccountAliasPattern(t *testing.T) {
	srv := rampartest.Start(t)
	client := iam.NewFromConfig(srv.Config())
	ctx := context.Background()
	const pattern = `^[a-z0-9]([a-z0-9]|-(?!-)){1,61}[a-z0-9]$`
	for _, alias := range []string{" xx", "a--b", "-ab", "ab-"} {
		for _, op := range []string{"CreateAccountAlias", "DeleteAccountAlias"} {
			var err error
			if op == "CreateAccountAlias" {
				_, err = client.CreateAccountAlias(ctx, &iam.CreateAccountAliasInput{AccountAlias: &alias})
			} else {
				_, err = client.DeleteAccountAlias(ctx, &iam.DeleteAccountAliasInput{AccountAlias: &alias})
			}
			want := "1 validation error detected: Value '" + alias + "' at 'accountAlias' failed to satisfy constraint: " +
				"Member must satisfy regular expression pattern: " + pattern
			var ae smithy.APIError
			if !errors.As(err, &ae) {
				t.Fatalf("%s %q: %v, want ValidationError", op, alias, err)
			}
			if ae.ErrorCode() != "ValidationError" || ae.ErrorMessage() != want {
				t.Errorf("%s %q: %s %q, want ValidationError %q", op, alias, ae.ErrorCode(), ae.ErrorMessage(), want)
			}
			var re *awshttp.ResponseError
			if !errors.As(err, &re) || re.HTTPStatusCode() != 400 {
				t.Errorf("%s %q: status %v, want 400", op, alias, err)
			}
		}
	}
	alias := "my-alias"
	if _, err := client.CreateAccountAlias(ctx, &iam.CreateAccountAliasInput{AccountAlias: &alias}); err != nil {
		t.Fatalf("CreateAccountAlias %q: %v", alias, err)
	}
	out, err := client.ListAccountAliases(ctx, &iam.ListAccountAliasesInput{})
	if err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(out.AccountAliases, []string{alias}) {
		t.Errorf("ListAccountAliases = %q, want [%q]", out.AccountAliases, alias)
	}
}

// The reference engine: a direct backtracking interpretation of the Java
// regular-expression constructs the lookaround patterns use, matched as
// Matcher.matches does (the whole value). It is slow and simple on purpose.

type refNode interface{}

type (
	refChar func(rune) bool
	refSeq  []refNode
	refAlt  []refNode
	refRep  struct {
		n        refNode
		min, max int
	} // max < 0: unbounded; greedy
	refLook struct {
		n           refNode
		behind, neg bool
	}
	refBegin struct{}
	refEnd   struct{}
)

type refPattern struct{ root refNode }

func isLineTerminator(r rune) bool {
	return r == '\n' || r == '\r' || r == '\u0085' || r == '\u2028' || r == '\u2029'
}

func parseRef(p string) (*refPattern, error) {
	ps := &refParser{s: []rune(p)}
	n, err := ps.alt()
	if err != nil {
		return nil, err
	}
	if ps.i != len(ps.s) {
		return nil, fmt.Errorf("unexpected %q at %d", ps.s[ps.i], ps.i)
	}
	return &refPattern{root: n}, nil
}

func (p *refPattern) match(v string) bool {
	s := []rune(v)
	return refMatch(p.root, s, 0, func(j int) bool { return j == len(s) })
}

func refMatch(n refNode, s []rune, i int, k func(int) bool) bool {
	switch n := n.(type) {
	case refChar:
		return i < len(s) && n(s[i]) && k(i+1)
	case refSeq:
		if len(n) == 0 {
			return k(i)
		}
		return refMatch(n[0], s, i, func(j int) bool { return refMatch(n[1:], s, j, k) })
	case refAlt:
		for _, b := range n {
			if refMatch(b, s, i, k) {
				return true
			}
		}
		return false
	case refRep:
		var try func(count, i int) bool
		try = func(count, i int) bool {
			if n.max < 0 || count < n.max {
				if refMatch(n.n, s, i, func(j int) bool { return j != i && try(count+1, j) }) {
					return true
				}
			}
			return count >= n.min && k(i)
		}
		return try(0, i)
	case refLook:
		found := false
		if n.behind {
			for j := i; j >= 0 && !found; j-- {
				found = refMatch(n.n, s, j, func(e int) bool { return e == i })
			}
		} else {
			found = refMatch(n.n, s, i, func(int) bool { return true })
		}
		return found != n.neg && k(i)
	case refBegin:
		return i == 0 && k(i)
	case refEnd:
		// Java's $ without MULTILINE: the end, or before a final line
		// terminator ("\r\n" counting as one).
		rest := s[i:]
		ok := len(rest) == 0 || len(rest) == 1 && isLineTerminator(rest[0]) || len(rest) == 2 && rest[0] == '\r' && rest[1] == '\n'
		return ok && k(i)
	}
	panic(fmt.Sprintf("unknown node %T", n))
}

type refParser struct {
	s []rune
	i int
}

func (p *refParser) more() bool { return p.i < len(p.s) }

func (p *refParser) alt() (refNode, error) {
	var branches refAlt
	for {
		seq, err := p.seq()
		if err != nil {
			return nil, err
		}
		branches = append(branches, seq)
		if !p.more() || p.s[p.i] != '|' {
			break
		}
		p.i++
	}
	if len(branches) == 1 {
		return branches[0], nil
	}
	return branches, nil
}

func (p *refParser) seq() (refNode, error) {
	var seq refSeq
	for p.more() && p.s[p.i] != '|' && p.s[p.i] != ')' {
		atom, err := p.atom()
		if err != nil {
			return nil, err
		}
		atom, err = p.quantifier(atom)
		if err != nil {
			return nil, err
		}
		seq = append(seq, atom)
	}
	return seq, nil
}

func (p *refParser) quantifier(atom refNode) (refNode, error) {
	if !p.more() {
		return atom, nil
	}
	var min, max int
	switch p.s[p.i] {
	case '?':
		min, max = 0, 1
	case '*':
		min, max = 0, -1
	case '+':
		min, max = 1, -1
	case '{':
		end := slices.Index(p.s[p.i:], '}')
		if end < 0 {
			return nil, fmt.Errorf("unclosed { at %d", p.i)
		}
		lo, hi, comma := strings.Cut(string(p.s[p.i+1:p.i+end]), ",")
		var err error
		if min, err = strconv.Atoi(lo); err != nil {
			return nil, err
		}
		switch {
		case !comma:
			max = min
		case hi == "":
			max = -1
		default:
			if max, err = strconv.Atoi(hi); err != nil {
				return nil, err
			}
		}
		p.i += end
	default:
		return atom, nil
	}
	p.i++
	if p.more() && (p.s[p.i] == '?' || p.s[p.i] == '+') {
		return nil, fmt.Errorf("lazy or possessive quantifier at %d: not supported", p.i)
	}
	return refRep{n: atom, min: min, max: max}, nil
}

func (p *refParser) atom() (refNode, error) {
	c := p.s[p.i]
	p.i++
	switch c {
	case '^':
		return refBegin{}, nil
	case '$':
		return refEnd{}, nil
	case '.':
		return refChar(func(r rune) bool { return !isLineTerminator(r) }), nil
	case '\\':
		return p.escape()
	case '[':
		return p.class()
	case '(':
		look := refLook{}
		isLook := false
		switch {
		case p.has("?:"):
			p.i += 2
		case p.has("?="), p.has("?!"):
			isLook, look.neg = true, p.s[p.i+1] == '!'
			p.i += 2
		case p.has("?<="), p.has("?<!"):
			isLook, look.behind, look.neg = true, true, p.s[p.i+2] == '!'
			p.i += 3
		case p.has("?"):
			return nil, fmt.Errorf("group construct at %d: not supported", p.i)
		}
		n, err := p.alt()
		if err != nil {
			return nil, err
		}
		if !p.more() || p.s[p.i] != ')' {
			return nil, fmt.Errorf("unclosed group")
		}
		p.i++
		if isLook {
			look.n = n
			return look, nil
		}
		return n, nil
	case ')', '*', '+', '?', '{', '|':
		return nil, fmt.Errorf("unexpected %q at %d", c, p.i-1)
	}
	return refChar(func(r rune) bool { return r == c }), nil
}

func (p *refParser) has(prefix string) bool {
	return strings.HasPrefix(string(p.s[p.i:]), prefix)
}

// escape reads what follows a backslash: \d, or an escaped punctuation
// character standing for itself.
func (p *refParser) escape() (refNode, error) {
	if !p.more() {
		return nil, fmt.Errorf("trailing backslash")
	}
	c := p.s[p.i]
	p.i++
	switch {
	case c == 'd':
		return refChar(func(r rune) bool { return r >= '0' && r <= '9' }), nil
	case strings.ContainsRune(`\.-*+?()[]{}|^$/`, c):
		return refChar(func(r rune) bool { return r == c }), nil
	}
	return nil, fmt.Errorf("escape \\%c: not supported", c)
}

// class reads a character class after its '[': single characters, escaped
// ones, \d, and ranges a-b; a '-' first or last stands for itself.
func (p *refParser) class() (refNode, error) {
	var items []refChar
	if p.more() && p.s[p.i] == '^' {
		return nil, fmt.Errorf("negated class: not supported")
	}
	for {
		if !p.more() {
			return nil, fmt.Errorf("unclosed class")
		}
		c := p.s[p.i]
		if c == ']' {
			p.i++
			break
		}
		p.i++
		if c == '\\' {
			e, err := p.escape()
			if err != nil {
				return nil, err
			}
			items = append(items, e.(refChar))
			continue
		}
		if p.i+1 < len(p.s) && p.s[p.i] == '-' && p.s[p.i+1] != ']' {
			lo, hi := c, p.s[p.i+1]
			p.i += 2
			items = append(items, func(r rune) bool { return r >= lo && r <= hi })
			continue
		}
		items = append(items, func(r rune) bool { return r == c })
	}
	return refChar(func(r rune) bool {
		for _, it := range items {
			if it(r) {
				return true
			}
		}
		return false
	}), nil
}
