package kms_test

import (
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/kms"
	"github.com/aws/aws-sdk-go-v2/service/kms/types"

	"github.com/rampart/rampart/internal/rampartest"
	"github.com/rampart/rampart/internal/store"

	kmssvc "github.com/rampart/rampart/internal/service/kms"
)

// TestGetKeyLastUsage: the last successful cryptographic operation is
// reported with its request id; failures and management calls are not
// usage; the record survives a restart.
func TestGetKeyLastUsage(t *testing.T) {
	dir := t.TempDir()
	var keyID string
	t.Run("first run", func(t *testing.T) {
		srv := rampartest.StartDir(t, dir)
		c := kms.NewFromConfig(srv.Config())
		k := createKey(t, c, &kms.CreateKeyInput{Description: aws.String("tracked")})
		keyID = *k.KeyId
		out := lastUsage(t, c, *k.Arn)
		if out.KeyLastUsage != nil || *out.KeyId != *k.KeyId || !out.KeyCreationDate.Equal(*k.CreationDate) || out.TrackingStartDate.Before(*k.CreationDate) {
			t.Fatalf("unused key: %+v", out)
		}
		for _, step := range []struct {
			call func() error
			op   types.KeyLastUsageTrackingOperation
		}{
			{func() error {
				_, err := c.Encrypt(ctx, &kms.EncryptInput{KeyId: k.KeyId, Plaintext: []byte("x")})
				return err
			}, types.KeyLastUsageTrackingOperationEncrypt},
			{func() error {
				_, err := c.GenerateDataKey(ctx, &kms.GenerateDataKeyInput{KeyId: k.KeyId, KeySpec: types.DataKeySpecAes256})
				return err
			}, types.KeyLastUsageTrackingOperationGenerateDataKey},
		} {
			if err := step.call(); err != nil {
				t.Fatal(err)
			}
			out := lastUsage(t, c, keyID)
			if out.KeyLastUsage == nil || out.KeyLastUsage.Operation != step.op || out.KeyLastUsage.KmsRequestId == nil || *out.KeyLastUsage.KmsRequestId == "" ||
				time.Since(*out.KeyLastUsage.Timestamp) > time.Minute {
				t.Fatalf("after %s: %+v", step.op, out.KeyLastUsage)
			}
		}
		// Failures and metadata calls do not count.
		_, err := c.Decrypt(ctx, &kms.DecryptInput{CiphertextBlob: []byte("not a ciphertext at all, no")})
		wantErr(t, err, "InvalidCiphertextException", 400, "")
		if _, err := c.DescribeKey(ctx, &kms.DescribeKeyInput{KeyId: k.KeyId}); err != nil {
			t.Fatal(err)
		}
		if op := lastUsage(t, c, keyID).KeyLastUsage.Operation; op != types.KeyLastUsageTrackingOperationGenerateDataKey {
			t.Fatalf("last operation %s", op)
		}

		// Aliases are not accepted; IAM decides who may ask.
		if _, err := c.CreateAlias(ctx, &kms.CreateAliasInput{AliasName: aws.String("alias/tracked"), TargetKeyId: k.KeyId}); err != nil {
			t.Fatal(err)
		}
		_, err = c.GetKeyLastUsage(ctx, &kms.GetKeyLastUsageInput{KeyId: aws.String("alias/tracked")})
		wantErr(t, err, "NotFoundException", 400, "")
		u, _ := user(t, srv, "auditor", "")
		_, err = u.GetKeyLastUsage(ctx, &kms.GetKeyLastUsageInput{KeyId: k.KeyId})
		wantErr(t, err, "AccessDeniedException", 400, "kms:GetKeyLastUsage")

		// The usage reaches the store about a second after the use.
		deadline := time.Now().Add(10 * time.Second)
		for {
			var v []byte
			err := srv.Store.View(ctx, func(tx store.Tx) error {
				var err error
				v, err = tx.Get(kmssvc.TableUsage, "000000000000/us-east-1/"+keyID)
				return err
			})
			if err == nil && strings.Contains(string(v), "GenerateDataKey") {
				break
			}
			if time.Now().After(deadline) {
				t.Fatalf("usage not in the store after 10 s: %q %v", v, err)
			}
			time.Sleep(100 * time.Millisecond)
		}
	})
	srv := rampartest.StartDir(t, dir)
	c := kms.NewFromConfig(srv.Config())
	if out := lastUsage(t, c, keyID); out.KeyLastUsage == nil || out.KeyLastUsage.Operation != types.KeyLastUsageTrackingOperationGenerateDataKey {
		t.Fatalf("after restart: %+v", out.KeyLastUsage)
	}
}

func lastUsage(t *testing.T, c *kms.Client, id string) *kms.GetKeyLastUsageOutput {
	t.Helper()
	out, err := c.GetKeyLastUsage(ctx, &kms.GetKeyLastUsageInput{KeyId: aws.String(id)})
	if err != nil {
		t.Fatalf("GetKeyLastUsage: %v", err)
	}
	return out
}
