package authz

import (
	"context"
	"errors"
	"testing"

	"github.com/rampart/rampart/internal/policy"
)

// TestAuthorizeFederated: the trust policy's Federated entries decide, the
// request's keys reach its conditions, RCPs of the role's account deny, and
// a Service entry spelling the provider's name does not let it in.
func TestAuthorizeFederated(t *testing.T) {
	const (
		acct = "111111111111"
		oidc = "arn:aws:iam::" + acct + ":oidc-provider/issuer.example.com"
		saml = "arn:aws:iam::" + acct + ":saml-provider/Okta"
	)
	role := func(trust string) *Resource {
		return &Resource{ARN: "arn:aws:iam::" + acct + ":role/r", Account: acct, PolicyKind: "trust", Policy: []byte(trust)}
	}
	webTrust := role(`{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":{"Federated":"` + oidc + `"},"Action":"sts:AssumeRoleWithWebIdentity",
		"Condition":{"StringEquals":{"issuer.example.com:aud":"app"}}}]}`)
	samlTrust := role(`{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":{"Federated":"` + saml + `"},"Action":"sts:AssumeRoleWithSAML"}]}`)
	lookalike := role(`{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":{"Service":"` + oidc + `"},"Action":"sts:AssumeRoleWithWebIdentity"}]}`)
	rcp := pol(t, policy.KindRCP, `{"Version":"2012-10-17","Statement":[{"Effect":"Deny","Principal":"*","Action":"sts:AssumeRoleWithWebIdentity","Resource":"*"}]}`)
	guard := fixedGuardrails{"222222222222": {RCPs: [][]*policy.Policy{{rcp}}}}
	rcpRole := role(string(webTrust.Policy))
	rcpRole.Account, rcpRole.ARN = "222222222222", "arn:aws:iam::222222222222:role/r"

	aud := map[string][]string{"issuer.example.com:aud": {"app"}}
	cases := map[string]struct {
		res      *Resource
		action   string
		provider string
		keys     map[string][]string
		allowed  bool
	}{
		"web identity trusted":          {webTrust, "sts:AssumeRoleWithWebIdentity", oidc, aud, true},
		"audience not trusted":          {webTrust, "sts:AssumeRoleWithWebIdentity", oidc, map[string][]string{"issuer.example.com:aud": {"other"}}, false},
		"another provider":              {webTrust, "sts:AssumeRoleWithWebIdentity", "accounts.google.com", aud, false},
		"SAML trusted":                  {samlTrust, "sts:AssumeRoleWithSAML", saml, nil, true},
		"SAML trust, web identity call": {samlTrust, "sts:AssumeRoleWithWebIdentity", saml, nil, false},
		"Service entry is no Federated": {lookalike, "sts:AssumeRoleWithWebIdentity", oidc, nil, false},
		"RCP of the role's account":     {rcpRole, "sts:AssumeRoleWithWebIdentity", oidc, aud, false},
		"no provider":                   {webTrust, "sts:AssumeRoleWithWebIdentity", "", aud, false},
		"not a trust policy":            {&Resource{ARN: webTrust.ARN, Account: acct, PolicyKind: "resource", Policy: webTrust.Policy}, "sts:AssumeRoleWithWebIdentity", oidc, aud, false},
		"no resource":                   {nil, "sts:AssumeRoleWithWebIdentity", oidc, aud, false},
	}
	a := New(nil, guard)
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			r := &Request{Action: tc.action, Resource: tc.res, Keys: tc.keys}
			for _, decide := range []func() error{
				func() error { return a.AuthorizeFederated(context.Background(), r, tc.provider) },
				func() error { return AuthorizeFederated(context.Background(), guard, r, tc.provider) },
			} {
				err := decide()
				if tc.allowed {
					if err != nil {
						t.Fatalf("denied: %v", err)
					}
					continue
				}
				var d *Denied
				if !errors.As(err, &d) || d.Message != "Not authorized to perform "+tc.action {
					t.Fatalf("err = %v, want STS's denial", err)
				}
			}
		})
	}

	// A stored trust policy that no longer parses is an error, not a denial.
	broken := &Request{Action: "sts:AssumeRoleWithWebIdentity", Resource: role(`{"Statement":`)}
	for _, err := range []error{
		a.AuthorizeFederated(context.Background(), broken, oidc),
		AuthorizeFederated(context.Background(), nil, broken, oidc),
	} {
		var d *Denied
		if err == nil || errors.As(err, &d) || !errors.Is(err, policy.ErrMalformed) {
			t.Fatalf("broken trust policy: %v", err)
		}
	}
}
