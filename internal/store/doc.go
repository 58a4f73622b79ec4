// Package store declares the storage every rampart service uses: a
// transactional, ordered key-value store with named tables, plus an
// append-only audit log. Backends implement [Store]: the embedded SQLite
// backend (package store/sqlite), PostgreSQL (package store/postgres) for many nodes;
// package store/storetest is the conformance suite both run.
//
// # Model
//
// A service keeps each entity as a value (JSON or binary, sealed by the
// barrier when sensitive) under a key it designs in a table it names
// ("iam.user" → "000000000000/alice"), and its secondary indexes as extra
// keys (table "iam.user.by-id" → "AIDA…" holding the primary key). Keys are
// ordered bytewise, so [Tx.Scan] with a prefix and an `after` cursor lists a
// parent's children in order and pages through them; [Tx.Insert] enforces
// uniqueness; [Tx.DeletePrefix] removes a parent's children.
//
// One [Store.Update] is one transaction, committed durably before Update
// returns. Updates are serialised; [Store.View] reads a consistent snapshot
// concurrently with them. A [Tx] is valid only inside its function. After
// an unexpected statement error a Tx refuses further work and Update
// refuses to commit, so a caller that ignores an error cannot commit half a
// transaction. [ErrNotFound] and [ErrExists] are expected outcomes and do
// not abort the transaction.
//
// # Caches
//
// Hot paths (authentication, authorization, KMS, GetSecretValue) read from
// memory. [Store.Subscribe] tells them, after every commit and before the
// committing Update returns, which (table, key) pairs changed, so they
// invalidate in commit order. With PostgreSQL other nodes' commits arrive
// the same way (LISTEN/NOTIFY).
//
// # Audit
//
// [Store.AppendAudit] appends many rows in one transaction, which is what
// lets package audit group-commit the CloudTrail record of every request;
// [Store.QueryAudit] reads it back by account, region, event id, time range
// and sequence (for LookupEvents paging, newest first).
//
// # Portability
//
// Tables and keys must be valid UTF-8 without NUL bytes (PostgreSQL text);
// ordering is bytewise (SQLite BINARY, PostgreSQL COLLATE "C").
package store
