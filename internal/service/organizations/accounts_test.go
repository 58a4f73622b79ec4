package organizations_test

import (
	"context"
	"errors"
	"regexp"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/organizations"
	"github.com/aws/aws-sdk-go-v2/service/organizations/types"
)

func TestCreateAccount(t *testing.T) {
	e := start(t)
	ctx := context.Background()
	o, root := e.setup(t)

	out, err := e.org.CreateAccount(ctx, &organizations.CreateAccountInput{
		AccountName: aws.String("Prod"), Email: aws.String("prod@example.com"),
		Tags: []types.Tag{{Key: aws.String("env"), Value: aws.String("prod")}},
	})
	mustOK(t, err, "CreateAccount")
	st := out.CreateAccountStatus
	// The first answer is IN_PROGRESS, as AWS's.
	if st.State != types.CreateAccountStateInProgress || st.AccountId != nil || !regexp.MustCompile(`^car-[a-z0-9]{32}$`).MatchString(aws.ToString(st.Id)) || aws.ToString(st.AccountName) != "Prod" {
		t.Fatalf("CreateAccount status %+v", st)
	}
	d, err := e.org.DescribeCreateAccountStatus(ctx, &organizations.DescribeCreateAccountStatusInput{CreateAccountRequestId: st.Id})
	mustOK(t, err, "DescribeCreateAccountStatus")
	done := d.CreateAccountStatus
	id := aws.ToString(done.AccountId)
	if done.State != types.CreateAccountStateSucceeded || !regexp.MustCompile(`^\d{12}$`).MatchString(id) || done.CompletedTimestamp == nil {
		t.Fatalf("completed status %+v", done)
	}
	if calls := e.accounts.calls(); len(calls) != 1 || calls[0] != (created{id, "Prod", "prod@example.com", "000000000000"}) {
		t.Errorf("Accounts calls %+v", calls)
	}

	a, err := e.org.DescribeAccount(ctx, &organizations.DescribeAccountInput{AccountId: aws.String(id)})
	mustOK(t, err, "DescribeAccount")
	acct := a.Account
	if aws.ToString(acct.Arn) != "arn:aws:organizations::000000000000:account/"+aws.ToString(o.Id)+"/"+id ||
		aws.ToString(acct.Email) != "prod@example.com" || acct.Status != types.AccountStatusActive || acct.State != types.AccountStateActive ||
		acct.JoinedMethod != types.AccountJoinedMethodCreated {
		t.Errorf("account %+v", acct)
	}
	tags, err := e.org.ListTagsForResource(ctx, &organizations.ListTagsForResourceInput{ResourceId: aws.String(id)})
	mustOK(t, err, "ListTagsForResource")
	if len(tags.Tags) != 1 || aws.ToString(tags.Tags[0].Key) != "env" {
		t.Errorf("tags %+v", tags.Tags)
	}
	under, err := e.org.ListAccountsForParent(ctx, &organizations.ListAccountsForParentInput{ParentId: aws.String(root)})
	mustOK(t, err, "ListAccountsForParent")
	if len(under.Accounts) != 2 {
		t.Errorf("accounts under root: %d", len(under.Accounts))
	}

	// The same email fails asynchronously, as in AWS, and creates nothing.
	out, err = e.org.CreateAccount(ctx, &organizations.CreateAccountInput{AccountName: aws.String("Again"), Email: aws.String("PROD@example.com")})
	mustOK(t, err, "CreateAccount duplicate email")
	d, err = e.org.DescribeCreateAccountStatus(ctx, &organizations.DescribeCreateAccountStatusInput{CreateAccountRequestId: out.CreateAccountStatus.Id})
	mustOK(t, err, "DescribeCreateAccountStatus")
	if d.CreateAccountStatus.State != types.CreateAccountStateFailed || d.CreateAccountStatus.FailureReason != types.CreateAccountFailureReasonEmailAlreadyExists {
		t.Errorf("duplicate email status %+v", d.CreateAccountStatus)
	}

	// A failure of the account's creation is a FAILED status.
	e.accounts.mu.Lock()
	e.accounts.fail = errors.New("iam unavailable")
	e.accounts.mu.Unlock()
	out, err = e.org.CreateAccount(ctx, &organizations.CreateAccountInput{AccountName: aws.String("Broken"), Email: aws.String("broken@example.com")})
	mustOK(t, err, "CreateAccount failing")
	d, err = e.org.DescribeCreateAccountStatus(ctx, &organizations.DescribeCreateAccountStatusInput{CreateAccountRequestId: out.CreateAccountStatus.Id})
	mustOK(t, err, "DescribeCreateAccountStatus")
	if d.CreateAccountStatus.State != types.CreateAccountStateFailed || d.CreateAccountStatus.FailureReason != types.CreateAccountFailureReasonInternalFailure || d.CreateAccountStatus.AccountId != nil {
		t.Errorf("failed status %+v", d.CreateAccountStatus)
	}
	all, err := e.org.ListAccounts(ctx, &organizations.ListAccountsInput{})
	mustOK(t, err, "ListAccounts")
	if len(all.Accounts) != 2 {
		t.Errorf("%d accounts after failures, want 2", len(all.Accounts))
	}

	for _, tc := range []struct {
		states []types.CreateAccountState
		want   int
	}{{nil, 3}, {[]types.CreateAccountState{types.CreateAccountStateFailed}, 2}, {[]types.CreateAccountState{types.CreateAccountStateSucceeded}, 1}, {[]types.CreateAccountState{types.CreateAccountStateInProgress}, 0}} {
		l, err := e.org.ListCreateAccountStatus(ctx, &organizations.ListCreateAccountStatusInput{States: tc.states})
		mustOK(t, err, "ListCreateAccountStatus")
		if len(l.CreateAccountStatuses) != tc.want {
			t.Errorf("ListCreateAccountStatus %v: %d, want %d", tc.states, len(l.CreateAccountStatuses), tc.want)
		}
	}

	_, err = e.org.DescribeCreateAccountStatus(ctx, &organizations.DescribeCreateAccountStatusInput{CreateAccountRequestId: aws.String("car-00000000000000000000000000000000")})
	wantErr(t, err, "CreateAccountStatusNotFoundException", "CreateAccountRequestId")
	_, err = e.org.CreateAccount(ctx, &organizations.CreateAccountInput{AccountName: aws.String("R"), Email: aws.String("r@example.com"), RoleName: aws.String("Other")})
	wantErr(t, err, "InvalidInputException", "INVALID_ROLE_NAME")
}

func TestAccountErrors(t *testing.T) {
	e := start(t)
	ctx := context.Background()
	_, root := e.setup(t)
	id := e.newAccount(t, "a1")
	ou := e.newOU(t, root, "OU")
	other := e.newOU(t, root, "Other")

	cases := map[string]struct {
		call       func() error
		code, want string
	}{
		"describe unknown": {func() error {
			_, err := e.org.DescribeAccount(ctx, &organizations.DescribeAccountInput{AccountId: aws.String("123456789012")})
			return err
		}, "AccountNotFoundException", "account that doesn't exist"},
		"move unknown account": {func() error {
			_, err := e.org.MoveAccount(ctx, &organizations.MoveAccountInput{AccountId: aws.String("123456789012"), SourceParentId: aws.String(root), DestinationParentId: aws.String(ou)})
			return err
		}, "AccountNotFoundException", "account that doesn't exist"},
		"move from unknown parent": {func() error {
			_, err := e.org.MoveAccount(ctx, &organizations.MoveAccountInput{AccountId: aws.String(id), SourceParentId: aws.String("r-zzzz"), DestinationParentId: aws.String(ou)})
			return err
		}, "SourceParentNotFoundException", "source"},
		"move to unknown parent": {func() error {
			_, err := e.org.MoveAccount(ctx, &organizations.MoveAccountInput{AccountId: aws.String(id), SourceParentId: aws.String(root), DestinationParentId: aws.String("r-zzzz")})
			return err
		}, "DestinationParentNotFoundException", "destination"},
		"move from the wrong parent": {func() error {
			_, err := e.org.MoveAccount(ctx, &organizations.MoveAccountInput{AccountId: aws.String(id), SourceParentId: aws.String(other), DestinationParentId: aws.String(ou)})
			return err
		}, "AccountNotFoundException", "account that doesn't exist"},
		"move where it is": {func() error {
			_, err := e.org.MoveAccount(ctx, &organizations.MoveAccountInput{AccountId: aws.String(id), SourceParentId: aws.String(root), DestinationParentId: aws.String(root)})
			return err
		}, "DuplicateAccountException", "already present"},
		"remove the management account": {func() error {
			_, err := e.org.RemoveAccountFromOrganization(ctx, &organizations.RemoveAccountFromOrganizationInput{AccountId: aws.String("000000000000")})
			return err
		}, "MasterCannotLeaveOrganizationException", "management account"},
		"remove unknown": {func() error {
			_, err := e.org.RemoveAccountFromOrganization(ctx, &organizations.RemoveAccountFromOrganizationInput{AccountId: aws.String("123456789012")})
			return err
		}, "AccountNotFoundException", "account that doesn't exist"},
		"close the management account": {func() error {
			_, err := e.org.CloseAccount(ctx, &organizations.CloseAccountInput{AccountId: aws.String("000000000000")})
			return err
		}, "ConstraintViolationException", "CANNOT_CLOSE_MANAGEMENT_ACCOUNT"},
		"list under unknown parent": {func() error {
			_, err := e.org.ListAccountsForParent(ctx, &organizations.ListAccountsForParentInput{ParentId: aws.String("r-zzzz")})
			return err
		}, "ParentNotFoundException", "ParentId"},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) { wantErr(t, tc.call(), tc.code, tc.want) })
	}
	// Nothing moved.
	p, err := e.org.ListParents(ctx, &organizations.ListParentsInput{ChildId: aws.String(id)})
	mustOK(t, err, "ListParents")
	if aws.ToString(p.Parents[0].Id) != root {
		t.Errorf("account moved to %s", aws.ToString(p.Parents[0].Id))
	}

	_, err = e.org.MoveAccount(ctx, &organizations.MoveAccountInput{AccountId: aws.String(id), SourceParentId: aws.String(root), DestinationParentId: aws.String(ou)})
	mustOK(t, err, "MoveAccount")
	under, err := e.org.ListAccountsForParent(ctx, &organizations.ListAccountsForParentInput{ParentId: aws.String(ou)})
	mustOK(t, err, "ListAccountsForParent")
	if len(under.Accounts) != 1 || aws.ToString(under.Accounts[0].Id) != id {
		t.Errorf("accounts under OU: %+v", under.Accounts)
	}

	_, err = e.org.CloseAccount(ctx, &organizations.CloseAccountInput{AccountId: aws.String(id)})
	mustOK(t, err, "CloseAccount")
	a, err := e.org.DescribeAccount(ctx, &organizations.DescribeAccountInput{AccountId: aws.String(id)})
	mustOK(t, err, "DescribeAccount")
	if a.Account.Status != types.AccountStatusSuspended || a.Account.State != types.AccountStateSuspended {
		t.Errorf("closed account %s/%s", a.Account.Status, a.Account.State)
	}
	_, err = e.org.CloseAccount(ctx, &organizations.CloseAccountInput{AccountId: aws.String(id)})
	wantErr(t, err, "AccountAlreadyClosedException", "already closed")
}
