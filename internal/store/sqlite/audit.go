package sqlite

import (
	"context"
	"fmt"
	"strings"
	"time"

	"github.com/rampart/rampart/internal/store"
)

const sqlAuditInsert = "INSERT INTO audit(time, account, region, event_id, body) VALUES (?, ?, ?, ?, ?)"

// AppendAudit implements [store.Store]: all rows in one transaction on the
// writer connection, so a batch costs one fsync.
func (s *Store) AppendAudit(ctx context.Context, rows []store.AuditRow) (err error) {
	if len(rows) == 0 {
		return nil
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

// QueryAudit implements [store.Store].
func (s *Store) QueryAudit(ctx context.Context, q store.AuditQuery) ([]store.AuditRow, error) {
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
