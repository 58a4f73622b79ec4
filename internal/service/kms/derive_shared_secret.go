package kms

import (
	"context"
	"crypto/ecdh"
	"crypto/ecdsa"
	"crypto/x509"

	"github.com/rampart/rampart/internal/awsproto"
	"github.com/rampart/rampart/internal/service"

	kmsapi "github.com/rampart/rampart/internal/api/kms"
)

// DeriveSharedSecret runs ECDH between the private key of a KEY_AGREEMENT
// key and a peer's public key (DER SubjectPublicKeyInfo on the key's
// curve) and returns the shared secret: the raw x coordinate of the
// shared point, as NIST SP 800-56A's ECC CDH primitive and AWS define it.
// The caller derives keys from it with a KDF of its choice.
func (s *Service) DeriveSharedSecret(ctx context.Context, in *kmsapi.DeriveSharedSecretRequest) (*kmsapi.DeriveSharedSecretResponse, error) {
	c := service.CallFrom(ctx)
	if in.Recipient != nil {
		return nil, recipientUnsupported()
	}
	e, _, err := s.resolve(ctx, c, deref(in.KeyId), true)
	if err != nil {
		return nil, err
	}
	if err := usable(e); err != nil {
		return nil, err
	}
	if e.rec.Usage != kmsapi.KeyUsageTypeKeyAgreement {
		return nil, wrongUsage(e, "DeriveSharedSecret")
	}
	if in.KeyAgreementAlgorithm != kmsapi.KeyAgreementAlgorithmSpecEcdh {
		return nil, kmsapi.NewInvalidKeyUsageException("Key agreement algorithm %s is not valid for %s.", in.KeyAgreementAlgorithm, e.arn)
	}
	priv, ok := e.signer.(*ecdsa.PrivateKey)
	if !ok {
		return nil, awsproto.Internal(errInternalKey)
	}
	peer, err := peerPublicKey(in.PublicKey, priv)
	if err != nil {
		return nil, err
	}
	if err := dryRun(in.DryRun); err != nil {
		return nil, err
	}
	ours, err := priv.ECDH()
	if err != nil {
		return nil, awsproto.Internal(err)
	}
	secret, err := ours.ECDH(peer)
	if err != nil {
		return nil, validation("The public key is not a valid point on the curve of %s.", e.rec.Spec)
	}
	s.used(c, e, kmsapi.KeyLastUsageTrackingOperationDerivesharedsecret)
	return &kmsapi.DeriveSharedSecretResponse{KeyId: ptr(e.arn), SharedSecret: secret, KeyAgreementAlgorithm: in.KeyAgreementAlgorithm, KeyOrigin: e.rec.Origin}, nil
}

// peerPublicKey parses the peer's SubjectPublicKeyInfo and checks that it
// is a valid point on the curve of priv.
func peerPublicKey(der []byte, priv *ecdsa.PrivateKey) (*ecdh.PublicKey, error) {
	pk, err := x509.ParsePKIXPublicKey(der)
	if err != nil {
		return nil, validation("PublicKey must be a DER-encoded X.509 public key (SubjectPublicKeyInfo).")
	}
	ec, ok := pk.(*ecdsa.PublicKey)
	if !ok || ec.Curve != priv.Curve {
		return nil, validation("PublicKey must be an elliptic curve public key on the curve of the KMS key (%s).", priv.Curve.Params().Name)
	}
	p, err := ec.ECDH()
	if err != nil {
		return nil, validation("The public key is not a valid point on the curve %s.", priv.Curve.Params().Name)
	}
	return p, nil
}
