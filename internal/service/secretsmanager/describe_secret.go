package secretsmanager

import (
	"context"

	"github.com/rampart/rampart/internal/service"

	smapi "github.com/rampart/rampart/internal/api/secretsmanager"
)

// DescribeSecret returns a secret's metadata, its versions' labels and its
// rotation state. It works on a secret scheduled for deletion (DeletedDate
// says since when).
func (s *Service) DescribeSecret(ctx context.Context, in *smapi.DescribeSecretRequest) (*smapi.DescribeSecretResponse, error) {
	c := service.CallFrom(ctx)
	sc, err := s.lookup(ctx, c, deref(in.SecretId))
	if err != nil {
		return nil, err
	}
	if sc == nil {
		return nil, errNotFound()
	}
	e := listEntry(sc)
	return &smapi.DescribeSecretResponse{
		ARN: e.ARN, Name: e.Name, Type: e.Type, Description: e.Description, KmsKeyId: e.KmsKeyId,
		RotationEnabled: e.RotationEnabled, RotationLambdaARN: e.RotationLambdaARN, RotationRules: e.RotationRules,
		LastRotatedDate: e.LastRotatedDate, LastChangedDate: e.LastChangedDate, LastAccessedDate: e.LastAccessedDate,
		DeletedDate: e.DeletedDate, NextRotationDate: e.NextRotationDate, Tags: e.Tags,
		VersionIdsToStages: e.SecretVersionsToStages, CreatedDate: e.CreatedDate, PrimaryRegion: e.PrimaryRegion,
		ReplicationStatus: s.replicationStatus(ctx, sc),
	}, nil
}

// listEntry is sc as ListSecrets and DescribeSecret show it.
func listEntry(sc *secret) smapi.SecretListEntry {
	e := smapi.SecretListEntry{
		ARN: ptr(sc.ARN), Name: ptr(sc.Name), Description: sc.Description,
		LastChangedDate: timePtr(sc.LastChanged), LastAccessedDate: timePtr(sc.Accessed),
		DeletedDate: timePtr(sc.Deleted), CreatedDate: timePtr(sc.Created),
		SecretVersionsToStages: sc.versionsToStages(),
	}
	if sc.KmsKeyID != "" {
		e.KmsKeyId = ptr(sc.KmsKeyID)
	}
	if sc.Type != "" {
		e.Type = ptr(sc.Type)
	}
	if pr := sc.primaryRegion(); pr != "" {
		e.PrimaryRegion = ptr(pr)
	}
	if len(sc.Tags) > 0 {
		e.Tags = make([]smapi.Tag, len(sc.Tags))
		for i, t := range sc.Tags {
			e.Tags[i] = smapi.Tag{Key: ptr(t.Key), Value: ptr(t.Value)}
		}
	}
	if r := sc.Rotation; r != nil {
		e.RotationEnabled = ptr(r.Enabled)
		if r.LambdaARN != "" {
			e.RotationLambdaARN = ptr(r.LambdaARN)
		}
		e.RotationRules = r.rules()
		e.LastRotatedDate = timePtr(r.LastRotated)
		if r.Enabled {
			e.NextRotationDate = timePtr(r.Next)
		}
	}
	return e
}
