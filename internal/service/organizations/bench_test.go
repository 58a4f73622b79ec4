package organizations_test

import (
	"context"
	"fmt"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/organizations"
	"github.com/aws/aws-sdk-go-v2/service/organizations/types"
)

// benchOrg builds an organization with an account five OUs deep and one
// more SCP on each of its seven levels (root, five OUs, the account), and
// returns that account.
func benchOrg(b *testing.B) (*env, string) {
	e := start(b)
	_, root := e.setup(b)
	e.enable(b, root, types.PolicyTypeServiceControlPolicy)
	levels := []string{root}
	for i := range 5 {
		levels = append(levels, e.newOU(b, levels[len(levels)-1], fmt.Sprintf("L%d", i)))
	}
	id := e.newAccount(b, "deep")
	ctx := context.Background()
	_, err := e.org.MoveAccount(ctx, &organizations.MoveAccountInput{AccountId: aws.String(id), SourceParentId: aws.String(root), DestinationParentId: aws.String(levels[5])})
	mustOK(b, err, "MoveAccount")
	for i, target := range append(levels, id) {
		p := e.createPolicy(b, fmt.Sprintf("Deny%d", i), fmt.Sprintf(`{"Version":"2012-10-17","Statement":[{"Effect":"Deny","Action":"kms:Op%d","Resource":"*"}]}`, i), types.PolicyTypeServiceControlPolicy)
		_, err := e.org.AttachPolicy(ctx, &organizations.AttachPolicyInput{PolicyId: aws.String(p), TargetId: aws.String(target)})
		mustOK(b, err, "AttachPolicy")
	}
	return e, id
}

// BenchmarkOrgPoliciesCached is the authorizer's hot path: the guardrails
// of an account, from memory.
func BenchmarkOrgPoliciesCached(b *testing.B) {
	e, id := benchOrg(b)
	ctx := context.Background()
	if _, err := e.guard.OrgPolicies(ctx, id); err != nil {
		b.Fatal(err)
	}
	b.ReportAllocs()
	b.ResetTimer()
	for b.Loop() {
		if _, err := e.guard.OrgPolicies(ctx, id); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkOrgPoliciesAfterChange is the first request after a change to
// the organization: read the document, walk seven levels (policies already
// parsed).
func BenchmarkOrgPoliciesAfterChange(b *testing.B) {
	e, id := benchOrg(b)
	ctx := context.Background()
	b.ReportAllocs()
	b.ResetTimer()
	for b.Loop() {
		e.guard.Invalidate()
		if _, err := e.guard.OrgPolicies(ctx, id); err != nil {
			b.Fatal(err)
		}
	}
}
