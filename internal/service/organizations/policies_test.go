package organizations_test

import (
	"context"
	"fmt"
	"sort"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/organizations"
	"github.com/aws/aws-sdk-go-v2/service/organizations/types"
)

const denyKMS = `{"Version":"2012-10-17","Statement":[{"Effect":"Deny","Action":"kms:CreateKey","Resource":"*"}]}`

func (e *env) createPolicy(t testing.TB, name, content string, typ types.PolicyType) string {
	t.Helper()
	out, err := e.org.CreatePolicy(context.Background(), &organizations.CreatePolicyInput{Name: aws.String(name), Content: aws.String(content), Description: aws.String(name), Type: typ})
	if err != nil {
		t.Fatalf("CreatePolicy %s: %v", name, err)
	}
	return aws.ToString(out.Policy.PolicySummary.Id)
}

func (e *env) policiesFor(t *testing.T, target string, typ types.PolicyType) []string {
	t.Helper()
	out, err := e.org.ListPoliciesForTarget(context.Background(), &organizations.ListPoliciesForTargetInput{TargetId: aws.String(target), Filter: typ})
	if err != nil {
		t.Fatalf("ListPoliciesForTarget %s: %v", target, err)
	}
	var ids []string
	for _, p := range out.Policies {
		ids = append(ids, aws.ToString(p.Id))
	}
	sort.Strings(ids)
	return ids
}

func (e *env) enable(t testing.TB, root string, typ types.PolicyType) {
	t.Helper()
	if _, err := e.org.EnablePolicyType(context.Background(), &organizations.EnablePolicyTypeInput{RootId: aws.String(root), PolicyType: typ}); err != nil {
		t.Fatalf("EnablePolicyType %s: %v", typ, err)
	}
}

func TestPolicyTypes(t *testing.T) {
	e := start(t)
	ctx := context.Background()
	_, root := e.setup(t)
	ou := e.newOU(t, root, "OU")
	acct := e.newAccount(t, "a")

	out, err := e.org.EnablePolicyType(ctx, &organizations.EnablePolicyTypeInput{RootId: aws.String(root), PolicyType: types.PolicyTypeServiceControlPolicy})
	mustOK(t, err, "EnablePolicyType")
	if len(out.Root.PolicyTypes) != 1 || out.Root.PolicyTypes[0].Type != types.PolicyTypeServiceControlPolicy || out.Root.PolicyTypes[0].Status != types.PolicyTypeStatusEnabled {
		t.Errorf("root policy types %+v", out.Root.PolicyTypes)
	}
	// FullAWSAccess is attached everywhere, and to what comes later.
	later := e.newOU(t, ou, "Later")
	for _, target := range []string{root, ou, acct, "000000000000", later} {
		if got := e.policiesFor(t, target, types.PolicyTypeServiceControlPolicy); len(got) != 1 || got[0] != "p-FullAWSAccess" {
			t.Errorf("SCPs of %s: %v", target, got)
		}
	}
	_, err = e.org.EnablePolicyType(ctx, &organizations.EnablePolicyTypeInput{RootId: aws.String(root), PolicyType: types.PolicyTypeServiceControlPolicy})
	wantErr(t, err, "PolicyTypeAlreadyEnabledException", "already enabled")
	_, err = e.org.EnablePolicyType(ctx, &organizations.EnablePolicyTypeInput{RootId: aws.String("r-zzzz"), PolicyType: types.PolicyTypeTagPolicy})
	wantErr(t, err, "RootNotFoundException", "RootId")

	e.enable(t, root, types.PolicyTypeResourceControlPolicy)
	if got := e.policiesFor(t, acct, types.PolicyTypeResourceControlPolicy); len(got) != 1 || got[0] != "p-RCPFullAWSAccess" {
		t.Errorf("RCPs of account: %v", got)
	}
	d, err := e.org.DescribePolicy(ctx, &organizations.DescribePolicyInput{PolicyId: aws.String("p-FullAWSAccess")})
	mustOK(t, err, "DescribePolicy")
	if s := d.Policy.PolicySummary; !s.AwsManaged || aws.ToString(s.Name) != "FullAWSAccess" || aws.ToString(s.Arn) != "arn:aws:organizations::aws:policy/service_control_policy/p-FullAWSAccess" || !strings.Contains(aws.ToString(d.Policy.Content), `"Action": "*"`) {
		t.Errorf("FullAWSAccess %+v %s", s, aws.ToString(d.Policy.Content))
	}

	// Disabling detaches every policy of the type.
	scp := e.createPolicy(t, "DenyKMS", denyKMS, types.PolicyTypeServiceControlPolicy)
	_, err = e.org.AttachPolicy(ctx, &organizations.AttachPolicyInput{PolicyId: aws.String(scp), TargetId: aws.String(ou)})
	mustOK(t, err, "AttachPolicy")
	dis, err := e.org.DisablePolicyType(ctx, &organizations.DisablePolicyTypeInput{RootId: aws.String(root), PolicyType: types.PolicyTypeServiceControlPolicy})
	mustOK(t, err, "DisablePolicyType")
	if len(dis.Root.PolicyTypes) != 1 || dis.Root.PolicyTypes[0].Type != types.PolicyTypeResourceControlPolicy {
		t.Errorf("after disabling SCPs: %+v", dis.Root.PolicyTypes)
	}
	targets, err := e.org.ListTargetsForPolicy(ctx, &organizations.ListTargetsForPolicyInput{PolicyId: aws.String(scp)})
	mustOK(t, err, "ListTargetsForPolicy")
	if len(targets.Targets) != 0 {
		t.Errorf("still attached to %+v", targets.Targets)
	}
	_, err = e.org.DisablePolicyType(ctx, &organizations.DisablePolicyTypeInput{RootId: aws.String(root), PolicyType: types.PolicyTypeServiceControlPolicy})
	wantErr(t, err, "PolicyTypeNotEnabledException", "SERVICE_CONTROL_POLICY is not enabled")
	_, err = e.org.AttachPolicy(ctx, &organizations.AttachPolicyInput{PolicyId: aws.String(scp), TargetId: aws.String(ou)})
	wantErr(t, err, "PolicyTypeNotEnabledException", "SERVICE_CONTROL_POLICY is not enabled")
}

func TestPolicyCRUD(t *testing.T) {
	e := start(t)
	ctx := context.Background()
	_, root := e.setup(t)
	e.enable(t, root, types.PolicyTypeServiceControlPolicy)
	id := e.createPolicy(t, "DenyKMS", denyKMS, types.PolicyTypeServiceControlPolicy)
	if !strings.HasPrefix(id, "p-") || len(id) != 10 {
		t.Errorf("policy id %q", id)
	}

	list, err := e.org.ListPolicies(ctx, &organizations.ListPoliciesInput{Filter: types.PolicyTypeServiceControlPolicy})
	mustOK(t, err, "ListPolicies")
	names := map[string]bool{}
	for _, p := range list.Policies {
		names[aws.ToString(p.Name)] = true
	}
	if len(list.Policies) != 2 || !names["FullAWSAccess"] || !names["DenyKMS"] {
		t.Errorf("policies %v", names)
	}

	up, err := e.org.UpdatePolicy(ctx, &organizations.UpdatePolicyInput{PolicyId: aws.String(id), Name: aws.String("NoKMS"), Description: aws.String("no keys")})
	mustOK(t, err, "UpdatePolicy")
	if aws.ToString(up.Policy.PolicySummary.Name) != "NoKMS" || aws.ToString(up.Policy.Content) != denyKMS {
		t.Errorf("updated %+v", up.Policy.PolicySummary)
	}

	big := `{"Version":"2012-10-17","Statement":[{"Effect":"Deny","Action":[` + strings.Repeat(`"kms:CreateKey",`, 400) + `"kms:CreateKey"],"Resource":"*"}]}`
	cases := map[string]struct {
		call       func() error
		code, want string
	}{
		"duplicate name": {func() error {
			_, err := e.org.CreatePolicy(ctx, &organizations.CreatePolicyInput{Name: aws.String("NoKMS"), Content: aws.String(denyKMS), Description: aws.String(""), Type: types.PolicyTypeServiceControlPolicy})
			return err
		}, "DuplicatePolicyException", "same name"},
		"SCP with a Principal": {func() error {
			_, err := e.org.CreatePolicy(ctx, &organizations.CreatePolicyInput{Name: aws.String("P"), Description: aws.String(""), Type: types.PolicyTypeServiceControlPolicy,
				Content: aws.String(`{"Version":"2012-10-17","Statement":[{"Effect":"Deny","Principal":"*","Action":"*","Resource":"*"}]}`)})
			return err
		}, "MalformedPolicyDocumentException", ""},
		"not JSON": {func() error {
			_, err := e.org.CreatePolicy(ctx, &organizations.CreatePolicyInput{Name: aws.String("J"), Description: aws.String(""), Type: types.PolicyTypeServiceControlPolicy, Content: aws.String(`{"Version":`)})
			return err
		}, "MalformedPolicyDocumentException", ""},
		"too large": {func() error {
			_, err := e.org.CreatePolicy(ctx, &organizations.CreatePolicyInput{Name: aws.String("Big"), Description: aws.String(""), Type: types.PolicyTypeServiceControlPolicy, Content: aws.String(big)})
			return err
		}, "ConstraintViolationException", "POLICY_CONTENT_LIMIT_EXCEEDED"},
		"update AWS managed": {func() error {
			_, err := e.org.UpdatePolicy(ctx, &organizations.UpdatePolicyInput{PolicyId: aws.String("p-FullAWSAccess"), Name: aws.String("x")})
			return err
		}, "InvalidInputException", "IMMUTABLE_POLICY"},
		"delete AWS managed": {func() error {
			_, err := e.org.DeletePolicy(ctx, &organizations.DeletePolicyInput{PolicyId: aws.String("p-FullAWSAccess")})
			return err
		}, "InvalidInputException", "IMMUTABLE_POLICY"},
		"describe unknown": {func() error {
			_, err := e.org.DescribePolicy(ctx, &organizations.DescribePolicyInput{PolicyId: aws.String("p-zzzzzzzz")})
			return err
		}, "PolicyNotFoundException", "PolicyId"},
		"update with bad content": {func() error {
			_, err := e.org.UpdatePolicy(ctx, &organizations.UpdatePolicyInput{PolicyId: aws.String(id), Content: aws.String(`{"Version":"2012-10-17","Statement":[]}`)})
			return err
		}, "MalformedPolicyDocumentException", ""},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) { wantErr(t, tc.call(), tc.code, tc.want) })
	}
	d, err := e.org.DescribePolicy(ctx, &organizations.DescribePolicyInput{PolicyId: aws.String(id)})
	mustOK(t, err, "DescribePolicy")
	if aws.ToString(d.Policy.Content) != denyKMS {
		t.Errorf("a failed update changed the content to %s", aws.ToString(d.Policy.Content))
	}

	// Delete only when detached.
	_, err = e.org.AttachPolicy(ctx, &organizations.AttachPolicyInput{PolicyId: aws.String(id), TargetId: aws.String(root)})
	mustOK(t, err, "AttachPolicy")
	_, err = e.org.DeletePolicy(ctx, &organizations.DeletePolicyInput{PolicyId: aws.String(id)})
	wantErr(t, err, "PolicyInUseException", "detach it")
	_, err = e.org.DetachPolicy(ctx, &organizations.DetachPolicyInput{PolicyId: aws.String(id), TargetId: aws.String(root)})
	mustOK(t, err, "DetachPolicy")
	_, err = e.org.DeletePolicy(ctx, &organizations.DeletePolicyInput{PolicyId: aws.String(id)})
	mustOK(t, err, "DeletePolicy")
	_, err = e.org.DescribePolicy(ctx, &organizations.DescribePolicyInput{PolicyId: aws.String(id)})
	wantErr(t, err, "PolicyNotFoundException", "PolicyId")

	// Tag policies are JSON documents of their own syntax.
	e.enable(t, root, types.PolicyTypeTagPolicy)
	tp := e.createPolicy(t, "CostCenter", `{"tags":{"costcenter":{"tag_key":{"@@assign":"CostCenter"}}}}`, types.PolicyTypeTagPolicy)
	_, err = e.org.AttachPolicy(ctx, &organizations.AttachPolicyInput{PolicyId: aws.String(tp), TargetId: aws.String(root)})
	mustOK(t, err, "attach tag policy")
}

func TestAttachments(t *testing.T) {
	e := start(t)
	ctx := context.Background()
	_, root := e.setup(t)
	e.enable(t, root, types.PolicyTypeServiceControlPolicy)
	e.enable(t, root, types.PolicyTypeResourceControlPolicy)
	ou := e.newOU(t, root, "OU")
	acct := e.newAccount(t, "a")

	var ids []string
	for i := range 5 {
		ids = append(ids, e.createPolicy(t, fmt.Sprintf("P%d", i), denyKMS, types.PolicyTypeServiceControlPolicy))
	}
	// FullAWSAccess plus four more make five; the sixth is refused.
	for _, id := range ids[:4] {
		_, err := e.org.AttachPolicy(ctx, &organizations.AttachPolicyInput{PolicyId: aws.String(id), TargetId: aws.String(ou)})
		mustOK(t, err, "AttachPolicy")
	}
	cases := map[string]struct {
		call       func() error
		code, want string
	}{
		"sixth SCP": {func() error {
			_, err := e.org.AttachPolicy(ctx, &organizations.AttachPolicyInput{PolicyId: aws.String(ids[4]), TargetId: aws.String(ou)})
			return err
		}, "ConstraintViolationException", "MAX_POLICY_TYPE_ATTACHMENT_LIMIT_EXCEEDED"},
		"attached twice": {func() error {
			_, err := e.org.AttachPolicy(ctx, &organizations.AttachPolicyInput{PolicyId: aws.String(ids[0]), TargetId: aws.String(ou)})
			return err
		}, "DuplicatePolicyAttachmentException", "already attached"},
		"unknown policy": {func() error {
			_, err := e.org.AttachPolicy(ctx, &organizations.AttachPolicyInput{PolicyId: aws.String("p-zzzzzzzz"), TargetId: aws.String(ou)})
			return err
		}, "PolicyNotFoundException", "PolicyId"},
		"unknown target": {func() error {
			_, err := e.org.AttachPolicy(ctx, &organizations.AttachPolicyInput{PolicyId: aws.String(ids[4]), TargetId: aws.String("123456789012")})
			return err
		}, "TargetNotFoundException", "TargetId"},
		"last SCP of the account": {func() error {
			_, err := e.org.DetachPolicy(ctx, &organizations.DetachPolicyInput{PolicyId: aws.String("p-FullAWSAccess"), TargetId: aws.String(acct)})
			return err
		}, "ConstraintViolationException", "MIN_POLICY_TYPE_ATTACHMENT_LIMIT_EXCEEDED"},
		"not attached": {func() error {
			_, err := e.org.DetachPolicy(ctx, &organizations.DetachPolicyInput{PolicyId: aws.String(ids[4]), TargetId: aws.String(ou)})
			return err
		}, "PolicyNotAttachedException", "isn't attached"},
		"RCPFullAWSAccess": {func() error {
			_, err := e.org.DetachPolicy(ctx, &organizations.DetachPolicyInput{PolicyId: aws.String("p-RCPFullAWSAccess"), TargetId: aws.String(ou)})
			return err
		}, "InvalidInputException", "NON_DETACHABLE_POLICY"},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) { wantErr(t, tc.call(), tc.code, tc.want) })
	}
	got := e.policiesFor(t, ou, types.PolicyTypeServiceControlPolicy)
	want := append([]string{"p-FullAWSAccess"}, ids[:4]...)
	sort.Strings(want)
	if fmt.Sprint(got) != fmt.Sprint(want) {
		t.Errorf("SCPs of OU %v, want %v", got, want)
	}

	// Another SCP on the account lets FullAWSAccess go.
	_, err := e.org.AttachPolicy(ctx, &organizations.AttachPolicyInput{PolicyId: aws.String(ids[4]), TargetId: aws.String(acct)})
	mustOK(t, err, "AttachPolicy")
	_, err = e.org.DetachPolicy(ctx, &organizations.DetachPolicyInput{PolicyId: aws.String("p-FullAWSAccess"), TargetId: aws.String(acct)})
	mustOK(t, err, "DetachPolicy")
	if got := e.policiesFor(t, acct, types.PolicyTypeServiceControlPolicy); len(got) != 1 || got[0] != ids[4] {
		t.Errorf("SCPs of account %v", got)
	}

	targets, err := e.org.ListTargetsForPolicy(ctx, &organizations.ListTargetsForPolicyInput{PolicyId: aws.String("p-FullAWSAccess")})
	mustOK(t, err, "ListTargetsForPolicy")
	kinds := map[types.TargetType]int{}
	for _, tg := range targets.Targets {
		kinds[tg.Type]++
	}
	// The root, the OU and the management account; not the account any more.
	if kinds[types.TargetTypeRoot] != 1 || kinds[types.TargetTypeOrganizationalUnit] != 1 || kinds[types.TargetTypeAccount] != 1 {
		t.Errorf("FullAWSAccess targets %+v", targets.Targets)
	}
}

// Authorization sees the ARNs of the policy and target an operation names,
// so identity policies can scope Organizations actions per resource.
func TestResourceARNs(t *testing.T) {
	e := start(t)
	ctx := context.Background()
	o, root := e.setup(t)
	e.enable(t, root, types.PolicyTypeServiceControlPolicy)
	ou := e.newOU(t, root, "OU")
	id := e.createPolicy(t, "P", denyKMS, types.PolicyTypeServiceControlPolicy)
	_, err := e.org.AttachPolicy(ctx, &organizations.AttachPolicyInput{PolicyId: aws.String(id), TargetId: aws.String(ou)})
	mustOK(t, err, "AttachPolicy")
	prefix := "arn:aws:organizations::000000000000:"
	org := aws.ToString(o.Id)
	for action, want := range map[string][]string{
		"organizations:AttachPolicy":             {prefix + "policy/" + org + "/service_control_policy/" + id, prefix + "ou/" + org + "/" + ou},
		"organizations:EnablePolicyType":         {prefix + "root/" + org + "/" + root},
		"organizations:CreateOrganizationalUnit": {prefix + "root/" + org + "/" + root},
		"organizations:CreateAccount":            nil,
	} {
		if action == "organizations:CreateAccount" {
			e.newAccount(t, "a")
		}
		got, _ := e.seen.Load(action)
		if fmt.Sprint(got) != fmt.Sprint(want) {
			t.Errorf("%s resources %v, want %v", action, got, want)
		}
	}
	// An unknown id leaves the check at "*" and the handler answers.
	_, err = e.org.DescribePolicy(ctx, &organizations.DescribePolicyInput{PolicyId: aws.String("p-zzzzzzzz")})
	wantErr(t, err, "PolicyNotFoundException", "PolicyId")
	if got, _ := e.seen.Load("organizations:DescribePolicy"); len(got.([]string)) != 0 {
		t.Errorf("DescribePolicy of an unknown policy checked %v", got)
	}
}
