package postgres

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"unicode/utf8"

	"github.com/jackc/pgx/v5"

	"github.com/rampart/rampart/internal/store"
)

const (
	sqlGet    = "SELECT v FROM kv WHERE tbl = $1 AND k = $2"
	sqlPut    = "INSERT INTO kv(tbl, k, v) VALUES ($1, $2, $3) ON CONFLICT (tbl, k) DO UPDATE SET v = excluded.v"
	sqlInsert = "INSERT INTO kv(tbl, k, v) VALUES ($1, $2, $3) ON CONFLICT (tbl, k) DO NOTHING"
	sqlDelete = "DELETE FROM kv WHERE tbl = $1 AND k = $2"
)

// Range statements come in fixed variants (pgx prepares and caches each per
// connection): the lower bound is inclusive (k >= prefix) or exclusive
// (k > after), and the upper bound (k < prefixEnd(prefix)) may not exist.
// LIMIT NULL means no limit.
var (
	sqlScan = [2][2]string{ // [exclusive lower][bounded upper]
		{"SELECT k, v FROM kv WHERE tbl = $1 AND k >= $2 ORDER BY k LIMIT $3",
			"SELECT k, v FROM kv WHERE tbl = $1 AND k >= $2 AND k < $4 ORDER BY k LIMIT $3"},
		{"SELECT k, v FROM kv WHERE tbl = $1 AND k > $2 ORDER BY k LIMIT $3",
			"SELECT k, v FROM kv WHERE tbl = $1 AND k > $2 AND k < $4 ORDER BY k LIMIT $3"},
	}
	sqlCount = [2]string{ // [bounded upper]
		"SELECT count(*) FROM kv WHERE tbl = $1 AND k >= $2",
		"SELECT count(*) FROM kv WHERE tbl = $1 AND k >= $2 AND k < $3",
	}
	sqlDeletePrefix = [2]string{ // [bounded upper]
		"DELETE FROM kv WHERE tbl = $1 AND k >= $2 RETURNING k",
		"DELETE FROM kv WHERE tbl = $1 AND k >= $2 AND k < $3 RETURNING k",
	}
)

// errInvalidText is returned by the write methods for a table or key that
// PostgreSQL text cannot hold; see [store.Tx].
var errInvalidText = errors.New("postgres: table and key must be valid UTF-8 without NUL")

// tx implements [store.Tx] on one connection inside BEGIN … COMMIT.
type tx struct {
	ctx   context.Context
	c     *pgx.Conn
	write bool
	done  bool
	// err is the first statement failure. PostgreSQL aborts the whole
	// transaction on any error, so every later call fails, and Update
	// retries (serialization failure, deadlock) or refuses to commit.
	err     error
	changes []store.Change
	seen    map[store.Change]struct{}
}

func (t *tx) check(write bool) error {
	switch {
	case t.done:
		return store.ErrTxDone
	case t.err != nil:
		return fmt.Errorf("postgres: transaction aborted by earlier error: %w", t.err)
	case write && !t.write:
		return store.ErrReadOnly
	}
	return nil
}

func (t *tx) fail(op string, err error) error {
	if t.err == nil {
		t.err = err
	}
	return fmt.Errorf("postgres: %s: %w", op, err)
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
	if !validText(table) || !validText(key) {
		return nil, fmt.Errorf("%w: %s %q", store.ErrNotFound, table, key)
	}
	var v []byte
	switch err := t.c.QueryRow(t.ctx, sqlGet, table, key).Scan(&v); {
	case errors.Is(err, pgx.ErrNoRows):
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
	if !validText(table) || !validText(key) {
		return fmt.Errorf("%w: %s %q", errInvalidText, table, key)
	}
	if _, err := t.c.Exec(t.ctx, sqlPut, table, key, nonNil(value)); err != nil {
		return t.fail("put", err)
	}
	t.changed(table, key)
	return nil
}

func (t *tx) Insert(table, key string, value []byte) error {
	if err := t.check(true); err != nil {
		return err
	}
	if !validText(table) || !validText(key) {
		return fmt.Errorf("%w: %s %q", errInvalidText, table, key)
	}
	tag, err := t.c.Exec(t.ctx, sqlInsert, table, key, nonNil(value))
	if err != nil {
		return t.fail("insert", err)
	}
	if tag.RowsAffected() == 0 {
		return fmt.Errorf("%w: %s %q", store.ErrExists, table, key)
	}
	t.changed(table, key)
	return nil
}

func (t *tx) Delete(table, key string) (bool, error) {
	if err := t.check(true); err != nil {
		return false, err
	}
	if !validText(table) || !validText(key) {
		return false, nil // cannot exist
	}
	tag, err := t.c.Exec(t.ctx, sqlDelete, table, key)
	if err != nil {
		return false, t.fail("delete", err)
	}
	n := tag.RowsAffected()
	if n > 0 {
		t.changed(table, key)
	}
	return n > 0, nil
}

func (t *tx) DeletePrefix(table, prefix string) (int, error) {
	if err := t.check(true); err != nil {
		return 0, err
	}
	if !validText(table) || !validText(prefix) {
		return 0, nil // no stored key can have it
	}
	args := []any{table, prefix}
	end, bounded := prefixEnd(prefix)
	if bounded {
		args = append(args, end)
	}
	rows, err := t.c.Query(t.ctx, sqlDeletePrefix[b2i(bounded)], args...)
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
	if !validText(table) || !validText(prefix) {
		return nil, nil // no stored key can have it
	}
	var lim any // NULL: no limit
	if limit > 0 {
		lim = int64(limit)
	}
	filter := false
	if exclusive && !validText(after) {
		// A cursor the server cannot hold (no stored key equals it). Scan
		// from its longest valid prefix, which sorts before it, drop the
		// keys not after it, and apply the limit here. Rare: cursors are
		// normally keys returned by an earlier Scan.
		lower, lim, filter = validPrefix(after), nil, true
	}
	args := []any{table, lower, lim}
	end, bounded := prefixEnd(prefix)
	if bounded {
		args = append(args, end)
	}
	rows, err := t.c.Query(t.ctx, sqlScan[b2i(exclusive)][b2i(bounded)], args...)
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
		if filter {
			if kv.Key <= after {
				continue
			}
			if limit > 0 && len(out) == limit {
				break
			}
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
	if !validText(table) || !validText(prefix) {
		return 0, nil
	}
	args := []any{table, prefix}
	end, bounded := prefixEnd(prefix)
	if bounded {
		args = append(args, end)
	}
	var n int64
	if err := t.c.QueryRow(t.ctx, sqlCount[b2i(bounded)], args...).Scan(&n); err != nil {
		return 0, t.fail("count", err)
	}
	return int(n), nil
}

func b2i(b bool) int {
	if b {
		return 1
	}
	return 0
}

// validPrefix returns the longest prefix of s that is valid UTF-8 without NUL.
func validPrefix(s string) string {
	for i, r := range s {
		if r == 0 || (r == utf8.RuneError && !strings.HasPrefix(s[i:], "\uFFFD")) {
			return s[:i]
		}
	}
	return s
}
