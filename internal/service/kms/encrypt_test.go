package kms_test

import (
	"bytes"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/kms"
	"github.com/aws/aws-sdk-go-v2/service/kms/types"
)

func TestEncryptDecryptRoundTrip(t *testing.T) {
	_, c := start(t)
	k := createKey(t, c, nil)
	if _, err := c.CreateAlias(ctx, &kms.CreateAliasInput{AliasName: aws.String("alias/app"), TargetKeyId: k.KeyId}); err != nil {
		t.Fatal(err)
	}
	ec := map[string]string{"purpose": "test", "tenant": "a"}
	for name, keyID := range map[string]string{
		"key id": *k.KeyId, "key ARN": *k.Arn, "alias": "alias/app",
		"alias ARN": "arn:aws:kms:us-east-1:000000000000:alias/app",
	} {
		t.Run(name, func(t *testing.T) {
			plain := []byte("attack at dawn " + name)
			enc, err := c.Encrypt(ctx, &kms.EncryptInput{KeyId: aws.String(keyID), Plaintext: plain, EncryptionContext: ec})
			if err != nil {
				t.Fatal(err)
			}
			if *enc.KeyId != *k.Arn || enc.EncryptionAlgorithm != types.EncryptionAlgorithmSpecSymmetricDefault {
				t.Fatalf("Encrypt answered key %s, algorithm %s", *enc.KeyId, enc.EncryptionAlgorithm)
			}
			if bytes.Contains(enc.CiphertextBlob, plain) {
				t.Fatal("ciphertext contains the plaintext")
			}
			dec, err := c.Decrypt(ctx, &kms.DecryptInput{CiphertextBlob: enc.CiphertextBlob, EncryptionContext: ec})
			if err != nil {
				t.Fatal(err)
			}
			if !bytes.Equal(dec.Plaintext, plain) || *dec.KeyId != *k.Arn {
				t.Fatalf("Decrypt = %q under %s", dec.Plaintext, *dec.KeyId)
			}
		})
	}
}

func TestDecryptRefusesChangedContextOrCiphertext(t *testing.T) {
	_, c := start(t)
	k := createKey(t, c, nil)
	other := createKey(t, c, nil)
	ec := map[string]string{"purpose": "test"}
	enc, err := c.Encrypt(ctx, &kms.EncryptInput{KeyId: k.KeyId, Plaintext: []byte("secret"), EncryptionContext: ec})
	if err != nil {
		t.Fatal(err)
	}
	flip := func(i int) []byte {
		b := bytes.Clone(enc.CiphertextBlob)
		b[i] ^= 1
		return b
	}
	cases := map[string]struct {
		in        kms.DecryptInput
		code, msg string
	}{
		"no context":        {kms.DecryptInput{CiphertextBlob: enc.CiphertextBlob}, "InvalidCiphertextException", ""},
		"other context":     {kms.DecryptInput{CiphertextBlob: enc.CiphertextBlob, EncryptionContext: map[string]string{"purpose": "prod"}}, "InvalidCiphertextException", ""},
		"extra context":     {kms.DecryptInput{CiphertextBlob: enc.CiphertextBlob, EncryptionContext: map[string]string{"purpose": "test", "x": "y"}}, "InvalidCiphertextException", ""},
		"tampered tag":      {kms.DecryptInput{CiphertextBlob: flip(len(enc.CiphertextBlob) - 1), EncryptionContext: ec}, "InvalidCiphertextException", ""},
		"tampered material": {kms.DecryptInput{CiphertextBlob: flip(40), EncryptionContext: ec}, "InvalidCiphertextException", ""},
		"tampered key id":   {kms.DecryptInput{CiphertextBlob: flip(3), EncryptionContext: ec}, "InvalidCiphertextException", ""},
		"garbage":           {kms.DecryptInput{CiphertextBlob: []byte("not a ciphertext")}, "InvalidCiphertextException", ""},
		"wrong key id":      {kms.DecryptInput{CiphertextBlob: enc.CiphertextBlob, EncryptionContext: ec, KeyId: other.KeyId}, "IncorrectKeyException", "does not identify"},
		"unknown key id":    {kms.DecryptInput{CiphertextBlob: enc.CiphertextBlob, EncryptionContext: ec, KeyId: aws.String("11111111-2222-4333-8444-555555555555")}, "NotFoundException", "does not exist"},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			_, err := c.Decrypt(ctx, &tc.in)
			wantErr(t, err, tc.code, 400, tc.msg)
		})
	}
}

func TestEncryptErrors(t *testing.T) {
	_, c := start(t)
	k := createKey(t, c, nil)
	sign := createKey(t, c, &kms.CreateKeyInput{KeySpec: types.KeySpecEccNistP256, KeyUsage: types.KeyUsageTypeSignVerify})
	cases := map[string]struct {
		in        kms.EncryptInput
		code, msg string
	}{
		"too long":        {kms.EncryptInput{KeyId: k.KeyId, Plaintext: make([]byte, 4097)}, "ValidationException", "failed to satisfy constraint: Member must have length less than or equal to 4096"},
		"empty":           {kms.EncryptInput{KeyId: k.KeyId, Plaintext: []byte{}}, "ValidationException", ""},
		"unknown key":     {kms.EncryptInput{KeyId: aws.String("11111111-2222-4333-8444-555555555555"), Plaintext: []byte("x")}, "NotFoundException", "Key 'arn:aws:kms:us-east-1:000000000000:key/11111111-2222-4333-8444-555555555555' does not exist"},
		"unknown alias":   {kms.EncryptInput{KeyId: aws.String("alias/nope"), Plaintext: []byte("x")}, "NotFoundException", "Alias arn:aws:kms:us-east-1:000000000000:alias/nope is not found."},
		"other region":    {kms.EncryptInput{KeyId: aws.String("arn:aws:kms:eu-west-1:000000000000:key/" + *k.KeyId), Plaintext: []byte("x")}, "NotFoundException", "does not exist"},
		"signing key":     {kms.EncryptInput{KeyId: sign.KeyId, Plaintext: []byte("x")}, "InvalidKeyUsageException", "key usage is SIGN_VERIFY which is not valid for Encrypt."},
		"bad algorithm":   {kms.EncryptInput{KeyId: k.KeyId, Plaintext: []byte("x"), EncryptionAlgorithm: types.EncryptionAlgorithmSpecRsaesOaepSha256}, "InvalidKeyUsageException", ""},
		"bad grant token": {kms.EncryptInput{KeyId: k.KeyId, Plaintext: []byte("x"), GrantTokens: []string{"nonsense"}}, "InvalidGrantTokenException", ""},
		"dry run":         {kms.EncryptInput{KeyId: k.KeyId, Plaintext: []byte("x"), DryRun: aws.Bool(true)}, "DryRunOperationException", ""},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			_, err := c.Encrypt(ctx, &tc.in)
			wantErr(t, err, tc.code, 400, tc.msg)
		})
	}
}

func TestDisabledAndPendingDeletionKeysCannotBeUsed(t *testing.T) {
	_, c := start(t)
	k := createKey(t, c, nil)
	enc, err := c.Encrypt(ctx, &kms.EncryptInput{KeyId: k.KeyId, Plaintext: []byte("x")})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := c.DisableKey(ctx, &kms.DisableKeyInput{KeyId: k.KeyId}); err != nil {
		t.Fatal(err)
	}
	_, err = c.Encrypt(ctx, &kms.EncryptInput{KeyId: k.KeyId, Plaintext: []byte("x")})
	wantErr(t, err, "DisabledException", 400, *k.Arn+" is disabled.")
	_, err = c.Decrypt(ctx, &kms.DecryptInput{CiphertextBlob: enc.CiphertextBlob})
	wantErr(t, err, "DisabledException", 400, "is disabled.")
	_, err = c.GenerateDataKey(ctx, &kms.GenerateDataKeyInput{KeyId: k.KeyId, KeySpec: types.DataKeySpecAes256})
	wantErr(t, err, "DisabledException", 400, "is disabled.")
	if _, err := c.EnableKey(ctx, &kms.EnableKeyInput{KeyId: k.KeyId}); err != nil {
		t.Fatal(err)
	}
	if _, err := c.Decrypt(ctx, &kms.DecryptInput{CiphertextBlob: enc.CiphertextBlob}); err != nil {
		t.Fatalf("after EnableKey: %v", err)
	}
	if _, err := c.ScheduleKeyDeletion(ctx, &kms.ScheduleKeyDeletionInput{KeyId: k.KeyId, PendingWindowInDays: aws.Int32(7)}); err != nil {
		t.Fatal(err)
	}
	_, err = c.Decrypt(ctx, &kms.DecryptInput{CiphertextBlob: enc.CiphertextBlob})
	wantErr(t, err, "KMSInvalidStateException", 400, *k.Arn+" is pending deletion.")
	_, err = c.EnableKey(ctx, &kms.EnableKeyInput{KeyId: k.KeyId})
	wantErr(t, err, "KMSInvalidStateException", 400, "pending deletion")
}

func TestGenerateDataKey(t *testing.T) {
	_, c := start(t)
	k := createKey(t, c, nil)
	ec := map[string]string{"file": "a.txt"}
	for name, tc := range map[string]struct {
		in   kms.GenerateDataKeyInput
		size int
	}{
		"AES_256": {kms.GenerateDataKeyInput{KeyId: k.KeyId, KeySpec: types.DataKeySpecAes256, EncryptionContext: ec}, 32},
		"AES_128": {kms.GenerateDataKeyInput{KeyId: k.KeyId, KeySpec: types.DataKeySpecAes128, EncryptionContext: ec}, 16},
		"7 bytes": {kms.GenerateDataKeyInput{KeyId: k.KeyId, NumberOfBytes: aws.Int32(7), EncryptionContext: ec}, 7},
	} {
		t.Run(name, func(t *testing.T) {
			out, err := c.GenerateDataKey(ctx, &tc.in)
			if err != nil {
				t.Fatal(err)
			}
			if len(out.Plaintext) != tc.size || *out.KeyId != *k.Arn {
				t.Fatalf("data key of %d bytes under %s", len(out.Plaintext), *out.KeyId)
			}
			dec, err := c.Decrypt(ctx, &kms.DecryptInput{CiphertextBlob: out.CiphertextBlob, EncryptionContext: ec})
			if err != nil || !bytes.Equal(dec.Plaintext, out.Plaintext) {
				t.Fatalf("Decrypt of the data key: %v", err)
			}
		})
	}
	wp, err := c.GenerateDataKeyWithoutPlaintext(ctx, &kms.GenerateDataKeyWithoutPlaintextInput{KeyId: k.KeyId, KeySpec: types.DataKeySpecAes256})
	if err != nil {
		t.Fatal(err)
	}
	dec, err := c.Decrypt(ctx, &kms.DecryptInput{CiphertextBlob: wp.CiphertextBlob})
	if err != nil || len(dec.Plaintext) != 32 {
		t.Fatalf("Decrypt of GenerateDataKeyWithoutPlaintext: %v", err)
	}
	_, err = c.GenerateDataKey(ctx, &kms.GenerateDataKeyInput{KeyId: k.KeyId})
	wantErr(t, err, "ValidationException", 400, "Please specify either number of bytes or key spec.")
	_, err = c.GenerateDataKey(ctx, &kms.GenerateDataKeyInput{KeyId: k.KeyId, KeySpec: types.DataKeySpecAes256, NumberOfBytes: aws.Int32(32)})
	wantErr(t, err, "ValidationException", 400, "Please specify either number of bytes or key spec.")
	_, err = c.GenerateDataKey(ctx, &kms.GenerateDataKeyInput{KeyId: k.KeyId, NumberOfBytes: aws.Int32(1025)})
	wantErr(t, err, "ValidationException", 400, "less than or equal to 1024")
}

func TestReEncryptAndGenerateRandom(t *testing.T) {
	_, c := start(t)
	a := createKey(t, c, nil)
	b := createKey(t, c, nil)
	enc, err := c.Encrypt(ctx, &kms.EncryptInput{KeyId: a.KeyId, Plaintext: []byte("moving"), EncryptionContext: map[string]string{"v": "1"}})
	if err != nil {
		t.Fatal(err)
	}
	re, err := c.ReEncrypt(ctx, &kms.ReEncryptInput{CiphertextBlob: enc.CiphertextBlob, SourceEncryptionContext: map[string]string{"v": "1"}, DestinationKeyId: b.KeyId, DestinationEncryptionContext: map[string]string{"v": "2"}})
	if err != nil {
		t.Fatal(err)
	}
	if *re.SourceKeyId != *a.Arn || *re.KeyId != *b.Arn {
		t.Fatalf("ReEncrypt from %s to %s", *re.SourceKeyId, *re.KeyId)
	}
	dec, err := c.Decrypt(ctx, &kms.DecryptInput{CiphertextBlob: re.CiphertextBlob, EncryptionContext: map[string]string{"v": "2"}})
	if err != nil || string(dec.Plaintext) != "moving" || *dec.KeyId != *b.Arn {
		t.Fatalf("Decrypt after ReEncrypt: %v", err)
	}
	_, err = c.ReEncrypt(ctx, &kms.ReEncryptInput{CiphertextBlob: enc.CiphertextBlob, DestinationKeyId: b.KeyId})
	wantErr(t, err, "InvalidCiphertextException", 400, "")

	r1, err := c.GenerateRandom(ctx, &kms.GenerateRandomInput{NumberOfBytes: aws.Int32(64)})
	if err != nil {
		t.Fatal(err)
	}
	r2, err := c.GenerateRandom(ctx, &kms.GenerateRandomInput{NumberOfBytes: aws.Int32(64)})
	if err != nil {
		t.Fatal(err)
	}
	if len(r1.Plaintext) != 64 || bytes.Equal(r1.Plaintext, r2.Plaintext) {
		t.Fatal("GenerateRandom is not random")
	}
	_, err = c.GenerateRandom(ctx, &kms.GenerateRandomInput{NumberOfBytes: aws.Int32(2000)})
	wantErr(t, err, "ValidationException", 400, "")
}
