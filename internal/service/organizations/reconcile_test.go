package organizations_test

import (
	"context"
	"errors"
	"slices"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/organizations"
	"github.com/aws/aws-sdk-go-v2/service/organizations/types"

	orgs "github.com/rampart/rampart/internal/service/organizations"
)

// A CreateAccount request interrupted between creating the account and
// recording it (a crash) stays IN_PROGRESS, reserves its email, and is
// settled from what exists by the next read once its time is up: an
// account that exists joins the organization, with its tags and its role
// completed; one that does not is FAILED. Nothing is created twice.
func TestCreateAccountInterrupted(t *testing.T) {
	e := start(t)
	ctx := context.Background()
	e.setup(t)
	orgs.SetCreateAccountTimeout(e.svc, time.Hour)
	noRetry := func(o *organizations.Options) { o.RetryMaxAttempts = 1 }

	interrupted := func(name string, fail bool) string {
		t.Helper()
		if fail {
			e.accounts.mu.Lock()
			e.accounts.fail = errors.New("account store unavailable")
			e.accounts.mu.Unlock()
			defer func() { e.accounts.mu.Lock(); e.accounts.fail = nil; e.accounts.mu.Unlock() }()
		}
		e.interrupt.Store(true)
		_, err := e.org.CreateAccount(ctx, &organizations.CreateAccountInput{AccountName: aws.String(name), Email: aws.String(name + "@example.com"),
			Tags: []types.Tag{{Key: aws.String("team"), Value: aws.String(name)}}}, noRetry)
		wantErr500(t, err)
		list, err := e.org.ListCreateAccountStatus(ctx, &organizations.ListCreateAccountStatusInput{})
		mustOK(t, err, "ListCreateAccountStatus")
		for _, st := range list.CreateAccountStatuses {
			if aws.ToString(st.AccountName) == name {
				if st.State != types.CreateAccountStateInProgress || st.AccountId != nil {
					t.Fatalf("interrupted request: %+v", st)
				}
				return aws.ToString(st.Id)
			}
		}
		t.Fatalf("no status for %s", name)
		return ""
	}
	made := interrupted("made", false)   // the account exists, unrecorded
	notMade := interrupted("lost", true) // nothing was created
	calls := len(e.accounts.calls())     // 2

	// Within the timeout: still in progress, not a member; the email is taken.
	dup, err := e.org.CreateAccount(ctx, &organizations.CreateAccountInput{AccountName: aws.String("dup"), Email: aws.String("MADE@example.com")})
	mustOK(t, err, "CreateAccount dup")
	d, err := e.org.DescribeCreateAccountStatus(ctx, &organizations.DescribeCreateAccountStatusInput{CreateAccountRequestId: dup.CreateAccountStatus.Id})
	mustOK(t, err, "DescribeCreateAccountStatus dup")
	if d.CreateAccountStatus.State != types.CreateAccountStateFailed || d.CreateAccountStatus.FailureReason != types.CreateAccountFailureReasonEmailAlreadyExists {
		t.Errorf("same email while in progress: %+v", d.CreateAccountStatus)
	}
	accts, err := e.org.ListAccounts(ctx, &organizations.ListAccountsInput{})
	mustOK(t, err, "ListAccounts")
	if len(accts.Accounts) != 1 {
		t.Fatalf("%d accounts before reconciliation, want the management account only", len(accts.Accounts))
	}

	_, err = e.org.DeleteOrganization(ctx, &organizations.DeleteOrganizationInput{})
	wantErr(t, err, "OrganizationNotEmptyException", "remove all member accounts")

	// Time is up: the next reads settle both.
	orgs.SetCreateAccountTimeout(e.svc, 0)
	d, err = e.org.DescribeCreateAccountStatus(ctx, &organizations.DescribeCreateAccountStatusInput{CreateAccountRequestId: aws.String(made)})
	mustOK(t, err, "DescribeCreateAccountStatus made")
	id := aws.ToString(d.CreateAccountStatus.AccountId)
	if d.CreateAccountStatus.State != types.CreateAccountStateSucceeded || id != e.accounts.calls()[0].ID {
		t.Fatalf("reconciled status %+v, want SUCCEEDED for %s", d.CreateAccountStatus, e.accounts.calls()[0].ID)
	}
	d, err = e.org.DescribeCreateAccountStatus(ctx, &organizations.DescribeCreateAccountStatusInput{CreateAccountRequestId: aws.String(notMade)})
	mustOK(t, err, "DescribeCreateAccountStatus lost")
	if d.CreateAccountStatus.State != types.CreateAccountStateFailed || d.CreateAccountStatus.FailureReason != types.CreateAccountFailureReasonInternalFailure || d.CreateAccountStatus.AccountId != nil {
		t.Errorf("reconciled status %+v, want FAILED INTERNAL_FAILURE", d.CreateAccountStatus)
	}
	accts, err = e.org.ListAccounts(ctx, &organizations.ListAccountsInput{})
	mustOK(t, err, "ListAccounts")
	if len(accts.Accounts) != 2 || !slices.ContainsFunc(accts.Accounts, func(a types.Account) bool {
		return aws.ToString(a.Id) == id && aws.ToString(a.Email) == "made@example.com" && a.JoinedMethod == types.AccountJoinedMethodCreated
	}) {
		t.Fatalf("accounts after reconciliation: %+v", accts.Accounts)
	}
	tags, err := e.org.ListTagsForResource(ctx, &organizations.ListTagsForResourceInput{ResourceId: aws.String(id)})
	mustOK(t, err, "ListTagsForResource")
	if len(tags.Tags) != 1 || aws.ToString(tags.Tags[0].Value) != "made" {
		t.Errorf("tags of the reconciled account: %+v", tags.Tags)
	}
	e.accounts.mu.Lock()
	finished := slices.Clone(e.accounts.finished)
	e.accounts.mu.Unlock()
	if len(finished) != 1 || finished[0].ID != id || finished[0].Management != "000000000000" {
		t.Errorf("FinishAccount calls %+v, want one for %s", finished, id)
	}
	if n := len(e.accounts.calls()); n != calls {
		t.Errorf("reconciliation created accounts: %d calls, want %d", n, calls)
	}
	// The member is a member: it may describe its organization.
	_, err = e.member(id).DescribeOrganization(ctx, &organizations.DescribeOrganizationInput{})
	mustOK(t, err, "DescribeOrganization as the reconciled account")
}

func wantErr500(t *testing.T, err error) {
	t.Helper()
	var re interface{ HTTPStatusCode() int }
	if !errors.As(err, &re) || re.HTTPStatusCode() != 500 {
		t.Fatalf("got %v, want a 500", err)
	}
}
