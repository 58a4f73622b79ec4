// Package arn parses, builds and matches Amazon Resource Names.
//
// An ARN has six colon-separated fields:
//
//	arn:partition:service:region:account-id:resource
//
// The resource field may itself contain colons; everything after the fifth
// colon belongs to it. See "Amazon Resource Names (ARNs)" in the IAM User
// Guide (https://docs.aws.amazon.com/IAM/latest/UserGuide/reference-arns.html).
//
// Matching follows the IAM policy language: [Match] treats `*` as any
// sequence of characters (including `/` and `:`) and `?` as exactly one
// character, case-sensitively, as the Resource element does; [MatchFold] does
// the same ignoring ASCII case, as the Action element does; [Like] checks each
// of the six fields separately, as the ArnLike condition operator does. None
// of them allocates.
package arn

import (
	"errors"
	"fmt"
	"strings"
)

// ErrMalformed is wrapped by every error [Parse] returns.
var ErrMalformed = errors.New("malformed ARN")

// ARN is a parsed Amazon Resource Name.
type ARN struct {
	Partition string // "aws", "aws-cn", "aws-us-gov"
	Service   string // "iam", "s3", "kms", …
	Region    string // empty for global services
	AccountID string // empty for S3 buckets and objects
	Resource  string // everything after the fifth colon
}

// Parse splits s into its six fields. It requires the "arn" prefix, a
// non-empty partition and service, and all five separators; region, account
// and resource may be empty (S3 ARNs have neither region nor account).
func Parse(s string) (ARN, error) {
	if !strings.HasPrefix(s, "arn:") {
		return ARN{}, fmt.Errorf("%w %q: must start with \"arn:\"", ErrMalformed, s)
	}
	rest := s[4:]
	var f [4]string
	for i := range f {
		j := strings.IndexByte(rest, ':')
		if j < 0 {
			return ARN{}, fmt.Errorf("%w %q: want 6 colon-separated fields", ErrMalformed, s)
		}
		f[i], rest = rest[:j], rest[j+1:]
	}
	a := ARN{Partition: f[0], Service: f[1], Region: f[2], AccountID: f[3], Resource: rest}
	if a.Partition == "" {
		return ARN{}, fmt.Errorf("%w %q: empty partition", ErrMalformed, s)
	}
	if a.Service == "" {
		return ARN{}, fmt.Errorf("%w %q: empty service", ErrMalformed, s)
	}
	return a, nil
}

// String builds the textual form of a.
func (a ARN) String() string {
	return "arn:" + a.Partition + ":" + a.Service + ":" + a.Region + ":" + a.AccountID + ":" + a.Resource
}

// Build returns the ARN text of the given fields.
func Build(partition, service, region, account, resource string) string {
	return ARN{partition, service, region, account, resource}.String()
}

// ResourceType returns the part of the resource field before the first `/`
// or `:` ("user", "role", "key", "assumed-role"), or "" when there is none.
func (a ARN) ResourceType() string {
	if i := strings.IndexAny(a.Resource, "/:"); i >= 0 {
		return a.Resource[:i]
	}
	return ""
}

// Account returns the account field of an ARN text without parsing the rest,
// or "" when s has fewer than five colons.
func Account(s string) string {
	start, n := 0, 0
	for i := 0; i < len(s); i++ {
		if s[i] == ':' {
			n++
			if n == 4 {
				start = i + 1
			} else if n == 5 {
				return s[start:i]
			}
		}
	}
	return ""
}

// IsAccountID reports whether s is a 12-digit AWS account id.
func IsAccountID(s string) bool {
	if len(s) != 12 {
		return false
	}
	for i := 0; i < 12; i++ {
		if s[i] < '0' || s[i] > '9' {
			return false
		}
	}
	return true
}

// HasWildcard reports whether pattern contains `*` or `?`.
func HasWildcard(pattern string) bool {
	return strings.ContainsAny(pattern, "*?")
}

// Match reports whether s matches pattern, where `*` matches any sequence of
// characters (including none, `/` and `:`) and `?` exactly one character.
// Matching is case-sensitive and byte-wise except that `?` consumes one UTF-8
// encoded character.
func Match(pattern, s string) bool { return match(pattern, s, false) }

// MatchFold is [Match] ignoring ASCII case, as IAM matches action names.
func MatchFold(pattern, s string) bool { return match(pattern, s, true) }

func lower(c byte) byte {
	if 'A' <= c && c <= 'Z' {
		return c + 'a' - 'A'
	}
	return c
}

// runeLen returns the length of the UTF-8 sequence starting s (at least 1).
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

// match is the classic iterative glob with single-star backtracking, which is
// linear in practice and never allocates.
func match(p, s string, fold bool) bool {
	pi, si := 0, 0
	starP, starS := -1, 0
	for si < len(s) {
		if pi < len(p) {
			switch c := p[pi]; {
			case c == '*':
				starP, starS = pi, si
				pi++
				continue
			case c == '?':
				pi++
				si += runeLen(s[si:])
				continue
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

// Like reports whether the ARN s matches pattern field by field, as the
// ArnLike and ArnEquals condition operators do: each of the six
// colon-delimited fields is matched separately with `*` and `?`, so a
// wildcard never spans a colon of the first five separators. The resource
// field (after the fifth colon) is matched as a whole.
func Like(pattern, s string) bool {
	for field := 0; field < 5; field++ {
		pi := strings.IndexByte(pattern, ':')
		si := strings.IndexByte(s, ':')
		if pi < 0 || si < 0 {
			return false
		}
		if !Match(pattern[:pi], s[:si]) {
			return false
		}
		pattern, s = pattern[pi+1:], s[si+1:]
	}
	return Match(pattern, s)
}
