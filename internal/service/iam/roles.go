package iam

import (
	"context"

	"github.com/rampart/rampart/internal/policy"
	"github.com/rampart/rampart/internal/service"
	"github.com/rampart/rampart/internal/store"

	iamapi "github.com/rampart/rampart/internal/api/iam"
)

// defaultMaxSessionDuration is a role's MaxSessionDuration unless set
// (one hour; at most 12).
const defaultMaxSessionDuration = 3600

func (e *entity) apiRole() *iamapi.Role {
	r := &iamapi.Role{
		Path: ptr(e.Path), RoleName: ptr(e.Name), RoleId: ptr(e.ID), Arn: ptr(e.ARN), CreateDate: ptr(e.Created),
		AssumeRolePolicyDocument: encodeDoc(e.Trust), MaxSessionDuration: ptr(e.maxSession()), Tags: apiTags(e.Tags),
		RoleLastUsed: &iamapi.RoleLastUsed{},
	}
	if e.Description != "" {
		r.Description = ptr(e.Description)
	}
	if e.Boundary != "" {
		r.PermissionsBoundary = &iamapi.AttachedPermissionsBoundary{PermissionsBoundaryType: iamapi.PermissionsBoundaryAttachmentTypePermissionsboundarypolicy, PermissionsBoundaryArn: ptr(e.Boundary)}
	}
	return r
}

func (e *entity) maxSession() int32 {
	if e.MaxSessionDuration == 0 {
		return defaultMaxSessionDuration
	}
	return e.MaxSessionDuration
}

// validateDoc parses a policy document as IAM would on input and returns
// AWS's MalformedPolicyDocument or LimitExceeded error when it is refused.
func validateDoc(doc string, kind policy.Kind) (*policy.Policy, error) {
	p, err := policy.Parse([]byte(doc), kind)
	if err != nil {
		if pe, ok := err.(*policy.Error); ok {
			if pe.Code == policy.CodeLimitExceeded {
				return nil, iamapi.NewLimitExceededException("%s", pe.Message)
			}
			return nil, iamapi.NewMalformedPolicyDocumentException("%s", pe.Message)
		}
		return nil, iamapi.NewMalformedPolicyDocumentException("Syntax errors in policy.")
	}
	return p, nil
}

// CreateRole creates a role with its trust policy.
func (s *Service) CreateRole(ctx context.Context, in *iamapi.CreateRoleRequest) (*iamapi.CreateRoleResponse, error) {
	if _, err := validateDoc(str(in.AssumeRolePolicyDocument), policy.KindTrust); err != nil {
		return nil, err
	}
	if err := checkTags(in.Tags); err != nil {
		return nil, err
	}
	var e *entity
	err := s.store.Update(ctx, func(tx store.Tx) error {
		var err error
		if e, err = s.newEntity(ctx, tx, kindRole, str(in.RoleName), pathOr(in.Path)); err != nil {
			return err
		}
		e.Trust = str(in.AssumeRolePolicyDocument)
		e.Description = str(in.Description)
		if in.MaxSessionDuration != nil {
			e.MaxSessionDuration = *in.MaxSessionDuration
		}
		e.Tags, _ = mergeTags(nil, in.Tags)
		if in.PermissionsBoundary != nil {
			if err := s.checkBoundary(tx, e.Account, *in.PermissionsBoundary); err != nil {
				return err
			}
			e.Boundary = *in.PermissionsBoundary
			if err := tx.Put(tableAttachment, attachmentKey(e.Account, e.Boundary, useBoundary, kindRole, e.Name), []byte(e.Name)); err != nil {
				return err
			}
		}
		return putEntity(tx, e)
	})
	if err != nil {
		return nil, err
	}
	r := e.apiRole()
	r.RoleLastUsed = nil
	return &iamapi.CreateRoleResponse{Role: r}, nil
}

// GetRole returns a role with its trust policy.
func (s *Service) GetRole(ctx context.Context, in *iamapi.GetRoleRequest) (*iamapi.GetRoleResponse, error) {
	acct := service.CallFrom(ctx).Principal.Account
	var e *entity
	err := s.store.View(ctx, func(tx store.Tx) error {
		var err error
		e, err = getEntity(tx, kindRole, acct, str(in.RoleName))
		return err
	})
	if err != nil {
		return nil, err
	}
	return &iamapi.GetRoleResponse{Role: e.apiRole()}, nil
}

// ListRoles lists the account's roles whose path starts with PathPrefix.
func (s *Service) ListRoles(ctx context.Context, in *iamapi.ListRolesRequest) (*iamapi.ListRolesResponse, error) {
	es, err := s.listEntities(ctx, kindRole, in.PathPrefix)
	if err != nil {
		return nil, err
	}
	pg, trunc, next, err := page(es, in.Marker, in.MaxItems)
	if err != nil {
		return nil, err
	}
	out := &iamapi.ListRolesResponse{Roles: []iamapi.Role{}, IsTruncated: trunc, Marker: next}
	for _, e := range pg {
		r := e.apiRole()
		r.Tags, r.PermissionsBoundary, r.RoleLastUsed = nil, nil, nil // ListRoles leaves these out
		out.Roles = append(out.Roles, *r)
	}
	return out, nil
}

// UpdateRole changes a role's description or maximum session duration.
func (s *Service) UpdateRole(ctx context.Context, in *iamapi.UpdateRoleRequest) (*iamapi.UpdateRoleResponse, error) {
	err := s.updateRole(ctx, str(in.RoleName), func(e *entity) error {
		if in.Description != nil {
			e.Description = *in.Description
		}
		if in.MaxSessionDuration != nil {
			e.MaxSessionDuration = *in.MaxSessionDuration
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	return &iamapi.UpdateRoleResponse{}, nil
}

// UpdateRoleDescription changes a role's description.
func (s *Service) UpdateRoleDescription(ctx context.Context, in *iamapi.UpdateRoleDescriptionRequest) (*iamapi.UpdateRoleDescriptionResponse, error) {
	var out *entity
	err := s.updateRole(ctx, str(in.RoleName), func(e *entity) error {
		e.Description = str(in.Description)
		out = e
		return nil
	})
	if err != nil {
		return nil, err
	}
	return &iamapi.UpdateRoleDescriptionResponse{Role: out.apiRole()}, nil
}

// UpdateAssumeRolePolicy replaces a role's trust policy.
func (s *Service) UpdateAssumeRolePolicy(ctx context.Context, in *iamapi.UpdateAssumeRolePolicyRequest) (*awsEmpty, error) {
	if _, err := validateDoc(str(in.PolicyDocument), policy.KindTrust); err != nil {
		return nil, err
	}
	return empty(s.updateRole(ctx, str(in.RoleName), func(e *entity) error {
		e.Trust = str(in.PolicyDocument)
		return nil
	}))
}

func (s *Service) updateRole(ctx context.Context, name string, fn func(e *entity) error) error {
	acct := service.CallFrom(ctx).Principal.Account
	return s.store.Update(ctx, func(tx store.Tx) error {
		e, err := getEntity(tx, kindRole, acct, name)
		if err != nil {
			return err
		}
		if err := fn(e); err != nil {
			return err
		}
		return putEntity(tx, e)
	})
}

// DeleteRole deletes a role that has no policies left.
func (s *Service) DeleteRole(ctx context.Context, in *iamapi.DeleteRoleRequest) (*awsEmpty, error) {
	acct := service.CallFrom(ctx).Principal.Account
	return empty(s.store.Update(ctx, func(tx store.Tx) error {
		e, err := getEntity(tx, kindRole, acct, str(in.RoleName))
		if err != nil {
			return err
		}
		if len(e.Attached) > 0 {
			return iamapi.NewDeleteConflictException("Cannot delete entity, must detach all policies first.")
		}
		if len(e.Inline) > 0 {
			return iamapi.NewDeleteConflictException("Cannot delete entity, must delete policies first.")
		}
		if ps, err := roleProfiles(tx, acct, e.Name); err != nil {
			return err
		} else if len(ps) > 0 {
			return iamapi.NewDeleteConflictException("Cannot delete entity, must remove roles from instance profile first.")
		}
		return deleteEntity(tx, e)
	}))
}
