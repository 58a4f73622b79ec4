package sts_test

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	awsiam "github.com/aws/aws-sdk-go-v2/service/iam"
	awssts "github.com/aws/aws-sdk-go-v2/service/sts"

	"github.com/rampart/rampart/internal/rampartest"
)

// TestWithIAM runs the whole story against rampart as internal/app
// assembles it — IAM's users and roles, the real authorizer: a user assumes
// a role whose trust policy asks for an external id, the session acts with
// the role's permissions on IAM (narrowed by a session policy when one is
// passed), and a deny on aws:TokenIssueTime revokes it.
func TestWithIAM(t *testing.T) {
	ctx := context.Background()
	srv := rampartest.Start(t)
	root := awsiam.NewFromConfig(srv.Config())
	must := func(_ any, err error) {
		t.Helper()
		if err != nil {
			t.Fatal(err)
		}
	}
	must(root.CreateUser(ctx, &awsiam.CreateUserInput{UserName: aws.String("dev")}))
	must(root.PutUserPolicy(ctx, &awsiam.PutUserPolicyInput{UserName: aws.String("dev"), PolicyName: aws.String("assume"),
		PolicyDocument: aws.String(`{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"sts:AssumeRole","Resource":"arn:aws:iam::000000000000:role/ci/*"}]}`)}))
	key, err := root.CreateAccessKey(ctx, &awsiam.CreateAccessKeyInput{UserName: aws.String("dev")})
	if err != nil {
		t.Fatal(err)
	}
	trust := `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":{"AWS":"arn:aws:iam::000000000000:user/dev"},"Action":"sts:AssumeRole","Condition":{"StringEquals":{"sts:ExternalId":"ext-1234"}}}]}`
	role, err := root.CreateRole(ctx, &awsiam.CreateRoleInput{RoleName: aws.String("deployer"), Path: aws.String("/ci/"), AssumeRolePolicyDocument: &trust})
	if err != nil {
		t.Fatal(err)
	}
	must(root.PutRolePolicy(ctx, &awsiam.PutRolePolicyInput{RoleName: aws.String("deployer"), PolicyName: aws.String("read"),
		PolicyDocument: aws.String(`{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":["iam:ListUsers","iam:GetUser"],"Resource":"*"}]}`)}))

	dev := awssts.NewFromConfig(srv.ConfigFor(*key.AccessKey.AccessKeyId, *key.AccessKey.SecretAccessKey, ""))
	_, err = dev.AssumeRole(ctx, &awssts.AssumeRoleInput{RoleArn: role.Role.Arn, RoleSessionName: aws.String("ci")})
	wantError(t, err, "AccessDenied", 403, "User: arn:aws:iam::000000000000:user/dev is not authorized to perform: sts:AssumeRole on resource: arn:aws:iam::000000000000:role/ci/deployer")

	assume := func(policy *string) (*awssts.Client, *awsiam.Client) {
		t.Helper()
		out, err := dev.AssumeRole(ctx, &awssts.AssumeRoleInput{RoleArn: role.Role.Arn, RoleSessionName: aws.String("ci"), ExternalId: aws.String("ext-1234"), Policy: policy})
		if err != nil {
			t.Fatal(err)
		}
		c := out.Credentials
		cfg := srv.ConfigFor(*c.AccessKeyId, *c.SecretAccessKey, *c.SessionToken)
		return awssts.NewFromConfig(cfg), awsiam.NewFromConfig(cfg)
	}
	sess, sessIAM := assume(nil)
	id, err := sess.GetCallerIdentity(ctx, &awssts.GetCallerIdentityInput{})
	if err != nil {
		t.Fatal(err)
	}
	if *id.Arn != "arn:aws:sts::000000000000:assumed-role/deployer/ci" || *id.UserId != *role.Role.RoleId+":ci" {
		t.Errorf("GetCallerIdentity = %s %s", *id.Arn, *id.UserId)
	}
	if _, err := sessIAM.ListUsers(ctx, &awsiam.ListUsersInput{}); err != nil {
		t.Errorf("ListUsers as the role session: %v", err)
	}
	_, err = sessIAM.CreateUser(ctx, &awsiam.CreateUserInput{UserName: aws.String("intruder")})
	wantError(t, err, "AccessDenied", 403, "User: arn:aws:sts::000000000000:assumed-role/deployer/ci is not authorized to perform: iam:CreateUser")

	// A session policy narrows the session.
	_, narrowIAM := assume(aws.String(`{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"iam:GetUser","Resource":"*"}]}`))
	if _, err := narrowIAM.GetUser(ctx, &awsiam.GetUserInput{UserName: aws.String("dev")}); err != nil {
		t.Errorf("GetUser under the session policy: %v", err)
	}
	_, err = narrowIAM.ListUsers(ctx, &awsiam.ListUsersInput{})
	wantError(t, err, "AccessDenied", 403, "iam:ListUsers")

	// "Revoke active sessions": deny everything to sessions issued before now.
	revoke := fmt.Sprintf(`{"Version":"2012-10-17","Statement":[{"Effect":"Deny","Action":"*","Resource":"*","Condition":{"DateLessThan":{"aws:TokenIssueTime":%q}}}]}`,
		time.Now().Add(time.Minute).UTC().Format(time.RFC3339))
	must(root.PutRolePolicy(ctx, &awsiam.PutRolePolicyInput{RoleName: aws.String("deployer"), PolicyName: aws.String("AWSRevokeOlderSessions"), PolicyDocument: &revoke}))
	_, err = sessIAM.ListUsers(ctx, &awsiam.ListUsersInput{})
	wantError(t, err, "AccessDenied", 403, "explicit deny")
}
