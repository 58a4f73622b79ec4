package kms

import (
	"context"

	"github.com/rampart/rampart/internal/awsproto"
	"github.com/rampart/rampart/internal/service"
	"github.com/rampart/rampart/internal/store"

	kmsapi "github.com/rampart/rampart/internal/api/kms"
)

// A key has one key policy, named "default".
const policyName = "default"

func checkPolicyName(n *string) error {
	if n != nil && *n != policyName {
		return kmsapi.NewNotFoundException("No such policy exists: %s", *n)
	}
	return nil
}

// GetKeyPolicy returns a key's policy document.
func (s *Service) GetKeyPolicy(ctx context.Context, in *kmsapi.GetKeyPolicyRequest) (*kmsapi.GetKeyPolicyResponse, error) {
	if err := checkPolicyName(in.PolicyName); err != nil {
		return nil, err
	}
	e, _, err := s.resolve(ctx, service.CallFrom(ctx), deref(in.KeyId), false)
	if err != nil {
		return nil, err
	}
	return &kmsapi.GetKeyPolicyResponse{Policy: ptr(e.rec.Policy), PolicyName: ptr(policyName)}, nil
}

// PutKeyPolicy replaces a customer managed key's policy, after the lockout
// safety check unless BypassPolicyLockoutSafetyCheck, and only when the
// principals the policy names exist. The policy is checked before the
// store transaction (the principals are looked up in IAM); the key's
// state is checked again within it.
func (s *Service) PutKeyPolicy(ctx context.Context, in *kmsapi.PutKeyPolicyRequest) (*awsproto.Empty, error) {
	if err := checkPolicyName(in.PolicyName); err != nil {
		return nil, err
	}
	c := service.CallFrom(ctx)
	e, ok := service.Found[*keyEntry](c, in)
	if !ok {
		var err error
		if e, _, err = s.resolve(ctx, c, deref(in.KeyId), false); err != nil {
			return nil, err
		}
	}
	if err := putPolicyAllowed(e.rec); err != nil {
		return nil, err
	}
	if err := s.checkKeyPolicy(ctx, c, e.rec, deref(in.Policy), in.BypassPolicyLockoutSafetyCheck); err != nil {
		return nil, err
	}
	_, err := s.updateKey(ctx, deref(in.KeyId), func(_ store.Tx, rec *keyRecord) error {
		if err := putPolicyAllowed(rec); err != nil {
			return err
		}
		rec.Policy = deref(in.Policy)
		return nil
	})
	if err != nil {
		return nil, err
	}
	return &awsproto.Empty{}, nil
}

// putPolicyAllowed refuses PutKeyPolicy on AWS managed keys and on keys
// pending deletion.
func putPolicyAllowed(rec *keyRecord) error {
	if err := managed(rec, "PutKeyPolicy"); err != nil {
		return err
	}
	return pendingDeletion(rec)
}

// ListKeyPolicies lists the names of a key's policies: always "default".
func (s *Service) ListKeyPolicies(ctx context.Context, in *kmsapi.ListKeyPoliciesRequest) (*kmsapi.ListKeyPoliciesResponse, error) {
	if _, _, err := s.resolve(ctx, service.CallFrom(ctx), deref(in.KeyId), false); err != nil {
		return nil, err
	}
	return &kmsapi.ListKeyPoliciesResponse{PolicyNames: []string{policyName}, Truncated: ptr(false)}, nil
}
