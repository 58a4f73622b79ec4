package secretsmanager_test

import (
	"bytes"
	"context"
	"encoding/base64"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	sm "github.com/aws/aws-sdk-go-v2/service/secretsmanager"

	"github.com/rampart/rampart/internal/store"
)

// No secret value reaches the store in the clear: not in the service's
// tables, not in any other table, not in the audit trail.
func TestNoSecretInTheClear(t *testing.T) {
	e := start(t)
	c := e.root()
	ctx := context.Background()
	const str = "correct-horse-battery-staple-7f3a9c"
	bin := []byte("binary-secret-0xDEADBEEF-5e1d")
	const put = "second-value-q8w7e6r5t4"
	must[*sm.CreateSecretOutput](t)(c.CreateSecret(ctx, &sm.CreateSecretInput{Name: aws.String("s"), SecretString: aws.String(str)}))
	must[*sm.CreateSecretOutput](t)(c.CreateSecret(ctx, &sm.CreateSecretInput{Name: aws.String("b"), SecretBinary: bin}))
	must[*sm.PutSecretValueOutput](t)(c.PutSecretValue(ctx, &sm.PutSecretValueInput{SecretId: aws.String("s"), SecretString: aws.String(put)}))
	must[*sm.UpdateSecretOutput](t)(c.UpdateSecret(ctx, &sm.UpdateSecretInput{SecretId: aws.String("s"), SecretString: aws.String(put + "-upd")}))
	for _, id := range []string{"s", "b"} {
		must[*sm.GetSecretValueOutput](t)(c.GetSecretValue(ctx, &sm.GetSecretValueInput{SecretId: aws.String(id)}))
	}
	must[*sm.BatchGetSecretValueOutput](t)(c.BatchGetSecretValue(ctx, &sm.BatchGetSecretValueInput{SecretIdList: []string{"s", "b"}}))
	pw := must[*sm.GetRandomPasswordOutput](t)(c.GetRandomPassword(ctx, &sm.GetRandomPasswordInput{PasswordLength: aws.Int64(40)}))

	needles := [][]byte{[]byte(str), bin, []byte(put), []byte(aws.ToString(pw.RandomPassword)),
		[]byte(base64.StdEncoding.EncodeToString(bin)), []byte(base64.StdEncoding.EncodeToString([]byte(str)))}
	var tables int
	err := e.Store.View(ctx, func(tx store.Tx) error {
		for _, table := range []string{"secretsmanager.secret", "secretsmanager.value", "authn.key", "authn.account"} {
			kvs, err := tx.Scan(table, "", "", 0)
			if err != nil {
				return err
			}
			if len(kvs) > 0 {
				tables++
			}
			for _, kv := range kvs {
				for _, n := range needles {
					if bytes.Contains(kv.Value, n) || bytes.Contains([]byte(kv.Key), n) {
						t.Errorf("%s/%q holds a secret value in the clear", table, kv.Key)
					}
				}
			}
		}
		return nil
	})
	if err != nil || tables < 2 {
		t.Fatalf("scan: %v (%d tables with rows)", err, tables)
	}
	if err := e.Audit.Flush(ctx); err != nil { // the reads' records are queued
		t.Fatal(err)
	}
	rows, err := e.Store.QueryAudit(ctx, store.AuditQuery{})
	if err != nil || len(rows) < 8 {
		t.Fatalf("audit: %d rows, %v", len(rows), err)
	}
	for _, r := range rows {
		for _, n := range needles {
			if bytes.Contains(r.Body, n) {
				t.Errorf("audit record %s holds a secret value: %s", r.EventID, r.Body)
			}
		}
	}
}
