package postgres

import (
	"context"
	"fmt"
	"sync"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"

	"github.com/rampart/rampart/internal/store"
)

// lease is leadership held as a session-level advisory lock on a dedicated
// connection. PostgreSQL releases the lock when that session ends, so
// "the connection died" and "the leadership ended" are the same event; a
// monitor goroutine reads the connection continuously (a server-side close
// is noticed at once) and pings it when silent (a silent network failure is
// noticed within the ping interval plus a timeout).
type lease struct {
	s       *Store
	c       *pgx.Conn
	lost    chan struct{}
	stop    chan struct{}
	once    sync.Once
	stopped sync.Once
}

func (l *lease) Lost() <-chan struct{} { return l.lost }

// Release implements [store.Lease]: it closes the connection, which ends
// the session and so the lock, and waits for the monitor to finish.
func (l *lease) Release() {
	l.stopped.Do(func() { close(l.stop) })
	<-l.lost
}

// TryLead implements [store.Leaser] with pg_try_advisory_lock on a new
// connection per lease, keyed by schema and name. Followers call it
// periodically; each call that does not win costs one connection setup.
func (s *Store) TryLead(ctx context.Context, name string) (store.Lease, bool, error) {
	select {
	case <-s.closing:
		return nil, false, store.ErrClosed
	default:
	}
	cfg := s.cfg.Copy()
	cfg.RuntimeParams["application_name"] = truncate("rampart lead "+name, 63)
	c, err := pgx.ConnectConfig(ctx, cfg)
	if err != nil {
		return nil, false, fmt.Errorf("postgres: lead %s: %w", name, err)
	}
	var won bool
	if err := c.QueryRow(ctx, "SELECT pg_try_advisory_lock($1)", lockKey(s.schema, "lead/"+name)).Scan(&won); err != nil {
		c.Close(context.Background())
		return nil, false, fmt.Errorf("postgres: lead %s: %w", name, err)
	}
	if !won {
		c.Close(context.Background())
		return nil, false, nil
	}
	l := &lease{s: s, c: c, lost: make(chan struct{}), stop: make(chan struct{})}
	s.leaseMu.Lock()
	select {
	case <-s.closing:
		s.leaseMu.Unlock()
		c.Close(context.Background())
		return nil, false, store.ErrClosed
	default:
	}
	s.leases[l] = struct{}{}
	s.bg.Add(1)
	s.leaseMu.Unlock()
	go l.monitor()
	return l, true, nil
}

func (l *lease) monitor() {
	defer l.s.bg.Done()
	defer func() {
		l.c.Close(context.Background())
		l.s.leaseMu.Lock()
		delete(l.s.leases, l)
		l.s.leaseMu.Unlock()
		close(l.lost)
	}()
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	go func() {
		select {
		case <-l.stop:
			cancel()
		case <-ctx.Done():
		}
	}()
	for {
		// Block reading the connection: nothing is expected but an error
		// (the server closing the session) or the interval running out.
		wctx, wcancel := context.WithTimeout(ctx, l.s.pingEvery)
		err := l.c.PgConn().WaitForNotification(wctx)
		wcancel()
		switch {
		case ctx.Err() != nil:
			return // released
		case err == nil:
			continue // a stray notification: nothing listens here
		case !pgconn.Timeout(err):
			return // the session is gone, and the lock with it
		}
		pctx, pcancel := context.WithTimeout(ctx, max(l.s.pingEvery, 5*time.Second))
		err = l.c.Ping(pctx)
		pcancel()
		if err != nil {
			return
		}
	}
}

func truncate(s string, n int) string {
	if len(s) <= n {
		return s
	}
	return s[:n]
}
