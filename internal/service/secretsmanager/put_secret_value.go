package secretsmanager

import (
	"context"
	"slices"
	"time"

	"github.com/rampart/rampart/internal/service"
	"github.com/rampart/rampart/internal/store"

	smapi "github.com/rampart/rampart/internal/api/secretsmanager"
)

// PutSecretValue adds a version to a secret, by default labelled
// AWSCURRENT (which moves AWSPREVIOUS to the version that was current).
// ClientRequestToken is the new version's id; a retry with the same token
// and value changes nothing, with another value it fails.
func (s *Service) PutSecretValue(ctx context.Context, in *smapi.PutSecretValueRequest) (*smapi.PutSecretValueResponse, error) {
	c := service.CallFrom(ctx)
	pv, _, err := valueOf(in.SecretString, in.SecretBinary, true)
	if err != nil {
		return nil, err
	}
	stages := in.VersionStages
	if stages == nil {
		stages = []string{stageCurrent}
	}
	if err := checkStages(stages); err != nil {
		return nil, err
	}
	sc, err := s.lookup(ctx, c, deref(in.SecretId))
	if err != nil {
		return nil, err
	}
	if sc == nil {
		return nil, errNotFound()
	}
	if sc.scheduled() {
		return nil, errMarkedDeleted()
	}
	if sc.replica() {
		return nil, errReplica()
	}
	// Another account's caller cannot write a value sealed by the AWS
	// managed key, as it cannot read one (crossaccount.go).
	if err := checkCrossAccountKey(c, sc.Account, sc.KmsKeyID); err != nil {
		return nil, err
	}
	versionID, err := requestToken(c, in.ClientRequestToken)
	if err != nil {
		return nil, err
	}
	if v := sc.version(versionID); v != nil {
		if err := s.sameValue(ctx, c, sc, versionID, pv, true); err != nil {
			return nil, err
		}
		return &smapi.PutSecretValueResponse{ARN: &sc.ARN, Name: &sc.Name, VersionId: &versionID, VersionStages: slices.Clone(v.Stages)}, nil
	}
	nv, err := s.addVersion(ctx, c, sc, versionID, pv, stages, nil)
	if err != nil {
		return nil, err
	}
	return &smapi.PutSecretValueResponse{ARN: &sc.ARN, Name: &sc.Name, VersionId: &versionID, VersionStages: nv.Stages}, nil
}

// addVersion encrypts pv as version versionID of sc under the secret's KMS
// key, then, in one transaction, adds it with the given stages, applies
// edit to the secret (may be nil), and drops the unlabelled versions AWS
// would drop.
func (s *Service) addVersion(ctx context.Context, c *service.Call, sc *secret, versionID string, pv plainValue, stages []string, edit func(*secret) error) (*version, error) {
	if sc.replica() {
		return nil, errReplica()
	}
	keyID := sc.KmsKeyID
	sv, keyARN, err := s.encrypt(ctx, c, sc, keyID, versionID, pv)
	if err != nil {
		return nil, err
	}
	replicas, err := s.sealForReplicas(ctx, c, sc, versionID, pv) // replication.go
	if err != nil {
		return nil, err
	}
	var nv *version
	err = s.store.Update(ctx, func(tx store.Tx) error {
		cur, err := load(tx, sc.key())
		if err != nil {
			return err
		}
		if cur == nil || cur.ARN != sc.ARN || cur.gone(c.Now) {
			return errNotFound()
		}
		if cur.scheduled() {
			return errMarkedDeleted()
		}
		if cur.KmsKeyID != keyID {
			return smapi.NewInvalidRequestException("The secret's KMS key changed while the value was being encrypted; retry the request.")
		}
		if cur.version(versionID) != nil {
			return errVersionExists()
		}
		nv = &version{ID: versionID, Stages: []string{}, Created: c.Now, KeyARN: keyARN}
		cur.Versions = append(cur.Versions, nv)
		for _, st := range stages {
			cur.moveStage(st, nv)
		}
		cur.LastChanged = c.Now
		if slices.Contains(stages, stageCurrent) {
			cur.Rotation.manualRotation(c.Now) // rotation.go
		}
		if edit != nil {
			if err := edit(cur); err != nil {
				return err
			}
		}
		if err := dropPruned(tx, cur, c.Now); err != nil {
			return err
		}
		if err := prepareReplicas(cur, replicas); err != nil {
			return err
		}
		if err := save(tx, cur); err != nil {
			return err
		}
		if err := putValue(tx, cur, versionID, sv); err != nil {
			return err
		}
		return putReplicaValues(tx, cur, versionID, replicas)
	})
	if err != nil {
		return nil, err
	}
	nv.Stages = slices.Clone(nv.Stages)
	return nv, nil
}

// checkStages applies the quota of 20 labels per version.
func checkStages(stages []string) error {
	if len(stages) > maxStagesPerVer {
		return smapi.NewLimitExceededException("You can attach at most %d staging labels to a version.", maxStagesPerVer)
	}
	return nil
}

// dropPruned deletes the values of the versions cur no longer keeps (see
// prune) and refuses a secret that a new version takes over maxVersions.
func dropPruned(tx store.Tx, cur *secret, now time.Time) error {
	for _, id := range cur.prune(now) {
		if _, err := tx.Delete(TableValue, valueKey(cur.key(), id)); err != nil {
			return err
		}
	}
	if len(cur.Versions) > maxVersions {
		return smapi.NewLimitExceededException("You have exceeded the maximum number of versions (%d) for secret %s. Remove staging labels from versions you no longer need; Secrets Manager deletes versions without labels that are more than 24 hours old.", maxVersions, cur.Name)
	}
	return nil
}
