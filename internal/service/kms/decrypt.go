package kms

import (
	"context"
	"crypto/rsa"

	"github.com/rampart/rampart/internal/service"

	kmsapi "github.com/rampart/rampart/internal/api/kms"
)

// decrypt is the Decrypt operation. A symmetric ciphertext names its key;
// an RSA ciphertext needs KeyId and the algorithm.
func (s *Service) decrypt(ctx context.Context, in *kmsapi.DecryptRequest) (*kmsapi.DecryptResponse, error) {
	c := service.CallFrom(ctx)
	if in.Recipient != nil {
		return nil, recipientUnsupported()
	}
	// The key the rule found in the ciphertext and authorized: the
	// handler only reads it.
	e, _, found := foundKey(c, in)
	if !found {
		var err error
		if e, _, err = s.decryptKey(ctx, c, in.CiphertextBlob, deref(in.KeyId), in.EncryptionAlgorithm); err != nil {
			return nil, err
		}
	}
	pt, m, err := decryptWith(e, in.CiphertextBlob, in.EncryptionAlgorithm, in.EncryptionContext, "Decrypt")
	if err != nil {
		return nil, err
	}
	if err := dryRun(in.DryRun); err != nil {
		return nil, err
	}
	s.used(c, e, kmsapi.KeyLastUsageTrackingOperationDecrypt)
	// The ARN and the material id are the entry's strings, shared
	// read-only with the encoder.
	out := &kmsapi.DecryptResponse{KeyId: &e.arn, Plaintext: pt, EncryptionAlgorithm: encAlg(in.EncryptionAlgorithm)}
	if m != nil {
		out.KeyMaterialId = &m.id
	}
	return out, nil
}

// decryptWith opens ct with key e after checking its state and usage; it
// returns the plaintext and, for symmetric keys, the key material that
// opened it.
func decryptWith(e *keyEntry, ct []byte, alg kmsapi.EncryptionAlgorithmSpec, ec map[string]string, op string) ([]byte, *keyMaterial, error) {
	if err := usable(e); err != nil {
		return nil, nil, err
	}
	if e.rec.Usage != kmsapi.KeyUsageTypeEncryptDecrypt {
		return nil, nil, wrongUsage(e, op)
	}
	alg, err := checkEncAlg(e, alg)
	if err != nil {
		return nil, nil, err
	}
	if keyClass(e.rec.Spec) == classSymmetric {
		b, ok := parseBlob(ct)
		if !ok || !b.of(e) {
			return nil, nil, kmsapi.NewInvalidCiphertextException("")
		}
		return decryptSymmetric(e, b, ec)
	}
	priv, ok := e.signer.(*rsa.PrivateKey)
	if !ok {
		return nil, nil, kmsapi.NewInvalidCiphertextException("")
	}
	pt, err := rsa.DecryptOAEP(oaepHash(alg).New(), nil, priv, ct, nil)
	if err != nil {
		return nil, nil, kmsapi.NewInvalidCiphertextException("")
	}
	return pt, nil, nil
}
