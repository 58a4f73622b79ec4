package organizations

import (
	"context"

	"github.com/rampart/rampart/internal/service"

	orgapi "github.com/rampart/rampart/internal/api/organizations"
)

// Effective policy validation. AWS reports accounts whose effective
// management policy (tag, backup, … policy) cannot be computed, for
// instance because a child policy uses an inheritance operator that a
// parent forbids with "@@operators_allowed_for_child_policies". rampart's
// merge (see DescribeEffectivePolicy) allows every operator at every level
// and every stored policy is a JSON object, so an effective policy always
// computes: these operations answer, truthfully, that there is nothing
// invalid, once they have checked what AWS checks.

// appliesTo reports whether a policy of type typ is attached to the root,
// an OU on the account's path or the account itself.
func (o *org) appliesTo(typ, account string) bool {
	a := o.Accounts[account]
	if a == nil || !o.enabled(typ) {
		return false
	}
	for _, level := range append(o.chain(a.Parent), account) {
		for _, id := range o.Attached[level] {
			if p := o.policy(id); p != nil && p.Type == typ {
				return true
			}
		}
	}
	return false
}

// ListAccountsWithInvalidEffectivePolicy lists the accounts whose
// effective policy of a type is invalid: none in rampart.
func (s *Service) ListAccountsWithInvalidEffectivePolicy(ctx context.Context, in *orgapi.ListAccountsWithInvalidEffectivePolicyRequest) (*orgapi.ListAccountsWithInvalidEffectivePolicyResponse, error) {
	out := &orgapi.ListAccountsWithInvalidEffectivePolicyResponse{PolicyType: in.PolicyType}
	err := s.view(ctx, readOnly, func(_ *service.Call, o *org) error {
		var invalid []orgapi.Account // an effective policy always computes (see above)
		items, next, err := page(invalid, accountKey, in.NextToken, in.MaxResults, 20)
		out.Accounts, out.NextToken = nonNil(items), next
		return err
	})
	if err != nil {
		return nil, err
	}
	return out, nil
}

// ListEffectivePolicyValidationErrors lists the validation errors of an
// account's effective policy of a type: none in rampart, once the account
// exists and a policy of that type applies to it.
func (s *Service) ListEffectivePolicyValidationErrors(ctx context.Context, in *orgapi.ListEffectivePolicyValidationErrorsRequest) (*orgapi.ListEffectivePolicyValidationErrorsResponse, error) {
	out := &orgapi.ListEffectivePolicyValidationErrorsResponse{AccountId: in.AccountId, PolicyType: in.PolicyType}
	err := s.view(ctx, readOnly, func(c *service.Call, o *org) error {
		id, typ := str(in.AccountId), string(in.PolicyType)
		a := o.Accounts[id]
		if a == nil {
			return errAccountNotFound()
		}
		if !o.appliesTo(typ, id) {
			return orgapi.NewEffectivePolicyNotFoundException("We can't find an effective policy of type %s for the account %s: no policy of that type applies to it.", typ, id)
		}
		out.Path = ptr(o.path(a.Parent) + id + "/")
		out.EvaluationTimestamp = ptr(c.Now)
		var errs []orgapi.EffectivePolicyValidationError
		items, next, err := page(errs, func(orgapi.EffectivePolicyValidationError) string { return "" }, in.NextToken, in.MaxResults, 20)
		out.EffectivePolicyValidationErrors, out.NextToken = nonNil(items), next
		return err
	})
	if err != nil {
		return nil, err
	}
	return out, nil
}
