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
// deletion date has passed (with their aliases and grants), rotates keys
// whose automatic rotation is due, and drops imported key material whose
// expiry has passed. The worker calls it every minute with the wall
// clock; tests call it with the time they need.
func (s *Service) Sweep(ctx context.Context, now time.Time) error {
	var due []string
	err := s.store.View(ctx, func(tx store.Tx) error {
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
			if sweepDue(&k, now) {
				due = append(due, kv.Key)
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
	return errors.Join(errs...)
}

func sweepDue(k *keyRecord, now time.Time) bool {
	switch {
	case k.State == kmsapi.KeyStatePendingdeletion:
		return k.DeletionDate != nil && !now.Before(*k.DeletionDate)
	case k.RotationEnabled && k.NextRotation != nil && !now.Before(*k.NextRotation):
		// A multi-Region key rotates through its primary.
		return !k.replica()
	case k.ValidTo != nil && k.ExpirationModel == kmsapi.ExpirationModelTypeKeyMaterialExpires && !now.Before(*k.ValidTo):
		return len(k.Materials) > 0
	}
	return false
}

func (s *Service) sweepKey(tx store.Tx, path string, now time.Time) error {
	k, err := getKey(tx, path)
	if isNotFound(err) {
		return nil
	}
	if err != nil {
		return err
	}
	if !sweepDue(k, now) {
		return nil // changed since the scan
	}
	switch {
	case k.State == kmsapi.KeyStatePendingdeletion:
		if _, err := tx.Delete(TableKey, path); err != nil {
			return err
		}
		if _, err := tx.DeletePrefix(TableGrant, path+"/"); err != nil {
			return err
		}
		if _, err := tx.Delete(TableUsage, path); err != nil {
			return err
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
	case k.RotationEnabled && k.NextRotation != nil && !now.Before(*k.NextRotation):
		if k.State == kmsapi.KeyStateEnabled {
			if err := s.addMaterial(k, rand.Reader, *k.NextRotation, kmsapi.RotationTypeAutomatic); err != nil {
				return err
			}
		}
		next := k.NextRotation.Add(time.Duration(k.RotationPeriod) * 24 * time.Hour)
		for !now.Before(next) {
			next = next.Add(time.Duration(k.RotationPeriod) * 24 * time.Hour)
		}
		k.NextRotation = &next
	default: // imported material expired
		k.Materials = nil
		if k.State != kmsapi.KeyStatePendingdeletion {
			k.State = kmsapi.KeyStatePendingimport
		}
	}
	return putKey(tx, k)
}
