package secretsmanager_test

import (
	"context"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	sm "github.com/aws/aws-sdk-go-v2/service/secretsmanager"
)

// BenchmarkGetSecretValue reads a secret with a resource policy, as an IAM
// user allowed by an identity policy, through the SDK over loopback: the
// figure includes the client, SigV4, the authorizer, the KMS stand-in and
// the audit record.
func BenchmarkGetSecretValue(b *testing.B) {
	e := start(b)
	ctx := context.Background()
	root := e.root()
	out, err := root.CreateSecret(ctx, &sm.CreateSecretInput{Name: aws.String("bench"), SecretString: aws.String(`{"password":"x"}`)})
	if err != nil {
		b.Fatal(err)
	}
	u, arn := e.user(account, "bench", `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"secretsmanager:GetSecretValue","Resource":"`+aws.ToString(out.ARN)+`"}]}`)
	if _, err := root.PutResourcePolicy(ctx, &sm.PutResourcePolicyInput{SecretId: out.ARN, ResourcePolicy: aws.String(`{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":{"AWS":"` + arn + `"},"Action":"secretsmanager:GetSecretValue","Resource":"*"}]}`)}); err != nil {
		b.Fatal(err)
	}
	in := &sm.GetSecretValueInput{SecretId: aws.String("bench")}
	b.ReportAllocs()
	b.ResetTimer()
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			if _, err := u.GetSecretValue(ctx, in); err != nil {
				b.Error(err)
				return
			}
		}
	})
}
