package authz

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/rampart/rampart/internal/policy"
)

type fixedIdentities map[string]*PrincipalPolicies

func (f fixedIdentities) PrincipalPolicies(_ context.Context, p *Principal) (*PrincipalPolicies, error) {
	if pp, ok := f[p.ARN]; ok {
		return pp, nil
	}
	return &PrincipalPolicies{}, nil
}

type fixedGuardrails map[string]*OrgPolicies

func (f fixedGuardrails) OrgPolicies(_ context.Context, acct string) (*OrgPolicies, error) {
	return f[acct], nil
}

func pol(t testing.TB, kind policy.Kind, doc string) *policy.Policy {
	t.Helper()
	p, err := policy.Parse([]byte(doc), kind)
	if err != nil {
		t.Fatal(err)
	}
	return p
}

func user(name string) *Principal {
	return &Principal{Type: IAMUser, Account: "111111111111", ARN: "arn:aws:iam::111111111111:user/" + name, ID: "AIDA" + strings.ToUpper(name), Name: name}
}

func TestAuthorize(t *testing.T) {
	selfKeys := pol(t, policy.KindManaged, `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"iam:*AccessKey*","Resource":"arn:aws:iam::*:user/${aws:username}"}]}`)
	tagged := pol(t, policy.KindManaged, `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"kms:Decrypt","Resource":"*","Condition":{"StringEquals":{"aws:ResourceTag/team":"${aws:PrincipalTag/team}"},"Bool":{"aws:SecureTransport":"true"},"IpAddress":{"aws:SourceIp":"10.0.0.0/8"}}}]}`)
	denyAll := pol(t, policy.KindSCP, `{"Version":"2012-10-17","Statement":[{"Effect":"Deny","Action":"kms:*","Resource":"*"}]}`)
	fullAccess := pol(t, policy.KindSCP, `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"*","Resource":"*"}]}`)
	sessionPol := pol(t, policy.KindSession, `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"iam:ListAccessKeys","Resource":"*"}]}`)
	ids := fixedIdentities{
		user("alice").ARN: {Identity: []*policy.Policy{selfKeys, tagged}, Tags: map[string]string{"team": "blue"}},
		user("bob").ARN:   {Identity: []*policy.Policy{selfKeys}},
	}
	now := time.Date(2025, 1, 1, 0, 0, 0, 0, time.UTC)
	keyRes := &Resource{ARN: "arn:aws:kms:us-east-1:111111111111:key/k", Account: "111111111111", Tags: map[string]string{"team": "blue"}}
	otherRes := &Resource{ARN: "arn:aws:kms:us-east-1:111111111111:key/k2", Account: "111111111111", Tags: map[string]string{"team": "red"}}
	aliceSession := user("alice")
	aliceSession.Session = &Session{Policies: []*policy.Policy{sessionPol}}

	cases := map[string]struct {
		a       *Authorizer
		req     Request
		allowed bool
		reason  string
	}{
		"own keys": {New(ids, nil), Request{Principal: user("alice"), Action: "iam:ListAccessKeys", Resources: []string{"arn:aws:iam::111111111111:user/alice"}}, true, ""},
		"other's keys": {New(ids, nil), Request{Principal: user("alice"), Action: "iam:ListAccessKeys", Resources: []string{"arn:aws:iam::111111111111:user/bob"}}, false,
			"User: arn:aws:iam::111111111111:user/alice is not authorized to perform: iam:ListAccessKeys on resource: arn:aws:iam::111111111111:user/bob because no identity-based policy allows the iam:ListAccessKeys action"},
		"every resource must be allowed":     {New(ids, nil), Request{Principal: user("bob"), Action: "iam:DeleteAccessKey", Resources: []string{"arn:aws:iam::111111111111:user/bob", "arn:aws:iam::111111111111:user/alice"}}, false, "user/alice because"},
		"principal tag matches resource tag": {New(ids, nil), Request{Principal: user("alice"), Action: "kms:Decrypt", Resource: keyRes, SourceIP: "10.1.2.3", Secure: true, Time: now}, true, ""},
		"resource tag differs":               {New(ids, nil), Request{Principal: user("alice"), Action: "kms:Decrypt", Resource: otherRes, SourceIP: "10.1.2.3", Secure: true, Time: now}, false, "no identity-based policy"},
		"not over TLS":                       {New(ids, nil), Request{Principal: user("alice"), Action: "kms:Decrypt", Resource: keyRes, SourceIP: "10.1.2.3", Time: now}, false, ""},
		"outside the network":                {New(ids, nil), Request{Principal: user("alice"), Action: "kms:Decrypt", Resource: keyRes, SourceIP: "192.0.2.1", Secure: true, Time: now}, false, ""},
		"root is not limited":                {New(ids, nil), Request{Principal: &Principal{Type: Root, Account: "111111111111", ARN: "arn:aws:iam::111111111111:root", ID: "111111111111"}, Action: "iam:CreateUser"}, true, ""},
		"root of a member account under an SCP": {New(ids, fixedGuardrails{"111111111111": {OrgID: "o-1", SCPs: [][]*policy.Policy{{fullAccess, denyAll}}}}),
			Request{Principal: &Principal{Type: Root, Account: "111111111111", ARN: "arn:aws:iam::111111111111:root", ID: "111111111111"}, Action: "kms:Decrypt", Resource: keyRes}, false, "with an explicit deny in a service control policy"},
		"management account ignores SCPs": {New(ids, fixedGuardrails{"111111111111": {OrgID: "o-1", Management: true, SCPs: [][]*policy.Policy{{denyAll}}}}),
			Request{Principal: &Principal{Type: Root, Account: "111111111111", ARN: "arn:aws:iam::111111111111:root", ID: "111111111111"}, Action: "kms:Decrypt", Resource: keyRes}, true, ""},
		"session policy limits":             {New(ids, nil), Request{Principal: aliceSession, Action: "iam:CreateAccessKey", Resources: []string{"arn:aws:iam::111111111111:user/alice"}}, false, "because no session policy allows"},
		"session policy and identity allow": {New(ids, nil), Request{Principal: aliceSession, Action: "iam:ListAccessKeys", Resources: []string{"arn:aws:iam::111111111111:user/alice"}}, true, ""},
		"anonymous":                         {New(ids, nil), Request{Action: "iam:ListUsers"}, false, "User: anonymous"},
		"key policy grants the user": {New(ids, nil), Request{Principal: user("bob"), Action: "kms:Encrypt", Resource: &Resource{ARN: keyRes.ARN, Account: "111111111111", PolicyKind: "key",
			Policy: []byte(`{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":{"AWS":"arn:aws:iam::111111111111:user/bob"},"Action":"kms:Encrypt","Resource":"*"}]}`)}}, true, ""},
		"key policy without the account": {New(ids, nil), Request{Principal: &Principal{Type: Root, Account: "111111111111", ARN: "arn:aws:iam::111111111111:root", ID: "111111111111"}, Action: "kms:Encrypt", Resource: &Resource{ARN: keyRes.ARN, Account: "111111111111", PolicyKind: "key",
			Policy: []byte(`{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":{"AWS":"arn:aws:iam::111111111111:user/bob"},"Action":"kms:Encrypt","Resource":"*"}]}`)}}, false, ""},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			err := tc.a.Authorize(context.Background(), &tc.req)
			if tc.allowed {
				if err != nil {
					t.Fatalf("denied: %v", err)
				}
				return
			}
			var d *Denied
			if !errors.As(err, &d) {
				t.Fatalf("want *Denied, got %v", err)
			}
			if !strings.Contains(d.Message, tc.reason) {
				t.Fatalf("message %q does not contain %q", d.Message, tc.reason)
			}
		})
	}
}

func TestContextKeys(t *testing.T) {
	p := user("alice")
	p.Session = &Session{MFAAuthenticated: true, MFAAuthTime: time.Unix(1000, 0), IssuedAt: time.Unix(1000, 0), SourceIdentity: "me", Tags: map[string]string{"team": "red"}}
	r := &Request{Principal: p, Action: "s3:GetObject", SourceIP: "10.0.0.1", UserAgent: "aws-cli", Region: "eu-west-1", Time: time.Unix(1060, 0),
		Keys: map[string][]string{"aws:TagKeys": {"a"}, "s3:prefix": {"x"}}}
	c := Context(r, &PrincipalPolicies{Tags: map[string]string{"team": "blue", "cost": "1"}})
	want := map[string]string{
		"aws:username": "alice", "aws:userid": "AIDAALICE", "aws:PrincipalArn": p.ARN, "aws:PrincipalAccount": "111111111111",
		"aws:PrincipalType": "User", "aws:PrincipalTag/team": "red", "aws:PrincipalTag/cost": "1", "aws:SourceIp": "10.0.0.1",
		"aws:SecureTransport": "false", "aws:CurrentTime": "1970-01-01T00:17:40Z", "aws:EpochTime": "1060",
		"aws:MultiFactorAuthPresent": "true", "aws:MultiFactorAuthAge": "60", "aws:TokenIssueTime": "1970-01-01T00:16:40Z",
		"aws:RequestedRegion": "eu-west-1", "aws:UserAgent": "aws-cli", "aws:SourceIdentity": "me", "s3:prefix": "x",
	}
	for k, v := range want {
		got, multi, ok := c.Get(k)
		if !ok || multi || got[0] != v {
			t.Errorf("%s = %v (multi %v, present %v), want %q", k, got, multi, ok, v)
		}
	}
	if got, multi, _ := c.Get("aws:TagKeys"); !multi || len(got) != 1 {
		t.Errorf("aws:TagKeys must be multivalued: %v", got)
	}
	// Long-term keys carry no MFA context at all.
	c = Context(&Request{Principal: user("bob"), Action: "s3:GetObject"}, nil)
	if _, _, ok := c.Get("aws:MultiFactorAuthPresent"); ok {
		t.Error("aws:MultiFactorAuthPresent set for a long-term key")
	}
}

// BenchmarkAuthorize is one authorization of an IAM user with ten attached
// policies of five statements each, the action allowed by the last.
func BenchmarkAuthorize(b *testing.B) {
	var ps []*policy.Policy
	for i := range 10 {
		var stmts []string
		for j := range 5 {
			stmts = append(stmts, fmt.Sprintf(`{"Effect":"Allow","Action":["svc%d:Get%d","svc%d:List*"],"Resource":"arn:aws:svc%d:*:*:thing/%d/*","Condition":{"StringEquals":{"aws:PrincipalTag/team":"blue"}}}`, i, j, i, i, j))
		}
		if i == 9 {
			stmts = append(stmts, `{"Effect":"Allow","Action":"iam:ListAccessKeys","Resource":"arn:aws:iam::*:user/${aws:username}"}`)
		}
		ps = append(ps, pol(b, policy.KindManaged, `{"Version":"2012-10-17","Statement":[`+strings.Join(stmts, ",")+`]}`))
	}
	a := New(fixedIdentities{user("alice").ARN: {Identity: ps, Tags: map[string]string{"team": "blue"}}}, nil)
	req := &Request{Principal: user("alice"), Action: "iam:ListAccessKeys", Resources: []string{"arn:aws:iam::111111111111:user/alice"},
		SourceIP: "127.0.0.1", UserAgent: "aws-sdk-go-v2/1.0", Region: "us-east-1", Time: time.Now()}
	ctx := context.Background()
	if err := a.Authorize(ctx, req); err != nil {
		b.Fatal(err)
	}
	b.ReportAllocs()
	for b.Loop() {
		if err := a.Authorize(ctx, req); err != nil {
			b.Fatal(err)
		}
	}
}
