package secretsmanager

import (
	"context"
	"slices"

	"github.com/rampart/rampart/internal/awsproto"
	"github.com/rampart/rampart/internal/service"
	"github.com/rampart/rampart/internal/store"

	smapi "github.com/rampart/rampart/internal/api/secretsmanager"
)

// TagResource adds tags to a secret; a key it already has takes the new value.
func (s *Service) TagResource(ctx context.Context, in *smapi.TagResourceRequest) (*awsproto.Empty, error) {
	c := service.CallFrom(ctx)
	err := s.store.Update(ctx, func(tx store.Tx) error {
		sc, err := mustFindLive(tx, c, in.SecretId)
		if err != nil {
			return err
		}
		if sc.Tags, err = checkTags(sc.Tags, in.Tags); err != nil {
			return err
		}
		sc.LastChanged = c.Now
		return save(tx, sc)
	})
	if err != nil {
		return nil, err
	}
	return &awsproto.Empty{}, nil
}

// UntagResource removes tags from a secret; keys it does not have are ignored.
func (s *Service) UntagResource(ctx context.Context, in *smapi.UntagResourceRequest) (*awsproto.Empty, error) {
	c := service.CallFrom(ctx)
	err := s.store.Update(ctx, func(tx store.Tx) error {
		sc, err := mustFindLive(tx, c, in.SecretId)
		if err != nil {
			return err
		}
		sc.Tags = slices.DeleteFunc(sc.Tags, func(t tag) bool { return slices.Contains(in.TagKeys, t.Key) })
		sc.LastChanged = c.Now
		return save(tx, sc)
	})
	if err != nil {
		return nil, err
	}
	return &awsproto.Empty{}, nil
}
