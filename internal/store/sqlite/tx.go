package sqlite

import (
	"context"
	"database/sql"
	"errors"
	"fmt"

	"github.com/rampart/rampart/internal/store"
)

const (
	sqlGet    = "SELECT v FROM kv WHERE tbl = ? AND k = ?"
	sqlPut    = "INSERT INTO kv(tbl, k, v) VALUES (?, ?, ?) ON CONFLICT(tbl, k) DO UPDATE SET v = excluded.v"
	sqlInsert = "INSERT INTO kv(tbl, k, v) VALUES (?, ?, ?) ON CONFLICT(tbl, k) DO NOTHING"
	sqlDelete = "DELETE FROM kv WHERE tbl = ? AND k = ?"
)

// Range statements come in variants: the lower bound is inclusive (k >= prefix)
// or exclusive (k > after), and the upper bound (k < PrefixEnd(prefix)) may
// not exist. Each variant is a fixed string, prepared once per connection.
var (
	sqlScan = [2][2]string{ // [exclusive lower][bounded upper]
		{"SELECT k, v FROM kv WHERE tbl = ? AND k >= ? ORDER BY k LIMIT ?",
			"SELECT k, v FROM kv WHERE tbl = ? AND k >= ? AND k < ? ORDER BY k LIMIT ?"},
		{"SELECT k, v FROM kv WHERE tbl = ? AND k > ? ORDER BY k LIMIT ?",
			"SELECT k, v FROM kv WHERE tbl = ? AND k > ? AND k < ? ORDER BY k LIMIT ?"},
	}
	sqlCount = [2]string{ // [bounded upper]
		"SELECT count(*) FROM kv WHERE tbl = ? AND k >= ?",
		"SELECT count(*) FROM kv WHERE tbl = ? AND k >= ? AND k < ?",
	}
	sqlDeletePrefix = [2]string{ // [bounded upper]
		"DELETE FROM kv WHERE tbl = ? AND k >= ? RETURNING k",
		"DELETE FROM kv WHERE tbl = ? AND k >= ? AND k < ? RETURNING k",
	}
)

// tx implements [store.Tx] on one connection.
type tx struct {
	ctx   context.Context
	c     *conn
	write bool
	done  bool
	// err is the first unexpected statement failure. SQLite may have rolled
	// back the transaction on it, so every later call fails and Update
	// refuses to commit.
	err     error
	changes []store.Change
	seen    map[store.Change]struct{}
}

func (t *tx) check(write bool) error {
	switch {
	case t.done:
		return store.ErrTxDone
	case t.err != nil:
		return fmt.Errorf("sqlite: transaction aborted by earlier error: %w", t.err)
	case write && !t.write:
		return store.ErrReadOnly
	}
	return nil
}

func (t *tx) fail(op string, err error) error {
	if t.err == nil {
		t.err = err
	}
	return fmt.Errorf("sqlite: %s: %w", op, err)
}

func (t *tx) changed(table, key string) {
	ch := store.Change{Table: table, Key: key}
	if t.seen == nil {
		t.seen = map[store.Change]struct{}{}
	}
	if _, ok := t.seen[ch]; ok {
		return
	}
	t.seen[ch] = struct{}{}
	t.changes = append(t.changes, ch)
}

func nonNil(v []byte) []byte {
	if v == nil {
		return []byte{}
	}
	return v
}

func (t *tx) Get(table, key string) ([]byte, error) {
	if err := t.check(false); err != nil {
		return nil, err
	}
	st, err := t.c.stmt(t.ctx, sqlGet)
	if err != nil {
		return nil, t.fail("get", err)
	}
	var v []byte
	switch err := st.QueryRowContext(t.ctx, table, key).Scan(&v); {
	case errors.Is(err, sql.ErrNoRows):
		return nil, fmt.Errorf("%w: %s %q", store.ErrNotFound, table, key)
	case err != nil:
		return nil, t.fail("get", err)
	}
	return nonNil(v), nil
}

func (t *tx) Put(table, key string, value []byte) error {
	if err := t.check(true); err != nil {
		return err
	}
	st, err := t.c.stmt(t.ctx, sqlPut)
	if err != nil {
		return t.fail("put", err)
	}
	if _, err := st.ExecContext(t.ctx, table, key, nonNil(value)); err != nil {
		return t.fail("put", err)
	}
	t.changed(table, key)
	return nil
}

func (t *tx) Insert(table, key string, value []byte) error {
	if err := t.check(true); err != nil {
		return err
	}
	st, err := t.c.stmt(t.ctx, sqlInsert)
	if err != nil {
		return t.fail("insert", err)
	}
	res, err := st.ExecContext(t.ctx, table, key, nonNil(value))
	if err != nil {
		return t.fail("insert", err)
	}
	n, err := res.RowsAffected()
	if err != nil {
		return t.fail("insert", err)
	}
	if n == 0 {
		return fmt.Errorf("%w: %s %q", store.ErrExists, table, key)
	}
	t.changed(table, key)
	return nil
}

func (t *tx) Delete(table, key string) (bool, error) {
	if err := t.check(true); err != nil {
		return false, err
	}
	st, err := t.c.stmt(t.ctx, sqlDelete)
	if err != nil {
		return false, t.fail("delete", err)
	}
	res, err := st.ExecContext(t.ctx, table, key)
	if err != nil {
		return false, t.fail("delete", err)
	}
	n, err := res.RowsAffected()
	if err != nil {
		return false, t.fail("delete", err)
	}
	if n > 0 {
		t.changed(table, key)
	}
	return n > 0, nil
}

func (t *tx) DeletePrefix(table, prefix string) (int, error) {
	if err := t.check(true); err != nil {
		return 0, err
	}
	args := []any{table, prefix}
	end, bounded := store.PrefixEnd(prefix)
	if bounded {
		args = append(args, end)
	}
	st, err := t.c.stmt(t.ctx, sqlDeletePrefix[b2i(bounded)])
	if err != nil {
		return 0, t.fail("delete prefix", err)
	}
	rows, err := st.QueryContext(t.ctx, args...)
	if err != nil {
		return 0, t.fail("delete prefix", err)
	}
	defer rows.Close()
	n := 0
	for rows.Next() {
		var k string
		if err := rows.Scan(&k); err != nil {
			return n, t.fail("delete prefix", err)
		}
		t.changed(table, k)
		n++
	}
	if err := rows.Err(); err != nil {
		return n, t.fail("delete prefix", err)
	}
	return n, nil
}

func (t *tx) Scan(table, prefix, after string, limit int) ([]store.KV, error) {
	if err := t.check(false); err != nil {
		return nil, err
	}
	lower, exclusive := prefix, false
	if after != "" && after >= prefix {
		lower, exclusive = after, true
	}
	args := []any{table, lower}
	end, bounded := store.PrefixEnd(prefix)
	if bounded {
		args = append(args, end)
	}
	if limit <= 0 {
		limit = -1 // SQLite: no limit
	}
	args = append(args, limit)
	st, err := t.c.stmt(t.ctx, sqlScan[b2i(exclusive)][b2i(bounded)])
	if err != nil {
		return nil, t.fail("scan", err)
	}
	rows, err := st.QueryContext(t.ctx, args...)
	if err != nil {
		return nil, t.fail("scan", err)
	}
	defer rows.Close()
	var out []store.KV
	if limit > 0 && limit <= 1000 {
		out = make([]store.KV, 0, limit)
	}
	for rows.Next() {
		var kv store.KV
		if err := rows.Scan(&kv.Key, &kv.Value); err != nil {
			return nil, t.fail("scan", err)
		}
		kv.Value = nonNil(kv.Value)
		out = append(out, kv)
	}
	if err := rows.Err(); err != nil {
		return nil, t.fail("scan", err)
	}
	return out, nil
}

func (t *tx) Count(table, prefix string) (int, error) {
	if err := t.check(false); err != nil {
		return 0, err
	}
	args := []any{table, prefix}
	end, bounded := store.PrefixEnd(prefix)
	if bounded {
		args = append(args, end)
	}
	st, err := t.c.stmt(t.ctx, sqlCount[b2i(bounded)])
	if err != nil {
		return 0, t.fail("count", err)
	}
	var n int
	if err := st.QueryRowContext(t.ctx, args...).Scan(&n); err != nil {
		return 0, t.fail("count", err)
	}
	return n, nil
}

func b2i(b bool) int {
	if b {
		return 1
	}
	return 0
}
