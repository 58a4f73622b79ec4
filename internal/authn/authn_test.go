package authn

import (
	"context"
	"crypto/rand"
	"errors"
	"fmt"
	"strings"
	"testing"

	"github.com/rampart/rampart/internal/authz"
	"github.com/rampart/rampart/internal/barrier"
	"github.com/rampart/rampart/internal/store"
	"github.com/rampart/rampart/internal/store/sqlite"
)

// racingStore runs change once, right after the next View returns: a write
// that commits between Lookup's read and its caching of what it read.
type racingStore struct {
	store.Store
	change func()
}

func (s *racingStore) View(ctx context.Context, fn func(tx store.Tx) error) error {
	err := s.Store.View(ctx, fn)
	if f := s.change; f != nil {
		s.change = nil
		f()
	}
	return err
}

func newTestAuthn(t *testing.T) (*racingStore, *barrier.Barrier, *Authenticator) {
	t.Helper()
	inner, err := sqlite.OpenMemory()
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { inner.Close() })
	root, err := barrier.NewRootKey()
	if err != nil {
		t.Fatal(err)
	}
	b, err := barrier.New(root)
	if err != nil {
		t.Fatal(err)
	}
	st := &racingStore{Store: inner}
	a := New(st, b)
	t.Cleanup(a.Close)
	return st, b, a
}

// A key changed while Lookup reads it must not stay cached as it was: the
// next Lookup sees the change.
func TestLookupDoesNotCacheAcrossAChange(t *testing.T) {
	ctx := context.Background()
	p := authz.Principal{Type: authz.IAMUser, Account: "000000000000", ARN: "arn:aws:iam::000000000000:user/alice", Name: "alice"}
	tests := map[string]struct {
		change     func(tx store.Tx, b *barrier.Barrier) error
		wantErr    error
		wantActive bool
	}{
		"deleted": {
			change:  func(tx store.Tx, _ *barrier.Barrier) error { _, err := tx.Delete(TableKey, "AKIAALICE"); return err },
			wantErr: ErrUnknownKey,
		},
		"deactivated": {
			change: func(tx store.Tx, b *barrier.Barrier) error { return PutKey(tx, b, "AKIAALICE", "s3cr3t", p, false) },
		},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			st, b, a := newTestAuthn(t)
			if err := st.Update(ctx, func(tx store.Tx) error { return PutKey(tx, b, "AKIAALICE", "s3cr3t", p, true) }); err != nil {
				t.Fatal(err)
			}
			st.change = func() {
				if err := st.Update(ctx, func(tx store.Tx) error { return tc.change(tx, b) }); err != nil {
					t.Error(err)
				}
			}
			c, err := a.Lookup(ctx, "AKIAALICE")
			if err != nil || !c.Active {
				t.Fatalf("first Lookup = %+v, %v; want the active key as read before the change", c, err)
			}
			c, err = a.Lookup(ctx, "AKIAALICE")
			if tc.wantErr != nil {
				if !errors.Is(err, tc.wantErr) {
					t.Fatalf("Lookup after the change = %v, %v; want %v", c, err, tc.wantErr)
				}
				return
			}
			if err != nil || c.Active != tc.wantActive {
				t.Fatalf("Lookup after the change = %+v, %v; want Active=%v", c, err, tc.wantActive)
			}
		})
	}
}

// An unchanged key is read from the store once, then from the cache.
func TestLookupCaches(t *testing.T) {
	ctx := context.Background()
	st, b, a := newTestAuthn(t)
	p := RootPrincipal("000000000000")
	if err := st.Update(ctx, func(tx store.Tx) error { return PutKey(tx, b, "AKIAROOT", "s3cr3t", p, true) }); err != nil {
		t.Fatal(err)
	}
	first, err := a.Lookup(ctx, "AKIAROOT")
	if err != nil {
		t.Fatal(err)
	}
	second, err := a.Lookup(ctx, "AKIAROOT")
	if err != nil {
		t.Fatal(err)
	}
	if first != second {
		t.Errorf("second Lookup read the store again; want the cached credential")
	}
	if first.Secret != "s3cr3t" || first.Principal.ARN != p.ARN {
		t.Errorf("Lookup = %s %q, want %s and the stored secret", first.Principal.ARN, first.Secret, p.ARN)
	}
}

// Key ids encode their account; secrets are 40 characters of the secret
// alphabet.
func TestNewKeyIDAndSecret(t *testing.T) {
	for _, acct := range []string{"000000000000", "123456789012", "999999999999"} {
		id, err := NewKeyID("AKIA", acct, rand.Reader)
		if err != nil {
			t.Fatal(err)
		}
		if got, ok := KeyIDAccount(id); !ok || got != acct || len(id) != 20 {
			t.Errorf("KeyIDAccount(%s) = %s, %v; want %s", id, got, ok, acct)
		}
	}
	s, err := NewSecret(rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	if len(s) != 40 {
		t.Errorf("len(NewSecret()) = %d, want 40", len(s))
	}
}

// Credentials printed by mistake show no secret.
func TestCredentialsPrintNoSecret(t *testing.T) {
	c := &Credential{Principal: RootPrincipal("000000000000"), Secret: "wJalrXUtnFEMI", Active: true}
	sc := &SessionCredentials{AccessKeyID: "ASIAEXAMPLE", SecretAccessKey: "wJalrXUtnFEMI", SessionToken: "FwoGZXIvYXdzEXAMPLE"}
	for _, format := range []string{"%v", "%+v", "%#v", "%s"} {
		for _, v := range []any{c, sc} {
			out := fmt.Sprintf(format, v)
			if strings.Contains(out, "wJalrXUtnFEMI") || strings.Contains(out, "FwoGZXIvYXdzEXAMPLE") {
				t.Errorf("Sprintf(%q, %T) = %s: shows a secret", format, v, out)
			}
		}
	}
	if out := fmt.Sprintf("%v", c); !strings.Contains(out, "arn:aws:iam::000000000000:root") {
		t.Errorf("Sprintf(%%v, credential) = %s; want the principal named", out)
	}
}
