package sts_test

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials/stscreds"
	awsiam "github.com/aws/aws-sdk-go-v2/service/iam"
	awssts "github.com/aws/aws-sdk-go-v2/service/sts"

	"github.com/rampart/rampart/internal/rampartest"
)

// TestWebIdentityThroughIAM runs the whole web-identity flow on the real
// stack: the provider is registered with IAM's CreateOpenIDConnectProvider
// (a loopback issuer: rampart accepts its port), the role and its trust
// policy are IAM's, and the SDK's web-identity provider gets credentials
// from rampart dev that then sign requests as the role session.
func TestWebIdentityThroughIAM(t *testing.T) {
	ctx := context.Background()
	srv := rampartest.Start(t)
	is := newIssuer(t, false)
	is.publish("k1", rsaKey(t, 0))
	root := srv.Config()
	iamc := awsiam.NewFromConfig(root)

	twin := "https://" + strings.TrimPrefix(is.URL, "http://")
	prov, err := iamc.CreateOpenIDConnectProvider(ctx, &awsiam.CreateOpenIDConnectProviderInput{
		Url: aws.String(twin), ClientIDList: []string{"rampart-app"},
	})
	if err != nil {
		t.Fatalf("CreateOpenIDConnectProvider: %v", err)
	}
	host := strings.TrimPrefix(twin, "https://")
	trust := trustFederated(*prov.OpenIDConnectProviderArn, `{"StringEquals":{"`+host+`:aud":"rampart-app","`+host+`:sub":"ci-job"}}`)
	role, err := iamc.CreateRole(ctx, &awsiam.CreateRoleInput{RoleName: aws.String("Deployer"), AssumeRolePolicyDocument: aws.String(trust)})
	if err != nil {
		t.Fatalf("CreateRole: %v", err)
	}
	token := func(sub string) string {
		now := time.Now()
		return sign(t, rsaKey(t, 0), "RS256", "k1", map[string]any{
			"iss": is.URL, "aud": "rampart-app", "sub": sub, "iat": now.Unix(), "exp": now.Add(10 * time.Minute).Unix(),
		})
	}
	tokenFile := filepath.Join(t.TempDir(), "token")
	if err := os.WriteFile(tokenFile, []byte(token("ci-job")), 0o600); err != nil {
		t.Fatal(err)
	}
	anon := awssts.NewFromConfig(aws.Config{Region: "us-east-1", BaseEndpoint: aws.String(srv.URL), RetryMaxAttempts: 1})
	cfg := root.Copy()
	cfg.Credentials = aws.NewCredentialsCache(stscreds.NewWebIdentityRoleProvider(anon, *role.Role.Arn, stscreds.IdentityTokenFile(tokenFile)))
	id, err := awssts.NewFromConfig(cfg).GetCallerIdentity(ctx, &awssts.GetCallerIdentityInput{})
	if err != nil {
		t.Fatalf("GetCallerIdentity with web-identity credentials: %v", err)
	}
	if !strings.HasPrefix(aws.ToString(id.Arn), "arn:aws:sts::"+srv.Account+":assumed-role/Deployer/") {
		t.Fatalf("caller %s", aws.ToString(id.Arn))
	}
	// Another subject is not trusted: AccessDenied, as AWS answers.
	_, err = anon.AssumeRoleWithWebIdentity(ctx, &awssts.AssumeRoleWithWebIdentityInput{
		RoleArn: role.Role.Arn, RoleSessionName: aws.String("probe"), WebIdentityToken: aws.String(token("someone-else")),
	})
	if err == nil || !strings.Contains(err.Error(), "AccessDenied") {
		t.Fatalf("untrusted subject: %v", err)
	}
	// Deleting the provider ends it.
	if _, err := iamc.DeleteOpenIDConnectProvider(ctx, &awsiam.DeleteOpenIDConnectProviderInput{OpenIDConnectProviderArn: prov.OpenIDConnectProviderArn}); err != nil {
		t.Fatal(err)
	}
	_, err = anon.AssumeRoleWithWebIdentity(ctx, &awssts.AssumeRoleWithWebIdentityInput{
		RoleArn: role.Role.Arn, RoleSessionName: aws.String("probe"), WebIdentityToken: aws.String(token("ci-job")),
	})
	if err == nil || !strings.Contains(err.Error(), "InvalidIdentityToken") {
		t.Fatalf("after deleting the provider: %v", err)
	}
}
