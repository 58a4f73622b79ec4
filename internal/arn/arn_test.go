package arn

import (
	"errors"
	"testing"
)

func TestParse(t *testing.T) {
	a, err := Parse("arn:aws:iam::111111111111:user/dev/alice")
	if err != nil || a.Partition != "aws" || a.Service != "iam" || a.Region != "" || a.AccountID != "111111111111" ||
		a.Resource != "user/dev/alice" || a.ResourceType() != "user" {
		t.Fatalf("%+v %v", a, err)
	}
	if a.String() != "arn:aws:iam::111111111111:user/dev/alice" {
		t.Fatal(a.String())
	}
	if Build("aws", "s3", "", "", "b/k") != "arn:aws:s3:::b/k" {
		t.Fatal("Build")
	}
	k, _ := Parse("arn:aws:secretsmanager:us-east-1:111111111111:secret:db:pw")
	if k.Resource != "secret:db:pw" || k.ResourceType() != "secret" {
		t.Fatal(k)
	}
	if (ARN{Resource: "bucket"}).ResourceType() != "" {
		t.Fatal("type")
	}
	for _, s := range []string{"", "arn", "aws:iam::1:user/x", "arn:aws:iam::1", "arn::iam::1:x", "arn:aws:::1:x"} {
		if _, err := Parse(s); !errors.Is(err, ErrMalformed) {
			t.Errorf("Parse(%q) = %v", s, err)
		}
	}
}

func TestAccount(t *testing.T) {
	tests := map[string]string{
		"arn:aws:kms:us-east-1:111111111111:key/k": "111111111111",
		"arn:aws:s3:::b/k":                         "",
		"arn:aws:s3":                               "",
		"*":                                        "",
	}
	for s, want := range tests {
		if got := Account(s); got != want {
			t.Errorf("Account(%q) = %q", s, got)
		}
	}
	if !IsAccountID("111111111111") || IsAccountID("11111111111a") || IsAccountID("1") {
		t.Fatal("IsAccountID")
	}
	if !HasWildcard("a*") || !HasWildcard("a?") || HasWildcard("a") {
		t.Fatal("HasWildcard")
	}
}

func TestMatch(t *testing.T) {
	tests := []struct {
		p, s string
		want bool
	}{
		{"*", "", true},
		{"*", "arn:aws:s3:::b/k", true},
		{"arn:aws:s3:::b/*", "arn:aws:s3:::b/k/l", true},
		{"arn:aws:s3:::b/*", "arn:aws:s3:::b", false},
		{"arn:aws:s3:::b?", "arn:aws:s3:::bé", true},
		{"arn:aws:s3:::b?", "arn:aws:s3:::b", false},
		{"a*b*c", "aXbYbZc", true},
		{"a*b*c", "aXbYbZ", false},
		{"arn:aws:S3:::b", "arn:aws:s3:::b", false},
		{"*:::::-old", "arn:aws:s3:::x-old", false},
		{"**", "x", true},
		// "?" is one character, whatever its UTF-8 length; a byte that
		// starts no valid sequence is one character too.
		{"b?c", "b€c", true},
		{"b?c", "b😀c", true},
		{"b??c", "b😀c", false},
		{"b?\x82c", "b\xe2\x82c", true},
		{"b?c", "b\xf0\x9fc", false},
		{"b??c", "b\xe2\x28c", true},
		{"b?(c", "b\xe2(c", true},
	}
	for _, tc := range tests {
		if got := Match(tc.p, tc.s); got != tc.want {
			t.Errorf("Match(%q, %q) = %v", tc.p, tc.s, got)
		}
	}
	if !MatchFold("s3:get*", "S3:GetObject") || MatchFold("s3:put*", "s3:GetObject") {
		t.Fatal("MatchFold")
	}
}

func TestLike(t *testing.T) {
	tests := []struct {
		p, s string
		want bool
	}{
		{"arn:aws:iam::*:role/*", "arn:aws:iam::111111111111:role/a/b", true},
		{"arn:aws:sns:*", "arn:aws:sns:us-east-1:111111111111:t", false},
		{"arn:*:*:*:*:*", "arn:aws:sns:us-east-1:111111111111:t:x", true},
		{"arn:aws:iam::111111111111:user/*", "arn:aws:iam::111111111111:role/x", false},
		{"arn:aws:iam::1?1111111111:*", "arn:aws:iam::111111111111:x", true},
		{"arn:aws:iam::111111111111:x", "arn:aws:iam", false},
		{"arn:aws:sqs:*:*:*", "arn:aws:sns:us-east-1:111111111111:t", false},
	}
	for _, tc := range tests {
		if got := Like(tc.p, tc.s); got != tc.want {
			t.Errorf("Like(%q, %q) = %v", tc.p, tc.s, got)
		}
	}
}

func FuzzMatch(f *testing.F) {
	f.Add("arn:aws:s3:::b/*", "arn:aws:s3:::b/k")
	f.Add("a?*", "aé")
	f.Fuzz(func(t *testing.T, p, s string) {
		m := Match(p, s)
		if p == s && !m {
			t.Fatalf("Match(%q, %q) = false for equal strings", p, s)
		}
		if !HasWildcard(p) && m != (p == s) {
			t.Fatalf("Match(%q, %q) = %v without wildcards", p, s, m)
		}
		if m && !MatchFold(p, s) {
			t.Fatal("MatchFold weaker than Match")
		}
		Like(p, s)
		if a, err := Parse(s); err == nil && a.String() != s {
			t.Fatalf("round trip %q", s)
		}
	})
}
