package organizations

import (
	"context"
	"encoding/json"
	"slices"
	"strings"
	"time"

	"github.com/rampart/rampart/internal/service"

	orgapi "github.com/rampart/rampart/internal/api/organizations"
)

// DescribeEffectivePolicy returns the policy of a management policy type
// (tag policies, backup policies, …) in effect for an account: the
// policies attached to the root, each OU on the account's path and the
// account itself, merged in that order with the inheritance operators
// ("Understanding management policy inheritance",
// https://docs.aws.amazon.com/organizations/latest/userguide/orgs_manage_policies_inheritance_mgmt.html):
// "@@assign" replaces the inherited value, "@@append" adds to it,
// "@@remove" takes values (or, with no value left, the key) away. The
// result shows the values, without operators. rampart does not enforce
// "@@operators_allowed_for_child_policies": every operator is allowed at
// every level.
//
// A member account may ask about itself; the management account and
// delegated administrators about any account.
func (s *Service) DescribeEffectivePolicy(ctx context.Context, in *orgapi.DescribeEffectivePolicyRequest) (*orgapi.DescribeEffectivePolicyResponse, error) {
	var out *orgapi.EffectivePolicy
	err := s.view(ctx, anyMember, func(c *service.Call, o *org) error {
		typ := string(in.PolicyType)
		target := str(in.TargetId)
		if target == "" {
			target = c.Principal.Account
		}
		if target != c.Principal.Account {
			if err := o.allow(c.Principal.Account, readOnly); err != nil {
				return err
			}
		}
		if targetKind(target) != orgapi.TargetTypeAccount {
			if o.isParent(target) {
				return orgapi.NewInvalidInputException("You can't perform the specified operation on that target entity.").With("Reason", "TARGET_NOT_SUPPORTED")
			}
			return errTargetNotFound()
		}
		a := o.Accounts[target]
		if a == nil {
			return errTargetNotFound()
		}
		notFound := orgapi.NewEffectivePolicyNotFoundException("We can't find an effective policy of type %s for the account %s: no policy of that type applies to it.", typ, target)
		if !o.enabled(typ) {
			return notFound
		}
		effective := map[string]any{}
		var updated time.Time
		found := false
		for _, level := range append(o.chain(a.Parent), target) {
			for _, id := range o.Attached[level] {
				p := o.policy(id)
				if p == nil || p.Type != typ {
					continue
				}
				var doc map[string]any
				if json.Unmarshal([]byte(p.Content), &doc) != nil {
					continue
				}
				mergeInto(effective, doc)
				found = true
				if p.Updated.After(updated) {
					updated = p.Updated
				}
			}
		}
		if !found {
			return notFound
		}
		content, err := json.Marshal(effective)
		if err != nil {
			return err
		}
		out = &orgapi.EffectivePolicy{PolicyContent: ptr(string(content)), TargetId: ptr(target), PolicyType: in.PolicyType, LastUpdatedTimestamp: ptr(updated)}
		return nil
	})
	if err != nil {
		return nil, err
	}
	return &orgapi.DescribeEffectivePolicyResponse{EffectivePolicy: out}, nil
}

// mergeInto applies one policy document to the inherited state.
func mergeInto(state, doc map[string]any) {
	for k, v := range doc {
		if strings.HasPrefix(k, "@@") {
			continue // @@operators_allowed_for_child_policies
		}
		obj, isObj := v.(map[string]any)
		if !isObj {
			state[k] = v
			continue
		}
		switch {
		case obj["@@assign"] != nil:
			state[k] = obj["@@assign"]
		case obj["@@append"] != nil:
			state[k] = union(asList(state[k]), asList(obj["@@append"]))
		case hasKey(obj, "@@remove"):
			rest := slices.DeleteFunc(asList(state[k]), func(x any) bool { return slices.Contains(asList(obj["@@remove"]), x) })
			if obj["@@remove"] == nil || len(rest) == 0 {
				delete(state, k)
			} else {
				state[k] = rest
			}
		default:
			sub, _ := state[k].(map[string]any)
			if sub == nil {
				sub = map[string]any{}
			}
			mergeInto(sub, obj)
			if len(sub) > 0 {
				state[k] = sub
			}
		}
	}
}

func hasKey(m map[string]any, k string) bool { _, ok := m[k]; return ok }

func asList(v any) []any {
	switch x := v.(type) {
	case nil:
		return nil
	case []any:
		return slices.Clone(x)
	default:
		return []any{x}
	}
}

func union(a, b []any) []any {
	for _, x := range b {
		if !slices.Contains(a, x) {
			a = append(a, x)
		}
	}
	return a
}
