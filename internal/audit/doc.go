// Package audit records every call rampart serves, authenticated or not,
// allowed or denied, as a CloudTrail event ([Event], with CloudTrail's JSON
// member names). By default the record of every call is durable before its
// answer is sent ([Writer.Record]; group commit shares each fsync among the
// calls in flight), so an answered call always has its record; if the
// record of a change cannot be stored ([Writer.RecordChange]), the trail has
// a gap and the server stops serving (see [Writer.Err]).
//
// Opting in (server.Config.AuditAsyncReads; `rampart dev|server
// --audit-async-reads`), the record of a call that changed nothing (a read,
// a refusal, an authentication failure) is queued instead and durable with
// the commit in flight or the next one, within about a millisecond
// ([Writer.Enqueue]), as PostgreSQL lets a read-only transaction end
// without waiting for the WAL flush. A crash can then lose the records of
// the last millisecond of such calls, never the record of an acknowledged
// change, and a failed commit of queued records leaves a gap that stops
// the server (see [Writer.Err]).
//
// # Writer
//
// [Writer.Record] fills the event's defaults (eventVersion 1.09, eventTime,
// a random UUID v4 eventID, eventType AwsApiCall, eventCategory Management),
// redacts it, encodes it and blocks until it is durable. A single goroutine
// does the writing with group commit: it takes everything queued (up to
// Options.MaxBatch), writes it in one [store.Store.AppendAudit] transaction
// (one fsync), and wakes every waiter with the result. An idle writer
// flushes a lone recorded event at once, and under load events queue while
// the previous batch is being written, so batches grow with concurrency; a
// batch of enqueued events only (nobody waits on it) lingers up to
// Options.LagLimit for company. [Writer.Close] drains the queue.
//
// # Redaction
//
// The protocol layer knows which members the API model marks sensitive and
// passes them as a [Sensitive] (see [Members]) to [Redact] or in
// Options.Sensitive; the member is replaced by "HIDDEN_DUE_TO_SECURITY_REASONS",
// CloudTrail's own wording. Independently of the model, the Writer always
// hides the members named in [Baseline] (passwords, secret access keys,
// secret strings, plaintext, private keys…) and any requestParameters,
// responseElements or additionalEventData whose root is not an object, so
// secret material does not reach the store even when a caller forgets.
// This package imports no API-model package.
//
// # Encoding
//
// Record encodes the event on the request path with a hand-written
// encoder (encode.go) that hides sensitive members while it walks them,
// instead of building a redacted copy and handing it to encoding/json; its
// output is byte for byte encoding/json's (a differential test checks it).
// About 2 µs and 1 allocation for a typical event, against ~8 µs and 11
// allocations before (BenchmarkEncodeEvent).
//
// # Figures
//
// Two shared vCPUs, ext4 on a virtual disk, the SQLite store's audit log
// (O_DIRECT, see internal/store/sqlite/auditlog.go); figures move with the
// machine's load:
//
//	BenchmarkRecordSerial   ~300-500 µs/op   one event per fdatasync
//	BenchmarkRecord16       ~7 events/commit with 16 goroutines
//
// The commit (a write and an fdatasync, ~55 µs of CPU) dominates; group
// commit shares it among the events that arrive while the previous one is
// in flight.
package audit
