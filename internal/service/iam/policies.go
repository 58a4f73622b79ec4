package iam

import (
	"context"
	"errors"
	"strconv"
	"strings"

	"github.com/rampart/rampart/internal/policy"
	"github.com/rampart/rampart/internal/service"
	"github.com/rampart/rampart/internal/store"

	iamapi "github.com/rampart/rampart/internal/api/iam"
)

// maxPolicyVersions is IAM's quota of versions per managed policy.
const maxPolicyVersions = 5

// getCustomerPolicy loads a customer managed policy of acct by ARN.
func getCustomerPolicy(tx store.Tx, acct, arn string) (*managedPolicy, error) {
	pa, path, name, ok := policyARNParts(arn)
	if !ok || pa != acct {
		return nil, iamapi.NewNoSuchEntityException("Policy %s was not found.", arn)
	}
	var p managedPolicy
	found, err := getJSON(tx, tablePolicy, entityKey(acct, name), &p)
	if err != nil {
		return nil, err
	}
	if !found || p.Path != path || p.Name != name {
		return nil, iamapi.NewNoSuchEntityException("Policy %s was not found.", arn)
	}
	return &p, nil
}

// getAnyPolicy loads a managed policy, AWS's or the account's.
func getAnyPolicy(tx store.Tx, acct, arn string) (*managedPolicy, error) {
	if m, ok := awsPolicy(arn); ok {
		c := m.managedPolicy
		return &c, nil
	}
	return getCustomerPolicy(tx, acct, arn)
}

func (s *Service) apiPolicy(tx store.Tx, acct string, p *managedPolicy) (iamapi.Policy, error) {
	n, err := tx.Count(tableAttachment, attachmentPrefix(acct, p.ARN)+usePolicy+"|")
	if err != nil {
		return iamapi.Policy{}, err
	}
	b, err := tx.Count(tableAttachment, attachmentPrefix(acct, p.ARN)+useBoundary+"|")
	if err != nil {
		return iamapi.Policy{}, err
	}
	return apiPolicyCounted(p, [2]int32{int32(n), int32(b)}), nil
}

// apiPolicyCounted renders p with its attachment counts (as a permissions
// policy, as a boundary).
func apiPolicyCounted(p *managedPolicy, counts [2]int32) iamapi.Policy {
	n, b := counts[0], counts[1]
	out := iamapi.Policy{
		PolicyName: ptr(p.Name), PolicyId: ptr(p.ID), Arn: ptr(p.ARN), Path: ptr(p.Path), DefaultVersionId: ptr(p.Default),
		AttachmentCount: ptr(int32(n)), PermissionsBoundaryUsageCount: ptr(int32(b)), IsAttachable: ptr(true),
		CreateDate: ptr(p.Created), UpdateDate: ptr(p.Updated), Tags: apiTags(p.Tags),
	}
	if p.Description != "" {
		out.Description = ptr(p.Description)
	}
	return out
}

// CreatePolicy creates a customer managed policy, its document as v1.
func (s *Service) CreatePolicy(ctx context.Context, in *iamapi.CreatePolicyRequest) (*iamapi.CreatePolicyResponse, error) {
	if _, err := validateDoc(str(in.PolicyDocument), policy.KindManaged); err != nil {
		return nil, err
	}
	if err := checkTags(in.Tags); err != nil {
		return nil, err
	}
	c := service.CallFrom(ctx)
	acct := c.Principal.Account
	var out iamapi.Policy
	err := s.store.Update(ctx, func(tx store.Tx) error {
		id, err := newID(c.Rand, prefixPolicy, 17)
		if err != nil {
			return err
		}
		now := c.Now.UTC().Truncate(1e9)
		path, name := pathOr(in.Path), str(in.PolicyName)
		p := &managedPolicy{Name: name, Path: path, ID: id, ARN: "arn:aws:iam::" + acct + ":policy" + path + name,
			Description: str(in.Description), Default: "v1", NextVersion: 2,
			Versions: []policyVersion{{ID: "v1", Doc: str(in.PolicyDocument), Created: now}}, Created: now, Updated: now}
		p.Tags, _ = mergeTags(nil, in.Tags)
		if err := insertJSON(tx, tablePolicy, entityKey(acct, name), p); err != nil {
			if errors.Is(err, store.ErrExists) {
				return iamapi.NewEntityAlreadyExistsException("A policy called %s already exists. Duplicate names are not allowed.", name)
			}
			return err
		}
		out, err = s.apiPolicy(tx, acct, p)
		return err
	})
	if err != nil {
		return nil, err
	}
	return &iamapi.CreatePolicyResponse{Policy: &out}, nil
}

// GetPolicy returns a managed policy (not its document).
func (s *Service) GetPolicy(ctx context.Context, in *iamapi.GetPolicyRequest) (*iamapi.GetPolicyResponse, error) {
	acct := service.CallFrom(ctx).Principal.Account
	var out iamapi.Policy
	err := s.store.View(ctx, func(tx store.Tx) error {
		p, err := getAnyPolicy(tx, acct, str(in.PolicyArn))
		if err != nil {
			return err
		}
		out, err = s.apiPolicy(tx, acct, p)
		return err
	})
	if err != nil {
		return nil, err
	}
	return &iamapi.GetPolicyResponse{Policy: &out}, nil
}

// ListPolicies lists managed policies: AWS's, the account's, or both.
func (s *Service) ListPolicies(ctx context.Context, in *iamapi.ListPoliciesRequest) (*iamapi.ListPoliciesResponse, error) {
	acct := service.CallFrom(ctx).Principal.Account
	prefix := pathOr(in.PathPrefix)
	var all []iamapi.Policy
	err := s.store.View(ctx, func(tx store.Tx) error {
		counts, err := attachmentCounts(tx, acct)
		if err != nil {
			return err
		}
		var ps []*managedPolicy
		if in.Scope != iamapi.PolicyScopeTypeLocal {
			for _, m := range awsManagedSorted() {
				ps = append(ps, &m.managedPolicy) // read only
			}
		}
		if in.Scope != iamapi.PolicyScopeTypeAws {
			kvs, err := tx.Scan(tablePolicy, acct+"/", "", 0)
			if err != nil {
				return err
			}
			for _, kv := range kvs {
				var p managedPolicy
				if err := jsonUnmarshal(kv.Value, &p); err != nil {
					return err
				}
				ps = append(ps, &p)
			}
		}
		for _, p := range ps {
			if !strings.HasPrefix(p.Path, prefix) {
				continue
			}
			ap := apiPolicyCounted(p, counts[p.ARN])
			if in.OnlyAttached != nil && *in.OnlyAttached && *ap.AttachmentCount == 0 && *ap.PermissionsBoundaryUsageCount == 0 {
				continue
			}
			switch in.PolicyUsageFilter {
			case iamapi.PolicyUsageTypePermissionspolicy:
				if *ap.AttachmentCount == 0 && (in.OnlyAttached != nil && *in.OnlyAttached) {
					continue
				}
			case iamapi.PolicyUsageTypePermissionsboundary:
				if *ap.PermissionsBoundaryUsageCount == 0 && (in.OnlyAttached != nil && *in.OnlyAttached) {
					continue
				}
			}
			ap.Tags = nil
			all = append(all, ap)
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	pg, trunc, next, err := page(all, in.Marker, in.MaxItems)
	if err != nil {
		return nil, err
	}
	if pg == nil {
		pg = []iamapi.Policy{}
	}
	return &iamapi.ListPoliciesResponse{Policies: pg, IsTruncated: trunc, Marker: next}, nil
}

// DeletePolicy deletes a customer managed policy that is attached to
// nothing and has no version but its default.
func (s *Service) DeletePolicy(ctx context.Context, in *iamapi.DeletePolicyRequest) (*awsEmpty, error) {
	acct := service.CallFrom(ctx).Principal.Account
	return empty(s.store.Update(ctx, func(tx store.Tx) error {
		p, err := getCustomerPolicy(tx, acct, str(in.PolicyArn))
		if err != nil {
			return err
		}
		if n, err := tx.Count(tableAttachment, attachmentPrefix(acct, p.ARN)); err != nil {
			return err
		} else if n > 0 {
			return iamapi.NewDeleteConflictException("Cannot delete a policy attached to entities.")
		}
		if len(p.Versions) > 1 {
			return iamapi.NewDeleteConflictException("This policy has more than one version. Before you delete a policy, you must delete the policy's versions. The default version is deleted with the policy.")
		}
		_, err = tx.Delete(tablePolicy, entityKey(acct, p.Name))
		return err
	}))
}

func apiVersion(p *managedPolicy, v *policyVersion, withDoc bool) iamapi.PolicyVersion {
	out := iamapi.PolicyVersion{VersionId: ptr(v.ID), IsDefaultVersion: ptr(v.ID == p.Default), CreateDate: ptr(v.Created)}
	if withDoc {
		out.Document = encodeDoc(v.Doc)
	}
	return out
}

// CreatePolicyVersion adds a version to a customer managed policy (at most
// five), optionally making it the default.
func (s *Service) CreatePolicyVersion(ctx context.Context, in *iamapi.CreatePolicyVersionRequest) (*iamapi.CreatePolicyVersionResponse, error) {
	if _, err := validateDoc(str(in.PolicyDocument), policy.KindManaged); err != nil {
		return nil, err
	}
	c := service.CallFrom(ctx)
	acct := c.Principal.Account
	var out iamapi.PolicyVersion
	err := s.store.Update(ctx, func(tx store.Tx) error {
		p, err := getCustomerPolicy(tx, acct, str(in.PolicyArn))
		if err != nil {
			return err
		}
		if len(p.Versions) >= maxPolicyVersions {
			return iamapi.NewLimitExceededException("A managed policy can have up to %d versions. Before you create a new version, you must delete an existing version.", maxPolicyVersions)
		}
		now := c.Now.UTC().Truncate(1e9)
		v := policyVersion{ID: "v" + strconv.Itoa(p.NextVersion), Doc: str(in.PolicyDocument), Created: now}
		p.NextVersion++
		p.Versions = append(p.Versions, v)
		if in.SetAsDefault != nil && *in.SetAsDefault {
			p.Default = v.ID
		}
		p.Updated = now
		out = apiVersion(p, &v, false)
		return putJSON(tx, tablePolicy, entityKey(acct, p.Name), p)
	})
	if err != nil {
		return nil, err
	}
	return &iamapi.CreatePolicyVersionResponse{PolicyVersion: &out}, nil
}

// GetPolicyVersion returns one version of a managed policy with its document.
func (s *Service) GetPolicyVersion(ctx context.Context, in *iamapi.GetPolicyVersionRequest) (*iamapi.GetPolicyVersionResponse, error) {
	acct := service.CallFrom(ctx).Principal.Account
	var out iamapi.PolicyVersion
	err := s.store.View(ctx, func(tx store.Tx) error {
		p, err := getAnyPolicy(tx, acct, str(in.PolicyArn))
		if err != nil {
			return err
		}
		v := p.version(str(in.VersionId))
		if v == nil {
			return iamapi.NewNoSuchEntityException("Policy %s version %s does not exist or is not attachable.", p.ARN, str(in.VersionId))
		}
		if m, ok := awsPolicy(p.ARN); ok && v.Doc == "" {
			// An older version of an AWS managed policy: read on demand.
			c := *v
			if c.Doc, _, err = m.doc(v.ID); err != nil {
				return err
			}
			v = &c
		}
		out = apiVersion(p, v, true)
		return nil
	})
	if err != nil {
		return nil, err
	}
	return &iamapi.GetPolicyVersionResponse{PolicyVersion: &out}, nil
}

// ListPolicyVersions lists the versions of a managed policy.
func (s *Service) ListPolicyVersions(ctx context.Context, in *iamapi.ListPolicyVersionsRequest) (*iamapi.ListPolicyVersionsResponse, error) {
	acct := service.CallFrom(ctx).Principal.Account
	var p *managedPolicy
	err := s.store.View(ctx, func(tx store.Tx) error {
		var err error
		p, err = getAnyPolicy(tx, acct, str(in.PolicyArn))
		return err
	})
	if err != nil {
		return nil, err
	}
	// Newest first, as IAM lists them.
	vs := make([]iamapi.PolicyVersion, 0, len(p.Versions))
	for i := len(p.Versions) - 1; i >= 0; i-- {
		vs = append(vs, apiVersion(p, &p.Versions[i], false))
	}
	pg, trunc, next, err := page(vs, in.Marker, in.MaxItems)
	if err != nil {
		return nil, err
	}
	return &iamapi.ListPolicyVersionsResponse{Versions: pg, IsTruncated: trunc, Marker: next}, nil
}

// DeletePolicyVersion deletes a version that is not the default.
func (s *Service) DeletePolicyVersion(ctx context.Context, in *iamapi.DeletePolicyVersionRequest) (*awsEmpty, error) {
	acct := service.CallFrom(ctx).Principal.Account
	return empty(s.store.Update(ctx, func(tx store.Tx) error {
		p, err := getCustomerPolicy(tx, acct, str(in.PolicyArn))
		if err != nil {
			return err
		}
		id := str(in.VersionId)
		if p.version(id) == nil {
			return iamapi.NewNoSuchEntityException("Policy %s version %s does not exist or is not attachable.", p.ARN, id)
		}
		if id == p.Default {
			return iamapi.NewDeleteConflictException("Cannot delete the default version of a policy.")
		}
		kept := p.Versions[:0]
		for _, v := range p.Versions {
			if v.ID != id {
				kept = append(kept, v)
			}
		}
		p.Versions = kept
		return putJSON(tx, tablePolicy, entityKey(acct, p.Name), p)
	}))
}

// SetDefaultPolicyVersion makes a version the one in force.
func (s *Service) SetDefaultPolicyVersion(ctx context.Context, in *iamapi.SetDefaultPolicyVersionRequest) (*awsEmpty, error) {
	c := service.CallFrom(ctx)
	acct := c.Principal.Account
	return empty(s.store.Update(ctx, func(tx store.Tx) error {
		p, err := getCustomerPolicy(tx, acct, str(in.PolicyArn))
		if err != nil {
			return err
		}
		id := str(in.VersionId)
		if p.version(id) == nil {
			return iamapi.NewNoSuchEntityException("Policy %s version %s does not exist or is not attachable.", p.ARN, id)
		}
		p.Default = id
		p.Updated = c.Now.UTC().Truncate(1e9)
		return putJSON(tx, tablePolicy, entityKey(acct, p.Name), p)
	}))
}
