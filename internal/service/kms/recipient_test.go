package kms_test

import (
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/kms"
	"github.com/aws/aws-sdk-go-v2/service/kms/types"
)

// TestUnsupportedDeclared: what rampart does not support is refused with an
// error the operation's model declares (a client maps only those), here the
// common ValidationException, and the refusal changes nothing.
func TestUnsupportedDeclared(t *testing.T) {
	srv, c := start(t)
	key := createKey(t, c, nil)
	agreement := createKey(t, c, &kms.CreateKeyInput{KeySpec: types.KeySpecEccNistP256, KeyUsage: types.KeyUsageTypeKeyAgreement})
	ct, err := c.Encrypt(ctx, &kms.EncryptInput{KeyId: key.KeyId, Plaintext: []byte("x")})
	if err != nil {
		t.Fatal(err)
	}
	recipient := &types.RecipientInfo{AttestationDocument: []byte("not an attestation document"), KeyEncryptionAlgorithm: types.KeyEncryptionMechanismRsaesOaepSha256}
	root := "arn:aws:iam::" + srv.Account + ":root"
	for name, call := range map[string]func() error{
		"Decrypt": func() error {
			_, err := c.Decrypt(ctx, &kms.DecryptInput{CiphertextBlob: ct.CiphertextBlob, Recipient: recipient})
			return err
		},
		"GenerateDataKey": func() error {
			_, err := c.GenerateDataKey(ctx, &kms.GenerateDataKeyInput{KeyId: key.KeyId, KeySpec: types.DataKeySpecAes256, Recipient: recipient})
			return err
		},
		"DeriveSharedSecret": func() error {
			_, err := c.DeriveSharedSecret(ctx, &kms.DeriveSharedSecretInput{KeyId: agreement.KeyId, KeyAgreementAlgorithm: types.KeyAgreementAlgorithmSpecEcdh,
				PublicKey: []byte("unused"), Recipient: recipient})
			return err
		},
		"CreateGrant/GranteeServicePrincipal": func() error {
			_, err := c.CreateGrant(ctx, &kms.CreateGrantInput{KeyId: key.KeyId, GranteePrincipal: aws.String(root), GranteeServicePrincipal: aws.String("logs.amazonaws.com"),
				Operations: []types.GrantOperation{types.GrantOperationDecrypt}})
			return err
		},
	} {
		t.Run(name, func(t *testing.T) {
			wantErr(t, call(), "ValidationException", 400, "rampart does not support")
		})
	}
	grants, err := c.ListGrants(ctx, &kms.ListGrantsInput{KeyId: key.KeyId})
	if err != nil {
		t.Fatal(err)
	}
	if len(grants.Grants) != 0 {
		t.Fatalf("a refused CreateGrant left grants: %+v", grants.Grants)
	}
}
