package kms_test

import (
	"bytes"
	"context"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/kms"
	"github.com/aws/aws-sdk-go-v2/service/kms/types"

	"github.com/rampart/rampart/internal/rampartest"
	"github.com/rampart/rampart/internal/store"

	kmssvc "github.com/rampart/rampart/internal/service/kms"
)

func TestCreateDescribeListKeys(t *testing.T) {
	_, c := start(t)
	k := createKey(t, c, &kms.CreateKeyInput{Description: aws.String("first"), Tags: []types.Tag{{TagKey: aws.String("team"), TagValue: aws.String("blue")}}})
	if *k.AWSAccountId != "000000000000" || *k.Arn != "arn:aws:kms:us-east-1:000000000000:key/"+*k.KeyId ||
		k.KeyState != types.KeyStateEnabled || !k.Enabled || k.KeySpec != types.KeySpecSymmetricDefault ||
		k.KeyUsage != types.KeyUsageTypeEncryptDecrypt || k.Origin != types.OriginTypeAwsKms || k.KeyManager != types.KeyManagerTypeCustomer ||
		*k.Description != "first" || len(k.EncryptionAlgorithms) != 1 || k.CurrentKeyMaterialId == nil || len(*k.CurrentKeyMaterialId) != 64 {
		t.Fatalf("CreateKey metadata: %+v", k)
	}
	var ids []string
	ids = append(ids, *k.KeyId)
	for i := 0; i < 4; i++ {
		ids = append(ids, *createKey(t, c, nil).KeyId)
	}
	// Pages of two list every key exactly once.
	seen := map[string]bool{}
	var marker *string
	for pages := 0; ; pages++ {
		out, err := c.ListKeys(ctx, &kms.ListKeysInput{Limit: aws.Int32(2), Marker: marker})
		if err != nil {
			t.Fatal(err)
		}
		for _, e := range out.Keys {
			if seen[*e.KeyId] || *e.KeyArn != "arn:aws:kms:us-east-1:000000000000:key/"+*e.KeyId {
				t.Fatalf("ListKeys entry %+v", e)
			}
			seen[*e.KeyId] = true
		}
		if !out.Truncated {
			break
		}
		marker = out.NextMarker
		if pages > 5 {
			t.Fatal("ListKeys does not end")
		}
	}
	for _, id := range ids {
		if !seen[id] {
			t.Fatalf("ListKeys misses %s", id)
		}
	}
}

func TestKeysAreRegional(t *testing.T) {
	srv, c := start(t)
	k := createKey(t, c, nil)
	cfg := srv.Config()
	cfg.Region = "eu-west-1"
	eu := kms.NewFromConfig(cfg)
	out, err := eu.ListKeys(ctx, &kms.ListKeysInput{})
	if err != nil || len(out.Keys) != 0 {
		t.Fatalf("eu-west-1 lists %d keys (%v)", len(out.Keys), err)
	}
	_, err = eu.DescribeKey(ctx, &kms.DescribeKeyInput{KeyId: k.KeyId})
	wantErr(t, err, "NotFoundException", 400, "Key 'arn:aws:kms:eu-west-1:000000000000:key/"+*k.KeyId+"' does not exist")
}

func TestKeyLifecycle(t *testing.T) {
	_, c := start(t)
	k := createKey(t, c, nil)
	if _, err := c.UpdateKeyDescription(ctx, &kms.UpdateKeyDescriptionInput{KeyId: k.Arn, Description: aws.String("second")}); err != nil {
		t.Fatal(err)
	}
	d, _ := c.DescribeKey(ctx, &kms.DescribeKeyInput{KeyId: k.KeyId})
	if *d.KeyMetadata.Description != "second" {
		t.Fatalf("description %q", *d.KeyMetadata.Description)
	}
	if _, err := c.DisableKey(ctx, &kms.DisableKeyInput{KeyId: k.KeyId}); err != nil {
		t.Fatal(err)
	}
	if st := keyState(t, c, *k.KeyId); st != types.KeyStateDisabled {
		t.Fatalf("after DisableKey: %s", st)
	}
	_, err := c.ScheduleKeyDeletion(ctx, &kms.ScheduleKeyDeletionInput{KeyId: k.KeyId, PendingWindowInDays: aws.Int32(6)})
	wantErr(t, err, "ValidationException", 400, "greater than or equal to 7")
	_, err = c.ScheduleKeyDeletion(ctx, &kms.ScheduleKeyDeletionInput{KeyId: k.KeyId, PendingWindowInDays: aws.Int32(31)})
	wantErr(t, err, "ValidationException", 400, "less than or equal to 30")
	if st := keyState(t, c, *k.KeyId); st != types.KeyStateDisabled {
		t.Fatalf("a refused ScheduleKeyDeletion changed the state to %s", st)
	}
	sk, err := c.ScheduleKeyDeletion(ctx, &kms.ScheduleKeyDeletionInput{KeyId: k.KeyId})
	if err != nil {
		t.Fatal(err)
	}
	if *sk.PendingWindowInDays != 30 || sk.KeyState != types.KeyStatePendingDeletion || sk.DeletionDate.Sub(time.Now()) < 29*24*time.Hour {
		t.Fatalf("ScheduleKeyDeletion: %+v", sk)
	}
	_, err = c.ScheduleKeyDeletion(ctx, &kms.ScheduleKeyDeletionInput{KeyId: k.KeyId})
	wantErr(t, err, "KMSInvalidStateException", 400, "is pending deletion.")
	if _, err := c.CancelKeyDeletion(ctx, &kms.CancelKeyDeletionInput{KeyId: k.KeyId}); err != nil {
		t.Fatal(err)
	}
	if st := keyState(t, c, *k.KeyId); st != types.KeyStateDisabled {
		t.Fatalf("after CancelKeyDeletion: %s", st)
	}
	_, err = c.CancelKeyDeletion(ctx, &kms.CancelKeyDeletionInput{KeyId: k.KeyId})
	wantErr(t, err, "KMSInvalidStateException", 400, "is not pending deletion.")
	_, err = c.EnableKey(ctx, &kms.EnableKeyInput{KeyId: aws.String("alias/whatever")})
	wantErr(t, err, "NotFoundException", 400, "")
	_, err = c.DescribeKey(ctx, &kms.DescribeKeyInput{KeyId: aws.String("arn:aws:kms:us-east-1:000000000000:thing/x")})
	wantErr(t, err, "InvalidArnException", 400, "")
}

func TestCreateKeyErrors(t *testing.T) {
	_, c := start(t)
	for name, tc := range map[string]struct {
		in        kms.CreateKeyInput
		code, msg string
	}{
		"both specs":      {kms.CreateKeyInput{KeySpec: types.KeySpecRsa2048, CustomerMasterKeySpec: types.CustomerMasterKeySpecRsa2048, KeyUsage: types.KeyUsageTypeSignVerify}, "ValidationException", "CustomerMasterKeySpec is deprecated"},
		"ecc encrypt":     {kms.CreateKeyInput{KeySpec: types.KeySpecEccNistP256, KeyUsage: types.KeyUsageTypeEncryptDecrypt}, "ValidationException", "KeyUsage ENCRYPT_DECRYPT is not compatible with KeySpec ECC_NIST_P256"},
		"hmac no usage":   {kms.CreateKeyInput{KeySpec: types.KeySpecHmac256}, "ValidationException", "You must specify a KeyUsage"},
		"reserved tag":    {kms.CreateKeyInput{Tags: []types.Tag{{TagKey: aws.String("aws:x"), TagValue: aws.String("y")}}}, "TagException", ""},
		"bad policy":      {kms.CreateKeyInput{Policy: aws.String(`{"Statement":`)}, "MalformedPolicyDocumentException", ""},
		"bad enum":        {kms.CreateKeyInput{KeySpec: "AES_512"}, "ValidationException", "Member must satisfy enum value set"},
		"SM2":             {kms.CreateKeyInput{KeySpec: types.KeySpecSm2, KeyUsage: types.KeyUsageTypeSignVerify}, "UnsupportedOperationException", ""},
		"secp256k1 ECDH":  {kms.CreateKeyInput{KeySpec: types.KeySpecEccSecgP256k1, KeyUsage: types.KeyUsageTypeKeyAgreement}, "ValidationException", "KeyUsage KEY_AGREEMENT is not compatible with KeySpec ECC_SECG_P256K1"},
		"mrk imported":    {kms.CreateKeyInput{MultiRegion: aws.Bool(true), Origin: types.OriginTypeExternal}, "UnsupportedOperationException", "multi-Region keys with imported key material"},
		"RSA imported":    {kms.CreateKeyInput{KeySpec: types.KeySpecRsa2048, KeyUsage: types.KeyUsageTypeSignVerify, Origin: types.OriginTypeExternal}, "UnsupportedOperationException", ""},
		"custom keystore": {kms.CreateKeyInput{CustomKeyStoreId: aws.String("cks-1234567890abcdef0")}, "CustomKeyStoreNotFoundException", ""},
	} {
		t.Run(name, func(t *testing.T) {
			_, err := c.CreateKey(ctx, &tc.in)
			wantErr(t, err, tc.code, 400, tc.msg)
		})
	}
	out, err := c.ListKeys(ctx, &kms.ListKeysInput{})
	if err != nil || len(out.Keys) != 0 {
		t.Fatalf("refused CreateKeys left %d keys (%v)", len(out.Keys), err)
	}
}

func TestAliases(t *testing.T) {
	_, c := start(t)
	a := createKey(t, c, nil)
	b := createKey(t, c, nil)
	sign := createKey(t, c, &kms.CreateKeyInput{KeySpec: types.KeySpecEccNistP256, KeyUsage: types.KeyUsageTypeSignVerify})
	if _, err := c.CreateAlias(ctx, &kms.CreateAliasInput{AliasName: aws.String("alias/app"), TargetKeyId: a.KeyId}); err != nil {
		t.Fatal(err)
	}
	for name, tc := range map[string]struct {
		alias, target, code, msg string
	}{
		"exists":       {"alias/app", *b.KeyId, "AlreadyExistsException", "An alias with the name arn:aws:kms:us-east-1:000000000000:alias/app already exists"},
		"no prefix":    {"app2", *b.KeyId, "ValidationException", `Alias must start with the prefix "alias/"`},
		"reserved":     {"alias/aws/app", *b.KeyId, "InvalidAliasNameException", ""},
		"bad chars":    {"alias/a b", *b.KeyId, "ValidationException", "Member must satisfy regular expression pattern"},
		"missing key":  {"alias/x", "11111111-2222-4333-8444-555555555555", "NotFoundException", "does not exist"},
		"alias target": {"alias/x", "alias/app", "NotFoundException", ""},
	} {
		t.Run(name, func(t *testing.T) {
			_, err := c.CreateAlias(ctx, &kms.CreateAliasInput{AliasName: aws.String(tc.alias), TargetKeyId: aws.String(tc.target)})
			wantErr(t, err, tc.code, 400, tc.msg)
		})
	}
	if _, err := c.UpdateAlias(ctx, &kms.UpdateAliasInput{AliasName: aws.String("alias/app"), TargetKeyId: b.KeyId}); err != nil {
		t.Fatal(err)
	}
	d, err := c.DescribeKey(ctx, &kms.DescribeKeyInput{KeyId: aws.String("alias/app")})
	if err != nil || *d.KeyMetadata.KeyId != *b.KeyId {
		t.Fatalf("alias after UpdateAlias: %v", err)
	}
	_, err = c.UpdateAlias(ctx, &kms.UpdateAliasInput{AliasName: aws.String("alias/app"), TargetKeyId: sign.KeyId})
	wantErr(t, err, "ValidationException", 400, "same key spec and key usage")
	_, err = c.UpdateAlias(ctx, &kms.UpdateAliasInput{AliasName: aws.String("alias/none"), TargetKeyId: b.KeyId})
	wantErr(t, err, "NotFoundException", 400, "Alias arn:aws:kms:us-east-1:000000000000:alias/none is not found.")
	if _, err := c.CreateAlias(ctx, &kms.CreateAliasInput{AliasName: aws.String("alias/other"), TargetKeyId: a.KeyId}); err != nil {
		t.Fatal(err)
	}
	all, err := c.ListAliases(ctx, &kms.ListAliasesInput{})
	if err != nil || len(all.Aliases) != 2 || *all.Aliases[0].AliasName != "alias/app" || *all.Aliases[0].TargetKeyId != *b.KeyId ||
		*all.Aliases[1].AliasArn != "arn:aws:kms:us-east-1:000000000000:alias/other" {
		t.Fatalf("ListAliases: %+v (%v)", all, err)
	}
	ofA, err := c.ListAliases(ctx, &kms.ListAliasesInput{KeyId: a.KeyId})
	if err != nil || len(ofA.Aliases) != 1 || *ofA.Aliases[0].AliasName != "alias/other" {
		t.Fatalf("ListAliases of a key: %+v (%v)", ofA, err)
	}
	if _, err := c.DeleteAlias(ctx, &kms.DeleteAliasInput{AliasName: aws.String("alias/app")}); err != nil {
		t.Fatal(err)
	}
	_, err = c.DeleteAlias(ctx, &kms.DeleteAliasInput{AliasName: aws.String("alias/app")})
	wantErr(t, err, "NotFoundException", 400, "is not found.")
	_, err = c.Encrypt(ctx, &kms.EncryptInput{KeyId: aws.String("alias/app"), Plaintext: []byte("x")})
	wantErr(t, err, "NotFoundException", 400, "is not found.")
}

func TestTags(t *testing.T) {
	_, c := start(t)
	k := createKey(t, c, &kms.CreateKeyInput{Tags: []types.Tag{{TagKey: aws.String("a"), TagValue: aws.String("1")}}})
	if _, err := c.TagResource(ctx, &kms.TagResourceInput{KeyId: k.KeyId, Tags: []types.Tag{{TagKey: aws.String("a"), TagValue: aws.String("2")}, {TagKey: aws.String("b"), TagValue: aws.String("3")}}}); err != nil {
		t.Fatal(err)
	}
	_, err := c.TagResource(ctx, &kms.TagResourceInput{KeyId: k.KeyId, Tags: []types.Tag{{TagKey: aws.String("aws:c"), TagValue: aws.String("3")}}})
	wantErr(t, err, "TagException", 400, "")
	if _, err := c.UntagResource(ctx, &kms.UntagResourceInput{KeyId: k.KeyId, TagKeys: []string{"b", "zzz"}}); err != nil {
		t.Fatal(err)
	}
	out, err := c.ListResourceTags(ctx, &kms.ListResourceTagsInput{KeyId: k.KeyId})
	if err != nil || len(out.Tags) != 1 || *out.Tags[0].TagKey != "a" || *out.Tags[0].TagValue != "2" {
		t.Fatalf("ListResourceTags: %+v (%v)", out, err)
	}
}

// TestMaterialSealedAtRest looks at the store directly: nothing in the
// key record, the aliases or the ciphertexts is the key material, and the
// keys survive a restart.
func TestMaterialSealedAtRestAndSurvivesRestart(t *testing.T) {
	dir := t.TempDir()
	var blob []byte
	var keyID string
	t.Run("first run", func(t *testing.T) {
		srv := rampartest.StartDir(t, dir)
		c := kms.NewFromConfig(srv.Config())
		k := createKey(t, c, nil)
		keyID = *k.KeyId
		dk, err := c.GenerateDataKey(ctx, &kms.GenerateDataKeyInput{KeyId: k.KeyId, KeySpec: types.DataKeySpecAes256})
		if err != nil {
			t.Fatal(err)
		}
		blob = dk.CiphertextBlob
		var stored []byte
		err = srv.Store.View(ctx, func(tx store.Tx) error {
			v, err := tx.Get(kmssvc.TableKey, "000000000000/us-east-1/"+keyID)
			stored = v
			return err
		})
		if err != nil {
			t.Fatal(err)
		}
		if bytes.Contains(stored, dk.Plaintext) || bytes.Contains(blob, dk.Plaintext) {
			t.Fatal("a plaintext is stored or returned in the clear")
		}
		if !bytes.Contains(stored, []byte(`"sealed":"sQAAAA`)) { // base64 of the barrier's magic byte and key version 1
			t.Fatalf("key material is not sealed by the barrier: %s", stored)
		}
	})
	srv := rampartest.StartDir(t, dir)
	c := kms.NewFromConfig(srv.Config())
	dec, err := c.Decrypt(context.Background(), &kms.DecryptInput{CiphertextBlob: blob})
	if err != nil || len(dec.Plaintext) != 32 {
		t.Fatalf("Decrypt after restart: %v", err)
	}
}
