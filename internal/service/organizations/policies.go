package organizations

import (
	"context"
	"encoding/json"
	"errors"
	"slices"
	"sort"

	"github.com/rampart/rampart/internal/awsproto"
	"github.com/rampart/rampart/internal/policy"
	"github.com/rampart/rampart/internal/service"
	"github.com/rampart/rampart/internal/store"

	orgapi "github.com/rampart/rampart/internal/api/organizations"
)

func errPolicyNotFound() error {
	return orgapi.NewPolicyNotFoundException("We can't find a policy with the PolicyId that you specified.")
}

func errTargetNotFound() error {
	return orgapi.NewTargetNotFoundException("We can't find a root, OU, account, or policy with the TargetId that you specified.")
}

func errTypeNotEnabled(typ string) error {
	return orgapi.NewPolicyTypeNotEnabledException("The given policy type %s is not enabled on the current root.", typ)
}

func errImmutable() error {
	return orgapi.NewInvalidInputException("You specified a policy that is managed by AWS and can't be modified.").With("Reason", "IMMUTABLE_POLICY")
}

// isTarget reports whether id names the root, an OU or an account of o.
func (o *org) isTarget(id string) bool {
	return o.isParent(id) || o.Accounts[id] != nil
}

// kindOf is the policy-engine kind that validates a policy type's content.
func kindOf(typ string) (policy.Kind, bool) {
	switch typ {
	case typeSCP:
		return policy.KindSCP, true
	case typeRCP:
		return policy.KindRCP, true
	}
	return 0, false
}

// checkContent validates a policy document of the given type: SCPs and
// RCPs by the IAM policy engine (which also counts the size as AWS counts
// it, without white space), the others as JSON objects within their size.
func checkContent(typ, content string) error {
	if kind, ok := kindOf(typ); ok {
		_, err := policy.Parse([]byte(content), kind)
		var pe *policy.Error
		switch {
		case err == nil:
			return nil
		case errors.As(err, &pe) && pe.Code == "LimitExceeded":
			return orgapi.NewConstraintViolationException("You attempted to create a policy larger than the maximum size of %d characters.", policyTypes[typ]).With("Reason", "POLICY_CONTENT_LIMIT_EXCEEDED")
		case errors.As(err, &pe):
			return orgapi.NewMalformedPolicyDocumentException("%s", pe.Message)
		default:
			return orgapi.NewMalformedPolicyDocumentException("The provided policy document does not meet the requirements of the specified policy type.")
		}
	}
	if policy.CountSize([]byte(content)) > policyTypes[typ] {
		return orgapi.NewConstraintViolationException("You attempted to create a policy larger than the maximum size of %d characters.", policyTypes[typ]).With("Reason", "POLICY_CONTENT_LIMIT_EXCEEDED")
	}
	var obj map[string]any
	if json.Unmarshal([]byte(content), &obj) != nil {
		return orgapi.NewMalformedPolicyDocumentException("The provided policy document does not meet the requirements of the specified policy type.")
	}
	return nil
}

func checkType(typ string) error {
	if _, ok := policyTypes[typ]; !ok {
		return orgapi.NewPolicyTypeNotAvailableForOrganizationException("You can't use the specified policy type %s with the feature set currently enabled for this organization.", typ)
	}
	return nil
}

// EnablePolicyType enables a policy type on the root. Enabling service
// control policies attaches FullAWSAccess to the root, every OU and every
// account; resource control policies, RCPFullAWSAccess likewise.
func (s *Service) EnablePolicyType(ctx context.Context, in *orgapi.EnablePolicyTypeRequest) (*orgapi.EnablePolicyTypeResponse, error) {
	var out orgapi.Root
	err := s.update(ctx, managerOnly, func(_ store.Tx, _ *service.Call, o *org) error {
		typ := string(in.PolicyType)
		if str(in.RootId) != o.RootID {
			return orgapi.NewRootNotFoundException("We can't find a root with the RootId that you specified.")
		}
		if err := checkType(typ); err != nil {
			return err
		}
		if o.FeatureSet != string(orgapi.OrganizationFeatureSetAll) {
			return orgapi.NewPolicyTypeNotAvailableForOrganizationException("You can't use the specified policy type %s with the feature set currently enabled for this organization.", typ)
		}
		if o.enabled(typ) {
			return orgapi.NewPolicyTypeAlreadyEnabledException("The specified policy type %s is already enabled.", typ)
		}
		o.PolicyTypes = append(o.PolicyTypes, typ)
		sort.Strings(o.PolicyTypes)
		if id := defaultPolicy[typ]; id != "" {
			targets := []string{o.RootID}
			for u := range o.OUs {
				targets = append(targets, u)
			}
			for a := range o.Accounts {
				targets = append(targets, a)
			}
			for _, t := range targets {
				o.Attached[t] = append(o.Attached[t], id)
			}
		}
		out = o.apiRoot()
		return nil
	})
	if err != nil {
		return nil, err
	}
	return &orgapi.EnablePolicyTypeResponse{Root: &out}, nil
}

// DisablePolicyType disables a policy type on the root, detaching every
// policy of that type from every target.
func (s *Service) DisablePolicyType(ctx context.Context, in *orgapi.DisablePolicyTypeRequest) (*orgapi.DisablePolicyTypeResponse, error) {
	var out orgapi.Root
	err := s.update(ctx, managerOnly, func(_ store.Tx, _ *service.Call, o *org) error {
		typ := string(in.PolicyType)
		if str(in.RootId) != o.RootID {
			return orgapi.NewRootNotFoundException("We can't find a root with the RootId that you specified.")
		}
		if !o.enabled(typ) {
			return errTypeNotEnabled(typ)
		}
		o.PolicyTypes = slices.DeleteFunc(o.PolicyTypes, func(t string) bool { return t == typ })
		for target, ids := range o.Attached {
			ids = slices.DeleteFunc(ids, func(id string) bool { p := o.policy(id); return p == nil || p.Type == typ })
			if len(ids) == 0 {
				delete(o.Attached, target)
			} else {
				o.Attached[target] = ids
			}
		}
		out = o.apiRoot()
		return nil
	})
	if err != nil {
		return nil, err
	}
	return &orgapi.DisablePolicyTypeResponse{Root: &out}, nil
}

// CreatePolicy creates a customer managed policy.
func (s *Service) CreatePolicy(ctx context.Context, in *orgapi.CreatePolicyRequest) (*orgapi.CreatePolicyResponse, error) {
	c := service.CallFrom(ctx)
	if err := checkTagAccess(ctx, c, in.Tags); err != nil {
		return nil, err
	}
	tags, err := tagMap(in.Tags)
	if err != nil {
		return nil, err
	}
	typ, content := string(in.Type), str(in.Content)
	var out *orgapi.Policy
	err = s.update(ctx, managerOnly, func(_ store.Tx, c *service.Call, o *org) error {
		if err := checkType(typ); err != nil {
			return err
		}
		if o.FeatureSet != string(orgapi.OrganizationFeatureSetAll) {
			return orgapi.NewPolicyTypeNotAvailableForOrganizationException("You can't use the specified policy type %s with the feature set currently enabled for this organization.", typ)
		}
		if err := checkContent(typ, content); err != nil {
			return err
		}
		n := 0
		for _, p := range o.Policies {
			if p.Type == typ {
				n++
				if p.Name == str(in.Name) {
					return orgapi.NewDuplicatePolicyException("A policy with the same name already exists.")
				}
			}
		}
		for _, p := range managed {
			if p.Type == typ && p.Name == str(in.Name) {
				return orgapi.NewDuplicatePolicyException("A policy with the same name already exists.")
			}
		}
		if n >= maxPoliciesPerType {
			return orgapi.NewConstraintViolationException("You attempted to exceed the number of policies of type %s that you can have in an organization.", typ).With("Reason", "POLICY_NUMBER_LIMIT_EXCEEDED")
		}
		id, err := newPolicyID(c, o)
		if err != nil {
			return err
		}
		p := &storedPolicy{ID: id, Name: str(in.Name), Description: str(in.Description), Type: typ, Content: content, Tags: tags, Updated: c.Now}
		o.Policies[id] = p
		out = o.apiPolicy(p)
		return nil
	})
	if err != nil {
		return nil, err
	}
	return &orgapi.CreatePolicyResponse{Policy: out}, nil
}

// UpdatePolicy changes a customer managed policy's name, description or
// content; the change applies to every target on the next request.
func (s *Service) UpdatePolicy(ctx context.Context, in *orgapi.UpdatePolicyRequest) (*orgapi.UpdatePolicyResponse, error) {
	var out *orgapi.Policy
	err := s.update(ctx, managerOnly, func(_ store.Tx, c *service.Call, o *org) error {
		id := str(in.PolicyId)
		if managed[id] != nil {
			return errImmutable()
		}
		p := o.Policies[id]
		if p == nil {
			return errPolicyNotFound()
		}
		p.Updated = c.Now
		if in.Name != nil && *in.Name != p.Name {
			for _, q := range o.Policies {
				if q.Type == p.Type && q.Name == *in.Name {
					return orgapi.NewDuplicatePolicyException("A policy with the same name already exists.")
				}
			}
			p.Name = *in.Name
		}
		if in.Description != nil {
			p.Description = *in.Description
		}
		if in.Content != nil {
			if err := checkContent(p.Type, *in.Content); err != nil {
				return err
			}
			p.Content = *in.Content
		}
		out = o.apiPolicy(p)
		return nil
	})
	if err != nil {
		return nil, err
	}
	return &orgapi.UpdatePolicyResponse{Policy: out}, nil
}

// DeletePolicy deletes a customer managed policy that is attached nowhere.
func (s *Service) DeletePolicy(ctx context.Context, in *orgapi.DeletePolicyRequest) (*awsproto.Empty, error) {
	err := s.update(ctx, managerOnly, func(_ store.Tx, _ *service.Call, o *org) error {
		id := str(in.PolicyId)
		if managed[id] != nil {
			return errImmutable()
		}
		if o.Policies[id] == nil {
			return errPolicyNotFound()
		}
		if len(o.targetsOf(id)) > 0 {
			return orgapi.NewPolicyInUseException("The policy is attached to one or more entities. You must detach it from all roots, OUs, and accounts before performing this operation.")
		}
		delete(o.Policies, id)
		return nil
	})
	if err != nil {
		return nil, err
	}
	return &awsproto.Empty{}, nil
}

// DescribePolicy returns a policy, AWS managed ones included.
func (s *Service) DescribePolicy(ctx context.Context, in *orgapi.DescribePolicyRequest) (*orgapi.DescribePolicyResponse, error) {
	var out *orgapi.Policy
	err := s.view(ctx, readOnly, func(_ *service.Call, o *org) error {
		p := o.policy(str(in.PolicyId))
		if p == nil {
			return errPolicyNotFound()
		}
		out = o.apiPolicy(p)
		return nil
	})
	if err != nil {
		return nil, err
	}
	return &orgapi.DescribePolicyResponse{Policy: out}, nil
}

func policyKey(p orgapi.PolicySummary) string { return *p.Id }

// ListPolicies lists the policies of one type, AWS managed ones included.
func (s *Service) ListPolicies(ctx context.Context, in *orgapi.ListPoliciesRequest) (*orgapi.ListPoliciesResponse, error) {
	out := &orgapi.ListPoliciesResponse{}
	err := s.view(ctx, readOnly, func(_ *service.Call, o *org) error {
		var all []orgapi.PolicySummary
		for _, src := range []map[string]*storedPolicy{managed, o.Policies} {
			for _, p := range src {
				if p.Type == string(in.Filter) {
					all = append(all, *o.apiPolicySummary(p))
				}
			}
		}
		sort.Slice(all, func(i, j int) bool { return *all[i].Id < *all[j].Id })
		items, next, err := page(all, policyKey, in.NextToken, in.MaxResults, 20)
		out.Policies, out.NextToken = nonNil(items), next
		return err
	})
	if err != nil {
		return nil, err
	}
	return out, nil
}

// countType counts the policies of typ attached to target.
func (o *org) countType(target, typ string) int {
	n := 0
	for _, id := range o.Attached[target] {
		if p := o.policy(id); p != nil && p.Type == typ {
			n++
		}
	}
	return n
}

// targetsOf returns the targets a policy is attached to, sorted.
func (o *org) targetsOf(policyID string) []string {
	var out []string
	for t, ids := range o.Attached {
		if slices.Contains(ids, policyID) {
			out = append(out, t)
		}
	}
	sort.Strings(out)
	return out
}

// AttachPolicy attaches a policy to the root, an OU or an account.
func (s *Service) AttachPolicy(ctx context.Context, in *orgapi.AttachPolicyRequest) (*awsproto.Empty, error) {
	err := s.update(ctx, managerOnly, func(_ store.Tx, _ *service.Call, o *org) error {
		pid, target := str(in.PolicyId), str(in.TargetId)
		p := o.policy(pid)
		if p == nil {
			return errPolicyNotFound()
		}
		if !o.isTarget(target) {
			return errTargetNotFound()
		}
		if !o.enabled(p.Type) {
			return errTypeNotEnabled(p.Type)
		}
		if slices.Contains(o.Attached[target], pid) {
			return orgapi.NewDuplicatePolicyAttachmentException("The selected policy is already attached to the specified target.")
		}
		if o.countType(target, p.Type) >= maxAttachments {
			return orgapi.NewConstraintViolationException("You attempted to exceed the number of policies of type %s that can be attached to an entity at one time; the maximum is %d.", p.Type, maxAttachments).With("Reason", "MAX_POLICY_TYPE_ATTACHMENT_LIMIT_EXCEEDED")
		}
		o.Attached[target] = append(o.Attached[target], pid)
		return nil
	})
	if err != nil {
		return nil, err
	}
	return &awsproto.Empty{}, nil
}

// DetachPolicy detaches a policy from a target. A target keeps at least one
// SCP while SCPs are enabled, and RCPFullAWSAccess cannot be detached.
func (s *Service) DetachPolicy(ctx context.Context, in *orgapi.DetachPolicyRequest) (*awsproto.Empty, error) {
	err := s.update(ctx, managerOnly, func(_ store.Tx, _ *service.Call, o *org) error {
		pid, target := str(in.PolicyId), str(in.TargetId)
		p := o.policy(pid)
		if p == nil {
			return errPolicyNotFound()
		}
		if !o.isTarget(target) {
			return errTargetNotFound()
		}
		if !slices.Contains(o.Attached[target], pid) {
			return orgapi.NewPolicyNotAttachedException("The policy isn't attached to the specified target in the specified root.")
		}
		if nonDetachable[pid] {
			return orgapi.NewInvalidInputException("You can't detach this AWS Managed Policy.").With("Reason", "NON_DETACHABLE_POLICY")
		}
		if p.Type == typeSCP && o.countType(target, typeSCP) <= 1 {
			return orgapi.NewConstraintViolationException("You attempted to detach a policy from an entity that would cause the entity to have fewer than the minimum number of policies of type %s required: attach another SCP before you detach this one.", typeSCP).With("Reason", "MIN_POLICY_TYPE_ATTACHMENT_LIMIT_EXCEEDED")
		}
		o.Attached[target] = slices.DeleteFunc(o.Attached[target], func(id string) bool { return id == pid })
		return nil
	})
	if err != nil {
		return nil, err
	}
	return &awsproto.Empty{}, nil
}

// ListPoliciesForTarget lists the policies of one type attached directly
// to a target.
func (s *Service) ListPoliciesForTarget(ctx context.Context, in *orgapi.ListPoliciesForTargetRequest) (*orgapi.ListPoliciesForTargetResponse, error) {
	out := &orgapi.ListPoliciesForTargetResponse{}
	err := s.view(ctx, readOnly, func(_ *service.Call, o *org) error {
		target := str(in.TargetId)
		if !o.isTarget(target) {
			return errTargetNotFound()
		}
		var all []orgapi.PolicySummary
		for _, id := range o.Attached[target] {
			if p := o.policy(id); p != nil && p.Type == string(in.Filter) {
				all = append(all, *o.apiPolicySummary(p))
			}
		}
		sort.Slice(all, func(i, j int) bool { return *all[i].Id < *all[j].Id })
		items, next, err := page(all, policyKey, in.NextToken, in.MaxResults, 20)
		out.Policies, out.NextToken = nonNil(items), next
		return err
	})
	if err != nil {
		return nil, err
	}
	return out, nil
}

// ListTargetsForPolicy lists the roots, OUs and accounts a policy is
// attached to.
func (s *Service) ListTargetsForPolicy(ctx context.Context, in *orgapi.ListTargetsForPolicyRequest) (*orgapi.ListTargetsForPolicyResponse, error) {
	out := &orgapi.ListTargetsForPolicyResponse{}
	err := s.view(ctx, readOnly, func(_ *service.Call, o *org) error {
		pid := str(in.PolicyId)
		if o.policy(pid) == nil {
			return errPolicyNotFound()
		}
		var all []orgapi.PolicyTargetSummary
		for _, t := range o.targetsOf(pid) {
			all = append(all, o.targetSummary(t))
		}
		items, next, err := page(all, func(t orgapi.PolicyTargetSummary) string { return *t.TargetId }, in.NextToken, in.MaxResults, 20)
		out.Targets, out.NextToken = nonNil(items), next
		return err
	})
	if err != nil {
		return nil, err
	}
	return out, nil
}

func (o *org) targetSummary(id string) orgapi.PolicyTargetSummary {
	switch targetKind(id) {
	case orgapi.TargetTypeRoot:
		return orgapi.PolicyTargetSummary{TargetId: ptr(id), Arn: ptr(o.rootARN()), Name: ptr("Root"), Type: orgapi.TargetTypeRoot}
	case orgapi.TargetTypeOrganizationalUnit:
		return orgapi.PolicyTargetSummary{TargetId: ptr(id), Arn: ptr(o.ouARN(id)), Name: ptr(o.OUs[id].Name), Type: orgapi.TargetTypeOrganizationalUnit}
	default:
		return orgapi.PolicyTargetSummary{TargetId: ptr(id), Arn: ptr(o.accountARN(id)), Name: ptr(o.Accounts[id].Name), Type: orgapi.TargetTypeAccount}
	}
}
