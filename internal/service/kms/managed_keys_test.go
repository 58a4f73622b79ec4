package kms_test

import (
	"bytes"
	"context"
	"crypto/rand"
	"errors"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/kms"
	"github.com/aws/aws-sdk-go-v2/service/kms/types"

	"github.com/rampart/rampart/internal/authn"
	"github.com/rampart/rampart/internal/authz"
	"github.com/rampart/rampart/internal/awsproto"
	"github.com/rampart/rampart/internal/service"
)

// TestServiceKeys drives the interface Secrets Manager uses: data keys
// under the AWS managed key alias/aws/secretsmanager, created on first use,
// usable by the account's principals only through the service.
func TestServiceKeys(t *testing.T) {
	srv, c := start(t)
	svc := worker(t, srv)
	checker := authz.New(nil, nil) // principals without IAM policies
	root := authn.RootPrincipal("000000000000")
	alice := &authz.Principal{Type: authz.IAMUser, Account: "000000000000", ARN: "arn:aws:iam::000000000000:user/alice", ID: "AIDAALICE", Name: "alice"}
	call := func(p *authz.Principal) *service.Call {
		return &service.Call{Principal: p, Region: "us-east-1", Now: time.Now(), Rand: rand.Reader, Authz: checker}
	}
	const via = "secretsmanager.us-east-1.amazonaws.com"
	ec := map[string]string{"SecretARN": "arn:aws:secretsmanager:us-east-1:000000000000:secret:db-AbCdEf"}

	pt, ct, arn, err := svc.GenerateDataKey(context.Background(), call(alice), "", ec, via)
	if err != nil {
		t.Fatal(err)
	}
	if len(pt) != 32 || bytes.Contains(ct, pt) {
		t.Fatalf("data key of %d bytes", len(pt))
	}
	d, err := c.DescribeKey(ctx, &kms.DescribeKeyInput{KeyId: aws.String("alias/aws/secretsmanager")})
	if err != nil || *d.KeyMetadata.Arn != arn || d.KeyMetadata.KeyManager != types.KeyManagerTypeAws {
		t.Fatalf("managed key: %+v %v", d, err)
	}
	st, err := c.GetKeyRotationStatus(ctx, &kms.GetKeyRotationStatusInput{KeyId: d.KeyMetadata.KeyId})
	if err != nil || !st.KeyRotationEnabled || *st.RotationPeriodInDays != 365 {
		t.Fatalf("managed key rotation: %+v %v", st, err)
	}
	// A second use finds the same key.
	_, _, arn2, err := svc.GenerateDataKey(context.Background(), call(alice), "", ec, via)
	if err != nil || arn2 != arn {
		t.Fatalf("second GenerateDataKey: %s %v", arn2, err)
	}
	got, arn3, err := svc.Decrypt(context.Background(), call(alice), ct, ec, via)
	if err != nil || !bytes.Equal(got, pt) || arn3 != arn {
		t.Fatalf("Decrypt: %v", err)
	}
	_, _, err = svc.Decrypt(context.Background(), call(alice), ct, map[string]string{"SecretARN": "other"}, via)
	wantCode(t, err, "InvalidCiphertextException")
	// Not through the service: the managed key's policy denies.
	_, _, err = svc.Decrypt(context.Background(), call(alice), ct, ec, "")
	wantCode(t, err, "AccessDeniedException")
	_, err = c.Decrypt(ctx, &kms.DecryptInput{CiphertextBlob: ct, EncryptionContext: ec})
	wantErr(t, err, "AccessDeniedException", 400, "kms:Decrypt")
	// The user cannot manage an AWS managed key.
	_, err = c.DisableKey(ctx, &kms.DisableKeyInput{KeyId: d.KeyMetadata.KeyId})
	wantErr(t, err, "AccessDeniedException", 400, "")

	// A customer managed key named by alias, and its state.
	k := createKey(t, c, nil)
	if _, err := c.CreateAlias(ctx, &kms.CreateAliasInput{AliasName: aws.String("alias/secrets"), TargetKeyId: k.KeyId}); err != nil {
		t.Fatal(err)
	}
	_, err = c.CreateAlias(ctx, &kms.CreateAliasInput{AliasName: aws.String("alias/aws/secretsmanager"), TargetKeyId: k.KeyId})
	wantErr(t, err, "InvalidAliasNameException", 400, "reserved")
	pt, ct, arn, err = svc.GenerateDataKey(context.Background(), call(&root), "alias/secrets", ec, via)
	if err != nil || arn != *k.Arn {
		t.Fatalf("GenerateDataKey under a customer key: %s %v", arn, err)
	}
	_, _, _, err = svc.GenerateDataKey(context.Background(), call(alice), "alias/secrets", ec, via)
	wantCode(t, err, "AccessDeniedException") // alice has no IAM policy
	if _, err := c.DisableKey(ctx, &kms.DisableKeyInput{KeyId: k.KeyId}); err != nil {
		t.Fatal(err)
	}
	_, _, err = svc.Decrypt(context.Background(), call(&root), ct, ec, via)
	wantCode(t, err, "DisabledException")
	_, _, _, err = svc.GenerateDataKey(context.Background(), call(&root), "alias/nope", ec, via)
	wantCode(t, err, "NotFoundException")
}

func wantCode(t *testing.T, err error, code string) {
	t.Helper()
	var ae *awsproto.Error
	if !errors.As(err, &ae) || ae.Code != code {
		t.Fatalf("error %v; want %s", err, code)
	}
}
