package iam

import (
	"context"
	"sort"
	"strings"

	"github.com/rampart/rampart/internal/policy"
	"github.com/rampart/rampart/internal/service"
	"github.com/rampart/rampart/internal/store"

	iamapi "github.com/rampart/rampart/internal/api/iam"
)

func inlineKind(kind string) policy.Kind {
	switch kind {
	case kindGroup:
		return policy.KindGroupInline
	case kindRole:
		return policy.KindRoleInline
	}
	return policy.KindUserInline
}

func (s *Service) putInline(ctx context.Context, kind, name, pname, doc string) error {
	pk := inlineKind(kind)
	if _, err := validateDoc(doc, pk); err != nil {
		return err
	}
	acct := service.CallFrom(ctx).Principal.Account
	return s.store.Update(ctx, func(tx store.Tx) error {
		e, err := getEntity(tx, kind, acct, name)
		if err != nil {
			return err
		}
		replaced := false
		total := policy.CountSize([]byte(doc))
		for i := range e.Inline {
			if e.Inline[i].Name == pname {
				e.Inline[i].Doc = doc
				replaced = true
				continue
			}
			total += policy.CountSize([]byte(e.Inline[i].Doc))
		}
		// The quota counts every inline policy of the entity together
		// ("IAM and AWS STS quotas": user 2,048, group 5,120, role 10,240).
		if lim := pk.SizeLimit(); total > lim {
			return iamapi.NewLimitExceededException("Maximum policy size of %d bytes exceeded for %s %s", lim, kind, e.Name)
		}
		if !replaced {
			e.Inline = append(e.Inline, inline{Name: pname, Doc: doc})
		}
		return putEntity(tx, e)
	})
}

func (s *Service) getInline(ctx context.Context, kind, name, pname string) (*entity, string, error) {
	acct := service.CallFrom(ctx).Principal.Account
	var e *entity
	err := s.store.View(ctx, func(tx store.Tx) error {
		var err error
		e, err = getEntity(tx, kind, acct, name)
		return err
	})
	if err != nil {
		return nil, "", err
	}
	for _, p := range e.Inline {
		if p.Name == pname {
			return e, p.Doc, nil
		}
	}
	return nil, "", iamapi.NewNoSuchEntityException("The %s policy with name %s cannot be found.", kind, pname)
}

func (s *Service) deleteInline(ctx context.Context, kind, name, pname string) error {
	acct := service.CallFrom(ctx).Principal.Account
	return s.store.Update(ctx, func(tx store.Tx) error {
		e, err := getEntity(tx, kind, acct, name)
		if err != nil {
			return err
		}
		kept := e.Inline[:0]
		found := false
		for _, p := range e.Inline {
			if p.Name == pname {
				found = true
				continue
			}
			kept = append(kept, p)
		}
		if !found {
			return iamapi.NewNoSuchEntityException("The %s policy with name %s cannot be found.", kind, pname)
		}
		e.Inline = kept
		return putEntity(tx, e)
	})
}

func (s *Service) listInline(ctx context.Context, kind, name string, marker *string, maxItems *int32) ([]string, *bool, *string, error) {
	acct := service.CallFrom(ctx).Principal.Account
	var e *entity
	err := s.store.View(ctx, func(tx store.Tx) error {
		var err error
		e, err = getEntity(tx, kind, acct, name)
		return err
	})
	if err != nil {
		return nil, nil, nil, err
	}
	names := make([]string, 0, len(e.Inline))
	for _, p := range e.Inline {
		names = append(names, p.Name)
	}
	sort.Slice(names, func(i, j int) bool { return strings.ToLower(names[i]) < strings.ToLower(names[j]) })
	return page(names, marker, maxItems)
}

// PutUserPolicy adds or replaces an inline policy of a user.
func (s *Service) PutUserPolicy(ctx context.Context, in *iamapi.PutUserPolicyRequest) (*awsEmpty, error) {
	return empty(s.putInline(ctx, kindUser, str(in.UserName), str(in.PolicyName), str(in.PolicyDocument)))
}

// PutGroupPolicy adds or replaces an inline policy of a group.
func (s *Service) PutGroupPolicy(ctx context.Context, in *iamapi.PutGroupPolicyRequest) (*awsEmpty, error) {
	return empty(s.putInline(ctx, kindGroup, str(in.GroupName), str(in.PolicyName), str(in.PolicyDocument)))
}

// PutRolePolicy adds or replaces an inline policy of a role.
func (s *Service) PutRolePolicy(ctx context.Context, in *iamapi.PutRolePolicyRequest) (*awsEmpty, error) {
	return empty(s.putInline(ctx, kindRole, str(in.RoleName), str(in.PolicyName), str(in.PolicyDocument)))
}

// GetUserPolicy returns an inline policy of a user.
func (s *Service) GetUserPolicy(ctx context.Context, in *iamapi.GetUserPolicyRequest) (*iamapi.GetUserPolicyResponse, error) {
	e, doc, err := s.getInline(ctx, kindUser, str(in.UserName), str(in.PolicyName))
	if err != nil {
		return nil, err
	}
	return &iamapi.GetUserPolicyResponse{UserName: ptr(e.Name), PolicyName: in.PolicyName, PolicyDocument: encodeDoc(doc)}, nil
}

// GetGroupPolicy returns an inline policy of a group.
func (s *Service) GetGroupPolicy(ctx context.Context, in *iamapi.GetGroupPolicyRequest) (*iamapi.GetGroupPolicyResponse, error) {
	e, doc, err := s.getInline(ctx, kindGroup, str(in.GroupName), str(in.PolicyName))
	if err != nil {
		return nil, err
	}
	return &iamapi.GetGroupPolicyResponse{GroupName: ptr(e.Name), PolicyName: in.PolicyName, PolicyDocument: encodeDoc(doc)}, nil
}

// GetRolePolicy returns an inline policy of a role.
func (s *Service) GetRolePolicy(ctx context.Context, in *iamapi.GetRolePolicyRequest) (*iamapi.GetRolePolicyResponse, error) {
	e, doc, err := s.getInline(ctx, kindRole, str(in.RoleName), str(in.PolicyName))
	if err != nil {
		return nil, err
	}
	return &iamapi.GetRolePolicyResponse{RoleName: ptr(e.Name), PolicyName: in.PolicyName, PolicyDocument: encodeDoc(doc)}, nil
}

// DeleteUserPolicy deletes an inline policy of a user.
func (s *Service) DeleteUserPolicy(ctx context.Context, in *iamapi.DeleteUserPolicyRequest) (*awsEmpty, error) {
	return empty(s.deleteInline(ctx, kindUser, str(in.UserName), str(in.PolicyName)))
}

// DeleteGroupPolicy deletes an inline policy of a group.
func (s *Service) DeleteGroupPolicy(ctx context.Context, in *iamapi.DeleteGroupPolicyRequest) (*awsEmpty, error) {
	return empty(s.deleteInline(ctx, kindGroup, str(in.GroupName), str(in.PolicyName)))
}

// DeleteRolePolicy deletes an inline policy of a role.
func (s *Service) DeleteRolePolicy(ctx context.Context, in *iamapi.DeleteRolePolicyRequest) (*awsEmpty, error) {
	return empty(s.deleteInline(ctx, kindRole, str(in.RoleName), str(in.PolicyName)))
}

// ListUserPolicies lists the names of a user's inline policies.
func (s *Service) ListUserPolicies(ctx context.Context, in *iamapi.ListUserPoliciesRequest) (*iamapi.ListUserPoliciesResponse, error) {
	names, trunc, next, err := s.listInline(ctx, kindUser, str(in.UserName), in.Marker, in.MaxItems)
	if err != nil {
		return nil, err
	}
	return &iamapi.ListUserPoliciesResponse{PolicyNames: names, IsTruncated: trunc, Marker: next}, nil
}

// ListGroupPolicies lists the names of a group's inline policies.
func (s *Service) ListGroupPolicies(ctx context.Context, in *iamapi.ListGroupPoliciesRequest) (*iamapi.ListGroupPoliciesResponse, error) {
	names, trunc, next, err := s.listInline(ctx, kindGroup, str(in.GroupName), in.Marker, in.MaxItems)
	if err != nil {
		return nil, err
	}
	return &iamapi.ListGroupPoliciesResponse{PolicyNames: names, IsTruncated: trunc, Marker: next}, nil
}

// ListRolePolicies lists the names of a role's inline policies.
func (s *Service) ListRolePolicies(ctx context.Context, in *iamapi.ListRolePoliciesRequest) (*iamapi.ListRolePoliciesResponse, error) {
	names, trunc, next, err := s.listInline(ctx, kindRole, str(in.RoleName), in.Marker, in.MaxItems)
	if err != nil {
		return nil, err
	}
	return &iamapi.ListRolePoliciesResponse{PolicyNames: names, IsTruncated: trunc, Marker: next}, nil
}
