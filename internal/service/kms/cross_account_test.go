package kms_test

import (
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/kms"
	"github.com/aws/aws-sdk-go-v2/service/kms/types"

	"github.com/rampart/rampart/internal/authn"
)

// A key policy that lets another account do everything still lets it
// perform only the operations KMS serves across accounts; for the others
// the key does not exist for that account ("Allowing users in other
// accounts to use a KMS key"), and nothing changes.
func TestCrossAccountOnlyForCrossAccountOperations(t *testing.T) {
	srv, owner := start(t)
	const other = "111111111111"
	if _, err := authn.EnsureAccount(ctx, srv.Store, srv.Barrier, authn.Account{ID: other, Name: other}, "otherroot", "othersecret"); err != nil {
		t.Fatal(err)
	}
	them := kms.NewFromConfig(srv.ConfigFor("otherroot", "othersecret", ""))
	policy := `{"Version":"2012-10-17","Statement":[` +
		`{"Effect":"Allow","Principal":{"AWS":"arn:aws:iam::000000000000:root"},"Action":"kms:*","Resource":"*"},` +
		`{"Effect":"Allow","Principal":{"AWS":"arn:aws:iam::` + other + `:root"},"Action":"kms:*","Resource":"*"}]}`
	key := createKey(t, owner, &kms.CreateKeyInput{Policy: aws.String(policy), Description: aws.String("shared")})
	arn := key.Arn

	// Cross-account operations work with the key ARN.
	enc, err := them.Encrypt(ctx, &kms.EncryptInput{KeyId: arn, Plaintext: []byte("x")})
	if err != nil {
		t.Fatalf("Encrypt across accounts: %v", err)
	}
	if _, err := them.Decrypt(ctx, &kms.DecryptInput{CiphertextBlob: enc.CiphertextBlob}); err != nil {
		t.Fatalf("Decrypt across accounts: %v", err)
	}
	if _, err := them.DescribeKey(ctx, &kms.DescribeKeyInput{KeyId: arn}); err != nil {
		t.Fatalf("DescribeKey across accounts: %v", err)
	}
	if _, err := them.GetKeyRotationStatus(ctx, &kms.GetKeyRotationStatusInput{KeyId: arn}); err != nil {
		t.Fatalf("GetKeyRotationStatus across accounts: %v", err)
	}
	if _, err := them.ListGrants(ctx, &kms.ListGrantsInput{KeyId: arn}); err != nil {
		t.Fatalf("ListGrants across accounts: %v", err)
	}

	// The others answer NotFoundException, for an existing key as for a
	// missing one, and change nothing.
	missing := aws.String("arn:aws:kms:us-east-1:000000000000:key/00000000-0000-4000-8000-000000000000")
	for name, call := range map[string]func(id *string) error{
		"DisableKey": func(id *string) error { _, err := them.DisableKey(ctx, &kms.DisableKeyInput{KeyId: id}); return err },
		"ScheduleKeyDeletion": func(id *string) error {
			_, err := them.ScheduleKeyDeletion(ctx, &kms.ScheduleKeyDeletionInput{KeyId: id, PendingWindowInDays: aws.Int32(7)})
			return err
		},
		"PutKeyPolicy": func(id *string) error {
			_, err := them.PutKeyPolicy(ctx, &kms.PutKeyPolicyInput{KeyId: id, Policy: aws.String(policy), BypassPolicyLockoutSafetyCheck: true})
			return err
		},
		"UpdateKeyDescription": func(id *string) error {
			_, err := them.UpdateKeyDescription(ctx, &kms.UpdateKeyDescriptionInput{KeyId: id, Description: aws.String("taken")})
			return err
		},
		"TagResource": func(id *string) error {
			_, err := them.TagResource(ctx, &kms.TagResourceInput{KeyId: id, Tags: []types.Tag{{TagKey: aws.String("k"), TagValue: aws.String("v")}}})
			return err
		},
		"GetKeyPolicy": func(id *string) error {
			_, err := them.GetKeyPolicy(ctx, &kms.GetKeyPolicyInput{KeyId: id})
			return err
		},
		"EnableKeyRotation": func(id *string) error {
			_, err := them.EnableKeyRotation(ctx, &kms.EnableKeyRotationInput{KeyId: id})
			return err
		},
		"ListAliases": func(id *string) error { _, err := them.ListAliases(ctx, &kms.ListAliasesInput{KeyId: id}); return err },
	} {
		t.Run(name, func(t *testing.T) {
			wantErr(t, call(arn), "NotFoundException", 400, "Key '"+*arn+"' does not exist")
			wantErr(t, call(missing), "NotFoundException", 400, "Key '"+*missing+"' does not exist")
		})
	}
	d, err := owner.DescribeKey(ctx, &kms.DescribeKeyInput{KeyId: key.KeyId})
	if err != nil {
		t.Fatal(err)
	}
	if m := d.KeyMetadata; m.KeyState != types.KeyStateEnabled || aws.ToString(m.Description) != "shared" {
		t.Fatalf("key changed: state %s, description %q", m.KeyState, aws.ToString(m.Description))
	}
	tags, err := owner.ListResourceTags(ctx, &kms.ListResourceTagsInput{KeyId: key.KeyId})
	if err != nil || len(tags.Tags) != 0 {
		t.Fatalf("tags %v, %v; want none", tags.Tags, err)
	}
	rot, err := owner.GetKeyRotationStatus(ctx, &kms.GetKeyRotationStatusInput{KeyId: key.KeyId})
	if err != nil || rot.KeyRotationEnabled {
		t.Fatalf("rotation %v, %v; want disabled", rot, err)
	}
}

// kms:ResourceAliases follows CreateAlias and DeleteAlias at once: the key
// entry the hot path caches is rebuilt when an alias of its account and
// region changes.
func TestResourceAliasesFollowAliasChanges(t *testing.T) {
	_, root := start(t)
	policy := `{"Version":"2012-10-17","Statement":[` +
		`{"Effect":"Allow","Principal":{"AWS":"arn:aws:iam::000000000000:root"},"NotAction":"kms:Encrypt","Resource":"*"},` +
		`{"Effect":"Allow","Principal":{"AWS":"arn:aws:iam::000000000000:root"},"Action":"kms:Encrypt","Resource":"*",` +
		`"Condition":{"ForAnyValue:StringEquals":{"kms:ResourceAliases":"alias/ok"}}}]}`
	key := createKey(t, root, &kms.CreateKeyInput{Policy: aws.String(policy), BypassPolicyLockoutSafetyCheck: true})
	encrypt := func() error {
		_, err := root.Encrypt(ctx, &kms.EncryptInput{KeyId: key.KeyId, Plaintext: []byte("x")})
		return err
	}
	wantErr(t, encrypt(), "AccessDeniedException", 400, "kms:Encrypt")
	if _, err := root.CreateAlias(ctx, &kms.CreateAliasInput{AliasName: aws.String("alias/ok"), TargetKeyId: key.KeyId}); err != nil {
		t.Fatal(err)
	}
	if err := encrypt(); err != nil {
		t.Fatalf("Encrypt with alias/ok on the key: %v", err)
	}
	if _, err := root.DeleteAlias(ctx, &kms.DeleteAliasInput{AliasName: aws.String("alias/ok")}); err != nil {
		t.Fatal(err)
	}
	wantErr(t, encrypt(), "AccessDeniedException", 400, "kms:Encrypt")
}
