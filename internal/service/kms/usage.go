package kms

import (
	"context"
	"encoding/json"
	"sync"
	"time"

	"github.com/rampart/rampart/internal/awsproto"
	"github.com/rampart/rampart/internal/service"
	"github.com/rampart/rampart/internal/store"

	kmsapi "github.com/rampart/rampart/internal/api/kms"
)

// TableUsage holds the last cryptographic use of each key, under the
// key's path; the row "-since" holds when tracking began in this store.
const TableUsage = "kms.usage"

const usageSince = "-since"

const usageFlushDelay = time.Second

// usageRecord is the last successful cryptographic operation with a key.
type usageRecord struct {
	Operation kmsapi.KeyLastUsageTrackingOperation `json:"op"`
	Time      time.Time                            `json:"time"`
	RequestID string                               `json:"requestId"`
}

// usageLog keeps the last use of each key in memory, by key path, until
// a flush writes it to the store, usageFlushDelay after the first use
// that found the log empty: the hot path never writes to the store for
// it, and a busy node writes one transaction per delay for all its keys.
// GetKeyLastUsage reads the newer of the memory and the store, so on one
// node it is exact at once; across nodes it lags by about the delay, as
// AWS's own tracking lags.
type usageLog struct {
	mu   sync.Mutex
	last map[string]usageRecord
}

// used records a successful cryptographic operation with e.
func (s *Service) used(c *service.Call, e *keyEntry, op kmsapi.KeyLastUsageTrackingOperation) {
	r := usageRecord{Operation: op, Time: c.Now, RequestID: c.RequestID}
	s.usage.mu.Lock()
	if s.usage.last == nil {
		s.usage.last = map[string]usageRecord{}
	}
	first := len(s.usage.last) == 0
	if old, ok := s.usage.last[e.path]; !ok || !r.Time.Before(old.Time) {
		s.usage.last[e.path] = r
	}
	s.usage.mu.Unlock()
	if first {
		time.AfterFunc(usageFlushDelay, func() {
			select {
			case <-s.stop:
				return // Close flushes
			default:
			}
			ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
			defer cancel()
			_ = s.flushUsage(ctx) // kept in memory on failure; retried by the worker
		})
	}
}

// flushUsage writes the usage recorded in memory to the store, keeping
// the newer record where another node wrote one. On failure the records
// stay in memory for the next flush.
func (s *Service) flushUsage(ctx context.Context) error {
	s.usage.mu.Lock()
	pending := s.usage.last
	s.usage.last = nil
	s.usage.mu.Unlock()
	if len(pending) == 0 {
		return nil
	}
	err := s.store.Update(ctx, func(tx store.Tx) error {
		for path, r := range pending {
			if _, err := tx.Get(TableKey, path); isNotFound(err) {
				continue // deleted meanwhile
			} else if err != nil {
				return err
			}
			if old, err := getUsage(tx, path); err != nil {
				return err
			} else if old != nil && old.Time.After(r.Time) {
				continue
			}
			v, err := json.Marshal(r)
			if err != nil {
				return err
			}
			if err := tx.Put(TableUsage, path, v); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		s.usage.mu.Lock()
		for path, r := range pending {
			if cur, ok := s.usage.last[path]; !ok || cur.Time.Before(r.Time) {
				if s.usage.last == nil {
					s.usage.last = map[string]usageRecord{}
				}
				s.usage.last[path] = r
			}
		}
		s.usage.mu.Unlock()
	}
	return err
}

func getUsage(tx store.Tx, path string) (*usageRecord, error) {
	v, err := tx.Get(TableUsage, path)
	if isNotFound(err) {
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	var r usageRecord
	if err := json.Unmarshal(v, &r); err != nil {
		return nil, err
	}
	return &r, nil
}

// startUsageTracking records, once per store, when tracking began.
func (s *Service) startUsageTracking(now time.Time) {
	v, _ := json.Marshal(usageRecord{Time: now.UTC()})
	_ = s.store.Update(context.Background(), func(tx store.Tx) error {
		if _, err := tx.Get(TableUsage, usageSince); err == nil || !isNotFound(err) {
			return err
		}
		return tx.Put(TableUsage, usageSince, v)
	})
}

// GetKeyLastUsage returns the last successful cryptographic operation
// with a key (nil when there was none since tracking began), with the
// request id of that call. TrackingStartDate is when this store began
// tracking, or the key's creation when that is later.
func (s *Service) GetKeyLastUsage(ctx context.Context, in *kmsapi.GetKeyLastUsageRequest) (*kmsapi.GetKeyLastUsageResponse, error) {
	c := service.CallFrom(ctx)
	e, _, err := s.resolve(ctx, c, deref(in.KeyId), false)
	if err != nil {
		return nil, err
	}
	var stored, since *usageRecord
	err = s.store.View(ctx, func(tx store.Tx) error {
		var err error
		if stored, err = getUsage(tx, e.path); err != nil {
			return err
		}
		since, err = getUsage(tx, usageSince)
		return err
	})
	if err != nil {
		return nil, awsproto.Internal(err)
	}
	s.usage.mu.Lock()
	mem, ok := s.usage.last[e.path]
	s.usage.mu.Unlock()
	last := stored
	if ok && (last == nil || mem.Time.After(last.Time)) {
		last = &mem
	}
	start := e.rec.Created
	if since != nil && since.Time.After(start) {
		start = since.Time
	}
	out := &kmsapi.GetKeyLastUsageResponse{KeyId: ptr(e.rec.ID), KeyCreationDate: ptr(e.rec.Created), TrackingStartDate: ptr(start)}
	if last != nil {
		out.KeyLastUsage = &kmsapi.KeyLastUsageData{Operation: last.Operation, Timestamp: ptr(last.Time), KmsRequestId: ptr(last.RequestID)}
	}
	return out, nil
}
