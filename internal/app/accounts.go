package app

import (
	"context"
	"crypto/rand"
	"fmt"

	"github.com/rampart/rampart/internal/authn"
	"github.com/rampart/rampart/internal/barrier"
	"github.com/rampart/rampart/internal/service/iam"
	"github.com/rampart/rampart/internal/store"
)

// orgAccounts makes the accounts of Organizations' CreateAccount: the
// account and its root user in authn (with random credentials that nobody
// is shown: as in AWS, a created account is entered through its
// OrganizationAccountAccessRole), then that role through IAM.
type orgAccounts struct {
	store   store.Store
	barrier *barrier.Barrier
	iam     *iam.Service
}

// CreateAccount implements organizations.Accounts.
func (a orgAccounts) CreateAccount(ctx context.Context, accountID, name, email, managementAccountID string) error {
	keyID, err := authn.NewKeyID("AKIA", accountID, rand.Reader)
	if err != nil {
		return err
	}
	secret, err := authn.NewSecret(rand.Reader)
	if err != nil {
		return err
	}
	if err := a.store.Update(ctx, func(tx store.Tx) error {
		return authn.CreateAccount(tx, a.barrier, authn.Account{ID: accountID, Name: name, Email: email}, keyID, secret)
	}); err != nil {
		return fmt.Errorf("create account %s: %w", accountID, err)
	}
	return a.iam.BootstrapAccount(ctx, accountID, managementAccountID)
}

// FinishAccount implements organizations.AccountFinisher: an account whose
// creation was interrupted gets its OrganizationAccountAccessRole
// (BootstrapAccount does nothing when the role exists).
func (a orgAccounts) FinishAccount(ctx context.Context, accountID, managementAccountID string) error {
	return a.iam.BootstrapAccount(ctx, accountID, managementAccountID)
}
