package authz

import (
	"context"
	"errors"
	"math/rand/v2"
	"testing"
	"time"

	"github.com/rampart/rampart/internal/policy"
)

// TestAuthorizeReusesNothing runs random requests, in random order, through
// Authorize (whose condition context is reused from request to request) and
// through Decide (a fresh context each time), and requires the same
// decision and message. The policies test keys that only some requests
// carry (principal and resource tags, session keys, operation keys, the
// source IP), with IfExists and Null, so a key left over from an earlier
// request would change a decision.
func TestAuthorizeReusesNothing(t *testing.T) {
	doc := `{"Version":"2012-10-17","Statement":[
	 {"Effect":"Allow","Action":"kms:Decrypt","Resource":"*","Condition":{"StringEquals":{"aws:PrincipalTag/team":"blue"}}},
	 {"Effect":"Allow","Action":"kms:Encrypt","Resource":"*","Condition":{"StringEqualsIfExists":{"aws:ResourceTag/team":"blue"}}},
	 {"Effect":"Allow","Action":"kms:Sign","Resource":"*","Condition":{"Null":{"aws:MultiFactorAuthPresent":"true","kms:EncryptionContext:app":"true"}}},
	 {"Effect":"Allow","Action":"kms:Verify","Resource":"*","Condition":{"ForAnyValue:StringEquals":{"kms:EncryptionContextKeys":"app"}}},
	 {"Effect":"Deny","Action":"kms:*","Resource":"*","Condition":{"IpAddress":{"aws:SourceIp":"10.0.0.0/8"}}},
	 {"Effect":"Allow","Action":"iam:GetUser","Resource":"arn:aws:iam::111111111111:user/${aws:PrincipalTag/name}"}]}`
	p := pol(t, policy.KindManaged, doc)
	alice, bob := user("alice"), user("bob")
	carol := user("carol")
	carol.Session = &Session{MFAAuthenticated: true, IssuedAt: time.Unix(1000, 0), Tags: map[string]string{"team": "blue", "name": "carol"}}
	ids := fixedIdentities{
		alice.ARN: {Identity: []*policy.Policy{p}, Tags: map[string]string{"team": "blue", "name": "bob"}},
		bob.ARN:   {Identity: []*policy.Policy{p}},
		carol.ARN: {Identity: []*policy.Policy{p}},
	}
	a := New(ids, nil)
	principals := []*Principal{alice, bob, carol}
	actions := []string{"kms:Decrypt", "kms:Encrypt", "kms:Sign", "kms:Verify", "iam:GetUser"}
	resources := []*Resource{nil,
		{ARN: "arn:aws:kms:us-east-1:111111111111:key/k", Account: "111111111111", Tags: map[string]string{"team": "blue"}},
		{ARN: "arn:aws:kms:us-east-1:111111111111:key/k2", Account: "111111111111", Tags: map[string]string{"Team": "red"}}}
	keys := []map[string][]string{nil, {"kms:EncryptionContextKeys": {"app"}, "kms:EncryptionContext:app": {"x"}}, {"kms:encryptioncontextkeys": {"other"}}}
	ips := []string{"", "10.1.1.1", "192.168.1.1"}
	r := rand.New(rand.NewPCG(7, 8))
	ctx := context.Background()
	seen := map[bool]int{}
	for i := range 3000 {
		req := &Request{Principal: principals[r.IntN(len(principals))], Action: actions[r.IntN(len(actions))],
			Resource: resources[r.IntN(len(resources))], Keys: keys[r.IntN(len(keys))], SourceIP: ips[r.IntN(len(ips))],
			Region: "us-east-1", Time: time.Unix(2000, 0)}
		if req.Action == "iam:GetUser" {
			req.Resource = nil
			req.Resources = []string{"arn:aws:iam::111111111111:user/" + []string{"bob", "carol"}[r.IntN(2)]}
		}
		d, preq, err := a.Decide(ctx, req)
		if err != nil {
			t.Fatal(err)
		}
		got := a.Authorize(ctx, req)
		var denied *Denied
		switch {
		case d.Allowed() && got != nil:
			t.Fatalf("request %d (%s by %s): Authorize refused what Decide allows: %v", i, req.Action, req.Principal.Name, got)
		case !d.Allowed() && (!errors.As(got, &denied) || denied.Message != d.Message(preq)):
			t.Fatalf("request %d (%s by %s): Authorize = %v, Decide denies with %q", i, req.Action, req.Principal.Name, got, d.Message(preq))
		}
		seen[d.Allowed()]++
	}
	if seen[true] == 0 || seen[false] == 0 {
		t.Fatalf("degenerate: %v", seen)
	}
}
