package sts_test

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/json"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	awssts "github.com/aws/aws-sdk-go-v2/service/sts"

	"github.com/rampart/rampart/internal/authn"
	"github.com/rampart/rampart/internal/authz"
	"github.com/rampart/rampart/internal/service/sts"
)

func TestGetSessionToken(t *testing.T) {
	ctx := context.Background()
	e := start(t)
	alice := e.user("alice", allowSTS)
	e.mfa["arn:aws:iam::000000000000:mfa/alice"] = "123456"
	role := e.role("/", "app", trustUser(userARN("alice")), 0, allowSTS)

	cases := []struct {
		name      string
		client    *awssts.Client
		in        awssts.GetSessionTokenInput
		lifetime  time.Duration
		mfa       bool
		code, msg string
	}{
		{name: "user, default 12 hours", client: alice, lifetime: 12 * time.Hour},
		{name: "user, 36 hours", client: alice, in: awssts.GetSessionTokenInput{DurationSeconds: aws.Int32(129600)}, lifetime: 36 * time.Hour},
		{name: "root, capped at one hour", client: e.root(), in: awssts.GetSessionTokenInput{DurationSeconds: aws.Int32(7200)}, lifetime: time.Hour},
		{name: "beyond 36 hours (the model)", client: alice, in: awssts.GetSessionTokenInput{DurationSeconds: aws.Int32(129601)}, code: "ValidationError", msg: "durationSeconds"},
		{name: "with MFA", client: alice, in: awssts.GetSessionTokenInput{SerialNumber: aws.String("arn:aws:iam::000000000000:mfa/alice"), TokenCode: aws.String("123456")}, lifetime: 12 * time.Hour, mfa: true},
		{name: "wrong MFA code", client: alice, in: awssts.GetSessionTokenInput{SerialNumber: aws.String("arn:aws:iam::000000000000:mfa/alice"), TokenCode: aws.String("000000")}, code: "AccessDenied",
			msg: "MultiFactorAuthentication failed, unable to validate MFA code.  Please verify your MFA serial number is valid and associated with this user."},
		{name: "serial without code", client: alice, in: awssts.GetSessionTokenInput{SerialNumber: aws.String("arn:aws:iam::000000000000:mfa/alice")}, code: "ValidationError", msg: "TokenCode"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			out, err := tc.client.GetSessionToken(ctx, &tc.in)
			if tc.code != "" {
				status := 400
				if tc.code == "AccessDenied" {
					status = 403
				}
				wantError(t, err, tc.code, status, tc.msg)
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if got := out.Credentials.Expiration.Sub(e.clock()); got != tc.lifetime {
				t.Errorf("lifetime = %v, want %v", got, tc.lifetime)
			}
			cred, err := authn.OpenSession(e.Barrier, *out.Credentials.AccessKeyId, *out.Credentials.SessionToken, e.clock())
			if err != nil {
				t.Fatal(err)
			}
			if cred.Principal.Session.MFAAuthenticated != tc.mfa {
				t.Errorf("MFA = %v, want %v", cred.Principal.Session.MFAAuthenticated, tc.mfa)
			}
		})
	}

	// The session is the user: same identity, the user's permissions, and
	// it may assume roles but not get another session token.
	out, err := alice.GetSessionToken(ctx, &awssts.GetSessionTokenInput{})
	if err != nil {
		t.Fatal(err)
	}
	s := e.client(out.Credentials)
	id, err := s.GetCallerIdentity(ctx, &awssts.GetCallerIdentityInput{})
	if err != nil || *id.Arn != userARN("alice") || !strings.HasPrefix(*id.UserId, "AIDA") {
		t.Fatalf("GetCallerIdentity = %v, %v", id, err)
	}
	if _, err := s.AssumeRole(ctx, &awssts.AssumeRoleInput{RoleArn: &role.ARN, RoleSessionName: aws.String("from-session")}); err != nil {
		t.Errorf("AssumeRole with a session token: %v", err)
	}
	_, err = s.GetSessionToken(ctx, &awssts.GetSessionTokenInput{})
	wantError(t, err, "AccessDenied", 403, "Cannot call GetSessionToken with session credentials")
	_, err = s.GetFederationToken(ctx, &awssts.GetFederationTokenInput{Name: aws.String("fed")})
	wantError(t, err, "AccessDenied", 403, "Cannot call GetFederationToken with session credentials")
}

func TestGetFederationToken(t *testing.T) {
	ctx := context.Background()
	e := start(t)
	alice := e.user("alice", allowSTS)
	onlyInfo := `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"sts:GetAccessKeyInfo","Resource":"*"}]}`

	out, err := alice.GetFederationToken(ctx, &awssts.GetFederationTokenInput{Name: aws.String("carol"), Policy: &onlyInfo, DurationSeconds: aws.Int32(3600)})
	if err != nil {
		t.Fatal(err)
	}
	wantARN := "arn:aws:sts::000000000000:federated-user/carol"
	if *out.FederatedUser.Arn != wantARN || *out.FederatedUser.FederatedUserId != "000000000000:carol" || out.PackedPolicySize == nil {
		t.Errorf("federated user = %s %s packed %v", *out.FederatedUser.Arn, *out.FederatedUser.FederatedUserId, out.PackedPolicySize)
	}
	fed := e.client(out.Credentials)
	id, err := fed.GetCallerIdentity(ctx, &awssts.GetCallerIdentityInput{})
	if err != nil || *id.Arn != wantARN || *id.UserId != "000000000000:carol" {
		t.Fatalf("GetCallerIdentity = %v %v", id, err)
	}
	// The passed policy limits the user's permissions.
	if _, err := fed.GetAccessKeyInfo(ctx, &awssts.GetAccessKeyInfoInput{AccessKeyId: out.Credentials.AccessKeyId}); err != nil {
		t.Errorf("allowed by the session policy: %v", err)
	}
	_, err = fed.DecodeAuthorizationMessage(ctx, &awssts.DecodeAuthorizationMessageInput{EncodedMessage: aws.String("x")})
	wantError(t, err, "AccessDenied", 403, "federated-user/carol is not authorized to perform: sts:DecodeAuthorizationMessage")
	// Federated users cannot call STS beyond GetCallerIdentity.
	_, err = fed.AssumeRole(ctx, &awssts.AssumeRoleInput{RoleArn: aws.String("arn:aws:iam::000000000000:role/any"), RoleSessionName: aws.String("x1")})
	wantError(t, err, "AccessDenied", 403, "not authorized")

	// Without a policy, the federated user may do nothing.
	bare, err := alice.GetFederationToken(ctx, &awssts.GetFederationTokenInput{Name: aws.String("dave")})
	if err != nil {
		t.Fatal(err)
	}
	if got := bare.Credentials.Expiration.Sub(e.clock()); got != 12*time.Hour {
		t.Errorf("default lifetime = %v", got)
	}
	_, err = e.client(bare.Credentials).GetAccessKeyInfo(ctx, &awssts.GetAccessKeyInfoInput{AccessKeyId: bare.Credentials.AccessKeyId})
	wantError(t, err, "AccessDenied", 403, "federated-user/dave")

	// A user without sts:GetFederationToken is refused.
	nobody := e.user("nobody")
	_, err = nobody.GetFederationToken(ctx, &awssts.GetFederationTokenInput{Name: aws.String("eve")})
	wantError(t, err, "AccessDenied", 403, "sts:GetFederationToken on resource: arn:aws:sts::000000000000:federated-user/eve")
}

func TestGetAccessKeyInfo(t *testing.T) {
	ctx := context.Background()
	e := start(t)
	other, err := authn.NewKeyID("AKIA", "123456789012", rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	cases := map[string]struct {
		id, account, code string
	}{
		"the root key":             {id: "test0000000000000000", code: "InvalidParameterValue"},
		"a key of another account": {id: other, account: "123456789012"},
		"AWS's documented example": {id: "ASIAQNZGKIQY56JQ7WML", account: "029608264753"},
		"too short (the model)":    {id: "AKIA", code: "ValidationError"},
		"not an access key id":     {id: "AKIA0000000000000000", code: "InvalidParameterValue"},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			out, err := e.root().GetAccessKeyInfo(ctx, &awssts.GetAccessKeyInfoInput{AccessKeyId: &tc.id})
			if tc.code != "" {
				wantError(t, err, tc.code, 400, "")
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if *out.Account != tc.account {
				t.Errorf("account = %s, want %s", *out.Account, tc.account)
			}
		})
	}
	// Account ids round-trip through key ids, whatever the random bits.
	for _, acct := range []string{"000000000000", "000000000001", "999999999999", "123456789012"} {
		for i := 0; i < 50; i++ {
			id, err := authn.NewKeyID("ASIA", acct, rand.Reader)
			if err != nil {
				t.Fatal(err)
			}
			if got, ok := authn.KeyIDAccount(id); !ok || got != acct || len(id) != 20 {
				t.Fatalf("%s: KeyIDAccount = %s %v, want %s", id, got, ok, acct)
			}
		}
	}
}

func TestDecodeAuthorizationMessage(t *testing.T) {
	ctx := context.Background()
	e := start(t)
	nobody := e.user("nobody")
	req := &authz.Request{
		Principal: &authz.Principal{Type: authz.IAMUser, Account: account, ARN: userARN("nobody"), ID: "AIDAEXAMPLE", Name: "nobody"},
		Action:    "kms:Decrypt", Resources: []string{"arn:aws:kms:us-east-1:000000000000:key/k1"},
		Keys: map[string][]string{"kms:EncryptionContext:app": {"billing"}},
	}
	msg, err := sts.EncodeAuthorizationMessage(e.Barrier, account, sts.NewAuthorizationMessage(req, true))
	if err != nil {
		t.Fatal(err)
	}
	if strings.Contains(msg, "kms:Decrypt") || strings.Contains(msg, "billing") {
		t.Fatal("encoded message shows its content")
	}
	other, err := sts.EncodeAuthorizationMessage(e.Barrier, "111111111111", sts.NewAuthorizationMessage(req, false))
	if err != nil {
		t.Fatal(err)
	}
	out, err := e.root().DecodeAuthorizationMessage(ctx, &awssts.DecodeAuthorizationMessageInput{EncodedMessage: &msg})
	if err != nil {
		t.Fatal(err)
	}
	var decoded struct {
		Allowed      bool `json:"allowed"`
		ExplicitDeny bool `json:"explicitDeny"`
		Context      struct {
			Principal struct {
				ARN string `json:"arn"`
			} `json:"principal"`
			Action     string `json:"action"`
			Resource   string `json:"resource"`
			Conditions struct {
				Items []struct {
					Key string `json:"key"`
				} `json:"items"`
			} `json:"conditions"`
		} `json:"context"`
	}
	if err := json.Unmarshal([]byte(*out.DecodedMessage), &decoded); err != nil {
		t.Fatalf("decoded message %q: %v", *out.DecodedMessage, err)
	}
	c := decoded.Context
	if decoded.Allowed || !decoded.ExplicitDeny || c.Action != "kms:Decrypt" || c.Principal.ARN != userARN("nobody") ||
		c.Resource != "arn:aws:kms:us-east-1:000000000000:key/k1" || len(c.Conditions.Items) != 1 {
		t.Errorf("decoded = %s", *out.DecodedMessage)
	}

	tampered := []byte(msg)
	tampered[10] ^= 1
	if bytes.Equal(tampered, []byte(msg)) {
		t.Fatal("no change")
	}
	for name, m := range map[string]string{"tampered": string(tampered), "of another account": other, "garbage": "not-a-message"} {
		_, err := e.root().DecodeAuthorizationMessage(ctx, &awssts.DecodeAuthorizationMessageInput{EncodedMessage: aws.String(m)})
		wantError(t, err, "InvalidAuthorizationMessageException", 400, "")
		_ = name
	}
	// Decoding needs sts:DecodeAuthorizationMessage.
	_, err = nobody.DecodeAuthorizationMessage(ctx, &awssts.DecodeAuthorizationMessageInput{EncodedMessage: &msg})
	wantError(t, err, "AccessDenied", 403, "sts:DecodeAuthorizationMessage")
}
