package postgres

import (
	"context"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"

	"github.com/rampart/rampart/internal/store"
)

// sqlAuditInsert inserts the rows of one batch in their order (ORDER BY
// the ordinality), so nextval hands out sequence numbers in that order and
// RETURNING reports them in it.
const sqlAuditInsert = `INSERT INTO audit(time, account, region, event_id, body)
SELECT t, a, r, e, b
FROM unnest($1::bigint[], $2::text[], $3::text[], $4::text[], $5::bytea[]) WITH ORDINALITY AS u(t, a, r, e, b, o)
ORDER BY o
RETURNING seq`

// AppendAudit implements [store.Store]: all rows in one transaction; after
// BEGIN (which replaces dead idle connections) the lock, the insert and the
// commit go in one round trip.
//
// Appends from all nodes are serialised by a transaction-level advisory
// lock held until commit, so sequence numbers become visible in increasing
// order: a reader paging with AfterSeq never skips a row that commits later
// with a smaller number, which a bare bigserial would allow.
func (s *Store) AppendAudit(ctx context.Context, rows []store.AuditRow) error {
	if len(rows) == 0 {
		return nil
	}
	n := len(rows)
	times := make([]int64, n)
	accounts := make([]string, n)
	regions := make([]string, n)
	ids := make([]string, n)
	bodies := make([][]byte, n)
	for i, r := range rows {
		times[i] = r.Time.UnixNano()
		accounts[i], regions[i], ids[i] = r.Account, r.Region, r.EventID
		bodies[i] = nonNil(r.Body)
		for _, f := range [...]string{r.Account, r.Region, r.EventID} {
			if !validText(f) {
				return fmt.Errorf("%w: audit row %d", errInvalidText, i)
			}
		}
	}
	c, err := s.begin(ctx, "BEGIN")
	if err != nil {
		return err
	}
	healthy := false
	defer func() {
		if healthy && c.PgConn().TxStatus() != 'I' {
			_, err := c.Exec(context.Background(), sqlRollback)
			healthy = err == nil
		}
		s.release(c, healthy)
	}()

	b := &pgx.Batch{}
	b.Queue("SELECT pg_advisory_xact_lock($1)", lockKey(s.schema, "audit"))
	b.Queue(sqlAuditInsert, times, accounts, regions, ids, bodies)
	b.Queue(sqlCommit)
	br := c.SendBatch(context.WithoutCancel(ctx), b) // the commit's outcome must be known
	seqs := make([]int64, 0, n)
	_, err = br.Exec()
	if err == nil {
		var qr pgx.Rows
		qr, err = br.Query()
		if err == nil {
			for qr.Next() {
				var seq int64
				if err = qr.Scan(&seq); err != nil {
					break
				}
				seqs = append(seqs, seq)
			}
			qr.Close()
			if err == nil {
				err = qr.Err()
			}
		}
	}
	if err == nil {
		var tag pgconn.CommandTag
		if tag, err = br.Exec(); err == nil && tag.String() != "COMMIT" {
			err = fmt.Errorf("transaction rolled back (%s)", tag)
		}
	}
	if cerr := br.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		healthy = serverError(err)
		return fmt.Errorf("postgres: append audit: %w", err)
	}
	healthy = true
	if len(seqs) != n {
		return fmt.Errorf("postgres: append audit: %d sequence numbers for %d rows", len(seqs), n)
	}
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
		args = append(args, arg)
		where = append(where, cond+" $"+strconv.Itoa(len(args)))
	}
	for _, f := range [...]string{q.Account, q.Region, q.EventID} {
		if !validText(f) {
			return nil, nil // no stored row can match
		}
	}
	if q.Account != "" {
		add("account =", q.Account)
	}
	if q.Region != "" {
		add("region =", q.Region)
	}
	if q.EventID != "" {
		add("event_id =", q.EventID)
	}
	if !q.Start.IsZero() {
		add("time >=", q.Start.UnixNano())
	}
	if !q.End.IsZero() {
		add("time <", q.End.UnixNano())
	}
	if q.AfterSeq > 0 {
		add("seq >", q.AfterSeq)
	}
	if q.BeforeSeq > 0 {
		add("seq <", q.BeforeSeq)
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
	if q.Limit > 0 {
		args = append(args, int64(q.Limit))
		b.WriteString(" LIMIT $" + strconv.Itoa(len(args)))
	}

	// At most 2^8 distinct query texts, so pgx's per-connection statement
	// cache holds them all.
	for attempt := 0; ; attempt++ {
		out, err, dead := s.queryAudit(ctx, b.String(), args)
		if dead && attempt < s.maxConns && ctx.Err() == nil {
			continue // a dead idle connection: the query is read-only, run it again
		}
		return out, err
	}
}

func (s *Store) queryAudit(ctx context.Context, query string, args []any) (_ []store.AuditRow, _ error, dead bool) {
	c, err := s.acquire(ctx)
	if err != nil {
		return nil, err, false
	}
	healthy := false
	defer func() { s.release(c, healthy) }()
	rows, err := c.Query(ctx, query, args...)
	if err != nil {
		healthy = serverError(err) && !c.IsClosed()
		return nil, fmt.Errorf("postgres: query audit: %w", err), c.IsClosed()
	}
	defer rows.Close()
	var out []store.AuditRow
	for rows.Next() {
		var r store.AuditRow
		var ns int64
		if err := rows.Scan(&r.Seq, &ns, &r.Account, &r.Region, &r.EventID, &r.Body); err != nil {
			return nil, fmt.Errorf("postgres: query audit: %w", err), false
		}
		r.Time = time.Unix(0, ns).UTC()
		r.Body = nonNil(r.Body)
		out = append(out, r)
	}
	if err := rows.Err(); err != nil {
		healthy = serverError(err) && !c.IsClosed()
		return nil, fmt.Errorf("postgres: query audit: %w", err), c.IsClosed() && len(out) == 0
	}
	healthy = true
	return out, nil, false
}
