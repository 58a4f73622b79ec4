package kms

import (
	"context"
	"io"

	"github.com/rampart/rampart/internal/awsproto"
	"github.com/rampart/rampart/internal/service"

	kmsapi "github.com/rampart/rampart/internal/api/kms"
)

// dataKeySize reads NumberOfBytes / KeySpec: exactly one is required.
func dataKeySize(n *int32, spec kmsapi.DataKeySpec) (int, error) {
	switch {
	case n != nil && spec != "":
		return 0, validation("Please specify either number of bytes or key spec.")
	case n != nil:
		return int(*n), nil
	case spec == kmsapi.DataKeySpecAes256:
		return 32, nil
	case spec == kmsapi.DataKeySpecAes128:
		return 16, nil
	}
	return 0, validation("Please specify either number of bytes or key spec.")
}

// newDataKey makes a random data key and its ciphertext under symmetric key e.
func newDataKey(e *keyEntry, c *service.Call, n int, ec map[string]string, op string) (pt, ct []byte, err error) {
	if err := usable(e); err != nil {
		return nil, nil, err
	}
	if e.rec.Usage != kmsapi.KeyUsageTypeEncryptDecrypt || keyClass(e.rec.Spec) != classSymmetric {
		return nil, nil, wrongUsage(e, op)
	}
	pt = make([]byte, n)
	if _, err := io.ReadFull(c.Rand, pt); err != nil {
		return nil, nil, awsproto.Internal(err)
	}
	ct, err = encryptSymmetric(e, c.Rand, pt, ec)
	if err != nil {
		return nil, nil, err
	}
	return pt, ct, nil
}

// generateDataKey is the GenerateDataKey operation.
func (s *Service) generateDataKey(ctx context.Context, in *kmsapi.GenerateDataKeyRequest) (*kmsapi.GenerateDataKeyResponse, error) {
	c := service.CallFrom(ctx)
	if in.Recipient != nil {
		return nil, recipientUnsupported()
	}
	n, err := dataKeySize(in.NumberOfBytes, in.KeySpec)
	if err != nil {
		return nil, err
	}
	// The key the rule resolved and authorized: the handler only reads it.
	e, _, found := foundKey(c, in)
	if !found {
		if e, _, err = s.resolve(ctx, c, deref(in.KeyId), true); err != nil {
			return nil, err
		}
	}
	if err := dryRun(in.DryRun); err != nil {
		if err := usable(e); err != nil {
			return nil, err
		}
		return nil, err
	}
	pt, ct, err := newDataKey(e, c, n, in.EncryptionContext, "GenerateDataKey")
	if err != nil {
		return nil, err
	}
	s.used(c, e, kmsapi.KeyLastUsageTrackingOperationGeneratedatakey)
	// The ARN and the material id are the entry's strings, shared read-only.
	return &kmsapi.GenerateDataKeyResponse{CiphertextBlob: ct, Plaintext: pt, KeyId: &e.arn, KeyMaterialId: &e.current}, nil
}

// GenerateDataKeyWithoutPlaintext is GenerateDataKey that returns only the ciphertext.
func (s *Service) GenerateDataKeyWithoutPlaintext(ctx context.Context, in *kmsapi.GenerateDataKeyWithoutPlaintextRequest) (*kmsapi.GenerateDataKeyWithoutPlaintextResponse, error) {
	c := service.CallFrom(ctx)
	n, err := dataKeySize(in.NumberOfBytes, in.KeySpec)
	if err != nil {
		return nil, err
	}
	e, _, found := foundKey(c, in)
	if !found {
		if e, _, err = s.resolve(ctx, c, deref(in.KeyId), true); err != nil {
			return nil, err
		}
	}
	if err := dryRun(in.DryRun); err != nil {
		if err := usable(e); err != nil {
			return nil, err
		}
		return nil, err
	}
	pt, ct, err := newDataKey(e, c, n, in.EncryptionContext, "GenerateDataKeyWithoutPlaintext")
	if err != nil {
		return nil, err
	}
	clear(pt)
	s.used(c, e, kmsapi.KeyLastUsageTrackingOperationGeneratedatakeywithoutplaintext)
	return &kmsapi.GenerateDataKeyWithoutPlaintextResponse{CiphertextBlob: ct, KeyId: ptr(e.arn), KeyMaterialId: ptr(e.current)}, nil
}

// GenerateRandom returns NumberOfBytes (1–1,024) random bytes.
func (s *Service) GenerateRandom(ctx context.Context, in *kmsapi.GenerateRandomRequest) (*kmsapi.GenerateRandomResponse, error) {
	c := service.CallFrom(ctx)
	if in.CustomKeyStoreId != nil {
		return nil, kmsapi.NewCustomKeyStoreNotFoundException("Custom key store %s does not exist", *in.CustomKeyStoreId)
	}
	if in.Recipient != nil {
		return nil, kmsapi.NewUnsupportedOperationException("rampart does not support Recipient (Nitro Enclaves attestation)")
	}
	if in.NumberOfBytes == nil {
		return nil, validation("NumberOfBytes is required.")
	}
	b, err := readRandom(c.Rand, int(*in.NumberOfBytes))
	if err != nil {
		return nil, awsproto.Internal(err)
	}
	return &kmsapi.GenerateRandomResponse{Plaintext: b}, nil
}
