// Package audit records every call rampart serves, authenticated or not,
// allowed or denied, as a CloudTrail event ([Event], with CloudTrail's JSON
// member names), stored durably before the response is sent.
//
// # Writer
//
// [Writer.Record] fills the event's defaults (eventVersion 1.09, eventTime,
// a random UUID v4 eventID, eventType AwsApiCall, eventCategory Management),
// redacts it, encodes it and blocks until it is durable. A single goroutine
// does the writing with group commit: it takes everything queued (up to
// Options.MaxBatch), writes it in one [store.Store.AppendAudit] transaction
// (one fsync), and wakes every waiter with the result. There is no timer: an
// idle writer flushes a lone event at once, and under load events queue
// while the previous batch is being written, so batches grow with
// concurrency. [Writer.Close] drains the queue.
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
// # Figures
//
// SQLite on a temp file (WAL, synchronous=FULL), two shared vCPUs:
//
//	BenchmarkRecordSerial   ~232 µs/op    ~4,300 events/s  (one event per fsync)
//	BenchmarkRecord16       ~51 µs/op    ~19,600 events/s  (16 goroutines, ~7.8 events/commit)
//
// Record costs ~8 KB and ~112 allocations per event (JSON encoding and the
// redaction walk); the fsync dominates.
package audit
