// Package authn knows who signed a request: it keeps accounts and the access
// keys that act for their principals, secrets sealed by the barrier, and
// answers the server's "whose key is this?" from an in-memory cache that the
// store invalidates on every committed change.
package authn

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"sync"
	"time"

	"github.com/rampart/rampart/internal/authz"
	"github.com/rampart/rampart/internal/barrier"
	"github.com/rampart/rampart/internal/store"
)

// Tables this package owns.
const (
	TableAccount = "authn.account"
	TableKey     = "authn.key"
)

// ErrUnknownKey is returned by Lookup for an access key id nobody owns.
var ErrUnknownKey = errors.New("authn: unknown access key")

// Account is an AWS account served by rampart.
type Account struct {
	ID        string `json:"id"`
	Name      string `json:"name"`
	Email     string `json:"email,omitempty"`
	RootKeyID string `json:"rootKeyId,omitempty"`
	// Created is when the account was created (IAM's GetUser gives it as
	// the root user's CreateDate). Accounts stored before the field existed
	// have none: the zero time.
	Created time.Time `json:"created,omitzero"`
}

// Key is an access key as stored: the secret is sealed.
type key struct {
	AccessKeyID string          `json:"accessKeyId"`
	Principal   authz.Principal `json:"principal"`
	Status      string          `json:"status"` // Active or Inactive
	Secret      []byte          `json:"secret"` // sealed
}

// Credential is an access key that may sign requests.
type Credential struct {
	Principal authz.Principal
	Secret    string
	Active    bool
}

// String describes c without its secret, so that a credential printed by
// mistake (%v, %+v, %#v) leaks nothing.
func (c *Credential) String() string {
	if c == nil {
		return "<nil>"
	}
	return fmt.Sprintf("authn.Credential{Principal: %s, Active: %t, Secret: <redacted>}", c.Principal.ARN, c.Active)
}

// GoString is String, for %#v.
func (c *Credential) GoString() string { return c.String() }

// Authenticator resolves access key ids. It is safe for concurrent use.
type Authenticator struct {
	store   store.Store
	barrier *barrier.Barrier
	mu      sync.RWMutex
	cache   map[string]*Credential
	// gen counts invalidations of keys. Lookup caches what it read only if
	// no invalidation happened while it read: otherwise a key deleted or
	// deactivated between the read and the caching would stay cached, and
	// keep working, until its next change.
	gen    uint64
	cancel func()
}

// New returns an Authenticator over st, whose secrets b seals.
func New(st store.Store, b *barrier.Barrier) *Authenticator {
	a := &Authenticator{store: st, barrier: b, cache: map[string]*Credential{}}
	a.cancel = st.Subscribe(func(changes []store.Change) {
		a.mu.Lock()
		defer a.mu.Unlock()
		for _, c := range changes {
			switch {
			case c.Table == "" || (c.Table == TableKey && c.Key == ""):
				clear(a.cache) // a wildcard: anything may have changed
				a.gen++
			case c.Table == TableKey:
				delete(a.cache, c.Key)
				a.gen++
			}
		}
	})
	return a
}

// Close stops listening to the store.
func (a *Authenticator) Close() { a.cancel() }

// Lookup returns the credential of an access key id, or ErrUnknownKey.
func (a *Authenticator) Lookup(ctx context.Context, accessKeyID string) (*Credential, error) {
	a.mu.RLock()
	c, ok := a.cache[accessKeyID]
	gen := a.gen
	a.mu.RUnlock()
	if ok {
		return c, nil
	}
	var k key
	err := a.store.View(ctx, func(tx store.Tx) error {
		v, err := tx.Get(TableKey, accessKeyID)
		if err != nil {
			return err
		}
		return json.Unmarshal(v, &k)
	})
	if errors.Is(err, store.ErrNotFound) {
		return nil, ErrUnknownKey
	}
	if err != nil {
		return nil, err
	}
	secret, err := a.barrier.Open(k.Secret, aad(accessKeyID))
	if err != nil {
		return nil, fmt.Errorf("authn: open secret of %s: %w", accessKeyID, err)
	}
	c = &Credential{Principal: k.Principal, Secret: string(secret), Active: k.Status == "Active"}
	a.mu.Lock()
	if a.gen == gen {
		a.cache[accessKeyID] = c
	}
	a.mu.Unlock()
	return c, nil
}

func aad(accessKeyID string) []byte { return []byte(TableKey + "/" + accessKeyID) }

// PutKey stores an access key for p within tx, its secret sealed by b.
func PutKey(tx store.Tx, b *barrier.Barrier, accessKeyID, secret string, p authz.Principal, active bool) error {
	sealed, err := b.Seal([]byte(secret), aad(accessKeyID))
	if err != nil {
		return err
	}
	status := "Active"
	if !active {
		status = "Inactive"
	}
	v, err := json.Marshal(key{AccessKeyID: accessKeyID, Principal: p, Status: status, Secret: sealed})
	if err != nil {
		return err
	}
	return tx.Put(TableKey, accessKeyID, v)
}

// RootPrincipal is the root user of an account.
func RootPrincipal(account string) authz.Principal {
	return authz.Principal{Type: authz.Root, Account: account, ARN: "arn:aws:iam::" + account + ":root", ID: account}
}

// EnsureAccount creates the account unless it exists, and makes the given
// key its root user's only root access key (dev mode passes its key on every
// start; a changed key replaces the old one). It reports whether it created
// the account.
func EnsureAccount(ctx context.Context, st store.Store, b *barrier.Barrier, acct Account, rootKeyID, rootSecret string) (created bool, err error) {
	err = st.Update(ctx, func(tx store.Tx) error {
		created = false
		var old Account
		switch v, err := tx.Get(TableAccount, acct.ID); {
		case errors.Is(err, store.ErrNotFound):
			created = true
		case err != nil:
			return err
		default:
			if err := json.Unmarshal(v, &old); err != nil {
				return err
			}
			acct.Created = old.Created // an account is created once
			if old.RootKeyID != "" && old.RootKeyID != rootKeyID {
				if _, err := tx.Delete(TableKey, old.RootKeyID); err != nil {
					return err
				}
			}
		}
		acct.RootKeyID = rootKeyID
		if created && acct.Created.IsZero() {
			acct.Created = time.Now().UTC().Truncate(time.Second)
		}
		v, err := json.Marshal(acct)
		if err != nil {
			return err
		}
		if err := tx.Put(TableAccount, acct.ID, v); err != nil {
			return err
		}
		p := RootPrincipal(acct.ID)
		p.AccessKeyID = rootKeyID
		return PutKey(tx, b, rootKeyID, rootSecret, p, true)
	})
	return created, err
}

// CreateAccount stores a new account and its root access key within tx.
// When acct.Created is zero, the account is created now.
func CreateAccount(tx store.Tx, b *barrier.Barrier, acct Account, rootKeyID, rootSecret string) error {
	acct.RootKeyID = rootKeyID
	if acct.Created.IsZero() {
		acct.Created = time.Now().UTC().Truncate(time.Second)
	}
	v, err := json.Marshal(acct)
	if err != nil {
		return err
	}
	if err := tx.Insert(TableAccount, acct.ID, v); err != nil {
		return err
	}
	p := RootPrincipal(acct.ID)
	p.AccessKeyID = rootKeyID
	return PutKey(tx, b, rootKeyID, rootSecret, p, true)
}
