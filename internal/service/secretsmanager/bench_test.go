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

// BenchmarkBatchGetSecretValue reads 10 secrets per call as the root user:
// the figure includes the 11 audit events each call records (the batch's
// and one GetSecretValue per secret, sharing a group commit).
func BenchmarkBatchGetSecretValue(b *testing.B) {
	e := start(b)
	ctx := context.Background()
	root := e.root()
	var ids []string
	for i := range 10 {
		name := "bench-" + string(rune('a'+i))
		if _, err := root.CreateSecret(ctx, &sm.CreateSecretInput{Name: aws.String(name), SecretString: aws.String("v")}); err != nil {
			b.Fatal(err)
		}
		ids = append(ids, name)
	}
	in := &sm.BatchGetSecretValueInput{SecretIdList: ids}
	b.ReportAllocs()
	b.ResetTimer()
	for b.Loop() {
		out, err := root.BatchGetSecretValue(ctx, in)
		if err != nil || len(out.SecretValues) != 10 {
			b.Fatalf("%v %v", out, err)
		}
	}
}
