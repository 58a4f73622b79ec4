package authz

import (
	"context"

	"github.com/rampart/rampart/internal/policy"
)

// The authorizer gathers policies from the services that own them. Each
// source is an interface declared here, by its consumer, and implemented by
// the owning service package; internal/app wires them together.

// Identities gives the identity-based side of a principal. The IAM service
// implements it.
type Identities interface {
	// PrincipalPolicies returns the identity-based policies (inline,
	// attached, and through groups), the permissions boundary and the tags
	// of p: of the user, or of the role behind a role session.
	PrincipalPolicies(ctx context.Context, p *Principal) (*PrincipalPolicies, error)
}

// PrincipalPolicies is the identity-based side of a principal.
type PrincipalPolicies struct {
	Identity []*policy.Policy
	Boundary *policy.Policy // nil: none
	Tags     map[string]string
}

// Guardrails gives the organization policies that apply to an account. The
// Organizations service implements it.
type Guardrails interface {
	// OrgPolicies returns the organization context of account; nil (and no
	// error) when the account belongs to no organization.
	OrgPolicies(ctx context.Context, account string) (*OrgPolicies, error)
}

// OrgPolicies is what an organization imposes on one account.
type OrgPolicies struct {
	OrgID      string   // aws:PrincipalOrgID / aws:ResourceOrgID
	Paths      []string // aws:PrincipalOrgPaths: "o-…/r-…/ou-…/"
	Management bool     // the organization's management account: SCPs and RCPs do not apply
	// SCPs and RCPs by level, the root first and the account last; a
	// level whose policy type is disabled is absent.
	SCPs, RCPs [][]*policy.Policy
}
