package sts_test

import (
	"context"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	awssts "github.com/aws/aws-sdk-go-v2/service/sts"
)

// TestGetCallerIdentity covers every principal type; no policy is needed
// (the user "nobody" has none).
func TestGetCallerIdentity(t *testing.T) {
	ctx := context.Background()
	e := start(t)
	nobody := e.user("nobody")
	alice := e.user("alice", allowSTS)
	role := e.role("/team/", "ops", trustUser(userARN("alice")), 0)
	ar, err := alice.AssumeRole(ctx, &awssts.AssumeRoleInput{RoleArn: &role.ARN, RoleSessionName: aws.String("alice@example.com")})
	if err != nil {
		t.Fatal(err)
	}
	fed, err := alice.GetFederationToken(ctx, &awssts.GetFederationTokenInput{Name: aws.String("fed-user")})
	if err != nil {
		t.Fatal(err)
	}
	st, err := nobody.GetSessionToken(ctx, &awssts.GetSessionTokenInput{})
	if err != nil {
		t.Fatal(err)
	}
	cases := map[string]struct {
		client      *awssts.Client
		arn, idLike string
	}{
		"root":           {e.root(), "arn:aws:iam::000000000000:root", "000000000000"},
		"IAM user":       {nobody, userARN("nobody"), "AIDA"},
		"user session":   {e.client(st.Credentials), userARN("nobody"), "AIDA"},
		"role session":   {e.client(ar.Credentials), "arn:aws:sts::000000000000:assumed-role/ops/alice@example.com", role.RoleID + ":alice@example.com"},
		"federated user": {e.client(fed.Credentials), "arn:aws:sts::000000000000:federated-user/fed-user", "000000000000:fed-user"},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			out, err := tc.client.GetCallerIdentity(ctx, &awssts.GetCallerIdentityInput{})
			if err != nil {
				t.Fatal(err)
			}
			if *out.Arn != tc.arn || !strings.HasPrefix(*out.UserId, tc.idLike) || *out.Account != account {
				t.Errorf("= %s %s %s; want %s %s…", *out.Arn, *out.UserId, *out.Account, tc.arn, tc.idLike)
			}
		})
	}
}
