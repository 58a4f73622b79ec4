package iam

import (
	"context"
	"strings"

	"github.com/rampart/rampart/internal/service"
	"github.com/rampart/rampart/internal/store"

	iamapi "github.com/rampart/rampart/internal/api/iam"
)

// maxTags is IAM's quota of tags per entity.
const maxTags = 50

// checkTags rejects a request that names a tag key twice; IAM tag keys are
// unique without regard to case.
func checkTags(in []iamapi.Tag) error {
	seen := make(map[string]bool, len(in))
	for _, t := range in {
		k := strings.ToLower(str(t.Key))
		if seen[k] {
			return iamapi.NewInvalidInputException("Duplicate tag keys found. Please note that Tag keys are case insensitive.")
		}
		seen[k] = true
	}
	if len(in) > maxTags {
		return iamapi.NewLimitExceededException("The number of tags has reached the maximum limit.")
	}
	return nil
}

// mergeTags adds or replaces tags (a key differing only in case replaces
// the old one), enforcing the quota.
func mergeTags(old []tag, in []iamapi.Tag) ([]tag, error) {
	if err := checkTags(in); err != nil {
		return nil, err
	}
	out := append([]tag(nil), old...)
	for _, t := range in {
		k, v := str(t.Key), str(t.Value)
		replaced := false
		for i := range out {
			if strings.EqualFold(out[i].Key, k) {
				out[i] = tag{Key: k, Value: v}
				replaced = true
				break
			}
		}
		if !replaced {
			out = append(out, tag{Key: k, Value: v})
		}
	}
	if len(out) > maxTags {
		return nil, iamapi.NewLimitExceededException("The number of tags has reached the maximum limit.")
	}
	return out, nil
}

func removeTags(old []tag, keys []string) []tag {
	out := old[:0:0]
	for _, t := range old {
		drop := false
		for _, k := range keys {
			if strings.EqualFold(t.Key, k) {
				drop = true
				break
			}
		}
		if !drop {
			out = append(out, t)
		}
	}
	return out
}

// requestTags adds aws:RequestTag/… and aws:TagKeys for a request that
// carries tags.
func requestTags(tags []iamapi.Tag, keys map[string][]string) {
	if len(tags) == 0 {
		return
	}
	names := make([]string, 0, len(tags))
	for _, t := range tags {
		keys["aws:RequestTag/"+str(t.Key)] = []string{str(t.Value)}
		names = append(names, str(t.Key))
	}
	keys["aws:TagKeys"] = names
}

func (s *Service) tagEntity(ctx context.Context, kind, name string, in []iamapi.Tag) error {
	acct := service.CallFrom(ctx).Principal.Account
	return s.store.Update(ctx, func(tx store.Tx) error {
		e, err := getEntity(tx, kind, acct, name)
		if err != nil {
			return err
		}
		if e.Tags, err = mergeTags(e.Tags, in); err != nil {
			return err
		}
		return putEntity(tx, e)
	})
}

func (s *Service) untagEntity(ctx context.Context, kind, name string, keys []string) error {
	acct := service.CallFrom(ctx).Principal.Account
	return s.store.Update(ctx, func(tx store.Tx) error {
		e, err := getEntity(tx, kind, acct, name)
		if err != nil {
			return err
		}
		e.Tags = removeTags(e.Tags, keys)
		return putEntity(tx, e)
	})
}

func (s *Service) listEntityTags(ctx context.Context, kind, name string, marker *string, maxItems *int32) ([]iamapi.Tag, *bool, *string, error) {
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
	ts, trunc, next, err := page(e.Tags, marker, maxItems)
	if err != nil {
		return nil, nil, nil, err
	}
	out := apiTags(ts)
	if out == nil {
		out = []iamapi.Tag{}
	}
	return out, trunc, next, nil
}

// TagUser adds tags to a user.
func (s *Service) TagUser(ctx context.Context, in *iamapi.TagUserRequest) (*awsEmpty, error) {
	return empty(s.tagEntity(ctx, kindUser, str(in.UserName), in.Tags))
}

// UntagUser removes tags from a user.
func (s *Service) UntagUser(ctx context.Context, in *iamapi.UntagUserRequest) (*awsEmpty, error) {
	return empty(s.untagEntity(ctx, kindUser, str(in.UserName), in.TagKeys))
}

// ListUserTags lists a user's tags.
func (s *Service) ListUserTags(ctx context.Context, in *iamapi.ListUserTagsRequest) (*iamapi.ListUserTagsResponse, error) {
	ts, trunc, next, err := s.listEntityTags(ctx, kindUser, str(in.UserName), in.Marker, in.MaxItems)
	if err != nil {
		return nil, err
	}
	return &iamapi.ListUserTagsResponse{Tags: ts, IsTruncated: trunc, Marker: next}, nil
}

// TagRole adds tags to a role.
func (s *Service) TagRole(ctx context.Context, in *iamapi.TagRoleRequest) (*awsEmpty, error) {
	return empty(s.tagEntity(ctx, kindRole, str(in.RoleName), in.Tags))
}

// UntagRole removes tags from a role.
func (s *Service) UntagRole(ctx context.Context, in *iamapi.UntagRoleRequest) (*awsEmpty, error) {
	return empty(s.untagEntity(ctx, kindRole, str(in.RoleName), in.TagKeys))
}

// ListRoleTags lists a role's tags.
func (s *Service) ListRoleTags(ctx context.Context, in *iamapi.ListRoleTagsRequest) (*iamapi.ListRoleTagsResponse, error) {
	ts, trunc, next, err := s.listEntityTags(ctx, kindRole, str(in.RoleName), in.Marker, in.MaxItems)
	if err != nil {
		return nil, err
	}
	return &iamapi.ListRoleTagsResponse{Tags: ts, IsTruncated: trunc, Marker: next}, nil
}

// TagPolicy adds tags to a customer managed policy.
func (s *Service) TagPolicy(ctx context.Context, in *iamapi.TagPolicyRequest) (*awsEmpty, error) {
	acct := service.CallFrom(ctx).Principal.Account
	return empty(s.store.Update(ctx, func(tx store.Tx) error {
		p, err := getCustomerPolicy(tx, acct, str(in.PolicyArn))
		if err != nil {
			return err
		}
		if p.Tags, err = mergeTags(p.Tags, in.Tags); err != nil {
			return err
		}
		return putJSON(tx, tablePolicy, entityKey(acct, p.Name), p)
	}))
}

// UntagPolicy removes tags from a customer managed policy.
func (s *Service) UntagPolicy(ctx context.Context, in *iamapi.UntagPolicyRequest) (*awsEmpty, error) {
	acct := service.CallFrom(ctx).Principal.Account
	return empty(s.store.Update(ctx, func(tx store.Tx) error {
		p, err := getCustomerPolicy(tx, acct, str(in.PolicyArn))
		if err != nil {
			return err
		}
		p.Tags = removeTags(p.Tags, in.TagKeys)
		return putJSON(tx, tablePolicy, entityKey(acct, p.Name), p)
	}))
}

// ListPolicyTags lists a customer managed policy's tags.
func (s *Service) ListPolicyTags(ctx context.Context, in *iamapi.ListPolicyTagsRequest) (*iamapi.ListPolicyTagsResponse, error) {
	acct := service.CallFrom(ctx).Principal.Account
	var p *managedPolicy
	err := s.store.View(ctx, func(tx store.Tx) error {
		var err error
		p, err = getCustomerPolicy(tx, acct, str(in.PolicyArn))
		return err
	})
	if err != nil {
		return nil, err
	}
	ts, trunc, next, err := page(p.Tags, in.Marker, in.MaxItems)
	if err != nil {
		return nil, err
	}
	out := apiTags(ts)
	if out == nil {
		out = []iamapi.Tag{}
	}
	return &iamapi.ListPolicyTagsResponse{Tags: out, IsTruncated: trunc, Marker: next}, nil
}
