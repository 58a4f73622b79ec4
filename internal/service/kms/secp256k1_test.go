package kms_test

import (
	"bytes"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/rsa"
	"crypto/sha256"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/asn1"
	"encoding/hex"
	"math/big"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/kms"
	"github.com/aws/aws-sdk-go-v2/service/kms/types"
	"github.com/decred/dcrd/dcrec/secp256k1/v4"
	k1ecdsa "github.com/decred/dcrd/dcrec/secp256k1/v4/ecdsa"
)

// secp256k1 domain parameters (SEC 2 §2.4.1), for an independent verifier
// written with math/big: the service signs with one implementation, the
// test checks with another.
var (
	k1P  = mustBig("fffffffffffffffffffffffffffffffffffffffffffffffffffffffefffffc2f")
	k1N  = mustBig("fffffffffffffffffffffffffffffffebaaedce6af48a03bbfd25e8cd0364141")
	k1Gx = mustBig("79be667ef9dcbbac55a06295ce870b07029bfcdb2dce28d959f2815b16f81798")
	k1Gy = mustBig("483ada7726a3c4655da4fbfc0e1108a8fd17b448a68554199c47d08ffb10d4b8")
)

func mustBig(h string) *big.Int {
	v, ok := new(big.Int).SetString(h, 16)
	if !ok {
		panic(h)
	}
	return v
}

type k1Point struct{ x, y *big.Int } // nil x: the point at infinity

func k1Add(a, b k1Point) k1Point {
	switch {
	case a.x == nil:
		return b
	case b.x == nil:
		return a
	}
	var l *big.Int
	if a.x.Cmp(b.x) == 0 {
		if new(big.Int).Mod(new(big.Int).Add(a.y, b.y), k1P).Sign() == 0 {
			return k1Point{}
		}
		// λ = 3x² / 2y
		num := new(big.Int).Mul(big.NewInt(3), new(big.Int).Mul(a.x, a.x))
		den := new(big.Int).ModInverse(new(big.Int).Mul(big.NewInt(2), a.y), k1P)
		l = new(big.Int).Mul(num, den)
	} else {
		num := new(big.Int).Sub(b.y, a.y)
		den := new(big.Int).ModInverse(new(big.Int).Mod(new(big.Int).Sub(b.x, a.x), k1P), k1P)
		l = new(big.Int).Mul(num, den)
	}
	l.Mod(l, k1P)
	x := new(big.Int).Sub(new(big.Int).Mul(l, l), new(big.Int).Add(a.x, b.x))
	x.Mod(x, k1P)
	y := new(big.Int).Sub(new(big.Int).Mul(l, new(big.Int).Sub(a.x, x)), a.y)
	y.Mod(y, k1P)
	return k1Point{x, y}
}

func k1Mul(p k1Point, k *big.Int) k1Point {
	var r k1Point
	for i := k.BitLen() - 1; i >= 0; i-- {
		r = k1Add(r, r)
		if k.Bit(i) == 1 {
			r = k1Add(r, p)
		}
	}
	return r
}

// k1Verify is textbook ECDSA verification (SEC 1 §4.1.4) over DER.
func k1Verify(pub k1Point, digest, der []byte) bool {
	var sig struct{ R, S *big.Int }
	if rest, err := asn1.Unmarshal(der, &sig); err != nil || len(rest) != 0 {
		return false
	}
	if sig.R.Sign() <= 0 || sig.S.Sign() <= 0 || sig.R.Cmp(k1N) >= 0 || sig.S.Cmp(k1N) >= 0 {
		return false
	}
	e := new(big.Int).SetBytes(digest)
	w := new(big.Int).ModInverse(sig.S, k1N)
	u1 := new(big.Int).Mod(new(big.Int).Mul(e, w), k1N)
	u2 := new(big.Int).Mod(new(big.Int).Mul(sig.R, w), k1N)
	x := k1Add(k1Mul(k1Point{k1Gx, k1Gy}, u1), k1Mul(pub, u2))
	return x.x != nil && new(big.Int).Mod(x.x, k1N).Cmp(sig.R) == 0
}

var (
	oidECPublicKey = asn1.ObjectIdentifier{1, 2, 840, 10045, 2, 1}
	oidSecp256k1   = asn1.ObjectIdentifier{1, 3, 132, 0, 10}
)

// parseK1SPKI reads a SubjectPublicKeyInfo and checks that it is an
// uncompressed point on secp256k1 with the named curve 1.3.132.0.10.
func parseK1SPKI(t *testing.T, der []byte) k1Point {
	t.Helper()
	var info struct {
		Algo      pkix.AlgorithmIdentifier
		PublicKey asn1.BitString
	}
	if rest, err := asn1.Unmarshal(der, &info); err != nil || len(rest) != 0 {
		t.Fatalf("SubjectPublicKeyInfo: %v", err)
	}
	var curve asn1.ObjectIdentifier
	if _, err := asn1.Unmarshal(info.Algo.Parameters.FullBytes, &curve); err != nil || !info.Algo.Algorithm.Equal(oidECPublicKey) || !curve.Equal(oidSecp256k1) {
		t.Fatalf("algorithm %v curve %v; want id-ecPublicKey secp256k1", info.Algo.Algorithm, curve)
	}
	pt := info.PublicKey.RightAlign()
	if len(pt) != 65 || pt[0] != 4 {
		t.Fatalf("public key is not an uncompressed point: %x", pt)
	}
	p := k1Point{new(big.Int).SetBytes(pt[1:33]), new(big.Int).SetBytes(pt[33:])}
	// y² = x³ + 7
	lhs := new(big.Int).Mod(new(big.Int).Mul(p.y, p.y), k1P)
	rhs := new(big.Int).Add(new(big.Int).Exp(p.x, big.NewInt(3), k1P), big.NewInt(7))
	if lhs.Cmp(rhs.Mod(rhs, k1P)) != 0 {
		t.Fatal("public key is not on secp256k1")
	}
	return p
}

// k1PKCS8 builds a PKCS#8 secp256k1 private key by hand (RFC 5208/5915).
func k1PKCS8(t *testing.T, scalar []byte) []byte {
	t.Helper()
	inner, err := asn1.Marshal(struct {
		Version    int
		PrivateKey []byte
	}{1, scalar})
	if err != nil {
		t.Fatal(err)
	}
	params, _ := asn1.Marshal(oidSecp256k1)
	der, err := asn1.Marshal(struct {
		Version    int
		Algo       pkix.AlgorithmIdentifier
		PrivateKey []byte
	}{0, pkix.AlgorithmIdentifier{Algorithm: oidECPublicKey, Parameters: asn1.RawValue{FullBytes: params}}, inner})
	if err != nil {
		t.Fatal(err)
	}
	return der
}

func TestSecp256k1SignVerify(t *testing.T) {
	_, c := start(t)
	k := createKey(t, c, &kms.CreateKeyInput{KeySpec: types.KeySpecEccSecgP256k1, KeyUsage: types.KeyUsageTypeSignVerify})
	if k.KeySpec != types.KeySpecEccSecgP256k1 || len(k.SigningAlgorithms) != 1 || k.SigningAlgorithms[0] != types.SigningAlgorithmSpecEcdsaSha256 {
		t.Fatalf("metadata: spec %s signing %v", k.KeySpec, k.SigningAlgorithms)
	}
	pub, err := c.GetPublicKey(ctx, &kms.GetPublicKeyInput{KeyId: k.KeyId})
	if err != nil {
		t.Fatal(err)
	}
	if pub.KeySpec != types.KeySpecEccSecgP256k1 || pub.KeyUsage != types.KeyUsageTypeSignVerify {
		t.Fatalf("GetPublicKey: %s %s", pub.KeySpec, pub.KeyUsage)
	}
	q := parseK1SPKI(t, pub.PublicKey)
	// The same key through the library, from the point's encoding.
	lib, err := secp256k1.ParsePubKey(append([]byte{4}, append(q.x.FillBytes(make([]byte, 32)), q.y.FillBytes(make([]byte, 32))...)...))
	if err != nil {
		t.Fatal(err)
	}
	msg := []byte("the message")
	digest := sha256.Sum256(msg)
	for name, tc := range map[string]struct {
		mt  types.MessageType
		msg []byte
	}{
		"RAW":    {types.MessageTypeRaw, msg},
		"DIGEST": {types.MessageTypeDigest, digest[:]},
	} {
		t.Run(name, func(t *testing.T) {
			out, err := c.Sign(ctx, &kms.SignInput{KeyId: k.KeyId, Message: tc.msg, MessageType: tc.mt, SigningAlgorithm: types.SigningAlgorithmSpecEcdsaSha256})
			if err != nil {
				t.Fatal(err)
			}
			if !k1Verify(q, digest[:], out.Signature) {
				t.Fatal("signature does not verify (math/big)")
			}
			sig, err := k1ecdsa.ParseDERSignature(out.Signature)
			if err != nil || !sig.Verify(digest[:], lib) {
				t.Fatalf("signature does not verify (library): %v", err)
			}
			v, err := c.Verify(ctx, &kms.VerifyInput{KeyId: k.KeyId, Message: tc.msg, MessageType: tc.mt, Signature: out.Signature, SigningAlgorithm: types.SigningAlgorithmSpecEcdsaSha256})
			if err != nil || !v.SignatureValid {
				t.Fatalf("Verify: %v", err)
			}
			// The same signature with S negated (high S) is as valid.
			var rs struct{ R, S *big.Int }
			if _, err := asn1.Unmarshal(out.Signature, &rs); err != nil {
				t.Fatal(err)
			}
			rs.S.Sub(k1N, rs.S)
			high, _ := asn1.Marshal(rs)
			if _, err := c.Verify(ctx, &kms.VerifyInput{KeyId: k.KeyId, Message: tc.msg, MessageType: tc.mt, Signature: high, SigningAlgorithm: types.SigningAlgorithmSpecEcdsaSha256}); err != nil {
				t.Fatalf("Verify (high S): %v", err)
			}
			bad := bytes.Clone(out.Signature)
			bad[len(bad)-3] ^= 1
			_, err = c.Verify(ctx, &kms.VerifyInput{KeyId: k.KeyId, Message: tc.msg, MessageType: tc.mt, Signature: bad, SigningAlgorithm: types.SigningAlgorithmSpecEcdsaSha256})
			wantErr(t, err, "KMSInvalidSignatureException", 400, "")
		})
	}

	// A signature by another secp256k1 key does not verify.
	other, _ := secp256k1.GeneratePrivateKey()
	_, err = c.Verify(ctx, &kms.VerifyInput{KeyId: k.KeyId, Message: digest[:], MessageType: types.MessageTypeDigest, Signature: k1ecdsa.Sign(other, digest[:]).Serialize(), SigningAlgorithm: types.SigningAlgorithmSpecEcdsaSha256})
	wantErr(t, err, "KMSInvalidSignatureException", 400, "")

	for name, tc := range map[string]struct {
		call   func() error
		code   string
		status int
		msg    string
	}{
		"ECDSA_SHA_384": {func() error {
			_, err := c.Sign(ctx, &kms.SignInput{KeyId: k.KeyId, Message: msg, SigningAlgorithm: types.SigningAlgorithmSpecEcdsaSha384})
			return err
		}, "InvalidKeyUsageException", 400, "Signing algorithm ECDSA_SHA_384 is not valid"},
		"short digest": {func() error {
			_, err := c.Sign(ctx, &kms.SignInput{KeyId: k.KeyId, Message: msg, MessageType: types.MessageTypeDigest, SigningAlgorithm: types.SigningAlgorithmSpecEcdsaSha256})
			return err
		}, "ValidationException", 400, "Digest is invalid length"},
		"Encrypt": {func() error {
			_, err := c.Encrypt(ctx, &kms.EncryptInput{KeyId: k.KeyId, Plaintext: msg})
			return err
		}, "InvalidKeyUsageException", 400, "which is not valid for Encrypt."},
		"KEY_AGREEMENT": {func() error {
			_, err := c.CreateKey(ctx, &kms.CreateKeyInput{KeySpec: types.KeySpecEccSecgP256k1, KeyUsage: types.KeyUsageTypeKeyAgreement})
			return err
		}, "ValidationException", 400, "KeyUsage KEY_AGREEMENT is not compatible with KeySpec ECC_SECG_P256K1"},
		"ENCRYPT_DECRYPT": {func() error {
			_, err := c.CreateKey(ctx, &kms.CreateKeyInput{KeySpec: types.KeySpecEccSecgP256k1, KeyUsage: types.KeyUsageTypeEncryptDecrypt})
			return err
		}, "ValidationException", 400, "not compatible"},
	} {
		t.Run(name, func(t *testing.T) { wantErr(t, tc.call(), tc.code, tc.status, tc.msg) })
	}
}

// TestSecp256k1KnownVector imports the private key 1, whose public key is
// the generator G, and signs the SHA-256 of "Satoshi Nakamoto": with the
// RFC 6979 nonce the signature is the well-known (r, s) of that vector.
func TestSecp256k1KnownVector(t *testing.T) {
	_, c := start(t)
	k := createKey(t, c, &kms.CreateKeyInput{KeySpec: types.KeySpecEccSecgP256k1, KeyUsage: types.KeyUsageTypeSignVerify, Origin: types.OriginTypeExternal})
	if k.KeyState != types.KeyStatePendingImport {
		t.Fatalf("state %s", k.KeyState)
	}
	imp := func(material []byte) error {
		p, err := c.GetParametersForImport(ctx, &kms.GetParametersForImportInput{KeyId: k.KeyId, WrappingAlgorithm: types.AlgorithmSpecRsaesOaepSha256, WrappingKeySpec: types.WrappingKeySpecRsa2048})
		if err != nil {
			t.Fatal(err)
		}
		wk, err := x509.ParsePKIXPublicKey(p.PublicKey)
		if err != nil {
			t.Fatal(err)
		}
		wrapped, err := rsa.EncryptOAEP(sha256.New(), rand.Reader, wk.(*rsa.PublicKey), material, nil)
		if err != nil {
			t.Fatal(err)
		}
		_, err = c.ImportKeyMaterial(ctx, &kms.ImportKeyMaterialInput{KeyId: k.KeyId, ImportToken: p.ImportToken, EncryptedKeyMaterial: wrapped, ExpirationModel: types.ExpirationModelTypeKeyMaterialDoesNotExpire})
		return err
	}

	// A P-256 key is not secp256k1 key material; nor is a scalar ≥ n.
	p256, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	p256DER, _ := x509.MarshalPKCS8PrivateKey(p256)
	wantErr(t, imp(p256DER), "IncorrectKeyMaterialException", 400, "")
	wantErr(t, imp(k1PKCS8(t, k1N.Bytes())), "IncorrectKeyMaterialException", 400, "")
	if st := keyState(t, c, *k.KeyId); st != types.KeyStatePendingImport {
		t.Fatalf("state after bad imports: %s", st)
	}

	one := make([]byte, 32)
	one[31] = 1
	if err := imp(k1PKCS8(t, one)); err != nil {
		t.Fatalf("ImportKeyMaterial: %v", err)
	}
	pub, err := c.GetPublicKey(ctx, &kms.GetPublicKeyInput{KeyId: k.KeyId})
	if err != nil {
		t.Fatal(err)
	}
	// SPKI of G: SEQUENCE { SEQUENCE { id-ecPublicKey, secp256k1 }, BIT STRING 04‖Gx‖Gy }.
	wantPub, _ := hex.DecodeString("3056301006072a8648ce3d020106052b8104000a034200" +
		"0479be667ef9dcbbac55a06295ce870b07029bfcdb2dce28d959f2815b16f81798" +
		"483ada7726a3c4655da4fbfc0e1108a8fd17b448a68554199c47d08ffb10d4b8")
	if !bytes.Equal(pub.PublicKey, wantPub) {
		t.Fatalf("public key of 1:\n got %x\nwant %x", pub.PublicKey, wantPub)
	}
	sig, err := c.Sign(ctx, &kms.SignInput{KeyId: k.KeyId, Message: []byte("Satoshi Nakamoto"), SigningAlgorithm: types.SigningAlgorithmSpecEcdsaSha256})
	if err != nil {
		t.Fatal(err)
	}
	var rs struct{ R, S *big.Int }
	if _, err := asn1.Unmarshal(sig.Signature, &rs); err != nil {
		t.Fatal(err)
	}
	if rs.R.Cmp(mustBig("934b1ea10a4b3c1757e2b0c017d0b6143ce3c9a7e6a4a49860d7a6ab210ee3d8")) != 0 ||
		rs.S.Cmp(mustBig("2442ce9d2b916064108014783e923ec36b49743e2ffa1c4496f01a512aafd9e5")) != 0 {
		t.Fatalf("signature (%x, %x) is not the RFC 6979 vector", rs.R, rs.S)
	}
	// Re-importing must bring the same key.
	two := make([]byte, 32)
	two[31] = 2
	wantErr(t, imp(k1PKCS8(t, two)), "IncorrectKeyMaterialException", 400, "not the key material previously imported")
}

func TestSecp256k1DataKeyPair(t *testing.T) {
	_, c := start(t)
	k := createKey(t, c, nil)
	ec := map[string]string{"purpose": "wallet"}
	out, err := c.GenerateDataKeyPair(ctx, &kms.GenerateDataKeyPairInput{KeyId: k.KeyId, KeyPairSpec: types.DataKeyPairSpecEccSecgP256k1, EncryptionContext: ec})
	if err != nil {
		t.Fatal(err)
	}
	q := parseK1SPKI(t, out.PublicKey)
	// The private key: PKCS#8 on secp256k1 whose scalar gives the public key.
	var info struct {
		Version    int
		Algo       pkix.AlgorithmIdentifier
		PrivateKey []byte
	}
	if _, err := asn1.Unmarshal(out.PrivateKeyPlaintext, &info); err != nil {
		t.Fatal(err)
	}
	var curve asn1.ObjectIdentifier
	if _, err := asn1.Unmarshal(info.Algo.Parameters.FullBytes, &curve); err != nil || !curve.Equal(oidSecp256k1) {
		t.Fatalf("curve %v", curve)
	}
	var inner struct {
		Version    int
		PrivateKey []byte
		Curve      asn1.ObjectIdentifier `asn1:"optional,explicit,tag:0"`
		Public     asn1.BitString        `asn1:"optional,explicit,tag:1"`
	}
	if _, err := asn1.Unmarshal(info.PrivateKey, &inner); err != nil || len(inner.PrivateKey) != 32 {
		t.Fatalf("ECPrivateKey: %v", err)
	}
	d := new(big.Int).SetBytes(inner.PrivateKey)
	if p := k1Mul(k1Point{k1Gx, k1Gy}, d); p.x.Cmp(q.x) != 0 || p.y.Cmp(q.y) != 0 {
		t.Fatal("public key does not match the private key")
	}
	dec, err := c.Decrypt(ctx, &kms.DecryptInput{CiphertextBlob: out.PrivateKeyCiphertextBlob, EncryptionContext: ec})
	if err != nil || !bytes.Equal(dec.Plaintext, out.PrivateKeyPlaintext) {
		t.Fatalf("Decrypt of the private key: %v", err)
	}
	wp, err := c.GenerateDataKeyPairWithoutPlaintext(ctx, &kms.GenerateDataKeyPairWithoutPlaintextInput{KeyId: k.KeyId, KeyPairSpec: types.DataKeyPairSpecEccSecgP256k1})
	if err != nil {
		t.Fatal(err)
	}
	parseK1SPKI(t, wp.PublicKey)
	_ = aws.String
	_ = time.Second
}

// BenchmarkSignSecp256k1 signs a digest with an ECC_SECG_P256K1 key end
// to end, as BenchmarkEncrypt does.
func BenchmarkSignSecp256k1(b *testing.B) {
	_, c := startB(b)
	k, err := c.CreateKey(ctx, &kms.CreateKeyInput{KeySpec: types.KeySpecEccSecgP256k1, KeyUsage: types.KeyUsageTypeSignVerify})
	if err != nil {
		b.Fatal(err)
	}
	d := sha256.Sum256([]byte("bench"))
	in := &kms.SignInput{KeyId: k.KeyMetadata.KeyId, Message: d[:], MessageType: types.MessageTypeDigest, SigningAlgorithm: types.SigningAlgorithmSpecEcdsaSha256}
	b.ResetTimer()
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			if _, err := c.Sign(ctx, in); err != nil {
				b.Error(err)
				return
			}
		}
	})
}
