package postgres_test

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"sync"
	"testing"
	"time"

	"github.com/rampart/rampart/internal/store"
	"github.com/rampart/rampart/internal/store/postgres"
)

type dumpLoader interface {
	store.Store
	InstallationID() string
	Dump(ctx context.Context, meta func(k, v string) error, kv func(table, key string, value []byte) error, audit func(store.AuditRow) error) error
	Load(ctx context.Context, installationID string, read func(kv func(table, key string, value []byte) error, audit func(store.AuditRow) error) error) error
}

type dumped struct {
	meta  map[string]string
	kv    []store.KV // Key is "table\x00key"
	audit []store.AuditRow
}

func dumpAll(t *testing.T, s dumpLoader) dumped {
	t.Helper()
	d := dumped{meta: map[string]string{}}
	err := s.Dump(context.Background(), func(k, v string) error { d.meta[k] = v; return nil },
		func(table, key string, value []byte) error {
			d.kv = append(d.kv, store.KV{Key: table + "\x00" + key, Value: value})
			return nil
		},
		func(r store.AuditRow) error { d.audit = append(d.audit, r); return nil })
	if err != nil {
		t.Fatal(err)
	}
	return d
}

// Dump sees one snapshot while writers commit: two entries that every
// Update changes together are always equal in a dump.
func TestDumpIsOneSnapshot(t *testing.T) {
	s := open(t, newSchema(t))
	ctx, cancel := context.WithCancel(context.Background())
	var wg sync.WaitGroup
	for w := range 2 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := 0; ctx.Err() == nil; i++ {
				v := []byte(fmt.Sprintf("%d-%d", w, i))
				s.Update(context.Background(), func(tx store.Tx) error {
					if err := tx.Put("t", "a", v); err != nil {
						return err
					}
					if err := tx.Put("t", fmt.Sprintf("filler/%d/%d", w, i%50), v); err != nil {
						return err
					}
					return tx.Put("t", "z", v)
				})
			}
		}()
	}
	for range 20 {
		d := dumpAll(t, s)
		var a, z string
		for _, e := range d.kv {
			switch e.Key {
			case "t\x00a":
				a = string(e.Value)
			case "t\x00z":
				z = string(e.Value)
			}
		}
		if a != z {
			t.Fatalf("a dump saw a = %q and z = %q: not one snapshot", a, z)
		}
		time.Sleep(time.Millisecond)
	}
	cancel()
	wg.Wait()
}

// Load copies a dump whole (audit sequence numbers kept, the sequence going
// on after them), into an empty store only, and all or nothing.
func TestLoad(t *testing.T) {
	src := open(t, newSchema(t))
	ctx := context.Background()
	if err := src.Update(ctx, func(tx store.Tx) error {
		for i := range 1200 { // more than one batch
			if err := tx.Put("tbl."+strconv.Itoa(i%3), fmt.Sprintf("k/%04d", i), []byte{byte(i), 0, 0xff}); err != nil {
				return err
			}
		}
		return tx.Put("empty", "v", nil)
	}); err != nil {
		t.Fatal(err)
	}
	rows := make([]store.AuditRow, 700)
	for i := range rows {
		rows[i] = store.AuditRow{Time: time.Unix(1700000000, int64(i)).UTC(), Account: "111122223333", Region: "us-east-1", EventID: fmt.Sprint("e", i), Body: []byte(`{"i":` + strconv.Itoa(i) + `}`)}
	}
	if err := src.AppendAudit(ctx, rows); err != nil {
		t.Fatal(err)
	}
	want := dumpAll(t, src)
	replay := func(kv func(table, key string, value []byte) error, audit func(store.AuditRow) error) error {
		for _, e := range want.kv {
			for i := range len(e.Key) {
				if e.Key[i] == 0 {
					if err := kv(e.Key[:i], e.Key[i+1:], e.Value); err != nil {
						return err
					}
					break
				}
			}
		}
		for _, r := range want.audit {
			if err := audit(r); err != nil {
				return err
			}
		}
		return nil
	}

	// A failing read changes nothing.
	dst := open(t, newSchema(t))
	boom := errors.New("boom")
	if err := dst.Load(ctx, "restored-id", func(kv func(table, key string, value []byte) error, audit func(store.AuditRow) error) error {
		if err := replay(kv, audit); err != nil {
			return err
		}
		return boom
	}); !errors.Is(err, boom) {
		t.Fatalf("Load = %v, want boom", err)
	}
	if d := dumpAll(t, dst); len(d.kv) != 0 || len(d.audit) != 0 || dst.InstallationID() == "restored-id" {
		t.Fatalf("a failed Load left %d entries, %d audit rows, installation %s", len(d.kv), len(d.audit), dst.InstallationID())
	}

	if err := dst.Load(ctx, "restored-id", replay); err != nil {
		t.Fatal(err)
	}
	got := dumpAll(t, dst)
	if dst.InstallationID() != "restored-id" || got.meta["installation_id"] != "restored-id" {
		t.Fatalf("installation id %s / %s after Load", dst.InstallationID(), got.meta["installation_id"])
	}
	if len(got.kv) != len(want.kv) || len(got.audit) != len(want.audit) {
		t.Fatalf("Load copied %d entries and %d audit rows of %d and %d", len(got.kv), len(got.audit), len(want.kv), len(want.audit))
	}
	for i := range got.kv {
		if got.kv[i].Key != want.kv[i].Key || string(got.kv[i].Value) != string(want.kv[i].Value) {
			t.Fatalf("entry %d: %q=%x, want %q=%x", i, got.kv[i].Key, got.kv[i].Value, want.kv[i].Key, want.kv[i].Value)
		}
	}
	for i := range got.audit {
		g, w := got.audit[i], want.audit[i]
		if g.Seq != w.Seq || !g.Time.Equal(w.Time) || g.EventID != w.EventID || string(g.Body) != string(w.Body) {
			t.Fatalf("audit row %d: %+v, want %+v", i, g, w)
		}
	}
	next := []store.AuditRow{{Time: time.Now(), Account: "111122223333", EventID: "after"}}
	if err := dst.AppendAudit(ctx, next); err != nil {
		t.Fatal(err)
	}
	if last := want.audit[len(want.audit)-1].Seq; next[0].Seq <= last {
		t.Fatalf("audit sequence after Load: %d, want > %d", next[0].Seq, last)
	}
	// Only into an empty store.
	if err := dst.Load(ctx, "again", replay); !errors.Is(err, postgres.ErrNotEmpty) {
		t.Fatalf("Load into a full store = %v, want ErrNotEmpty", err)
	}
}
