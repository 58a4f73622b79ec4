package organizations_test

import (
	"context"
	"regexp"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/organizations"
	"github.com/aws/aws-sdk-go-v2/service/organizations/types"
)

func TestOrganizationLifecycle(t *testing.T) {
	e := start(t)
	ctx := context.Background()

	_, err := e.org.DescribeOrganization(ctx, &organizations.DescribeOrganizationInput{})
	wantErr(t, err, "AWSOrganizationsNotInUseException", "not a member of an organization")

	o, root := e.setup(t)
	if !regexp.MustCompile(`^o-[a-z0-9]{10}$`).MatchString(aws.ToString(o.Id)) {
		t.Errorf("organization id %q", aws.ToString(o.Id))
	}
	if !regexp.MustCompile(`^r-[a-z0-9]{4}$`).MatchString(root) {
		t.Errorf("root id %q", root)
	}
	if got, want := aws.ToString(o.Arn), "arn:aws:organizations::000000000000:organization/"+aws.ToString(o.Id); got != want {
		t.Errorf("arn %q, want %q", got, want)
	}
	if aws.ToString(o.MasterAccountId) != "000000000000" || o.FeatureSet != types.OrganizationFeatureSetAll {
		t.Errorf("organization %+v", o)
	}

	d, err := e.org.DescribeOrganization(ctx, &organizations.DescribeOrganizationInput{})
	mustOK(t, err, "DescribeOrganization")
	if aws.ToString(d.Organization.Id) != aws.ToString(o.Id) {
		t.Errorf("described %s, created %s", aws.ToString(d.Organization.Id), aws.ToString(o.Id))
	}

	_, err = e.org.CreateOrganization(ctx, &organizations.CreateOrganizationInput{})
	wantErr(t, err, "AlreadyInOrganizationException", "already a member of an organization")

	roots, err := e.org.ListRoots(ctx, &organizations.ListRootsInput{})
	mustOK(t, err, "ListRoots")
	if r := roots.Roots[0]; aws.ToString(r.Name) != "Root" || aws.ToString(r.Arn) != "arn:aws:organizations::000000000000:root/"+aws.ToString(o.Id)+"/"+root || len(r.PolicyTypes) != 0 {
		t.Errorf("root %+v", r)
	}

	// The management account is the organization's first account.
	accts, err := e.org.ListAccounts(ctx, &organizations.ListAccountsInput{})
	mustOK(t, err, "ListAccounts")
	if len(accts.Accounts) != 1 || aws.ToString(accts.Accounts[0].Id) != "000000000000" || accts.Accounts[0].JoinedMethod != types.AccountJoinedMethodCreated {
		t.Errorf("accounts %+v", accts.Accounts)
	}

	// Not while a member account remains.
	id := e.newAccount(t, "dev")
	_, err = e.org.DeleteOrganization(ctx, &organizations.DeleteOrganizationInput{})
	wantErr(t, err, "OrganizationNotEmptyException", "remove all member accounts")
	_, err = e.org.RemoveAccountFromOrganization(ctx, &organizations.RemoveAccountFromOrganizationInput{AccountId: aws.String(id)})
	mustOK(t, err, "RemoveAccountFromOrganization")

	_, err = e.org.DeleteOrganization(ctx, &organizations.DeleteOrganizationInput{})
	mustOK(t, err, "DeleteOrganization")
	_, err = e.org.DescribeOrganization(ctx, &organizations.DescribeOrganizationInput{})
	wantErr(t, err, "AWSOrganizationsNotInUseException", "not a member of an organization")

	// The account can start another organization, and so can the removed one.
	o2, _ := e.setup(t)
	if aws.ToString(o2.Id) == aws.ToString(o.Id) {
		t.Errorf("new organization reuses id %s", aws.ToString(o.Id))
	}
	_, err = e.member(id).CreateOrganization(ctx, &organizations.CreateOrganizationInput{})
	mustOK(t, err, "CreateOrganization by the removed account")
}

// Member accounts may describe their organization but not manage it.
func TestMemberAccountAccess(t *testing.T) {
	e := start(t)
	ctx := context.Background()
	o, root := e.setup(t)
	id := e.newAccount(t, "member")
	m := e.member(id)

	d, err := m.DescribeOrganization(ctx, &organizations.DescribeOrganizationInput{})
	mustOK(t, err, "member DescribeOrganization")
	if aws.ToString(d.Organization.Id) != aws.ToString(o.Id) || aws.ToString(d.Organization.MasterAccountId) != "000000000000" {
		t.Errorf("member sees %+v", d.Organization)
	}

	denied := map[string]func() error{
		"ListAccounts": func() error { _, err := m.ListAccounts(ctx, &organizations.ListAccountsInput{}); return err },
		"ListRoots":    func() error { _, err := m.ListRoots(ctx, &organizations.ListRootsInput{}); return err },
		"CreateAccount": func() error {
			_, err := m.CreateAccount(ctx, &organizations.CreateAccountInput{AccountName: aws.String("x"), Email: aws.String("x@example.com")})
			return err
		},
		"CreateOrganizationalUnit": func() error {
			_, err := m.CreateOrganizationalUnit(ctx, &organizations.CreateOrganizationalUnitInput{ParentId: aws.String(root), Name: aws.String("x")})
			return err
		},
		"DeleteOrganization": func() error {
			_, err := m.DeleteOrganization(ctx, &organizations.DeleteOrganizationInput{})
			return err
		},
		"EnablePolicyType": func() error {
			_, err := m.EnablePolicyType(ctx, &organizations.EnablePolicyTypeInput{RootId: aws.String(root), PolicyType: types.PolicyTypeServiceControlPolicy})
			return err
		},
		"CreateOrganization": func() error {
			_, err := m.CreateOrganization(ctx, &organizations.CreateOrganizationInput{})
			return err
		},
	}
	for name, call := range denied {
		t.Run(name, func(t *testing.T) {
			if name == "CreateOrganization" {
				wantErr(t, call(), "AlreadyInOrganizationException", "already a member")
				return
			}
			wantErr(t, call(), "AccessDeniedException", "You don't have permissions to access this resource.")
		})
	}
	// Nothing changed.
	accts, err := e.org.ListAccounts(ctx, &organizations.ListAccountsInput{})
	mustOK(t, err, "ListAccounts")
	ous, err := e.org.ListOrganizationalUnitsForParent(ctx, &organizations.ListOrganizationalUnitsForParentInput{ParentId: aws.String(root)})
	mustOK(t, err, "ListOrganizationalUnitsForParent")
	if len(accts.Accounts) != 2 || len(ous.OrganizationalUnits) != 0 || len(e.accounts.calls()) != 1 {
		t.Errorf("member calls changed the organization: %d accounts, %d OUs, %d creations", len(accts.Accounts), len(ous.OrganizationalUnits), len(e.accounts.calls()))
	}

	// A member leaves; the management account cannot.
	_, err = e.org.LeaveOrganization(ctx, &organizations.LeaveOrganizationInput{})
	wantErr(t, err, "MasterCannotLeaveOrganizationException", "can't remove a management account")
	_, err = m.LeaveOrganization(ctx, &organizations.LeaveOrganizationInput{})
	mustOK(t, err, "LeaveOrganization")
	_, err = m.DescribeOrganization(ctx, &organizations.DescribeOrganizationInput{})
	wantErr(t, err, "AWSOrganizationsNotInUseException", "not a member")
}
