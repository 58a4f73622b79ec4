package postgres_test

import (
	"context"
	"errors"
	"fmt"
	"reflect"
	"sort"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/rampart/rampart/internal/store"
)

// recorder is a subscriber that keeps every delivery.
type recorder struct {
	mu  sync.Mutex
	got [][]store.Change
}

func (r *recorder) fn(c []store.Change) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.got = append(r.got, append([]store.Change(nil), c...))
}

func (r *recorder) snapshot() [][]store.Change {
	r.mu.Lock()
	defer r.mu.Unlock()
	return append([][]store.Change(nil), r.got...)
}

// waitFor polls cond until it holds or a generous deadline passes.
func waitFor(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(5 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(5 * time.Millisecond)
	}
}

func put(t *testing.T, s store.Store, table, key, value string) {
	t.Helper()
	if err := s.Update(context.Background(), func(tx store.Tx) error { return tx.Put(table, key, []byte(value)) }); err != nil {
		t.Fatal(err)
	}
}

func getValue(s store.Store, table, key string) (string, error) {
	var v []byte
	err := s.View(context.Background(), func(tx store.Tx) error {
		var err error
		v, err = tx.Get(table, key)
		return err
	})
	return string(v), err
}

func ch(table, key string) store.Change { return store.Change{Table: table, Key: key} }

// Two nodes on one database see each other's commits at once and hear of
// them through Subscribe within the deadline, each commit exactly once.
func TestTwoNodes(t *testing.T) {
	u := newSchema(t)
	a, b := open(t, u), open(t, u)
	var ra, rb recorder
	defer a.Subscribe(ra.fn)()
	defer b.Subscribe(rb.fn)()

	put(t, a, "t", "from-a", "1")
	if v, err := getValue(b, "t", "from-a"); err != nil || v != "1" {
		t.Fatalf("b reads %q, %v after a's commit", v, err)
	}
	put(t, b, "t", "from-b", "2")
	if v, err := getValue(a, "t", "from-b"); err != nil || v != "2" {
		t.Fatalf("a reads %q, %v after b's commit", v, err)
	}

	// Each node hears each commit exactly once: its own at once, the
	// other's through NOTIFY, which may come after a later local commit (b
	// can hear its own commit before a's notification arrives), so the
	// order across nodes is not asserted.
	want := [][]store.Change{{ch("t", "from-a")}, {ch("t", "from-b")}}
	waitFor(t, "a to hear b's commit", func() bool { return len(ra.snapshot()) >= 2 })
	waitFor(t, "b to hear a's commit", func() bool { return len(rb.snapshot()) >= 2 })
	for name, r := range map[string]*recorder{"a": &ra, "b": &rb} {
		got := r.snapshot()
		sort.Slice(got, func(i, j int) bool { return fmt.Sprint(got[i]) < fmt.Sprint(got[j]) })
		if !reflect.DeepEqual(got, want) {
			t.Fatalf("%s heard %v, want %v (in any order)", name, got, want)
		}
	}

	// Rolled-back Updates notify nobody: a's rollback, then b's commit, and a
	// hears only the commit.
	_ = b.Update(context.Background(), func(tx store.Tx) error {
		if err := tx.Put("t", "rolled-back", nil); err != nil {
			return err
		}
		return errors.New("no")
	})
	put(t, b, "u", "k", "3")
	waitFor(t, "a to hear b's second commit", func() bool { return len(ra.snapshot()) >= 3 })
	if got := ra.snapshot()[2]; !reflect.DeepEqual(got, []store.Change{ch("u", "k")}) {
		t.Fatalf("a heard %v, want only b's commit", got)
	}
}

// Changes too many for one notification arrive as table-wide invalidations,
// and too many tables as a store-wide one.
func TestLargeChangeSets(t *testing.T) {
	u := newSchema(t)
	a, b := open(t, u), open(t, u)
	var ra recorder
	defer a.Subscribe(ra.fn)()

	key := strings.Repeat("k", 100)
	cases := []struct {
		name string
		fn   func(tx store.Tx) error
		want []store.Change
	}{
		{"many keys in two tables", func(tx store.Tx) error {
			for i := range 200 {
				if err := tx.Put(fmt.Sprintf("t%d", i%2), fmt.Sprintf("%s/%03d", key, i), nil); err != nil {
					return err
				}
			}
			return nil
		}, []store.Change{ch("t0", ""), ch("t1", "")}},
		{"many tables", func(tx store.Tx) error {
			for i := range 200 {
				if err := tx.Put(fmt.Sprintf("%s.%03d", key, i), "k", nil); err != nil {
					return err
				}
			}
			return nil
		}, []store.Change{{}}},
		{"a prefix delete of many keys", func(tx store.Tx) error {
			_, err := tx.DeletePrefix("t0", key)
			return err
		}, []store.Change{ch("t0", "")}},
	}
	for i, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			if err := b.Update(context.Background(), tc.fn); err != nil {
				t.Fatal(err)
			}
			waitFor(t, "the notification", func() bool { return len(ra.snapshot()) > i })
			if got := ra.snapshot()[i]; !reflect.DeepEqual(got, tc.want) {
				t.Fatalf("heard %v, want %v", got, tc.want)
			}
		})
	}
}

// Concurrent read-modify-write from two nodes loses no increment.
func TestTwoNodesCounter(t *testing.T) {
	u := newSchema(t)
	nodes := []store.Store{open(t, u), open(t, u)}
	const perNode = 25
	var wg sync.WaitGroup
	errs := make(chan error, 2*perNode)
	for _, s := range nodes {
		for range perNode {
			wg.Go(func() {
				errs <- s.Update(context.Background(), func(tx store.Tx) error {
					n := 0
					v, err := tx.Get("t", "counter")
					switch {
					case errors.Is(err, store.ErrNotFound):
					case err != nil:
						return err
					default:
						fmt.Sscan(string(v), &n)
					}
					return tx.Put("t", "counter", fmt.Appendf(nil, "%d", n+1))
				})
			})
		}
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		if err != nil {
			t.Fatal(err)
		}
	}
	if v, err := getValue(nodes[0], "t", "counter"); err != nil || v != fmt.Sprint(2*perNode) {
		t.Fatalf("counter %q, %v; want %d", v, err, 2*perNode)
	}
}

// SERIALIZABLE also protects decisions taken on a predicate (a Count or a
// Scan), which row locks under REPEATABLE READ would not: "add a member
// only if the group is empty" run concurrently from two nodes adds one.
func TestNoWriteSkew(t *testing.T) {
	u := newSchema(t)
	nodes := []store.Store{open(t, u), open(t, u)}
	const n = 20
	var wg sync.WaitGroup
	errs := make(chan error, n)
	for i := range n {
		s := nodes[i%2]
		wg.Go(func() {
			errs <- s.Update(context.Background(), func(tx store.Tx) error {
				c, err := tx.Count("member", "group/")
				if err != nil || c > 0 {
					return err
				}
				return tx.Put("member", fmt.Sprintf("group/%02d", i), nil)
			})
		})
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		if err != nil {
			t.Fatal(err)
		}
	}
	err := nodes[0].View(context.Background(), func(tx store.Tx) error {
		c, err := tx.Count("member", "group/")
		if err == nil && c != 1 {
			err = fmt.Errorf("%d members, want 1", c)
		}
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
}

// terminate ends the server sessions whose application_name is name, as a
// crashed network or an operator would, and returns how many it ended.
func terminate(t *testing.T, name string) int {
	t.Helper()
	c := admin(t)
	var n int
	err := c.QueryRow(context.Background(),
		`SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity WHERE application_name = $1`, name).Scan(&n)
	if err != nil {
		t.Fatal(err)
	}
	return n
}

// When the listener's connection dies, it reconnects and tells subscribers
// that anything may have changed, then goes on hearing other nodes.
func TestListenerReconnects(t *testing.T) {
	u := newSchema(t)
	a, b := open(t, u), open(t, u)
	var ra recorder
	defer a.Subscribe(ra.fn)()

	if n := terminate(t, "rampart listen "+a.NodeID()); n != 1 {
		t.Fatalf("terminated %d listener sessions, want 1", n)
	}
	waitFor(t, "the store-wide invalidation", func() bool { return len(ra.snapshot()) >= 1 })
	if got := ra.snapshot()[0]; !reflect.DeepEqual(got, []store.Change{{}}) {
		t.Fatalf("after reconnecting a heard %v, want a store-wide invalidation", got)
	}
	put(t, b, "t", "after", "x")
	waitFor(t, "b's commit", func() bool { return len(ra.snapshot()) >= 2 })
	if got := ra.snapshot()[1]; !reflect.DeepEqual(got, []store.Change{ch("t", "after")}) {
		t.Fatalf("a heard %v, want b's commit", got)
	}
}

// A connection of the pool that the server closes is replaced: the next
// transactions succeed.
func TestPoolReplacesDeadConnections(t *testing.T) {
	u := newSchema(t)
	s := open(t, withParam(t, u, "application_name", "rampart pool "+t.Name()))
	put(t, s, "t", "a", "1")
	if n := terminate(t, "rampart pool "+t.Name()); n < 1 {
		t.Fatalf("terminated %d pool sessions, want at least 1", n)
	}
	for i := range 3 {
		put(t, s, "t", "a", fmt.Sprint(i))
		if v, err := getValue(s, "t", "a"); err != nil || v != fmt.Sprint(i) {
			t.Fatalf("read %q, %v", v, err)
		}
	}
}

// Keys PostgreSQL text cannot hold cannot exist: reading them finds
// nothing, writing them fails, and neither aborts the transaction.
func TestInvalidText(t *testing.T) {
	s := open(t, newSchema(t))
	put(t, s, "t", "a\u007f", "del")
	put(t, s, "t", "a\u007fz", "del-z")
	put(t, s, "t", "a\u0080", "pad")
	err := s.Update(context.Background(), func(tx store.Tx) error {
		if _, err := tx.Get("t", "bad\xff"); !errors.Is(err, store.ErrNotFound) {
			return fmt.Errorf("get: %v", err)
		}
		if err := tx.Put("t", "nul\x00", nil); err == nil {
			return errors.New("put of a NUL key succeeded")
		}
		if existed, err := tx.Delete("t\xff", "k"); err != nil || existed {
			return fmt.Errorf("delete: %v %v", existed, err)
		}
		// The transaction still works, and a prefix ending in U+007F
		// (whose byte-incremented end "a\x80" is not UTF-8) scans exactly.
		kvs, err := tx.Scan("t", "a\u007f", "", 0)
		if err != nil {
			return err
		}
		if len(kvs) != 2 || kvs[0].Key != "a\u007f" || kvs[1].Key != "a\u007fz" {
			return fmt.Errorf("scan: %v", kvs)
		}
		// A cursor that is not UTF-8 pages correctly: "a\x7fz" sorts
		// before "a\x7f\xff", "a\u0080" (C2 80) after it.
		kvs, err = tx.Scan("t", "", "a\u007f\xff", 1)
		if err != nil {
			return err
		}
		if len(kvs) != 1 || kvs[0].Key != "a\u0080" {
			return fmt.Errorf("scan after invalid cursor: %v", kvs)
		}
		return tx.Put("t", "ok", nil)
	})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := getValue(s, "t", "ok"); err != nil {
		t.Fatal(err)
	}
}

// A failed statement that fn ignores makes Update refuse to commit.
func TestCommitRefusedAfterFailedStatement(t *testing.T) {
	u := newSchema(t)
	s := open(t, u)
	// Sabotage: a CHECK on a value makes one Put fail server-side.
	c, err := pgx.Connect(context.Background(), u)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close(context.Background())
	if _, err := c.Exec(context.Background(), `ALTER TABLE kv ADD CONSTRAINT small CHECK (length(v) < 10)`); err != nil {
		t.Fatal(err)
	}
	err = s.Update(context.Background(), func(tx store.Tx) error {
		if err := tx.Put("t", "ok", nil); err != nil {
			return err
		}
		_ = tx.Put("t", "big", []byte("more than ten bytes")) // ignored
		return nil
	})
	if err == nil || !strings.Contains(err.Error(), "commit refused") {
		t.Fatalf("got %v, want the commit refused", err)
	}
	if _, err := getValue(s, "t", "ok"); !errors.Is(err, store.ErrNotFound) {
		t.Fatalf("half the transaction committed: %v", err)
	}
}

// Audit appends from two nodes at once: every row stored once, sequence
// numbers unique and increasing within each batch.
func TestTwoNodesAudit(t *testing.T) {
	u := newSchema(t)
	nodes := []store.Store{open(t, u), open(t, u)}
	const batches, per = 10, 5
	var wg sync.WaitGroup
	errs := make(chan error, 2*batches)
	for n, s := range nodes {
		for i := range batches {
			wg.Go(func() {
				rows := make([]store.AuditRow, per)
				for j := range rows {
					rows[j] = store.AuditRow{Time: time.Unix(int64(i), int64(j)), Account: fmt.Sprint(n), EventID: fmt.Sprintf("%d-%d-%d", n, i, j), Body: []byte("{}")}
				}
				err := s.AppendAudit(context.Background(), rows)
				for j := 1; err == nil && j < per; j++ {
					if rows[j].Seq <= rows[j-1].Seq {
						err = fmt.Errorf("seq %d after %d", rows[j].Seq, rows[j-1].Seq)
					}
				}
				errs <- err
			})
		}
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		if err != nil {
			t.Fatal(err)
		}
	}
	all, err := nodes[1].QueryAudit(context.Background(), store.AuditQuery{})
	if err != nil {
		t.Fatal(err)
	}
	if len(all) != 2*batches*per {
		t.Fatalf("%d rows, want %d", len(all), 2*batches*per)
	}
	seen := map[string]bool{}
	for i, r := range all {
		if i > 0 && r.Seq <= all[i-1].Seq {
			t.Fatalf("seq %d after %d", r.Seq, all[i-1].Seq)
		}
		if seen[r.EventID] {
			t.Fatalf("event %s stored twice", r.EventID)
		}
		seen[r.EventID] = true
	}
}
