package kms

import (
	"context"
	"crypto"
	"crypto/hmac"

	"github.com/rampart/rampart/internal/service"

	kmsapi "github.com/rampart/rampart/internal/api/kms"
)

var macHash = map[kmsapi.MacAlgorithmSpec]crypto.Hash{
	kmsapi.MacAlgorithmSpecHmacSha224: crypto.SHA224,
	kmsapi.MacAlgorithmSpecHmacSha256: crypto.SHA256,
	kmsapi.MacAlgorithmSpecHmacSha384: crypto.SHA384,
	kmsapi.MacAlgorithmSpecHmacSha512: crypto.SHA512,
}

func (s *Service) mac(ctx context.Context, keyID string, alg kmsapi.MacAlgorithmSpec, msg []byte, op string) (*keyEntry, []byte, error) {
	e, _, err := s.resolve(ctx, service.CallFrom(ctx), keyID, true)
	if err != nil {
		return nil, nil, err
	}
	if err := usable(e); err != nil {
		return nil, nil, err
	}
	if e.rec.Usage != kmsapi.KeyUsageTypeGenerateVerifyMac {
		return nil, nil, wrongUsage(e, op)
	}
	if hmacAlgorithm[e.rec.Spec] != alg {
		return nil, nil, kmsapi.NewInvalidKeyUsageException("MAC algorithm %s is not valid for %s, whose key spec is %s.", alg, e.arn, e.rec.Spec)
	}
	m := hmac.New(macHash[alg].New, e.hmacKey)
	m.Write(msg)
	return e, m.Sum(nil), nil
}

// GenerateMac computes an HMAC of a message with an HMAC key.
func (s *Service) GenerateMac(ctx context.Context, in *kmsapi.GenerateMacRequest) (*kmsapi.GenerateMacResponse, error) {
	e, sum, err := s.mac(ctx, deref(in.KeyId), in.MacAlgorithm, in.Message, "GenerateMac")
	if err != nil {
		return nil, err
	}
	if err := dryRun(in.DryRun); err != nil {
		return nil, err
	}
	s.used(service.CallFrom(ctx), e, kmsapi.KeyLastUsageTrackingOperationGeneratemac)
	return &kmsapi.GenerateMacResponse{Mac: sum, MacAlgorithm: in.MacAlgorithm, KeyId: ptr(e.arn)}, nil
}

// VerifyMac checks an HMAC in constant time; a wrong one is
// KMSInvalidMacException.
func (s *Service) VerifyMac(ctx context.Context, in *kmsapi.VerifyMacRequest) (*kmsapi.VerifyMacResponse, error) {
	e, sum, err := s.mac(ctx, deref(in.KeyId), in.MacAlgorithm, in.Message, "VerifyMac")
	if err != nil {
		return nil, err
	}
	if err := dryRun(in.DryRun); err != nil {
		return nil, err
	}
	if !hmac.Equal(sum, in.Mac) {
		return nil, kmsapi.NewKMSInvalidMacException("")
	}
	s.used(service.CallFrom(ctx), e, kmsapi.KeyLastUsageTrackingOperationVerifymac)
	return &kmsapi.VerifyMacResponse{KeyId: ptr(e.arn), MacValid: ptr(true), MacAlgorithm: in.MacAlgorithm}, nil
}
