package kms_test

import (
	"bytes"
	"encoding/base64"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/service/kms"
	"github.com/aws/aws-sdk-go-v2/service/kms/types"

	"github.com/rampart/rampart/internal/store"
)

// TestNoSecretInAuditTrail checks that neither plaintexts nor data keys
// reach the CloudTrail record.
func TestNoSecretInAuditTrail(t *testing.T) {
	srv, c := start(t)
	k := createKey(t, c, nil)
	plain := []byte("a very secret plaintext")
	if _, err := c.Encrypt(ctx, &kms.EncryptInput{KeyId: k.KeyId, Plaintext: plain}); err != nil {
		t.Fatal(err)
	}
	dk, err := c.GenerateDataKey(ctx, &kms.GenerateDataKeyInput{KeyId: k.KeyId, KeySpec: types.DataKeySpecAes256})
	if err != nil {
		t.Fatal(err)
	}
	kp, err := c.GenerateDataKeyPair(ctx, &kms.GenerateDataKeyPairInput{KeyId: k.KeyId, KeyPairSpec: types.DataKeyPairSpecEccNistP256})
	if err != nil {
		t.Fatal(err)
	}
	secrets := [][]byte{plain, dk.Plaintext, kp.PrivateKeyPlaintext}
	var rows []store.AuditRow
	for deadline := time.Now().Add(5 * time.Second); time.Now().Before(deadline); time.Sleep(20 * time.Millisecond) {
		if rows, err = srv.Store.QueryAudit(ctx, store.AuditQuery{}); err != nil {
			t.Fatal(err)
		}
		if len(rows) >= 4 {
			break
		}
	}
	if len(rows) < 4 {
		t.Fatalf("%d audit rows", len(rows))
	}
	for _, r := range rows {
		for _, s := range secrets {
			if bytes.Contains(r.Body, s) || bytes.Contains(r.Body, []byte(base64.StdEncoding.EncodeToString(s))) {
				t.Fatalf("audit record holds a secret: %s", r.Body)
			}
		}
	}
}
