package sts_test

import (
	"crypto/rand"
	"testing"
	"time"

	"github.com/rampart/rampart/internal/authn"
	"github.com/rampart/rampart/internal/authz"
	"github.com/rampart/rampart/internal/barrier"
)

func newSession(tb testing.TB, policies ...string) (*barrier.Barrier, *authn.SessionCredentials) {
	key := make([]byte, 32)
	rand.Read(key)
	b, err := barrier.New(key)
	if err != nil {
		tb.Fatal(err)
	}
	now := time.Now()
	cr, err := authn.NewSession(b, rand.Reader, &authn.SessionSpec{
		Principal: authz.Principal{Type: authz.AssumedRole, Account: account, ARN: "arn:aws:sts::000000000000:assumed-role/app/s",
			ID: "AROAEXAMPLE:s", Name: "app", RoleARN: "arn:aws:iam::000000000000:role/app", RoleID: "AROAEXAMPLE", SessionName: "s"},
		Policies: policies, Tags: map[string]string{"project": "alpha"}, TransitiveTagKeys: []string{"project"},
		IssuedAt: now, Expiration: now.Add(time.Hour),
	})
	if err != nil {
		tb.Fatal(err)
	}
	return b, cr
}

// BenchmarkOpenSession measures authenticating a session token (the part of
// every request signed with temporary credentials that long-term keys do
// not pay): base64, AES-GCM open, JSON decode, cached policy lookup.
func BenchmarkOpenSession(b *testing.B) {
	for _, bc := range []struct {
		name     string
		policies []string
	}{
		{"no session policy", nil},
		{"one session policy", []string{`{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":["s3:GetObject","s3:ListBucket"],"Resource":"*"}]}`}},
	} {
		b.Run(bc.name, func(b *testing.B) {
			bar, cr := newSession(b, bc.policies...)
			now := time.Now()
			b.ReportAllocs()
			for b.Loop() {
				if _, err := authn.OpenSession(bar, cr.AccessKeyID, cr.SessionToken, now); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

// FuzzOpenSession: no token opens unless the barrier sealed it for that
// key id, and nothing panics.
func FuzzOpenSession(f *testing.F) {
	bar, cr := newSession(f)
	f.Add(cr.AccessKeyID, cr.SessionToken)
	f.Add(cr.AccessKeyID, cr.SessionToken[:len(cr.SessionToken)/2])
	f.Add("ASIA", "")
	f.Fuzz(func(t *testing.T, akid, token string) {
		c, err := authn.OpenSession(bar, akid, token, time.Now())
		if err == nil && (akid != cr.AccessKeyID || c.Secret != cr.SecretAccessKey) {
			t.Fatalf("forged token opened for %q", akid)
		}
	})
}
