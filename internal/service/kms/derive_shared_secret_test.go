package kms_test

import (
	"bytes"
	"crypto/ecdh"
	"crypto/ecdsa"
	"crypto/rand"
	"crypto/x509"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/kms"
	"github.com/aws/aws-sdk-go-v2/service/kms/types"
)

// TestDeriveSharedSecret: KMS and a peer holding its own key pair arrive
// at the same ECDH secret, on each NIST curve.
func TestDeriveSharedSecret(t *testing.T) {
	srv, c := start(t)
	for name, tc := range map[string]struct {
		spec  types.KeySpec
		curve ecdh.Curve
	}{
		"P-256": {types.KeySpecEccNistP256, ecdh.P256()},
		"P-384": {types.KeySpecEccNistP384, ecdh.P384()},
		"P-521": {types.KeySpecEccNistP521, ecdh.P521()},
	} {
		t.Run(name, func(t *testing.T) {
			k := createKey(t, c, &kms.CreateKeyInput{KeySpec: tc.spec, KeyUsage: types.KeyUsageTypeKeyAgreement})
			if len(k.KeyAgreementAlgorithms) != 1 || k.KeyAgreementAlgorithms[0] != types.KeyAgreementAlgorithmSpecEcdh || len(k.SigningAlgorithms) != 0 {
				t.Fatalf("metadata: agreement %v signing %v", k.KeyAgreementAlgorithms, k.SigningAlgorithms)
			}
			pub, err := c.GetPublicKey(ctx, &kms.GetPublicKeyInput{KeyId: k.KeyId})
			if err != nil || pub.KeyUsage != types.KeyUsageTypeKeyAgreement || len(pub.KeyAgreementAlgorithms) != 1 {
				t.Fatalf("GetPublicKey: %+v %v", pub, err)
			}
			kmsPub, err := x509.ParsePKIXPublicKey(pub.PublicKey)
			if err != nil {
				t.Fatal(err)
			}
			kmsECDH, err := kmsPub.(*ecdsa.PublicKey).ECDH()
			if err != nil {
				t.Fatal(err)
			}
			peer, err := tc.curve.GenerateKey(rand.Reader)
			if err != nil {
				t.Fatal(err)
			}
			peerDER, err := x509.MarshalPKIXPublicKey(peer.PublicKey())
			if err != nil {
				t.Fatal(err)
			}
			out, err := c.DeriveSharedSecret(ctx, &kms.DeriveSharedSecretInput{KeyId: k.KeyId, KeyAgreementAlgorithm: types.KeyAgreementAlgorithmSpecEcdh, PublicKey: peerDER})
			if err != nil {
				t.Fatal(err)
			}
			want, err := peer.ECDH(kmsECDH)
			if err != nil {
				t.Fatal(err)
			}
			if !bytes.Equal(out.SharedSecret, want) || *out.KeyId != *k.Arn || out.KeyOrigin != types.OriginTypeAwsKms {
				t.Fatalf("shared secret differs from the peer's (or KeyId %s, origin %s)", *out.KeyId, out.KeyOrigin)
			}
			_, err = c.Sign(ctx, &kms.SignInput{KeyId: k.KeyId, Message: []byte("m"), SigningAlgorithm: types.SigningAlgorithmSpecEcdsaSha256})
			wantErr(t, err, "InvalidKeyUsageException", 400, "which is not valid for Sign.")
		})
	}

	agree := createKey(t, c, &kms.CreateKeyInput{KeySpec: types.KeySpecEccNistP256, KeyUsage: types.KeyUsageTypeKeyAgreement})
	signing := createKey(t, c, &kms.CreateKeyInput{KeySpec: types.KeySpecEccNistP256, KeyUsage: types.KeyUsageTypeSignVerify})
	p384, _ := ecdh.P384().GenerateKey(rand.Reader)
	p384DER, _ := x509.MarshalPKIXPublicKey(p384.PublicKey())
	p256, _ := ecdh.P256().GenerateKey(rand.Reader)
	p256DER, _ := x509.MarshalPKIXPublicKey(p256.PublicKey())
	derive := func(id *string, pub []byte) error {
		_, err := c.DeriveSharedSecret(ctx, &kms.DeriveSharedSecretInput{KeyId: id, KeyAgreementAlgorithm: types.KeyAgreementAlgorithmSpecEcdh, PublicKey: pub})
		return err
	}
	for name, tc := range map[string]struct {
		err        func() error
		code, text string
	}{
		"signing key":      {func() error { return derive(signing.KeyId, p256DER) }, "InvalidKeyUsageException", "which is not valid for DeriveSharedSecret."},
		"other curve":      {func() error { return derive(agree.KeyId, p384DER) }, "ValidationException", "curve"},
		"not a public key": {func() error { return derive(agree.KeyId, []byte("garbage")) }, "ValidationException", "SubjectPublicKeyInfo"},
		"unknown key":      {func() error { return derive(aws.String("11111111-2222-3333-4444-555555555555"), p256DER) }, "NotFoundException", "does not exist"},
		"dry run": {func() error {
			_, err := c.DeriveSharedSecret(ctx, &kms.DeriveSharedSecretInput{KeyId: agree.KeyId, KeyAgreementAlgorithm: types.KeyAgreementAlgorithmSpecEcdh, PublicKey: p256DER, DryRun: aws.Bool(true)})
			return err
		}, "DryRunOperationException", ""},
		"ECC key for encryption": {func() error {
			_, err := c.CreateKey(ctx, &kms.CreateKeyInput{KeySpec: types.KeySpecEccNistP256, KeyUsage: types.KeyUsageTypeEncryptDecrypt})
			return err
		}, "ValidationException", "not compatible"},
	} {
		t.Run(name, func(t *testing.T) {
			wantErr(t, tc.err(), tc.code, 400, tc.text)
		})
	}

	t.Run("grant", func(t *testing.T) {
		u, arn := user(t, srv, "peer", "")
		wantErr(t, deriveAs(u, agree.KeyId, p256DER), "AccessDeniedException", 400, "kms:DeriveSharedSecret")
		g, err := c.CreateGrant(ctx, &kms.CreateGrantInput{KeyId: agree.KeyId, GranteePrincipal: aws.String(arn), Operations: []types.GrantOperation{types.GrantOperationDeriveSharedSecret}})
		if err != nil {
			t.Fatal(err)
		}
		if err := deriveAs(u, agree.Arn, p256DER); err != nil {
			t.Fatalf("DeriveSharedSecret under the grant: %v", err)
		}
		if _, err := c.RevokeGrant(ctx, &kms.RevokeGrantInput{KeyId: agree.KeyId, GrantId: g.GrantId}); err != nil {
			t.Fatal(err)
		}
		wantErr(t, deriveAs(u, agree.Arn, p256DER), "AccessDeniedException", 400, "")
		_, err = c.CreateGrant(ctx, &kms.CreateGrantInput{KeyId: agree.KeyId, GranteePrincipal: aws.String(arn), Operations: []types.GrantOperation{types.GrantOperationSign}})
		wantErr(t, err, "ValidationException", 400, "")
	})

	t.Run("disabled", func(t *testing.T) {
		if _, err := c.DisableKey(ctx, &kms.DisableKeyInput{KeyId: agree.KeyId}); err != nil {
			t.Fatal(err)
		}
		wantErr(t, derive(agree.KeyId, p256DER), "DisabledException", 400, "is disabled.")
	})
}

func deriveAs(c *kms.Client, id *string, pub []byte) error {
	_, err := c.DeriveSharedSecret(ctx, &kms.DeriveSharedSecretInput{KeyId: id, KeyAgreementAlgorithm: types.KeyAgreementAlgorithmSpecEcdh, PublicKey: pub})
	return err
}
