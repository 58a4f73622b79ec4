package secretsmanager_test

import (
	"context"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/kms"
	sm "github.com/aws/aws-sdk-go-v2/service/secretsmanager"

	"github.com/rampart/rampart/internal/rampartest"
)

// Through rampart as internal/app assembles it, with the real KMS: the
// default key is the AWS managed aws/secretsmanager, created on first use;
// a customer key's state decides whether the secret reads.
func TestWithRealKMS(t *testing.T) {
	srv := rampartest.Start(t)
	c := sm.NewFromConfig(srv.Config())
	k := kms.NewFromConfig(srv.Config())
	ctx := context.Background()

	must[*sm.CreateSecretOutput](t)(c.CreateSecret(ctx, &sm.CreateSecretInput{Name: aws.String("default-key"), SecretString: aws.String("v")}))
	if v := must[*sm.GetSecretValueOutput](t)(c.GetSecretValue(ctx, &sm.GetSecretValueInput{SecretId: aws.String("default-key")})); aws.ToString(v.SecretString) != "v" {
		t.Fatalf("GetSecretValue = %q", aws.ToString(v.SecretString))
	}
	managed := must[*kms.DescribeKeyOutput](t)(k.DescribeKey(ctx, &kms.DescribeKeyInput{KeyId: aws.String("alias/aws/secretsmanager")}))
	if managed.KeyMetadata.KeyManager != "AWS" {
		t.Fatalf("aws/secretsmanager is managed by %s", managed.KeyMetadata.KeyManager)
	}

	key := must[*kms.CreateKeyOutput](t)(k.CreateKey(ctx, &kms.CreateKeyInput{}))
	keyID := aws.ToString(key.KeyMetadata.KeyId)
	must[*sm.CreateSecretOutput](t)(c.CreateSecret(ctx, &sm.CreateSecretInput{Name: aws.String("cmk"), SecretString: aws.String("w"), KmsKeyId: key.KeyMetadata.Arn}))
	l := must[*sm.ListSecretVersionIdsOutput](t)(c.ListSecretVersionIds(ctx, &sm.ListSecretVersionIdsInput{SecretId: aws.String("cmk")}))
	if len(l.Versions) != 1 || len(l.Versions[0].KmsKeyIds) != 1 || l.Versions[0].KmsKeyIds[0] != aws.ToString(key.KeyMetadata.Arn) {
		t.Fatalf("versions = %+v", l.Versions)
	}
	must[*kms.DisableKeyOutput](t)(k.DisableKey(ctx, &kms.DisableKeyInput{KeyId: &keyID}))
	_, err := c.GetSecretValue(ctx, &sm.GetSecretValueInput{SecretId: aws.String("cmk")})
	wantErr(t, err, "DecryptionFailure", 400, "Secrets Manager can't decrypt the protected secret text using the provided KMS key.")
	_, err = c.PutSecretValue(ctx, &sm.PutSecretValueInput{SecretId: aws.String("cmk"), SecretString: aws.String("x")})
	wantErr(t, err, "EncryptionFailure", 400, "")
	must[*kms.EnableKeyOutput](t)(k.EnableKey(ctx, &kms.EnableKeyInput{KeyId: &keyID}))
	if v := must[*sm.GetSecretValueOutput](t)(c.GetSecretValue(ctx, &sm.GetSecretValueInput{SecretId: aws.String("cmk")})); aws.ToString(v.SecretString) != "w" {
		t.Fatalf("after EnableKey: %q", aws.ToString(v.SecretString))
	}
	_, err = c.CreateSecret(ctx, &sm.CreateSecretInput{Name: aws.String("nokey"), SecretString: aws.String("w"), KmsKeyId: aws.String("alias/does-not-exist")})
	wantErr(t, err, "ResourceNotFoundException", 400, "KMS key")
}
