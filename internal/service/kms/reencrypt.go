package kms

import (
	"context"

	"github.com/rampart/rampart/internal/service"

	kmsapi "github.com/rampart/rampart/internal/api/kms"
)

// ReEncrypt decrypts a ciphertext and encrypts the plaintext under another
// (or the same) key without exposing it. The rule authorizes
// kms:ReEncryptFrom on the source key; this handler kms:ReEncryptTo on the
// destination key.
func (s *Service) ReEncrypt(ctx context.Context, in *kmsapi.ReEncryptRequest) (*kmsapi.ReEncryptResponse, error) {
	c := service.CallFrom(ctx)
	src, _, found := foundKey(c, in) // the rule's source key, as it authorized it
	if !found {
		var err error
		if src, _, err = s.decryptKey(ctx, c, in.CiphertextBlob, deref(in.SourceKeyId), in.SourceEncryptionAlgorithm); err != nil {
			return nil, err
		}
	}
	dst, dstRef, err := s.resolve(ctx, c, deref(in.DestinationKeyId), true)
	if err != nil {
		return nil, err
	}
	if err := s.authorize(ctx, c, "kms:ReEncryptTo", dst, dstRef, kmsapi.GrantOperationReencryptto, in.DestinationEncryptionContext, func(k map[string][]string) {
		encryptionAlgorithmKey(in.DestinationEncryptionAlgorithm, k)
		same := "false"
		if dst.rec.ID == src.rec.ID {
			same = "true"
		}
		k["kms:reencryptonsamekey"] = []string{same}
	}); err != nil {
		return nil, err
	}
	pt, srcMat, err := decryptWith(src, in.CiphertextBlob, in.SourceEncryptionAlgorithm, in.SourceEncryptionContext, "ReEncrypt")
	if err != nil {
		return nil, err
	}
	defer clear(pt)
	if err := usable(dst); err != nil {
		return nil, err
	}
	if dst.rec.Usage != kmsapi.KeyUsageTypeEncryptDecrypt {
		return nil, wrongUsage(dst, "ReEncrypt")
	}
	alg, err := checkEncAlg(dst, in.DestinationEncryptionAlgorithm)
	if err != nil {
		return nil, err
	}
	if err := dryRun(in.DryRun); err != nil {
		return nil, err
	}
	ct, err := encryptWith(dst, c, alg, pt, in.DestinationEncryptionContext)
	if err != nil {
		return nil, err
	}
	out := &kmsapi.ReEncryptResponse{
		CiphertextBlob: ct, SourceKeyId: ptr(src.arn), KeyId: ptr(dst.arn),
		SourceEncryptionAlgorithm: encAlg(in.SourceEncryptionAlgorithm), DestinationEncryptionAlgorithm: alg,
	}
	if srcMat != nil {
		out.SourceKeyMaterialId = ptr(srcMat.id)
	}
	if keyClass(dst.rec.Spec) == classSymmetric {
		out.DestinationKeyMaterialId = ptr(dst.current)
	}
	s.used(c, src, kmsapi.KeyLastUsageTrackingOperationReencrypt)
	s.used(c, dst, kmsapi.KeyLastUsageTrackingOperationReencrypt)
	return out, nil
}
