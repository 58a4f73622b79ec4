package kms_test

import (
	"bytes"
	"crypto"
	"crypto/ecdsa"
	"crypto/hmac"
	"crypto/rand"
	"crypto/rsa"
	_ "crypto/sha256"
	_ "crypto/sha512"
	"crypto/x509"
	"slices"
	"testing"

	"github.com/aws/aws-sdk-go-v2/service/kms"
	"github.com/aws/aws-sdk-go-v2/service/kms/types"
)

// The key specs of "Key spec reference" (KMS Developer Guide) with the
// algorithms AWS lists for each.
var (
	rsaEncryptionAlgs = []types.EncryptionAlgorithmSpec{types.EncryptionAlgorithmSpecRsaesOaepSha1, types.EncryptionAlgorithmSpecRsaesOaepSha256}
	rsaSigningAlgs    = []types.SigningAlgorithmSpec{
		types.SigningAlgorithmSpecRsassaPssSha256, types.SigningAlgorithmSpecRsassaPssSha384, types.SigningAlgorithmSpecRsassaPssSha512,
		types.SigningAlgorithmSpecRsassaPkcs1V15Sha256, types.SigningAlgorithmSpecRsassaPkcs1V15Sha384, types.SigningAlgorithmSpecRsassaPkcs1V15Sha512,
	}
	algHash = map[types.SigningAlgorithmSpec]crypto.Hash{
		types.SigningAlgorithmSpecRsassaPssSha256: crypto.SHA256, types.SigningAlgorithmSpecRsassaPssSha384: crypto.SHA384, types.SigningAlgorithmSpecRsassaPssSha512: crypto.SHA512,
		types.SigningAlgorithmSpecRsassaPkcs1V15Sha256: crypto.SHA256, types.SigningAlgorithmSpecRsassaPkcs1V15Sha384: crypto.SHA384, types.SigningAlgorithmSpecRsassaPkcs1V15Sha512: crypto.SHA512,
		types.SigningAlgorithmSpecEcdsaSha256: crypto.SHA256, types.SigningAlgorithmSpecEcdsaSha384: crypto.SHA384, types.SigningAlgorithmSpecEcdsaSha512: crypto.SHA512,
	}
)

// TestEveryKeySpec creates one key per key spec and usage the issue
// lists and exercises every algorithm DescribeKey reports for it: a
// signature (RAW and DIGEST) that KMS verifies and that the standard
// library verifies over GetPublicKey's key, an RSA encryption in both
// directions, and a MAC of the right length. A pairing AWS does not
// list is refused with InvalidKeyUsageException.
func TestEveryKeySpec(t *testing.T) {
	_, c := start(t)
	msg := []byte("every key spec")

	signing := map[string]struct {
		spec types.KeySpec
		algs []types.SigningAlgorithmSpec
		bits int
	}{
		"RSA_2048":        {types.KeySpecRsa2048, rsaSigningAlgs, 2048},
		"RSA_3072":        {types.KeySpecRsa3072, rsaSigningAlgs, 3072},
		"RSA_4096":        {types.KeySpecRsa4096, rsaSigningAlgs, 4096},
		"ECC_NIST_P256":   {types.KeySpecEccNistP256, []types.SigningAlgorithmSpec{types.SigningAlgorithmSpecEcdsaSha256}, 256},
		"ECC_NIST_P384":   {types.KeySpecEccNistP384, []types.SigningAlgorithmSpec{types.SigningAlgorithmSpecEcdsaSha384}, 384},
		"ECC_NIST_P521":   {types.KeySpecEccNistP521, []types.SigningAlgorithmSpec{types.SigningAlgorithmSpecEcdsaSha512}, 521},
		"ECC_SECG_P256K1": {types.KeySpecEccSecgP256k1, []types.SigningAlgorithmSpec{types.SigningAlgorithmSpecEcdsaSha256}, 256},
	}
	for name, tc := range signing {
		t.Run("SIGN_VERIFY/"+name, func(t *testing.T) {
			t.Parallel()
			k := createKey(t, c, &kms.CreateKeyInput{KeySpec: tc.spec, KeyUsage: types.KeyUsageTypeSignVerify})
			if !slices.Equal(k.SigningAlgorithms, tc.algs) || len(k.EncryptionAlgorithms) != 0 || len(k.MacAlgorithms) != 0 {
				t.Fatalf("DescribeKey lists signing %v, encryption %v, MAC %v; want signing %v", k.SigningAlgorithms, k.EncryptionAlgorithms, k.MacAlgorithms, tc.algs)
			}
			pub, err := c.GetPublicKey(ctx, &kms.GetPublicKeyInput{KeyId: k.KeyId})
			if err != nil {
				t.Fatal(err)
			}
			if pub.KeySpec != tc.spec || pub.KeyUsage != types.KeyUsageTypeSignVerify || !slices.Equal(pub.SigningAlgorithms, tc.algs) {
				t.Fatalf("GetPublicKey: %s %s %v", pub.KeySpec, pub.KeyUsage, pub.SigningAlgorithms)
			}
			verify := publicVerifier(t, tc.spec, pub.PublicKey, tc.bits)
			for _, alg := range k.SigningAlgorithms {
				h := algHash[alg]
				d := h.New()
				d.Write(msg)
				digest := d.Sum(nil)
				for _, mt := range []types.MessageType{types.MessageTypeRaw, types.MessageTypeDigest} {
					m := msg
					if mt == types.MessageTypeDigest {
						m = digest
					}
					sig, err := c.Sign(ctx, &kms.SignInput{KeyId: k.KeyId, Message: m, MessageType: mt, SigningAlgorithm: alg})
					if err != nil {
						t.Fatalf("Sign %s %s: %v", alg, mt, err)
					}
					if sig.SigningAlgorithm != alg {
						t.Fatalf("Sign answered algorithm %s", sig.SigningAlgorithm)
					}
					if !verify(alg, h, digest, sig.Signature) {
						t.Fatalf("%s %s signature does not verify with the public key", alg, mt)
					}
					v, err := c.Verify(ctx, &kms.VerifyInput{KeyId: k.KeyId, Message: m, MessageType: mt, Signature: sig.Signature, SigningAlgorithm: alg})
					if err != nil || !v.SignatureValid {
						t.Fatalf("Verify %s %s: %v", alg, mt, err)
					}
					// Another message does not verify.
					other := bytes.Clone(m)
					other[0] ^= 1
					_, err = c.Verify(ctx, &kms.VerifyInput{KeyId: k.KeyId, Message: other, MessageType: mt, Signature: sig.Signature, SigningAlgorithm: alg})
					wantErr(t, err, "KMSInvalidSignatureException", 400, "")
				}
				// A digest of another length is not a digest for alg.
				_, err := c.Sign(ctx, &kms.SignInput{KeyId: k.KeyId, Message: digest[1:], MessageType: types.MessageTypeDigest, SigningAlgorithm: alg})
				wantErr(t, err, "ValidationException", 400, "Digest is invalid length for algorithm "+string(alg))
			}
			// Every algorithm AWS does not pair with the spec is refused.
			for _, alg := range types.SigningAlgorithmSpec("").Values() {
				if slices.Contains(tc.algs, alg) || algHash[alg] == 0 {
					continue // listed, or not one of the RSA/ECDSA algorithms (SM2DSA, ML_DSA…)
				}
				_, err := c.Sign(ctx, &kms.SignInput{KeyId: k.KeyId, Message: msg, SigningAlgorithm: alg})
				wantErr(t, err, "InvalidKeyUsageException", 400, "")
			}
			_, err = c.Encrypt(ctx, &kms.EncryptInput{KeyId: k.KeyId, Plaintext: msg})
			wantErr(t, err, "InvalidKeyUsageException", 400, "key usage is SIGN_VERIFY which is not valid for Encrypt.")
			_, err = c.GenerateMac(ctx, &kms.GenerateMacInput{KeyId: k.KeyId, Message: msg, MacAlgorithm: types.MacAlgorithmSpecHmacSha256})
			wantErr(t, err, "InvalidKeyUsageException", 400, "which is not valid for GenerateMac.")
		})
	}

	for name, tc := range map[string]struct {
		spec types.KeySpec
		max  int // the largest plaintext RSAES-OAEP with SHA-256 takes
	}{
		"RSA_2048": {types.KeySpecRsa2048, 2048/8 - 2*32 - 2},
		"RSA_3072": {types.KeySpecRsa3072, 3072/8 - 2*32 - 2},
		"RSA_4096": {types.KeySpecRsa4096, 4096/8 - 2*32 - 2},
	} {
		t.Run("ENCRYPT_DECRYPT/"+name, func(t *testing.T) {
			t.Parallel()
			k := createKey(t, c, &kms.CreateKeyInput{KeySpec: tc.spec, KeyUsage: types.KeyUsageTypeEncryptDecrypt})
			if !slices.Equal(k.EncryptionAlgorithms, rsaEncryptionAlgs) || len(k.SigningAlgorithms) != 0 {
				t.Fatalf("DescribeKey lists encryption %v, signing %v", k.EncryptionAlgorithms, k.SigningAlgorithms)
			}
			pub, err := c.GetPublicKey(ctx, &kms.GetPublicKeyInput{KeyId: k.KeyId})
			if err != nil {
				t.Fatal(err)
			}
			pk, err := x509.ParsePKIXPublicKey(pub.PublicKey)
			if err != nil {
				t.Fatal(err)
			}
			rk := pk.(*rsa.PublicKey)
			for _, alg := range k.EncryptionAlgorithms {
				h := crypto.SHA256
				if alg == types.EncryptionAlgorithmSpecRsaesOaepSha1 {
					h = crypto.SHA1
				}
				// KMS encrypts, KMS decrypts.
				enc, err := c.Encrypt(ctx, &kms.EncryptInput{KeyId: k.KeyId, Plaintext: msg, EncryptionAlgorithm: alg})
				if err != nil || enc.EncryptionAlgorithm != alg || len(enc.CiphertextBlob) != rk.Size() {
					t.Fatalf("Encrypt %s: %v", alg, err)
				}
				dec, err := c.Decrypt(ctx, &kms.DecryptInput{KeyId: k.KeyId, CiphertextBlob: enc.CiphertextBlob, EncryptionAlgorithm: alg})
				if err != nil || !bytes.Equal(dec.Plaintext, msg) || dec.EncryptionAlgorithm != alg {
					t.Fatalf("Decrypt %s: %v", alg, err)
				}
				// Encrypted offline with the public key, KMS decrypts.
				off, err := rsa.EncryptOAEP(h.New(), rand.Reader, rk, []byte("offline"), nil)
				if err != nil {
					t.Fatal(err)
				}
				dec, err = c.Decrypt(ctx, &kms.DecryptInput{KeyId: k.KeyId, CiphertextBlob: off, EncryptionAlgorithm: alg})
				if err != nil || string(dec.Plaintext) != "offline" {
					t.Fatalf("Decrypt of an offline %s ciphertext: %v", alg, err)
				}
				// The other OAEP hash does not open it.
				wrong := types.EncryptionAlgorithmSpecRsaesOaepSha1
				if alg == wrong {
					wrong = types.EncryptionAlgorithmSpecRsaesOaepSha256
				}
				_, err = c.Decrypt(ctx, &kms.DecryptInput{KeyId: k.KeyId, CiphertextBlob: enc.CiphertextBlob, EncryptionAlgorithm: wrong})
				wantErr(t, err, "InvalidCiphertextException", 400, "")
			}
			// The plaintext limit of the key size.
			if _, err := c.Encrypt(ctx, &kms.EncryptInput{KeyId: k.KeyId, Plaintext: make([]byte, tc.max), EncryptionAlgorithm: types.EncryptionAlgorithmSpecRsaesOaepSha256}); err != nil {
				t.Fatalf("Encrypt of %d bytes: %v", tc.max, err)
			}
			_, err = c.Encrypt(ctx, &kms.EncryptInput{KeyId: k.KeyId, Plaintext: make([]byte, tc.max+1), EncryptionAlgorithm: types.EncryptionAlgorithmSpecRsaesOaepSha256})
			wantErr(t, err, "ValidationException", 400, "")
			// Wrong pairings.
			_, err = c.Encrypt(ctx, &kms.EncryptInput{KeyId: k.KeyId, Plaintext: msg})
			wantErr(t, err, "InvalidKeyUsageException", 400, "The encryption algorithm SYMMETRIC_DEFAULT is not valid for")
			_, err = c.Encrypt(ctx, &kms.EncryptInput{KeyId: k.KeyId, Plaintext: msg, EncryptionAlgorithm: types.EncryptionAlgorithmSpecSm2pke})
			wantErr(t, err, "InvalidKeyUsageException", 400, "")
			_, err = c.Sign(ctx, &kms.SignInput{KeyId: k.KeyId, Message: msg, SigningAlgorithm: types.SigningAlgorithmSpecRsassaPssSha256})
			wantErr(t, err, "InvalidKeyUsageException", 400, "key usage is ENCRYPT_DECRYPT which is not valid for Sign.")
		})
	}

	macs := map[types.KeySpec]types.MacAlgorithmSpec{
		types.KeySpecHmac224: types.MacAlgorithmSpecHmacSha224,
		types.KeySpecHmac256: types.MacAlgorithmSpecHmacSha256,
		types.KeySpecHmac384: types.MacAlgorithmSpecHmacSha384,
		types.KeySpecHmac512: types.MacAlgorithmSpecHmacSha512,
	}
	macHash := map[types.MacAlgorithmSpec]crypto.Hash{
		types.MacAlgorithmSpecHmacSha224: crypto.SHA224, types.MacAlgorithmSpecHmacSha256: crypto.SHA256,
		types.MacAlgorithmSpecHmacSha384: crypto.SHA384, types.MacAlgorithmSpecHmacSha512: crypto.SHA512,
	}
	for spec, alg := range macs {
		t.Run("GENERATE_VERIFY_MAC/"+string(spec), func(t *testing.T) {
			t.Parallel()
			h := macHash[alg]
			// Key material generated by KMS, and material imported, whose
			// MAC the standard library recomputes.
			generated := createKey(t, c, &kms.CreateKeyInput{KeySpec: spec, KeyUsage: types.KeyUsageTypeGenerateVerifyMac})
			imported := createKey(t, c, &kms.CreateKeyInput{KeySpec: spec, KeyUsage: types.KeyUsageTypeGenerateVerifyMac, Origin: types.OriginTypeExternal})
			material := randomBytes(h.Size()) // HMAC_224 takes 28 bytes, HMAC_512 64 ("Importing key material")
			token, wk := importParams(t, c, imported.KeyId, types.AlgorithmSpecRsaesOaepSha256, types.WrappingKeySpecRsa2048)
			if _, err := c.ImportKeyMaterial(ctx, &kms.ImportKeyMaterialInput{KeyId: imported.KeyId, ImportToken: token,
				EncryptedKeyMaterial: wrap(t, wk, types.AlgorithmSpecRsaesOaepSha256, material), ExpirationModel: types.ExpirationModelTypeKeyMaterialDoesNotExpire}); err != nil {
				t.Fatalf("ImportKeyMaterial: %v", err)
			}
			for _, k := range []*types.KeyMetadata{generated, imported} {
				if !slices.Equal(k.MacAlgorithms, []types.MacAlgorithmSpec{alg}) || len(k.SigningAlgorithms) != 0 || len(k.EncryptionAlgorithms) != 0 {
					t.Fatalf("DescribeKey lists MAC %v", k.MacAlgorithms)
				}
				m, err := c.GenerateMac(ctx, &kms.GenerateMacInput{KeyId: k.KeyId, Message: msg, MacAlgorithm: alg})
				if err != nil {
					t.Fatalf("GenerateMac: %v", err)
				}
				if m.MacAlgorithm != alg || len(m.Mac) != h.Size() {
					t.Fatalf("GenerateMac: %s, %d bytes; want %s, %d", m.MacAlgorithm, len(m.Mac), alg, h.Size())
				}
				v, err := c.VerifyMac(ctx, &kms.VerifyMacInput{KeyId: k.KeyId, Message: msg, Mac: m.Mac, MacAlgorithm: alg})
				if err != nil || !v.MacValid {
					t.Fatalf("VerifyMac: %v", err)
				}
				bad := bytes.Clone(m.Mac)
				bad[0] ^= 1
				_, err = c.VerifyMac(ctx, &kms.VerifyMacInput{KeyId: k.KeyId, Message: msg, Mac: bad, MacAlgorithm: alg})
				wantErr(t, err, "KMSInvalidMacException", 400, "")
				if k == imported {
					want := hmac.New(h.New, material)
					want.Write(msg)
					if !hmac.Equal(m.Mac, want.Sum(nil)) {
						t.Fatal("the MAC of imported material is not HMAC of that material")
					}
				}
				for _, other := range macs {
					if other == alg {
						continue
					}
					_, err := c.GenerateMac(ctx, &kms.GenerateMacInput{KeyId: k.KeyId, Message: msg, MacAlgorithm: other})
					wantErr(t, err, "InvalidKeyUsageException", 400, "")
				}
			}
			_, err := c.Encrypt(ctx, &kms.EncryptInput{KeyId: generated.KeyId, Plaintext: msg})
			wantErr(t, err, "InvalidKeyUsageException", 400, "key usage is GENERATE_VERIFY_MAC which is not valid for Encrypt.")
			_, err = c.GetPublicKey(ctx, &kms.GetPublicKeyInput{KeyId: generated.KeyId})
			wantErr(t, err, "UnsupportedOperationException", 400, "")
		})
	}
}

// publicVerifier parses a SubjectPublicKeyInfo of spec (bits its size)
// and returns a function that checks a signature over digest with the
// standard library (secp256k1: with this package's reference arithmetic).
func publicVerifier(t *testing.T, spec types.KeySpec, der []byte, bits int) func(types.SigningAlgorithmSpec, crypto.Hash, []byte, []byte) bool {
	t.Helper()
	if spec == types.KeySpecEccSecgP256k1 {
		q := parseK1SPKI(t, der)
		return func(_ types.SigningAlgorithmSpec, _ crypto.Hash, digest, sig []byte) bool {
			return k1Verify(q, digest, sig)
		}
	}
	pk, err := x509.ParsePKIXPublicKey(der)
	if err != nil {
		t.Fatal(err)
	}
	switch p := pk.(type) {
	case *rsa.PublicKey:
		if p.N.BitLen() != bits {
			t.Fatalf("RSA key of %d bits", p.N.BitLen())
		}
		return func(alg types.SigningAlgorithmSpec, h crypto.Hash, digest, sig []byte) bool {
			switch alg {
			case types.SigningAlgorithmSpecRsassaPssSha256, types.SigningAlgorithmSpecRsassaPssSha384, types.SigningAlgorithmSpecRsassaPssSha512:
				// KMS's PSS salt is as long as the digest.
				return rsa.VerifyPSS(p, h, digest, sig, &rsa.PSSOptions{SaltLength: rsa.PSSSaltLengthEqualsHash}) == nil
			}
			return rsa.VerifyPKCS1v15(p, h, digest, sig) == nil
		}
	case *ecdsa.PublicKey:
		if p.Curve.Params().BitSize != bits {
			t.Fatalf("curve %s", p.Curve.Params().Name)
		}
		return func(_ types.SigningAlgorithmSpec, _ crypto.Hash, digest, sig []byte) bool {
			return ecdsa.VerifyASN1(p, digest, sig)
		}
	}
	t.Fatalf("public key %T", pk)
	return nil
}
