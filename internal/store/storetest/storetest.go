// Package storetest is the conformance suite every [store.Store] backend
// runs: SQLite now, PostgreSQL later. A backend passes when [Run] passes.
package storetest

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"reflect"
	"sort"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/rampart/rampart/internal/store"
)

// Backend creates a fresh, empty database for one test and returns a function
// that opens it. The suite calls open again after Close to check durability,
// so open must reach the same database each time. Stores left open are the
// backend's to close (t.Cleanup); Close is idempotent.
type Backend func(t *testing.T) (open func(t *testing.T) store.Store)

// Run runs the conformance suite against a backend.
func Run(t *testing.T, newDB Backend) {
	tests := []struct {
		name string
		fn   func(t *testing.T, newDB Backend)
	}{
		{"GetPutInsertDelete", testCRUD},
		{"EmptyAndBinaryValues", testValues},
		{"TablesAreSeparate", testTables},
		{"ScanAndPagination", testScan},
		{"ScanBytewiseOrder", testByteOrder},
		{"Count", testCount},
		{"DeletePrefix", testDeletePrefix},
		{"ReadYourWrites", testReadYourWrites},
		{"RollbackOnError", testRollbackError},
		{"RollbackOnPanic", testRollbackPanic},
		{"ViewIsReadOnly", testViewReadOnly},
		{"TxUnusableAfterReturn", testTxDone},
		{"ViewSnapshot", testSnapshot},
		{"ConcurrentCounter", testCounter},
		{"Subscribe", testSubscribe},
		{"Audit", testAudit},
		{"Durability", testDurability},
		{"Closed", testClosed},
		{"ContextCancelled", testContext},
		{"WriteNote", testWriteNote},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) { tc.fn(t, newDB) })
	}
}

func fresh(t *testing.T, newDB Backend) store.Store {
	t.Helper()
	return newDB(t)(t)
}

func ok(t *testing.T, err error) {
	t.Helper()
	if err != nil {
		t.Fatalf("unexpected error: %v", err)
	}
}

func errorIs(t *testing.T, err, want error) {
	t.Helper()
	if !errors.Is(err, want) {
		t.Fatalf("got error %v, want %v", err, want)
	}
}

func equals[T any](t *testing.T, got, want T) {
	t.Helper()
	if !reflect.DeepEqual(got, want) {
		t.Fatalf("got %#v, want %#v", got, want)
	}
}

func update(t *testing.T, s store.Store, fn func(tx store.Tx) error) {
	t.Helper()
	ok(t, s.Update(context.Background(), fn))
}

func view(t *testing.T, s store.Store, fn func(tx store.Tx) error) {
	t.Helper()
	ok(t, s.View(context.Background(), fn))
}

func get(t *testing.T, s store.Store, table, key string) ([]byte, error) {
	t.Helper()
	var v []byte
	err := s.View(context.Background(), func(tx store.Tx) error {
		var err error
		v, err = tx.Get(table, key)
		return err
	})
	return v, err
}

func ch(table, key string) store.Change { return store.Change{Table: table, Key: key} }

func keys(kvs []store.KV) []string {
	out := []string{}
	for _, kv := range kvs {
		out = append(out, kv.Key)
	}
	return out
}

func testCRUD(t *testing.T, newDB Backend) {
	s := fresh(t, newDB)
	_, err := get(t, s, "t", "a")
	errorIs(t, err, store.ErrNotFound)

	update(t, s, func(tx store.Tx) error {
		if err := tx.Put("t", "a", []byte("1")); err != nil {
			return err
		}
		return tx.Insert("t", "b", []byte("2"))
	})
	v, err := get(t, s, "t", "a")
	ok(t, err)
	equals(t, string(v), "1")

	// Put replaces.
	update(t, s, func(tx store.Tx) error { return tx.Put("t", "a", []byte("1b")) })
	v, err = get(t, s, "t", "a")
	ok(t, err)
	equals(t, string(v), "1b")

	// Insert refuses an existing key and leaves its value.
	err = s.Update(context.Background(), func(tx store.Tx) error { return tx.Insert("t", "b", []byte("x")) })
	errorIs(t, err, store.ErrExists)
	v, err = get(t, s, "t", "b")
	ok(t, err)
	equals(t, string(v), "2")

	// ErrExists does not poison the transaction: the caller may go on.
	update(t, s, func(tx store.Tx) error {
		if err := tx.Insert("t", "b", nil); !errors.Is(err, store.ErrExists) {
			return fmt.Errorf("insert: %v", err)
		}
		return tx.Put("t", "c", []byte("3"))
	})
	v, err = get(t, s, "t", "c")
	ok(t, err)
	equals(t, string(v), "3")

	// Delete reports presence; deleting an absent key is not an error.
	update(t, s, func(tx store.Tx) error {
		existed, err := tx.Delete("t", "a")
		if err != nil || !existed {
			return fmt.Errorf("delete a: %v %v", existed, err)
		}
		existed, err = tx.Delete("t", "a")
		if err != nil || existed {
			return fmt.Errorf("delete a again: %v %v", existed, err)
		}
		return nil
	})
	_, err = get(t, s, "t", "a")
	errorIs(t, err, store.ErrNotFound)

	// Insert works again after delete.
	update(t, s, func(tx store.Tx) error { return tx.Insert("t", "a", []byte("new")) })
	v, err = get(t, s, "t", "a")
	ok(t, err)
	equals(t, string(v), "new")
}

func testValues(t *testing.T, newDB Backend) {
	s := fresh(t, newDB)
	bin := make([]byte, 256)
	for i := range bin {
		bin[i] = byte(i)
	}
	update(t, s, func(tx store.Tx) error {
		if err := tx.Put("t", "nil", nil); err != nil {
			return err
		}
		if err := tx.Put("t", "empty", []byte{}); err != nil {
			return err
		}
		return tx.Put("t", "bin", bin)
	})
	for _, k := range []string{"nil", "empty"} {
		v, err := get(t, s, "t", k)
		ok(t, err)
		if v == nil || len(v) != 0 {
			t.Fatalf("%s: got %#v, want empty non-nil", k, v)
		}
	}
	v, err := get(t, s, "t", "bin")
	ok(t, err)
	if !bytes.Equal(v, bin) {
		t.Fatalf("binary value changed: %x", v)
	}
	// Returned slices belong to the caller.
	v[0] = 0xAA
	v2, err := get(t, s, "t", "bin")
	ok(t, err)
	equals(t, v2[0], byte(0))
	// Stored values do not alias the caller's slice.
	buf := []byte("before")
	update(t, s, func(tx store.Tx) error { return tx.Put("t", "alias", buf) })
	copy(buf, "AFTER!")
	v, err = get(t, s, "t", "alias")
	ok(t, err)
	equals(t, string(v), "before")
}

func testTables(t *testing.T, newDB Backend) {
	s := fresh(t, newDB)
	update(t, s, func(tx store.Tx) error {
		if err := tx.Put("iam.user", "k", []byte("user")); err != nil {
			return err
		}
		return tx.Insert("iam.role", "k", []byte("role"))
	})
	view(t, s, func(tx store.Tx) error {
		u, err := tx.Get("iam.user", "k")
		ok(t, err)
		r, err := tx.Get("iam.role", "k")
		ok(t, err)
		equals(t, string(u), "user")
		equals(t, string(r), "role")
		n, err := tx.Count("iam.user", "")
		ok(t, err)
		equals(t, n, 1)
		kvs, err := tx.Scan("iam", "", "", 0) // table names are not prefixes
		ok(t, err)
		equals(t, len(kvs), 0)
		return nil
	})
}

func seed(t *testing.T, s store.Store, table string, ks ...string) {
	t.Helper()
	update(t, s, func(tx store.Tx) error {
		for _, k := range ks {
			if err := tx.Put(table, k, []byte("v:"+k)); err != nil {
				return err
			}
		}
		return nil
	})
}

func testScan(t *testing.T, newDB Backend) {
	s := fresh(t, newDB)
	seed(t, s, "t", "user/c", "user/a", "user/b", "user/d", "user/e", "userx", "role/a", "z")
	seed(t, s, "other", "user/zz")
	cases := map[string]struct {
		prefix, after string
		limit         int
		want          []string
	}{
		"all":                     {"", "", 0, []string{"role/a", "user/a", "user/b", "user/c", "user/d", "user/e", "userx", "z"}},
		"prefix":                  {"user/", "", 0, []string{"user/a", "user/b", "user/c", "user/d", "user/e"}},
		"prefix limit":            {"user/", "", 2, []string{"user/a", "user/b"}},
		"after":                   {"user/", "user/b", 2, []string{"user/c", "user/d"}},
		"after last":              {"user/", "user/e", 0, []string{}},
		"after not a key":         {"user/", "user/bb", 0, []string{"user/c", "user/d", "user/e"}},
		"after before prefix":     {"user/", "role/z", 0, []string{"user/a", "user/b", "user/c", "user/d", "user/e"}},
		"after beyond prefix":     {"user/", "zzz", 0, []string{}},
		"after without prefix":    {"", "user/e", 0, []string{"userx", "z"}},
		"negative limit is none":  {"user/", "", -1, []string{"user/a", "user/b", "user/c", "user/d", "user/e"}},
		"no match":                {"nope/", "", 0, []string{}},
		"exact key is own prefix": {"z", "", 0, []string{"z"}},
	}
	view(t, s, func(tx store.Tx) error {
		for name, tc := range cases {
			kvs, err := tx.Scan("t", tc.prefix, tc.after, tc.limit)
			ok(t, err)
			if got := keys(kvs); !reflect.DeepEqual(got, tc.want) {
				t.Errorf("%s: got %q, want %q", name, got, tc.want)
			}
			for _, kv := range kvs {
				if string(kv.Value) != "v:"+kv.Key {
					t.Errorf("%s: value of %q is %q", name, kv.Key, kv.Value)
				}
			}
		}
		return nil
	})

	// Paging through 25 keys by 7 visits each exactly once, in order.
	var all []string
	update(t, s, func(tx store.Tx) error {
		for i := range 25 {
			k := fmt.Sprintf("page/%03d", i)
			all = append(all, k)
			if err := tx.Put("t", k, []byte("v:"+k)); err != nil {
				return err
			}
		}
		return nil
	})
	var got []string
	after := ""
	for pages := 0; ; pages++ {
		if pages > 10 {
			t.Fatal("pagination does not end")
		}
		var kvs []store.KV
		view(t, s, func(tx store.Tx) error {
			var err error
			kvs, err = tx.Scan("t", "page/", after, 7)
			return err
		})
		if len(kvs) == 0 {
			break
		}
		got = append(got, keys(kvs)...)
		after = kvs[len(kvs)-1].Key
	}
	equals(t, got, all)
}

func testByteOrder(t *testing.T, newDB Backend) {
	s := fresh(t, newDB)
	// Bytewise (not locale or case-folded) order; UTF-8 sorts by code point.
	in := []string{"b", "B", "a", "A", "a/", "a0", "é", "z", "~", "日本", "a\u007f"}
	seed(t, s, "t", in...)
	want := append([]string(nil), in...)
	sort.Strings(want)
	view(t, s, func(tx store.Tx) error {
		kvs, err := tx.Scan("t", "", "", 0)
		ok(t, err)
		equals(t, keys(kvs), want)
		// A prefix ending in a multi-byte character.
		kvs, err = tx.Scan("t", "日", "", 0)
		ok(t, err)
		equals(t, keys(kvs), []string{"日本"})
		return nil
	})
}

func testCount(t *testing.T, newDB Backend) {
	s := fresh(t, newDB)
	seed(t, s, "t", "a/1", "a/2", "a/3", "b/1", "ab")
	view(t, s, func(tx store.Tx) error {
		for prefix, want := range map[string]int{"": 5, "a": 4, "a/": 3, "b/": 1, "c": 0} {
			n, err := tx.Count("t", prefix)
			ok(t, err)
			if n != want {
				t.Errorf("Count(%q) = %d, want %d", prefix, n, want)
			}
		}
		n, err := tx.Count("empty", "")
		ok(t, err)
		equals(t, n, 0)
		return nil
	})
}

func testDeletePrefix(t *testing.T, newDB Backend) {
	s := fresh(t, newDB)
	seed(t, s, "t", "u/alice/tag/a", "u/alice/tag/b", "u/alice", "u/bob/tag/a")
	seed(t, s, "x", "u/alice/tag/a")
	var changes [][]store.Change
	cancel := s.Subscribe(func(c []store.Change) { changes = append(changes, c) })
	defer cancel()
	update(t, s, func(tx store.Tx) error {
		n, err := tx.DeletePrefix("t", "u/alice/")
		if err != nil {
			return err
		}
		if n != 2 {
			return fmt.Errorf("deleted %d, want 2", n)
		}
		return nil
	})
	view(t, s, func(tx store.Tx) error {
		kvs, err := tx.Scan("t", "", "", 0)
		ok(t, err)
		equals(t, keys(kvs), []string{"u/alice", "u/bob/tag/a"})
		_, err = tx.Get("x", "u/alice/tag/a")
		ok(t, err)
		return nil
	})
	equals(t, len(changes), 1)
	got := changes[0]
	sort.Slice(got, func(i, j int) bool { return got[i].Key < got[j].Key })
	equals(t, got, []store.Change{ch("t", "u/alice/tag/a"), ch("t", "u/alice/tag/b")})
	// Whole table.
	update(t, s, func(tx store.Tx) error {
		n, err := tx.DeletePrefix("t", "")
		if err == nil && n != 2 {
			err = fmt.Errorf("deleted %d, want 2", n)
		}
		return err
	})
	view(t, s, func(tx store.Tx) error {
		n, err := tx.Count("t", "")
		ok(t, err)
		equals(t, n, 0)
		return nil
	})
}

func testReadYourWrites(t *testing.T, newDB Backend) {
	s := fresh(t, newDB)
	seed(t, s, "t", "a", "b")
	update(t, s, func(tx store.Tx) error {
		ok(t, tx.Put("t", "c", []byte("v:c")))
		if _, err := tx.Delete("t", "a"); err != nil {
			return err
		}
		v, err := tx.Get("t", "c")
		ok(t, err)
		equals(t, string(v), "v:c")
		_, err = tx.Get("t", "a")
		errorIs(t, err, store.ErrNotFound)
		kvs, err := tx.Scan("t", "", "", 0)
		ok(t, err)
		equals(t, keys(kvs), []string{"b", "c"})
		n, err := tx.Count("t", "")
		ok(t, err)
		equals(t, n, 2)
		errorIs(t, tx.Insert("t", "c", nil), store.ErrExists)
		return nil
	})
}

func testRollbackError(t *testing.T, newDB Backend) {
	s := fresh(t, newDB)
	seed(t, s, "t", "keep")
	boom := errors.New("boom")
	err := s.Update(context.Background(), func(tx store.Tx) error {
		ok(t, tx.Put("t", "new", []byte("x")))
		ok(t, tx.Put("t", "keep", []byte("changed")))
		if _, err := tx.Delete("t", "keep"); err != nil {
			return err
		}
		return fmt.Errorf("wrapped: %w", boom)
	})
	errorIs(t, err, boom)
	_, err = get(t, s, "t", "new")
	errorIs(t, err, store.ErrNotFound)
	v, err := get(t, s, "t", "keep")
	ok(t, err)
	equals(t, string(v), "v:keep")
	// The store still works afterwards.
	seed(t, s, "t", "after")
	_, err = get(t, s, "t", "after")
	ok(t, err)
}

func testRollbackPanic(t *testing.T, newDB Backend) {
	s := fresh(t, newDB)
	seed(t, s, "t", "keep")
	func() {
		defer func() {
			if r := recover(); r != "kaboom" {
				t.Fatalf("recovered %v, want the original panic", r)
			}
		}()
		_ = s.Update(context.Background(), func(tx store.Tx) error {
			ok(t, tx.Put("t", "new", []byte("x")))
			ok(t, tx.Put("t", "keep", []byte("changed")))
			panic("kaboom")
		})
		t.Fatal("Update returned after panic")
	}()
	_, err := get(t, s, "t", "new")
	errorIs(t, err, store.ErrNotFound)
	v, err := get(t, s, "t", "keep")
	ok(t, err)
	equals(t, string(v), "v:keep")
	// The writer was released.
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	ok(t, s.Update(ctx, func(tx store.Tx) error { return tx.Put("t", "after", nil) }))
}

func testViewReadOnly(t *testing.T, newDB Backend) {
	s := fresh(t, newDB)
	seed(t, s, "t", "a")
	view(t, s, func(tx store.Tx) error {
		errorIs(t, tx.Put("t", "b", nil), store.ErrReadOnly)
		errorIs(t, tx.Insert("t", "b", nil), store.ErrReadOnly)
		_, err := tx.Delete("t", "a")
		errorIs(t, err, store.ErrReadOnly)
		_, err = tx.DeletePrefix("t", "")
		errorIs(t, err, store.ErrReadOnly)
		return nil
	})
	_, err := get(t, s, "t", "a")
	ok(t, err)
	// View returns fn's error unchanged.
	boom := errors.New("boom")
	errorIs(t, s.View(context.Background(), func(store.Tx) error { return boom }), boom)
}

func testTxDone(t *testing.T, newDB Backend) {
	s := fresh(t, newDB)
	var leaked store.Tx
	update(t, s, func(tx store.Tx) error { leaked = tx; return nil })
	errorIs(t, leaked.Put("t", "a", nil), store.ErrTxDone)
	_, err := leaked.Get("t", "a")
	errorIs(t, err, store.ErrTxDone)
	view(t, s, func(tx store.Tx) error { leaked = tx; return nil })
	_, err = leaked.Scan("t", "", "", 0)
	errorIs(t, err, store.ErrTxDone)
	_, err = leaked.Count("t", "")
	errorIs(t, err, store.ErrTxDone)
}

// testSnapshot checks that a View keeps seeing the state it started from
// while an Update commits from another goroutine. It needs Views and Updates
// to run concurrently; a backend that serialises them (SQLite's in-memory
// mode) must skip it, or it deadlocks.
func testSnapshot(t *testing.T, newDB Backend) {
	s := fresh(t, newDB)
	seed(t, s, "t", "a", "b")
	read := make(chan struct{})
	written := make(chan error)
	go func() {
		<-read
		written <- s.Update(context.Background(), func(tx store.Tx) error {
			if err := tx.Put("t", "a", []byte("changed")); err != nil {
				return err
			}
			if _, err := tx.Delete("t", "b"); err != nil {
				return err
			}
			return tx.Put("t", "c", []byte("new"))
		})
	}()
	view(t, s, func(tx store.Tx) error {
		v, err := tx.Get("t", "a")
		ok(t, err)
		equals(t, string(v), "v:a")
		close(read)
		ok(t, <-written) // the Update commits while this View is open
		v, err = tx.Get("t", "a")
		ok(t, err)
		equals(t, string(v), "v:a")
		kvs, err := tx.Scan("t", "", "", 0)
		ok(t, err)
		equals(t, keys(kvs), []string{"a", "b"})
		return nil
	})
	v, err := get(t, s, "t", "a")
	ok(t, err)
	equals(t, string(v), "changed")
}

func testCounter(t *testing.T, newDB Backend) {
	s := fresh(t, newDB)
	const n = 50
	var wg sync.WaitGroup
	errs := make(chan error, n+20)
	for range n {
		wg.Go(func() {
			errs <- s.Update(context.Background(), func(tx store.Tx) error {
				c := 0
				v, err := tx.Get("t", "counter")
				switch {
				case errors.Is(err, store.ErrNotFound):
				case err != nil:
					return err
				default:
					if _, err := fmt.Sscan(string(v), &c); err != nil {
						return err
					}
				}
				return tx.Put("t", "counter", fmt.Appendf(nil, "%d", c+1))
			})
		})
	}
	// Concurrent Views run alongside and always see a whole number.
	wg.Go(func() {
		for range 20 {
			errs <- s.View(context.Background(), func(tx store.Tx) error {
				_, err := tx.Get("t", "counter")
				if errors.Is(err, store.ErrNotFound) {
					return nil
				}
				return err
			})
		}
	})
	wg.Wait()
	close(errs)
	for err := range errs {
		ok(t, err)
	}
	v, err := get(t, s, "t", "counter")
	ok(t, err)
	equals(t, string(v), fmt.Sprint(n))
}

func testSubscribe(t *testing.T, newDB Backend) {
	s := fresh(t, newDB)
	var (
		mu  sync.Mutex
		got [][]store.Change
	)
	committed := false
	cancel := s.Subscribe(func(c []store.Change) {
		mu.Lock()
		defer mu.Unlock()
		got = append(got, c)
	})
	// Delivered after commit, before Update returns, deduplicated, in first-change order.
	err := s.Update(context.Background(), func(tx store.Tx) error {
		ok(t, tx.Put("t", "b", []byte("1")))
		ok(t, tx.Put("t", "a", []byte("1")))
		ok(t, tx.Put("t", "b", []byte("2")))
		ok(t, tx.Insert("u", "a", nil))
		_, err := tx.Delete("t", "absent") // not a change
		mu.Lock()
		committed = len(got) > 0
		mu.Unlock()
		return err
	})
	ok(t, err)
	if committed {
		t.Fatal("changes delivered before commit")
	}
	mu.Lock()
	equals(t, got, [][]store.Change{{ch("t", "b"), ch("t", "a"), ch("u", "a")}})
	got = nil
	mu.Unlock()

	// Not on rollback, not on panic, not for Views, not for Updates that change nothing.
	_ = s.Update(context.Background(), func(tx store.Tx) error {
		ok(t, tx.Put("t", "x", nil))
		return errors.New("no")
	})
	func() {
		defer func() { recover() }()
		_ = s.Update(context.Background(), func(tx store.Tx) error {
			ok(t, tx.Put("t", "y", nil))
			panic("no")
		})
	}()
	view(t, s, func(tx store.Tx) error { return nil })
	update(t, s, func(tx store.Tx) error {
		err := tx.Insert("t", "a", nil) // fails: not a change
		if !errors.Is(err, store.ErrExists) {
			return fmt.Errorf("insert: %v", err)
		}
		return nil
	})
	mu.Lock()
	equals(t, len(got), 0)
	mu.Unlock()

	// Delete of a present key is a change; two subscribers both hear; cancel stops delivery.
	var second [][]store.Change
	cancel2 := s.Subscribe(func(c []store.Change) { second = append(second, c) })
	update(t, s, func(tx store.Tx) error { _, err := tx.Delete("t", "a"); return err })
	cancel()
	cancel() // idempotent
	update(t, s, func(tx store.Tx) error { return tx.Put("t", "z", nil) })
	cancel2()
	mu.Lock()
	equals(t, got, [][]store.Change{{ch("t", "a")}})
	mu.Unlock()
	equals(t, second, [][]store.Change{{ch("t", "a")}, {ch("t", "z")}})
}

func testAudit(t *testing.T, newDB Backend) {
	s := fresh(t, newDB)
	ctx := context.Background()
	base := time.Date(2025, 3, 1, 12, 0, 0, 0, time.UTC)
	var rows []store.AuditRow
	for i := range 10 {
		acct := "111111111111"
		if i%2 == 1 {
			acct = "222222222222"
		}
		rows = append(rows, store.AuditRow{
			Time:    base.Add(time.Duration(i) * time.Minute),
			Account: acct,
			Region:  "us-east-1",
			EventID: fmt.Sprintf("ev-%d", i),
			Body:    fmt.Appendf(nil, `{"n":%d}`, i),
		})
	}
	ok(t, s.AppendAudit(ctx, rows[:3]))
	ok(t, s.AppendAudit(ctx, rows[3:]))
	ok(t, s.AppendAudit(ctx, nil))
	for i := 1; i < len(rows); i++ {
		if rows[i].Seq <= rows[i-1].Seq {
			t.Fatalf("seq not increasing: %d then %d", rows[i-1].Seq, rows[i].Seq)
		}
	}
	ids := func(rs []store.AuditRow) []string {
		out := []string{}
		for _, r := range rs {
			out = append(out, r.EventID)
		}
		return out
	}
	q := func(q store.AuditQuery) []string {
		t.Helper()
		rs, err := s.QueryAudit(ctx, q)
		ok(t, err)
		return ids(rs)
	}
	all, err := s.QueryAudit(ctx, store.AuditQuery{})
	ok(t, err)
	equals(t, len(all), 10)
	for i, r := range all {
		equals(t, r.Seq, rows[i].Seq)
		if !r.Time.Equal(rows[i].Time) {
			t.Fatalf("time %v, want %v", r.Time, rows[i].Time)
		}
		equals(t, r.Time.Location(), time.UTC)
		equals(t, r.Account, rows[i].Account)
		equals(t, r.Region, "us-east-1")
		equals(t, string(r.Body), string(rows[i].Body))
	}
	equals(t, q(store.AuditQuery{Account: "111111111111"}), []string{"ev-0", "ev-2", "ev-4", "ev-6", "ev-8"})
	equals(t, q(store.AuditQuery{Account: "222222222222", Limit: 2}), []string{"ev-1", "ev-3"})
	equals(t, q(store.AuditQuery{Account: "222222222222", AfterSeq: rows[3].Seq, Limit: 2}), []string{"ev-5", "ev-7"})
	equals(t, q(store.AuditQuery{Start: base.Add(2 * time.Minute), End: base.Add(5 * time.Minute)}), []string{"ev-2", "ev-3", "ev-4"})
	equals(t, q(store.AuditQuery{Account: "111111111111", Descending: true, Limit: 2}), []string{"ev-8", "ev-6"})
	equals(t, q(store.AuditQuery{Account: "111111111111", Descending: true, BeforeSeq: rows[6].Seq}), []string{"ev-4", "ev-2", "ev-0"})
	equals(t, q(store.AuditQuery{EventID: "ev-7"}), []string{"ev-7"})
	equals(t, q(store.AuditQuery{Region: "eu-west-1"}), []string{})
	equals(t, q(store.AuditQuery{Account: "333333333333"}), []string{})
}

func testDurability(t *testing.T, newDB Backend) {
	open := newDB(t)
	s := open(t)
	seed(t, s, "t", "a", "b")
	update(t, s, func(tx store.Tx) error { _, err := tx.Delete("t", "b"); return err })
	_ = s.Update(context.Background(), func(tx store.Tx) error {
		ok(t, tx.Put("t", "rolled-back", nil))
		return errors.New("no")
	})
	ok(t, s.AppendAudit(context.Background(), []store.AuditRow{{Time: time.Unix(1, 0), Account: "a", EventID: "e", Body: []byte("{}")}}))
	ok(t, s.Close())
	ok(t, s.Close()) // idempotent

	s = open(t)
	view(t, s, func(tx store.Tx) error {
		kvs, err := tx.Scan("t", "", "", 0)
		ok(t, err)
		equals(t, keys(kvs), []string{"a"})
		return nil
	})
	rs, err := s.QueryAudit(context.Background(), store.AuditQuery{})
	ok(t, err)
	equals(t, len(rs), 1)
	equals(t, rs[0].EventID, "e")
	// Sequence numbers keep increasing across reopen.
	more := []store.AuditRow{{Time: time.Unix(2, 0), Account: "a", EventID: "f", Body: []byte("{}")}}
	ok(t, s.AppendAudit(context.Background(), more))
	if more[0].Seq <= rs[0].Seq {
		t.Fatalf("seq %d after %d", more[0].Seq, rs[0].Seq)
	}
	ok(t, s.Close())
}

func testClosed(t *testing.T, newDB Backend) {
	s := fresh(t, newDB)
	ok(t, s.Close())
	ctx := context.Background()
	errorIs(t, s.View(ctx, func(store.Tx) error { return nil }), store.ErrClosed)
	errorIs(t, s.Update(ctx, func(store.Tx) error { return nil }), store.ErrClosed)
	errorIs(t, s.AppendAudit(ctx, []store.AuditRow{{}}), store.ErrClosed)
	_, err := s.QueryAudit(ctx, store.AuditQuery{})
	errorIs(t, err, store.ErrClosed)
}

func testContext(t *testing.T, newDB Backend) {
	s := fresh(t, newDB)
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	called := false
	err := s.Update(ctx, func(tx store.Tx) error { called = true; return tx.Put("t", "a", nil) })
	if err == nil && called {
		// A backend may run fn before noticing; then the write must not be half-done.
		_, gerr := get(t, s, "t", "a")
		ok(t, gerr)
	} else {
		errorIs(t, err, context.Canceled)
		_, gerr := get(t, s, "t", "a")
		errorIs(t, gerr, store.ErrNotFound)
	}
}

var errNoteSentinel = errors.New("rolled back on purpose")

// testWriteNote: Update sets the flag of a WithWriteNote context, even when
// it rolls back; View does not.
func testWriteNote(t *testing.T, newDB Backend) {
	s := fresh(t, newDB)
	var viewed, rolledBack, wrote atomic.Bool
	view(t, s, func(tx store.Tx) error { return nil })
	ok(t, s.View(store.WithWriteNote(context.Background(), &viewed), func(tx store.Tx) error {
		_, err := tx.Get("t", "k")
		if errors.Is(err, store.ErrNotFound) {
			return nil
		}
		return err
	}))
	errorIs(t, s.Update(store.WithWriteNote(context.Background(), &rolledBack), func(tx store.Tx) error {
		return errNoteSentinel
	}), errNoteSentinel)
	ok(t, s.Update(store.WithWriteNote(context.Background(), &wrote), func(tx store.Tx) error {
		return tx.Put("t", "k", []byte("v"))
	}))
	equals(t, []bool{viewed.Load(), rolledBack.Load(), wrote.Load()}, []bool{false, true, true})
}
