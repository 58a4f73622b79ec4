package organizations_test

import (
	"context"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/organizations"
	"github.com/aws/aws-sdk-go-v2/service/organizations/types"

	"github.com/rampart/rampart/internal/policy"
)

// decide evaluates action by the root user of account under the guardrails
// of its organization (the identity side of a root user allows everything,
// so only SCPs decide).
func (e *env) decide(t *testing.T, account, action string) policy.Decision {
	t.Helper()
	op, err := e.guard.OrgPolicies(context.Background(), account)
	if err != nil {
		t.Fatalf("OrgPolicies(%s): %v", account, err)
	}
	in := &policy.Input{Root: true}
	if op != nil {
		in.SCPs, in.RCPs, in.ManagementAccount = op.SCPs, op.RCPs, op.Management
	}
	req := &policy.Request{Principal: policy.Principal{Type: policy.PrincipalRoot, ARN: "arn:aws:iam::" + account + ":root", Account: account}, Action: action, Resource: "*"}
	return policy.Evaluate(req, in)
}

// The scenario of issue 6: two OUs, three accounts; a Deny SCP on one OU,
// an allow-list SCP without secretsmanager:* on the other, FullAWSAccess
// detached; the management account unaffected throughout; every change
// effective on the next request.
func TestGuardrails(t *testing.T) {
	e := start(t)
	ctx := context.Background()
	o, root := e.setup(t)
	ouA := e.newOU(t, root, "A")
	ouB := e.newOU(t, root, "B")
	a1, a2, b1 := e.newAccount(t, "a1"), e.newAccount(t, "a2"), e.newAccount(t, "b1")
	for id, ou := range map[string]string{a1: ouA, a2: ouA, b1: ouB} {
		_, err := e.org.MoveAccount(ctx, &organizations.MoveAccountInput{AccountId: aws.String(id), SourceParentId: aws.String(root), DestinationParentId: aws.String(ou)})
		mustOK(t, err, "MoveAccount")
	}

	// Before SCPs are enabled: organization context, no SCP levels.
	op, err := e.guard.OrgPolicies(ctx, a1)
	mustOK(t, err, "OrgPolicies")
	if op == nil || op.OrgID != aws.ToString(o.Id) || op.Management || op.SCPs != nil || op.RCPs != nil {
		t.Fatalf("before SCPs: %+v", op)
	}
	if want := aws.ToString(o.Id) + "/" + root + "/" + ouA + "/"; len(op.Paths) != 1 || op.Paths[0] != want {
		t.Errorf("paths %v, want %s", op.Paths, want)
	}
	if op, _ := e.guard.OrgPolicies(ctx, "123456789012"); op != nil {
		t.Errorf("an account in no organization has guardrails %+v", op)
	}

	e.enable(t, root, types.PolicyTypeServiceControlPolicy)
	op, err = e.guard.OrgPolicies(ctx, a1)
	mustOK(t, err, "OrgPolicies")
	if len(op.SCPs) != 3 { // root, OU A, the account
		t.Fatalf("%d SCP levels, want 3", len(op.SCPs))
	}
	for i, level := range op.SCPs {
		if len(level) != 1 || !strings.HasSuffix(level[0].Name(), "/p-FullAWSAccess") {
			t.Errorf("level %d: %v", i, level)
		}
	}
	if mgmt, _ := e.guard.OrgPolicies(ctx, "000000000000"); mgmt == nil || !mgmt.Management || len(mgmt.SCPs) != 2 {
		t.Errorf("management account: %+v", mgmt)
	}

	// A Deny SCP on OU A blocks kms:CreateKey in A's accounts only.
	deny := e.createPolicy(t, "DenyCreateKey", denyKMS, types.PolicyTypeServiceControlPolicy)
	_, err = e.org.AttachPolicy(ctx, &organizations.AttachPolicyInput{PolicyId: aws.String(deny), TargetId: aws.String(ouA)})
	mustOK(t, err, "AttachPolicy")
	// An allow-list on OU B without secretsmanager:*, FullAWSAccess detached.
	allow := e.createPolicy(t, "AllowKMSAndSTS", `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":["kms:*","sts:*"],"Resource":"*"}]}`, types.PolicyTypeServiceControlPolicy)
	_, err = e.org.AttachPolicy(ctx, &organizations.AttachPolicyInput{PolicyId: aws.String(allow), TargetId: aws.String(ouB)})
	mustOK(t, err, "AttachPolicy")
	_, err = e.org.DetachPolicy(ctx, &organizations.DetachPolicyInput{PolicyId: aws.String("p-FullAWSAccess"), TargetId: aws.String(ouB)})
	mustOK(t, err, "DetachPolicy")

	cases := []struct {
		account, action string
		want            policy.Result
		msg             string
	}{
		{a1, "kms:CreateKey", policy.ExplicitDeny, "with an explicit deny in a service control policy"},
		{a2, "kms:CreateKey", policy.ExplicitDeny, "with an explicit deny in a service control policy"},
		{a1, "kms:Encrypt", policy.Allow, ""},
		{a1, "secretsmanager:GetSecretValue", policy.Allow, ""},
		{b1, "kms:CreateKey", policy.Allow, ""},
		{b1, "secretsmanager:GetSecretValue", policy.ImplicitDeny, "because no service control policy allows the secretsmanager:GetSecretValue action"},
		{b1, "secretsmanager:CreateSecret", policy.ImplicitDeny, "no service control policy allows"},
		{"000000000000", "kms:CreateKey", policy.Allow, ""},
		{"000000000000", "secretsmanager:GetSecretValue", policy.Allow, ""},
	}
	for _, tc := range cases {
		d := e.decide(t, tc.account, tc.action)
		if d.Result != tc.want {
			t.Errorf("%s %s: %v, want %v", tc.account, tc.action, d.Result, tc.want)
			continue
		}
		if tc.msg != "" {
			req := &policy.Request{Principal: policy.Principal{Type: policy.PrincipalRoot, ARN: "arn:aws:iam::" + tc.account + ":root", Account: tc.account}, Action: tc.action, Resource: "*"}
			if m := d.Message(req); !strings.Contains(m, tc.msg) {
				t.Errorf("%s %s: message %q, want %q", tc.account, tc.action, m, tc.msg)
			}
		}
	}

	// Moving an account moves its guardrails, on the next request.
	_, err = e.org.MoveAccount(ctx, &organizations.MoveAccountInput{AccountId: aws.String(a2), SourceParentId: aws.String(ouA), DestinationParentId: aws.String(ouB)})
	mustOK(t, err, "MoveAccount")
	if d := e.decide(t, a2, "kms:CreateKey"); d.Result != policy.Allow {
		t.Errorf("a2 in B: kms:CreateKey %v", d.Result)
	}
	if d := e.decide(t, a2, "secretsmanager:GetSecretValue"); d.Result != policy.ImplicitDeny {
		t.Errorf("a2 in B: secretsmanager %v", d.Result)
	}

	// Editing a policy takes effect on the next request.
	_, err = e.org.UpdatePolicy(ctx, &organizations.UpdatePolicyInput{PolicyId: aws.String(allow), Content: aws.String(`{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":["kms:*","sts:*","secretsmanager:*"],"Resource":"*"}]}`)})
	mustOK(t, err, "UpdatePolicy")
	if d := e.decide(t, b1, "secretsmanager:GetSecretValue"); d.Result != policy.Allow {
		t.Errorf("after widening the allow-list: %v", d.Result)
	}

	// With only a Deny-only SCP left on OU A, nothing below it is allowed.
	_, err = e.org.DetachPolicy(ctx, &organizations.DetachPolicyInput{PolicyId: aws.String("p-FullAWSAccess"), TargetId: aws.String(ouA)})
	mustOK(t, err, "DetachPolicy FullAWSAccess from A")
	for _, action := range []string{"kms:Encrypt", "sts:GetCallerIdentity", "iam:ListUsers"} {
		if d := e.decide(t, a1, action); d.Result != policy.ImplicitDeny || d.Type != policy.TypeSCP {
			t.Errorf("a1 %s without FullAWSAccess: %v (%v)", action, d.Result, d.Type)
		}
	}
	if d := e.decide(t, "000000000000", "kms:Encrypt"); d.Result != policy.Allow {
		t.Errorf("management account: %v", d.Result)
	}

	// Disabling SCPs lifts them all.
	_, err = e.org.DisablePolicyType(ctx, &organizations.DisablePolicyTypeInput{RootId: aws.String(root), PolicyType: types.PolicyTypeServiceControlPolicy})
	mustOK(t, err, "DisablePolicyType")
	if d := e.decide(t, a1, "kms:CreateKey"); d.Result != policy.Allow {
		t.Errorf("after disabling SCPs: %v", d.Result)
	}

	// Removed from the organization: no guardrails.
	_, err = e.org.RemoveAccountFromOrganization(ctx, &organizations.RemoveAccountFromOrganizationInput{AccountId: aws.String(b1)})
	mustOK(t, err, "RemoveAccountFromOrganization")
	if op, _ := e.guard.OrgPolicies(ctx, b1); op != nil {
		t.Errorf("removed account keeps %+v", op)
	}
}

func TestGuardrailsRCPs(t *testing.T) {
	e := start(t)
	ctx := context.Background()
	_, root := e.setup(t)
	acct := e.newAccount(t, "a")
	e.enable(t, root, types.PolicyTypeResourceControlPolicy)
	rcp := e.createPolicy(t, "DenyExternalKMS", `{"Version":"2012-10-17","Statement":[{"Effect":"Deny","Principal":"*","Action":"kms:*","Resource":"*","Condition":{"StringNotEqualsIfExists":{"aws:PrincipalOrgID":"o-none"}}}]}`, types.PolicyTypeResourceControlPolicy)
	_, err := e.org.AttachPolicy(ctx, &organizations.AttachPolicyInput{PolicyId: aws.String(rcp), TargetId: aws.String(acct)})
	mustOK(t, err, "AttachPolicy")
	op, err := e.guard.OrgPolicies(ctx, acct)
	mustOK(t, err, "OrgPolicies")
	if op.SCPs != nil || len(op.RCPs) != 2 || len(op.RCPs[0]) != 1 || len(op.RCPs[1]) != 2 {
		t.Fatalf("RCP levels %v (SCPs %v)", op.RCPs, op.SCPs)
	}
	if !strings.HasSuffix(op.RCPs[1][1].Name(), "/resource_control_policy/"+rcp) {
		t.Errorf("RCP named %q", op.RCPs[1][1].Name())
	}
}

// Through the front door: the checker consults Guardrails on every
// request, so an SCP on the member account's OU refuses its root user in
// AWS's words, and a detach lifts it at once.
func TestGuardrailsEnforced(t *testing.T) {
	e := start(t)
	ctx := context.Background()
	_, root := e.setup(t)
	e.enable(t, root, types.PolicyTypeServiceControlPolicy)
	ou := e.newOU(t, root, "Locked")
	id := e.newAccount(t, "m")
	_, err := e.org.MoveAccount(ctx, &organizations.MoveAccountInput{AccountId: aws.String(id), SourceParentId: aws.String(root), DestinationParentId: aws.String(ou)})
	mustOK(t, err, "MoveAccount")
	m := e.member(id)
	_, err = m.DescribeOrganization(ctx, &organizations.DescribeOrganizationInput{})
	mustOK(t, err, "DescribeOrganization before the SCP")

	deny := e.createPolicy(t, "DenyOrgs", `{"Version":"2012-10-17","Statement":[{"Effect":"Deny","Action":"organizations:Describe*","Resource":"*"}]}`, types.PolicyTypeServiceControlPolicy)
	_, err = e.org.AttachPolicy(ctx, &organizations.AttachPolicyInput{PolicyId: aws.String(deny), TargetId: aws.String(ou)})
	mustOK(t, err, "AttachPolicy")
	_, err = m.DescribeOrganization(ctx, &organizations.DescribeOrganizationInput{})
	wantErr(t, err, "AccessDeniedException", "User: arn:aws:iam::"+id+":root is not authorized to perform: organizations:DescribeOrganization with an explicit deny in a service control policy")
	// The management account is not limited.
	_, err = e.org.DescribeOrganization(ctx, &organizations.DescribeOrganizationInput{})
	mustOK(t, err, "management DescribeOrganization")

	_, err = e.org.DetachPolicy(ctx, &organizations.DetachPolicyInput{PolicyId: aws.String(deny), TargetId: aws.String(ou)})
	mustOK(t, err, "DetachPolicy")
	_, err = m.DescribeOrganization(ctx, &organizations.DescribeOrganizationInput{})
	mustOK(t, err, "DescribeOrganization after the detach")
}
