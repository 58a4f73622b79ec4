package policy

import (
	"strings"
	"testing"
)

// TestFederatedProviders: web identities and SAML subjects are let in by a
// trust policy's "Federated" entries (or "*") alone, and by nothing that
// names another kind of principal; RCPs of the role's account still deny,
// SCPs do not apply.
func TestFederatedProviders(t *testing.T) {
	const (
		oidc  = "arn:aws:iam::" + acct + ":oidc-provider/token.actions.githubusercontent.com"
		saml  = "arn:aws:iam::" + acct + ":saml-provider/Okta"
		role  = "arn:aws:iam::" + acct + ":role/deployer"
		webID = "sts:AssumeRoleWithWebIdentity"
		samlA = "sts:AssumeRoleWithSAML"
	)
	web := func(p string) Principal { return Principal{Type: PrincipalWebIdentity, Provider: p} }
	sub := func(p string) Principal { return Principal{Type: PrincipalSAML, Provider: p} }
	trust := func(stmts string) *Policy {
		return rp(t, `{"Version":"2012-10-17","Statement":[`+stmts+`]}`, KindTrust)
	}
	github := trust(`{"Effect":"Allow","Principal":{"Federated":"` + oidc + `"},"Action":"sts:AssumeRoleWithWebIdentity",
		"Condition":{"StringEquals":{"token.actions.githubusercontent.com:aud":"sts.amazonaws.com"},
		"StringLike":{"token.actions.githubusercontent.com:sub":"repo:acme/*"}}}`)
	okta := trust(`{"Effect":"Allow","Principal":{"Federated":["` + saml + `","accounts.google.com"]},"Action":["sts:AssumeRoleWithSAML","sts:AssumeRoleWithWebIdentity"]}`)
	anyone := trust(`{"Effect":"Allow","Principal":"*","Action":"sts:AssumeRoleWithWebIdentity"}`)
	// Entries of other principal kinds that spell the provider's name must
	// not let it in (the old workaround read Federated as Service).
	lookalikes := trust(`{"Effect":"Allow","Principal":{"Service":["accounts.google.com","` + oidc + `"],"AWS":"arn:aws:iam::` + acct + `:root"},"Action":"sts:AssumeRoleWithWebIdentity"}`)
	denied := trust(`{"Effect":"Allow","Principal":"*","Action":"sts:*"},{"Effect":"Deny","Principal":{"Federated":"accounts.google.com"},"Action":"sts:*"}`)
	notPrincipal := trust(`{"Effect":"Allow","Principal":"*","Action":"sts:*"},{"Effect":"Deny","NotPrincipal":{"Federated":"` + oidc + `"},"Action":"sts:*"}`)

	ghKeys := func(aud, subj string) *Context {
		c := NewContext(2)
		c.Set("token.actions.githubusercontent.com:aud", aud)
		c.Set("token.actions.githubusercontent.com:sub", subj)
		return c
	}
	tests := map[string]struct {
		p     Principal
		act   string
		trust *Policy
		ctx   *Context
		want  Result
		typ   PolicyType
	}{
		"provider and conditions match":    {web(oidc), webID, github, ghKeys("sts.amazonaws.com", "repo:acme/app:ref:refs/heads/main"), Allow, TypeResource},
		"condition on sub not met":         {web(oidc), webID, github, ghKeys("sts.amazonaws.com", "repo:evil/app"), ImplicitDeny, TypeResource},
		"condition keys absent":            {web(oidc), webID, github, nil, ImplicitDeny, TypeResource},
		"another provider":                 {web("arn:aws:iam::" + acct + ":oidc-provider/gitlab.com"), webID, github, ghKeys("sts.amazonaws.com", "repo:acme/app"), ImplicitDeny, TypeResource},
		"action not trusted":               {web(oidc), "sts:AssumeRole", github, ghKeys("sts.amazonaws.com", "repo:acme/app"), ImplicitDeny, TypeResource},
		"SAML provider":                    {sub(saml), samlA, okta, nil, Allow, TypeResource},
		"provider name in a list":          {web("accounts.google.com"), webID, okta, nil, Allow, TypeResource},
		"provider names compare exactly":   {web("Accounts.Google.com"), webID, okta, nil, ImplicitDeny, TypeResource},
		"SAML caller of another provider":  {sub("arn:aws:iam::" + acct + ":saml-provider/Other"), samlA, okta, nil, ImplicitDeny, TypeResource},
		"Principal *":                      {web("graph.facebook.com"), webID, anyone, nil, Allow, TypeResource},
		"Service entry is not Federated":   {web("accounts.google.com"), webID, lookalikes, nil, ImplicitDeny, TypeResource},
		"Service entry with provider ARN":  {web(oidc), webID, lookalikes, nil, ImplicitDeny, TypeResource},
		"explicit deny of the provider":    {web("accounts.google.com"), webID, denied, nil, ExplicitDeny, TypeResource},
		"deny names another provider":      {web("www.amazon.com"), webID, denied, nil, Allow, TypeResource},
		"NotPrincipal lists the provider":  {web(oidc), webID, notPrincipal, nil, Allow, TypeResource},
		"NotPrincipal omits the provider":  {web("cognito-identity.amazonaws.com"), webID, notPrincipal, nil, ExplicitDeny, TypeResource},
		"no trust policy":                  {web(oidc), webID, nil, nil, ImplicitDeny, TypeResource},
		"Federated does not match service": {Principal{Type: PrincipalService, Service: "accounts.google.com"}, webID, okta, nil, ImplicitDeny, TypeResource},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			req := &Request{Principal: tc.p, Action: tc.act, Resource: role, ResourceAccount: acct, Context: tc.ctx}
			d := Evaluate(req, &Input{Resource: tc.trust})
			if d.Result != tc.want || d.Type != tc.typ {
				t.Fatalf("got %v (%v), want %v (%v)", d.Result, d.Type, tc.want, tc.typ)
			}
			if tc.want == Allow && (len(d.Statements()) != 1 || d.Statements()[0].Policy != tc.trust) {
				t.Fatalf("deciding statements %v", d.Statements())
			}
		})
	}

	// Guardrails: an RCP of the role's account denies a federated caller
	// (unless the role is in the management account); SCPs, which govern
	// IAM principals of member accounts, do not apply; identity policies
	// are not consulted.
	req := &Request{Principal: web(oidc), Action: webID, Resource: role, ResourceAccount: acct, Context: ghKeys("sts.amazonaws.com", "repo:acme/x")}
	rcp := rp(t, `{"Version":"2012-10-17","Statement":[{"Effect":"Deny","Principal":"*","Action":"sts:AssumeRoleWithWebIdentity","Resource":"*",
		"Condition":{"StringNotLike":{"token.actions.githubusercontent.com:sub":"repo:acme/prod*"}}}]}`, KindRCP)
	in := &Input{Resource: github, RCPs: [][]*Policy{{rcp}}}
	if d := Evaluate(req, in); d.Result != ExplicitDeny || d.Type != TypeRCP {
		t.Fatalf("RCP: %v %v", d.Result, d.Type)
	}
	in.ResourceInManagementAccount = true
	if d := Evaluate(req, in); d.Result != Allow {
		t.Fatalf("RCP in management account: %v %v", d.Result, d.Type)
	}
	scp := rp(t, `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"s3:*","Resource":"*"},{"Effect":"Deny","Action":"sts:*","Resource":"*"}]}`, KindSCP)
	in = &Input{Resource: github, SCPs: [][]*Policy{{scp}}, Identity: []*Policy{scp}}
	if d := Evaluate(req, in); d.Result != Allow {
		t.Fatalf("SCP or identity policy applied to a federated caller: %v %v", d.Result, d.Type)
	}

	// The denial names the provider.
	bad := &Request{Principal: web(oidc), Action: webID, Resource: role, ResourceAccount: acct}
	d := Evaluate(bad, &Input{Resource: github})
	want := "User: " + oidc + " is not authorized to perform: " + webID + " on resource: " + role +
		" because no resource-based policy allows the " + webID + " action"
	if m := d.Message(bad); m != want {
		t.Fatalf("message\n got %s\nwant %s", m, want)
	}
	samlReq := &Request{Principal: sub(saml), Action: "sts:AssumeRole", Resource: role}
	d = Evaluate(samlReq, &Input{Resource: okta})
	if m := d.Message(samlReq); !strings.HasPrefix(m, "User: "+saml+" is not authorized") {
		t.Fatal(m)
	}
}
