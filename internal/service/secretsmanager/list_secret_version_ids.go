package secretsmanager

import (
	"context"
	"slices"

	"github.com/rampart/rampart/internal/service"

	smapi "github.com/rampart/rampart/internal/api/secretsmanager"
)

// ListSecretVersionIds lists a secret's versions, newest first. Versions
// without staging labels are deprecated and listed only with
// IncludeDeprecated.
func (s *Service) ListSecretVersionIds(ctx context.Context, in *smapi.ListSecretVersionIdsRequest) (*smapi.ListSecretVersionIdsResponse, error) {
	c := service.CallFrom(ctx)
	sc, err := s.lookup(ctx, c, deref(in.SecretId))
	if err != nil {
		return nil, err
	}
	if sc == nil {
		return nil, errNotFound()
	}
	var vs []*version
	for _, v := range sc.Versions {
		if len(v.Stages) > 0 || deref(in.IncludeDeprecated) {
			vs = append(vs, v)
		}
	}
	slices.SortStableFunc(vs, func(a, b *version) int { return b.Created.Compare(a.Created) })
	offset := 0
	if in.NextToken != nil {
		if offset, err = decodeToken(*in.NextToken); err != nil {
			return nil, err
		}
	}
	limit := 100
	if in.MaxResults != nil {
		limit = int(*in.MaxResults)
	}
	offset = min(offset, len(vs))
	end := min(offset+limit, len(vs))
	out := &smapi.ListSecretVersionIdsResponse{ARN: &sc.ARN, Name: &sc.Name, Versions: []smapi.SecretVersionsListEntry{}}
	if end < len(vs) {
		out.NextToken = ptr(encodeToken(end))
	}
	for _, v := range vs[offset:end] {
		e := smapi.SecretVersionsListEntry{VersionId: ptr(v.ID), VersionStages: slices.Clone(v.Stages),
			CreatedDate: timePtr(v.Created), LastAccessedDate: timePtr(v.Accessed)}
		if v.KeyARN != "" {
			e.KmsKeyIds = []string{v.KeyARN}
		}
		out.Versions = append(out.Versions, e)
	}
	return out, nil
}
