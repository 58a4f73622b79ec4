package policy

import (
	"strings"
	"testing"
)

// TestEvaluationEdges: behaviours at the edges of the language that the
// corpus does not reach — policy variables in every position and operator,
// NotPrincipal "*", actions too long for the action index, and a policy
// without principals in the resource-policy position.
func TestEvaluationEdges(t *testing.T) {
	ctx := NewContext(4)
	ctx.Set("aws:username", "alice")
	ctx.Set("aws:PrincipalTag/acct", "123456789012")
	ctx.Set("aws:PrincipalTag/star", "*")
	ctx.Set("aws:PrincipalTag/team", "Blue")
	ctx.Set("aws:PrincipalArn", "arn:aws:iam::123456789012:role/x")
	ctx.Set("aws:PrincipalTag/label", "alice-team")
	long := "s3:" + strings.Repeat("GetObject", 20) // longer than the index's buffer
	doc := func(stmt string) string { return `{"Version":"2012-10-17","Statement":[` + stmt + `]}` }
	tests := map[string]struct {
		kind   Kind
		doc    string
		action string
		res    string
		want   Result
	}{
		// Plain StringEquals substitutes variables into literal text.
		"StringEquals with a variable and text": {KindManaged, doc(`{"Effect":"Allow","Action":"s3:GetObject","Resource":"*","Condition":{"StringEquals":{"aws:PrincipalTag/label":"${aws:username}-team"}}}`), "s3:GetObject", "*", Allow},
		"StringEquals text differs":             {KindManaged, doc(`{"Effect":"Allow","Action":"s3:GetObject","Resource":"*","Condition":{"StringEquals":{"aws:PrincipalTag/label":"${aws:username}-teams"}}}`), "s3:GetObject", "*", ImplicitDeny},
		// StringEqualsIgnoreCase with a variable folds ASCII case.
		"IgnoreCase with a variable":      {KindManaged, doc(`{"Effect":"Allow","Action":"s3:GetObject","Resource":"*","Condition":{"StringEqualsIgnoreCase":{"aws:PrincipalTag/team":"${aws:username}"}}}`), "s3:GetObject", "*", ImplicitDeny},
		"IgnoreCase ASCII fold":           {KindManaged, doc(`{"Effect":"Allow","Action":"s3:GetObject","Resource":"*","Condition":{"StringEqualsIgnoreCase":{"aws:PrincipalTag/team":"${aws:PrincipalTag/team, 'x'}"}}}`), "s3:GetObject", "*", Allow},
		"IgnoreCase same length, differs": {KindManaged, doc(`{"Effect":"Allow","Action":"s3:GetObject","Resource":"*","Condition":{"StringEqualsIgnoreCase":{"aws:PrincipalTag/team":"${aws:nope, 'BLUX'}"}}}`), "s3:GetObject", "*", ImplicitDeny},
		"IgnoreCase default folds":        {KindManaged, doc(`{"Effect":"Allow","Action":"s3:GetObject","Resource":"*","Condition":{"StringEqualsIgnoreCase":{"aws:PrincipalTag/team":"${aws:nope, 'BLUE'}"}}}`), "s3:GetObject", "*", Allow},
		// A trailing "*" after a variable matches the empty rest.
		"variable then trailing star": {KindManaged, doc(`{"Effect":"Allow","Action":"s3:GetObject","Resource":"arn:aws:s3:::b/${aws:username}**"}`), "s3:GetObject", "arn:aws:s3:::b/alice", Allow},
		// ArnLike with variables: a value's "*" is literal, also before
		// the fifth colon, where fields are matched one by one.
		"ArnLike variable in the account field": {KindManaged, doc(`{"Effect":"Allow","Action":"s3:GetObject","Resource":"*","Condition":{"ArnLike":{"aws:PrincipalArn":"arn:aws:iam::${aws:PrincipalTag/acct}:role/*"}}}`), "s3:GetObject", "*", Allow},
		"ArnLike variable value * is literal":   {KindManaged, doc(`{"Effect":"Allow","Action":"s3:GetObject","Resource":"*","Condition":{"ArnLike":{"aws:PrincipalArn":"arn:aws:iam::${aws:PrincipalTag/star}:role/*"}}}`), "s3:GetObject", "*", ImplicitDeny},
		// NotPrincipal "*" excludes everyone: the Deny applies to no one.
		"NotPrincipal * denies no one": {KindResource, doc(`{"Effect":"Allow","Principal":"*","Action":"s3:*","Resource":"*"},{"Effect":"Deny","NotPrincipal":"*","Action":"s3:*","Resource":"*"}`), "s3:GetObject", "arn:aws:s3:::b/k", Allow},
		// Actions longer than the index's buffer are matched against every
		// statement, in order.
		"long action allowed":   {KindManaged, doc(`{"Effect":"Allow","Action":"s3:GetObjectGet*","Resource":"*"}`), long, "*", Allow},
		"long action denied":    {KindManaged, doc(`{"Effect":"Allow","Action":"*","Resource":"*"},{"Effect":"Deny","Action":"s3:Get*","Resource":"*"}`), long, "*", ExplicitDeny},
		"long action unmatched": {KindManaged, doc(`{"Effect":"Allow","Action":"s3:Put*","Resource":"*"}`), long, "*", ImplicitDeny},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			p := rp(t, tc.doc, tc.kind)
			in := &Input{Identity: []*Policy{p}}
			if tc.kind == KindResource {
				in = &Input{Resource: p}
			}
			req := &Request{Principal: user("alice"), Action: tc.action, Resource: tc.res, ResourceAccount: acct, Context: ctx}
			if d := Evaluate(req, in); d.Result != tc.want {
				t.Fatalf("got %v (%v), want %v", d.Result, d.Type, tc.want)
			}
		})
	}

	// An identity-based policy handed over as the resource policy names no
	// principal, so it grants and denies nothing there.
	p := rp(t, doc(`{"Effect":"Allow","Action":"*","Resource":"*"},{"Effect":"Deny","Action":"s3:*","Resource":"*"}`), KindManaged)
	req := &Request{Principal: user("alice"), Action: "s3:GetObject", Resource: "arn:aws:s3:::b/k", ResourceAccount: acct, Context: ctx}
	if d := Evaluate(req, &Input{Resource: p}); d.Result != ImplicitDeny || d.Type != TypeIdentity {
		t.Fatalf("principal-less resource policy: %v (%v)", d.Result, d.Type)
	}
}
