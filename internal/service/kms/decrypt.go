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
	e, _, err := s.decryptKey(ctx, c, in.CiphertextBlob, deref(in.KeyId), in.EncryptionAlgorithm)
	if err != nil {
		return nil, err
	}
	pt, mid, err := decryptWith(e, in.CiphertextBlob, in.EncryptionAlgorithm, in.EncryptionContext, "Decrypt")
	if err != nil {
		return nil, err
	}
	if err := dryRun(in.DryRun); err != nil {
		return nil, err
	}
	s.used(c, e, kmsapi.KeyLastUsageTrackingOperationDecrypt)
	out := &kmsapi.DecryptResponse{KeyId: ptr(e.arn), Plaintext: pt, EncryptionAlgorithm: encAlg(in.EncryptionAlgorithm)}
	if mid != "" {
		out.KeyMaterialId = ptr(mid)
	}
	return out, nil
}

// decryptWith opens ct with key e after checking its state and usage; it
// returns the plaintext and, for symmetric keys, the key material id.
func decryptWith(e *keyEntry, ct []byte, alg kmsapi.EncryptionAlgorithmSpec, ec map[string]string, op string) ([]byte, string, error) {
	if err := usable(e); err != nil {
		return nil, "", err
	}
	if e.rec.Usage != kmsapi.KeyUsageTypeEncryptDecrypt {
		return nil, "", wrongUsage(e, op)
	}
	alg, err := checkEncAlg(e, alg)
	if err != nil {
		return nil, "", err
	}
	if keyClass(e.rec.Spec) == classSymmetric {
		b, ok := parseBlob(ct)
		if !ok || b.keyID != e.rec.ID || b.account != e.rec.Account {
			return nil, "", kmsapi.NewInvalidCiphertextException("")
		}
		pt, err := decryptSymmetric(e, b, ec)
		return pt, b.materialID, err
	}
	priv, ok := e.signer.(*rsa.PrivateKey)
	if !ok {
		return nil, "", kmsapi.NewInvalidCiphertextException("")
	}
	pt, err := rsa.DecryptOAEP(oaepHash(alg).New(), nil, priv, ct, nil)
	if err != nil {
		return nil, "", kmsapi.NewInvalidCiphertextException("")
	}
	return pt, "", nil
}
