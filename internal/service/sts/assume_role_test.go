package sts_test

import (
	"context"
	"encoding/base64"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	awssts "github.com/aws/aws-sdk-go-v2/service/sts"
	ststypes "github.com/aws/aws-sdk-go-v2/service/sts/types"

	"github.com/rampart/rampart/internal/authn"
)

// TestAssumeRoleEndToEnd: a user assumes a role; the credentials sign
// requests as the role session, whose identity GetCallerIdentity shows.
func TestAssumeRoleEndToEnd(t *testing.T) {
	ctx := context.Background()
	e := start(t)
	alice := e.user("alice", allowSTS)
	role := e.role("/svc/", "app", trustUser(userARN("alice")), 0, allowSTS)

	out, err := alice.AssumeRole(ctx, &awssts.AssumeRoleInput{RoleArn: aws.String(role.ARN), RoleSessionName: aws.String("build-42")})
	if err != nil {
		t.Fatal(err)
	}
	c := out.Credentials
	if !strings.HasPrefix(*c.AccessKeyId, "ASIA") || len(*c.AccessKeyId) != 20 || len(*c.SecretAccessKey) != 40 || *c.SessionToken == "" {
		t.Errorf("credentials = %s / %d-char secret / token %d chars", *c.AccessKeyId, len(*c.SecretAccessKey), len(*c.SessionToken))
	}
	if want := e.clock().Add(time.Hour); !c.Expiration.Equal(want) {
		t.Errorf("expiration = %v, want %v (the default hour)", c.Expiration, want)
	}
	wantARN := "arn:aws:sts::000000000000:assumed-role/app/build-42" // no path, as AWS forms it
	if *out.AssumedRoleUser.Arn != wantARN || *out.AssumedRoleUser.AssumedRoleId != role.RoleID+":build-42" {
		t.Errorf("assumed role user = %s %s", *out.AssumedRoleUser.Arn, *out.AssumedRoleUser.AssumedRoleId)
	}
	if out.PackedPolicySize != nil {
		t.Errorf("PackedPolicySize = %d without policies or tags", *out.PackedPolicySize)
	}

	id, err := e.client(c).GetCallerIdentity(ctx, &awssts.GetCallerIdentityInput{})
	if err != nil {
		t.Fatal(err)
	}
	if *id.Arn != wantARN || *id.UserId != role.RoleID+":build-42" || *id.Account != account {
		t.Errorf("GetCallerIdentity = %s %s %s", *id.Arn, *id.UserId, *id.Account)
	}
	// The session acts with the role's permissions on every call it signs.
	info, err := e.client(c).GetAccessKeyInfo(ctx, &awssts.GetAccessKeyInfoInput{AccessKeyId: c.AccessKeyId})
	if err != nil {
		t.Fatal(err)
	}
	if *info.Account != account {
		t.Errorf("GetAccessKeyInfo(ASIA…) = %s", *info.Account)
	}

	// The token is sealed: neither the secret nor the session's identity
	// is readable in it.
	raw, err := base64.StdEncoding.DecodeString(*c.SessionToken)
	if err != nil {
		t.Fatal(err)
	}
	for _, s := range []string{*c.SecretAccessKey, "build-42", "app", role.RoleID} {
		if strings.Contains(string(raw), s) || strings.Contains(*c.SessionToken, s) {
			t.Errorf("session token shows %q in the clear", s)
		}
	}
	// White box: the session opens to the principal and its context.
	cred, err := authn.OpenSession(e.Barrier, *c.AccessKeyId, *c.SessionToken, e.clock())
	if err != nil {
		t.Fatal(err)
	}
	p := cred.Principal
	if p.RoleARN != role.ARN || p.SessionName != "build-42" || p.Session == nil || p.Session.Chained || !p.Session.IssuedAt.Equal(e.clock()) {
		t.Errorf("principal = %+v, session %+v", p, p.Session)
	}
}

// TestSessionCredentialRejections: what AWS answers to broken temporary
// credentials.
func TestSessionCredentialRejections(t *testing.T) {
	ctx := context.Background()
	e := start(t)
	alice := e.user("alice", allowSTS)
	role := e.role("/", "app", trustUser(userARN("alice")), 0, allowSTS)
	assume := func(name string) *ststypes.Credentials {
		out, err := alice.AssumeRole(ctx, &awssts.AssumeRoleInput{RoleArn: aws.String(role.ARN), RoleSessionName: aws.String(name)})
		if err != nil {
			t.Fatal(err)
		}
		return out.Credentials
	}
	a, b := assume("sess-a"), assume("sess-b")
	tampered := []byte(*a.SessionToken)
	tampered[len(tampered)/2] ^= 0x01
	if tampered[len(tampered)/2] == '=' || tampered[len(tampered)/2] > 'z' {
		tampered[len(tampered)/2] = 'A'
	}
	cases := map[string]struct {
		akid, secret, token string
		code                string
		status              int
		msg                 string
	}{
		"tampered token":             {*a.AccessKeyId, *a.SecretAccessKey, string(tampered), "InvalidClientTokenId", 403, "The security token included in the request is invalid."},
		"token of another session":   {*a.AccessKeyId, *a.SecretAccessKey, *b.SessionToken, "InvalidClientTokenId", 403, "invalid"},
		"token not base64":           {*a.AccessKeyId, *a.SecretAccessKey, "%%%not-a-token%%%", "InvalidClientTokenId", 403, "invalid"},
		"token with a long-term key": {"test", "test", *a.SessionToken, "InvalidClientTokenId", 403, "invalid"},
		"wrong secret":               {*a.AccessKeyId, *b.SecretAccessKey, *a.SessionToken, "SignatureDoesNotMatch", 403, "signature"},
		"session key without token":  {*a.AccessKeyId, *a.SecretAccessKey, "", "InvalidClientTokenId", 403, "invalid"},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			c := awssts.NewFromConfig(e.config(tc.akid, tc.secret, tc.token))
			_, err := c.GetCallerIdentity(ctx, &awssts.GetCallerIdentityInput{})
			wantError(t, err, tc.code, tc.status, tc.msg)
		})
	}
}

// TestExpiredToken: after its expiration a session gets ExpiredToken, in
// the query protocol's and the json protocol's spelling.
func TestExpiredToken(t *testing.T) {
	ctx := context.Background()
	e := start(t)
	alice := e.user("alice", allowSTS)
	role := e.role("/", "app", trustUser(userARN("alice")), 0, allowSTS)
	out, err := alice.AssumeRole(ctx, &awssts.AssumeRoleInput{RoleArn: aws.String(role.ARN), RoleSessionName: aws.String("short"), DurationSeconds: aws.Int32(900)})
	if err != nil {
		t.Fatal(err)
	}
	c := out.Credentials
	cases := []struct {
		name        string
		after       time.Duration
		wantStatus  int
		wantCode    string
		jsonService bool
	}{
		{"query, one second before expiry", 899 * time.Second, 200, "", false},
		{"query, at expiry", 900 * time.Second, 400, "ExpiredToken", false},
		{"json (kms), after expiry", 901 * time.Second, 400, "ExpiredTokenException", true},
		{"json (kms), before expiry: authenticated, then not served", 10 * time.Second, 501, "NotImplemented", true},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			e.mu.Lock()
			e.now = c.Expiration.Add(-900 * time.Second).Add(tc.after)
			e.mu.Unlock()
			status, code, msg := e.signedCall(t, c, tc.jsonService)
			if status != tc.wantStatus || code != tc.wantCode {
				t.Fatalf("status %d code %q (%s); want %d %q", status, code, msg, tc.wantStatus, tc.wantCode)
			}
			if tc.wantCode == "ExpiredToken" || tc.wantCode == "ExpiredTokenException" {
				if msg != "The security token included in the request is expired" {
					t.Errorf("message = %q", msg)
				}
			}
		})
	}
}
