package secretsmanager

import (
	"context"
	"slices"

	"github.com/rampart/rampart/internal/service"
	"github.com/rampart/rampart/internal/store"

	smapi "github.com/rampart/rampart/internal/api/secretsmanager"
)

// UpdateSecret changes a secret's description or KMS key and, given a
// value, adds a version labelled AWSCURRENT, which with
// AutomaticallyAfterDays counts as a rotation for the schedule
// (rotation.manualRotation).
//
// A new KmsKeyId encrypts new versions and, as AWS does, the versions
// labelled AWSCURRENT, AWSPENDING and AWSPREVIOUS, which are re-encrypted
// under the new key (API_UpdateSecret: "Secrets Manager uses this key to
// encrypt new secret versions as well as any existing versions with the
// staging labels AWSCURRENT, AWSPENDING, or AWSPREVIOUS").
func (s *Service) UpdateSecret(ctx context.Context, in *smapi.UpdateSecretRequest) (*smapi.UpdateSecretResponse, error) {
	c := service.CallFrom(ctx)
	pv, hasValue, err := valueOf(in.SecretString, in.SecretBinary, false)
	if err != nil {
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
		return s.updateReplica(ctx, c, sc, in, hasValue) // replication.go: only its KMS key
	}
	if hasValue {
		// The new value is sealed by the key the secret will have.
		key := sc.KmsKeyID
		if in.KmsKeyId != nil {
			key = *in.KmsKeyId
		}
		if err := checkCrossAccountKey(c, sc.Account, key); err != nil {
			return nil, err
		}
	}
	edit := func(cur *secret) error {
		if in.Description != nil {
			cur.Description = in.Description
		}
		if in.Type != nil {
			cur.Type = *in.Type
		}
		cur.LastChanged = c.Now
		return nil
	}
	out := &smapi.UpdateSecretResponse{ARN: &sc.ARN, Name: &sc.Name}

	if in.KmsKeyId != nil && *in.KmsKeyId != sc.KmsKeyID {
		if err := s.rekey(ctx, c, sc, *in.KmsKeyId); err != nil {
			return nil, err
		}
		if sc, err = s.lookup(ctx, c, sc.ARN); err != nil {
			return nil, err
		} else if sc == nil {
			return nil, errNotFound()
		}
	}
	if hasValue {
		versionID, err := requestToken(c, in.ClientRequestToken)
		if err != nil {
			return nil, err
		}
		if sc.version(versionID) != nil {
			if err := s.sameValue(ctx, c, sc, versionID, pv, true); err != nil {
				return nil, err
			}
			out.VersionId = &versionID
			return out, nil
		}
		if _, err := s.addVersion(ctx, c, sc, versionID, pv, []string{stageCurrent}, edit); err != nil {
			return nil, err
		}
		out.VersionId = &versionID
		return out, nil
	}
	err = s.store.Update(ctx, func(tx store.Tx) error {
		cur, err := mustFindLive(tx, c, &sc.ARN)
		if err != nil {
			return err
		}
		if err := edit(cur); err != nil {
			return err
		}
		return save(tx, cur)
	})
	if err != nil {
		return nil, err
	}
	return out, nil
}

// rekey re-encrypts the labelled versions of sc under keyID and makes
// keyID the secret's key.
func (s *Service) rekey(ctx context.Context, c *service.Call, sc *secret, keyID string) error {
	type redone struct {
		id     string
		sv     *sealedValue
		keyARN string
	}
	var done []redone
	for _, v := range sc.Versions {
		if !slices.ContainsFunc(v.Stages, func(st string) bool { return st == stageCurrent || st == stagePending || st == stagePrevious }) {
			continue
		}
		old, err := s.cachedValue(ctx, valueKey(sc.key(), v.ID))
		if err != nil {
			return err
		}
		if old == nil {
			continue
		}
		pv, err := s.decrypt(ctx, c, sc, v.ID, old)
		if err != nil {
			return err
		}
		sv, keyARN, err := s.encrypt(ctx, c, sc, keyID, v.ID, pv)
		clear(pv.data)
		if err != nil {
			return err
		}
		done = append(done, redone{v.ID, sv, keyARN})
	}
	if len(done) == 0 {
		// Check the key now, as AWS does, rather than at the next value.
		if _, _, err := s.encrypt(ctx, c, sc, keyID, "check", plainValue{}); err != nil {
			return err
		}
	}
	return s.store.Update(ctx, func(tx store.Tx) error {
		cur, err := mustFindLive(tx, c, &sc.ARN)
		if err != nil {
			return err
		}
		if cur.KmsKeyID != sc.KmsKeyID {
			return smapi.NewInvalidRequestException("The secret's KMS key changed while its versions were being re-encrypted; retry the request.")
		}
		cur.KmsKeyID = keyID
		cur.LastChanged = c.Now
		for _, d := range done {
			v := cur.version(d.id)
			if v == nil {
				continue
			}
			v.KeyARN = d.keyARN
			if err := putValue(tx, cur, d.id, d.sv); err != nil {
				return err
			}
		}
		return save(tx, cur)
	})
}
