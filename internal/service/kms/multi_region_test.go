package kms_test

import (
	"bytes"
	"crypto/sha256"
	"regexp"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/kms"
	"github.com/aws/aws-sdk-go-v2/service/kms/types"

	"github.com/rampart/rampart/internal/rampartest"
	"github.com/rampart/rampart/internal/store"

	kmssvc "github.com/rampart/rampart/internal/service/kms"
)

// in returns a client of the same credentials for another region.
func in(c *kms.Client, region string) *kms.Client {
	return kms.NewFromConfig(aws.Config{}, func(o *kms.Options) {
		*o = c.Options()
		o.Region = region
	})
}

func describe(t *testing.T, c *kms.Client, id string) *types.KeyMetadata {
	t.Helper()
	out, err := c.DescribeKey(ctx, &kms.DescribeKeyInput{KeyId: aws.String(id)})
	if err != nil {
		t.Fatalf("DescribeKey: %v", err)
	}
	return out.KeyMetadata
}

// wantConfig checks a key's MultiRegionConfiguration.
func wantConfig(t *testing.T, m *types.KeyMetadata, typ types.MultiRegionKeyType, primary string, replicas ...string) {
	t.Helper()
	cfg := m.MultiRegionConfiguration
	if m.MultiRegion == nil || !*m.MultiRegion || cfg == nil {
		t.Fatalf("%s: not a multi-Region key: %+v", *m.Arn, m)
	}
	if cfg.MultiRegionKeyType != typ || *cfg.PrimaryKey.Region != primary || *cfg.PrimaryKey.Arn != "arn:aws:kms:"+primary+":000000000000:key/"+*m.KeyId {
		t.Fatalf("%s: %s with primary %s (%s); want %s with primary %s", *m.Arn, cfg.MultiRegionKeyType, *cfg.PrimaryKey.Region, *cfg.PrimaryKey.Arn, typ, primary)
	}
	var got []string
	for _, r := range cfg.ReplicaKeys {
		got = append(got, *r.Region)
		if *r.Arn != "arn:aws:kms:"+*r.Region+":000000000000:key/"+*m.KeyId {
			t.Fatalf("replica ARN %s", *r.Arn)
		}
	}
	if len(got) != len(replicas) {
		t.Fatalf("%s: replicas %v; want %v", *m.Arn, got, replicas)
	}
	for i := range got {
		if got[i] != replicas[i] {
			t.Fatalf("%s: replicas %v; want %v", *m.Arn, got, replicas)
		}
	}
}

func TestMultiRegionKey(t *testing.T) {
	srv, east := start(t)
	west := in(east, "eu-west-1")
	single := createKey(t, east, nil)
	if single.MultiRegion == nil || *single.MultiRegion || single.MultiRegionConfiguration != nil {
		t.Fatalf("single-Region key: %+v", single)
	}

	k := createKey(t, east, &kms.CreateKeyInput{MultiRegion: aws.Bool(true), Description: aws.String("primary")})
	if !regexp.MustCompile(`^mrk-[0-9a-f]{32}$`).MatchString(*k.KeyId) {
		t.Fatalf("multi-Region key id %q", *k.KeyId)
	}
	wantConfig(t, k, types.MultiRegionKeyTypePrimary, "us-east-1")
	before, err := east.Encrypt(ctx, &kms.EncryptInput{KeyId: k.KeyId, Plaintext: []byte("before replication"), EncryptionContext: map[string]string{"a": "b"}})
	if err != nil {
		t.Fatal(err)
	}

	rep, err := east.ReplicateKey(ctx, &kms.ReplicateKeyInput{KeyId: k.Arn, ReplicaRegion: aws.String("eu-west-1"), Description: aws.String("replica"),
		Tags: []types.Tag{{TagKey: aws.String("team"), TagValue: aws.String("west")}}})
	if err != nil {
		t.Fatalf("ReplicateKey: %v", err)
	}
	r := rep.ReplicaKeyMetadata
	if *r.KeyId != *k.KeyId || *r.Arn != "arn:aws:kms:eu-west-1:000000000000:key/"+*k.KeyId || *r.Description != "replica" || r.KeyState != types.KeyStateEnabled ||
		*r.CurrentKeyMaterialId != *k.CurrentKeyMaterialId || len(rep.ReplicaTags) != 1 || *rep.ReplicaPolicy == "" {
		t.Fatalf("ReplicateKey: %+v", rep)
	}
	wantConfig(t, r, types.MultiRegionKeyTypeReplica, "us-east-1", "eu-west-1")
	wantConfig(t, describe(t, east, *k.KeyId), types.MultiRegionKeyTypePrimary, "us-east-1", "eu-west-1")
	wantConfig(t, describe(t, west, *k.KeyId), types.MultiRegionKeyTypeReplica, "us-east-1", "eu-west-1")

	// At rest: one key set holds the (sealed) material; the regional
	// records hold none.
	err = srv.Store.View(ctx, func(tx store.Tx) error {
		for _, region := range []string{"us-east-1", "eu-west-1"} {
			v, err := tx.Get(kmssvc.TableKey, "000000000000/"+region+"/"+*k.KeyId)
			if err != nil {
				return err
			}
			if bytes.Contains(v, []byte(`"materials"`)) || bytes.Contains(v, []byte(`"sealed"`)) {
				t.Errorf("%s record carries key material: %s", region, v)
			}
		}
		v, err := tx.Get(kmssvc.TableKeySet, "000000000000/"+*k.KeyId)
		if err != nil {
			return err
		}
		if !bytes.Contains(v, []byte(`"sealed"`)) || !bytes.Contains(v, []byte(*k.CurrentKeyMaterialId)) {
			t.Errorf("key set lacks the material: %s", v)
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}

	// Ciphertexts are interchangeable between the regions.
	dec, err := west.Decrypt(ctx, &kms.DecryptInput{CiphertextBlob: before.CiphertextBlob, EncryptionContext: map[string]string{"a": "b"}})
	if err != nil || string(dec.Plaintext) != "before replication" || *dec.KeyId != *r.Arn {
		t.Fatalf("Decrypt in the replica's region: %v", err)
	}
	_, err = west.Decrypt(ctx, &kms.DecryptInput{CiphertextBlob: before.CiphertextBlob, EncryptionContext: map[string]string{"a": "c"}})
	wantErr(t, err, "InvalidCiphertextException", 400, "")
	fromWest, err := west.Encrypt(ctx, &kms.EncryptInput{KeyId: aws.String(*k.KeyId), Plaintext: []byte("from west")})
	if err != nil {
		t.Fatal(err)
	}
	if dec, err := east.Decrypt(ctx, &kms.DecryptInput{CiphertextBlob: fromWest.CiphertextBlob, KeyId: k.KeyId}); err != nil || string(dec.Plaintext) != "from west" {
		t.Fatalf("Decrypt in the primary's region: %v", err)
	}
	// Not with a single-Region key of the same account.
	_, err = east.Decrypt(ctx, &kms.DecryptInput{CiphertextBlob: fromWest.CiphertextBlob, KeyId: single.KeyId})
	wantErr(t, err, "IncorrectKeyException", 400, "")

	// Rotation is shared and done on the primary.
	_, err = west.RotateKeyOnDemand(ctx, &kms.RotateKeyOnDemandInput{KeyId: k.KeyId})
	wantErr(t, err, "UnsupportedOperationException", 400, "replica")
	_, err = west.EnableKeyRotation(ctx, &kms.EnableKeyRotationInput{KeyId: k.KeyId})
	wantErr(t, err, "UnsupportedOperationException", 400, "replica")
	if _, err := east.RotateKeyOnDemand(ctx, &kms.RotateKeyOnDemandInput{KeyId: k.KeyId}); err != nil {
		t.Fatal(err)
	}
	if _, err := east.EnableKeyRotation(ctx, &kms.EnableKeyRotationInput{KeyId: k.KeyId, RotationPeriodInDays: aws.Int32(100)}); err != nil {
		t.Fatal(err)
	}
	eastNow, westNow := describe(t, east, *k.KeyId), describe(t, west, *k.KeyId)
	if *eastNow.CurrentKeyMaterialId == *k.CurrentKeyMaterialId || *westNow.CurrentKeyMaterialId != *eastNow.CurrentKeyMaterialId {
		t.Fatalf("after rotation: primary material %s, replica %s (was %s)", *eastNow.CurrentKeyMaterialId, *westNow.CurrentKeyMaterialId, *k.CurrentKeyMaterialId)
	}
	st, err := west.GetKeyRotationStatus(ctx, &kms.GetKeyRotationStatusInput{KeyId: k.KeyId})
	if err != nil || !st.KeyRotationEnabled || *st.RotationPeriodInDays != 100 {
		t.Fatalf("replica's rotation status: %+v %v", st, err)
	}
	// Automatic rotation of the primary reaches the replica; every older
	// material still decrypts everywhere.
	if err := worker(t, srv).Sweep(ctx, time.Now().Add(101*24*time.Hour)); err != nil {
		t.Fatal(err)
	}
	rots, err := west.ListKeyRotations(ctx, &kms.ListKeyRotationsInput{KeyId: k.KeyId})
	if err != nil || len(rots.Rotations) != 2 || rots.Rotations[1].RotationType != types.RotationTypeAutomatic {
		t.Fatalf("replica's rotations: %+v %v", rots, err)
	}
	after, err := west.Encrypt(ctx, &kms.EncryptInput{KeyId: k.KeyId, Plaintext: []byte("after")})
	if err != nil || *after.KeyId != *r.Arn {
		t.Fatal(err)
	}
	for _, ct := range [][]byte{after.CiphertextBlob, fromWest.CiphertextBlob} {
		if _, err := east.Decrypt(ctx, &kms.DecryptInput{CiphertextBlob: ct}); err != nil {
			t.Fatalf("Decrypt in the primary's region after rotation: %v", err)
		}
		if _, err := west.Decrypt(ctx, &kms.DecryptInput{CiphertextBlob: ct}); err != nil {
			t.Fatalf("Decrypt in the replica's region after rotation: %v", err)
		}
	}

	// Key state, description, policy and tags are each key's own.
	if _, err := west.DisableKey(ctx, &kms.DisableKeyInput{KeyId: k.KeyId}); err != nil {
		t.Fatal(err)
	}
	_, err = west.Encrypt(ctx, &kms.EncryptInput{KeyId: k.KeyId, Plaintext: []byte("x")})
	wantErr(t, err, "DisabledException", 400, "is disabled")
	if _, err := east.Encrypt(ctx, &kms.EncryptInput{KeyId: k.KeyId, Plaintext: []byte("x")}); err != nil {
		t.Fatalf("the primary is disabled with its replica: %v", err)
	}
	if m := describe(t, east, *k.KeyId); *m.Description != "primary" || m.KeyState != types.KeyStateEnabled {
		t.Fatalf("primary: %+v", m)
	}
	if tags, err := east.ListResourceTags(ctx, &kms.ListResourceTagsInput{KeyId: k.KeyId}); err != nil || len(tags.Tags) != 0 {
		t.Fatalf("primary's tags: %+v %v", tags, err)
	}
	_, err = east.UpdatePrimaryRegion(ctx, &kms.UpdatePrimaryRegionInput{KeyId: k.KeyId, PrimaryRegion: aws.String("eu-west-1")})
	wantErr(t, err, "DisabledException", 400, "is disabled")
	if _, err := west.EnableKey(ctx, &kms.EnableKeyInput{KeyId: k.KeyId}); err != nil {
		t.Fatal(err)
	}

	// Bad requests change nothing.
	for name, tc := range map[string]struct {
		call   func() error
		code   string
		status int
		msg    string
	}{
		"again": {func() error {
			_, err := east.ReplicateKey(ctx, &kms.ReplicateKeyInput{KeyId: k.KeyId, ReplicaRegion: aws.String("eu-west-1")})
			return err
		}, "AlreadyExistsException", 400, "arn:aws:kms:eu-west-1:000000000000:key/" + *k.KeyId},
		"own region": {func() error {
			_, err := east.ReplicateKey(ctx, &kms.ReplicateKeyInput{KeyId: k.KeyId, ReplicaRegion: aws.String("us-east-1")})
			return err
		}, "AlreadyExistsException", 400, ""},
		"from a replica": {func() error {
			_, err := west.ReplicateKey(ctx, &kms.ReplicateKeyInput{KeyId: k.KeyId, ReplicaRegion: aws.String("ap-southeast-2")})
			return err
		}, "UnsupportedOperationException", 400, "replica"},
		"single-Region key": {func() error {
			_, err := east.ReplicateKey(ctx, &kms.ReplicateKeyInput{KeyId: single.KeyId, ReplicaRegion: aws.String("ap-southeast-2")})
			return err
		}, "UnsupportedOperationException", 400, "is not a multi-Region key"},
		"no such key": {func() error {
			_, err := east.ReplicateKey(ctx, &kms.ReplicateKeyInput{KeyId: aws.String("mrk-00000000000000000000000000000000"), ReplicaRegion: aws.String("ap-southeast-2")})
			return err
		}, "NotFoundException", 400, ""},
		"lockout": {func() error {
			_, err := east.ReplicateKey(ctx, &kms.ReplicateKeyInput{KeyId: k.KeyId, ReplicaRegion: aws.String("ap-southeast-2"), Policy: aws.String(keyPolicyFor("arn:aws:iam::000000000000:user/nobody"))})
			return err
		}, "MalformedPolicyDocumentException", 400, "will not allow you to update the key policy"},
		"reserved tag": {func() error {
			_, err := east.ReplicateKey(ctx, &kms.ReplicateKeyInput{KeyId: k.KeyId, ReplicaRegion: aws.String("ap-southeast-2"), Tags: []types.Tag{{TagKey: aws.String("aws:x"), TagValue: aws.String("y")}}})
			return err
		}, "TagException", 400, ""},
		"primary region without a replica": {func() error {
			_, err := east.UpdatePrimaryRegion(ctx, &kms.UpdatePrimaryRegionInput{KeyId: k.KeyId, PrimaryRegion: aws.String("ap-southeast-2")})
			return err
		}, "NotFoundException", 400, ""},
		"update from a replica": {func() error {
			_, err := west.UpdatePrimaryRegion(ctx, &kms.UpdatePrimaryRegionInput{KeyId: k.KeyId, PrimaryRegion: aws.String("us-east-1")})
			return err
		}, "UnsupportedOperationException", 400, "replica"},
		"update a single-Region key": {func() error {
			_, err := east.UpdatePrimaryRegion(ctx, &kms.UpdatePrimaryRegionInput{KeyId: single.KeyId, PrimaryRegion: aws.String("eu-west-1")})
			return err
		}, "UnsupportedOperationException", 400, "is not a multi-Region key"},
	} {
		t.Run(name, func(t *testing.T) { wantErr(t, tc.call(), tc.code, tc.status, tc.msg) })
	}
	if keys, err := in(east, "ap-southeast-2").ListKeys(ctx, &kms.ListKeysInput{}); err != nil || len(keys.Keys) != 0 {
		t.Fatalf("refused replications left keys: %+v %v", keys, err)
	}
	wantConfig(t, describe(t, east, *k.KeyId), types.MultiRegionKeyTypePrimary, "us-east-1", "eu-west-1")

	// The primary moves to eu-west-1; rotation follows it.
	if _, err := east.UpdatePrimaryRegion(ctx, &kms.UpdatePrimaryRegionInput{KeyId: k.KeyId, PrimaryRegion: aws.String("eu-west-1")}); err != nil {
		t.Fatalf("UpdatePrimaryRegion: %v", err)
	}
	wantConfig(t, describe(t, east, *k.KeyId), types.MultiRegionKeyTypeReplica, "eu-west-1", "us-east-1")
	wantConfig(t, describe(t, west, *k.KeyId), types.MultiRegionKeyTypePrimary, "eu-west-1", "us-east-1")
	_, err = east.RotateKeyOnDemand(ctx, &kms.RotateKeyOnDemandInput{KeyId: k.KeyId})
	wantErr(t, err, "UnsupportedOperationException", 400, "eu-west-1")
	if _, err := west.RotateKeyOnDemand(ctx, &kms.RotateKeyOnDemandInput{KeyId: k.KeyId}); err != nil {
		t.Fatal(err)
	}
	if e, w := describe(t, east, *k.KeyId), describe(t, west, *k.KeyId); *e.CurrentKeyMaterialId != *w.CurrentKeyMaterialId {
		t.Fatal("the replica does not follow the new primary's rotation")
	}
}

// TestMultiRegionDeletion: a primary key waits for its replicas
// (PendingReplicaDeletion); its waiting period begins when the last one
// is deleted; the key set goes with the last key.
func TestMultiRegionDeletion(t *testing.T) {
	srv, east := start(t)
	west := in(east, "eu-west-1")
	k := createKey(t, east, &kms.CreateKeyInput{MultiRegion: aws.Bool(true)})
	if _, err := east.ReplicateKey(ctx, &kms.ReplicateKeyInput{KeyId: k.KeyId, ReplicaRegion: aws.String("eu-west-1")}); err != nil {
		t.Fatal(err)
	}
	out, err := east.ScheduleKeyDeletion(ctx, &kms.ScheduleKeyDeletionInput{KeyId: k.KeyId, PendingWindowInDays: aws.Int32(7)})
	if err != nil || out.KeyState != types.KeyStatePendingReplicaDeletion || out.DeletionDate != nil || *out.PendingWindowInDays != 7 {
		t.Fatalf("ScheduleKeyDeletion of the primary: %+v %v", out, err)
	}
	_, err = east.Encrypt(ctx, &kms.EncryptInput{KeyId: k.KeyId, Plaintext: []byte("x")})
	wantErr(t, err, "KMSInvalidStateException", 400, "pending replica deletion")
	_, err = east.ReplicateKey(ctx, &kms.ReplicateKeyInput{KeyId: k.KeyId, ReplicaRegion: aws.String("ap-southeast-2")})
	wantErr(t, err, "KMSInvalidStateException", 400, "pending replica deletion")
	// The replica still works, and its deletion is its own.
	if _, err := west.Encrypt(ctx, &kms.EncryptInput{KeyId: k.KeyId, Plaintext: []byte("x")}); err != nil {
		t.Fatal(err)
	}
	if _, err := west.ScheduleKeyDeletion(ctx, &kms.ScheduleKeyDeletionInput{KeyId: k.KeyId, PendingWindowInDays: aws.Int32(7)}); err != nil {
		t.Fatal(err)
	}
	w := worker(t, srv)
	day8 := time.Now().Add(8 * 24 * time.Hour)
	if err := w.Sweep(ctx, day8); err != nil {
		t.Fatal(err)
	}
	_, err = west.DescribeKey(ctx, &kms.DescribeKeyInput{KeyId: k.KeyId})
	wantErr(t, err, "NotFoundException", 400, "")
	m := describe(t, east, *k.KeyId)
	if m.KeyState != types.KeyStatePendingDeletion || m.DeletionDate == nil || m.DeletionDate.Sub(day8) < 7*24*time.Hour-time.Minute {
		t.Fatalf("primary after its last replica's deletion: %s %v", m.KeyState, m.DeletionDate)
	}
	wantConfig(t, m, types.MultiRegionKeyTypePrimary, "us-east-1")
	if err := w.Sweep(ctx, day8.Add(8*24*time.Hour)); err != nil {
		t.Fatal(err)
	}
	_, err = east.DescribeKey(ctx, &kms.DescribeKeyInput{KeyId: k.KeyId})
	wantErr(t, err, "NotFoundException", 400, "")
	err = srv.Store.View(ctx, func(tx store.Tx) error {
		n, err := tx.Count(kmssvc.TableKeySet, "")
		if err == nil && n != 0 {
			t.Errorf("%d key sets left", n)
		}
		return err
	})
	if err != nil {
		t.Fatal(err)
	}

	// CancelKeyDeletion brings a primary pending replica deletion back.
	k2 := createKey(t, east, &kms.CreateKeyInput{MultiRegion: aws.Bool(true)})
	if _, err := east.ReplicateKey(ctx, &kms.ReplicateKeyInput{KeyId: k2.KeyId, ReplicaRegion: aws.String("eu-west-1")}); err != nil {
		t.Fatal(err)
	}
	if _, err := east.ScheduleKeyDeletion(ctx, &kms.ScheduleKeyDeletionInput{KeyId: k2.KeyId}); err != nil {
		t.Fatal(err)
	}
	if _, err := east.CancelKeyDeletion(ctx, &kms.CancelKeyDeletionInput{KeyId: k2.KeyId}); err != nil {
		t.Fatal(err)
	}
	if st := keyState(t, east, *k2.KeyId); st != types.KeyStateDisabled {
		t.Fatalf("after CancelKeyDeletion: %s", st)
	}
}

// TestMultiRegionAsymmetric: a replica signs with the primary's private
// key (here secp256k1); the public keys are the same.
func TestMultiRegionAsymmetric(t *testing.T) {
	_, east := start(t)
	west := in(east, "ap-southeast-2")
	k := createKey(t, east, &kms.CreateKeyInput{MultiRegion: aws.Bool(true), KeySpec: types.KeySpecEccSecgP256k1, KeyUsage: types.KeyUsageTypeSignVerify})
	rep, err := east.ReplicateKey(ctx, &kms.ReplicateKeyInput{KeyId: k.KeyId, ReplicaRegion: aws.String("ap-southeast-2")})
	if err != nil {
		t.Fatal(err)
	}
	if rep.ReplicaKeyMetadata.KeySpec != types.KeySpecEccSecgP256k1 || rep.ReplicaKeyMetadata.KeyUsage != types.KeyUsageTypeSignVerify {
		t.Fatalf("replica: %+v", rep.ReplicaKeyMetadata)
	}
	pe, err := east.GetPublicKey(ctx, &kms.GetPublicKeyInput{KeyId: k.KeyId})
	if err != nil {
		t.Fatal(err)
	}
	pw, err := west.GetPublicKey(ctx, &kms.GetPublicKeyInput{KeyId: k.KeyId})
	if err != nil || !bytes.Equal(pe.PublicKey, pw.PublicKey) {
		t.Fatalf("replica's public key differs: %v", err)
	}
	msg := []byte("signed in one region")
	sig, err := west.Sign(ctx, &kms.SignInput{KeyId: k.KeyId, Message: msg, SigningAlgorithm: types.SigningAlgorithmSpecEcdsaSha256})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := east.Verify(ctx, &kms.VerifyInput{KeyId: k.KeyId, Message: msg, Signature: sig.Signature, SigningAlgorithm: types.SigningAlgorithmSpecEcdsaSha256}); err != nil {
		t.Fatalf("Verify in the primary's region: %v", err)
	}
	d := sha256.Sum256(msg)
	if !k1Verify(parseK1SPKI(t, pe.PublicKey), d[:], sig.Signature) {
		t.Fatal("signature does not verify with the primary's public key")
	}
}

// TestMultiRegionAccess: replicating needs kms:ReplicateKey on the primary
// and kms:CreateKey in the replica's region; changing the primary region
// needs kms:UpdatePrimaryRegion on both keys.
func TestMultiRegionAccess(t *testing.T) {
	srv, root := start(t)
	k := createKey(t, root, &kms.CreateKeyInput{MultiRegion: aws.Bool(true)})
	notWest := `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"kms:*","Resource":"*"},
		{"Effect":"Deny","Action":"kms:CreateKey","Resource":"*","Condition":{"StringEquals":{"aws:RequestedRegion":"eu-west-1"}}}]}`
	alice, _ := user(t, srv, "alice", notWest)
	_, err := alice.ReplicateKey(ctx, &kms.ReplicateKeyInput{KeyId: k.KeyId, ReplicaRegion: aws.String("eu-west-1")})
	wantErr(t, err, "AccessDeniedException", 400, "kms:CreateKey")
	if keys, err := in(root, "eu-west-1").ListKeys(ctx, &kms.ListKeysInput{}); err != nil || len(keys.Keys) != 0 {
		t.Fatalf("a denied ReplicateKey left keys: %+v %v", keys, err)
	}
	if _, err := alice.ReplicateKey(ctx, &kms.ReplicateKeyInput{KeyId: k.KeyId, ReplicaRegion: aws.String("ap-southeast-2")}); err != nil {
		t.Fatalf("ReplicateKey: %v", err)
	}
	bob, bobARN := user(t, srv, "bob", `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"kms:CreateKey","Resource":"*"}]}`)
	_, err = bob.ReplicateKey(ctx, &kms.ReplicateKeyInput{KeyId: k.KeyId, ReplicaRegion: aws.String("eu-west-1")})
	wantErr(t, err, "AccessDeniedException", 400, "kms:ReplicateKey")

	// The replica's key policy names only bob: alice may update the
	// primary but not the replica.
	if _, err := root.ReplicateKey(ctx, &kms.ReplicateKeyInput{KeyId: k.KeyId, ReplicaRegion: aws.String("eu-west-1"), Policy: aws.String(keyPolicyFor(bobARN)), BypassPolicyLockoutSafetyCheck: true}); err != nil {
		t.Fatal(err)
	}
	_, err = alice.UpdatePrimaryRegion(ctx, &kms.UpdatePrimaryRegionInput{KeyId: k.KeyId, PrimaryRegion: aws.String("eu-west-1")})
	wantErr(t, err, "AccessDeniedException", 400, "kms:UpdatePrimaryRegion on resource: arn:aws:kms:eu-west-1:000000000000:key/"+*k.KeyId)
	wantConfig(t, describe(t, root, *k.KeyId), types.MultiRegionKeyTypePrimary, "us-east-1", "ap-southeast-2", "eu-west-1")
	if _, err := alice.UpdatePrimaryRegion(ctx, &kms.UpdatePrimaryRegionInput{KeyId: k.KeyId, PrimaryRegion: aws.String("ap-southeast-2")}); err != nil {
		t.Fatalf("UpdatePrimaryRegion: %v", err)
	}
	wantConfig(t, describe(t, root, *k.KeyId), types.MultiRegionKeyTypeReplica, "ap-southeast-2", "eu-west-1", "us-east-1")
}

var _ = rampartest.Start

// BenchmarkDecryptReplica decrypts in a replica's region what the primary
// encrypted (compare BenchmarkDecrypt).
func BenchmarkDecryptReplica(b *testing.B) {
	_, east := startB(b)
	west := in(east, "eu-west-1")
	k, err := east.CreateKey(ctx, &kms.CreateKeyInput{MultiRegion: aws.Bool(true)})
	if err != nil {
		b.Fatal(err)
	}
	if _, err := east.ReplicateKey(ctx, &kms.ReplicateKeyInput{KeyId: k.KeyMetadata.KeyId, ReplicaRegion: aws.String("eu-west-1")}); err != nil {
		b.Fatal(err)
	}
	ec := map[string]string{"bench": "rampart"}
	enc, err := east.Encrypt(ctx, &kms.EncryptInput{KeyId: k.KeyMetadata.KeyId, Plaintext: make([]byte, 32), EncryptionContext: ec})
	if err != nil {
		b.Fatal(err)
	}
	in := &kms.DecryptInput{CiphertextBlob: enc.CiphertextBlob, EncryptionContext: ec}
	b.ResetTimer()
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			if _, err := west.Decrypt(ctx, in); err != nil {
				b.Error(err)
				return
			}
		}
	})
}
