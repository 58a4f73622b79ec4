package sqlite

import (
	"context"
	"fmt"
	"strings"
	"time"

	"github.com/rampart/rampart/internal/store"
)

const sqlAuditInsert = "INSERT INTO audit(time, account, region, event_id, body) VALUES (?, ?, ?, ?, ?)"

// AppendAudit implements [store.Store]. A file-backed store appends the
// rows to its audit log (auditlog.go): one synchronous write per
// call, not serialised with Updates. In memory mode they go into the audit
// table in one transaction on the writer connection.
func (s *Store) AppendAudit(ctx context.Context, rows []store.AuditRow) (err error) {
	if len(rows) == 0 {
		return nil
	}
	if s.audit != nil {
		select {
		case <-s.closing:
			return store.ErrClosed
		default:
		}
		if err := ctx.Err(); err != nil {
			return err
		}
		return s.audit.append(rows, false)
	}
	return s.appendAuditTable(ctx, rows)
}

// appendAuditTable appends rows to the audit table: all in one transaction
// on the writer connection, so a batch costs one fsync.
func (s *Store) appendAuditTable(ctx context.Context, rows []store.AuditRow) (err error) {
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
	st, err := c.stmt(ctx, sqlAuditInsert)
	if err != nil {
		return fmt.Errorf("sqlite: append audit: %w", err)
	}
	seqs := make([]int64, len(rows))
	for i := range rows {
		r := &rows[i]
		res, err := st.ExecContext(ctx, r.Time.UnixNano(), r.Account, r.Region, r.EventID, nonNil(r.Body))
		if err != nil {
			return fmt.Errorf("sqlite: append audit: %w", err)
		}
		if seqs[i], err = res.LastInsertId(); err != nil {
			return fmt.Errorf("sqlite: append audit: %w", err)
		}
	}
	if err := c.exec(context.WithoutCancel(ctx), sqlCommit); err != nil {
		return fmt.Errorf("sqlite: commit audit: %w", err)
	}
	committed = true
	for i := range rows {
		rows[i].Seq = seqs[i]
	}
	return nil
}

// QueryAudit implements [store.Store]. A file-backed store reads its audit
// log, and the audit table too: it is empty unless a restore loaded rows
// into it since the store was opened (Open moves them into the log).
func (s *Store) QueryAudit(ctx context.Context, q store.AuditQuery) ([]store.AuditRow, error) {
	if s.audit == nil {
		return s.queryAuditTable(ctx, q)
	}
	select {
	case <-s.closing:
		return nil, store.ErrClosed
	default:
	}
	fromLog, err := s.audit.query(ctx, q)
	if err != nil {
		return nil, err
	}
	fromTable, err := s.queryAuditTable(ctx, q)
	if err != nil {
		return nil, err
	}
	return mergeRows(fromLog, fromTable, q.Descending, q.Limit), nil
}

// migrateAuditTable moves the rows of the audit table into the audit log,
// keeping their sequence numbers, then empties the table. Rows the log
// already holds (a crash between the two steps) are not appended again.
func (s *Store) migrateAuditTable(ctx context.Context) error {
	if s.audit.reader {
		return nil // the owner of the log moves them
	}
	rows, err := s.queryAuditTable(ctx, store.AuditQuery{AfterSeq: s.audit.lastSeq})
	if err != nil {
		return err
	}
	if len(rows) > 0 {
		if err := s.audit.append(rows, true); err != nil {
			return fmt.Errorf("move audit rows to the log: %w", err)
		}
	}
	if _, err := s.writer.c.ExecContext(ctx, "DELETE FROM audit"); err != nil {
		return fmt.Errorf("move audit rows to the log: %w", err)
	}
	return nil
}

// queryAuditTable is QueryAudit on the audit table.
func (s *Store) queryAuditTable(ctx context.Context, q store.AuditQuery) ([]store.AuditRow, error) {
	var (
		where []string
		args  []any
	)
	add := func(cond string, arg any) {
		where = append(where, cond)
		args = append(args, arg)
	}
	if q.Account != "" {
		add("account = ?", q.Account)
	}
	if q.Region != "" {
		add("region = ?", q.Region)
	}
	if q.EventID != "" {
		add("event_id = ?", q.EventID)
	}
	if !q.Start.IsZero() {
		add("time >= ?", q.Start.UnixNano())
	}
	if !q.End.IsZero() {
		add("time < ?", q.End.UnixNano())
	}
	if q.AfterSeq > 0 {
		add("seq > ?", q.AfterSeq)
	}
	if q.BeforeSeq > 0 {
		add("seq < ?", q.BeforeSeq)
	}
	var b strings.Builder
	b.WriteString("SELECT seq, time, account, region, event_id, body FROM audit")
	if len(where) > 0 {
		b.WriteString(" WHERE ")
		b.WriteString(strings.Join(where, " AND "))
	}
	if q.Descending {
		b.WriteString(" ORDER BY seq DESC")
	} else {
		b.WriteString(" ORDER BY seq")
	}
	b.WriteString(" LIMIT ?")
	limit := q.Limit
	if limit <= 0 {
		limit = -1
	}
	args = append(args, limit)

	c, release, err := s.acquireReader(ctx)
	if err != nil {
		return nil, err
	}
	defer release()
	// At most 2^7 distinct query texts, so caching them per connection is bounded.
	st, err := c.stmt(ctx, b.String())
	if err != nil {
		return nil, fmt.Errorf("sqlite: query audit: %w", err)
	}
	rows, err := st.QueryContext(ctx, args...)
	if err != nil {
		return nil, fmt.Errorf("sqlite: query audit: %w", err)
	}
	defer rows.Close()
	var out []store.AuditRow
	for rows.Next() {
		var r store.AuditRow
		var ns int64
		if err := rows.Scan(&r.Seq, &ns, &r.Account, &r.Region, &r.EventID, &r.Body); err != nil {
			return nil, fmt.Errorf("sqlite: query audit: %w", err)
		}
		r.Time = time.Unix(0, ns).UTC()
		out = append(out, r)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("sqlite: query audit: %w", err)
	}
	return out, nil
}
