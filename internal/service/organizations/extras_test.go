package organizations_test

import (
	"context"
	"encoding/json"
	"reflect"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/organizations"
	"github.com/aws/aws-sdk-go-v2/service/organizations/types"

	"github.com/rampart/rampart/internal/authn"
)

func TestTags(t *testing.T) {
	e := start(t)
	ctx := context.Background()
	_, root := e.setup(t)
	ou := e.newOU(t, root, "OU")
	acct := e.newAccount(t, "a")
	e.enable(t, root, types.PolicyTypeServiceControlPolicy)
	pol := e.createPolicy(t, "P", denyKMS, types.PolicyTypeServiceControlPolicy)

	for _, id := range []string{root, ou, acct, pol} {
		_, err := e.org.TagResource(ctx, &organizations.TagResourceInput{ResourceId: aws.String(id), Tags: []types.Tag{{Key: aws.String("team"), Value: aws.String("sec")}, {Key: aws.String("env"), Value: aws.String("")}}})
		mustOK(t, err, "TagResource "+id)
		_, err = e.org.UntagResource(ctx, &organizations.UntagResourceInput{ResourceId: aws.String(id), TagKeys: []string{"env", "absent"}})
		mustOK(t, err, "UntagResource "+id)
		out, err := e.org.ListTagsForResource(ctx, &organizations.ListTagsForResourceInput{ResourceId: aws.String(id)})
		mustOK(t, err, "ListTagsForResource "+id)
		if len(out.Tags) != 1 || aws.ToString(out.Tags[0].Key) != "team" || aws.ToString(out.Tags[0].Value) != "sec" {
			t.Errorf("tags of %s: %+v", id, out.Tags)
		}
	}
	cases := map[string]struct {
		tags       []types.Tag
		id         string
		code, want string
	}{
		"unknown resource":   {[]types.Tag{{Key: aws.String("k"), Value: aws.String("v")}}, "123456789012", "TargetNotFoundException", "TargetId"},
		"AWS managed policy": {[]types.Tag{{Key: aws.String("k"), Value: aws.String("v")}}, "p-FullAWSAccess", "TargetNotFoundException", "TargetId"},
		"duplicate key":      {[]types.Tag{{Key: aws.String("k"), Value: aws.String("1")}, {Key: aws.String("k"), Value: aws.String("2")}}, ou, "InvalidInputException", "Duplicate tag key"},
		"aws: prefix":        {[]types.Tag{{Key: aws.String("aws:x"), Value: aws.String("1")}}, ou, "InvalidInputException", "aws:"},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			_, err := e.org.TagResource(ctx, &organizations.TagResourceInput{ResourceId: aws.String(tc.id), Tags: tc.tags})
			wantErr(t, err, tc.code, tc.want)
		})
	}
	var many []types.Tag
	for i := range 50 {
		many = append(many, types.Tag{Key: aws.String(string(rune('A'+i%26)) + string(rune('a'+i/26))), Value: aws.String("v")})
	}
	_, err := e.org.TagResource(ctx, &organizations.TagResourceInput{ResourceId: aws.String(ou), Tags: many})
	wantErr(t, err, "ConstraintViolationException", "MAX_TAG_LIMIT_EXCEEDED")
	out, err := e.org.ListTagsForResource(ctx, &organizations.ListTagsForResourceInput{ResourceId: aws.String(ou)})
	mustOK(t, err, "ListTagsForResource")
	if len(out.Tags) != 1 {
		t.Errorf("a refused TagResource changed the tags: %d", len(out.Tags))
	}
}

func TestDelegatedAdministrators(t *testing.T) {
	e := start(t)
	ctx := context.Background()
	e.setup(t)
	a, b := e.newAccount(t, "a"), e.newAccount(t, "b")
	const svc = "securityhub.amazonaws.com"

	_, err := e.member(a).ListAccounts(ctx, &organizations.ListAccountsInput{})
	wantErr(t, err, "AccessDeniedException", "You don't have permissions to access this resource.")

	_, err = e.org.RegisterDelegatedAdministrator(ctx, &organizations.RegisterDelegatedAdministratorInput{AccountId: aws.String(a), ServicePrincipal: aws.String(svc)})
	mustOK(t, err, "RegisterDelegatedAdministrator")
	cases := map[string]struct {
		account, code, want string
	}{
		"again":              {a, "AccountAlreadyRegisteredException", "already a delegated administrator"},
		"management account": {"000000000000", "ConstraintViolationException", "CANNOT_REGISTER_MASTER_AS_DELEGATED_ADMINISTRATOR"},
		"unknown account":    {"123456789012", "AccountNotFoundException", "account that doesn't exist"},
		"a second one":       {b, "ConstraintViolationException", "MAX_DELEGATED_ADMINISTRATORS_FOR_SERVICE_LIMIT_EXCEEDED"},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			_, err := e.org.RegisterDelegatedAdministrator(ctx, &organizations.RegisterDelegatedAdministratorInput{AccountId: aws.String(tc.account), ServicePrincipal: aws.String(svc)})
			wantErr(t, err, tc.code, tc.want)
		})
	}

	list, err := e.org.ListDelegatedAdministrators(ctx, &organizations.ListDelegatedAdministratorsInput{ServicePrincipal: aws.String(svc)})
	mustOK(t, err, "ListDelegatedAdministrators")
	if len(list.DelegatedAdministrators) != 1 || aws.ToString(list.DelegatedAdministrators[0].Id) != a || list.DelegatedAdministrators[0].DelegationEnabledDate == nil {
		t.Errorf("delegated administrators %+v", list.DelegatedAdministrators)
	}
	svcs, err := e.org.ListDelegatedServicesForAccount(ctx, &organizations.ListDelegatedServicesForAccountInput{AccountId: aws.String(a)})
	mustOK(t, err, "ListDelegatedServicesForAccount")
	if len(svcs.DelegatedServices) != 1 || aws.ToString(svcs.DelegatedServices[0].ServicePrincipal) != svc {
		t.Errorf("delegated services %+v", svcs.DelegatedServices)
	}

	// A delegated administrator reads the organization, and manages nothing.
	accts, err := e.member(a).ListAccounts(ctx, &organizations.ListAccountsInput{})
	mustOK(t, err, "delegated ListAccounts")
	if len(accts.Accounts) != 3 {
		t.Errorf("delegated administrator sees %d accounts", len(accts.Accounts))
	}
	_, err = e.member(a).CloseAccount(ctx, &organizations.CloseAccountInput{AccountId: aws.String(b)})
	wantErr(t, err, "AccessDeniedException", "You don't have permissions to access this resource.")

	_, err = e.org.DeregisterDelegatedAdministrator(ctx, &organizations.DeregisterDelegatedAdministratorInput{AccountId: aws.String(a), ServicePrincipal: aws.String(svc)})
	mustOK(t, err, "DeregisterDelegatedAdministrator")
	_, err = e.org.DeregisterDelegatedAdministrator(ctx, &organizations.DeregisterDelegatedAdministratorInput{AccountId: aws.String(a), ServicePrincipal: aws.String(svc)})
	wantErr(t, err, "AccountNotRegisteredException", "not a registered delegated administrator")
	_, err = e.member(a).ListAccounts(ctx, &organizations.ListAccountsInput{})
	wantErr(t, err, "AccessDeniedException", "You don't have permissions to access this resource.")
}

// standalone creates an account outside any organization, with a root key
// the test knows.
func (e *env) standalone(t *testing.T, id, email string) *organizations.Client {
	t.Helper()
	if _, err := authn.EnsureAccount(context.Background(), e.Store, e.Barrier, authn.Account{ID: id, Name: "standalone-" + id, Email: email}, "AKIA"+id, "secret-"+id); err != nil {
		t.Fatal(err)
	}
	return e.member(id)
}

func TestInvitations(t *testing.T) {
	e := start(t)
	ctx := context.Background()
	_, root := e.setup(t)
	e.enable(t, root, types.PolicyTypeServiceControlPolicy)
	x := e.standalone(t, "111111111111", "x@example.com")
	e.standalone(t, "222222222222", "y@example.com")

	inv, err := e.org.InviteAccountToOrganization(ctx, &organizations.InviteAccountToOrganizationInput{Target: &types.HandshakeParty{Id: aws.String("111111111111"), Type: types.HandshakePartyTypeAccount}, Notes: aws.String("join us")})
	mustOK(t, err, "InviteAccountToOrganization")
	h := inv.Handshake
	if h.State != types.HandshakeStateOpen || h.Action != types.ActionTypeInviteAccountToOrganization || len(aws.ToString(h.Id)) != 12 {
		t.Fatalf("handshake %+v", h)
	}
	_, err = e.org.InviteAccountToOrganization(ctx, &organizations.InviteAccountToOrganizationInput{Target: &types.HandshakeParty{Id: aws.String("111111111111"), Type: types.HandshakePartyTypeAccount}})
	wantErr(t, err, "DuplicateHandshakeException", "already exists")
	_, err = e.org.InviteAccountToOrganization(ctx, &organizations.InviteAccountToOrganizationInput{Target: &types.HandshakeParty{Id: aws.String("333333333333"), Type: types.HandshakePartyTypeAccount}})
	wantErr(t, err, "AccountNotFoundException", "account that doesn't exist")

	mine, err := x.ListHandshakesForAccount(ctx, &organizations.ListHandshakesForAccountInput{})
	mustOK(t, err, "ListHandshakesForAccount")
	if len(mine.Handshakes) != 1 || aws.ToString(mine.Handshakes[0].Id) != aws.ToString(h.Id) {
		t.Fatalf("invited account sees %+v", mine.Handshakes)
	}
	acc, err := x.AcceptHandshake(ctx, &organizations.AcceptHandshakeInput{HandshakeId: h.Id})
	mustOK(t, err, "AcceptHandshake")
	if acc.Handshake.State != types.HandshakeStateAccepted {
		t.Errorf("accepted handshake %s", acc.Handshake.State)
	}
	_, err = x.AcceptHandshake(ctx, &organizations.AcceptHandshakeInput{HandshakeId: h.Id})
	wantErr(t, err, "HandshakeAlreadyInStateException", "already in the requested state")
	a, err := e.org.DescribeAccount(ctx, &organizations.DescribeAccountInput{AccountId: aws.String("111111111111")})
	mustOK(t, err, "DescribeAccount")
	if a.Account.JoinedMethod != types.AccountJoinedMethodInvited || aws.ToString(a.Account.Email) != "x@example.com" {
		t.Errorf("invited account %+v", a.Account)
	}
	if got := e.policiesFor(t, "111111111111", types.PolicyTypeServiceControlPolicy); len(got) != 1 || got[0] != "p-FullAWSAccess" {
		t.Errorf("SCPs of the invited account: %v", got)
	}

	// By email; declined; then cancelled ones cannot be accepted.
	inv, err = e.org.InviteAccountToOrganization(ctx, &organizations.InviteAccountToOrganizationInput{Target: &types.HandshakeParty{Id: aws.String("Y@example.com"), Type: types.HandshakePartyTypeEmail}})
	mustOK(t, err, "invite by email")
	y := e.member("222222222222")
	_, err = y.DeclineHandshake(ctx, &organizations.DeclineHandshakeInput{HandshakeId: inv.Handshake.Id})
	mustOK(t, err, "DeclineHandshake")
	_, err = y.AcceptHandshake(ctx, &organizations.AcceptHandshakeInput{HandshakeId: inv.Handshake.Id})
	wantErr(t, err, "InvalidHandshakeTransitionException", "DECLINED")
	inv, err = e.org.InviteAccountToOrganization(ctx, &organizations.InviteAccountToOrganizationInput{Target: &types.HandshakeParty{Id: aws.String("222222222222"), Type: types.HandshakePartyTypeAccount}})
	mustOK(t, err, "invite again")
	_, err = e.org.CancelHandshake(ctx, &organizations.CancelHandshakeInput{HandshakeId: inv.Handshake.Id})
	mustOK(t, err, "CancelHandshake")
	_, err = y.AcceptHandshake(ctx, &organizations.AcceptHandshakeInput{HandshakeId: inv.Handshake.Id})
	wantErr(t, err, "InvalidHandshakeTransitionException", "CANCELED")
	_, err = y.DescribeOrganization(ctx, &organizations.DescribeOrganizationInput{})
	wantErr(t, err, "AWSOrganizationsNotInUseException", "not a member")
	// Another account's handshake is not found.
	_, err = y.AcceptHandshake(ctx, &organizations.AcceptHandshakeInput{HandshakeId: h.Id})
	wantErr(t, err, "HandshakeNotFoundException", "HandshakeId")

	all, err := e.org.ListHandshakesForOrganization(ctx, &organizations.ListHandshakesForOrganizationInput{})
	mustOK(t, err, "ListHandshakesForOrganization")
	if len(all.Handshakes) != 3 {
		t.Errorf("%d handshakes, want 3", len(all.Handshakes))
	}
	d, err := e.org.DescribeHandshake(ctx, &organizations.DescribeHandshakeInput{HandshakeId: h.Id})
	mustOK(t, err, "DescribeHandshake")
	if d.Handshake.State != types.HandshakeStateAccepted {
		t.Errorf("described %s", d.Handshake.State)
	}
}

func TestEffectiveTagPolicy(t *testing.T) {
	e := start(t)
	ctx := context.Background()
	_, root := e.setup(t)
	ou := e.newOU(t, root, "OU")
	acct := e.newAccount(t, "a")
	_, err := e.org.MoveAccount(ctx, &organizations.MoveAccountInput{AccountId: aws.String(acct), SourceParentId: aws.String(root), DestinationParentId: aws.String(ou)})
	mustOK(t, err, "MoveAccount")

	_, err = e.org.DescribeEffectivePolicy(ctx, &organizations.DescribeEffectivePolicyInput{PolicyType: types.EffectivePolicyTypeTagPolicy, TargetId: aws.String(acct)})
	wantErr(t, err, "EffectivePolicyNotFoundException", "TAG_POLICY")

	e.enable(t, root, types.PolicyTypeTagPolicy)
	rootPol := e.createPolicy(t, "Root", `{"tags":{"costcenter":{"tag_key":{"@@assign":"CostCenter"},"tag_value":{"@@assign":["100","200"]}},"project":{"tag_key":{"@@assign":"Project"}}}}`, types.PolicyTypeTagPolicy)
	ouPol := e.createPolicy(t, "OU", `{"tags":{"costcenter":{"tag_value":{"@@append":["300"]},"enforced_for":{"@@assign":["secretsmanager:*"]}},"project":{"@@remove":null}}}`, types.PolicyTypeTagPolicy)
	for target, id := range map[string]string{root: rootPol, ou: ouPol} {
		_, err := e.org.AttachPolicy(ctx, &organizations.AttachPolicyInput{PolicyId: aws.String(id), TargetId: aws.String(target)})
		mustOK(t, err, "AttachPolicy")
	}

	want := map[string]any{"tags": map[string]any{"costcenter": map[string]any{
		"tag_key": "CostCenter", "tag_value": []any{"100", "200", "300"}, "enforced_for": []any{"secretsmanager:*"},
	}}}
	for name, c := range map[string]*organizations.Client{"management": e.org, "the account itself": e.member(acct)} {
		out, err := c.DescribeEffectivePolicy(ctx, &organizations.DescribeEffectivePolicyInput{PolicyType: types.EffectivePolicyTypeTagPolicy, TargetId: aws.String(acct)})
		mustOK(t, err, "DescribeEffectivePolicy by "+name)
		var got map[string]any
		if err := json.Unmarshal([]byte(aws.ToString(out.EffectivePolicy.PolicyContent)), &got); err != nil {
			t.Fatal(err)
		}
		if !reflect.DeepEqual(got, want) {
			t.Errorf("effective policy for %s: %s", name, aws.ToString(out.EffectivePolicy.PolicyContent))
		}
	}
	// The management account, under the root alone.
	out, err := e.org.DescribeEffectivePolicy(ctx, &organizations.DescribeEffectivePolicyInput{PolicyType: types.EffectivePolicyTypeTagPolicy})
	mustOK(t, err, "DescribeEffectivePolicy for the caller")
	var got map[string]any
	_ = json.Unmarshal([]byte(aws.ToString(out.EffectivePolicy.PolicyContent)), &got)
	if tags, _ := got["tags"].(map[string]any); len(tags) != 2 || aws.ToString(out.EffectivePolicy.TargetId) != "000000000000" {
		t.Errorf("management effective policy %s", aws.ToString(out.EffectivePolicy.PolicyContent))
	}

	_, err = e.org.DescribeEffectivePolicy(ctx, &organizations.DescribeEffectivePolicyInput{PolicyType: types.EffectivePolicyTypeTagPolicy, TargetId: aws.String(ou)})
	wantErr(t, err, "InvalidInputException", "TARGET_NOT_SUPPORTED")
	_, err = e.member(acct).DescribeEffectivePolicy(ctx, &organizations.DescribeEffectivePolicyInput{PolicyType: types.EffectivePolicyTypeTagPolicy, TargetId: aws.String("000000000000")})
	wantErr(t, err, "AccessDeniedException", "You don't have permissions to access this resource.")
}
