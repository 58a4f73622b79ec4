package sqlite

import (
	"context"
	"errors"
	"fmt"

	"github.com/rampart/rampart/internal/store"
)

// Dump reads the whole store: first every meta entry (installation_id,
// schema_version) and every key-value entry in (table, key) order, all
// inside one read transaction, so they are one consistent snapshot (WAL
// mode: writers carry on meanwhile, unseen); then every audit row in
// sequence order. It stops at the first error a
// callback returns, and returns it. This is the hook of `rampart backup`.
func (s *Store) Dump(ctx context.Context, meta func(k, v string) error, kv func(table, key string, value []byte) error, audit func(store.AuditRow) error) error {
	if err := s.dumpKV(ctx, meta, kv); err != nil {
		return err
	}
	// The audit trail is append-only and lives beside the database (the
	// audit log, auditlog.go), outside its transactions: it is read after
	// the snapshot, so the dump holds every event up to at least the
	// snapshot's moment.
	var after int64
	for {
		rows, err := s.QueryAudit(ctx, store.AuditQuery{AfterSeq: after, Limit: dumpAuditPage})
		if err != nil {
			return fmt.Errorf("sqlite: dump audit: %w", err)
		}
		for _, r := range rows {
			if err := audit(r); err != nil {
				return err
			}
			after = r.Seq
		}
		if len(rows) < dumpAuditPage {
			return nil
		}
	}
}

const dumpAuditPage = 1000

// dumpKV delivers meta and kv from one read transaction.
func (s *Store) dumpKV(ctx context.Context, meta func(k, v string) error, kv func(table, key string, value []byte) error) error {
	c, release, err := s.acquireReader(ctx)
	if err != nil {
		return err
	}
	defer release()
	if err := c.exec(ctx, sqlBegin); err != nil {
		return fmt.Errorf("sqlite: begin: %w", err)
	}
	defer c.rollback()

	rows, err := c.c.QueryContext(ctx, "SELECT k, v FROM meta ORDER BY k")
	if err != nil {
		return fmt.Errorf("sqlite: dump meta: %w", err)
	}
	for rows.Next() {
		var k, v string
		if err := rows.Scan(&k, &v); err != nil {
			rows.Close()
			return fmt.Errorf("sqlite: dump meta: %w", err)
		}
		if err := meta(k, v); err != nil {
			rows.Close()
			return err
		}
	}
	if err := errors.Join(rows.Err(), rows.Close()); err != nil {
		return fmt.Errorf("sqlite: dump meta: %w", err)
	}

	rows, err = c.c.QueryContext(ctx, "SELECT tbl, k, v FROM kv ORDER BY tbl, k")
	if err != nil {
		return fmt.Errorf("sqlite: dump: %w", err)
	}
	defer rows.Close()
	for rows.Next() {
		var t, k string
		var v []byte
		if err := rows.Scan(&t, &k, &v); err != nil {
			return fmt.Errorf("sqlite: dump: %w", err)
		}
		if err := kv(t, k, v); err != nil {
			return err
		}
	}
	if err := rows.Err(); err != nil {
		return fmt.Errorf("sqlite: dump: %w", err)
	}
	return nil
}

// ErrNotEmpty is returned by Load when the store already holds entries or
// audit rows.
var ErrNotEmpty = errors.New("the store is not empty: restore only into a new one")

// Load fills an empty store in one transaction: read is called with two
// sinks, one for key-value entries and one for audit rows (kept with their
// sequence numbers), and when it returns nil the store's installation id
// becomes installationID and everything commits at once. When read returns
// an error, or the store is not empty (ErrNotEmpty), nothing changes. This
// is the hook of `rampart restore`.
func (s *Store) Load(ctx context.Context, installationID string, read func(kv func(table, key string, value []byte) error, audit func(store.AuditRow) error) error) error {
	if installationID == "" {
		return errors.New("sqlite: load: no installation id")
	}
	if rows, err := s.QueryAudit(ctx, store.AuditQuery{Limit: 1}); err != nil {
		return fmt.Errorf("sqlite: load: %w", err)
	} else if len(rows) > 0 {
		return ErrNotEmpty
	}
	if err := s.acquireWriter(ctx); err != nil {
		return err
	}
	defer s.releaseWriter()
	c := s.writer
	if err := c.exec(ctx, sqlBeginImmediate); err != nil {
		return fmt.Errorf("sqlite: begin: %w", err)
	}
	committed := false
	defer func() {
		if !committed {
			c.rollback()
		}
	}()
	var n int
	if err := c.c.QueryRowContext(ctx, "SELECT (SELECT count(*) FROM kv) + (SELECT count(*) FROM audit)").Scan(&n); err != nil {
		return fmt.Errorf("sqlite: load: %w", err)
	}
	if n > 0 {
		return ErrNotEmpty
	}
	kvStmt, err := c.c.PrepareContext(ctx, "INSERT INTO kv(tbl, k, v) VALUES (?, ?, ?)")
	if err != nil {
		return fmt.Errorf("sqlite: load: %w", err)
	}
	defer kvStmt.Close()
	auditStmt, err := c.c.PrepareContext(ctx, "INSERT INTO audit(seq, time, account, region, event_id, body) VALUES (?, ?, ?, ?, ?, ?)")
	if err != nil {
		return fmt.Errorf("sqlite: load: %w", err)
	}
	defer auditStmt.Close()
	err = read(func(table, key string, value []byte) error {
		if _, err := kvStmt.ExecContext(ctx, table, key, nonNil(value)); err != nil {
			return fmt.Errorf("sqlite: load %s %q: %w", table, key, err)
		}
		return nil
	}, func(r store.AuditRow) error {
		if _, err := auditStmt.ExecContext(ctx, r.Seq, r.Time.UnixNano(), r.Account, r.Region, r.EventID, nonNil(r.Body)); err != nil {
			return fmt.Errorf("sqlite: load audit row %d: %w", r.Seq, err)
		}
		return nil
	})
	if err != nil {
		return err
	}
	if _, err := c.c.ExecContext(ctx, "UPDATE meta SET v = ? WHERE k = ?", installationID, metaInstallationID); err != nil {
		return fmt.Errorf("sqlite: load: %w", err)
	}
	if err := c.exec(context.WithoutCancel(ctx), sqlCommit); err != nil {
		return fmt.Errorf("sqlite: commit: %w", err)
	}
	committed = true
	s.installationID = installationID
	// The audit rows went into the audit table, in the transaction. Where
	// a file-backed store keeps its trail in the audit log beside the
	// database, the next Open moves them there; restore closes the store
	// right after Load, so the server that opens it next does.
	return nil
}
