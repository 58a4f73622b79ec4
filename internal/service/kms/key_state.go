package kms

import (
	"context"
	"errors"

	"github.com/rampart/rampart/internal/awsproto"
	"github.com/rampart/rampart/internal/service"
	"github.com/rampart/rampart/internal/store"

	kmsapi "github.com/rampart/rampart/internal/api/kms"
)

// updateKey runs fn on the stored record of the key keyID names (no
// aliases) in one transaction, and stores the record when fn succeeds.
func (s *Service) updateKey(ctx context.Context, keyID string, fn func(tx store.Tx, rec *keyRecord) error) (*keyRecord, error) {
	c := service.CallFrom(ctx)
	e, _, err := s.resolve(ctx, c, keyID, false)
	if err != nil {
		return nil, err
	}
	var rec *keyRecord
	err = s.store.Update(ctx, func(tx store.Tx) error {
		var err error
		rec, err = getKey(tx, e.path)
		if isNotFound(err) {
			return kmsapi.NewNotFoundException("Key '%s' does not exist", e.arn)
		}
		if err != nil {
			return err
		}
		if err := fn(tx, rec); err != nil {
			return err
		}
		return putKey(tx, rec)
	})
	if err != nil {
		var ae *awsproto.Error
		if errors.As(err, &ae) {
			return nil, ae
		}
		return nil, awsproto.Internal(err)
	}
	return rec, nil
}

// managed refuses changes to AWS managed keys.
func managed(rec *keyRecord, op string) error {
	if rec.Manager == kmsapi.KeyManagerTypeAws {
		return kmsapi.NewUnsupportedOperationException("%s is an AWS managed key; %s is not supported on AWS managed keys.", rec.arn(), op)
	}
	return nil
}

// EnableKey sets a Disabled key's state to Enabled.
func (s *Service) EnableKey(ctx context.Context, in *kmsapi.EnableKeyRequest) (*awsproto.Empty, error) {
	_, err := s.updateKey(ctx, deref(in.KeyId), func(_ store.Tx, rec *keyRecord) error {
		if err := managed(rec, "EnableKey"); err != nil {
			return err
		}
		switch rec.State {
		case kmsapi.KeyStateEnabled, kmsapi.KeyStateDisabled:
			rec.State = kmsapi.KeyStateEnabled
			return nil
		}
		return kmsapi.NewKMSInvalidStateException("%s is %s.", rec.arn(), stateWords(rec.State))
	})
	if err != nil {
		return nil, err
	}
	return &awsproto.Empty{}, nil
}

// DisableKey sets an Enabled key's state to Disabled: nobody can use it
// until EnableKey.
func (s *Service) DisableKey(ctx context.Context, in *kmsapi.DisableKeyRequest) (*awsproto.Empty, error) {
	_, err := s.updateKey(ctx, deref(in.KeyId), func(_ store.Tx, rec *keyRecord) error {
		if err := managed(rec, "DisableKey"); err != nil {
			return err
		}
		switch rec.State {
		case kmsapi.KeyStateEnabled, kmsapi.KeyStateDisabled:
			rec.State = kmsapi.KeyStateDisabled
			return nil
		}
		return kmsapi.NewKMSInvalidStateException("%s is %s.", rec.arn(), stateWords(rec.State))
	})
	if err != nil {
		return nil, err
	}
	return &awsproto.Empty{}, nil
}

// UpdateKeyDescription replaces a key's description.
func (s *Service) UpdateKeyDescription(ctx context.Context, in *kmsapi.UpdateKeyDescriptionRequest) (*awsproto.Empty, error) {
	_, err := s.updateKey(ctx, deref(in.KeyId), func(_ store.Tx, rec *keyRecord) error {
		if err := managed(rec, "UpdateKeyDescription"); err != nil {
			return err
		}
		if err := pendingDeletion(rec); err != nil {
			return err
		}
		rec.Description = deref(in.Description)
		return nil
	})
	if err != nil {
		return nil, err
	}
	return &awsproto.Empty{}, nil
}

func stateWords(st kmsapi.KeyState) string {
	switch st {
	case kmsapi.KeyStatePendingdeletion:
		return "pending deletion"
	case kmsapi.KeyStatePendingimport:
		return "pending import"
	case kmsapi.KeyStatePendingreplicadeletion:
		return "pending replica deletion"
	}
	return string(st)
}
