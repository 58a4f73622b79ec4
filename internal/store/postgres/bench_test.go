package postgres_test

import (
	"context"
	"fmt"
	"sync/atomic"
	"testing"
	"time"

	"github.com/rampart/rampart/internal/store"
)

// BenchmarkUpdatePut: one durable commit of one Put (with its change
// notification), one goroutine.
func BenchmarkUpdatePut(b *testing.B) {
	s := open(b, newSchema(b))
	ctx := context.Background()
	v := make([]byte, 256)
	b.ReportAllocs()
	i := 0
	for b.Loop() {
		i++
		k := fmt.Sprintf("k%06d", i%1000)
		if err := s.Update(ctx, func(tx store.Tx) error { return tx.Put("bench", k, v) }); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkUpdatePutParallel: commits of distinct keys from many goroutines.
func BenchmarkUpdatePutParallel(b *testing.B) {
	s := open(b, newSchema(b))
	ctx := context.Background()
	v := make([]byte, 256)
	var n atomic.Int64
	b.ReportAllocs()
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			k := fmt.Sprintf("k%08d", n.Add(1))
			if err := s.Update(ctx, func(tx store.Tx) error { return tx.Put("bench", k, v) }); err != nil {
				b.Error(err)
				return
			}
		}
	})
}

// BenchmarkViewGet: one read-only snapshot transaction with one Get.
func BenchmarkViewGet(b *testing.B) {
	s := open(b, newSchema(b))
	ctx := context.Background()
	seedBench(b, s)
	b.ReportAllocs()
	i := 0
	for b.Loop() {
		i++
		k := fmt.Sprintf("k%06d", i%1000)
		if err := s.View(ctx, func(tx store.Tx) error { _, err := tx.Get("bench", k); return err }); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkViewGetParallel: Views from many goroutines.
func BenchmarkViewGetParallel(b *testing.B) {
	s := open(b, newSchema(b))
	ctx := context.Background()
	seedBench(b, s)
	var n atomic.Int64
	b.ReportAllocs()
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			k := fmt.Sprintf("k%06d", n.Add(1)%1000)
			if err := s.View(ctx, func(tx store.Tx) error { _, err := tx.Get("bench", k); return err }); err != nil {
				b.Error(err)
				return
			}
		}
	})
}

// BenchmarkAppendAudit100: one group commit of 100 audit rows.
func BenchmarkAppendAudit100(b *testing.B) {
	s := open(b, newSchema(b))
	ctx := context.Background()
	body := make([]byte, 1500)
	rows := make([]store.AuditRow, 100)
	b.ReportAllocs()
	for b.Loop() {
		for i := range rows {
			rows[i] = store.AuditRow{Time: time.Now(), Account: "000000000000", Region: "us-east-1", EventID: "e", Body: body}
		}
		if err := s.AppendAudit(ctx, rows); err != nil {
			b.Fatal(err)
		}
	}
}

func seedBench(b *testing.B, s store.Store) {
	b.Helper()
	v := make([]byte, 256)
	err := s.Update(context.Background(), func(tx store.Tx) error {
		for i := range 1000 {
			if err := tx.Put("bench", fmt.Sprintf("k%06d", i), v); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		b.Fatal(err)
	}
}
