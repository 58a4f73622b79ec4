package postgres

import (
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"

	"github.com/rampart/rampart/internal/store"
)

const (
	sqlBeginView   = "BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY"
	sqlBeginUpdate = "BEGIN ISOLATION LEVEL SERIALIZABLE"
	sqlCommit      = "COMMIT"
	sqlRollback    = "ROLLBACK"
	sqlNotify      = "SELECT pg_notify($1, $2)"
)

// retryable reports whether err is a failure PostgreSQL asks the client to
// retry the whole transaction for: serialization_failure (40001) or
// deadlock_detected (40P01).
func retryable(err error) bool {
	var pe *pgconn.PgError
	return errors.As(err, &pe) && (pe.Code == "40001" || pe.Code == "40P01")
}

// serverError reports whether err came from the server (the session is
// fine, only the transaction aborted), as opposed to a broken connection or
// an interrupted statement, after which the connection is not reused.
func serverError(err error) bool {
	var pe *pgconn.PgError
	return errors.As(err, &pe)
}

// begin acquires a connection and starts a transaction. An idle connection
// found dead at BEGIN (the server restarted or terminated the session, a
// firewall dropped it) is replaced: nothing had started, so retrying is
// safe. Every idle connection may be dead, hence maxConns+1 tries.
func (s *Store) begin(ctx context.Context, sql string) (*pgx.Conn, error) {
	for attempt := 0; ; attempt++ {
		c, err := s.acquire(ctx)
		if err != nil {
			return nil, err
		}
		_, err = c.Exec(ctx, sql)
		if err == nil {
			return c, nil
		}
		dead := c.IsClosed() || pgconn.SafeToRetry(err)
		s.release(c, false)
		if dead && attempt < s.maxConns && ctx.Err() == nil {
			continue
		}
		if ctx.Err() != nil {
			return nil, ctx.Err()
		}
		return nil, fmt.Errorf("postgres: begin: %w", err)
	}
}

// finish ends the transaction on c when it did not commit, and returns c to
// the pool (or closes it when its state is unknown).
func (s *Store) finish(c *pgx.Conn, t *tx, committed bool) {
	t.done = true
	healthy := true
	if !committed {
		if t.err != nil && !serverError(t.err) {
			healthy = false // interrupted mid-statement: do not talk to it again
		} else {
			ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
			_, err := c.Exec(ctx, sqlRollback)
			cancel()
			healthy = err == nil
		}
	}
	s.release(c, healthy)
}

// View implements [store.Store]: fn runs in a READ ONLY REPEATABLE READ
// transaction, whose snapshot is taken at its first statement.
func (s *Store) View(ctx context.Context, fn func(tx store.Tx) error) error {
	c, err := s.begin(ctx, sqlBeginView)
	if err != nil {
		return err
	}
	t := &tx{ctx: ctx, c: c}
	defer s.finish(c, t, false)
	return fn(t)
}

// Update implements [store.Store]: fn runs in a SERIALIZABLE transaction.
// When PostgreSQL reports a serialization failure or a deadlock (at a
// statement or at COMMIT) the transaction is rolled back and fn runs again
// from the start, after a short randomised backoff, up to the configured
// number of attempts. fn must therefore be re-runnable: it must have no
// effects outside tx (it already must not, since a rolled-back Update
// leaves nothing behind) and must not carry state from a previous run.
func (s *Store) Update(ctx context.Context, fn func(tx store.Tx) error) error {
	store.NoteWrite(ctx)
	var last error
	for attempt := 0; attempt < s.maxAttempts; attempt++ {
		if attempt > 0 {
			if err := s.backoff(ctx, attempt); err != nil {
				return err
			}
		}
		err, retry := s.updateOnce(ctx, fn)
		if !retry {
			return err
		}
		last = err
	}
	return fmt.Errorf("postgres: update gave up after %d serialization failures: %w", s.maxAttempts, last)
}

// backoff sleeps a random time below min(2^attempt × 100µs, 20ms), so
// transactions that collided spread out.
func (s *Store) backoff(ctx context.Context, attempt int) error {
	ceiling := 100 * time.Microsecond << min(attempt, 8)
	d := min(ceiling, 20*time.Millisecond)
	timer := time.NewTimer(rand.N(d) + 1)
	defer timer.Stop()
	select {
	case <-timer.C:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	case <-s.closing:
		return store.ErrClosed
	}
}

// updateOnce runs one attempt; retry reports a serialization failure.
func (s *Store) updateOnce(ctx context.Context, fn func(tx store.Tx) error) (err error, retry bool) {
	c, err := s.begin(ctx, sqlBeginUpdate)
	if err != nil {
		return err, false
	}
	t := &tx{ctx: ctx, c: c, write: true}
	committed := false
	defer func() { s.finish(c, t, committed) }() // also when fn panics

	ferr := fn(t)
	if t.err != nil && retryable(t.err) {
		return t.err, true // whatever fn made of it, the transaction must rerun
	}
	if ferr != nil {
		return ferr, false
	}
	if t.err != nil {
		// fn swallowed a failed statement; PostgreSQL has aborted the
		// transaction, so there is nothing left to commit.
		return fmt.Errorf("postgres: commit refused after failed statement: %w", t.err), false
	}
	if len(t.changes) == 0 {
		if err := s.commit(ctx, c, nil); err != nil {
			t.err = err
			return fmt.Errorf("postgres: commit: %w", err), retryable(err)
		}
		committed = true
		return nil, false
	}
	// Commits that changed something go through notifyMu, so local
	// deliveries happen in commit order. PostgreSQL serialises the commits
	// of notifying transactions anyway (they queue for the notification
	// queue lock), so this costs this node no concurrency.
	s.notifyMu.Lock()
	defer s.notifyMu.Unlock()
	if err := s.commit(ctx, c, t.changes); err != nil {
		t.err = err
		return fmt.Errorf("postgres: commit: %w", err), retryable(err)
	}
	committed = true
	if s.hasSubs.Load() {
		s.deliver(t.changes)
	}
	return nil, false
}

// commit sends the change notification (when there are changes) and COMMIT
// in one round trip. The commit is not interrupted by ctx: once it is sent
// its outcome must be known.
func (s *Store) commit(ctx context.Context, c *pgx.Conn, changes []store.Change) error {
	ctx = context.WithoutCancel(ctx)
	if len(changes) == 0 {
		tag, err := c.Exec(ctx, sqlCommit)
		if err == nil && tag.String() != "COMMIT" {
			err = fmt.Errorf("transaction rolled back (%s)", tag)
		}
		return err
	}
	b := &pgx.Batch{}
	b.Queue(sqlNotify, s.channel, s.payload(changes))
	b.Queue(sqlCommit)
	br := c.SendBatch(ctx, b)
	_, nerr := br.Exec()
	tag, cerr := br.Exec()
	err := errors.Join(nerr, cerr, br.Close())
	if err == nil && tag.String() != "COMMIT" {
		err = fmt.Errorf("transaction rolled back (%s)", tag)
	}
	return err
}
