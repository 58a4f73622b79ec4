package organizations

import (
	"context"

	"github.com/rampart/rampart/internal/awsproto"
	"github.com/rampart/rampart/internal/service"
	"github.com/rampart/rampart/internal/store"

	orgapi "github.com/rampart/rampart/internal/api/organizations"
)

// tagsOf returns a pointer to the tag map of an account, OU, root or
// customer managed policy, or nil when id names none of them.
func (o *org) tagsOf(id string) *map[string]string {
	switch {
	case id == o.RootID:
		return &o.RootTags
	case o.OUs[id] != nil:
		return &o.OUs[id].Tags
	case o.Accounts[id] != nil:
		return &o.Accounts[id].Tags
	case o.Policies[id] != nil:
		return &o.Policies[id].Tags
	}
	return nil
}

// TagResource adds or replaces tags on an account, OU, root or policy.
func (s *Service) TagResource(ctx context.Context, in *orgapi.TagResourceRequest) (*awsproto.Empty, error) {
	add, err := tagMap(in.Tags)
	if err != nil {
		return nil, err
	}
	err = s.update(ctx, managerOnly, func(_ store.Tx, _ *service.Call, o *org) error {
		tags := o.tagsOf(str(in.ResourceId))
		if tags == nil {
			return errTargetNotFound()
		}
		merged := map[string]string{}
		for k, v := range *tags {
			merged[k] = v
		}
		for k, v := range add {
			merged[k] = v
		}
		if len(merged) > maxTags {
			return tooManyTags()
		}
		*tags = merged
		return nil
	})
	if err != nil {
		return nil, err
	}
	return &awsproto.Empty{}, nil
}

// UntagResource removes tags by key; absent keys are ignored.
func (s *Service) UntagResource(ctx context.Context, in *orgapi.UntagResourceRequest) (*awsproto.Empty, error) {
	err := s.update(ctx, managerOnly, func(_ store.Tx, _ *service.Call, o *org) error {
		tags := o.tagsOf(str(in.ResourceId))
		if tags == nil {
			return errTargetNotFound()
		}
		for _, k := range in.TagKeys {
			delete(*tags, k)
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	return &awsproto.Empty{}, nil
}

// ListTagsForResource lists the tags of an account, OU, root or policy.
func (s *Service) ListTagsForResource(ctx context.Context, in *orgapi.ListTagsForResourceRequest) (*orgapi.ListTagsForResourceResponse, error) {
	out := &orgapi.ListTagsForResourceResponse{}
	err := s.view(ctx, readOnly, func(_ *service.Call, o *org) error {
		tags := o.tagsOf(str(in.ResourceId))
		if tags == nil {
			return errTargetNotFound()
		}
		items, next, err := page(apiTags(*tags), func(t orgapi.Tag) string { return *t.Key }, in.NextToken, nil, 50)
		out.Tags, out.NextToken = nonNil(items), next
		return err
	})
	if err != nil {
		return nil, err
	}
	return out, nil
}
