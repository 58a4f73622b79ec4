package store

import "context"

// Leaser is implemented by stores that can elect, among all the rampart
// nodes sharing the store, one leader per named background job (key
// rotation, scheduled deletion, secret rotation, detectors), so that the job
// runs on exactly one node at a time. Check for it with a type assertion:
//
//	if l, ok := st.(store.Leaser); ok { … }
//
// PostgreSQL implements it with a session-level advisory lock held on a
// dedicated connection; SQLite, which has one node, with an in-process lock.
type Leaser interface {
	// TryLead tries, without waiting, to become the leader for name. When
	// another holder (another node, or another TryLead on this node that has
	// not released) leads, it returns (nil, false, nil): try again later.
	// When it returns ok, the caller leads until the Lease's Lost channel is
	// closed, which happens after Release, after the store is closed, or
	// when the backend can no longer vouch for the leadership (PostgreSQL:
	// the connection holding the lock died or stopped answering). Work done
	// as leader should stop when Lost closes and be safe to repeat: in the
	// window between a connection's silent death and its detection two
	// nodes may both believe they lead.
	TryLead(ctx context.Context, name string) (lease Lease, ok bool, err error)
}

// Lease is leadership won by [Leaser.TryLead].
type Lease interface {
	// Lost is closed when the leadership ends, for any reason.
	Lost() <-chan struct{}
	// Release gives up the leadership (closing Lost). It is idempotent.
	Release()
}
