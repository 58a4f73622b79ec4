package server_test

import (
	"context"
	"encoding/json"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/kms"
	"github.com/aws/aws-sdk-go-v2/service/secretsmanager"

	"github.com/rampart/rampart/internal/rampartest"
	"github.com/rampart/rampart/internal/store"
)

// TestCloudTrailShapeOfRecords: records follow CloudTrail's documented
// examples where rampart's generic rules would not — KMS's cryptographic
// operations are read-only with null responseElements (Developer Guide,
// "GenerateDataKey" CloudTrail example), and Secrets Manager's ARN member
// is "arn", not "aRN" (its CloudTrail guide, February 2024).
func TestCloudTrailShapeOfRecords(t *testing.T) {
	srv := rampartest.Start(t)
	ctx := context.Background()
	k := kms.NewFromConfig(srv.Config())
	key, err := k.CreateKey(ctx, &kms.CreateKeyInput{})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := k.GenerateDataKey(ctx, &kms.GenerateDataKeyInput{KeyId: key.KeyMetadata.KeyId, KeySpec: "AES_256"}); err != nil {
		t.Fatal(err)
	}
	if _, err := k.Encrypt(ctx, &kms.EncryptInput{KeyId: key.KeyMetadata.KeyId, Plaintext: []byte("x")}); err != nil {
		t.Fatal(err)
	}
	if _, err := secretsmanager.NewFromConfig(srv.Config()).CreateSecret(ctx, &secretsmanager.CreateSecretInput{Name: aws.String("s1"), SecretString: aws.String("v")}); err != nil {
		t.Fatal(err)
	}
	rows, err := srv.Store.QueryAudit(ctx, store.AuditQuery{})
	if err != nil {
		t.Fatal(err)
	}
	events := map[string]map[string]any{}
	for _, r := range rows {
		var e map[string]any
		if err := json.Unmarshal(r.Body, &e); err != nil {
			t.Fatal(err)
		}
		events[e["eventName"].(string)] = e
	}
	for _, name := range []string{"GenerateDataKey", "Encrypt"} {
		e := events[name]
		if e == nil {
			t.Fatalf("no %s record", name)
		}
		if e["readOnly"] != true || e["responseElements"] != nil {
			t.Errorf("%s: readOnly %v, responseElements %v; want true and null", name, e["readOnly"], e["responseElements"])
		}
	}
	if e := events["CreateKey"]; e == nil || e["readOnly"] != false || e["responseElements"] == nil {
		t.Errorf("CreateKey record: %v", e)
	}
	re, _ := events["CreateSecret"]["responseElements"].(map[string]any)
	if re["arn"] == nil || re["aRN"] != nil || re["name"] != "s1" {
		t.Errorf("CreateSecret responseElements = %v, want arn and name", re)
	}
}
