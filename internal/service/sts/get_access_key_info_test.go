package sts_test

import (
	"context"
	"regexp"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	awsiam "github.com/aws/aws-sdk-go-v2/service/iam"
	awssts "github.com/aws/aws-sdk-go-v2/service/sts"

	"github.com/rampart/rampart/internal/rampartest"
)

// GetAccessKeyInfo answers from the key id itself, as AWS does: the access
// keys IAM issues encode their account, so the answer holds for a key that
// is inactive or deleted as well as for a live one.
func TestGetAccessKeyInfoFromTheKeyID(t *testing.T) {
	ctx := context.Background()
	srv := rampartest.Start(t)
	iamc := awsiam.NewFromConfig(srv.Config())
	stsc := awssts.NewFromConfig(srv.Config())
	if _, err := iamc.CreateUser(ctx, &awsiam.CreateUserInput{UserName: aws.String("alice")}); err != nil {
		t.Fatal(err)
	}
	newKey := func() string {
		t.Helper()
		out, err := iamc.CreateAccessKey(ctx, &awsiam.CreateAccessKeyInput{UserName: aws.String("alice")})
		if err != nil {
			t.Fatal(err)
		}
		id, secret := *out.AccessKey.AccessKeyId, *out.AccessKey.SecretAccessKey
		if !regexp.MustCompile(`^AKIA[A-Z2-7]{16}$`).MatchString(id) || len(secret) != 40 {
			t.Fatalf("CreateAccessKey = %s and a %d-character secret; want AKIA and 16 base32 characters, and 40", id, len(secret))
		}
		return id
	}
	deleted := newKey() // first: a user has at most two keys
	if _, err := iamc.DeleteAccessKey(ctx, &awsiam.DeleteAccessKeyInput{UserName: aws.String("alice"), AccessKeyId: &deleted}); err != nil {
		t.Fatal(err)
	}
	live := newKey()
	inactive := newKey()
	if _, err := iamc.UpdateAccessKey(ctx, &awsiam.UpdateAccessKeyInput{UserName: aws.String("alice"), AccessKeyId: &inactive, Status: "Inactive"}); err != nil {
		t.Fatal(err)
	}
	for name, id := range map[string]string{"live": live, "inactive": inactive, "deleted": deleted} {
		t.Run(name, func(t *testing.T) {
			out, err := stsc.GetAccessKeyInfo(ctx, &awssts.GetAccessKeyInfoInput{AccessKeyId: aws.String(id)})
			if err != nil {
				t.Fatal(err)
			}
			if *out.Account != "000000000000" {
				t.Errorf("GetAccessKeyInfo(%s) = %s, want 000000000000", id, *out.Account)
			}
		})
	}
}
