package organizations_test

import (
	"context"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/organizations"
	"github.com/aws/aws-sdk-go-v2/service/organizations/types"
)

func TestEnableAllFeatures(t *testing.T) {
	e := start(t)
	ctx := context.Background()
	_, err := e.org.CreateOrganization(ctx, &organizations.CreateOrganizationInput{FeatureSet: types.OrganizationFeatureSetConsolidatedBilling})
	mustOK(t, err, "CreateOrganization")
	roots, err := e.org.ListRoots(ctx, &organizations.ListRootsInput{})
	mustOK(t, err, "ListRoots")
	root := aws.ToString(roots.Roots[0].Id)
	member := e.newAccount(t, "m")

	// Consolidated billing: no SCPs, no trusted access.
	_, err = e.org.EnablePolicyType(ctx, &organizations.EnablePolicyTypeInput{RootId: aws.String(root), PolicyType: types.PolicyTypeServiceControlPolicy})
	wantErr(t, err, "PolicyTypeNotAvailableForOrganizationException", "feature set")
	_, err = e.org.EnableAWSServiceAccess(ctx, &organizations.EnableAWSServiceAccessInput{ServicePrincipal: aws.String("config.amazonaws.com")})
	wantErr(t, err, "ConstraintViolationException", "ORGANIZATION_NOT_IN_ALL_FEATURES_MODE")
	// Only the management account may switch.
	_, err = e.member(member).EnableAllFeatures(ctx, &organizations.EnableAllFeaturesInput{})
	wantErr(t, err, "AccessDeniedException", "You don't have permissions")

	out, err := e.org.EnableAllFeatures(ctx, &organizations.EnableAllFeaturesInput{})
	mustOK(t, err, "EnableAllFeatures")
	h := out.Handshake
	if h.Action != types.ActionTypeEnableAllFeatures || h.State != types.HandshakeStateAccepted || !strings.HasPrefix(aws.ToString(h.Id), "h-") ||
		!strings.Contains(aws.ToString(h.Arn), ":handshake/") || len(h.Parties) != 1 || h.Parties[0].Type != types.HandshakePartyTypeOrganization {
		t.Errorf("handshake %+v", h)
	}
	d, err := e.org.DescribeOrganization(ctx, &organizations.DescribeOrganizationInput{})
	mustOK(t, err, "DescribeOrganization")
	if d.Organization.FeatureSet != types.OrganizationFeatureSetAll {
		t.Errorf("feature set %s, want ALL", d.Organization.FeatureSet)
	}
	e.enable(t, root, types.PolicyTypeServiceControlPolicy) // now possible

	_, err = e.org.EnableAllFeatures(ctx, &organizations.EnableAllFeaturesInput{})
	wantErr(t, err, "HandshakeConstraintViolationException", "ORGANIZATION_ALREADY_HAS_ALL_FEATURES")
}

func TestServiceAccess(t *testing.T) {
	e := start(t)
	ctx := context.Background()
	e.setup(t)
	member := e.newAccount(t, "m")
	list := func() []string {
		t.Helper()
		var out []string
		p := organizations.NewListAWSServiceAccessForOrganizationPaginator(e.org, &organizations.ListAWSServiceAccessForOrganizationInput{MaxResults: aws.Int32(1)})
		for p.HasMorePages() {
			pg, err := p.NextPage(ctx)
			mustOK(t, err, "ListAWSServiceAccessForOrganization")
			for _, s := range pg.EnabledServicePrincipals {
				if s.DateEnabled == nil {
					t.Errorf("%s has no date", aws.ToString(s.ServicePrincipal))
				}
				out = append(out, aws.ToString(s.ServicePrincipal))
			}
		}
		return out
	}
	for _, p := range []string{"securityhub.amazonaws.com", "config.amazonaws.com", "config.amazonaws.com"} {
		_, err := e.org.EnableAWSServiceAccess(ctx, &organizations.EnableAWSServiceAccessInput{ServicePrincipal: aws.String(p)})
		mustOK(t, err, "EnableAWSServiceAccess "+p)
	}
	if got := list(); strings.Join(got, ",") != "config.amazonaws.com,securityhub.amazonaws.com" {
		t.Errorf("enabled %v", got)
	}
	for name, tc := range map[string]struct {
		call       func() error
		code, want string
	}{
		"unknown principal": {func() error {
			_, err := e.org.EnableAWSServiceAccess(ctx, &organizations.EnableAWSServiceAccessInput{ServicePrincipal: aws.String("example.com")})
			return err
		}, "InvalidInputException", "UNRECOGNIZED_SERVICE_PRINCIPAL"},
		"member enables": {func() error {
			_, err := e.member(member).EnableAWSServiceAccess(ctx, &organizations.EnableAWSServiceAccessInput{ServicePrincipal: aws.String("guardduty.amazonaws.com")})
			return err
		}, "AccessDeniedException", "You don't have permissions"},
		"member lists": {func() error {
			_, err := e.member(member).ListAWSServiceAccessForOrganization(ctx, &organizations.ListAWSServiceAccessForOrganizationInput{})
			return err
		}, "AccessDeniedException", "You don't have permissions"},
	} {
		t.Run(name, func(t *testing.T) { wantErr(t, tc.call(), tc.code, tc.want) })
	}
	for _, p := range []string{"config.amazonaws.com", "never-enabled.amazonaws.com"} {
		_, err := e.org.DisableAWSServiceAccess(ctx, &organizations.DisableAWSServiceAccessInput{ServicePrincipal: aws.String(p)})
		mustOK(t, err, "DisableAWSServiceAccess "+p)
	}
	if got := list(); strings.Join(got, ",") != "securityhub.amazonaws.com" {
		t.Errorf("enabled after disabling %v", got)
	}
}

func TestResourcePolicy(t *testing.T) {
	e := start(t)
	ctx := context.Background()
	e.setup(t)
	member := e.newAccount(t, "m")
	_, err := e.org.DescribeResourcePolicy(ctx, &organizations.DescribeResourcePolicyInput{})
	wantErr(t, err, "ResourcePolicyNotFoundException", "resource policy")

	delegate := `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":{"AWS":"arn:aws:iam::` + member + `:root"},"Action":["organizations:Describe*","organizations:List*"],"Resource":"*"}]}`
	put, err := e.org.PutResourcePolicy(ctx, &organizations.PutResourcePolicyInput{Content: aws.String(delegate), Tags: []types.Tag{{Key: aws.String("k"), Value: aws.String("v")}}})
	mustOK(t, err, "PutResourcePolicy")
	sum := put.ResourcePolicy.ResourcePolicySummary
	id := aws.ToString(sum.Id)
	if !strings.HasPrefix(id, "rp-") || !strings.HasPrefix(aws.ToString(sum.Arn), "arn:aws:organizations::000000000000:resourcepolicy/o-") || !strings.HasSuffix(aws.ToString(sum.Arn), "/"+id) {
		t.Errorf("summary %+v", sum)
	}
	for name, tc := range map[string]struct {
		content, code, want string
	}{
		"no principal":    {`{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"organizations:List*","Resource":"*"}]}`, "InvalidInputException", "INVALID_PRINCIPAL"},
		"not JSON":        {`{"Version":`, "InvalidInputException", "INVALID_RESOURCE_POLICY_JSON"},
		"another service": {`{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":{"AWS":"*"},"Action":"s3:GetObject","Resource":"*"}]}`, "InvalidInputException", "UNSUPPORTED_ACTION_IN_RESOURCE_POLICY"},
		"NotAction":       {`{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":{"AWS":"*"},"NotAction":"organizations:List*","Resource":"*"}]}`, "InvalidInputException", "UNSUPPORTED_ACTION_IN_RESOURCE_POLICY"},
	} {
		t.Run(name, func(t *testing.T) {
			_, err := e.org.PutResourcePolicy(ctx, &organizations.PutResourcePolicyInput{Content: aws.String(tc.content)})
			wantErr(t, err, tc.code, tc.want)
		})
	}
	_, err = e.member(member).PutResourcePolicy(ctx, &organizations.PutResourcePolicyInput{Content: aws.String(delegate)})
	wantErr(t, err, "AccessDeniedException", "You don't have permissions")

	// Bad input changed nothing; a second Put replaces the content, same id.
	d, err := e.org.DescribeResourcePolicy(ctx, &organizations.DescribeResourcePolicyInput{})
	mustOK(t, err, "DescribeResourcePolicy")
	if aws.ToString(d.ResourcePolicy.Content) != delegate || aws.ToString(d.ResourcePolicy.ResourcePolicySummary.Id) != id {
		t.Errorf("described %+v", d.ResourcePolicy)
	}
	// The policy delegates: the member may now list accounts, not create OUs.
	_, err = e.member(member).ListAccounts(ctx, &organizations.ListAccountsInput{})
	mustOK(t, err, "ListAccounts as the delegated member")
	roots, err := e.member(member).ListRoots(ctx, &organizations.ListRootsInput{})
	mustOK(t, err, "ListRoots as the delegated member")
	_, err = e.member(member).CreateOrganizationalUnit(ctx, &organizations.CreateOrganizationalUnitInput{ParentId: roots.Roots[0].Id, Name: aws.String("x")})
	wantErr(t, err, "AccessDeniedException", "You don't have permissions")

	narrower := strings.Replace(delegate, `["organizations:Describe*","organizations:List*"]`, `"organizations:DescribeResourcePolicy"`, 1)
	put, err = e.org.PutResourcePolicy(ctx, &organizations.PutResourcePolicyInput{Content: aws.String(narrower)})
	mustOK(t, err, "PutResourcePolicy again")
	if aws.ToString(put.ResourcePolicy.ResourcePolicySummary.Id) != id || aws.ToString(put.ResourcePolicy.Content) != narrower {
		t.Errorf("replaced %+v", put.ResourcePolicy)
	}

	_, err = e.member(member).ListAccounts(ctx, &organizations.ListAccountsInput{})
	wantErr(t, err, "AccessDeniedException", "You don't have permissions")
	_, err = e.member(member).DescribeResourcePolicy(ctx, &organizations.DescribeResourcePolicyInput{}) // still delegated
	mustOK(t, err, "DescribeResourcePolicy as the delegated member")

	_, err = e.org.DeleteResourcePolicy(ctx, &organizations.DeleteResourcePolicyInput{})
	mustOK(t, err, "DeleteResourcePolicy")
	_, err = e.member(member).DescribeResourcePolicy(ctx, &organizations.DescribeResourcePolicyInput{})
	wantErr(t, err, "AccessDeniedException", "You don't have permissions")
	_, err = e.org.DeleteResourcePolicy(ctx, &organizations.DeleteResourcePolicyInput{})
	wantErr(t, err, "ResourcePolicyNotFoundException", "resource policy")
	_, err = e.org.DescribeResourcePolicy(ctx, &organizations.DescribeResourcePolicyInput{})
	wantErr(t, err, "ResourcePolicyNotFoundException", "resource policy")
}

func TestEffectivePolicyValidation(t *testing.T) {
	e := start(t)
	ctx := context.Background()
	_, root := e.setup(t)
	acct := e.newAccount(t, "a")
	e.enable(t, root, types.PolicyTypeTagPolicy)

	// No tag policy applies yet.
	_, err := e.org.ListEffectivePolicyValidationErrors(ctx, &organizations.ListEffectivePolicyValidationErrorsInput{AccountId: aws.String(acct), PolicyType: types.EffectivePolicyTypeTagPolicy})
	wantErr(t, err, "EffectivePolicyNotFoundException", "TAG_POLICY")
	_, err = e.org.ListEffectivePolicyValidationErrors(ctx, &organizations.ListEffectivePolicyValidationErrorsInput{AccountId: aws.String("123456789012"), PolicyType: types.EffectivePolicyTypeTagPolicy})
	wantErr(t, err, "AccountNotFoundException", "doesn't exist")

	pol := e.createPolicy(t, "Tags", `{"tags":{"env":{"tag_key":{"@@assign":"env"}}}}`, types.PolicyTypeTagPolicy)
	_, err = e.org.AttachPolicy(ctx, &organizations.AttachPolicyInput{PolicyId: aws.String(pol), TargetId: aws.String(root)})
	mustOK(t, err, "AttachPolicy")
	out, err := e.org.ListEffectivePolicyValidationErrors(ctx, &organizations.ListEffectivePolicyValidationErrorsInput{AccountId: aws.String(acct), PolicyType: types.EffectivePolicyTypeTagPolicy})
	mustOK(t, err, "ListEffectivePolicyValidationErrors")
	if aws.ToString(out.AccountId) != acct || out.PolicyType != types.EffectivePolicyTypeTagPolicy || out.EffectivePolicyValidationErrors == nil ||
		len(out.EffectivePolicyValidationErrors) != 0 || out.EvaluationTimestamp == nil || !strings.HasSuffix(aws.ToString(out.Path), "/"+root+"/"+acct+"/") {
		t.Errorf("validation errors %+v", out)
	}
	inv, err := e.org.ListAccountsWithInvalidEffectivePolicy(ctx, &organizations.ListAccountsWithInvalidEffectivePolicyInput{PolicyType: types.EffectivePolicyTypeTagPolicy})
	mustOK(t, err, "ListAccountsWithInvalidEffectivePolicy")
	if inv.Accounts == nil || len(inv.Accounts) != 0 || inv.PolicyType != types.EffectivePolicyTypeTagPolicy {
		t.Errorf("invalid accounts %+v", inv)
	}
	_, err = e.member(acct).ListAccountsWithInvalidEffectivePolicy(ctx, &organizations.ListAccountsWithInvalidEffectivePolicyInput{PolicyType: types.EffectivePolicyTypeTagPolicy})
	wantErr(t, err, "AccessDeniedException", "You don't have permissions")
}

func TestCreateGovCloudAccount(t *testing.T) {
	e := start(t)
	ctx := context.Background()
	in := &organizations.CreateGovCloudAccountInput{AccountName: aws.String("gov"), Email: aws.String("gov@example.com")}
	_, err := e.org.CreateGovCloudAccount(ctx, in)
	wantErr(t, err, "AWSOrganizationsNotInUseException", "not a member of an organization")
	e.setup(t)
	member := e.newAccount(t, "m")
	_, err = e.org.CreateGovCloudAccount(ctx, in)
	wantErr(t, err, "ConstraintViolationException", "MASTER_ACCOUNT_NOT_GOVCLOUD_ENABLED")
	_, err = e.member(member).CreateGovCloudAccount(ctx, in)
	wantErr(t, err, "AccessDeniedException", "You don't have permissions")
	if n := len(e.accounts.calls()); n != 1 {
		t.Errorf("%d accounts created, want only the member", n)
	}
}
