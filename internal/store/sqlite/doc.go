// Package sqlite implements [store.Store] on one SQLite file through
// modernc.org/sqlite (pure Go, driver name "sqlite").
//
// # Connections
//
// The database runs in WAL mode with synchronous=FULL (a commit returns
// only after its WAL frames are fsynced), foreign keys on and a busy
// timeout for other processes. One writer connection serves every Update;
// writers queue for it in Go (a one-slot channel that also
// honours context cancellation), so they never meet SQLITE_BUSY inside the
// process, and each write transaction starts with BEGIN IMMEDIATE so that
// a second process on the same file waits instead of failing at commit.
// A pool of reader connections (default 4, PRAGMA query_only) serves View
// and QueryAudit; WAL gives each View a snapshot without blocking the
// writer. Every connection keeps its prepared statements for its lifetime:
// an Update is BEGIN IMMEDIATE, the prepared statements, COMMIT, with no
// schema work or re-preparation per call.
//
// # Audit trail
//
// A file-backed store keeps the audit trail outside SQLite, in an
// append-only log of segment files beside the database ("rampart.db-audit/",
// see auditlog.go): AppendAudit is one write and one fdatasync, with its own
// lock (audit commits do not queue behind Updates), and a crash's torn tail
// is found and dropped at Open. Audit rows an older version stored in the
// audit table move into the log at Open. [OpenMemory] stores keep using the
// audit table.
//
// Subscribers are called after COMMIT, under a delivery lock taken before
// the writer is released, so deliveries keep commit order while the next
// writer starts.
//
// [OpenMemory] is for tests: a private in-memory database on a single
// connection, so Views and Updates take turns (no snapshot concurrency).
//
// # Schema
//
// Migrations are an ordered list of SQL steps compiled into the binary
// (schema.go). Open applies the missing ones in one IMMEDIATE transaction
// and records each in schema_migrations; a database with a version this
// binary does not know is refused with [store.ErrSchemaTooNew]. Version 1:
//
//	kv(tbl, k, v BLOB, PRIMARY KEY(tbl, k)) WITHOUT ROWID   -- all entities and indexes
//	audit(seq INTEGER PRIMARY KEY, time, account, region, event_id, body)
//	      + an index on account (implicitly ordered by seq); used by OpenMemory
//	      stores only, emptied into the audit log at Open otherwise
//	meta(k, v)                                                -- installation_id, schema_version
//
// # Figures
//
// Two shared vCPUs, ext4 on a virtual disk, go test -bench:
//
//	BenchmarkUpdatePut   ~147 µs/op   ~6,800 durable commits/s   22 allocs
//	BenchmarkViewGet     ~3.6 µs/op   (parallel reads)            33 allocs
//
// BenchmarkAuditAppend, CPU per 1.2 KB audit row of one durable append
// (the machine busy with other work; wall times move with it):
//
//	                     1 row/commit   16 rows/commit
//	audit log, O_DIRECT    ~77 µs          ~7.8 µs
//	audit log, buffered    ~97 µs         ~12.4 µs
//	audit table (before)  ~126 µs         ~19.9 µs
//
// The commit cost is the fsync; package audit amortises it over many
// events with group commit.
package sqlite
