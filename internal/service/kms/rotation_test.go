package kms_test

import (
	"bytes"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/kms"
	"github.com/aws/aws-sdk-go-v2/service/kms/types"

	"github.com/rampart/rampart/internal/rampartest"

	kmssvc "github.com/rampart/rampart/internal/service/kms"
)

// worker returns a second KMS service over the server's store, whose
// Sweep tests call with the time they need; the serving instance sees its
// changes through the store's subscription.
func worker(t *testing.T, srv *rampartest.Server) *kmssvc.Service {
	s := kmssvc.New(srv.Store, srv.Barrier)
	t.Cleanup(s.Close)
	return s
}

func TestRotation(t *testing.T) {
	srv, c := start(t)
	k := createKey(t, c, nil)
	old, err := c.Encrypt(ctx, &kms.EncryptInput{KeyId: k.KeyId, Plaintext: []byte("before")})
	if err != nil {
		t.Fatal(err)
	}
	st, err := c.GetKeyRotationStatus(ctx, &kms.GetKeyRotationStatusInput{KeyId: k.KeyId})
	if err != nil || st.KeyRotationEnabled {
		t.Fatalf("new key rotation status: %+v %v", st, err)
	}
	_, err = c.EnableKeyRotation(ctx, &kms.EnableKeyRotationInput{KeyId: k.KeyId, RotationPeriodInDays: aws.Int32(89)})
	wantErr(t, err, "ValidationException", 400, "greater than or equal to 90")
	if _, err := c.EnableKeyRotation(ctx, &kms.EnableKeyRotationInput{KeyId: k.KeyId, RotationPeriodInDays: aws.Int32(90)}); err != nil {
		t.Fatal(err)
	}
	st, err = c.GetKeyRotationStatus(ctx, &kms.GetKeyRotationStatusInput{KeyId: k.KeyId})
	if err != nil || !st.KeyRotationEnabled || *st.RotationPeriodInDays != 90 || st.NextRotationDate.Sub(time.Now()) < 89*24*time.Hour {
		t.Fatalf("rotation status: %+v %v", st, err)
	}

	// On demand: new material is current at once, old ciphertexts still open.
	if _, err := c.RotateKeyOnDemand(ctx, &kms.RotateKeyOnDemandInput{KeyId: k.KeyId}); err != nil {
		t.Fatal(err)
	}
	d, _ := c.DescribeKey(ctx, &kms.DescribeKeyInput{KeyId: k.KeyId})
	if *d.KeyMetadata.CurrentKeyMaterialId == *k.CurrentKeyMaterialId {
		t.Fatal("RotateKeyOnDemand kept the key material")
	}
	// Automatic: the worker rotates when the period has passed.
	if err := worker(t, srv).Sweep(ctx, time.Now().Add(91*24*time.Hour)); err != nil {
		t.Fatal(err)
	}
	rots, err := c.ListKeyRotations(ctx, &kms.ListKeyRotationsInput{KeyId: k.KeyId})
	if err != nil || len(rots.Rotations) != 2 || rots.Rotations[0].RotationType != types.RotationTypeOnDemand ||
		rots.Rotations[1].RotationType != types.RotationTypeAutomatic || rots.Rotations[1].KeyMaterialState != types.KeyMaterialStateCurrent {
		t.Fatalf("ListKeyRotations: %+v %v", rots, err)
	}
	page, err := c.ListKeyRotations(ctx, &kms.ListKeyRotationsInput{KeyId: k.KeyId, Limit: aws.Int32(1)})
	if err != nil || len(page.Rotations) != 1 || !page.Truncated {
		t.Fatalf("ListKeyRotations page: %+v %v", page, err)
	}
	d, _ = c.DescribeKey(ctx, &kms.DescribeKeyInput{KeyId: k.KeyId})
	if *d.KeyMetadata.CurrentKeyMaterialId != *rots.Rotations[1].KeyMaterialId {
		t.Fatal("automatic rotation did not make its material current")
	}
	dec, err := c.Decrypt(ctx, &kms.DecryptInput{CiphertextBlob: old.CiphertextBlob})
	if err != nil || string(dec.Plaintext) != "before" || *dec.KeyMaterialId != *k.CurrentKeyMaterialId {
		t.Fatalf("old ciphertext after rotations: %v", err)
	}
	enc, err := c.Encrypt(ctx, &kms.EncryptInput{KeyId: k.KeyId, Plaintext: []byte("after")})
	if err != nil || bytes.Equal(enc.CiphertextBlob[29:61], old.CiphertextBlob[29:61]) {
		t.Fatalf("new ciphertext still uses the first material (%v)", err)
	}
	if _, err := c.DisableKeyRotation(ctx, &kms.DisableKeyRotationInput{KeyId: k.KeyId}); err != nil {
		t.Fatal(err)
	}

	// Keys that do not rotate.
	hmacKey := createKey(t, c, &kms.CreateKeyInput{KeySpec: types.KeySpecHmac256, KeyUsage: types.KeyUsageTypeGenerateVerifyMac})
	_, err = c.EnableKeyRotation(ctx, &kms.EnableKeyRotationInput{KeyId: hmacKey.KeyId})
	wantErr(t, err, "UnsupportedOperationException", 400, "")
	_, err = c.RotateKeyOnDemand(ctx, &kms.RotateKeyOnDemandInput{KeyId: hmacKey.KeyId})
	wantErr(t, err, "UnsupportedOperationException", 400, "")
	// On-demand rotations are limited to 10.
	for i := 1; i < 10; i++ {
		if _, err := c.RotateKeyOnDemand(ctx, &kms.RotateKeyOnDemandInput{KeyId: k.KeyId}); err != nil {
			t.Fatalf("rotation %d: %v", i+1, err)
		}
	}
	_, err = c.RotateKeyOnDemand(ctx, &kms.RotateKeyOnDemandInput{KeyId: k.KeyId})
	wantErr(t, err, "LimitExceededException", 400, "")
}

func TestScheduledDeletionByWorker(t *testing.T) {
	srv, c := start(t)
	k := createKey(t, c, nil)
	keep := createKey(t, c, nil)
	if _, err := c.CreateAlias(ctx, &kms.CreateAliasInput{AliasName: aws.String("alias/doomed"), TargetKeyId: k.KeyId}); err != nil {
		t.Fatal(err)
	}
	if _, err := c.ScheduleKeyDeletion(ctx, &kms.ScheduleKeyDeletionInput{KeyId: k.KeyId, PendingWindowInDays: aws.Int32(7)}); err != nil {
		t.Fatal(err)
	}
	w := worker(t, srv)
	if err := w.Sweep(ctx, time.Now().Add(6*24*time.Hour)); err != nil {
		t.Fatal(err)
	}
	if st := keyState(t, c, *k.KeyId); st != types.KeyStatePendingDeletion {
		t.Fatalf("deleted before its date: %s", st)
	}
	if err := w.Sweep(ctx, time.Now().Add(7*24*time.Hour+time.Minute)); err != nil {
		t.Fatal(err)
	}
	_, err := c.DescribeKey(ctx, &kms.DescribeKeyInput{KeyId: k.KeyId})
	wantErr(t, err, "NotFoundException", 400, "does not exist")
	al, _ := c.ListAliases(ctx, &kms.ListAliasesInput{})
	if len(al.Aliases) != 0 {
		t.Fatalf("aliases of a deleted key remain: %+v", al.Aliases)
	}
	if st := keyState(t, c, *keep.KeyId); st != types.KeyStateEnabled {
		t.Fatalf("the other key is %s", st)
	}
}
