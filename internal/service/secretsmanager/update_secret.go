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
	edit := func(cur *secret) {
		if in.Description != nil {
			cur.Description = in.Description
		}
		if in.Type != nil {
			cur.Type = *in.Type
		}
		cur.LastChanged = c.Now
	}
	out := &smapi.UpdateSecretResponse{ARN: &sc.ARN, Name: &sc.Name}
	rekey := in.KmsKeyId != nil && *in.KmsKeyId != sc.KmsKeyID
	var versionID string
	newVersion := false
	if hasValue {
		if versionID, err = requestToken(c, in.ClientRequestToken); err != nil {
			return nil, err
		}
		out.VersionId = &versionID
		if sc.version(versionID) != nil {
			// A retry: the same value, or ResourceExistsException.
			if err := s.sameValue(ctx, c, sc, versionID, pv, true); err != nil {
				return nil, err
			}
			if !rekey {
				return out, nil
			}
		} else {
			newVersion = true
		}
	}

	// One storage transaction applies the whole call. Everything that can
	// fail outside it (KMS, for the versions re-encrypted under a new key
	// and for the new value) is done first; what can fail inside it (the
	// secret changed meanwhile, the quota of versions) rolls it back: a
	// call that fails changes nothing.
	keyID := sc.KmsKeyID
	var redo *rekeyPlan
	if rekey {
		keyID = *in.KmsKeyId
		if redo, err = s.planRekey(ctx, c, sc, keyID, !newVersion); err != nil {
			return nil, err
		}
	}
	var (
		nsv      *sealedValue
		nkeyARN  string
		replicas []*replicaPlan
	)
	if newVersion {
		if nsv, nkeyARN, err = s.encrypt(ctx, c, sc, keyID, versionID, pv); err != nil {
			return nil, err
		}
		if replicas, err = s.sealForReplicas(ctx, c, sc, versionID, pv); err != nil { // replication.go
			return nil, err
		}
		if redo != nil && redo.keyARN == "" {
			redo.keyARN = nkeyARN
		}
	}
	stored := keyID
	if redo != nil {
		if stored, err = s.storedKeyID(ctx, sc, keyID, redo.keyARN); err != nil { // crossaccount.go
			return nil, err
		}
	}
	err = s.store.Update(ctx, func(tx store.Tx) error {
		cur, err := mustFindLive(tx, c, &sc.ARN)
		if err != nil {
			return err
		}
		if (redo != nil || newVersion) && cur.KmsKeyID != sc.KmsKeyID {
			return smapi.NewInvalidRequestException("The secret's KMS key changed while its values were being encrypted; retry the request.")
		}
		if redo != nil {
			if err := redo.apply(tx, cur, stored); err != nil {
				return err
			}
		}
		if newVersion {
			if cur.version(versionID) != nil {
				return errVersionExists()
			}
			nv := &version{ID: versionID, Stages: []string{}, Created: c.Now, KeyARN: nkeyARN}
			cur.Versions = append(cur.Versions, nv)
			cur.moveStage(stageCurrent, nv)
			cur.Rotation.manualRotation(c.Now) // rotation.go
		}
		edit(cur)
		if newVersion {
			if err := dropPruned(tx, cur, c.Now); err != nil {
				return err
			}
			if err := prepareReplicas(cur, replicas); err != nil {
				return err
			}
		}
		if err := save(tx, cur); err != nil {
			return err
		}
		if !newVersion {
			return nil
		}
		if err := putValue(tx, cur, versionID, nsv); err != nil {
			return err
		}
		return putReplicaValues(tx, cur, versionID, replicas)
	})
	if err != nil {
		return nil, err
	}
	return out, nil
}

// rekeyPlan is the labelled versions of a secret re-encrypted under a new
// KMS key, ready to be stored.
type rekeyPlan struct {
	keyARN string          // the new key's ARN ("" until a value is sealed)
	seen   map[string]bool // the labelled versions, by id
	done   []redone
}

type redone struct {
	id     string
	sv     *sealedValue
	keyARN string
}

// planRekey re-encrypts the versions of sc labelled AWSCURRENT,
// AWSPENDING or AWSPREVIOUS under keyID. check asks KMS for the key even
// when there is no such version (the call adds no value either), as AWS
// checks the key at once rather than at the next value.
func (s *Service) planRekey(ctx context.Context, c *service.Call, sc *secret, keyID string, check bool) (*rekeyPlan, error) {
	p := &rekeyPlan{seen: map[string]bool{}}
	for _, v := range sc.Versions {
		if !rekeyed(v) {
			continue
		}
		p.seen[v.ID] = true
		old, err := s.cachedValue(ctx, valueKey(sc.key(), v.ID))
		if err != nil {
			return nil, err
		}
		if old == nil {
			continue
		}
		pv, err := s.decrypt(ctx, c, sc, v.ID, old)
		if err != nil {
			return nil, err
		}
		sv, keyARN, err := s.encrypt(ctx, c, sc, keyID, v.ID, pv)
		clear(pv.data)
		if err != nil {
			return nil, err
		}
		p.done = append(p.done, redone{v.ID, sv, keyARN})
		p.keyARN = keyARN
	}
	if len(p.done) == 0 && check {
		_, keyARN, err := s.encrypt(ctx, c, sc, keyID, "check", plainValue{})
		if err != nil {
			return nil, err
		}
		p.keyARN = keyARN
	}
	return p, nil
}

// rekeyed reports whether UpdateSecret re-encrypts v under a new key.
func rekeyed(v *version) bool {
	return slices.ContainsFunc(v.Stages, func(st string) bool { return st == stageCurrent || st == stagePending || st == stagePrevious })
}

// apply makes keyID cur's key and stores the re-encrypted values, in the
// call's transaction. A version labelled since the plan was made, whose
// value is still under the old key, makes the caller retry.
func (p *rekeyPlan) apply(tx store.Tx, cur *secret, keyID string) error {
	for _, v := range cur.Versions {
		if rekeyed(v) && !p.seen[v.ID] {
			return smapi.NewInvalidRequestException("The secret's versions changed while they were being re-encrypted; retry the request.")
		}
	}
	cur.KmsKeyID = keyID
	for _, d := range p.done {
		v := cur.version(d.id)
		if v == nil {
			continue
		}
		v.KeyARN = d.keyARN
		if err := putValue(tx, cur, d.id, d.sv); err != nil {
			return err
		}
	}
	return nil
}
