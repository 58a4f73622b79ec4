package kms_test

import (
	"bytes"
	"crypto"
	"crypto/ecdsa"
	"crypto/rand"
	"crypto/rsa"
	"crypto/sha256"
	"crypto/sha512"
	"crypto/x509"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/kms"
	"github.com/aws/aws-sdk-go-v2/service/kms/types"
)

// TestSignVerify signs with KMS and verifies both with KMS and with the
// standard library over GetPublicKey's key, as a relying party would.
func TestSignVerify(t *testing.T) {
	_, c := start(t)
	msg := []byte("the message")
	d256 := sha256.Sum256(msg)
	d384 := sha512.Sum384(msg)
	for name, tc := range map[string]struct {
		spec types.KeySpec
		alg  types.SigningAlgorithmSpec
	}{
		"P-256":          {types.KeySpecEccNistP256, types.SigningAlgorithmSpecEcdsaSha256},
		"P-384":          {types.KeySpecEccNistP384, types.SigningAlgorithmSpecEcdsaSha384},
		"P-521":          {types.KeySpecEccNistP521, types.SigningAlgorithmSpecEcdsaSha512},
		"RSA PSS":        {types.KeySpecRsa2048, types.SigningAlgorithmSpecRsassaPssSha256},
		"RSA PKCS1 v1.5": {types.KeySpecRsa2048, types.SigningAlgorithmSpecRsassaPkcs1V15Sha384},
	} {
		t.Run(name, func(t *testing.T) {
			k := createKey(t, c, &kms.CreateKeyInput{KeySpec: tc.spec, KeyUsage: types.KeyUsageTypeSignVerify})
			pub, err := c.GetPublicKey(ctx, &kms.GetPublicKeyInput{KeyId: k.KeyId})
			if err != nil {
				t.Fatal(err)
			}
			pk, err := x509.ParsePKIXPublicKey(pub.PublicKey)
			if err != nil {
				t.Fatal(err)
			}
			for _, mt := range []types.MessageType{types.MessageTypeRaw, types.MessageTypeDigest} {
				m := msg
				h, digest := crypto.SHA256, d256[:]
				if tc.alg == types.SigningAlgorithmSpecEcdsaSha384 || tc.alg == types.SigningAlgorithmSpecRsassaPkcs1V15Sha384 {
					h, digest = crypto.SHA384, d384[:]
				}
				if tc.alg == types.SigningAlgorithmSpecEcdsaSha512 {
					s := sha512.Sum512(msg)
					h, digest = crypto.SHA512, s[:]
				}
				if mt == types.MessageTypeDigest {
					m = digest
				}
				sig, err := c.Sign(ctx, &kms.SignInput{KeyId: k.KeyId, Message: m, MessageType: mt, SigningAlgorithm: tc.alg})
				if err != nil {
					t.Fatal(err)
				}
				if _, err := c.Verify(ctx, &kms.VerifyInput{KeyId: k.KeyId, Message: m, MessageType: mt, Signature: sig.Signature, SigningAlgorithm: tc.alg}); err != nil {
					t.Fatalf("Verify: %v", err)
				}
				var ok bool
				switch p := pk.(type) {
				case *ecdsa.PublicKey:
					ok = ecdsa.VerifyASN1(p, digest, sig.Signature)
				case *rsa.PublicKey:
					if tc.alg == types.SigningAlgorithmSpecRsassaPssSha256 {
						ok = rsa.VerifyPSS(p, h, digest, sig.Signature, &rsa.PSSOptions{SaltLength: rsa.PSSSaltLengthEqualsHash}) == nil
					} else {
						ok = rsa.VerifyPKCS1v15(p, h, digest, sig.Signature) == nil
					}
				}
				if !ok {
					t.Fatalf("%s signature does not verify with the public key", mt)
				}
				bad := bytes.Clone(sig.Signature)
				bad[len(bad)/2] ^= 1
				_, err = c.Verify(ctx, &kms.VerifyInput{KeyId: k.KeyId, Message: m, MessageType: mt, Signature: bad, SigningAlgorithm: tc.alg})
				wantErr(t, err, "KMSInvalidSignatureException", 400, "")
			}
			_, err = c.Sign(ctx, &kms.SignInput{KeyId: k.KeyId, Message: []byte("short"), MessageType: types.MessageTypeDigest, SigningAlgorithm: tc.alg})
			wantErr(t, err, "ValidationException", 400, "Digest is invalid length")
			_, err = c.Encrypt(ctx, &kms.EncryptInput{KeyId: k.KeyId, Plaintext: []byte("x")})
			wantErr(t, err, "InvalidKeyUsageException", 400, "which is not valid for Encrypt.")
		})
	}
}

func TestRSAEncryption(t *testing.T) {
	_, c := start(t)
	k := createKey(t, c, &kms.CreateKeyInput{KeySpec: types.KeySpecRsa2048, KeyUsage: types.KeyUsageTypeEncryptDecrypt})
	pub, err := c.GetPublicKey(ctx, &kms.GetPublicKeyInput{KeyId: k.KeyId})
	if err != nil || len(pub.EncryptionAlgorithms) != 2 {
		t.Fatalf("GetPublicKey: %v %v", pub, err)
	}
	pk, _ := x509.ParsePKIXPublicKey(pub.PublicKey)
	// Encrypted offline with the public key, decrypted by KMS.
	ct, err := rsa.EncryptOAEP(sha256.New(), rand.Reader, pk.(*rsa.PublicKey), []byte("offline"), nil)
	if err != nil {
		t.Fatal(err)
	}
	dec, err := c.Decrypt(ctx, &kms.DecryptInput{KeyId: k.KeyId, CiphertextBlob: ct, EncryptionAlgorithm: types.EncryptionAlgorithmSpecRsaesOaepSha256})
	if err != nil || string(dec.Plaintext) != "offline" {
		t.Fatalf("Decrypt: %v", err)
	}
	enc, err := c.Encrypt(ctx, &kms.EncryptInput{KeyId: k.KeyId, Plaintext: []byte("online"), EncryptionAlgorithm: types.EncryptionAlgorithmSpecRsaesOaepSha1})
	if err != nil {
		t.Fatal(err)
	}
	dec, err = c.Decrypt(ctx, &kms.DecryptInput{KeyId: k.KeyId, CiphertextBlob: enc.CiphertextBlob, EncryptionAlgorithm: types.EncryptionAlgorithmSpecRsaesOaepSha1})
	if err != nil || string(dec.Plaintext) != "online" {
		t.Fatalf("Decrypt: %v", err)
	}
	_, err = c.Decrypt(ctx, &kms.DecryptInput{KeyId: k.KeyId, CiphertextBlob: enc.CiphertextBlob, EncryptionAlgorithm: types.EncryptionAlgorithmSpecRsaesOaepSha256})
	wantErr(t, err, "InvalidCiphertextException", 400, "")
	_, err = c.Encrypt(ctx, &kms.EncryptInput{KeyId: k.KeyId, Plaintext: []byte("x")})
	wantErr(t, err, "InvalidKeyUsageException", 400, "")
	sym := createKey(t, c, nil)
	_, err = c.GetPublicKey(ctx, &kms.GetPublicKeyInput{KeyId: sym.KeyId})
	wantErr(t, err, "UnsupportedOperationException", 400, "")
}

func TestGenerateDataKeyPair(t *testing.T) {
	_, c := start(t)
	k := createKey(t, c, nil)
	ec := map[string]string{"k": "v"}
	out, err := c.GenerateDataKeyPair(ctx, &kms.GenerateDataKeyPairInput{KeyId: k.KeyId, KeyPairSpec: types.DataKeyPairSpecEccNistP256, EncryptionContext: ec})
	if err != nil {
		t.Fatal(err)
	}
	priv, err := x509.ParsePKCS8PrivateKey(out.PrivateKeyPlaintext)
	if err != nil {
		t.Fatal(err)
	}
	pub, _ := x509.MarshalPKIXPublicKey(priv.(*ecdsa.PrivateKey).Public())
	if !bytes.Equal(pub, out.PublicKey) {
		t.Fatal("public key does not match the private key")
	}
	dec, err := c.Decrypt(ctx, &kms.DecryptInput{CiphertextBlob: out.PrivateKeyCiphertextBlob, EncryptionContext: ec})
	if err != nil || !bytes.Equal(dec.Plaintext, out.PrivateKeyPlaintext) {
		t.Fatalf("Decrypt of the private key: %v", err)
	}
	wp, err := c.GenerateDataKeyPairWithoutPlaintext(ctx, &kms.GenerateDataKeyPairWithoutPlaintextInput{KeyId: k.KeyId, KeyPairSpec: types.DataKeyPairSpecRsa2048})
	if err != nil || len(wp.PublicKey) == 0 {
		t.Fatalf("GenerateDataKeyPairWithoutPlaintext: %v", err)
	}
}

func TestMac(t *testing.T) {
	_, c := start(t)
	k := createKey(t, c, &kms.CreateKeyInput{KeySpec: types.KeySpecHmac256, KeyUsage: types.KeyUsageTypeGenerateVerifyMac})
	if len(k.MacAlgorithms) != 1 || k.MacAlgorithms[0] != types.MacAlgorithmSpecHmacSha256 {
		t.Fatalf("MacAlgorithms %v", k.MacAlgorithms)
	}
	m, err := c.GenerateMac(ctx, &kms.GenerateMacInput{KeyId: k.KeyId, Message: []byte("m"), MacAlgorithm: types.MacAlgorithmSpecHmacSha256})
	if err != nil || len(m.Mac) != 32 {
		t.Fatalf("GenerateMac: %v", err)
	}
	v, err := c.VerifyMac(ctx, &kms.VerifyMacInput{KeyId: k.KeyId, Message: []byte("m"), Mac: m.Mac, MacAlgorithm: types.MacAlgorithmSpecHmacSha256})
	if err != nil || !v.MacValid {
		t.Fatalf("VerifyMac: %v", err)
	}
	_, err = c.VerifyMac(ctx, &kms.VerifyMacInput{KeyId: k.KeyId, Message: []byte("n"), Mac: m.Mac, MacAlgorithm: types.MacAlgorithmSpecHmacSha256})
	wantErr(t, err, "KMSInvalidMacException", 400, "")
	_, err = c.GenerateMac(ctx, &kms.GenerateMacInput{KeyId: k.KeyId, Message: []byte("m"), MacAlgorithm: types.MacAlgorithmSpecHmacSha512})
	wantErr(t, err, "InvalidKeyUsageException", 400, "")
	sym := createKey(t, c, nil)
	_, err = c.GenerateMac(ctx, &kms.GenerateMacInput{KeyId: sym.KeyId, Message: []byte("m"), MacAlgorithm: types.MacAlgorithmSpecHmacSha256})
	wantErr(t, err, "InvalidKeyUsageException", 400, "which is not valid for GenerateMac.")
	_ = aws.String
}
