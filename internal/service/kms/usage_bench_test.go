package kms

import (
	"testing"
	"time"

	"github.com/rampart/rampart/internal/service"

	kmsapi "github.com/rampart/rampart/internal/api/kms"
)

// BenchmarkUsed is the hot path's cost of usage tracking (the store is
// not touched: the log is never empty, so no flush is scheduled).
func BenchmarkUsed(b *testing.B) {
	s := &Service{stop: make(chan struct{})}
	defer close(s.stop)
	c := &service.Call{Now: time.Now(), RequestID: "11111111-2222-3333-4444-555555555555"}
	keys := []*keyEntry{{path: "000000000000/us-east-1/a"}, {path: "000000000000/us-east-1/b"}}
	s.usage.last = map[string]usageRecord{"x": {}}
	b.RunParallel(func(pb *testing.PB) {
		i := 0
		for pb.Next() {
			s.used(c, keys[i&1], kmsapi.KeyLastUsageTrackingOperationEncrypt)
			i++
		}
	})
}
