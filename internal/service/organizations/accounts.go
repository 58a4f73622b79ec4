package organizations

import (
	"context"
	"errors"
	"slices"
	"sort"
	"strings"
	"time"

	"github.com/rampart/rampart/internal/authn"
	"github.com/rampart/rampart/internal/awsproto"
	"github.com/rampart/rampart/internal/service"
	"github.com/rampart/rampart/internal/store"

	orgapi "github.com/rampart/rampart/internal/api/organizations"
)

// DefaultRoleName is the role CreateAccount makes in a new account.
const DefaultRoleName = "OrganizationAccountAccessRole"

func errAccountNotFound() error {
	return orgapi.NewAccountNotFoundException("You specified an account that doesn't exist.")
}

// CreateAccount creates a member account.
//
// AWS creates accounts asynchronously: CreateAccount answers with a
// CreateAccountStatus IN_PROGRESS and clients poll DescribeCreateAccountStatus
// until SUCCEEDED or FAILED. rampart does the work within the request, in
// three steps, and answers IN_PROGRESS all the same, so that clients
// written for AWS poll exactly as they would there; the first
// DescribeCreateAccountStatus already reports the outcome:
//
//  1. one transaction checks the request, chooses the account id and
//     records the request as IN_PROGRESS, with that id;
//  2. [Accounts] creates the account, its root user and
//     OrganizationAccountAccessRole (transactions of their own);
//  3. one transaction records the outcome: SUCCEEDED, with the account
//     placed under the root, or FAILED (INTERNAL_FAILURE).
//
// A failure of step 2 is reported as a FAILED status, as AWS reports it,
// never as an error of this call. If rampart stops between steps 1 and 3
// (a crash, a lost database connection), the request stays IN_PROGRESS —
// as AWS shows a request still being worked on — until
// [createAccountTimeout] has passed; then the next DescribeCreateAccountStatus,
// ListCreateAccountStatus or ListAccounts settles it from what exists: an
// account that was created becomes a member (SUCCEEDED; its
// OrganizationAccountAccessRole is completed when Accounts implements
// [AccountFinisher]), one that was not is FAILED. No account is ever
// created and left out of the organization, and none is created twice.
func (s *Service) CreateAccount(ctx context.Context, in *orgapi.CreateAccountRequest) (*orgapi.CreateAccountResponse, error) {
	c := service.CallFrom(ctx)
	if in.RoleName != nil && *in.RoleName != DefaultRoleName {
		return nil, orgapi.NewInvalidInputException("You provided a role name that isn't valid: rampart creates the role %s in new accounts and no other.", DefaultRoleName).With("Reason", "INVALID_ROLE_NAME")
	}
	if err := checkTagAccess(ctx, c, in.Tags); err != nil {
		return nil, err
	}
	tags, err := tagMap(in.Tags)
	if err != nil {
		return nil, err
	}
	name, email := str(in.AccountName), str(in.Email)
	statusID, err := newID(c, "car-", 32)
	if err != nil {
		return nil, err
	}

	// 1. Check the request, choose the account id, record IN_PROGRESS.
	var orgID, mgmt, accountID string
	err = s.update(ctx, managerOnly, func(tx store.Tx, c *service.Call, o *org) error {
		if o.FeatureSet != string(orgapi.OrganizationFeatureSetAll) && o.FeatureSet != string(orgapi.OrganizationFeatureSetConsolidatedBilling) {
			return errDenied()
		}
		orgID, mgmt = o.ID, o.Management
		pending := 0
		for _, st := range o.Statuses {
			if st.State == string(orgapi.CreateAccountStateInProgress) {
				pending++
			}
		}
		if len(o.Accounts)+pending >= maxAccounts {
			return orgapi.NewConstraintViolationException("You attempted to exceed the limit on the number of accounts in an organization.").With("Reason", "ACCOUNT_NUMBER_LIMIT_EXCEEDED")
		}
		st := &createStatus{ID: statusID, AccountName: name, Email: email, State: string(orgapi.CreateAccountStateInProgress), Requested: c.Now, Tags: tags}
		if o.emailTaken(email) {
			st.State, st.Failure, st.Completed = string(orgapi.CreateAccountStateFailed), string(orgapi.CreateAccountFailureReasonEmailAlreadyExists), c.Now
		} else {
			id, err := newAccountID(tx, c, o)
			if err != nil {
				return err
			}
			st.AccountID, accountID = id, id
		}
		o.Statuses = append(o.Statuses, st)
		return nil
	})
	if err != nil {
		return nil, err
	}
	if accountID != "" {
		// 2. Create it, with its root user and OrganizationAccountAccessRole.
		created := false
		if s.accounts != nil {
			created = s.accounts.CreateAccount(ctx, accountID, name, email, mgmt) == nil
		}
		if s.interrupt != nil && s.interrupt() {
			return nil, errors.New("organizations: interrupted after creating account " + accountID)
		}
		// 3. Record the outcome.
		if err := s.settle(ctx, c, orgID, statusID, created); err != nil {
			return nil, err
		}
	}
	// The first answer is the one AWS gives: the request is in progress.
	first := &createStatus{ID: statusID, AccountName: name, State: string(orgapi.CreateAccountStateInProgress), Requested: c.Now}
	return &orgapi.CreateAccountResponse{CreateAccountStatus: first.api()}, nil
}

// createAccountTimeout is how long a CreateAccount request may stay
// IN_PROGRESS before the next read settles it from what exists (see
// CreateAccount). A request takes milliseconds; the margin keeps a slow
// request on another node from being settled under its feet.
const createAccountTimeout = 5 * time.Minute

// AccountFinisher is implemented by an [Accounts] that can complete an
// account whose creation was interrupted: the account exists; its
// OrganizationAccountAccessRole may not. It must be idempotent.
type AccountFinisher interface {
	FinishAccount(ctx context.Context, accountID, managementAccountID string) error
}

// emailTaken reports whether an account of o, or one being created, has
// email.
func (o *org) emailTaken(email string) bool {
	for _, a := range o.Accounts {
		if strings.EqualFold(a.Email, email) {
			return true
		}
	}
	for _, st := range o.Statuses {
		if st.State == string(orgapi.CreateAccountStateInProgress) && strings.EqualFold(st.Email, email) {
			return true
		}
	}
	return false
}

// newAccountID draws 12 random digits that no account of rampart uses, nor
// a CreateAccount request in progress.
func newAccountID(tx store.Tx, c *service.Call, o *org) (string, error) {
	for {
		id, err := randomString(c.Rand, "0123456789", 12)
		if err != nil {
			return "", err
		}
		taken := false
		for _, table := range []string{authn.TableAccount, TableMember} {
			switch _, err := tx.Get(table, id); {
			case err == nil:
				taken = true
			case !errors.Is(err, store.ErrNotFound):
				return "", err
			}
		}
		for _, st := range o.Statuses {
			taken = taken || st.AccountID == id
		}
		if !taken {
			return id, nil
		}
	}
}

// settle records the outcome of a CreateAccount request. A created account
// always joins the organization (even when the request was settled FAILED
// by a reconciliation that ran first: what exists wins); a failure is
// recorded only over IN_PROGRESS.
func (s *Service) settle(ctx context.Context, c *service.Call, orgID, statusID string, created bool) error {
	return s.st.Update(ctx, func(tx store.Tx) error {
		o, err := getOrg(tx, orgID)
		if err != nil {
			return err
		}
		var st *createStatus
		for _, x := range o.Statuses {
			if x.ID == statusID {
				st = x
			}
		}
		if st == nil || st.State == string(orgapi.CreateAccountStateSucceeded) {
			return nil
		}
		if !created {
			if st.State == string(orgapi.CreateAccountStateInProgress) {
				st.State, st.Failure, st.Completed = string(orgapi.CreateAccountStateFailed), string(orgapi.CreateAccountFailureReasonInternalFailure), c.Now
				return putOrg(tx, o)
			}
			return nil
		}
		id := st.AccountID
		st.State, st.Failure, st.Completed = string(orgapi.CreateAccountStateSucceeded), "", c.Now
		if o.Accounts[id] == nil {
			if err := tx.Insert(TableMember, id, []byte(o.ID)); err != nil {
				return err
			}
			o.Accounts[id] = &account{ID: id, Name: st.AccountName, Email: st.Email, Parent: o.RootID, State: "ACTIVE", JoinedMethod: "CREATED", Joined: c.Now, Tags: st.Tags}
			o.attachDefaults(id)
		}
		st.Tags = nil
		return putOrg(tx, o)
	})
}

// reconcile settles the CreateAccount requests of the caller's
// organization that have been IN_PROGRESS for longer than
// createAccountTimeout (see CreateAccount).
func (s *Service) reconcile(ctx context.Context) error {
	c := service.CallFrom(ctx)
	type stale struct{ status, account string }
	var orgID, mgmt string
	var todo []stale
	exists := map[string]bool{}
	err := s.st.View(ctx, func(tx store.Tx) error {
		o, err := orgOf(tx, c.Principal.Account)
		if err != nil || o == nil {
			return err
		}
		orgID, mgmt = o.ID, o.Management
		for _, st := range o.Statuses {
			if st.State == string(orgapi.CreateAccountStateInProgress) && c.Now.Sub(st.Requested) >= time.Duration(s.createTimeout.Load()) {
				todo = append(todo, stale{st.ID, st.AccountID})
				switch _, err := tx.Get(authn.TableAccount, st.AccountID); {
				case err == nil:
					exists[st.AccountID] = true
				case !errors.Is(err, store.ErrNotFound):
					return err
				}
			}
		}
		return nil
	})
	if err != nil {
		return err
	}
	for _, x := range todo {
		if exists[x.account] {
			if f, ok := s.accounts.(AccountFinisher); ok {
				if err := f.FinishAccount(ctx, x.account, mgmt); err != nil {
					return err
				}
			}
		}
		if err := s.settle(ctx, c, orgID, x.status, exists[x.account]); err != nil {
			return err
		}
	}
	return nil
}

// DescribeCreateAccountStatus returns the status of a CreateAccount request.
func (s *Service) DescribeCreateAccountStatus(ctx context.Context, in *orgapi.DescribeCreateAccountStatusRequest) (*orgapi.DescribeCreateAccountStatusResponse, error) {
	if err := s.reconcile(ctx); err != nil {
		return nil, err
	}
	var out *orgapi.CreateAccountStatus
	err := s.view(ctx, readOnly, func(_ *service.Call, o *org) error {
		for _, st := range o.Statuses {
			if st.ID == str(in.CreateAccountRequestId) {
				out = st.api()
				return nil
			}
		}
		return orgapi.NewCreateAccountStatusNotFoundException("We can't find a create account request with the CreateAccountRequestId that you specified.")
	})
	if err != nil {
		return nil, err
	}
	return &orgapi.DescribeCreateAccountStatusResponse{CreateAccountStatus: out}, nil
}

// ListCreateAccountStatus lists CreateAccount requests, optionally by state.
func (s *Service) ListCreateAccountStatus(ctx context.Context, in *orgapi.ListCreateAccountStatusRequest) (*orgapi.ListCreateAccountStatusResponse, error) {
	if err := s.reconcile(ctx); err != nil {
		return nil, err
	}
	out := &orgapi.ListCreateAccountStatusResponse{}
	err := s.view(ctx, readOnly, func(_ *service.Call, o *org) error {
		var all []orgapi.CreateAccountStatus
		for _, st := range o.Statuses {
			if len(in.States) == 0 || slices.Contains(in.States, orgapi.CreateAccountState(st.State)) {
				all = append(all, *st.api())
			}
		}
		sort.Slice(all, func(i, j int) bool { return *all[i].Id < *all[j].Id })
		items, next, err := page(all, func(s orgapi.CreateAccountStatus) string { return *s.Id }, in.NextToken, in.MaxResults, 20)
		out.CreateAccountStatuses, out.NextToken = nonNil(items), next
		return err
	})
	if err != nil {
		return nil, err
	}
	return out, nil
}

func (o *org) sortedAccounts(parent string) []orgapi.Account {
	var out []orgapi.Account
	for _, a := range o.Accounts {
		if parent == "" || a.Parent == parent {
			out = append(out, o.apiAccount(a))
		}
	}
	sort.Slice(out, func(i, j int) bool { return *out[i].Id < *out[j].Id })
	return out
}

func accountKey(a orgapi.Account) string { return *a.Id }

// ListAccounts lists every account of the organization.
func (s *Service) ListAccounts(ctx context.Context, in *orgapi.ListAccountsRequest) (*orgapi.ListAccountsResponse, error) {
	if err := s.reconcile(ctx); err != nil {
		return nil, err
	}
	out := &orgapi.ListAccountsResponse{}
	err := s.view(ctx, readOnly, func(_ *service.Call, o *org) error {
		items, next, err := page(o.sortedAccounts(""), accountKey, in.NextToken, in.MaxResults, 20)
		out.Accounts, out.NextToken = nonNil(items), next
		return err
	})
	if err != nil {
		return nil, err
	}
	return out, nil
}

// ListAccountsForParent lists the accounts directly under a root or OU.
func (s *Service) ListAccountsForParent(ctx context.Context, in *orgapi.ListAccountsForParentRequest) (*orgapi.ListAccountsForParentResponse, error) {
	out := &orgapi.ListAccountsForParentResponse{}
	err := s.view(ctx, readOnly, func(_ *service.Call, o *org) error {
		parent := str(in.ParentId)
		if !o.isParent(parent) {
			return errParentNotFound()
		}
		items, next, err := page(o.sortedAccounts(parent), accountKey, in.NextToken, in.MaxResults, 20)
		out.Accounts, out.NextToken = nonNil(items), next
		return err
	})
	if err != nil {
		return nil, err
	}
	return out, nil
}

// DescribeAccount returns an account of the organization.
func (s *Service) DescribeAccount(ctx context.Context, in *orgapi.DescribeAccountRequest) (*orgapi.DescribeAccountResponse, error) {
	var out orgapi.Account
	err := s.view(ctx, readOnly, func(_ *service.Call, o *org) error {
		a := o.Accounts[str(in.AccountId)]
		if a == nil {
			return errAccountNotFound()
		}
		out = o.apiAccount(a)
		return nil
	})
	if err != nil {
		return nil, err
	}
	return &orgapi.DescribeAccountResponse{Account: &out}, nil
}

// MoveAccount moves an account from its parent to another root or OU.
func (s *Service) MoveAccount(ctx context.Context, in *orgapi.MoveAccountRequest) (*awsproto.Empty, error) {
	err := s.update(ctx, managerOnly, func(_ store.Tx, _ *service.Call, o *org) error {
		a := o.Accounts[str(in.AccountId)]
		src, dst := str(in.SourceParentId), str(in.DestinationParentId)
		if a == nil {
			return errAccountNotFound()
		}
		if !o.isParent(src) {
			return orgapi.NewSourceParentNotFoundException("We can't find a source root or OU with the ParentId that you specified.")
		}
		if !o.isParent(dst) {
			return orgapi.NewDestinationParentNotFoundException("We can't find the destination container (a root or OU) with the ParentId that you specified.")
		}
		if a.Parent != src {
			return errAccountNotFound()
		}
		if src == dst {
			return orgapi.NewDuplicateAccountException("That account is already present in the specified destination.")
		}
		a.Parent = dst
		return nil
	})
	if err != nil {
		return nil, err
	}
	return &awsproto.Empty{}, nil
}

// removeAccount takes a member account out of o, with its attachments,
// delegations and membership.
func removeAccount(tx store.Tx, o *org, id string) error {
	delete(o.Accounts, id)
	o.detachAll(id)
	delete(o.Delegated, id)
	_, err := tx.Delete(TableMember, id)
	return err
}

// RemoveAccountFromOrganization removes a member account; the account
// itself lives on, standalone.
func (s *Service) RemoveAccountFromOrganization(ctx context.Context, in *orgapi.RemoveAccountFromOrganizationRequest) (*awsproto.Empty, error) {
	err := s.update(ctx, managerOnly, func(tx store.Tx, _ *service.Call, o *org) error {
		id := str(in.AccountId)
		if o.Accounts[id] == nil {
			return errAccountNotFound()
		}
		if id == o.Management {
			return orgapi.NewMasterCannotLeaveOrganizationException("You can't remove a management account from an organization. If you want the management account to become a member account in another organization, you must first delete the current organization of the management account.")
		}
		return removeAccount(tx, o, id)
	})
	if err != nil {
		return nil, err
	}
	return &awsproto.Empty{}, nil
}

// LeaveOrganization takes the calling member account out of its
// organization.
func (s *Service) LeaveOrganization(ctx context.Context, _ *awsproto.Empty) (*awsproto.Empty, error) {
	err := s.update(ctx, anyMember, func(tx store.Tx, c *service.Call, o *org) error {
		if c.Principal.Account == o.Management {
			return orgapi.NewMasterCannotLeaveOrganizationException("You can't remove a management account from an organization. If you want the management account to become a member account in another organization, you must first delete the current organization of the management account.")
		}
		return removeAccount(tx, o, c.Principal.Account)
	})
	if err != nil {
		return nil, err
	}
	return &awsproto.Empty{}, nil
}

// CloseAccount closes a member account: it stays in the organization as
// SUSPENDED. (rampart keeps the account's credentials; signing in to a
// closed account is for the authenticator to refuse.)
func (s *Service) CloseAccount(ctx context.Context, in *orgapi.CloseAccountRequest) (*awsproto.Empty, error) {
	err := s.update(ctx, managerOnly, func(_ store.Tx, _ *service.Call, o *org) error {
		id := str(in.AccountId)
		a := o.Accounts[id]
		if a == nil {
			return errAccountNotFound()
		}
		if id == o.Management {
			return orgapi.NewConstraintViolationException("You attempted to close the management account. To close the management account for the organization, you must first either remove or close all member accounts in the organization.").With("Reason", "CANNOT_CLOSE_MANAGEMENT_ACCOUNT")
		}
		if a.State != string(orgapi.AccountStateActive) {
			return orgapi.NewAccountAlreadyClosedException("You attempted to close an account that is already closed.")
		}
		a.State = string(orgapi.AccountStateSuspended)
		return nil
	})
	if err != nil {
		return nil, err
	}
	return &awsproto.Empty{}, nil
}
