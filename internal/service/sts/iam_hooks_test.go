package sts_test

import (
	"context"
	"crypto/hmac"
	"crypto/sha1"
	"encoding/base32"
	"encoding/binary"
	"fmt"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	awsiam "github.com/aws/aws-sdk-go-v2/service/iam"
	awssts "github.com/aws/aws-sdk-go-v2/service/sts"
	ststypes "github.com/aws/aws-sdk-go-v2/service/sts/types"

	"github.com/rampart/rampart/internal/authn"
	"github.com/rampart/rampart/internal/rampartest"
)

// totpAt is RFC 6238's code for a 30-second step, as an authenticator app
// computes it from the Base32 seed.
func totpAt(t testing.TB, seed []byte, step int64) string {
	t.Helper()
	key, err := base32.StdEncoding.WithPadding(base32.NoPadding).DecodeString(string(seed))
	if err != nil {
		t.Fatal(err)
	}
	var msg [8]byte
	binary.BigEndian.PutUint64(msg[:], uint64(step))
	m := hmac.New(sha1.New, key)
	m.Write(msg[:])
	sum := m.Sum(nil)
	off := sum[len(sum)-1] & 0x0f
	return fmt.Sprintf("%06d", (binary.BigEndian.Uint32(sum[off:off+4])&0x7fffffff)%1_000_000)
}

// TestIAMHooks runs STS against IAM as internal/app wires them: session
// policies passed by ARN are IAM's managed policies (customer and AWS
// managed), and MFA codes are checked against the user's enabled virtual
// MFA device, each code once.
func TestIAMHooks(t *testing.T) {
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
		PolicyDocument: aws.String(`{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"sts:AssumeRole","Resource":"*"}]}`)}))
	key, err := root.CreateAccessKey(ctx, &awsiam.CreateAccessKeyInput{UserName: aws.String("dev")})
	if err != nil {
		t.Fatal(err)
	}
	dev := awssts.NewFromConfig(srv.ConfigFor(*key.AccessKey.AccessKeyId, *key.AccessKey.SecretAccessKey, ""))
	trust := `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":{"AWS":"arn:aws:iam::000000000000:user/dev"},"Action":"sts:AssumeRole"}]}`
	trustMFA := `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":{"AWS":"arn:aws:iam::000000000000:user/dev"},"Action":"sts:AssumeRole","Condition":{"Bool":{"aws:MultiFactorAuthPresent":"true"}}}]}`
	role, err := root.CreateRole(ctx, &awsiam.CreateRoleInput{RoleName: aws.String("reader"), AssumeRolePolicyDocument: &trust})
	if err != nil {
		t.Fatal(err)
	}
	mfaRole, err := root.CreateRole(ctx, &awsiam.CreateRoleInput{RoleName: aws.String("guarded"), AssumeRolePolicyDocument: &trustMFA})
	if err != nil {
		t.Fatal(err)
	}
	must(root.PutRolePolicy(ctx, &awsiam.PutRolePolicyInput{RoleName: aws.String("reader"), PolicyName: aws.String("iam-read"),
		PolicyDocument: aws.String(`{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":["iam:ListUsers","iam:ListRoles","iam:GetUser"],"Resource":"*"}]}`)}))
	listUsers, err := root.CreatePolicy(ctx, &awsiam.CreatePolicyInput{PolicyName: aws.String("only-list-users"),
		PolicyDocument: aws.String(`{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"iam:ListUsers","Resource":"*"}]}`)})
	if err != nil {
		t.Fatal(err)
	}
	// A second version becomes the default: the session gets that one.
	must(root.CreatePolicyVersion(ctx, &awsiam.CreatePolicyVersionInput{PolicyArn: listUsers.Policy.Arn, SetAsDefault: true,
		PolicyDocument: aws.String(`{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":["iam:ListUsers","iam:GetUser"],"Resource":"*"}]}`)}))

	t.Run("session policies by ARN", func(t *testing.T) {
		cases := []struct {
			name      string
			arns      []string
			code, msg string
			allowed   map[string]bool // ListUsers, ListRoles, GetUser
		}{
			{name: "customer managed, default version", arns: []string{*listUsers.Policy.Arn}, allowed: map[string]bool{"ListUsers": true, "ListRoles": false, "GetUser": true}},
			{name: "AWS managed", arns: []string{"arn:aws:iam::aws:policy/IAMReadOnlyAccess"}, allowed: map[string]bool{"ListUsers": true, "ListRoles": true, "GetUser": true}},
			{name: "unknown customer policy", arns: []string{"arn:aws:iam::000000000000:policy/nope"}, code: "InvalidParameterValue", msg: "Policy arn:aws:iam::000000000000:policy/nope does not exist or is not attachable."},
			{name: "unknown AWS policy", arns: []string{"arn:aws:iam::aws:policy/NoSuchPolicy"}, code: "InvalidParameterValue", msg: "does not exist or is not attachable"},
		}
		for _, tc := range cases {
			t.Run(tc.name, func(t *testing.T) {
				var pas []ststypes.PolicyDescriptorType
				for _, a := range tc.arns {
					pas = append(pas, ststypes.PolicyDescriptorType{Arn: aws.String(a)})
				}
				out, err := dev.AssumeRole(ctx, &awssts.AssumeRoleInput{RoleArn: role.Role.Arn, RoleSessionName: aws.String("narrow"), PolicyArns: pas})
				if tc.code != "" {
					wantError(t, err, tc.code, 400, tc.msg)
					return
				}
				if err != nil {
					t.Fatal(err)
				}
				c := out.Credentials
				sess := awsiam.NewFromConfig(srv.ConfigFor(*c.AccessKeyId, *c.SecretAccessKey, *c.SessionToken))
				got := map[string]bool{}
				_, err = sess.ListUsers(ctx, &awsiam.ListUsersInput{})
				got["ListUsers"] = err == nil
				_, err = sess.ListRoles(ctx, &awsiam.ListRolesInput{})
				got["ListRoles"] = err == nil
				_, err = sess.GetUser(ctx, &awsiam.GetUserInput{UserName: aws.String("dev")})
				got["GetUser"] = err == nil
				for k, v := range tc.allowed {
					if got[k] != v {
						t.Errorf("%s allowed = %v, want %v", k, got[k], v)
					}
				}
			})
		}
	})

	t.Run("MFA", func(t *testing.T) {
		dev2 := awsiam.NewFromConfig(srv.Config())
		dv, err := dev2.CreateVirtualMFADevice(ctx, &awsiam.CreateVirtualMFADeviceInput{VirtualMFADeviceName: aws.String("dev-phone")})
		if err != nil {
			t.Fatal(err)
		}
		serial, seed := *dv.VirtualMFADevice.SerialNumber, dv.VirtualMFADevice.Base32StringSeed
		other, err := dev2.CreateVirtualMFADevice(ctx, &awsiam.CreateVirtualMFADeviceInput{VirtualMFADeviceName: aws.String("unassigned")})
		if err != nil {
			t.Fatal(err)
		}
		step := time.Now().Unix() / 30
		must(dev2.EnableMFADevice(ctx, &awsiam.EnableMFADeviceInput{UserName: aws.String("dev"), SerialNumber: &serial,
			AuthenticationCode1: aws.String(totpAt(t, seed, step-1)), AuthenticationCode2: aws.String(totpAt(t, seed, step))}))
		// Enabling used the codes up to step; the next one is fresh.
		next := totpAt(t, seed, step+1)

		_, err = dev.AssumeRole(ctx, &awssts.AssumeRoleInput{RoleArn: mfaRole.Role.Arn, RoleSessionName: aws.String("no-mfa")})
		wantError(t, err, "AccessDenied", 403, "sts:AssumeRole")
		_, err = dev.AssumeRole(ctx, &awssts.AssumeRoleInput{RoleArn: mfaRole.Role.Arn, RoleSessionName: aws.String("used-code"), SerialNumber: &serial, TokenCode: aws.String(totpAt(t, seed, step))})
		wantError(t, err, "AccessDenied", 403, "MultiFactorAuthentication failed with invalid MFA one time pass code.")
		_, err = dev.AssumeRole(ctx, &awssts.AssumeRoleInput{RoleArn: mfaRole.Role.Arn, RoleSessionName: aws.String("other-device"), SerialNumber: other.VirtualMFADevice.SerialNumber, TokenCode: &next})
		wantError(t, err, "AccessDenied", 403, "MultiFactorAuthentication failed")
		_, err = dev.AssumeRole(ctx, &awssts.AssumeRoleInput{RoleArn: mfaRole.Role.Arn, RoleSessionName: aws.String("far-code"), SerialNumber: &serial, TokenCode: aws.String(totpAt(t, seed, step+5))})
		wantError(t, err, "AccessDenied", 403, "MultiFactorAuthentication failed")

		out, err := dev.AssumeRole(ctx, &awssts.AssumeRoleInput{RoleArn: mfaRole.Role.Arn, RoleSessionName: aws.String("with-mfa"), SerialNumber: &serial, TokenCode: &next})
		if err != nil {
			t.Fatal(err)
		}
		cred, err := authn.OpenSession(srv.Barrier, *out.Credentials.AccessKeyId, *out.Credentials.SessionToken, time.Now())
		if err != nil {
			t.Fatal(err)
		}
		if !cred.Principal.Session.MFAAuthenticated {
			t.Error("session not MFA-authenticated")
		}
		// The same code a second time: refused (and GetSessionToken alike).
		_, err = dev.AssumeRole(ctx, &awssts.AssumeRoleInput{RoleArn: mfaRole.Role.Arn, RoleSessionName: aws.String("replay"), SerialNumber: &serial, TokenCode: &next})
		wantError(t, err, "AccessDenied", 403, "MultiFactorAuthentication failed")
		_, err = dev.GetSessionToken(ctx, &awssts.GetSessionTokenInput{SerialNumber: &serial, TokenCode: &next})
		wantError(t, err, "AccessDenied", 403, "MultiFactorAuthentication failed, unable to validate MFA code.")
		// The root user has no such device.
		_, err = awssts.NewFromConfig(srv.Config()).GetSessionToken(ctx, &awssts.GetSessionTokenInput{SerialNumber: &serial, TokenCode: aws.String(totpAt(t, seed, step+2))})
		wantError(t, err, "AccessDenied", 403, "MultiFactorAuthentication failed")
	})
}
