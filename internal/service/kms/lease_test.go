package kms_test

import (
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/kms"

	"github.com/rampart/rampart/internal/store"

	kmssvc "github.com/rampart/rampart/internal/service/kms"
)

// TestSweepLease: of the KMS instances sharing a store, only the one
// holding the sweep lease sweeps; when it closes, another takes over.
func TestSweepLease(t *testing.T) {
	srv, c := start(t)
	leaser, ok := srv.Store.(store.Leaser)
	if !ok {
		t.Fatalf("the test store %T is not a store.Leaser", srv.Store)
	}
	k := createKey(t, c, nil)
	if _, err := c.ScheduleKeyDeletion(ctx, &kms.ScheduleKeyDeletionInput{KeyId: k.KeyId, PendingWindowInDays: aws.Int32(7)}); err != nil {
		t.Fatal(err)
	}
	due := time.Now().Add(8 * 24 * time.Hour)

	a, b := worker(t, srv), worker(t, srv)
	// Somebody else (another node) holds the lease: nobody here sweeps.
	other, won, err := leaser.TryLead(ctx, kmssvc.SweepLease)
	if err != nil || !won {
		t.Fatalf("TryLead: %v %v", won, err)
	}
	for name, w := range map[string]*kmssvc.Service{"a": a, "b": b} {
		if led, err := w.SweepIfLeader(ctx, due); err != nil || led {
			t.Fatalf("%s swept (%v, %v) while another held the lease", name, led, err)
		}
	}
	if st := keyState(t, c, *k.KeyId); st != "PendingDeletion" {
		t.Fatalf("key %s without a sweep", st)
	}
	other.Release()

	// a takes the lease and keeps it: b does not sweep, nor can another node lead.
	if led, err := a.SweepIfLeader(ctx, time.Now()); err != nil || !led {
		t.Fatalf("a: led %v, %v", led, err)
	}
	if led, err := b.SweepIfLeader(ctx, due); err != nil || led {
		t.Fatalf("b swept (%v, %v) while a held the lease", led, err)
	}
	if _, won, err := leaser.TryLead(ctx, kmssvc.SweepLease); err != nil || won {
		t.Fatalf("the lease was free while a held it (%v, %v)", won, err)
	}
	if st := keyState(t, c, *k.KeyId); st != "PendingDeletion" {
		t.Fatalf("key %s", st)
	}
	if led, err := a.SweepIfLeader(ctx, due); err != nil || !led {
		t.Fatalf("a: led %v, %v", led, err)
	}
	_, err = c.DescribeKey(ctx, &kms.DescribeKeyInput{KeyId: k.KeyId})
	wantErr(t, err, "NotFoundException", 400, "does not exist")

	// a closes and releases the lease; b leads from then on.
	a.Close()
	if led, err := a.SweepIfLeader(ctx, due); err != nil || led {
		t.Fatalf("a swept after Close (%v, %v)", led, err)
	}
	if led, err := b.SweepIfLeader(ctx, due); err != nil || !led {
		t.Fatalf("b did not take over: led %v, %v", led, err)
	}
}
