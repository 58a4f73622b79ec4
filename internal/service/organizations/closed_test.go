package organizations_test

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/iam"
	"github.com/aws/aws-sdk-go-v2/service/kms"
	"github.com/aws/aws-sdk-go-v2/service/organizations"
	"github.com/aws/aws-sdk-go-v2/service/organizations/types"
	"github.com/aws/aws-sdk-go-v2/service/sts"
	"github.com/aws/smithy-go"

	"github.com/rampart/rampart/internal/rampartest"
	orgs "github.com/rampart/rampart/internal/service/organizations"
)

// A closed account's credentials stop working: with the whole of rampart
// (the real authorizer, IAM, STS, KMS and accounts really created), a role
// session in a member account works until CloseAccount, then every request
// it makes is denied, and so is assuming the role again; the management
// account is unaffected.
func TestClosedAccountCredentialsStopWorking(t *testing.T) {
	srv := rampartest.Start(t)
	ctx := context.Background()
	org := organizations.NewFromConfig(srv.Config())
	_, err := org.CreateOrganization(ctx, &organizations.CreateOrganizationInput{FeatureSet: types.OrganizationFeatureSetAll})
	mustOK(t, err, "CreateOrganization")
	ca, err := org.CreateAccount(ctx, &organizations.CreateAccountInput{AccountName: aws.String("doomed"), Email: aws.String("doomed@example.com")})
	mustOK(t, err, "CreateAccount")
	st, err := org.DescribeCreateAccountStatus(ctx, &organizations.DescribeCreateAccountStatusInput{CreateAccountRequestId: ca.CreateAccountStatus.Id})
	mustOK(t, err, "DescribeCreateAccountStatus")
	if st.CreateAccountStatus.State != types.CreateAccountStateSucceeded {
		t.Fatalf("create account: %+v", st.CreateAccountStatus)
	}
	member := aws.ToString(st.CreateAccountStatus.AccountId)

	// The management account's administrator (the root user may not assume roles).
	iamc := iam.NewFromConfig(srv.Config())
	_, err = iamc.CreateUser(ctx, &iam.CreateUserInput{UserName: aws.String("admin")})
	mustOK(t, err, "CreateUser")
	_, err = iamc.AttachUserPolicy(ctx, &iam.AttachUserPolicyInput{UserName: aws.String("admin"), PolicyArn: aws.String("arn:aws:iam::aws:policy/AdministratorAccess")})
	mustOK(t, err, "AttachUserPolicy")
	key, err := iamc.CreateAccessKey(ctx, &iam.CreateAccessKeyInput{UserName: aws.String("admin")})
	mustOK(t, err, "CreateAccessKey")
	admin := srv.ConfigFor(aws.ToString(key.AccessKey.AccessKeyId), aws.ToString(key.AccessKey.SecretAccessKey), "")
	role := &sts.AssumeRoleInput{RoleArn: aws.String("arn:aws:iam::" + member + ":role/OrganizationAccountAccessRole"), RoleSessionName: aws.String("ops")}
	ar, err := sts.NewFromConfig(admin).AssumeRole(ctx, role)
	mustOK(t, err, "AssumeRole")
	c := ar.Credentials
	session := kms.NewFromConfig(srv.ConfigFor(aws.ToString(c.AccessKeyId), aws.ToString(c.SecretAccessKey), aws.ToString(c.SessionToken)))
	_, err = session.CreateKey(ctx, &kms.CreateKeyInput{})
	mustOK(t, err, "CreateKey in the member account")

	_, err = org.CloseAccount(ctx, &organizations.CloseAccountInput{AccountId: aws.String(member)})
	mustOK(t, err, "CloseAccount")
	d, err := org.DescribeAccount(ctx, &organizations.DescribeAccountInput{AccountId: aws.String(member)})
	mustOK(t, err, "DescribeAccount")
	if d.Account.State != types.AccountStateSuspended {
		t.Fatalf("closed account is %s", d.Account.State)
	}
	g := orgs.NewGuardrails(srv.Store)
	defer g.Close()
	if closed, err := g.Suspended(ctx, member); err != nil || !closed {
		t.Errorf("Suspended(%s) = %v, %v", member, closed, err)
	}
	if closed, err := g.Suspended(ctx, "000000000000"); err != nil || closed {
		t.Errorf("Suspended(management) = %v, %v", closed, err)
	}

	for name, call := range map[string]func() error{
		"the session's next request": func() error { _, err := session.ListKeys(ctx, &kms.ListKeysInput{}); return err },
		"assuming the role again":    func() error { _, err := sts.NewFromConfig(admin).AssumeRole(ctx, role); return err },
	} {
		t.Run(name, func(t *testing.T) {
			var ae smithy.APIError
			if !errors.As(call(), &ae) || !strings.HasPrefix(ae.ErrorCode(), "AccessDenied") || !strings.Contains(ae.ErrorMessage(), "The AWS account "+member+" is closed") {
				t.Fatalf("got %v, want AccessDenied for the closed account", ae)
			}
		})
	}
	// The management account is unaffected.
	_, err = kms.NewFromConfig(admin).CreateKey(ctx, &kms.CreateKeyInput{})
	mustOK(t, err, "CreateKey in the management account")
	_, err = org.CloseAccount(ctx, &organizations.CloseAccountInput{AccountId: aws.String(member)})
	wantErr(t, err, "AccountAlreadyClosedException", "already closed")
}

// The guardrails cache holds an entry per account asked about, and callers
// choose the accounts (the resource ARNs they name): it stays bounded,
// and answers stay right after it starts over.
func TestGuardrailsCacheBounded(t *testing.T) {
	ctx := context.Background()
	srv := rampartest.Start(t)
	org := organizations.NewFromConfig(srv.Config())
	_, err := org.CreateOrganization(ctx, &organizations.CreateOrganizationInput{FeatureSet: types.OrganizationFeatureSetAll})
	mustOK(t, err, "CreateOrganization")
	g := orgs.NewGuardrails(srv.Store)
	defer g.Close()
	const limit = 50
	orgs.SetMaxCachedAccounts(g, limit)
	for i := range 3 * limit {
		acct := fmt.Sprintf("9%011d", i)
		op, err := g.OrgPolicies(ctx, acct)
		if err != nil || op != nil {
			t.Fatalf("OrgPolicies(%s) = %v, %v; want no organization", acct, op, err)
		}
		if n := orgs.CachedAccounts(g); n > limit {
			t.Fatalf("%d accounts cached after %d lookups; bound %d", n, i+1, limit)
		}
	}
	op, err := g.OrgPolicies(ctx, "000000000000")
	if err != nil || op == nil || !op.Management {
		t.Fatalf("OrgPolicies(management) = %+v, %v; want the management account's", op, err)
	}
}
