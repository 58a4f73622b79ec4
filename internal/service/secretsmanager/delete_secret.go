package secretsmanager

import (
	"context"
	"time"

	"github.com/rampart/rampart/internal/service"
	"github.com/rampart/rampart/internal/store"

	smapi "github.com/rampart/rampart/internal/api/secretsmanager"
)

// DeleteSecret schedules a secret for deletion after a recovery window of
// 7 to 30 days (30 by default), or deletes it at once with
// ForceDeleteWithoutRecovery. A secret scheduled for deletion cannot be
// read or changed; RestoreSecret cancels the deletion; when the window ends
// the secret and all its versions are gone (the background loop removes
// them; until it does, no operation finds them).
func (s *Service) DeleteSecret(ctx context.Context, in *smapi.DeleteSecretRequest) (*smapi.DeleteSecretResponse, error) {
	c := service.CallFrom(ctx)
	force := deref(in.ForceDeleteWithoutRecovery)
	if in.RecoveryWindowInDays != nil && force {
		return nil, smapi.NewInvalidParameterException("You can't use ForceDeleteWithoutRecovery in conjunction with RecoveryWindowInDays.")
	}
	days := int64(defaultRecoveryWin)
	if in.RecoveryWindowInDays != nil {
		days = *in.RecoveryWindowInDays
		if days < 7 || days > 30 {
			return nil, smapi.NewInvalidParameterException("The RecoveryWindowInDays value must be between 7 and 30 days (inclusive).")
		}
	}
	var out *smapi.DeleteSecretResponse
	err := s.store.Update(ctx, func(tx store.Tx) error {
		sc, err := mustFind(tx, c, in.SecretId)
		if err != nil {
			return err
		}
		if err := checkDeletable(sc); err != nil { // replication.go
			return err
		}
		if force {
			// Allowed on a secret already scheduled for deletion: it is
			// how AWS deletes one at once.
			out = &smapi.DeleteSecretResponse{ARN: ptr(sc.ARN), Name: ptr(sc.Name), DeletionDate: ptr(c.Now)}
			return purge(tx, sc)
		}
		if sc.scheduled() {
			return errMarkedDeleted()
		}
		sc.Deleted = c.Now
		sc.DeleteAt = c.Now.Add(time.Duration(days) * 24 * time.Hour)
		sc.LastChanged = c.Now
		out = &smapi.DeleteSecretResponse{ARN: ptr(sc.ARN), Name: ptr(sc.Name), DeletionDate: ptr(sc.DeleteAt)}
		return save(tx, sc)
	})
	if err != nil {
		return nil, err
	}
	return out, nil
}

// RestoreSecret cancels a scheduled deletion. On a secret not scheduled for
// deletion it changes nothing.
func (s *Service) RestoreSecret(ctx context.Context, in *smapi.RestoreSecretRequest) (*smapi.RestoreSecretResponse, error) {
	c := service.CallFrom(ctx)
	var out *smapi.RestoreSecretResponse
	err := s.store.Update(ctx, func(tx store.Tx) error {
		sc, err := mustFind(tx, c, in.SecretId)
		if err != nil {
			return err
		}
		out = &smapi.RestoreSecretResponse{ARN: ptr(sc.ARN), Name: ptr(sc.Name)}
		if !sc.scheduled() {
			return nil
		}
		sc.Deleted, sc.DeleteAt = time.Time{}, time.Time{}
		sc.LastChanged = c.Now
		return save(tx, sc)
	})
	if err != nil {
		return nil, err
	}
	return out, nil
}

// PurgeDue deletes every secret whose recovery window has ended at now, and
// returns how many. The background loop calls it; tests call it with a
// clock of their own.
func (s *Service) PurgeDue(ctx context.Context, now time.Time) (int, error) {
	n := 0
	err := s.store.Update(ctx, func(tx store.Tx) error {
		kvs, err := tx.Scan(TableSecret, "", "", 0)
		if err != nil {
			return err
		}
		for _, kv := range kvs {
			sc, err := decodeSecret(kv)
			if err != nil {
				return err
			}
			if sc != nil && sc.gone(now) {
				if err := purge(tx, sc); err != nil {
					return err
				}
				n++
			}
		}
		return nil
	})
	return n, err
}
