// Package postgres implements [store.Store] and [store.Leaser] on
// PostgreSQL (12 or later) through pgx v5, so that any number of rampart
// nodes can share one database. It passes the same conformance suite
// (package store/storetest) as the SQLite backend.
//
// # Connections
//
// [Open] takes a libpq connection string; parameters pgx does not know
// (search_path, application_name, …) become session settings. The tables
// live in the first existing schema of the search path, which also scopes
// the advisory locks and the notification channel, so several deployments
// (or tests) can share a database in different schemas.
//
// A small pool of pgx connections (default 8, [WithMaxConns]) serves View,
// Update and the audit calls; pgx keeps each connection's prepared
// statements. (pgxpool would need github.com/jackc/puddle/v2, which is not
// in go.sum; the pool here is a semaphore and an idle list.) A connection
// found dead at BEGIN is replaced and the BEGIN retried; one interrupted
// mid-transaction (cancelled context, network failure) is closed, which
// rolls its transaction back on the server. Besides the pool, each Store
// keeps one listening connection and one connection per held lease.
//
// # Transactions
//
// Update runs in a SERIALIZABLE transaction. SQLite's single writer makes
// every Update see the effects of all earlier ones and be seen whole by all
// later ones; PostgreSQL's serializable snapshot isolation guarantees that
// the committed Updates have exactly the effects of some one-at-a-time
// order, which is the same promise. REPEATABLE READ with explicit row
// locks (SELECT … FOR UPDATE) would protect read-modify-write of existing
// rows but not decisions taken on absent rows or ranges ("create the alias
// unless one exists", "add a member while Count < quota"): two
// transactions can both see the range empty and both write — write skew.
// SERIALIZABLE tracks those predicate reads (TestNoWriteSkew).
//
// The price is that PostgreSQL may abort a transaction with a
// serialization failure (40001) or a deadlock (40P01), at any statement or
// at COMMIT. Update then rolls back and runs fn again from the start, after
// a randomised backoff (up to [WithMaxAttempts], default 100). So fn must
// be re-runnable: no effects outside the Tx (which it must already avoid,
// as a rolled-back Update leaves nothing behind) and no state carried over
// from an earlier run. Subscribers hear only the attempt that committed.
// PostgreSQL checks serializability only for transactions that commit: an
// fn that returns an error has read a consistent snapshot, but in rare
// three-transaction patterns not one any serial order would have produced.
//
// View runs in a READ ONLY REPEATABLE READ transaction: one snapshot, taken
// at its first statement, never blocked by writers and never aborted.
//
// A failed statement aborts a PostgreSQL transaction, so expected outcomes
// never reach the server as errors: Insert is INSERT … ON CONFLICT DO
// NOTHING (ErrExists when no row was inserted), and tables or keys that
// PostgreSQL text cannot hold (invalid UTF-8, NUL) are answered in Go —
// absent on read, refused on write — without aborting the transaction.
// Range scans use the exact UTF-8 upper bound of a prefix (the next code
// point, not the next byte, which could be invalid UTF-8).
//
// # Changes
//
// After each committed Update that changed something, the Store delivers
// the (table, key) pairs to its own subscribers before Update returns, and
// within the same transaction sends them to the other nodes with
// pg_notify on the channel "rampart:<schema>" (a JSON payload tagged with
// the sending node's id). PostgreSQL delivers notifications only on
// commit, and in commit order. A dedicated connection LISTENs on the
// channel and delivers other nodes' changes to the subscribers; a node
// ignores its own. Payloads must stay under 8000 bytes: a change set too
// large is sent as the list of tables changed and delivered as
// Change{Table: t, Key: ""} ("anything in t"); too many tables, as
// Change{} ("anything"). When the listening connection breaks it
// reconnects with backoff and then delivers Change{}, since notifications
// sent meanwhile were lost. See [Store.Subscribe].
//
// PostgreSQL serialises the commits of notifying transactions cluster-wide
// (a lock held from pre-commit to the end of the commit). Local deliveries
// take a mutex around COMMIT so they happen in commit order; that costs no
// concurrency the server does not already take away. Commits that changed
// nothing do not notify and are not serialised.
//
// # Audit
//
// AppendAudit inserts a batch with one INSERT … SELECT FROM unnest(…) WITH
// ORDINALITY ORDER BY ordinality RETURNING seq, behind a transaction-level
// advisory lock held to commit: appends from all nodes are serialised, so
// sequence numbers become visible in increasing order and a reader paging
// with AfterSeq misses nothing. Times are stored as unix nanoseconds
// (timestamptz would round to microseconds).
//
// # Leadership
//
// [Store.TryLead] opens a connection and takes pg_try_advisory_lock on a
// key derived from the schema and the name. PostgreSQL releases a session
// lock when the session ends, so the lease is exactly as alive as that
// connection; a goroutine reads it continuously (a server-side close is
// seen at once) and pings it when silent ([WithPingInterval], default 2s),
// closing Lost when it fails. Advisory locks are not fencing tokens: in the
// interval before a silent failure is detected, the old leader may still
// be working while a new one starts, so leader work must be idempotent.
//
// # Schema
//
// Migrations are an ordered list of SQL steps compiled into the binary
// (schema.go). Open applies the missing ones in one transaction (DDL is
// transactional) while holding pg_advisory_xact_lock, so nodes starting
// together wait for one another; a database with a version this binary
// does not know is refused with [store.ErrSchemaTooNew]. Version 1:
//
//	kv(tbl text COLLATE "C", k text COLLATE "C", v bytea, PRIMARY KEY(tbl, k))
//	audit(seq bigserial PRIMARY KEY, time bigint, account, region, event_id, body bytea)
//	      + indexes (account, seq), (time, seq), (event_id)
//	meta(k, v)   -- installation_id, schema_version
//	schema_migrations(version, applied_at)
//
// # Figures
//
// PostgreSQL 15 on the same two shared vCPUs, loopback TCP, fsync on,
// go test -bench (one Put or Get of 256 bytes):
//
//	BenchmarkUpdatePut           ~480 µs/op   (BEGIN, INSERT, NOTIFY+COMMIT)   71 allocs
//	BenchmarkUpdatePutParallel   ~350 µs/op   ~2,900 commits/s
//	BenchmarkViewGet             ~200 µs/op   (BEGIN, SELECT, ROLLBACK)        24 allocs
//	BenchmarkViewGetParallel      ~76 µs/op   ~13,000 Views/s
//	BenchmarkAppendAudit100      ~5.3 ms/op   ~19,000 audit rows/s
//
// Each round trip costs ~65 µs here; hot paths read from caches kept fresh
// by Subscribe rather than from the database.
package postgres
