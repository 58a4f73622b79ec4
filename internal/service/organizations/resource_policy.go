package organizations

import (
	"context"
	"encoding/json"
	"errors"
	"strings"

	"github.com/rampart/rampart/internal/awsproto"
	"github.com/rampart/rampart/internal/policy"
	"github.com/rampart/rampart/internal/service"
	"github.com/rampart/rampart/internal/store"

	orgapi "github.com/rampart/rampart/internal/api/organizations"
)

// The organization's resource policy delegates Organizations actions to
// member accounts ("Delegated administrator for AWS Organizations",
// https://docs.aws.amazon.com/organizations/latest/userguide/orgs-policy-delegate.html).
// It is a resource-based policy, validated by the IAM policy engine, whose
// actions are Organizations actions. A member account's principal may call
// a read-only operation (Describe…, List…) or a policy-management
// operation ([delegatable]) when the policy allows it that action: the
// authorizer has already required the principal's own identity policies
// to allow it, as AWS requires across accounts. Statements are matched
// against the organization's ARN as resource, without condition keys, so
// a statement limited to other resources or by conditions grants nothing.

func (o *org) resourcePolicyARN() string {
	return "arn:aws:organizations::" + o.Management + ":resourcepolicy/" + o.ID + "/" + o.ResourcePolicy.ID
}

func (o *org) apiResourcePolicy() *orgapi.ResourcePolicy {
	rp := o.ResourcePolicy
	return &orgapi.ResourcePolicy{
		ResourcePolicySummary: &orgapi.ResourcePolicySummary{Id: ptr(rp.ID), Arn: ptr(o.resourcePolicyARN())},
		Content:               ptr(rp.Content),
	}
}

func errNoResourcePolicy() error {
	return orgapi.NewResourcePolicyNotFoundException("We can't find a resource policy request with the parameter that you specified.")
}

// checkResourcePolicy validates the content of an organization's resource
// policy: a resource-based policy (Principal required), every action an
// Organizations action.
func checkResourcePolicy(content string) error {
	if _, err := policy.Parse([]byte(content), policy.KindResource); err != nil {
		var pe *policy.Error
		switch {
		case errors.As(err, &pe) && pe.Code == "LimitExceeded":
			return orgapi.NewConstraintViolationException("You attempted to create a policy larger than the maximum size.").With("Reason", "POLICY_CONTENT_LIMIT_EXCEEDED")
		case errors.As(err, &pe) && strings.Contains(strings.ToLower(pe.Message), "principal"):
			return orgapi.NewInvalidInputException("You specified an invalid principal element in the policy: %s", pe.Message).With("Reason", "INVALID_PRINCIPAL")
		case errors.As(err, &pe):
			return orgapi.NewInvalidInputException("You provided JSON that isn't valid for a resource policy: %s", pe.Message).With("Reason", "INVALID_RESOURCE_POLICY_JSON")
		}
		return orgapi.NewInvalidInputException("You provided JSON that isn't valid for a resource policy.").With("Reason", "INVALID_RESOURCE_POLICY_JSON")
	}
	var doc struct {
		Statement json.RawMessage
	}
	if err := json.Unmarshal([]byte(content), &doc); err != nil {
		return orgapi.NewInvalidInputException("You provided JSON that isn't valid for a resource policy.").With("Reason", "INVALID_RESOURCE_POLICY_JSON")
	}
	var stmts []map[string]json.RawMessage
	if json.Unmarshal(doc.Statement, &stmts) != nil {
		var one map[string]json.RawMessage
		if json.Unmarshal(doc.Statement, &one) == nil {
			stmts = []map[string]json.RawMessage{one}
		}
	}
	for _, st := range stmts {
		if _, ok := st["NotAction"]; ok {
			return errUnsupportedAction("NotAction")
		}
		for _, a := range stringsOf(st["Action"]) {
			if !strings.HasPrefix(strings.ToLower(a), "organizations:") {
				return errUnsupportedAction(a)
			}
		}
	}
	return nil
}

func errUnsupportedAction(a string) error {
	return orgapi.NewInvalidInputException("You provided policy content that contains an unsupported action: %s. An organization's resource policy may grant only Organizations actions.", a).With("Reason", "UNSUPPORTED_ACTION_IN_RESOURCE_POLICY")
}

// stringsOf decodes a policy element that is a string or a list of them.
func stringsOf(raw json.RawMessage) []string {
	if len(raw) == 0 {
		return nil
	}
	var one string
	if json.Unmarshal(raw, &one) == nil {
		return []string{one}
	}
	var many []string
	_ = json.Unmarshal(raw, &many)
	return many
}

// PutResourcePolicy creates or replaces the organization's resource policy.
func (s *Service) PutResourcePolicy(ctx context.Context, in *orgapi.PutResourcePolicyRequest) (*orgapi.PutResourcePolicyResponse, error) {
	c := service.CallFrom(ctx)
	if err := checkTagAccess(ctx, c, in.Tags); err != nil {
		return nil, err
	}
	tags, err := tagMap(in.Tags)
	if err != nil {
		return nil, err
	}
	content := str(in.Content)
	if err := checkResourcePolicy(content); err != nil {
		return nil, err
	}
	var out *orgapi.ResourcePolicy
	err = s.update(ctx, managerOnly, func(_ store.Tx, c *service.Call, o *org) error {
		if err := requireAllFeatures(o); err != nil {
			return err
		}
		if o.ResourcePolicy == nil {
			id, err := newID(c, "rp-", 8)
			if err != nil {
				return err
			}
			o.ResourcePolicy = &resourcePolicy{ID: id}
		}
		o.ResourcePolicy.Content = content
		if tags != nil {
			o.ResourcePolicy.Tags = tags
		}
		out = o.apiResourcePolicy()
		return nil
	})
	if err != nil {
		return nil, err
	}
	return &orgapi.PutResourcePolicyResponse{ResourcePolicy: out}, nil
}

// DescribeResourcePolicy returns the organization's resource policy.
func (s *Service) DescribeResourcePolicy(ctx context.Context, _ *awsproto.Empty) (*orgapi.DescribeResourcePolicyResponse, error) {
	var out *orgapi.ResourcePolicy
	err := s.view(ctx, readOnly, func(_ *service.Call, o *org) error {
		if o.ResourcePolicy == nil {
			return errNoResourcePolicy()
		}
		out = o.apiResourcePolicy()
		return nil
	})
	if err != nil {
		return nil, err
	}
	return &orgapi.DescribeResourcePolicyResponse{ResourcePolicy: out}, nil
}

// DeleteResourcePolicy deletes the organization's resource policy.
func (s *Service) DeleteResourcePolicy(ctx context.Context, _ *awsproto.Empty) (*awsproto.Empty, error) {
	err := s.update(ctx, managerOnly, func(_ store.Tx, _ *service.Call, o *org) error {
		if o.ResourcePolicy == nil {
			return errNoResourcePolicy()
		}
		o.ResourcePolicy = nil
		return nil
	})
	if err != nil {
		return nil, err
	}
	return &awsproto.Empty{}, nil
}

// delegatable are the operations beyond Describe… and List… that an
// organization's resource policy may delegate: policy management.
var delegatable = map[string]bool{
	"CreatePolicy": true, "UpdatePolicy": true, "DeletePolicy": true, "AttachPolicy": true, "DetachPolicy": true,
	"EnablePolicyType": true, "DisablePolicyType": true, "TagResource": true, "UntagResource": true,
}

// allowEverything stands for the caller's identity side, which the
// authorizer has already found to allow the action.
var allowEverything = func() *policy.Policy {
	p, err := policy.Parse([]byte(`{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"*","Resource":"*"}]}`), policy.KindManaged)
	if err != nil {
		panic(err)
	}
	return p
}()

// delegatedByPolicy reports whether the organization's resource policy
// lets the caller, a member account's principal, perform the call's
// operation (see above).
func (o *org) delegatedByPolicy(c *service.Call, a access) bool {
	if o.ResourcePolicy == nil || a == anyMember || c.Principal == nil || c.Operation == nil || c.Principal.Account == o.Management {
		return false
	}
	op := c.Operation.Name
	if !strings.HasPrefix(op, "Describe") && !strings.HasPrefix(op, "List") && !delegatable[op] {
		return false
	}
	rp, err := policy.Parse([]byte(o.ResourcePolicy.Content), policy.KindResource)
	if err != nil {
		return false
	}
	p, err := policy.PrincipalFromARN(c.Principal.ARN)
	if err != nil {
		return false
	}
	req := &policy.Request{Principal: p, Action: "organizations:" + op, Resource: o.arn(), ResourceAccount: o.Management}
	return policy.Evaluate(req, &policy.Input{Identity: []*policy.Policy{allowEverything}, Resource: rp}).Result == policy.Allow
}
