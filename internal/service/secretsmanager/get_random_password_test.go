package secretsmanager_test

import (
	"context"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	sm "github.com/aws/aws-sdk-go-v2/service/secretsmanager"
)

func TestGetRandomPassword(t *testing.T) {
	e := start(t)
	c := e.root()
	ctx := context.Background()
	const punct = "!\"#$%&'()*+,-./:;<=>?@[\\]^_`{|}~"
	has := func(s, set string) bool { return strings.ContainsAny(s, set) }
	cases := map[string]struct {
		in      sm.GetRandomPasswordInput
		length  int
		allowed string
		require []string
	}{
		"defaults": {sm.GetRandomPasswordInput{}, 32, lower + upper + digits + punct, []string{lower, upper, digits, punct}},
		"letters only": {sm.GetRandomPasswordInput{PasswordLength: aws.Int64(64), ExcludeNumbers: aws.Bool(true), ExcludePunctuation: aws.Bool(true)},
			64, lower + upper, []string{lower, upper}},
		"exclude characters": {sm.GetRandomPasswordInput{PasswordLength: aws.Int64(200), ExcludeCharacters: aws.String("abcABC0123!@")},
			200, strings.NewReplacer("a", "", "b", "", "c", "", "A", "", "B", "", "C", "", "0", "", "1", "", "2", "", "3", "", "!", "", "@", "").Replace(lower + upper + digits + punct), nil},
		"with space": {sm.GetRandomPasswordInput{PasswordLength: aws.Int64(300), IncludeSpace: aws.Bool(true), ExcludeUppercase: aws.Bool(true), ExcludeLowercase: aws.Bool(true)},
			300, digits + punct + " ", []string{digits, punct}},
		"one type not required": {sm.GetRandomPasswordInput{PasswordLength: aws.Int64(1), RequireEachIncludedType: aws.Bool(false)}, 1, lower + upper + digits + punct, nil},
		"max length":            {sm.GetRandomPasswordInput{PasswordLength: aws.Int64(4096)}, 4096, lower + upper + digits + punct, []string{lower, upper, digits, punct}},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			seen := map[string]bool{}
			for i := 0; i < 5; i++ {
				out := must[*sm.GetRandomPasswordOutput](t)(c.GetRandomPassword(ctx, &tc.in))
				pw := aws.ToString(out.RandomPassword)
				if len(pw) != tc.length {
					t.Fatalf("length %d, want %d", len(pw), tc.length)
				}
				for _, r := range pw {
					if !strings.ContainsRune(tc.allowed, r) {
						t.Fatalf("%q has %q, not allowed", pw, r)
					}
				}
				for _, set := range tc.require {
					if !has(pw, set) {
						t.Fatalf("%q has none of %q", pw, set)
					}
				}
				seen[pw] = true
			}
			if tc.length > 8 && len(seen) != 5 {
				t.Fatalf("passwords repeat: %v", seen)
			}
		})
	}
	_, err := c.GetRandomPassword(ctx, &sm.GetRandomPasswordInput{PasswordLength: aws.Int64(3)})
	wantErr(t, err, "InvalidParameterException", 400, "Password length is too short based on the required types.")
	_, err = c.GetRandomPassword(ctx, &sm.GetRandomPasswordInput{ExcludeLowercase: aws.Bool(true), ExcludeUppercase: aws.Bool(true), ExcludeNumbers: aws.Bool(true), ExcludePunctuation: aws.Bool(true)})
	wantErr(t, err, "InvalidParameterException", 400, "")
	_, err = c.GetRandomPassword(ctx, &sm.GetRandomPasswordInput{PasswordLength: aws.Int64(4097)})
	wantErr(t, err, "ValidationException", 400, "")
}

const (
	lower  = "abcdefghijklmnopqrstuvwxyz"
	upper  = "ABCDEFGHIJKLMNOPQRSTUVWXYZ"
	digits = "0123456789"
)
