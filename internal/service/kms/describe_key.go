package kms

import (
	"context"
	"strings"

	"github.com/rampart/rampart/internal/awsproto"
	"github.com/rampart/rampart/internal/service"
	"github.com/rampart/rampart/internal/store"

	kmsapi "github.com/rampart/rampart/internal/api/kms"
)

// DescribeKey returns a key's metadata.
func (s *Service) DescribeKey(ctx context.Context, in *kmsapi.DescribeKeyRequest) (*kmsapi.DescribeKeyResponse, error) {
	e, _, err := s.resolve(ctx, service.CallFrom(ctx), deref(in.KeyId), true)
	if err != nil {
		return nil, err
	}
	return &kmsapi.DescribeKeyResponse{KeyMetadata: metadata(e.rec)}, nil
}

// ListKeys lists the keys of the caller's account in the region, in key
// id order. The marker is the last key id returned.
func (s *Service) ListKeys(ctx context.Context, in *kmsapi.ListKeysRequest) (*kmsapi.ListKeysResponse, error) {
	c := service.CallFrom(ctx)
	limit := limitOf(in.Limit)
	after, err := marker(in.Marker)
	if err != nil {
		return nil, err
	}
	prefix := c.Principal.Account + "/" + c.Region + "/"
	var kvs []store.KV
	err = s.store.View(ctx, func(tx store.Tx) error {
		var err error
		var a string
		if after != "" {
			a = prefix + after
		}
		kvs, err = tx.Scan(TableKey, prefix, a, limit+1)
		return err
	})
	if err != nil {
		return nil, awsproto.Internal(err)
	}
	out := &kmsapi.ListKeysResponse{Keys: []kmsapi.KeyListEntry{}, Truncated: ptr(false)}
	for i, kv := range kvs {
		if i == limit {
			out.Truncated = ptr(true)
			out.NextMarker = ptr(strings.TrimPrefix(kvs[i-1].Key, prefix))
			break
		}
		id := strings.TrimPrefix(kv.Key, prefix)
		out.Keys = append(out.Keys, kmsapi.KeyListEntry{KeyId: ptr(id), KeyArn: ptr(keyARN(c.Region, c.Principal.Account, id))})
	}
	return out, nil
}

// limitOf applies KMS's default page size of 100 (model range 1–1000).
func limitOf(l *int32) int {
	if l == nil {
		return 100
	}
	return int(*l)
}

// marker checks a pagination marker: rampart's markers are the last key
// (key id, alias name, grant id) of the previous page.
func marker(m *string) (string, error) {
	if m == nil {
		return "", nil
	}
	if *m == "" || strings.ContainsAny(*m, "\x00") {
		return "", kmsapi.NewInvalidMarkerException("Invalid marker")
	}
	return *m, nil
}

func ptr[T any](v T) *T { return &v }

// metadata renders a key as KeyMetadata.
func metadata(k *keyRecord) *kmsapi.KeyMetadata {
	m := &kmsapi.KeyMetadata{
		AWSAccountId:          ptr(k.Account),
		KeyId:                 ptr(k.ID),
		Arn:                   ptr(k.arn()),
		CreationDate:          ptr(k.Created),
		Enabled:               ptr(k.State == kmsapi.KeyStateEnabled),
		Description:           ptr(k.Description),
		KeyUsage:              k.Usage,
		KeyState:              k.State,
		Origin:                k.Origin,
		KeyManager:            k.Manager,
		CustomerMasterKeySpec: kmsapi.CustomerMasterKeySpec(k.Spec),
		KeySpec:               k.Spec,
		MultiRegion:           ptr(k.MultiRegion),
	}
	m.MultiRegionConfiguration = multiRegionConfiguration(k)
	if k.DeletionDate != nil {
		m.DeletionDate = k.DeletionDate
		m.PendingDeletionWindowInDays = ptr(k.PendingWindow)
	}
	switch keyClass(k.Spec) {
	case classSymmetric:
		m.EncryptionAlgorithms = []kmsapi.EncryptionAlgorithmSpec{kmsapi.EncryptionAlgorithmSpecSymmetricDefault}
		if cur := k.current(); cur != nil {
			m.CurrentKeyMaterialId = ptr(cur.ID)
		}
	case classRSA:
		if k.Usage == kmsapi.KeyUsageTypeEncryptDecrypt {
			m.EncryptionAlgorithms = []kmsapi.EncryptionAlgorithmSpec{kmsapi.EncryptionAlgorithmSpecRsaesOaepSha1, kmsapi.EncryptionAlgorithmSpecRsaesOaepSha256}
		} else {
			m.SigningAlgorithms = rsaSigning
		}
	case classECC:
		if k.Usage == kmsapi.KeyUsageTypeKeyAgreement {
			m.KeyAgreementAlgorithms = []kmsapi.KeyAgreementAlgorithmSpec{kmsapi.KeyAgreementAlgorithmSpecEcdh}
		} else {
			m.SigningAlgorithms = []kmsapi.SigningAlgorithmSpec{eccSigning[k.Spec]}
		}
	case classHMAC:
		m.MacAlgorithms = []kmsapi.MacAlgorithmSpec{hmacAlgorithm[k.Spec]}
	}
	if k.Origin == kmsapi.OriginTypeExternal {
		m.ExpirationModel = k.ExpirationModel
		m.ValidTo = k.ValidTo
	}
	return m
}

var rsaSigning = []kmsapi.SigningAlgorithmSpec{
	kmsapi.SigningAlgorithmSpecRsassaPssSha256, kmsapi.SigningAlgorithmSpecRsassaPssSha384, kmsapi.SigningAlgorithmSpecRsassaPssSha512,
	kmsapi.SigningAlgorithmSpecRsassaPkcs1V15Sha256, kmsapi.SigningAlgorithmSpecRsassaPkcs1V15Sha384, kmsapi.SigningAlgorithmSpecRsassaPkcs1V15Sha512,
}

var eccSigning = map[kmsapi.KeySpec]kmsapi.SigningAlgorithmSpec{
	kmsapi.KeySpecEccNistP256: kmsapi.SigningAlgorithmSpecEcdsaSha256,
	kmsapi.KeySpecEccNistP384: kmsapi.SigningAlgorithmSpecEcdsaSha384,
	kmsapi.KeySpecEccNistP521: kmsapi.SigningAlgorithmSpecEcdsaSha512,
	// secp256k1 signs SHA-256 digests only ("Key spec reference" in the
	// KMS Developer Guide).
	kmsapi.KeySpecEccSecgP256k1: kmsapi.SigningAlgorithmSpecEcdsaSha256,
}

var hmacAlgorithm = map[kmsapi.KeySpec]kmsapi.MacAlgorithmSpec{
	kmsapi.KeySpecHmac224: kmsapi.MacAlgorithmSpecHmacSha224,
	kmsapi.KeySpecHmac256: kmsapi.MacAlgorithmSpecHmacSha256,
	kmsapi.KeySpecHmac384: kmsapi.MacAlgorithmSpecHmacSha384,
	kmsapi.KeySpecHmac512: kmsapi.MacAlgorithmSpecHmacSha512,
}
