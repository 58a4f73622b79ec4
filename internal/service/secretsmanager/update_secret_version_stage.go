package secretsmanager

import (
	"context"
	"slices"

	"github.com/rampart/rampart/internal/service"
	"github.com/rampart/rampart/internal/store"

	smapi "github.com/rampart/rampart/internal/api/secretsmanager"
)

// UpdateSecretVersionStage moves a staging label to a version
// (MoveToVersionId), takes it off one (RemoveFromVersionId), or both. A
// label attached to another version must be removed from it explicitly.
// Moving AWSCURRENT moves AWSPREVIOUS to the version AWSCURRENT left. A
// version left without labels is deprecated, and dropped as AWS drops them.
func (s *Service) UpdateSecretVersionStage(ctx context.Context, in *smapi.UpdateSecretVersionStageRequest) (*smapi.UpdateSecretVersionStageResponse, error) {
	c := service.CallFrom(ctx)
	stage := deref(in.VersionStage)
	var out *smapi.UpdateSecretVersionStageResponse
	err := s.store.Update(ctx, func(tx store.Tx) error {
		sc, err := mustFindLive(tx, c, in.SecretId)
		if err != nil {
			return err
		}
		var from, to *version
		if in.RemoveFromVersionId != nil {
			if from = sc.version(*in.RemoveFromVersionId); from == nil {
				return smapi.NewInvalidParameterException("Not a valid version: %s", *in.RemoveFromVersionId)
			}
			if !slices.Contains(from.Stages, stage) {
				return smapi.NewInvalidParameterException("The staging label %s is not attached to version %s, so you can't remove it.", stage, from.ID)
			}
		}
		if in.MoveToVersionId != nil {
			if to = sc.version(*in.MoveToVersionId); to == nil {
				return smapi.NewInvalidParameterException("Not a valid version: %s", *in.MoveToVersionId)
			}
			if holder := sc.staged(stage); holder != nil && holder != to && holder != from {
				return smapi.NewInvalidParameterException("The parameter RemoveFromVersionId can't be empty. Staging label %s is currently attached to version %s, so you must explicitly reference that version in RemoveFromVersionId.", stage, holder.ID)
			}
			if !slices.Contains(to.Stages, stage) && len(to.Stages) >= maxStagesPerVer {
				return smapi.NewLimitExceededException("You can attach at most %d staging labels to a version.", maxStagesPerVer)
			}
		}
		if from == nil && to == nil {
			return smapi.NewInvalidParameterException("You must specify RemoveFromVersionId, MoveToVersionId, or both.")
		}
		switch {
		case to != nil:
			if from != nil && from != to {
				from.Stages = slices.DeleteFunc(from.Stages, func(st string) bool { return st == stage })
				if stage == stageCurrent {
					sc.moveStage(stagePrevious, from)
				}
			}
			sc.moveStage(stage, to)
		default:
			if stage == stageCurrent {
				return smapi.NewInvalidParameterException("You can't remove the staging label AWSCURRENT from a version without moving it to another version with MoveToVersionId.")
			}
			from.Stages = slices.DeleteFunc(from.Stages, func(st string) bool { return st == stage })
		}
		sc.LastChanged = c.Now
		for _, id := range sc.prune(c.Now) {
			if _, err := tx.Delete(TableValue, valueKey(sc.key(), id)); err != nil {
				return err
			}
		}
		out = &smapi.UpdateSecretVersionStageResponse{ARN: ptr(sc.ARN), Name: ptr(sc.Name)}
		return save(tx, sc)
	})
	if err != nil {
		return nil, err
	}
	return out, nil
}
