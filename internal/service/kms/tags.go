package kms

import (
	"context"
	"slices"

	"github.com/rampart/rampart/internal/awsproto"
	"github.com/rampart/rampart/internal/service"
	"github.com/rampart/rampart/internal/store"

	kmsapi "github.com/rampart/rampart/internal/api/kms"
)

// TagResource adds or replaces tags of a customer managed key.
func (s *Service) TagResource(ctx context.Context, in *kmsapi.TagResourceRequest) (*awsproto.Empty, error) {
	tags, err := checkTags(in.Tags)
	if err != nil {
		return nil, err
	}
	_, err = s.updateKey(ctx, deref(in.KeyId), func(_ store.Tx, rec *keyRecord) error {
		if err := managed(rec, "TagResource"); err != nil {
			return err
		}
		if err := pendingDeletion(rec); err != nil {
			return err
		}
		for _, t := range tags {
			i := slices.IndexFunc(rec.Tags, func(o tag) bool { return o.Key == t.Key })
			if i >= 0 {
				rec.Tags[i].Value = t.Value
			} else {
				rec.Tags = append(rec.Tags, t)
			}
		}
		if len(rec.Tags) > 50 {
			return kmsapi.NewTagException("Too many tags")
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	return &awsproto.Empty{}, nil
}

// UntagResource removes tags of a customer managed key; absent keys are
// ignored.
func (s *Service) UntagResource(ctx context.Context, in *kmsapi.UntagResourceRequest) (*awsproto.Empty, error) {
	_, err := s.updateKey(ctx, deref(in.KeyId), func(_ store.Tx, rec *keyRecord) error {
		if err := managed(rec, "UntagResource"); err != nil {
			return err
		}
		if err := pendingDeletion(rec); err != nil {
			return err
		}
		rec.Tags = slices.DeleteFunc(rec.Tags, func(t tag) bool { return slices.Contains(in.TagKeys, t.Key) })
		return nil
	})
	if err != nil {
		return nil, err
	}
	return &awsproto.Empty{}, nil
}

// ListResourceTags lists a key's tags in the order they were added.
func (s *Service) ListResourceTags(ctx context.Context, in *kmsapi.ListResourceTagsRequest) (*kmsapi.ListResourceTagsResponse, error) {
	e, _, err := s.resolve(ctx, service.CallFrom(ctx), deref(in.KeyId), false)
	if err != nil {
		return nil, err
	}
	start := 0
	if in.Marker != nil {
		m, err := marker(in.Marker)
		if err != nil {
			return nil, err
		}
		i := slices.IndexFunc(e.rec.Tags, func(t tag) bool { return t.Key == m })
		if i < 0 {
			return nil, kmsapi.NewInvalidMarkerException("Invalid marker")
		}
		start = i + 1
	}
	limit := limitOf(in.Limit)
	out := &kmsapi.ListResourceTagsResponse{Tags: []kmsapi.Tag{}, Truncated: ptr(false)}
	for i := start; i < len(e.rec.Tags); i++ {
		if len(out.Tags) == limit {
			out.Truncated = ptr(true)
			out.NextMarker = ptr(e.rec.Tags[i-1].Key)
			break
		}
		t := e.rec.Tags[i]
		out.Tags = append(out.Tags, kmsapi.Tag{TagKey: ptr(t.Key), TagValue: ptr(t.Value)})
	}
	return out, nil
}
