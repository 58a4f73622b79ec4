package policy

import "testing"

func TestLint(t *testing.T) {
	p := MustParse(`{"Statement":[
		{"Effect":"Allow","Action":["s3:GetObject","s3:GetObjectt","foo:Bar","ec2:RunInstances","*","kms:Encrypt*"],"Resource":"*"},
		{"Effect":"Allow","Action":"s3:GetObject","Resource":"*"},
		{"Effect":"Allow","Action":"iam:PassRole","Resource":"*"},
		{"Effect":"Allow","Action":"iam:PassRole","Resource":"*"},
		{"Effect":"Deny","NotAction":"iam:Nope","Resource":"*"}]}`, KindManaged)
	got := map[string][]string{}
	for _, f := range Lint(p) {
		got[f.IssueCode] = append(got[f.IssueCode], f.Path)
	}
	want := map[string][]string{
		"MISSING_VERSION":                 {"Version"},
		"INVALID_ACTION":                  {"Statement[0].Action[1]", "Statement[4].NotAction[0]"},
		"INVALID_SERVICE_IN_ACTION":       {"Statement[0].Action[2]"},
		"REDUNDANT_STATEMENT":             {"Statement[1]", "Statement[2]", "Statement[3]"},
		"PASS_ROLE_WITH_STAR_IN_RESOURCE": {"Statement[0]", "Statement[2]", "Statement[3]"},
	}
	for code, paths := range want {
		if len(got[code]) != len(paths) {
			t.Errorf("%s: got %v, want %v", code, got[code], paths)
			continue
		}
		for i := range paths {
			if got[code][i] != paths[i] {
				t.Errorf("%s: got %v, want %v", code, got[code], paths)
			}
		}
	}
	if len(got) != len(want) {
		t.Errorf("codes %v", got)
	}
	old := MustParse(`{"Version":"2008-10-17","Statement":[{"Effect":"Allow","Action":"sts:GetCallerIdentity","Resource":"*","Condition":{"Bool":{"aws:SecureTransport":"true"}}},
		{"Effect":"Allow","Action":"sts:GetCallerIdentity","Resource":"*"}]}`, KindManaged)
	if f := Lint(old); len(f) != 1 || f[0].IssueCode != "OBSOLETE_VERSION" {
		t.Errorf("%+v", f)
	}
	// A wildcard in a service prefix (which only resource-based policies
	// accept) is not checked against the service tables.
	res := MustParse(`{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":"*","Action":["s3:GetObject","s*:Get"],"Resource":"*"},{"Effect":"Allow","Principal":"*","Action":"s3:GetObject","Resource":"*"}]}`, KindResource)
	if f := Lint(res); len(f) != 0 {
		t.Errorf("%+v", f)
	}
}
