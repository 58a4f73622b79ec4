package kms

import (
	"context"
	"crypto/ecdsa"
	"crypto/rsa"
	"crypto/sha256"
	"crypto/subtle"
	"crypto/x509"
	"encoding/hex"
	"time"

	"github.com/rampart/rampart/internal/awsproto"
	"github.com/rampart/rampart/internal/service"
	"github.com/rampart/rampart/internal/store"

	kmsapi "github.com/rampart/rampart/internal/api/kms"
)

// importValidity is how long GetParametersForImport's token and wrapping
// key stay valid (24 hours, as in AWS).
const importValidity = 24 * time.Hour

// maxValidTo is how far ahead ImportKeyMaterial's ValidTo may be: 365
// days from the request date.
const maxValidTo = 365 * 24 * time.Hour

func importable(rec *keyRecord) error {
	if rec.Origin != kmsapi.OriginTypeExternal {
		return kmsapi.NewUnsupportedOperationException("%s has Origin %s; key material can be imported only into keys with Origin EXTERNAL.", rec.arn(), rec.Origin)
	}
	return pendingDeletion(rec)
}

func wrappingAAD(path string) []byte { return []byte(TableKey + "/" + path + "/import") }

// GetParametersForImport returns an RSA public key to wrap key material
// with and the import token that ImportKeyMaterial needs, both valid for
// 24 hours. RSAES_OAEP_SHA_1 and RSAES_OAEP_SHA_256 wrapping are served.
func (s *Service) GetParametersForImport(ctx context.Context, in *kmsapi.GetParametersForImportRequest) (*kmsapi.GetParametersForImportResponse, error) {
	c := service.CallFrom(ctx)
	switch in.WrappingAlgorithm {
	case kmsapi.AlgorithmSpecRsaesOaepSha1, kmsapi.AlgorithmSpecRsaesOaepSha256:
	default:
		return nil, kmsapi.NewUnsupportedOperationException("rampart does not support the wrapping algorithm %s yet", in.WrappingAlgorithm)
	}
	bits := map[kmsapi.WrappingKeySpec]int{kmsapi.WrappingKeySpecRsa2048: 2048, kmsapi.WrappingKeySpecRsa3072: 3072, kmsapi.WrappingKeySpecRsa4096: 4096}[in.WrappingKeySpec]
	if bits == 0 {
		return nil, kmsapi.NewUnsupportedOperationException("rampart does not support the wrapping key spec %s", in.WrappingKeySpec)
	}
	e, _, err := s.resolve(ctx, c, deref(in.KeyId), false)
	if err != nil {
		return nil, err
	}
	if err := importable(e.rec); err != nil {
		return nil, err
	}
	wk, err := rsa.GenerateKey(c.Rand, bits)
	if err != nil {
		return nil, awsproto.Internal(err)
	}
	der, err := x509.MarshalPKCS8PrivateKey(wk)
	if err != nil {
		return nil, awsproto.Internal(err)
	}
	pub, err := x509.MarshalPKIXPublicKey(&wk.PublicKey)
	if err != nil {
		return nil, awsproto.Internal(err)
	}
	tokenID, err := randomHex(c.Rand, 32)
	if err != nil {
		return nil, awsproto.Internal(err)
	}
	validTo := c.Now.Add(importValidity)
	_, err = s.updateKey(ctx, e.rec.ID, func(_ store.Tx, rec *keyRecord) error {
		if err := importable(rec); err != nil {
			return err
		}
		sealed, err := s.barrier.Seal(der, wrappingAAD(rec.path()))
		if err != nil {
			return err
		}
		rec.ImportWrapping, rec.ImportTokenID, rec.ImportValidTo, rec.ImportAlgorithm = sealed, tokenID, &validTo, in.WrappingAlgorithm
		return nil
	})
	clear(der)
	if err != nil {
		return nil, err
	}
	tok, _ := hex.DecodeString(tokenID)
	return &kmsapi.GetParametersForImportResponse{KeyId: ptr(e.arn), ImportToken: tok, PublicKey: pub, ParametersValidTo: &validTo}, nil
}

// ImportKeyMaterial imports key material wrapped with the public key of
// the last GetParametersForImport. Re-importing into a key must bring the
// same material (rampart keeps a SHA-256 fingerprint of it).
func (s *Service) ImportKeyMaterial(ctx context.Context, in *kmsapi.ImportKeyMaterialRequest) (*kmsapi.ImportKeyMaterialResponse, error) {
	c := service.CallFrom(ctx)
	model := in.ExpirationModel
	if model == "" {
		model = kmsapi.ExpirationModelTypeKeyMaterialExpires
	}
	if model == kmsapi.ExpirationModelTypeKeyMaterialExpires && in.ValidTo == nil {
		return nil, validation("A ValidTo date must be set if the ExpirationModel is KEY_MATERIAL_EXPIRES")
	}
	if model == kmsapi.ExpirationModelTypeKeyMaterialDoesNotExpire && in.ValidTo != nil {
		return nil, validation("A ValidTo date must not be set if the ExpirationModel is KEY_MATERIAL_DOES_NOT_EXPIRE")
	}
	// AWS documents for ValidTo: "The value of this parameter must be a
	// future date and time. The maximum value is 365 days from the
	// request date." (ImportKeyMaterial, KMS API Reference). It documents
	// neither the error code nor the message of a violation: rampart
	// answers ValidationException, KMS's error for invalid parameters,
	// in the words of that sentence.
	if in.ValidTo != nil && !in.ValidTo.After(c.Now) {
		return nil, validation("ValidTo must be a future date and time.")
	}
	if in.ValidTo != nil && in.ValidTo.After(c.Now.Add(maxValidTo)) {
		return nil, validation("ValidTo must be at most 365 days from the request date.")
	}
	e, _, err := s.resolve(ctx, c, deref(in.KeyId), false)
	if err != nil {
		return nil, err
	}
	var mid string
	rec, err := s.updateKey(ctx, e.rec.ID, func(_ store.Tx, rec *keyRecord) error {
		if err := importable(rec); err != nil {
			return err
		}
		want, _ := hex.DecodeString(rec.ImportTokenID)
		if rec.ImportWrapping == nil || subtle.ConstantTimeCompare(want, in.ImportToken) != 1 {
			return kmsapi.NewInvalidImportTokenException("The import token is not valid for %s.", rec.arn())
		}
		if rec.ImportValidTo == nil || !c.Now.Before(*rec.ImportValidTo) {
			return kmsapi.NewExpiredImportTokenException("The import token has expired.")
		}
		der, err := s.barrier.Open(rec.ImportWrapping, wrappingAAD(rec.path()))
		if err != nil {
			return err
		}
		k, err := x509.ParsePKCS8PrivateKey(der)
		clear(der)
		if err != nil {
			return err
		}
		h := sha256.New()
		if rec.ImportAlgorithm == kmsapi.AlgorithmSpecRsaesOaepSha1 {
			h = newSHA1()
		}
		secret, err := rsa.DecryptOAEP(h, nil, k.(*rsa.PrivateKey), in.EncryptedKeyMaterial, nil)
		if err != nil {
			return kmsapi.NewInvalidCiphertextException("The wrapped key material could not be decrypted.")
		}
		var fp [32]byte
		if keyClass(rec.Spec) == classECC {
			// An ECC private key in PKCS#8 on the key's curve; the
			// fingerprint is that of its public key.
			pub, err := eccPublicKey(rec.Spec, secret)
			if err != nil {
				clear(secret)
				return kmsapi.NewIncorrectKeyMaterialException("The key material is not a PKCS#8 %s private key.", rec.Spec)
			}
			fp = sha256.Sum256(pub)
		} else {
			if want := materialSize(rec.Spec); len(secret) != want {
				clear(secret)
				return kmsapi.NewIncorrectKeyMaterialException("Key material for %s must be %d bytes.", rec.Spec, want)
			}
			fp = sha256.Sum256(secret)
		}
		if rec.ImportFingerprint != nil && subtle.ConstantTimeCompare(rec.ImportFingerprint, fp[:]) != 1 {
			clear(secret)
			return kmsapi.NewIncorrectKeyMaterialException("The key material is not the key material previously imported into %s.", rec.arn())
		}
		rec.ImportFingerprint = fp[:]
		rec.Materials = nil
		// The same material keeps its id, so ciphertexts made before a
		// deletion or expiry open again.
		if rec.ImportMaterialID == "" {
			if rec.ImportMaterialID, err = randomHex(c.Rand, 32); err != nil {
				return err
			}
		}
		if err := s.appendMaterialID(rec, rec.ImportMaterialID, c.Now, "", secret); err != nil {
			return err
		}
		mid = rec.current().ID
		rec.ImportWrapping, rec.ImportTokenID, rec.ImportValidTo = nil, "", nil
		rec.ExpirationModel, rec.ValidTo = model, in.ValidTo
		if rec.State == kmsapi.KeyStatePendingimport {
			rec.State = kmsapi.KeyStateEnabled
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	return &kmsapi.ImportKeyMaterialResponse{KeyId: ptr(rec.arn()), KeyMaterialId: ptr(mid)}, nil
}

// DeleteImportedKeyMaterial deletes a key's imported material: the key
// becomes PendingImport and unusable until the same material is imported.
// A key pending deletion stays so: "When the specified KMS key is in the
// PendingDeletion state, this operation does not change the KMS key's
// state. Otherwise, it changes the KMS key's state to PendingImport"
// (DeleteImportedKeyMaterial, KMS API Reference); CancelKeyDeletion then
// brings it back PendingImport.
func (s *Service) DeleteImportedKeyMaterial(ctx context.Context, in *kmsapi.DeleteImportedKeyMaterialRequest) (*kmsapi.DeleteImportedKeyMaterialResponse, error) {
	rec, err := s.updateKey(ctx, deref(in.KeyId), func(_ store.Tx, rec *keyRecord) error {
		if rec.Origin != kmsapi.OriginTypeExternal {
			return importable(rec) // UnsupportedOperationException
		}
		rec.Materials = nil
		if pendingDeletion(rec) == nil {
			rec.State = kmsapi.KeyStatePendingimport
		}
		rec.ValidTo, rec.ExpirationModel = nil, ""
		return nil
	})
	if err != nil {
		return nil, err
	}
	return &kmsapi.DeleteImportedKeyMaterialResponse{KeyId: ptr(rec.arn())}, nil
}

func materialSize(spec kmsapi.KeySpec) int {
	switch spec {
	case kmsapi.KeySpecHmac224:
		return 28
	case kmsapi.KeySpecHmac384:
		return 48
	case kmsapi.KeySpecHmac512:
		return 64
	}
	return 32
}

// eccPublicKey checks that der is a PKCS#8 private key on the curve of
// spec and returns its SubjectPublicKeyInfo.
func eccPublicKey(spec kmsapi.KeySpec, der []byte) ([]byte, error) {
	if spec == kmsapi.KeySpecEccSecgP256k1 {
		return publicKeyDER(spec, der)
	}
	k, err := x509.ParsePKCS8PrivateKey(der)
	if err != nil {
		return nil, err
	}
	ek, ok := k.(*ecdsa.PrivateKey)
	if !ok || ek.Curve != curve(spec) {
		return nil, errInternalKey
	}
	return x509.MarshalPKIXPublicKey(&ek.PublicKey)
}
