package sts_test

import (
	"context"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	awssts "github.com/aws/aws-sdk-go-v2/service/sts"
)

// BenchmarkAssumeRoleWithWebIdentity measures a whole AssumeRoleWithWebIdentity
// through the SDK over loopback, with the issuer's keys cached: JWT parse,
// RS256 verification, trust-policy evaluation for the federated caller, and
// a sealed session.
func BenchmarkAssumeRoleWithWebIdentity(b *testing.B) {
	ctx := context.Background()
	e := start(b)
	is := newIssuer(b, false)
	is.publish("k1", rsaKey(b, 0))
	prov := e.register(is, nil, "app")
	role := e.role("/", "web", trustFederated(prov.ARN, ""), 0)
	tok := sign(b, rsaKey(b, 0), "RS256", "k1", map[string]any{"iss": is.URL, "sub": "u", "aud": "app", "exp": e.clock().Add(time.Hour).Unix()})
	c := e.anonymous()
	in := &awssts.AssumeRoleWithWebIdentityInput{RoleArn: &role.ARN, RoleSessionName: aws.String("bench"), WebIdentityToken: &tok}
	if _, err := c.AssumeRoleWithWebIdentity(ctx, in); err != nil {
		b.Fatal(err)
	}
	b.ResetTimer()
	for b.Loop() {
		if _, err := c.AssumeRoleWithWebIdentity(ctx, in); err != nil {
			b.Fatal(err)
		}
	}
}
