package iam

import (
	"context"
	"strings"

	"github.com/rampart/rampart/internal/service"
	"github.com/rampart/rampart/internal/store"

	iamapi "github.com/rampart/rampart/internal/api/iam"
)

// maxAttached is IAM's default quota of managed policies per user, group
// or role.
const maxAttached = 10

func (s *Service) attach(ctx context.Context, kind, name, arn string) error {
	acct := service.CallFrom(ctx).Principal.Account
	return s.store.Update(ctx, func(tx store.Tx) error {
		e, err := getEntity(tx, kind, acct, name)
		if err != nil {
			return err
		}
		p, err := getAnyPolicy(tx, acct, arn)
		if err != nil {
			return iamapi.NewNoSuchEntityException("Policy %s does not exist or is not attachable.", arn)
		}
		for _, a := range e.Attached {
			if a == p.ARN {
				return nil // attaching twice changes nothing, as in AWS
			}
		}
		if len(e.Attached) >= maxAttached {
			return iamapi.NewLimitExceededException("Cannot exceed quota for PoliciesPer%s: %d", titleKind(kind), maxAttached)
		}
		e.Attached = append(e.Attached, p.ARN)
		if err := tx.Put(tableAttachment, attachmentKey(acct, p.ARN, usePolicy, kind, e.Name), []byte(e.Name)); err != nil {
			return err
		}
		return putEntity(tx, e)
	})
}

func (s *Service) detach(ctx context.Context, kind, name, arn string) error {
	acct := service.CallFrom(ctx).Principal.Account
	return s.store.Update(ctx, func(tx store.Tx) error {
		e, err := getEntity(tx, kind, acct, name)
		if err != nil {
			return err
		}
		kept := e.Attached[:0]
		found := false
		for _, a := range e.Attached {
			if a == arn {
				found = true
				continue
			}
			kept = append(kept, a)
		}
		if !found {
			return iamapi.NewNoSuchEntityException("Policy %s was not found.", arn)
		}
		e.Attached = kept
		if _, err := tx.Delete(tableAttachment, attachmentKey(acct, arn, usePolicy, kind, e.Name)); err != nil {
			return err
		}
		return putEntity(tx, e)
	})
}

func (s *Service) listAttached(ctx context.Context, kind, name string, pathPrefix, marker *string, maxItems *int32) ([]iamapi.AttachedPolicy, *bool, *string, error) {
	acct := service.CallFrom(ctx).Principal.Account
	var out []iamapi.AttachedPolicy
	err := s.store.View(ctx, func(tx store.Tx) error {
		e, err := getEntity(tx, kind, acct, name)
		if err != nil {
			return err
		}
		prefix := pathOr(pathPrefix)
		for _, arn := range e.Attached {
			_, path, pname, _ := policyARNParts(arn)
			if strings.HasPrefix(path, prefix) {
				out = append(out, iamapi.AttachedPolicy{PolicyName: ptr(pname), PolicyArn: ptr(arn)})
			}
		}
		return nil
	})
	if err != nil {
		return nil, nil, nil, err
	}
	pg, trunc, next, err := page(out, marker, maxItems)
	if pg == nil {
		pg = []iamapi.AttachedPolicy{}
	}
	return pg, trunc, next, err
}

// AttachUserPolicy attaches a managed policy to a user.
func (s *Service) AttachUserPolicy(ctx context.Context, in *iamapi.AttachUserPolicyRequest) (*awsEmpty, error) {
	return empty(s.attach(ctx, kindUser, str(in.UserName), str(in.PolicyArn)))
}

// AttachGroupPolicy attaches a managed policy to a group.
func (s *Service) AttachGroupPolicy(ctx context.Context, in *iamapi.AttachGroupPolicyRequest) (*awsEmpty, error) {
	return empty(s.attach(ctx, kindGroup, str(in.GroupName), str(in.PolicyArn)))
}

// AttachRolePolicy attaches a managed policy to a role.
func (s *Service) AttachRolePolicy(ctx context.Context, in *iamapi.AttachRolePolicyRequest) (*awsEmpty, error) {
	return empty(s.attach(ctx, kindRole, str(in.RoleName), str(in.PolicyArn)))
}

// DetachUserPolicy detaches a managed policy from a user.
func (s *Service) DetachUserPolicy(ctx context.Context, in *iamapi.DetachUserPolicyRequest) (*awsEmpty, error) {
	return empty(s.detach(ctx, kindUser, str(in.UserName), str(in.PolicyArn)))
}

// DetachGroupPolicy detaches a managed policy from a group.
func (s *Service) DetachGroupPolicy(ctx context.Context, in *iamapi.DetachGroupPolicyRequest) (*awsEmpty, error) {
	return empty(s.detach(ctx, kindGroup, str(in.GroupName), str(in.PolicyArn)))
}

// DetachRolePolicy detaches a managed policy from a role.
func (s *Service) DetachRolePolicy(ctx context.Context, in *iamapi.DetachRolePolicyRequest) (*awsEmpty, error) {
	return empty(s.detach(ctx, kindRole, str(in.RoleName), str(in.PolicyArn)))
}

// ListAttachedUserPolicies lists the managed policies attached to a user.
func (s *Service) ListAttachedUserPolicies(ctx context.Context, in *iamapi.ListAttachedUserPoliciesRequest) (*iamapi.ListAttachedUserPoliciesResponse, error) {
	ps, trunc, next, err := s.listAttached(ctx, kindUser, str(in.UserName), in.PathPrefix, in.Marker, in.MaxItems)
	if err != nil {
		return nil, err
	}
	return &iamapi.ListAttachedUserPoliciesResponse{AttachedPolicies: ps, IsTruncated: trunc, Marker: next}, nil
}

// ListAttachedGroupPolicies lists the managed policies attached to a group.
func (s *Service) ListAttachedGroupPolicies(ctx context.Context, in *iamapi.ListAttachedGroupPoliciesRequest) (*iamapi.ListAttachedGroupPoliciesResponse, error) {
	ps, trunc, next, err := s.listAttached(ctx, kindGroup, str(in.GroupName), in.PathPrefix, in.Marker, in.MaxItems)
	if err != nil {
		return nil, err
	}
	return &iamapi.ListAttachedGroupPoliciesResponse{AttachedPolicies: ps, IsTruncated: trunc, Marker: next}, nil
}

// ListAttachedRolePolicies lists the managed policies attached to a role.
func (s *Service) ListAttachedRolePolicies(ctx context.Context, in *iamapi.ListAttachedRolePoliciesRequest) (*iamapi.ListAttachedRolePoliciesResponse, error) {
	ps, trunc, next, err := s.listAttached(ctx, kindRole, str(in.RoleName), in.PathPrefix, in.Marker, in.MaxItems)
	if err != nil {
		return nil, err
	}
	return &iamapi.ListAttachedRolePoliciesResponse{AttachedPolicies: ps, IsTruncated: trunc, Marker: next}, nil
}

// ListEntitiesForPolicy lists the users, groups and roles a managed policy
// is attached to (as a permissions policy, a boundary, or both).
func (s *Service) ListEntitiesForPolicy(ctx context.Context, in *iamapi.ListEntitiesForPolicyRequest) (*iamapi.ListEntitiesForPolicyResponse, error) {
	acct := service.CallFrom(ctx).Principal.Account
	type ref struct{ kind, name, id string }
	var refs []ref
	err := s.store.View(ctx, func(tx store.Tx) error {
		p, err := getAnyPolicy(tx, acct, str(in.PolicyArn))
		if err != nil {
			return err
		}
		kvs, err := tx.Scan(tableAttachment, attachmentPrefix(acct, p.ARN), "", 0)
		if err != nil {
			return err
		}
		seen := map[string]bool{}
		prefix := pathOr(in.PathPrefix)
		for _, kv := range kvs {
			parts := strings.Split(strings.TrimPrefix(kv.Key, attachmentPrefix(acct, p.ARN)), "|")
			if len(parts) != 3 {
				continue
			}
			usage, kind := parts[0], parts[1]
			if in.PolicyUsageFilter == iamapi.PolicyUsageTypePermissionspolicy && usage != usePolicy ||
				in.PolicyUsageFilter == iamapi.PolicyUsageTypePermissionsboundary && usage != useBoundary {
				continue
			}
			if in.EntityFilter != "" && !strings.EqualFold(string(in.EntityFilter), kind) {
				continue
			}
			if seen[kind+"|"+parts[2]] {
				continue
			}
			seen[kind+"|"+parts[2]] = true
			e, err := getEntity(tx, kind, acct, string(kv.Value))
			if err != nil {
				return err
			}
			if strings.HasPrefix(e.Path, prefix) {
				refs = append(refs, ref{kind, e.Name, e.ID})
			}
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	pg, trunc, next, err := page(refs, in.Marker, in.MaxItems)
	if err != nil {
		return nil, err
	}
	out := &iamapi.ListEntitiesForPolicyResponse{PolicyGroups: []iamapi.PolicyGroup{}, PolicyUsers: []iamapi.PolicyUser{}, PolicyRoles: []iamapi.PolicyRole{}, IsTruncated: trunc, Marker: next}
	for _, r := range pg {
		switch r.kind {
		case kindUser:
			out.PolicyUsers = append(out.PolicyUsers, iamapi.PolicyUser{UserName: ptr(r.name), UserId: ptr(r.id)})
		case kindGroup:
			out.PolicyGroups = append(out.PolicyGroups, iamapi.PolicyGroup{GroupName: ptr(r.name), GroupId: ptr(r.id)})
		case kindRole:
			out.PolicyRoles = append(out.PolicyRoles, iamapi.PolicyRole{RoleName: ptr(r.name), RoleId: ptr(r.id)})
		}
	}
	return out, nil
}

// checkBoundary checks that a permissions boundary names a managed policy.
func (s *Service) checkBoundary(tx store.Tx, acct, arn string) error {
	if _, err := getAnyPolicy(tx, acct, arn); err != nil {
		return iamapi.NewNoSuchEntityException("Scope ARN: %s does not exist or is not attachable.", arn)
	}
	return nil
}

func (s *Service) putBoundary(ctx context.Context, kind, name, arn string) error {
	acct := service.CallFrom(ctx).Principal.Account
	return s.store.Update(ctx, func(tx store.Tx) error {
		e, err := getEntity(tx, kind, acct, name)
		if err != nil {
			return err
		}
		if err := s.checkBoundary(tx, acct, arn); err != nil {
			return err
		}
		if e.Boundary != "" {
			if _, err := tx.Delete(tableAttachment, attachmentKey(acct, e.Boundary, useBoundary, kind, e.Name)); err != nil {
				return err
			}
		}
		e.Boundary = arn
		if err := tx.Put(tableAttachment, attachmentKey(acct, arn, useBoundary, kind, e.Name), []byte(e.Name)); err != nil {
			return err
		}
		return putEntity(tx, e)
	})
}

func (s *Service) deleteBoundary(ctx context.Context, kind, name string) error {
	acct := service.CallFrom(ctx).Principal.Account
	return s.store.Update(ctx, func(tx store.Tx) error {
		e, err := getEntity(tx, kind, acct, name)
		if err != nil {
			return err
		}
		if e.Boundary == "" {
			return nil
		}
		if _, err := tx.Delete(tableAttachment, attachmentKey(acct, e.Boundary, useBoundary, kind, e.Name)); err != nil {
			return err
		}
		e.Boundary = ""
		return putEntity(tx, e)
	})
}

// PutUserPermissionsBoundary sets a user's permissions boundary.
func (s *Service) PutUserPermissionsBoundary(ctx context.Context, in *iamapi.PutUserPermissionsBoundaryRequest) (*awsEmpty, error) {
	return empty(s.putBoundary(ctx, kindUser, str(in.UserName), str(in.PermissionsBoundary)))
}

// PutRolePermissionsBoundary sets a role's permissions boundary.
func (s *Service) PutRolePermissionsBoundary(ctx context.Context, in *iamapi.PutRolePermissionsBoundaryRequest) (*awsEmpty, error) {
	return empty(s.putBoundary(ctx, kindRole, str(in.RoleName), str(in.PermissionsBoundary)))
}

// DeleteUserPermissionsBoundary removes a user's permissions boundary.
func (s *Service) DeleteUserPermissionsBoundary(ctx context.Context, in *iamapi.DeleteUserPermissionsBoundaryRequest) (*awsEmpty, error) {
	return empty(s.deleteBoundary(ctx, kindUser, str(in.UserName)))
}

// DeleteRolePermissionsBoundary removes a role's permissions boundary.
func (s *Service) DeleteRolePermissionsBoundary(ctx context.Context, in *iamapi.DeleteRolePermissionsBoundaryRequest) (*awsEmpty, error) {
	return empty(s.deleteBoundary(ctx, kindRole, str(in.RoleName)))
}
