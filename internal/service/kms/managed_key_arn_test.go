package kms_test

import (
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/kms"
	sm "github.com/aws/aws-sdk-go-v2/service/secretsmanager"
)

// ManagedKeyARN (what Secrets Manager asks to tell whether a KmsKeyId
// names aws/secretsmanager) reads the managed key's alias in an account
// and Region: "" before the key's first use, without creating it, then
// the key's ARN, without recording a use of the key; another Region,
// account or service has its own (here none).
func TestManagedKeyARN(t *testing.T) {
	srv, c := start(t)
	w := worker(t, srv)
	const acct = "000000000000"

	if arn, err := w.ManagedKeyARN(ctx, acct, "us-east-1", "secretsmanager"); err != nil || arn != "" {
		t.Fatalf("before first use: %q, %v; want none", arn, err)
	}

	// Secrets Manager's first use creates the key.
	if _, err := sm.NewFromConfig(srv.Config()).CreateSecret(ctx, &sm.CreateSecretInput{Name: aws.String("s"), SecretString: aws.String("v")}); err != nil {
		t.Fatal(err)
	}
	d, err := c.DescribeKey(ctx, &kms.DescribeKeyInput{KeyId: aws.String("alias/aws/secretsmanager")})
	if err != nil {
		t.Fatal(err)
	}
	before := lastUsage(t, c, aws.ToString(d.KeyMetadata.KeyId)).KeyLastUsage
	if before == nil {
		t.Fatal("the managed key reports no use after its first")
	}
	for range 3 {
		arn, err := w.ManagedKeyARN(ctx, acct, "us-east-1", "secretsmanager")
		if err != nil || arn != aws.ToString(d.KeyMetadata.Arn) {
			t.Fatalf("ManagedKeyARN = %q, %v; want %s", arn, err, aws.ToString(d.KeyMetadata.Arn))
		}
	}
	after := lastUsage(t, c, aws.ToString(d.KeyMetadata.KeyId)).KeyLastUsage
	if after == nil || aws.ToString(after.KmsRequestId) != aws.ToString(before.KmsRequestId) || !after.Timestamp.Equal(*before.Timestamp) {
		t.Fatalf("ManagedKeyARN used the key: last use %s at %v, was %s at %v",
			aws.ToString(after.KmsRequestId), after.Timestamp, aws.ToString(before.KmsRequestId), before.Timestamp)
	}

	for _, tc := range []struct{ acct, region, svc string }{
		{acct, "us-west-2", "secretsmanager"},
		{"111111111111", "us-east-1", "secretsmanager"},
		{acct, "us-east-1", "ebs"},
	} {
		if arn, err := w.ManagedKeyARN(ctx, tc.acct, tc.region, tc.svc); err != nil || arn != "" {
			t.Fatalf("%v: %q, %v; want none", tc, arn, err)
		}
	}
	// DescribeKey in another Region creates that Region's own managed key
	// (see TestDescribePredefinedAlias).
	west := kms.NewFromConfig(srv.Config(), func(o *kms.Options) { o.Region = "us-west-2" })
	dw, err := west.DescribeKey(ctx, &kms.DescribeKeyInput{KeyId: aws.String("alias/aws/secretsmanager")})
	if err != nil || aws.ToString(dw.KeyMetadata.Arn) == aws.ToString(d.KeyMetadata.Arn) {
		t.Fatalf("DescribeKey in us-west-2: %v", err)
	}
	if arn, err := w.ManagedKeyARN(ctx, acct, "us-west-2", "secretsmanager"); err != nil || arn != aws.ToString(dw.KeyMetadata.Arn) {
		t.Fatalf("ManagedKeyARN in us-west-2: %q, %v", arn, err)
	}
}
