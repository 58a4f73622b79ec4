package organizations_test

import (
	"context"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/organizations"
	"github.com/aws/aws-sdk-go-v2/service/organizations/types"

	"github.com/rampart/rampart/internal/policy"
)

// The organization, its tree, policies and attachments survive a restart,
// and so do the guardrails.
func TestRestart(t *testing.T) {
	dir := t.TempDir()
	e := startDir(t, dir)
	o, root := e.setup(t)
	ou := e.newOU(t, root, "Locked")
	id := e.newAccount(t, "m")
	ctx := context.Background()
	_, err := e.org.MoveAccount(ctx, &organizations.MoveAccountInput{AccountId: aws.String(id), SourceParentId: aws.String(root), DestinationParentId: aws.String(ou)})
	mustOK(t, err, "MoveAccount")
	e.enable(t, root, types.PolicyTypeServiceControlPolicy)
	deny := e.createPolicy(t, "DenyKMS", denyKMS, types.PolicyTypeServiceControlPolicy)
	_, err = e.org.AttachPolicy(ctx, &organizations.AttachPolicyInput{PolicyId: aws.String(deny), TargetId: aws.String(ou)})
	mustOK(t, err, "AttachPolicy")
	e.stop()

	e = startDir(t, dir)
	d, err := e.org.DescribeOrganization(ctx, &organizations.DescribeOrganizationInput{})
	mustOK(t, err, "DescribeOrganization after restart")
	if aws.ToString(d.Organization.Id) != aws.ToString(o.Id) {
		t.Errorf("organization %s after restart, was %s", aws.ToString(d.Organization.Id), aws.ToString(o.Id))
	}
	p, err := e.org.ListParents(ctx, &organizations.ListParentsInput{ChildId: aws.String(id)})
	mustOK(t, err, "ListParents")
	if aws.ToString(p.Parents[0].Id) != ou {
		t.Errorf("account under %s after restart", aws.ToString(p.Parents[0].Id))
	}
	if d := e.decide(t, id, "kms:CreateKey"); d.Result != policy.ExplicitDeny {
		t.Errorf("kms:CreateKey after restart: %v", d.Result)
	}
}
