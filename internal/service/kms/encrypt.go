package kms

import (
	"context"
	"crypto"
	"crypto/rsa"

	"github.com/rampart/rampart/internal/awsproto"
	"github.com/rampart/rampart/internal/service"

	kmsapi "github.com/rampart/rampart/internal/api/kms"
)

// Encrypt encrypts up to 4,096 bytes (the model's limit, checked before the
// handler runs) under a symmetric key, binding the encryption context, or
// with RSAES-OAEP under an RSA key.
func (s *Service) Encrypt(ctx context.Context, in *kmsapi.EncryptRequest) (*kmsapi.EncryptResponse, error) {
	c := service.CallFrom(ctx)
	// The key the rule resolved and authorized: the handler only reads it.
	e, _, found := foundKey(c, in)
	if !found {
		var err error
		if e, _, err = s.resolve(ctx, c, deref(in.KeyId), true); err != nil {
			return nil, err
		}
	}
	if err := usable(e); err != nil {
		return nil, err
	}
	if e.rec.Usage != kmsapi.KeyUsageTypeEncryptDecrypt {
		return nil, wrongUsage(e, "Encrypt")
	}
	alg, err := checkEncAlg(e, in.EncryptionAlgorithm)
	if err != nil {
		return nil, err
	}
	if err := dryRun(in.DryRun); err != nil {
		return nil, err
	}
	ct, err := encryptWith(e, c, alg, in.Plaintext, in.EncryptionContext)
	if err != nil {
		return nil, err
	}
	s.used(c, e, kmsapi.KeyLastUsageTrackingOperationEncrypt)
	return &kmsapi.EncryptResponse{CiphertextBlob: ct, KeyId: &e.arn, EncryptionAlgorithm: alg}, nil // the entry's ARN, shared read-only
}

// checkEncAlg checks an encryption algorithm against the key, defaulting
// to SYMMETRIC_DEFAULT.
func checkEncAlg(e *keyEntry, alg kmsapi.EncryptionAlgorithmSpec) (kmsapi.EncryptionAlgorithmSpec, error) {
	alg = encAlg(alg)
	switch keyClass(e.rec.Spec) {
	case classSymmetric:
		if alg == kmsapi.EncryptionAlgorithmSpecSymmetricDefault {
			return alg, nil
		}
	case classRSA:
		if alg == kmsapi.EncryptionAlgorithmSpecRsaesOaepSha1 || alg == kmsapi.EncryptionAlgorithmSpecRsaesOaepSha256 {
			return alg, nil
		}
	}
	return "", kmsapi.NewInvalidKeyUsageException("The encryption algorithm %s is not valid for %s, whose key spec is %s.", alg, e.arn, e.rec.Spec)
}

func encryptWith(e *keyEntry, c *service.Call, alg kmsapi.EncryptionAlgorithmSpec, pt []byte, ec map[string]string) ([]byte, error) {
	if keyClass(e.rec.Spec) == classSymmetric {
		return encryptSymmetric(e, c.Rand, pt, ec)
	}
	if len(ec) > 0 {
		return nil, validation("EncryptionContext is not supported with asymmetric KMS keys.")
	}
	pub, ok := e.signer.Public().(*rsa.PublicKey)
	if !ok {
		return nil, awsproto.Internal(errInternalKey)
	}
	ct, err := rsa.EncryptOAEP(oaepHash(alg).New(), c.Rand, pub, pt, nil)
	if err != nil {
		return nil, validation("Plaintext is too long for %s with %s.", e.rec.Spec, alg)
	}
	return ct, nil
}

func oaepHash(alg kmsapi.EncryptionAlgorithmSpec) crypto.Hash {
	if alg == kmsapi.EncryptionAlgorithmSpecRsaesOaepSha1 {
		return crypto.SHA1
	}
	return crypto.SHA256
}

// dryRun answers a DryRun request that got this far: it would have succeeded.
func dryRun(d *bool) error {
	if d != nil && *d {
		return kmsapi.NewDryRunOperationException("The request would have succeeded, but the DryRun option is set.")
	}
	return nil
}
