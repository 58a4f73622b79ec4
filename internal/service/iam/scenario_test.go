package iam_test

import (
	"context"
	"errors"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/iam"
	"github.com/aws/aws-sdk-go-v2/service/iam/types"
	"github.com/aws/smithy-go"

	"github.com/rampart/rampart/internal/rampartest"
)

// apiErr returns the AWS error code and message of err ("" when err is nil).
func apiErr(t *testing.T, err error) (code, msg string) {
	t.Helper()
	if err == nil {
		return "", ""
	}
	var ae smithy.APIError
	if !errors.As(err, &ae) {
		t.Fatalf("not an API error: %v", err)
	}
	return ae.ErrorCode(), ae.ErrorMessage()
}

func wantCode(t *testing.T, err error, code string) string {
	t.Helper()
	got, msg := apiErr(t, err)
	if got != code {
		t.Fatalf("error code = %q (%s), want %q", got, msg, code)
	}
	return msg
}

// must returns v once the test has checked err: must(client.Op(…))(t).
func must[T any](v T, err error) func(t *testing.T) T {
	return func(t *testing.T) T {
		t.Helper()
		if err != nil {
			t.Fatal(err)
		}
		return v
	}
}

// newUser creates a user with an access key and returns a client signing as it.
func newUser(t *testing.T, srv *rampartest.Server, root *iam.Client, name string) *iam.Client {
	t.Helper()
	ctx := context.Background()
	must(root.CreateUser(ctx, &iam.CreateUserInput{UserName: aws.String(name)}))(t)
	k := must(root.CreateAccessKey(ctx, &iam.CreateAccessKeyInput{UserName: aws.String(name)}))(t)
	return iam.NewFromConfig(srv.ConfigFor(*k.AccessKey.AccessKeyId, *k.AccessKey.SecretAccessKey, ""))
}

// TestScenario is the scenario of issue 4: a user with no policy is denied
// in AWS's words; ReadOnlyAccess lets it read and not write; a policy with
// ${aws:username} lets each user manage its own keys only; the simulator
// agrees with what really happens.
func TestScenario(t *testing.T) {
	srv := rampartest.Start(t)
	ctx := context.Background()
	root := iam.NewFromConfig(srv.Config())
	reader := newUser(t, srv, root, "reader")

	_, err := reader.ListUsers(ctx, &iam.ListUsersInput{})
	msg := wantCode(t, err, "AccessDenied")
	const want = "User: arn:aws:iam::000000000000:user/reader is not authorized to perform: iam:ListUsers on resource: arn:aws:iam::000000000000:user/ because no identity-based policy allows the iam:ListUsers action"
	if msg != want {
		t.Fatalf("message:\n got %s\nwant %s", msg, want)
	}

	must(root.AttachUserPolicy(ctx, &iam.AttachUserPolicyInput{UserName: aws.String("reader"), PolicyArn: aws.String("arn:aws:iam::aws:policy/ReadOnlyAccess")}))(t)
	out := must(reader.ListUsers(ctx, &iam.ListUsersInput{}))(t)
	if len(out.Users) != 1 || *out.Users[0].UserName != "reader" {
		t.Fatalf("ListUsers as reader = %+v", out.Users)
	}
	_, err = reader.CreateUser(ctx, &iam.CreateUserInput{UserName: aws.String("mallory")})
	msg = wantCode(t, err, "AccessDenied")
	if !strings.Contains(msg, "iam:CreateUser on resource: arn:aws:iam::000000000000:user/mallory because no identity-based policy allows") {
		t.Fatalf("CreateUser denial: %s", msg)
	}

	// Each user manages its own access keys, and nobody else's.
	const selfKeys = `{"Version":"2012-10-17","Statement":[{"Effect":"Allow",
		"Action":["iam:CreateAccessKey","iam:ListAccessKeys","iam:DeleteAccessKey","iam:UpdateAccessKey"],
		"Resource":"arn:aws:iam::*:user/${aws:username}"}]}`
	pol := must(root.CreatePolicy(ctx, &iam.CreatePolicyInput{PolicyName: aws.String("SelfKeys"), PolicyDocument: aws.String(selfKeys)}))(t)
	must(root.CreateGroup(ctx, &iam.CreateGroupInput{GroupName: aws.String("devs")}))(t)
	must(root.AttachGroupPolicy(ctx, &iam.AttachGroupPolicyInput{GroupName: aws.String("devs"), PolicyArn: pol.Policy.Arn}))(t)
	alice := newUser(t, srv, root, "alice")
	bob := newUser(t, srv, root, "bob")
	for _, u := range []string{"alice", "bob"} {
		must(root.AddUserToGroup(ctx, &iam.AddUserToGroupInput{GroupName: aws.String("devs"), UserName: aws.String(u)}))(t)
	}
	// Without a user name the caller's own keys are meant.
	own := must(alice.ListAccessKeys(ctx, &iam.ListAccessKeysInput{}))(t)
	if len(own.AccessKeyMetadata) != 1 || *own.AccessKeyMetadata[0].UserName != "alice" {
		t.Fatalf("alice's keys: %+v", own.AccessKeyMetadata)
	}
	must(alice.ListAccessKeys(ctx, &iam.ListAccessKeysInput{UserName: aws.String("alice")}))(t)
	newKey := must(alice.CreateAccessKey(ctx, &iam.CreateAccessKeyInput{}))(t)
	_, err = alice.ListAccessKeys(ctx, &iam.ListAccessKeysInput{UserName: aws.String("bob")})
	msg = wantCode(t, err, "AccessDenied")
	if !strings.Contains(msg, "User: arn:aws:iam::000000000000:user/alice is not authorized to perform: iam:ListAccessKeys on resource: arn:aws:iam::000000000000:user/bob") {
		t.Fatalf("alice on bob's keys: %s", msg)
	}
	_, err = bob.CreateAccessKey(ctx, &iam.CreateAccessKeyInput{UserName: aws.String("alice")})
	wantCode(t, err, "AccessDenied")
	must(bob.ListAccessKeys(ctx, &iam.ListAccessKeysInput{}))(t)
	// alice's new key works at once and acts as alice.
	alice2 := iam.NewFromConfig(srv.ConfigFor(*newKey.AccessKey.AccessKeyId, *newKey.AccessKey.SecretAccessKey, ""))
	must(alice2.DeleteAccessKey(ctx, &iam.DeleteAccessKeyInput{AccessKeyId: newKey.AccessKey.AccessKeyId}))(t)
	_, err = alice2.ListAccessKeys(ctx, &iam.ListAccessKeysInput{})
	wantCode(t, err, "InvalidClientTokenId")

	// The simulator agrees with what happened.
	cases := []struct {
		user, action, resource string
		want                   types.PolicyEvaluationDecisionType
	}{
		{"reader", "iam:ListUsers", "arn:aws:iam::000000000000:user/", types.PolicyEvaluationDecisionTypeAllowed},
		{"reader", "iam:CreateUser", "arn:aws:iam::000000000000:user/mallory", types.PolicyEvaluationDecisionTypeImplicitDeny},
		{"alice", "iam:ListAccessKeys", "arn:aws:iam::000000000000:user/alice", types.PolicyEvaluationDecisionTypeAllowed},
		{"alice", "iam:ListAccessKeys", "arn:aws:iam::000000000000:user/bob", types.PolicyEvaluationDecisionTypeImplicitDeny},
		{"bob", "iam:CreateAccessKey", "arn:aws:iam::000000000000:user/alice", types.PolicyEvaluationDecisionTypeImplicitDeny},
		{"bob", "iam:ListAccessKeys", "arn:aws:iam::000000000000:user/bob", types.PolicyEvaluationDecisionTypeAllowed},
	}
	for _, c := range cases {
		sim := must(root.SimulatePrincipalPolicy(ctx, &iam.SimulatePrincipalPolicyInput{
			PolicySourceArn: aws.String("arn:aws:iam::000000000000:user/" + c.user),
			ActionNames:     []string{c.action}, ResourceArns: []string{c.resource},
		}))(t)
		if len(sim.EvaluationResults) != 1 || sim.EvaluationResults[0].EvalDecision != c.want {
			t.Errorf("simulate %s %s on %s: %+v, want %s", c.user, c.action, c.resource, sim.EvaluationResults, c.want)
		}
	}

	// Detaching takes effect on the very next request.
	must(root.DetachUserPolicy(ctx, &iam.DetachUserPolicyInput{UserName: aws.String("reader"), PolicyArn: aws.String("arn:aws:iam::aws:policy/ReadOnlyAccess")}))(t)
	_, err = reader.ListUsers(ctx, &iam.ListUsersInput{})
	wantCode(t, err, "AccessDenied")
}
