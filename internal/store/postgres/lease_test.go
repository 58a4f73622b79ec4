package postgres_test

import (
	"context"
	"path/filepath"
	"testing"
	"time"

	"github.com/rampart/rampart/internal/store"
	"github.com/rampart/rampart/internal/store/postgres"
	"github.com/rampart/rampart/internal/store/sqlite"
)

func tryLead(t *testing.T, l store.Leaser, name string) (store.Lease, bool) {
	t.Helper()
	lease, ok, err := l.TryLead(context.Background(), name)
	if err != nil {
		t.Fatal(err)
	}
	if ok != (lease != nil) {
		t.Fatalf("TryLead returned ok=%v with lease %v", ok, lease)
	}
	return lease, ok
}

func isLost(l store.Lease) bool {
	select {
	case <-l.Lost():
		return true
	default:
		return false
	}
}

// waitLead polls TryLead until it wins.
func waitLead(t *testing.T, l store.Leaser, name string) store.Lease {
	t.Helper()
	var lease store.Lease
	waitFor(t, "leadership of "+name, func() bool {
		var ok bool
		lease, ok = tryLead(t, l, name)
		return ok
	})
	return lease
}

// Leadership is exclusive per name, moves on Release, and is lost when the
// connection holding it dies, after which another node takes over.
func TestLeaderElection(t *testing.T) {
	u := newSchema(t)
	a := open(t, u, postgres.WithPingInterval(200*time.Millisecond))
	b := open(t, u, postgres.WithPingInterval(200*time.Millisecond))
	name := "rotation-" + a.NodeID()

	la, ok := tryLead(t, a, name)
	if !ok {
		t.Fatal("first TryLead lost")
	}
	for _, s := range []store.Leaser{b, a} { // another node, or the same one again
		if _, ok := tryLead(t, s, name); ok {
			t.Fatal("two leaders at once")
		}
	}
	other, ok := tryLead(t, b, "other-"+a.NodeID())
	if !ok {
		t.Fatal("names are not independent")
	}
	other.Release()

	// Release hands over.
	la.Release()
	la.Release() // idempotent
	if !isLost(la) {
		t.Fatal("Lost not closed by Release")
	}
	lb := waitLead(t, b, name)
	if _, ok := tryLead(t, a, name); ok {
		t.Fatal("a leads while b does")
	}

	// The leader's connection dies: it learns it lost, and a takes over.
	if n := terminate(t, "rampart lead "+name); n != 1 {
		t.Fatalf("terminated %d lease sessions, want 1", n)
	}
	waitFor(t, "b to notice the lost leadership", func() bool { return isLost(lb) })
	la = waitLead(t, a, name)

	// Closing the store ends its leases.
	a.Close()
	if !isLost(la) {
		t.Fatal("Lost not closed by Close")
	}
	if _, _, err := a.TryLead(context.Background(), name); err == nil {
		t.Fatal("TryLead on a closed store succeeded")
	}
	waitLead(t, b, name).Release()
}

// SQLite has one node: leadership is exclusive within the process and moves on Release.
func TestSQLiteLeaser(t *testing.T) {
	s, err := sqlite.Open(filepath.Join(t.TempDir(), "r.db"))
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	var l store.Leaser = s
	lease, ok := tryLead(t, l, "job")
	if !ok {
		t.Fatal("sqlite: first TryLead lost")
	}
	if _, ok := tryLead(t, l, "job"); ok {
		t.Fatal("sqlite: two leaders at once")
	}
	if isLost(lease) {
		t.Fatal("sqlite: lease lost while held")
	}
	lease.Release()
	lease.Release()
	if !isLost(lease) {
		t.Fatal("sqlite: Lost not closed by Release")
	}
	again, ok := tryLead(t, l, "job")
	if !ok {
		t.Fatal("sqlite: leadership not free after Release")
	}
	again.Release()
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if _, _, err := l.TryLead(ctx, "job"); err == nil {
		t.Fatal("sqlite: TryLead ignores a cancelled context")
	}
}
