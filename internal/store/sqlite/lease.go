package sqlite

import (
	"context"
	"sync"

	"github.com/rampart/rampart/internal/store"
)

// leases holds, per open Store, the names currently led. A SQLite file has
// one node, so leadership only has to be exclusive within the process;
// entries disappear when their lease is released.
var leases struct {
	mu   sync.Mutex
	held map[*Store]map[string]*lease
}

type lease struct {
	s    *Store
	name string
	lost chan struct{}
	once sync.Once
}

func (l *lease) Lost() <-chan struct{} { return l.lost }

func (l *lease) Release() {
	l.once.Do(func() {
		leases.mu.Lock()
		defer leases.mu.Unlock()
		if m := leases.held[l.s]; m[l.name] == l {
			delete(m, l.name)
			if len(m) == 0 {
				delete(leases.held, l.s)
			}
		}
		close(l.lost)
	})
}

// TryLead implements [store.Leaser]. The process is the only node, so it
// leads every name nobody in the process holds. Lost closes only on Release:
// this backend cannot lose leadership (a closed store makes the leader's
// work fail with [store.ErrClosed] instead). Leases not released keep the
// name taken for the life of the process.
func (s *Store) TryLead(ctx context.Context, name string) (store.Lease, bool, error) {
	if err := ctx.Err(); err != nil {
		return nil, false, err
	}
	select {
	case <-s.closing:
		return nil, false, store.ErrClosed
	default:
	}
	leases.mu.Lock()
	defer leases.mu.Unlock()
	if leases.held == nil {
		leases.held = map[*Store]map[string]*lease{}
	}
	m := leases.held[s]
	if m == nil {
		m = map[string]*lease{}
		leases.held[s] = m
	}
	if _, taken := m[name]; taken {
		return nil, false, nil
	}
	l := &lease{s: s, name: name, lost: make(chan struct{})}
	m[name] = l
	return l, true, nil
}

var _ store.Leaser = (*Store)(nil)
