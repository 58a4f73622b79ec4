package sqlite

import (
	"context"
	"database/sql"
	"errors"
)

const (
	sqlBegin          = "BEGIN"
	sqlBeginImmediate = "BEGIN IMMEDIATE"
	sqlCommit         = "COMMIT"
	sqlRollback       = "ROLLBACK"
)

// conn is one SQLite connection held for the Store's lifetime, with the
// statements prepared on it. Only the goroutine holding the connection (the
// writer semaphore or a reader taken from the pool) touches it, so the cache
// needs no lock.
type conn struct {
	c     *sql.Conn
	stmts map[string]*sql.Stmt
}

func newConn(c *sql.Conn) *conn { return &conn{c: c, stmts: map[string]*sql.Stmt{}} }

// stmt returns the statement for query, preparing it on first use.
// Statements are keyed by their SQL text, which comes only from constants and
// the fixed variants built in this package, so the cache stays small.
func (c *conn) stmt(ctx context.Context, query string) (*sql.Stmt, error) {
	if st, ok := c.stmts[query]; ok {
		return st, nil
	}
	st, err := c.c.PrepareContext(context.WithoutCancel(ctx), query)
	if err != nil {
		return nil, err
	}
	c.stmts[query] = st
	return st, nil
}

func (c *conn) exec(ctx context.Context, query string) error {
	st, err := c.stmt(ctx, query)
	if err != nil {
		return err
	}
	_, err = st.ExecContext(ctx)
	return err
}

// rollback ends the current transaction, if any. SQLite rolls a transaction
// back by itself after some errors (an interrupted write, SQLITE_FULL, …);
// ROLLBACK then fails with "no transaction is active", which is fine.
// Any other failure leaves the connection in an unknown state; the next
// BEGIN then fails loudly instead of nesting, so there is nothing better to
// do here than to go on.
func (c *conn) rollback() {
	_ = c.exec(context.Background(), sqlRollback)
}

func (c *conn) close() error {
	var errs []error
	for _, st := range c.stmts {
		errs = append(errs, st.Close())
	}
	c.stmts = nil
	errs = append(errs, c.c.Close())
	return errors.Join(errs...)
}
