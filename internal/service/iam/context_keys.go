package iam

import (
	"context"

	"github.com/rampart/rampart/internal/policy"
	"github.com/rampart/rampart/internal/service"
	"github.com/rampart/rampart/internal/store"

	iamapi "github.com/rampart/rampart/internal/api/iam"
)

// contextKeys lists the context keys policies refer to (conditions and
// policy variables), each once, in order of appearance.
func contextKeys(ps []*policy.Policy) []string {
	out := []string{}
	seen := map[string]bool{}
	for _, p := range ps {
		for _, k := range p.ContextKeys() {
			if lk := lowerASCII(k); !seen[lk] {
				seen[lk] = true
				out = append(out, k)
			}
		}
	}
	return out
}

func lowerASCII(s string) string {
	b := []byte(s)
	for i, c := range b {
		if 'A' <= c && c <= 'Z' {
			b[i] = c + 'a' - 'A'
		}
	}
	return string(b)
}

func parseInputs(docs []string) ([]*policy.Policy, error) {
	out := make([]*policy.Policy, 0, len(docs))
	for _, d := range docs {
		p, err := validateDoc(d, policy.KindManaged)
		if err != nil {
			return nil, err
		}
		out = append(out, p)
	}
	return out, nil
}

// GetContextKeysForCustomPolicy lists the context keys the given policies use.
func (s *Service) GetContextKeysForCustomPolicy(ctx context.Context, in *iamapi.GetContextKeysForCustomPolicyRequest) (*iamapi.GetContextKeysForPolicyResponse, error) {
	ps, err := parseInputs(in.PolicyInputList)
	if err != nil {
		return nil, err
	}
	return &iamapi.GetContextKeysForPolicyResponse{ContextKeyNames: contextKeys(ps)}, nil
}

// GetContextKeysForPrincipalPolicy lists the context keys used by the
// policies of a user (with its groups'), group or role, and by any given.
func (s *Service) GetContextKeysForPrincipalPolicy(ctx context.Context, in *iamapi.GetContextKeysForPrincipalPolicyRequest) (*iamapi.GetContextKeysForPolicyResponse, error) {
	extra, err := parseInputs(in.PolicyInputList)
	if err != nil {
		return nil, err
	}
	acct := service.CallFrom(ctx).Principal.Account
	var ps []*policy.Policy
	err = s.store.View(ctx, func(tx store.Tx) error {
		e, err := entityByARN(tx, acct, str(in.PolicySourceArn))
		if err != nil {
			return err
		}
		pp, err := s.gather(tx, e)
		if err != nil {
			return err
		}
		ps = append(ps, pp.Identity...)
		if pp.Boundary != nil {
			ps = append(ps, pp.Boundary)
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	return &iamapi.GetContextKeysForPolicyResponse{ContextKeyNames: contextKeys(append(ps, extra...))}, nil
}
