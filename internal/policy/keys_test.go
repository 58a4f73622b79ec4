package policy

import (
	"slices"
	"testing"
)

func TestContextKeys(t *testing.T) {
	p := MustParse(`{"Version":"2012-10-17","Statement":[
		{"Effect":"Allow","Action":"iam:*AccessKey*","Resource":"arn:aws:iam::*:user/${aws:username}",
		 "Condition":{"Bool":{"aws:MultiFactorAuthPresent":"true"},"StringEquals":{"aws:RequestedRegion":"${aws:PrincipalTag/region}"}}},
		{"Effect":"Deny","NotAction":"s3:*","Resource":"*","Condition":{"IpAddress":{"aws:SourceIp":"10.0.0.0/8"},"Null":{"AWS:MultiFactorAuthPresent":"true"}}}]}`, KindManaged)
	want := []string{"aws:MultiFactorAuthPresent", "aws:RequestedRegion", "aws:username", "aws:principaltag/region", "aws:SourceIp"}
	if got := p.ContextKeys(); !slices.Equal(got, want) {
		t.Fatalf("ContextKeys = %v, want %v", got, want)
	}
	s := p.Statements()
	if got := s[1].ConditionKeys(); !slices.Equal(got, []string{"aws:SourceIp", "AWS:MultiFactorAuthPresent"}) {
		t.Fatalf("ConditionKeys = %v", got)
	}
	for _, tc := range []struct {
		stmt   int
		action string
		want   bool
	}{{0, "iam:CreateAccessKey", true}, {0, "IAM:listaccesskeys", true}, {0, "iam:ListUsers", false}, {1, "s3:GetObject", false}, {1, "iam:ListUsers", true}} {
		if got := s[tc.stmt].AppliesTo(tc.action); got != tc.want {
			t.Errorf("statement %d AppliesTo(%s) = %v", tc.stmt, tc.action, got)
		}
	}
}
