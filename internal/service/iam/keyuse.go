package iam

import (
	"context"
	"encoding/json"
	"log/slog"
	"sync"
	"time"

	"github.com/rampart/rampart/internal/service"
	"github.com/rampart/rampart/internal/store"

	iamapi "github.com/rampart/rampart/internal/api/iam"
)

// Access key last use (GetAccessKeyLastUsed, the credential report).
//
// Recording a use must not cost the request a storage commit, so
// [Service.KeyUsed] only notes the use in memory; a background flusher
// writes the latest use of every key noted since its last run in one
// transaction, every keyUseFlushEvery (and on Close). Readers merge what
// is still pending, so answers are current at once on this node.

// tableKeyUse holds the last use of each access key: <akid> → keyUse.
// Its writes do not invalidate the identity cache (see invalidate).
const tableKeyUse = "iam.keyuse"

const keyUseFlushEvery = time.Second

// keyUse is an access key's last use.
type keyUse struct {
	At      time.Time `json:"at"`
	Service string    `json:"service"`
	Region  string    `json:"region"`
}

type keyUses struct {
	mu      sync.Mutex
	pending map[string]keyUse
	started bool
	stop    chan struct{}
	done    chan struct{}
}

// KeyUsed records that the access key accessKeyID signed a request to
// service (its endpoint prefix: "iam", "kms", "s3") in region at the given
// time. It is cheap and never blocks on storage: call it on every
// authenticated request. Uses are written in batches off the request path.
func (s *Service) KeyUsed(accessKeyID, service, region string, at time.Time) {
	if s == nil || s.store == nil || accessKeyID == "" {
		return
	}
	u := &s.uses
	u.mu.Lock()
	defer u.mu.Unlock()
	if old, ok := u.pending[accessKeyID]; ok && old.At.After(at) {
		return
	}
	if u.pending == nil {
		u.pending = map[string]keyUse{}
	}
	u.pending[accessKeyID] = keyUse{At: at.UTC(), Service: service, Region: region}
	if !u.started {
		u.started = true
		u.stop, u.done = make(chan struct{}), make(chan struct{})
		go s.flushUses(u.stop, u.done)
	}
}

func (s *Service) flushUses(stop, done chan struct{}) {
	defer close(done)
	t := time.NewTicker(keyUseFlushEvery)
	defer t.Stop()
	for {
		select {
		case <-stop:
			s.flushUsesNow()
			return
		case <-t.C:
			s.flushUsesNow()
		}
	}
}

// flushUsesNow writes the pending uses; a use older than the stored one
// (another node's) is dropped. On failure the uses are kept for the next run.
func (s *Service) flushUsesNow() {
	u := &s.uses
	u.mu.Lock()
	batch := u.pending
	u.pending = nil
	u.mu.Unlock()
	if len(batch) == 0 {
		return
	}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	err := s.store.Update(ctx, func(tx store.Tx) error {
		for id, use := range batch {
			var old keyUse
			if ok, err := getJSON(tx, tableKeyUse, id, &old); err != nil {
				return err
			} else if ok && !old.At.Before(use.At) {
				continue
			}
			if err := putJSON(tx, tableKeyUse, id, use); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		slog.Warn("iam: recording access key use", "keys", len(batch), "error", err)
		u.mu.Lock()
		for id, use := range batch {
			if cur, ok := u.pending[id]; !ok || cur.At.Before(use.At) {
				if u.pending == nil {
					u.pending = map[string]keyUse{}
				}
				u.pending[id] = use
			}
		}
		u.mu.Unlock()
	}
}

// stopUses stops the flusher after a last flush.
func (s *Service) stopUses() {
	u := &s.uses
	u.mu.Lock()
	started, stop, done := u.started, u.stop, u.done
	u.started = false
	u.mu.Unlock()
	if started {
		close(stop)
		<-done
	}
}

// lastUse returns the last recorded use of a key: pending, else stored.
func (s *Service) lastUse(tx store.Tx, id string) (keyUse, bool, error) {
	s.uses.mu.Lock()
	p, ok := s.uses.pending[id]
	s.uses.mu.Unlock()
	var stored keyUse
	found, err := getJSON(tx, tableKeyUse, id, &stored)
	if err != nil {
		return keyUse{}, false, err
	}
	switch {
	case ok && (!found || p.At.After(stored.At)):
		return p, true, nil
	case found:
		return stored, true, nil
	}
	return keyUse{}, false, nil
}

// GetAccessKeyLastUsed tells whose a key is and when, where and for which
// service it last signed a request; for a key never used, AWS's answer:
// ServiceName and Region "N/A", no date.
func (s *Service) GetAccessKeyLastUsed(ctx context.Context, in *iamapi.GetAccessKeyLastUsedRequest) (*iamapi.GetAccessKeyLastUsedResponse, error) {
	c := service.CallFrom(ctx)
	id := str(in.AccessKeyId)
	var user string
	var use keyUse
	var used bool
	err := s.store.View(ctx, func(tx store.Tx) error {
		kvs, err := tx.Scan(tableAccessKey, c.Principal.Account+"/", "", 0)
		if err != nil {
			return err
		}
		for _, kv := range kvs {
			var k accessKey
			if err := json.Unmarshal(kv.Value, &k); err != nil {
				return err
			}
			if k.ID == id {
				user = k.UserName
				if user == rootOwner {
					user = rootKeyUserName(c.Principal.Account)
				}
				use, used, err = s.lastUse(tx, id)
				return err
			}
		}
		// The account's original root key lives in authn only.
		if _, ok, err := authnRootKeyStatus(tx, c.Principal.Account, id); err != nil || ok {
			if err != nil {
				return err
			}
			user = rootKeyUserName(c.Principal.Account)
			use, used, err = s.lastUse(tx, id)
			return err
		}
		return iamapi.NewNoSuchEntityException("The Access Key with id %s cannot be found.", id)
	})
	if err != nil {
		return nil, err
	}
	last := &iamapi.AccessKeyLastUsed{ServiceName: ptr("N/A"), Region: ptr("N/A")}
	if used {
		last = &iamapi.AccessKeyLastUsed{LastUsedDate: ptr(use.At.Truncate(time.Second)), ServiceName: ptr(use.Service), Region: ptr(use.Region)}
	}
	return &iamapi.GetAccessKeyLastUsedResponse{UserName: ptr(user), AccessKeyLastUsed: last}, nil
}
