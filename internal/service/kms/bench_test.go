package kms_test

import (
	"testing"

	"github.com/aws/aws-sdk-go-v2/service/kms"
)

// BenchmarkEncrypt drives Encrypt end to end (SDK client, SigV4, key policy
// and IAM authorization, audit) against an in-process server; client and
// server share the CPU, so the figure bounds the server's cost from above.
func BenchmarkEncrypt(b *testing.B) {
	_, c := startB(b)
	k, err := c.CreateKey(ctx, &kms.CreateKeyInput{})
	if err != nil {
		b.Fatal(err)
	}
	in := &kms.EncryptInput{KeyId: k.KeyMetadata.KeyId, Plaintext: make([]byte, 32), EncryptionContext: map[string]string{"bench": "rampart"}}
	b.ResetTimer()
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			if _, err := c.Encrypt(ctx, in); err != nil {
				b.Error(err)
				return
			}
		}
	})
}

// BenchmarkDecrypt is BenchmarkEncrypt for Decrypt.
func BenchmarkDecrypt(b *testing.B) {
	_, c := startB(b)
	k, err := c.CreateKey(ctx, &kms.CreateKeyInput{})
	if err != nil {
		b.Fatal(err)
	}
	ec := map[string]string{"bench": "rampart"}
	enc, err := c.Encrypt(ctx, &kms.EncryptInput{KeyId: k.KeyMetadata.KeyId, Plaintext: make([]byte, 32), EncryptionContext: ec})
	if err != nil {
		b.Fatal(err)
	}
	in := &kms.DecryptInput{CiphertextBlob: enc.CiphertextBlob, EncryptionContext: ec}
	b.ResetTimer()
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			if _, err := c.Decrypt(ctx, in); err != nil {
				b.Error(err)
				return
			}
		}
	})
}
