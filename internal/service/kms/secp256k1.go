package kms

import (
	"crypto"
	"crypto/subtle"
	"crypto/x509/pkix"
	"encoding/asn1"
	"errors"
	"io"

	"github.com/decred/dcrd/dcrec/secp256k1/v4"
	k1ecdsa "github.com/decred/dcrd/dcrec/secp256k1/v4/ecdsa"
)

// ECC_SECG_P256K1 keys (secp256k1, SEC 2 §2.4.1) are not in the standard
// library: github.com/decred/dcrd/dcrec/secp256k1 provides the curve, with
// constant-time field and scalar arithmetic for everything that touches
// the private key. This file encodes its keys the way KMS does: private
// keys as PKCS#8 (RFC 5208) wrapping an ECPrivateKey (RFC 5915), public
// keys as a SubjectPublicKeyInfo (RFC 5480) with the named curve
// 1.3.132.0.10 and an uncompressed point; signatures are DER
// Ecdsa-Sig-Value, as for the NIST curves.

var (
	oidECPublicKey = asn1.ObjectIdentifier{1, 2, 840, 10045, 2, 1}
	oidSecp256k1   = asn1.ObjectIdentifier{1, 3, 132, 0, 10}
)

var errSecp256k1Key = errors.New("kms: not a valid ECC_SECG_P256K1 private key")

// secp256k1Key is an ECC_SECG_P256K1 private key as a [crypto.Signer]:
// Sign returns a DER ECDSA signature of a digest with a deterministic
// RFC 6979 nonce (so no randomness can weaken it) and a low S.
type secp256k1Key struct {
	priv *secp256k1.PrivateKey
	pub  *secp256k1.PublicKey
}

func newSecp256k1Key(priv *secp256k1.PrivateKey) *secp256k1Key {
	return &secp256k1Key{priv: priv, pub: priv.PubKey()}
}

// Public returns the *secp256k1.PublicKey.
func (k *secp256k1Key) Public() crypto.PublicKey { return k.pub }

// Sign signs digest; rand and opts are unused (the nonce is RFC 6979's).
func (k *secp256k1Key) Sign(_ io.Reader, digest []byte, _ crypto.SignerOpts) ([]byte, error) {
	return k1ecdsa.Sign(k.priv, digest).Serialize(), nil
}

// verifySecp256k1 checks a DER ECDSA signature of digest. Both low and
// high S are accepted, as ECDSA (and KMS) define validity.
func verifySecp256k1(pub *secp256k1.PublicKey, digest, sig []byte) bool {
	s, err := k1ecdsa.ParseDERSignature(sig)
	if err != nil {
		return false
	}
	return s.Verify(digest, pub)
}

// generateSecp256k1 returns a new private key in PKCS#8.
func generateSecp256k1(rnd io.Reader) ([]byte, error) {
	priv, err := secp256k1.GeneratePrivateKeyFromRand(rnd)
	if err != nil {
		return nil, err
	}
	defer priv.Zero()
	return marshalSecp256k1PKCS8(priv)
}

type pkcs8Info struct {
	Version    int
	Algo       pkix.AlgorithmIdentifier
	PrivateKey []byte
}

type ecPrivateKey struct {
	Version       int
	PrivateKey    []byte
	NamedCurveOID asn1.ObjectIdentifier `asn1:"optional,explicit,tag:0"`
	PublicKey     asn1.BitString        `asn1:"optional,explicit,tag:1"`
}

type spki struct {
	Algo      pkix.AlgorithmIdentifier
	PublicKey asn1.BitString
}

func secp256k1Algorithm() pkix.AlgorithmIdentifier {
	params, _ := asn1.Marshal(oidSecp256k1)
	return pkix.AlgorithmIdentifier{Algorithm: oidECPublicKey, Parameters: asn1.RawValue{FullBytes: params}}
}

// marshalSecp256k1PKCS8 encodes priv as PKCS#8, with the curve in the
// algorithm identifier and the public key in the ECPrivateKey (as
// crypto/x509 does for the NIST curves).
func marshalSecp256k1PKCS8(priv *secp256k1.PrivateKey) ([]byte, error) {
	scalar := priv.Key.Bytes()
	defer clear(scalar[:])
	inner, err := asn1.Marshal(ecPrivateKey{
		Version:    1,
		PrivateKey: scalar[:],
		PublicKey:  asn1.BitString{Bytes: priv.PubKey().SerializeUncompressed(), BitLength: 65 * 8},
	})
	if err != nil {
		return nil, err
	}
	defer clear(inner)
	return asn1.Marshal(pkcs8Info{Version: 0, Algo: secp256k1Algorithm(), PrivateKey: inner})
}

// isSecp256k1PKCS8 reports whether der is a PKCS#8 key on secp256k1
// (without checking the key itself).
func isSecp256k1PKCS8(der []byte) bool {
	var info pkcs8Info
	if rest, err := asn1.Unmarshal(der, &info); err != nil || len(rest) != 0 {
		return false
	}
	var curve asn1.ObjectIdentifier
	if _, err := asn1.Unmarshal(info.Algo.Parameters.FullBytes, &curve); err != nil {
		return false
	}
	return info.Algo.Algorithm.Equal(oidECPublicKey) && curve.Equal(oidSecp256k1)
}

// parseSecp256k1PKCS8 decodes a PKCS#8 secp256k1 private key. The scalar
// must be in [1, n-1]; a public key, when present, must be the one the
// scalar gives; a curve inside the ECPrivateKey, when present, must be
// secp256k1.
func parseSecp256k1PKCS8(der []byte) (*secp256k1Key, error) {
	if !isSecp256k1PKCS8(der) {
		return nil, errSecp256k1Key
	}
	var info pkcs8Info
	if _, err := asn1.Unmarshal(der, &info); err != nil || info.Version != 0 {
		return nil, errSecp256k1Key
	}
	var ec ecPrivateKey
	if rest, err := asn1.Unmarshal(info.PrivateKey, &ec); err != nil || len(rest) != 0 || ec.Version != 1 {
		return nil, errSecp256k1Key
	}
	defer clear(ec.PrivateKey)
	if len(ec.NamedCurveOID) > 0 && !ec.NamedCurveOID.Equal(oidSecp256k1) {
		return nil, errSecp256k1Key
	}
	if len(ec.PrivateKey) == 0 || len(ec.PrivateKey) > 32 {
		return nil, errSecp256k1Key
	}
	var priv secp256k1.PrivateKey
	if overflow := priv.Key.SetByteSlice(ec.PrivateKey); overflow || priv.Key.IsZero() {
		return nil, errSecp256k1Key
	}
	k := newSecp256k1Key(&priv)
	if ec.PublicKey.BitLength > 0 {
		want := k.pub.SerializeUncompressed()
		got := ec.PublicKey.RightAlign()
		if len(got) == 33 {
			want = k.pub.SerializeCompressed()
		}
		if subtle.ConstantTimeCompare(want, got) != 1 {
			return nil, errSecp256k1Key
		}
	}
	return k, nil
}

// marshalSecp256k1SPKI encodes pub as a SubjectPublicKeyInfo with an
// uncompressed point, as GetPublicKey returns it.
func marshalSecp256k1SPKI(pub *secp256k1.PublicKey) ([]byte, error) {
	return asn1.Marshal(spki{Algo: secp256k1Algorithm(), PublicKey: asn1.BitString{Bytes: pub.SerializeUncompressed(), BitLength: 65 * 8}})
}
