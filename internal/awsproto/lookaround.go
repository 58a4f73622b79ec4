package awsproto

import (
	"regexp"
	"strings"
)

// Matcher reports whether a whole value matches a model pattern.
// *regexp.Regexp (anchored by [CompilePattern]) is one.
type Matcher interface {
	MatchString(s string) bool
}

// matchFunc is a hand-written [Matcher].
type matchFunc func(string) bool

func (f matchFunc) MatchString(s string) bool { return f(s) }

// lookaroundPatterns are the model patterns RE2 cannot compile, because they
// use Java's lookaheads or lookbehinds, each with an equivalent matcher
// written by hand: an anchored RE2 regexp for what the pattern consumes and
// plain string checks for what its lookarounds forbid. The key is the
// pattern exactly as the model spells it. Each matcher answers what Java's
// Pattern.compile(key).matcher(value).matches() answers (the whole value
// must match), which is how AWS applies a model pattern; the comments derive
// the equivalence.
//
// Java semantics relied on (java.util.regex.Pattern documentation): without
// flags "." matches any character but a line terminator ("\n", "\r",
// U+0085, U+2028, U+2029); "$" matches at the end of input or before a final
// line terminator; "\d" is [0-9]; inside a class "+-=" is the range
// U+002B–U+003D, as in RE2. TestLookaroundModelPatterns fails when a model
// gains a pattern that is neither compilable nor listed here.
var lookaroundPatterns = map[string]Matcher{
	// IAM accountAliasType (CreateAccountAlias, DeleteAccountAlias). Every
	// repeated item is one character, so the value is: a first character in
	// [a-z0-9], 1–61 middle characters in [a-z0-9-], a last character in
	// [a-z0-9] (3–63 in all). The lookahead (?!-) after a middle '-' forbids
	// a '-' right after it; since neither end is '-', that is exactly "no
	// '--' anywhere". IAM's documentation says the same in words: "You
	// cannot start or finish with a dash, nor can you have two dashes in a
	// row."
	`^[a-z0-9]([a-z0-9]|-(?!-)){1,61}[a-z0-9]$`: both(
		`^[a-z0-9][a-z0-9-]{1,61}[a-z0-9]$`,
		func(s string) bool { return !strings.Contains(s, "--") }),

	// Security Hub TagKey, and the same without anchors in GuardDuty and
	// Inspector TagKey (matches() anchors both ends anyway). The lookahead
	// sits at the start of the value: it only forbids the prefix "aws:"
	// (case-sensitive); the class is then applied to every character.
	`^(?!aws:)[a-zA-Z+-=._:/]+$`: tagKey,
	`(?!aws:)[a-zA-Z+-=._:/]+`:   tagKey,

	// EC2 SecretArn. The lookahead at the start asks that .{20,2048} reach
	// "$": 20 to 2048 characters, none a line terminator, then the end (or a
	// final line terminator). The rest of the pattern must consume the whole
	// value and admits only ASCII characters that are no line terminators,
	// so the lookahead is just "20 ≤ len ≤ 2048" (bytes, characters and
	// UTF-16 units agree on ASCII). The bound 2048 is also beyond RE2's
	// repeat limit of 1000, hence a length check rather than a repeat.
	`^(?=.{20,2048}$)arn:aws[a-z-]*:secretsmanager:[a-z0-9-]+:\d{12}:secret:[a-zA-Z0-9/_+=.@-]+`: both(
		`^arn:aws[a-z-]*:secretsmanager:[a-z0-9-]+:[0-9]{12}:secret:[a-zA-Z0-9/_+=.@-]+$`,
		func(s string) bool { return len(s) >= 20 && len(s) <= 2048 }),

	// Firewall Manager ManagedServiceData. The group consumes one character
	// per iteration, so the lookahead runs at every position of the value:
	// no backslash followed by 'n' or 'r' (the two-character escapes "\n"
	// and "\r" written out, not the control characters) starts anywhere. A
	// backslash at the very end is followed by nothing and is allowed. "."
	// excludes Java's line terminators. "+" asks for one character at least.
	`^((?!\\[nr]).)+`: both(
		"^[^\n\r\u0085\u2028\u2029]+$",
		func(s string) bool { return !strings.Contains(s, `\n`) && !strings.Contains(s, `\r`) }),

	// Cognito S3BucketType. The lookbehind sits at the end of the value:
	// the character before the end is not '.'. The empty value has no
	// character before the end and matches.
	`^[0-9A-Za-z\.\-_]*(?<!\.)$`: both(
		`^[0-9A-Za-z.\-_]*$`,
		func(s string) bool { return !strings.HasSuffix(s, ".") }),

	// ACM DomainNameString. Labels cannot contain '.' or '*', so the value
	// splits uniquely: an optional "*." (a label cannot start with '*', so
	// the group must take it when present), then one or more labels each
	// followed by '.', then a last label. A label is
	// (?!-)[A-Za-z0-9-]{0,62}[A-Za-z0-9]: 1–63 characters of [A-Za-z0-9-],
	// the first not '-' (the lookahead looks at it), the last not '-'; that
	// is [A-Za-z0-9]([A-Za-z0-9-]{0,61}[A-Za-z0-9])?. The last label is the
	// same with {1,62}: 2–63 characters, [A-Za-z0-9][A-Za-z0-9-]{0,61}[A-Za-z0-9].
	// No string check is left: the lookaheads become RE2 outright.
	`(\*\.)?(((?!-)[A-Za-z0-9-]{0,62}[A-Za-z0-9])\.)+((?!-)[A-Za-z0-9-]{1,62}[A-Za-z0-9])`: both(
		`^(?:\*\.)?(?:[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?\.)+[A-Za-z0-9][A-Za-z0-9-]{0,61}[A-Za-z0-9]$`,
		nil),

	// Shield LogBucket. Every item is one character, so the value is a
	// first character, 1–61 middle characters and a last one in [a-z0-9]
	// (3–63 in all), and each lookahead looks at the character after a
	// middle one: a middle '.' is followed by neither '.' nor '-', a middle
	// '-' not by '.'. The first character is [a-z0-9] and the last has no
	// follower, so this is "no '..', '.-' or '-.' anywhere".
	// The first character may be a digit only when the lookahead
	// \d{0,2}\.\d{1,3}\.\d{1,3}\.\d{1,3} fails after it. A lookahead succeeds
	// when some prefix of the rest matches; the last \d{1,3} then needs one
	// digit only. So a digit first is refused exactly when the value starts
	// like an IPv4 address: \d{1,3}\.\d{1,3}\.\d{1,3}\.\d (counting the first
	// digit). A letter first has no lookahead, and the prefix starts with a
	// digit, so the check can apply to every value.
	`^([a-z]|(\d(?!\d{0,2}\.\d{1,3}\.\d{1,3}\.\d{1,3})))([a-z\d]|(\.(?!(\.|-)))|(-(?!\.))){1,61}[a-z\d]$`: both(
		`^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$`,
		func(s string) bool {
			return !strings.Contains(s, "..") && !strings.Contains(s, ".-") && !strings.Contains(s, "-.") &&
				!ipv4Prefix.MatchString(s)
		}),

	// IAM Identity Center (sso-admin) Duration, an ISO 8601 duration. "-?"
	// then "P" are fixed (a value starting with '-' must spend it on "-?",
	// as 'P' cannot match it), so the lookahead runs right after the 'P':
	// what follows starts with a digit or with 'T' and a digit. Every part
	// after the 'P' being optional, this is what refuses "P", "-P", "PT" and
	// "-PT", the only values the rest accepts that break it.
	`(-?)P(?=\d|T\d)(?:(\d+)Y)?(?:(\d+)M)?(?:(\d+)([DW]))?(?:T(?:(\d+)H)?(?:(\d+)M)?(?:(\d+(?:\.\d+)?)S)?)?`: both(
		`^-?P(?:[0-9]+Y)?(?:[0-9]+M)?(?:[0-9]+[DW])?(?:T(?:[0-9]+H)?(?:[0-9]+M)?(?:[0-9]+(?:\.[0-9]+)?S)?)?$`,
		func(s string) bool {
			r := strings.TrimPrefix(strings.TrimPrefix(s, "-"), "P")
			return len(r) > 0 && isDigit(r[0]) || len(r) > 1 && r[0] == 'T' && isDigit(r[1])
		}),
}

// tagKey is the matcher of the TagKey patterns of Security Hub, GuardDuty
// and Inspector.
var tagKey = both(`^[a-zA-Z+-=._:/]+$`, func(s string) bool { return !strings.HasPrefix(s, "aws:") })

// ipv4Prefix is how a value starts when Shield's LogBucket lookahead
// refuses its first digit.
var ipv4Prefix = regexp.MustCompile(`^[0-9]{1,3}\.[0-9]{1,3}\.[0-9]{1,3}\.[0-9]`)

func isDigit(c byte) bool { return c >= '0' && c <= '9' }

// both is a matcher that asks re (an anchored RE2 regexp) and, when not
// nil, check to accept the value.
func both(re string, check func(string) bool) Matcher {
	r := regexp.MustCompile(re)
	if check == nil {
		return r
	}
	return matchFunc(func(s string) bool { return r.MatchString(s) && check(s) })
}
