package postgres

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/rampart/rampart/internal/store"
)

// Dump reads the whole store inside one READ ONLY REPEATABLE READ
// transaction, so what it delivers is one consistent snapshot while other
// nodes keep writing: first every meta entry (installation_id,
// schema_version), then every key-value entry in (table, key) order
// (bytewise, COLLATE "C"), then every audit row in sequence order. It
// stops at the first error a callback returns, and returns it. This is the
// hook of `rampart backup`.
func (s *Store) Dump(ctx context.Context, meta func(k, v string) error, kv func(table, key string, value []byte) error, audit func(store.AuditRow) error) (err error) {
	c, err := s.begin(ctx, sqlBeginView)
	if err != nil {
		return err
	}
	defer func() {
		healthy := !c.IsClosed()
		if healthy {
			rctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
			_, rerr := c.Exec(rctx, sqlRollback)
			cancel()
			healthy = rerr == nil
		}
		s.release(c, healthy)
	}()

	each := func(what, query string, scan func(pgx.Rows) error) error {
		rows, err := c.Query(ctx, query)
		if err != nil {
			return fmt.Errorf("postgres: dump %s: %w", what, err)
		}
		defer rows.Close()
		for rows.Next() {
			if err := scan(rows); err != nil {
				return err
			}
		}
		if err := rows.Err(); err != nil {
			return fmt.Errorf("postgres: dump %s: %w", what, err)
		}
		return nil
	}
	if err := each("meta", "SELECT k, v FROM meta ORDER BY k", func(r pgx.Rows) error {
		var k, v string
		if err := r.Scan(&k, &v); err != nil {
			return fmt.Errorf("postgres: dump meta: %w", err)
		}
		return meta(k, v)
	}); err != nil {
		return err
	}
	if err := each("kv", "SELECT tbl, k, v FROM kv ORDER BY tbl, k", func(r pgx.Rows) error {
		var t, k string
		var v []byte
		if err := r.Scan(&t, &k, &v); err != nil {
			return fmt.Errorf("postgres: dump: %w", err)
		}
		return kv(t, k, v)
	}); err != nil {
		return err
	}
	return each("audit", "SELECT seq, time, account, region, event_id, body FROM audit ORDER BY seq", func(r pgx.Rows) error {
		var a store.AuditRow
		var ns int64
		if err := r.Scan(&a.Seq, &ns, &a.Account, &a.Region, &a.EventID, &a.Body); err != nil {
			return fmt.Errorf("postgres: dump audit: %w", err)
		}
		a.Time = time.Unix(0, ns).UTC()
		return audit(a)
	})
}

// ErrNotEmpty is returned by Load when the store already holds entries or
// audit rows.
var ErrNotEmpty = errors.New("the store is not empty: restore only into a new one")

// loadBatch is how many rows Load sends per INSERT.
const loadBatch = 500

// Load fills an empty store in one transaction: read is called with two
// sinks, one for key-value entries and one for audit rows (kept with their
// sequence numbers; the sequence then continues after the largest), and
// when it returns nil the store's installation id becomes installationID
// and everything commits at once. When read returns an error, or the store
// is not empty (ErrNotEmpty), nothing changes. The tables are locked
// against writers meanwhile. This is the hook of `rampart restore`.
func (s *Store) Load(ctx context.Context, installationID string, read func(kv func(table, key string, value []byte) error, audit func(store.AuditRow) error) error) (err error) {
	if installationID == "" {
		return errors.New("postgres: load: no installation id")
	}
	c, err := s.begin(ctx, sqlBeginUpdate)
	if err != nil {
		return err
	}
	committed := false
	defer func() {
		healthy := !c.IsClosed()
		if !committed && healthy {
			rctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
			_, rerr := c.Exec(rctx, sqlRollback)
			cancel()
			healthy = rerr == nil
		}
		s.release(c, healthy)
	}()
	if _, err := c.Exec(ctx, "LOCK TABLE kv, audit, meta IN EXCLUSIVE MODE"); err != nil {
		return fmt.Errorf("postgres: load: %w", err)
	}
	var n int64
	if err := c.QueryRow(ctx, "SELECT (SELECT count(*) FROM kv) + (SELECT count(*) FROM audit)").Scan(&n); err != nil {
		return fmt.Errorf("postgres: load: %w", err)
	}
	if n > 0 {
		return ErrNotEmpty
	}

	var (
		tbls, keys []string
		vals       [][]byte
		seqs       []int64
		times      []int64
		accts      []string
		regions    []string
		ids        []string
		bodies     [][]byte
		maxSeq     int64
	)
	flushKV := func() error {
		if len(tbls) == 0 {
			return nil
		}
		_, err := c.Exec(ctx, "INSERT INTO kv(tbl, k, v) SELECT * FROM unnest($1::text[], $2::text[], $3::bytea[])", tbls, keys, vals)
		tbls, keys, vals = tbls[:0], keys[:0], vals[:0]
		if err != nil {
			return fmt.Errorf("postgres: load: %w", err)
		}
		return nil
	}
	flushAudit := func() error {
		if len(seqs) == 0 {
			return nil
		}
		_, err := c.Exec(ctx, "INSERT INTO audit(seq, time, account, region, event_id, body) SELECT * FROM unnest($1::bigint[], $2::bigint[], $3::text[], $4::text[], $5::text[], $6::bytea[])",
			seqs, times, accts, regions, ids, bodies)
		seqs, times, accts, regions, ids, bodies = seqs[:0], times[:0], accts[:0], regions[:0], ids[:0], bodies[:0]
		if err != nil {
			return fmt.Errorf("postgres: load audit: %w", err)
		}
		return nil
	}
	err = read(func(table, key string, value []byte) error {
		if !validText(table) || !validText(key) {
			return errInvalidText
		}
		tbls, keys, vals = append(tbls, table), append(keys, key), append(vals, nonNil(value))
		if len(tbls) >= loadBatch {
			return flushKV()
		}
		return nil
	}, func(r store.AuditRow) error {
		for _, f := range [...]string{r.Account, r.Region, r.EventID} {
			if !validText(f) {
				return fmt.Errorf("%w: audit row %d", errInvalidText, r.Seq)
			}
		}
		seqs, times, accts, regions, ids, bodies = append(seqs, r.Seq), append(times, r.Time.UnixNano()),
			append(accts, r.Account), append(regions, r.Region), append(ids, r.EventID), append(bodies, nonNil(r.Body))
		maxSeq = max(maxSeq, r.Seq)
		if len(seqs) >= loadBatch {
			return flushAudit()
		}
		return nil
	})
	if err != nil {
		return err
	}
	if err := flushKV(); err != nil {
		return err
	}
	if err := flushAudit(); err != nil {
		return err
	}
	if maxSeq > 0 {
		if _, err := c.Exec(ctx, "SELECT setval(pg_get_serial_sequence('audit', 'seq'), $1)", maxSeq); err != nil {
			return fmt.Errorf("postgres: load: %w", err)
		}
	}
	if _, err := c.Exec(ctx, "UPDATE meta SET v = $1 WHERE k = $2", installationID, metaInstallationID); err != nil {
		return fmt.Errorf("postgres: load: %w", err)
	}
	tag, err := c.Exec(context.WithoutCancel(ctx), sqlCommit)
	if err == nil && tag.String() != "COMMIT" {
		err = fmt.Errorf("transaction rolled back (%s)", tag)
	}
	if err != nil {
		return fmt.Errorf("postgres: load: commit: %w", err)
	}
	committed = true
	s.installationID = installationID
	return nil
}
