package kms

import (
	"context"
	"crypto/rand"
	"encoding/json"
	"errors"
	"time"

	"github.com/rampart/rampart/internal/store"

	kmsapi "github.com/rampart/rampart/internal/api/kms"
)

// ScheduleKeyDeletion schedules a key's deletion after a waiting period of
// 7–30 days (30 by default). Until then the key is PendingDeletion:
// nobody can use it, and CancelKeyDeletion brings it back disabled.
func (s *Service) ScheduleKeyDeletion(ctx context.Context, in *kmsapi.ScheduleKeyDeletionRequest) (*kmsapi.ScheduleKeyDeletionResponse, error) {
	days := pendingWindow(in.PendingWindowInDays)
	if days < 7 {
		return nil, constraint(itoa(int(days)), "pendingWindowInDays", "Member must have value greater than or equal to 7")
	}
	if days > 30 {
		return nil, constraint(itoa(int(days)), "pendingWindowInDays", "Member must have value less than or equal to 30")
	}
	now := callNow(ctx)
	rec, err := s.updateKey(ctx, deref(in.KeyId), func(_ store.Tx, rec *keyRecord) error {
		if err := managed(rec, "ScheduleKeyDeletion"); err != nil {
			return err
		}
		if err := pendingDeletion(rec); err != nil {
			return err
		}
		if rec.MultiRegion && !rec.replica() && len(rec.set.Replicas) > 0 {
			// A primary key waits for its replicas: its waiting period
			// begins when the last of them is deleted.
			rec.State, rec.DeletionDate, rec.PendingWindow = kmsapi.KeyStatePendingreplicadeletion, nil, days
			return nil
		}
		when := now.Add(time.Duration(days) * 24 * time.Hour)
		rec.State = kmsapi.KeyStatePendingdeletion
		rec.DeletionDate = &when
		rec.PendingWindow = days
		return nil
	})
	if err != nil {
		return nil, err
	}
	return &kmsapi.ScheduleKeyDeletionResponse{KeyId: ptr(rec.arn()), DeletionDate: rec.DeletionDate, KeyState: rec.State, PendingWindowInDays: ptr(days)}, nil
}

// CancelKeyDeletion cancels a scheduled deletion; the key comes back
// Disabled, as in AWS.
func (s *Service) CancelKeyDeletion(ctx context.Context, in *kmsapi.CancelKeyDeletionRequest) (*kmsapi.CancelKeyDeletionResponse, error) {
	rec, err := s.updateKey(ctx, deref(in.KeyId), func(_ store.Tx, rec *keyRecord) error {
		if rec.State != kmsapi.KeyStatePendingdeletion && rec.State != kmsapi.KeyStatePendingreplicadeletion {
			return kmsapi.NewKMSInvalidStateException("%s is not pending deletion.", rec.arn())
		}
		rec.State = kmsapi.KeyStateDisabled
		if len(rec.Materials) == 0 {
			rec.State = kmsapi.KeyStatePendingimport
		}
		rec.DeletionDate = nil
		rec.PendingWindow = 0
		return nil
	})
	if err != nil {
		return nil, err
	}
	return &kmsapi.CancelKeyDeletionResponse{KeyId: ptr(rec.arn())}, nil
}

// Sweep does the background work due at now: it deletes keys whose
// deletion date has passed (with their aliases and grants), drops imported
// key material whose expiry has passed (also while the key is pending
// deletion), and rotates keys whose automatic rotation is due, holding
// back the rotation of a key that is not Enabled (see
// [TableRotationHold]). The worker calls it every minute with the wall
// clock; tests call it with the time they need.
func (s *Service) Sweep(ctx context.Context, now time.Time) error {
	var due, stale []string
	err := s.store.View(ctx, func(tx store.Tx) error {
		holds := map[string]*time.Time{}
		hkvs, err := tx.Scan(TableRotationHold, "", "", 0)
		if err != nil {
			return err
		}
		for _, kv := range hkvs {
			var h rotationHold
			if err := json.Unmarshal(kv.Value, &h); err != nil {
				return err
			}
			holds[kv.Key] = &h.Missed
		}
		seen := map[string]bool{}
		kvs, err := tx.Scan(TableKey, "", "", 0)
		if err != nil {
			return err
		}
		for _, kv := range kvs {
			var k keyRecord
			if err := json.Unmarshal(kv.Value, &k); err != nil {
				return err
			}
			if k.MultiRegion {
				set, err := getKeySet(tx, k.Account, k.ID)
				if isNotFound(err) {
					continue // an orphan must not stop the other keys' work
				}
				if err != nil {
					return err
				}
				k.join(set)
			}
			hp := holdPath(&k)
			seen[hp] = true
			if sweepDue(&k, holds[hp], now) != sweepNone {
				due = append(due, kv.Key)
			}
		}
		for hp := range holds {
			if !seen[hp] {
				stale = append(stale, hp) // its key is gone
			}
		}
		return nil
	})
	if err != nil {
		return err
	}
	var errs []error
	for _, path := range due {
		if err := s.store.Update(ctx, func(tx store.Tx) error { return s.sweepKey(tx, path, now) }); err != nil {
			errs = append(errs, err)
		}
	}
	if len(stale) > 0 {
		err := s.store.Update(ctx, func(tx store.Tx) error {
			for _, hp := range stale {
				if _, err := tx.Delete(TableRotationHold, hp); err != nil {
					return err
				}
			}
			return nil
		})
		if err != nil {
			errs = append(errs, err)
		}
	}
	return errors.Join(errs...)
}

// sweepAction is the background work due on a key.
type sweepAction int

const (
	sweepNone     sweepAction = iota
	sweepDelete               // its deletion date has passed
	sweepExpire               // its imported key material has expired
	sweepRotate               // its automatic rotation is due
	sweepHold                 // its automatic rotation is due, but it is not Enabled
	sweepResume               // it is Enabled again after a held rotation
	sweepDropHold             // it has a held rotation but no longer rotates
)

// sweepDue says what work is due on k at now; hold is the date of the
// rotation k missed while it was not Enabled (nil: none).
func sweepDue(k *keyRecord, hold *time.Time, now time.Time) sweepAction {
	if k.State == kmsapi.KeyStatePendingdeletion && k.DeletionDate != nil && !now.Before(*k.DeletionDate) {
		return sweepDelete
	}
	// "When the key material expires, KMS deletes the key material from
	// the KMS key" (ImportKeyMaterial, ValidTo), whatever the key state:
	// DeleteImportedKeyMaterial too deletes the material of a key pending
	// deletion, which stays PendingDeletion.
	if k.ValidTo != nil && k.ExpirationModel == kmsapi.ExpirationModelTypeKeyMaterialExpires && !now.Before(*k.ValidTo) && len(k.Materials) > 0 {
		return sweepExpire
	}
	if k.replica() {
		return sweepNone // a multi-Region key rotates through its primary
	}
	if hold != nil && now.Before(*hold) {
		return sweepNone // a sweep whose clock is behind the one that held the rotation
	}
	switch {
	case !k.RotationEnabled || k.NextRotation == nil:
		if hold != nil {
			return sweepDropHold
		}
	case k.State != kmsapi.KeyStateEnabled:
		// Disabled, or pending deletion: KMS does not rotate it
		// ("How automatic key rotation works").
		if !now.Before(*k.NextRotation) {
			return sweepHold
		}
	case hold != nil:
		return sweepResume
	case !now.Before(*k.NextRotation):
		return sweepRotate
	}
	return sweepNone
}

func (s *Service) sweepKey(tx store.Tx, path string, now time.Time) error {
	k, err := getKey(tx, path)
	if isNotFound(err) {
		return nil
	}
	if err != nil {
		return err
	}
	hold, err := getHold(tx, k)
	if err != nil {
		return err
	}
	act := sweepDue(k, hold, now)
	switch act {
	case sweepNone:
		return nil // changed since the scan
	case sweepDelete:
		if _, err := tx.Delete(TableKey, path); err != nil {
			return err
		}
		if _, err := tx.DeletePrefix(TableGrant, path+"/"); err != nil {
			return err
		}
		if _, err := tx.Delete(TableUsage, path); err != nil {
			return err
		}
		if !k.replica() {
			// A multi-Region primary is deleted after its replicas.
			if err := dropHold(tx, k); err != nil {
				return err
			}
		}
		aliases, err := keyAliases(tx, k.Account, k.Region, k.ID)
		if err != nil {
			return err
		}
		for _, a := range aliases {
			if _, err := tx.Delete(TableAlias, aliasPath(k.Account, k.Region, a.Name)); err != nil {
				return err
			}
		}
		if k.MultiRegion {
			return dropFromKeySet(tx, k, now)
		}
		return nil
	case sweepExpire:
		// "When the specified KMS key is in the PendingDeletion state,
		// this operation does not change the KMS key's state. Otherwise,
		// it changes the KMS key's state to PendingImport"
		// (DeleteImportedKeyMaterial); expiry deletes the material the
		// same way ("Delete imported key material": "In either case").
		k.Materials = nil
		if pendingDeletion(k) == nil {
			k.State = kmsapi.KeyStatePendingimport
		}
	case sweepHold:
		if hold == nil {
			if err := putHold(tx, k, *k.NextRotation); err != nil {
				return err
			}
		}
		// The original schedule goes on, for the day the key is Enabled
		// with young key material.
		k.NextRotation = nextRotationAfter(k, *k.NextRotation, now)
	case sweepDropHold:
		return dropHold(tx, k)
	case sweepResume:
		// The key is Enabled again: the first sweep that sees it decides,
		// as AWS does when the key is re-enabled. Key material at least
		// one rotation period old rotates now and starts a new schedule;
		// younger material waits for the original schedule.
		if err := dropHold(tx, k); err != nil {
			return err
		}
		if cur := k.current(); cur == nil || now.Sub(cur.Created) >= rotationPeriod(k) {
			if err := s.addMaterial(k, rand.Reader, now, kmsapi.RotationTypeAutomatic); err != nil {
				return err
			}
			next := now.Add(rotationPeriod(k))
			k.NextRotation = &next
			break
		}
		if now.Before(*k.NextRotation) {
			break
		}
		fallthrough // the original schedule's date passed with the key Enabled
	case sweepRotate:
		if err := s.addMaterial(k, rand.Reader, *k.NextRotation, kmsapi.RotationTypeAutomatic); err != nil {
			return err
		}
		k.NextRotation = nextRotationAfter(k, *k.NextRotation, now)
	}
	return putKey(tx, k)
}
