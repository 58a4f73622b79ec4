package authz

import (
	"context"
	"fmt"
	"strings"

	"github.com/rampart/rampart/internal/policy"
)

// Federated callers: the web identities (OIDC, Cognito, social providers)
// and SAML subjects that call sts:AssumeRoleWithWebIdentity and
// sts:AssumeRoleWithSAML. They are not IAM principals: they have no
// account, no identity policies and no SCPs; only the role's trust policy
// can let them in, through a statement whose Principal is
// {"Federated": "<provider ARN or name>"} (or "*"), and the RCPs of the
// role's account can keep them out ("Policy evaluation logic", IAM User
// Guide). The policy engine knows them as [policy.PrincipalWebIdentity]
// and [policy.PrincipalSAML] callers named by their provider.

// FederatedChecker is a Checker that can also decide for federated callers.
// The Authorizer implements it.
type FederatedChecker interface {
	// AuthorizeFederated decides r (its Principal is ignored) for the
	// federated caller identified by provider (an OIDC or SAML provider
	// ARN, or a provider name such as "accounts.google.com"). r.Resource
	// must be the role, with its trust policy (PolicyKind "trust"); r.Keys
	// carry the provider's condition keys (<provider>:sub, saml:aud, …).
	// It returns nil when allowed, a *Denied when not.
	AuthorizeFederated(ctx context.Context, r *Request, provider string) error
}

var _ FederatedChecker = (*Authorizer)(nil)

// AuthorizeFederated implements FederatedChecker. The trust policy is
// parsed once and cached with the other resource policies.
func (a *Authorizer) AuthorizeFederated(ctx context.Context, r *Request, provider string) error {
	return authorizeFederated(ctx, a.guard, r, provider, a.resourcePolicy)
}

// AuthorizeFederated decides r for a federated caller, as
// [Authorizer.AuthorizeFederated] does, with the RCPs of guard (nil: no
// organization); it parses the trust policy on every call. The denial
// message is STS's: "Not authorized to perform <action>".
func AuthorizeFederated(ctx context.Context, guard Guardrails, r *Request, provider string) error {
	return authorizeFederated(ctx, guard, r, provider, func(res *Resource) (*policy.Policy, error) {
		p, err := policy.Parse(res.Policy, policy.KindTrust)
		if err != nil {
			return nil, fmt.Errorf("authz: policy of %s: %w", res.ARN, err)
		}
		return p, nil
	})
}

func authorizeFederated(ctx context.Context, guard Guardrails, r *Request, provider string,
	parse func(*Resource) (*policy.Policy, error)) error {
	deny := &Denied{Message: "Not authorized to perform " + r.Action}
	res := r.Resource
	if res == nil || res.PolicyKind != "trust" || len(res.Policy) == 0 || provider == "" {
		return deny
	}
	trust, err := parse(res)
	if err != nil {
		return err
	}
	in := &policy.Input{Resource: trust}
	if guard != nil && res.Account != "" {
		org, err := guard.OrgPolicies(ctx, res.Account)
		if err != nil {
			return fmt.Errorf("authz: organization policies of %s: %w", res.Account, err)
		}
		if org != nil {
			in.RCPs = org.RCPs
			in.ResourceInManagementAccount = org.Management
		}
	}
	// The provider tells the two apart, whatever the action (sts:TagSession
	// is asked for the same caller).
	pt := policy.PrincipalWebIdentity
	if strings.Contains(provider, ":saml-provider/") {
		pt = policy.PrincipalSAML
	}
	preq := &policy.Request{
		Principal:       policy.Principal{Type: pt, Provider: provider},
		Action:          r.Action,
		Resource:        res.ARN,
		ResourceAccount: res.Account,
		Context:         policy.NewContext(contextSize(r)),
	}
	fillContext(preq.Context, r, nil, nil, res, nil)
	if d := policy.Evaluate(preq, in); !d.Allowed() {
		return deny
	}
	return nil
}
