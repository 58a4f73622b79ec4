package sts_test

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	awssts "github.com/aws/aws-sdk-go-v2/service/sts"
	ststypes "github.com/aws/aws-sdk-go-v2/service/sts/types"
	"github.com/aws/smithy-go"

	"github.com/rampart/rampart/internal/authn"
)

func TestAssumeRoleDuration(t *testing.T) {
	ctx := context.Background()
	e := start(t)
	alice := e.user("alice", allowSTS)
	long := e.role("/", "long", trustUser(userARN("alice")), 7200, allowSTS)
	def := e.role("/", "default", trustUser(userARN("alice")), 0, allowSTS)
	// A second role that trusts sessions of "long": role chaining.
	chained := e.role("/", "next", trustUser("arn:aws:iam::000000000000:role/long"), 43200, allowSTS)

	first, err := alice.AssumeRole(ctx, &awssts.AssumeRoleInput{RoleArn: aws.String(long.ARN), RoleSessionName: aws.String("first"), DurationSeconds: aws.Int32(7200)})
	if err != nil {
		t.Fatal(err)
	}
	session := e.client(first.Credentials)
	cases := []struct {
		name     string
		client   *awssts.Client
		role     string
		duration *int32
		want     time.Duration
		code     string
		msg      string
	}{
		{"role maximum", alice, long.ARN, aws.Int32(7200), 2 * time.Hour, "", ""},
		{"minimum", alice, long.ARN, aws.Int32(900), 15 * time.Minute, "", ""},
		{"default is one hour", alice, long.ARN, nil, time.Hour, "", ""},
		{"beyond the role maximum", alice, long.ARN, aws.Int32(7201), 0, "ValidationError", "The requested DurationSeconds exceeds the MaxSessionDuration set for this role."},
		{"beyond the default maximum", alice, def.ARN, aws.Int32(3601), 0, "ValidationError", "MaxSessionDuration"},
		{"below 900 (the model)", alice, long.ARN, aws.Int32(899), 0, "ValidationError", "greater than or equal to 900"},
		{"chaining: one hour", session, chained.ARN, aws.Int32(3600), time.Hour, "", ""},
		{"chaining: default", session, chained.ARN, nil, time.Hour, "", ""},
		{"chaining: beyond one hour", session, chained.ARN, aws.Int32(3601), 0, "ValidationError", "The requested DurationSeconds exceeds the 1 hour session limit for roles assumed by role chaining."},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			out, err := tc.client.AssumeRole(ctx, &awssts.AssumeRoleInput{RoleArn: aws.String(tc.role), RoleSessionName: aws.String("dur"), DurationSeconds: tc.duration})
			if tc.code != "" {
				wantError(t, err, tc.code, 400, tc.msg)
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if got := out.Credentials.Expiration.Sub(e.clock()); got != tc.want {
				t.Errorf("lifetime = %v, want %v", got, tc.want)
			}
		})
	}
	// The chained session says so, and GetCallerIdentity shows the new role.
	out, err := session.AssumeRole(ctx, &awssts.AssumeRoleInput{RoleArn: aws.String(chained.ARN), RoleSessionName: aws.String("hop")})
	if err != nil {
		t.Fatal(err)
	}
	cred, err := authn.OpenSession(e.Barrier, *out.Credentials.AccessKeyId, *out.Credentials.SessionToken, e.clock())
	if err != nil || !cred.Principal.Session.Chained {
		t.Errorf("chained session: %v %+v", err, cred)
	}
	id, err := e.client(out.Credentials).GetCallerIdentity(ctx, &awssts.GetCallerIdentityInput{})
	if err != nil || *id.Arn != "arn:aws:sts::000000000000:assumed-role/next/hop" {
		t.Errorf("GetCallerIdentity = %v %v", id, err)
	}
}

func TestAssumeRoleAuthorization(t *testing.T) {
	ctx := context.Background()
	e := start(t)
	alice := e.user("alice", allowSTS)
	bob := e.user("bob", allowSTS)
	nobody := e.user("nobody") // no identity policy
	trustExternal := fmt.Sprintf(`{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":{"AWS":%q},"Action":"sts:AssumeRole","Condition":{"StringEquals":{"sts:ExternalId":"s3cr3t-id"}}}]}`, userARN("alice"))
	ext := e.role("/", "vendor", trustExternal, 0)
	trustAccount := `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":{"AWS":"arn:aws:iam::000000000000:root"},"Action":"sts:AssumeRole"}]}`
	acct := e.role("/", "delegated", trustAccount, 0)
	trustSessionName := fmt.Sprintf(`{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":{"AWS":%q},"Action":"sts:AssumeRole","Condition":{"StringLike":{"sts:RoleSessionName":"ci-*"}}}]}`, userARN("alice"))
	named := e.role("/", "named", trustSessionName, 0)
	mfaTrust := fmt.Sprintf(`{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":{"AWS":%q},"Action":"sts:AssumeRole","Condition":{"Bool":{"aws:MultiFactorAuthPresent":"true"}}}]}`, userARN("alice"))
	mfaRole := e.role("/", "mfa", mfaTrust, 0)
	e.mfa["arn:aws:iam::000000000000:mfa/alice"] = "123456"

	cases := []struct {
		name   string
		client *awssts.Client
		in     awssts.AssumeRoleInput
		code   string
		msg    string
	}{
		{"external id matches", alice, awssts.AssumeRoleInput{RoleArn: &ext.ARN, ExternalId: aws.String("s3cr3t-id")}, "", ""},
		{"external id missing", alice, awssts.AssumeRoleInput{RoleArn: &ext.ARN}, "AccessDenied",
			"User: arn:aws:iam::000000000000:user/alice is not authorized to perform: sts:AssumeRole on resource: arn:aws:iam::000000000000:role/vendor"},
		{"external id wrong", alice, awssts.AssumeRoleInput{RoleArn: &ext.ARN, ExternalId: aws.String("guess")}, "AccessDenied", "sts:AssumeRole"},
		{"other user not trusted", bob, awssts.AssumeRoleInput{RoleArn: &ext.ARN, ExternalId: aws.String("s3cr3t-id")}, "AccessDenied", "user/bob is not authorized"},
		{"account trust delegates to identity policies", bob, awssts.AssumeRoleInput{RoleArn: &acct.ARN}, "", ""},
		{"account trust, no identity policy", nobody, awssts.AssumeRoleInput{RoleArn: &acct.ARN}, "AccessDenied", "user/nobody is not authorized"},
		{"unknown role", alice, awssts.AssumeRoleInput{RoleArn: aws.String("arn:aws:iam::000000000000:role/ghost")}, "AccessDenied",
			"User: arn:aws:iam::000000000000:user/alice is not authorized to perform: sts:AssumeRole on resource: arn:aws:iam::000000000000:role/ghost"},
		{"root user", e.root(), awssts.AssumeRoleInput{RoleArn: &acct.ARN}, "AccessDenied", "Roles may not be assumed by root accounts."},
		{"session name condition met", alice, awssts.AssumeRoleInput{RoleArn: &named.ARN, RoleSessionName: aws.String("ci-1234")}, "", ""},
		{"session name condition not met", alice, awssts.AssumeRoleInput{RoleArn: &named.ARN, RoleSessionName: aws.String("mallory")}, "AccessDenied", "sts:AssumeRole"},
		{"session name with a bad character", alice, awssts.AssumeRoleInput{RoleArn: &acct.ARN, RoleSessionName: aws.String("a b")}, "ValidationError", "roleSessionName"},
		{"session name too long", alice, awssts.AssumeRoleInput{RoleArn: &acct.ARN, RoleSessionName: aws.String(strings.Repeat("x", 65))}, "ValidationError", "roleSessionName"},
		{"MFA required, none given", alice, awssts.AssumeRoleInput{RoleArn: &mfaRole.ARN}, "AccessDenied", "sts:AssumeRole"},
		{"MFA code right", alice, awssts.AssumeRoleInput{RoleArn: &mfaRole.ARN, SerialNumber: aws.String("arn:aws:iam::000000000000:mfa/alice"), TokenCode: aws.String("123456")}, "", ""},
		{"MFA code wrong", alice, awssts.AssumeRoleInput{RoleArn: &mfaRole.ARN, SerialNumber: aws.String("arn:aws:iam::000000000000:mfa/alice"), TokenCode: aws.String("654321")}, "AccessDenied",
			"MultiFactorAuthentication failed with invalid MFA one time pass code."},
		{"MFA device of another user", bob, awssts.AssumeRoleInput{RoleArn: &acct.ARN, SerialNumber: aws.String("arn:aws:iam::000000000000:mfa/alice"), TokenCode: aws.String("123456")}, "AccessDenied", "MultiFactorAuthentication failed"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			in := tc.in
			if in.RoleSessionName == nil {
				in.RoleSessionName = aws.String("sess")
			}
			out, err := tc.client.AssumeRole(ctx, &in)
			if tc.code != "" {
				status := 403
				if tc.code == "ValidationError" {
					status = 400
				}
				wantError(t, err, tc.code, status, tc.msg)
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if !strings.HasSuffix(*out.AssumedRoleUser.Arn, "/"+*in.RoleSessionName) {
				t.Errorf("ARN = %s", *out.AssumedRoleUser.Arn)
			}
		})
	}
}

// deployActions is a deployment policy of 42 actions, which AWS was seen to
// pack at about 157%.
var deployActions = []string{
	"cloudformation:CreateStack", "cloudformation:UpdateStack", "cloudformation:DeleteStack", "cloudformation:DescribeStacks",
	"cloudformation:DescribeStackEvents", "cloudformation:CreateChangeSet", "cloudformation:ExecuteChangeSet", "cloudformation:GetTemplate",
	"dynamodb:CreateTable", "dynamodb:DeleteTable", "dynamodb:DescribeTable", "dynamodb:UpdateTable", "dynamodb:TagResource",
	"dynamodb:UpdateTimeToLive", "dynamodb:DescribeTimeToLive",
	"s3:CreateBucket", "s3:DeleteBucket", "s3:PutBucketPolicy", "s3:GetObject", "s3:PutObject", "s3:ListBucket",
	"s3:PutBucketTagging", "s3:PutEncryptionConfiguration",
	"lambda:CreateFunction", "lambda:DeleteFunction", "lambda:GetFunction", "lambda:UpdateFunctionCode",
	"lambda:UpdateFunctionConfiguration", "lambda:AddPermission", "lambda:RemovePermission", "lambda:TagResource",
	"iam:CreateRole", "iam:DeleteRole", "iam:GetRole", "iam:PassRole", "iam:AttachRolePolicy", "iam:DetachRolePolicy",
	"iam:PutRolePolicy", "logs:CreateLogGroup", "logs:DeleteLogGroup", "logs:PutRetentionPolicy", "logs:DescribeLogGroups",
}

func TestSessionPolicies(t *testing.T) {
	ctx := context.Background()
	e := start(t)
	alice := e.user("alice", allowSTS)
	role := e.role("/", "app", trustUser(userARN("alice")), 0, allowSTS)
	onlyInfo := `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"sts:GetAccessKeyInfo","Resource":"*"}]}`
	e.managed["arn:aws:iam::000000000000:policy/DecodeOnly"] = `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"sts:DecodeAuthorizationMessage","Resource":"*"}]}`
	big := fmt.Sprintf(`{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":%s,"Resource":"*"}]}`, jsonList(deployActions))
	mid := fmt.Sprintf(`{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":%s,"Resource":"*"}]}`, jsonList(deployActions[:20]))

	cases := []struct {
		name       string
		policy     *string
		arns       []string
		code, msg  string
		allowed    []string // operations the session may call
		denied     []string
		wantPacked bool
	}{
		{name: "no session policy: the role's permissions", allowed: []string{"GetAccessKeyInfo", "DecodeAuthorizationMessage"}},
		{name: "inline policy limits", policy: &onlyInfo, allowed: []string{"GetAccessKeyInfo"}, denied: []string{"DecodeAuthorizationMessage"}, wantPacked: true},
		{name: "managed policy limits", arns: []string{"arn:aws:iam::000000000000:policy/DecodeOnly"}, allowed: []string{"DecodeAuthorizationMessage"}, denied: []string{"GetAccessKeyInfo"}, wantPacked: true},
		{name: "inline and managed combine as a union", policy: &onlyInfo, arns: []string{"arn:aws:iam::000000000000:policy/DecodeOnly"}, allowed: []string{"GetAccessKeyInfo", "DecodeAuthorizationMessage"}, wantPacked: true},
		{name: "a 20-action policy fits", policy: &mid, denied: []string{"GetAccessKeyInfo"}, wantPacked: true},
		{name: "malformed", policy: aws.String(`{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Resource":"*"}]}`), code: "MalformedPolicyDocument", msg: "actions"},
		{name: "not JSON", policy: aws.String(`{"Version":`), code: "MalformedPolicyDocument"},
		{name: "with a principal", policy: aws.String(`{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":"*","Action":"s3:*","Resource":"*"}]}`), code: "MalformedPolicyDocument"},
		{name: "unknown managed policy", arns: []string{"arn:aws:iam::000000000000:policy/Nope"}, code: "InvalidParameterValue", msg: "does not exist"},
		{name: "eleven managed policies", arns: strings.Split(strings.Repeat("arn:aws:iam::000000000000:policy/DecodeOnly,", 11), ",")[:11], code: "ValidationError", msg: "policyArns"},
		{name: "packed too large", policy: &big, code: "PackedPolicyTooLarge", msg: "Packed policy consumes 150% of allotted space"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			in := &awssts.AssumeRoleInput{RoleArn: &role.ARN, RoleSessionName: aws.String("sp"), Policy: tc.policy}
			for _, a := range tc.arns {
				in.PolicyArns = append(in.PolicyArns, ststypes.PolicyDescriptorType{Arn: aws.String(a)})
			}
			out, err := alice.AssumeRole(ctx, in)
			if tc.code != "" {
				wantError(t, err, tc.code, 400, tc.msg)
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if (out.PackedPolicySize != nil) != tc.wantPacked || (out.PackedPolicySize != nil && (*out.PackedPolicySize < 1 || *out.PackedPolicySize > 100)) {
				t.Errorf("PackedPolicySize = %v", aws.ToInt32(out.PackedPolicySize))
			}
			s := e.client(out.Credentials)
			call := func(op string) error {
				if op == "GetAccessKeyInfo" {
					_, err := s.GetAccessKeyInfo(ctx, &awssts.GetAccessKeyInfoInput{AccessKeyId: out.Credentials.AccessKeyId})
					return err
				}
				_, err := s.DecodeAuthorizationMessage(ctx, &awssts.DecodeAuthorizationMessageInput{EncodedMessage: aws.String("x")})
				if errorCode(err) == "InvalidAuthorizationMessageException" {
					return nil // authorized; the message itself is bad
				}
				return err
			}
			for _, op := range tc.allowed {
				if err := call(op); err != nil {
					t.Errorf("%s: %v", op, err)
				}
			}
			for _, op := range tc.denied {
				wantError(t, call(op), "AccessDenied", 403, "because no session policy allows the sts:"+op+" action")
			}
		})
	}
}

func errorCode(err error) string {
	var ae smithy.APIError
	if !errors.As(err, &ae) {
		return ""
	}
	return ae.ErrorCode()
}
