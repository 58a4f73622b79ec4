package kms

import (
	"context"
	"crypto"
	"crypto/ecdsa"
	"crypto/rsa"
	_ "crypto/sha256" // SHA-224/256 for signatures and MACs
	_ "crypto/sha512" // SHA-384/512
	"crypto/x509"

	"github.com/decred/dcrd/dcrec/secp256k1/v4"

	"github.com/rampart/rampart/internal/awsproto"
	"github.com/rampart/rampart/internal/service"

	kmsapi "github.com/rampart/rampart/internal/api/kms"
)

// signingHash is the hash of a signing algorithm.
var signingHash = map[kmsapi.SigningAlgorithmSpec]crypto.Hash{
	kmsapi.SigningAlgorithmSpecRsassaPssSha256:      crypto.SHA256,
	kmsapi.SigningAlgorithmSpecRsassaPssSha384:      crypto.SHA384,
	kmsapi.SigningAlgorithmSpecRsassaPssSha512:      crypto.SHA512,
	kmsapi.SigningAlgorithmSpecRsassaPkcs1V15Sha256: crypto.SHA256,
	kmsapi.SigningAlgorithmSpecRsassaPkcs1V15Sha384: crypto.SHA384,
	kmsapi.SigningAlgorithmSpecRsassaPkcs1V15Sha512: crypto.SHA512,
	kmsapi.SigningAlgorithmSpecEcdsaSha256:          crypto.SHA256,
	kmsapi.SigningAlgorithmSpecEcdsaSha384:          crypto.SHA384,
	kmsapi.SigningAlgorithmSpecEcdsaSha512:          crypto.SHA512,
}

// signingKey checks that e can sign or verify with alg and returns the
// digest of the message.
func signingKey(e *keyEntry, op string, alg kmsapi.SigningAlgorithmSpec, mt kmsapi.MessageType, msg []byte) ([]byte, crypto.Hash, error) {
	if err := usable(e); err != nil {
		return nil, 0, err
	}
	if e.rec.Usage != kmsapi.KeyUsageTypeSignVerify {
		return nil, 0, wrongUsage(e, op)
	}
	ok := false
	for _, a := range metadata(e.rec).SigningAlgorithms {
		ok = ok || a == alg
	}
	if !ok {
		return nil, 0, kmsapi.NewInvalidKeyUsageException("Signing algorithm %s is not valid for %s, whose key spec is %s.", alg, e.arn, e.rec.Spec)
	}
	h := signingHash[alg]
	switch messageType(mt) {
	case kmsapi.MessageTypeRaw:
		d := h.New()
		d.Write(msg)
		return d.Sum(nil), h, nil
	case kmsapi.MessageTypeDigest:
		if len(msg) != h.Size() {
			return nil, 0, validation("Digest is invalid length for algorithm %s.", alg)
		}
		return msg, h, nil
	}
	return nil, 0, validation("MessageType %s is not supported for %s.", mt, e.rec.Spec)
}

// Sign signs a message or digest with an asymmetric SIGN_VERIFY key.
func (s *Service) Sign(ctx context.Context, in *kmsapi.SignRequest) (*kmsapi.SignResponse, error) {
	c := service.CallFrom(ctx)
	e, _, err := s.resolve(ctx, c, deref(in.KeyId), true)
	if err != nil {
		return nil, err
	}
	digest, h, err := signingKey(e, "Sign", in.SigningAlgorithm, in.MessageType, in.Message)
	if err != nil {
		return nil, err
	}
	if err := dryRun(in.DryRun); err != nil {
		return nil, err
	}
	var sig []byte
	switch k := e.signer.(type) {
	case *rsa.PrivateKey:
		if isPSS(in.SigningAlgorithm) {
			sig, err = rsa.SignPSS(c.Rand, k, h, digest, &rsa.PSSOptions{SaltLength: rsa.PSSSaltLengthEqualsHash})
		} else {
			sig, err = rsa.SignPKCS1v15(nil, k, h, digest)
		}
	case *ecdsa.PrivateKey:
		sig, err = ecdsa.SignASN1(c.Rand, k, digest)
	case *secp256k1Key:
		sig, err = k.Sign(nil, digest, h)
	default:
		err = errInternalKey
	}
	if err != nil {
		return nil, awsproto.Internal(err)
	}
	s.used(c, e, kmsapi.KeyLastUsageTrackingOperationSign)
	return &kmsapi.SignResponse{KeyId: ptr(e.arn), Signature: sig, SigningAlgorithm: in.SigningAlgorithm}, nil
}

// Verify checks a signature; an invalid one is KMSInvalidSignatureException.
func (s *Service) Verify(ctx context.Context, in *kmsapi.VerifyRequest) (*kmsapi.VerifyResponse, error) {
	c := service.CallFrom(ctx)
	e, _, err := s.resolve(ctx, c, deref(in.KeyId), true)
	if err != nil {
		return nil, err
	}
	digest, h, err := signingKey(e, "Verify", in.SigningAlgorithm, in.MessageType, in.Message)
	if err != nil {
		return nil, err
	}
	if err := dryRun(in.DryRun); err != nil {
		return nil, err
	}
	valid := false
	switch k := e.signer.Public().(type) {
	case *rsa.PublicKey:
		if isPSS(in.SigningAlgorithm) {
			valid = rsa.VerifyPSS(k, h, digest, in.Signature, &rsa.PSSOptions{SaltLength: rsa.PSSSaltLengthEqualsHash}) == nil
		} else {
			valid = rsa.VerifyPKCS1v15(k, h, digest, in.Signature) == nil
		}
	case *ecdsa.PublicKey:
		valid = ecdsa.VerifyASN1(k, digest, in.Signature)
	case *secp256k1.PublicKey:
		valid = verifySecp256k1(k, digest, in.Signature)
	}
	if !valid {
		return nil, kmsapi.NewKMSInvalidSignatureException("")
	}
	s.used(c, e, kmsapi.KeyLastUsageTrackingOperationVerify)
	return &kmsapi.VerifyResponse{KeyId: ptr(e.arn), SignatureValid: ptr(true), SigningAlgorithm: in.SigningAlgorithm}, nil
}

func isPSS(a kmsapi.SigningAlgorithmSpec) bool {
	switch a {
	case kmsapi.SigningAlgorithmSpecRsassaPssSha256, kmsapi.SigningAlgorithmSpecRsassaPssSha384, kmsapi.SigningAlgorithmSpecRsassaPssSha512:
		return true
	}
	return false
}

// GetPublicKey returns the DER SubjectPublicKeyInfo of an asymmetric key.
func (s *Service) GetPublicKey(ctx context.Context, in *kmsapi.GetPublicKeyRequest) (*kmsapi.GetPublicKeyResponse, error) {
	e, _, err := s.resolve(ctx, service.CallFrom(ctx), deref(in.KeyId), true)
	if err != nil {
		return nil, err
	}
	if c := keyClass(e.rec.Spec); c != classRSA && c != classECC {
		return nil, kmsapi.NewUnsupportedOperationException("%s key spec is %s, which has no public key.", e.arn, e.rec.Spec)
	}
	if err := usable(e); err != nil {
		return nil, err
	}
	m := metadata(e.rec)
	return &kmsapi.GetPublicKeyResponse{
		KeyId: ptr(e.arn), PublicKey: e.pubDER, KeySpec: e.rec.Spec, CustomerMasterKeySpec: kmsapi.CustomerMasterKeySpec(e.rec.Spec),
		KeyUsage: e.rec.Usage, EncryptionAlgorithms: m.EncryptionAlgorithms, SigningAlgorithms: m.SigningAlgorithms,
		KeyAgreementAlgorithms: m.KeyAgreementAlgorithms,
	}, nil
}

// dataKeyPair makes a key pair and encrypts its private key under e.
func dataKeyPair(e *keyEntry, c *service.Call, spec kmsapi.DataKeyPairSpec, ec map[string]string, op string) (priv, privCT, pub []byte, err error) {
	if err := usable(e); err != nil {
		return nil, nil, nil, err
	}
	if e.rec.Usage != kmsapi.KeyUsageTypeEncryptDecrypt || keyClass(e.rec.Spec) != classSymmetric {
		return nil, nil, nil, wrongUsage(e, op)
	}
	ks := kmsapi.KeySpec(spec)
	if c := keyClass(ks); c != classRSA && c != classECC {
		return nil, nil, nil, kmsapi.NewUnsupportedOperationException("rampart does not support KeyPairSpec %s yet", spec)
	}
	priv, err = generateMaterial(ks, c.Rand)
	if err != nil {
		return nil, nil, nil, awsproto.Internal(err)
	}
	pub, err = publicKeyDER(ks, priv)
	if err != nil {
		clear(priv)
		return nil, nil, nil, awsproto.Internal(err)
	}
	privCT, err = encryptSymmetric(e, c.Rand, priv, ec)
	if err != nil {
		return nil, nil, nil, err
	}
	return priv, privCT, pub, nil
}

// GenerateDataKeyPair returns a fresh key pair, its private key in the
// clear and encrypted under a symmetric key.
func (s *Service) GenerateDataKeyPair(ctx context.Context, in *kmsapi.GenerateDataKeyPairRequest) (*kmsapi.GenerateDataKeyPairResponse, error) {
	c := service.CallFrom(ctx)
	if in.Recipient != nil {
		return nil, kmsapi.NewUnsupportedOperationException("rampart does not support Recipient (Nitro Enclaves attestation)")
	}
	e, _, err := s.resolve(ctx, c, deref(in.KeyId), true)
	if err != nil {
		return nil, err
	}
	if err := dryRun(in.DryRun); err != nil {
		return nil, err
	}
	priv, ct, pub, err := dataKeyPair(e, c, in.KeyPairSpec, in.EncryptionContext, "GenerateDataKeyPair")
	if err != nil {
		return nil, err
	}
	s.used(c, e, kmsapi.KeyLastUsageTrackingOperationGeneratedatakeypair)
	return &kmsapi.GenerateDataKeyPairResponse{PrivateKeyCiphertextBlob: ct, PrivateKeyPlaintext: priv, PublicKey: pub, KeyId: ptr(e.arn), KeyPairSpec: in.KeyPairSpec, KeyMaterialId: ptr(e.current)}, nil
}

// GenerateDataKeyPairWithoutPlaintext is GenerateDataKeyPair without the
// plaintext private key.
func (s *Service) GenerateDataKeyPairWithoutPlaintext(ctx context.Context, in *kmsapi.GenerateDataKeyPairWithoutPlaintextRequest) (*kmsapi.GenerateDataKeyPairWithoutPlaintextResponse, error) {
	c := service.CallFrom(ctx)
	e, _, err := s.resolve(ctx, c, deref(in.KeyId), true)
	if err != nil {
		return nil, err
	}
	if err := dryRun(in.DryRun); err != nil {
		return nil, err
	}
	priv, ct, pub, err := dataKeyPair(e, c, in.KeyPairSpec, in.EncryptionContext, "GenerateDataKeyPairWithoutPlaintext")
	if err != nil {
		return nil, err
	}
	clear(priv)
	s.used(c, e, kmsapi.KeyLastUsageTrackingOperationGeneratedatakeypairwithoutplaintext)
	return &kmsapi.GenerateDataKeyPairWithoutPlaintextResponse{PrivateKeyCiphertextBlob: ct, PublicKey: pub, KeyId: ptr(e.arn), KeyPairSpec: in.KeyPairSpec, KeyMaterialId: ptr(e.current)}, nil
}

// publicKeyDER returns the SubjectPublicKeyInfo of a PKCS#8 private key
// of key spec ks.
func publicKeyDER(ks kmsapi.KeySpec, priv []byte) ([]byte, error) {
	if ks == kmsapi.KeySpecEccSecgP256k1 {
		k, err := parseSecp256k1PKCS8(priv)
		if err != nil {
			return nil, err
		}
		defer k.priv.Zero()
		return marshalSecp256k1SPKI(k.pub)
	}
	k, err := x509.ParsePKCS8PrivateKey(priv)
	if err != nil {
		return nil, err
	}
	return x509.MarshalPKIXPublicKey(k.(crypto.Signer).Public())
}
