package store

import (
	"context"
	"errors"
	"fmt"
	"time"
)

// Sentinel errors. Backends wrap them with %w; match with [errors.Is].
var (
	// ErrNotFound is returned by [Tx.Get] when the key is absent.
	ErrNotFound = errors.New("store: not found")
	// ErrExists is returned by [Tx.Insert] when the key is already present.
	ErrExists = errors.New("store: already exists")
	// ErrReadOnly is returned by the write methods of a [Tx] given to [Store.View].
	ErrReadOnly = errors.New("store: write in read-only transaction")
	// ErrTxDone is returned by every method of a [Tx] used after its function returned.
	ErrTxDone = errors.New("store: transaction already finished")
	// ErrClosed is returned by every method of a closed [Store].
	ErrClosed = errors.New("store: closed")
	// ErrSchemaTooNew is returned by a backend's Open when the database was
	// migrated by a newer rampart than the running binary.
	ErrSchemaTooNew = errors.New("store: database schema is newer than this binary")
	// ErrSchemaTooOld is returned by a backend's read-only Open when the
	// database's schema is older than the binary's (a read-write Open
	// would migrate it).
	ErrSchemaTooOld = errors.New("store: database schema is older than this binary")
)

// CheckSchema compares a database's schema version, have, with the
// binary's, want, as every backend's Open does: a newer one is
// ErrSchemaTooNew; an older one is ErrSchemaTooOld when the store is
// opened read-only (a read-write Open migrates it).
func CheckSchema(have, want int, readOnly bool) error {
	switch {
	case have > want:
		return fmt.Errorf("%w: database is at version %d, this binary knows versions up to %d; upgrade rampart",
			ErrSchemaTooNew, have, want)
	case have < want && readOnly:
		return fmt.Errorf("%w: database is at version %d, this binary's is %d; use the rampart that wrote it, or start this one's server on it once (which migrates it)",
			ErrSchemaTooOld, have, want)
	}
	return nil
}

// Store is the storage every service uses. One Update is one durable transaction.
//
// A Store is safe for concurrent use. Transactions do not nest: fn must not
// call Update on the same Store (it would wait for itself).
type Store interface {
	// View runs fn in a read-only transaction that sees one consistent
	// snapshot of the store, unaffected by Updates that commit meanwhile.
	// The Tx's write methods return ErrReadOnly. View returns fn's error.
	View(ctx context.Context, fn func(tx Tx) error) error

	// Update runs fn in a read-write transaction. Updates are serialised:
	// each sees every change committed before it began. When fn returns nil
	// the transaction commits and Update returns only once the commit is
	// durable; when fn returns an error the transaction rolls back and
	// Update returns that error unchanged; when fn panics the transaction
	// rolls back and the panic continues.
	// Reads inside fn see the transaction's own writes.
	Update(ctx context.Context, fn func(tx Tx) error) error

	// Subscribe registers fn to be called after every committed Update with
	// the distinct (table, key) pairs it wrote or deleted, in the order they
	// were first changed. Rolled-back Updates deliver nothing. Calls happen
	// one at a time, in commit order, after the commit is durable and before
	// the committing Update returns; fn must be quick and must not call
	// Update (View is fine). Calling cancel stops delivery; it is idempotent.
	//
	// The PostgreSQL backend also delivers other nodes' commits here
	// (LISTEN/NOTIFY), so caches invalidate on any node's write.
	Subscribe(fn func(changes []Change)) (cancel func())

	// AppendAudit durably appends audit rows in one transaction and sets
	// each row's Seq to the sequence number it was given (strictly
	// increasing in append order). Time, Account, Region and EventID
	// index the row; Body is stored as given. It returns after the rows are durable.
	AppendAudit(ctx context.Context, rows []AuditRow) error

	// QueryAudit returns audit rows matching q in sequence order
	// (descending when q.Descending).
	QueryAudit(ctx context.Context, q AuditQuery) ([]AuditRow, error)

	// Close waits for running transactions, then releases the store.
	// Later calls return ErrClosed; closing twice is harmless.
	Close() error
}

// Tx is one transaction. It is valid only while the function given to
// View or Update runs, and must not be used from several goroutines at once.
//
// Tables and keys are strings named by services (table "iam.user", key
// "000000000000/alice"). Keys are ordered bytewise. For portability across
// backends, tables and keys must be valid UTF-8 without NUL bytes.
// Values are opaque bytes; returned slices belong to the caller.
type Tx interface {
	// Get returns the value under key, or an error wrapping ErrNotFound.
	Get(table, key string) ([]byte, error)
	// Put stores value under key, replacing any existing value.
	Put(table, key string, value []byte) error
	// Insert stores value under key, or returns an error wrapping ErrExists
	// (leaving the existing value) if the key is present. Use it for uniqueness.
	Insert(table, key string, value []byte) error
	// Delete removes key and reports whether it was present. Deleting an
	// absent key is not an error, so index maintenance stays simple; callers
	// that must report "no such entity" check the returned bool.
	Delete(table, key string) (existed bool, err error)
	// DeletePrefix removes every key with the prefix ("" = the whole table)
	// and returns how many were removed.
	DeletePrefix(table, prefix string) (int, error)
	// Scan returns the entries whose keys start with prefix and sort strictly
	// after `after` ("" = from the start), in key order, at most limit of
	// them (limit <= 0: no limit). To page, pass the last key returned as
	// the next call's after.
	Scan(table, prefix, after string, limit int) ([]KV, error)
	// Count returns the number of keys with the prefix.
	Count(table, prefix string) (int, error)
}

// KV is one entry returned by [Tx.Scan].
type KV struct {
	Key   string
	Value []byte
}

// Change names one entry written or deleted by a committed Update.
//
// Wildcards: Key == "" means any key of Table; Table == "" means anything at
// all. The PostgreSQL backend delivers them for other nodes' commits too
// large for one notification and after its listener reconnects (changes
// made meanwhile are unknown). Caches must drop what a wildcard covers.
type Change struct {
	Table string
	Key   string
}

// AuditRow is one stored audit event. The backend indexes the columns other
// than Body; Body is the event itself (CloudTrail JSON, see internal/audit).
type AuditRow struct {
	Seq     int64     // assigned by AppendAudit; increasing
	Time    time.Time // event time
	Account string    // account whose trail the event belongs to
	Region  string    // region the request was made to ("" for none)
	EventID string
	Body    []byte
}

// AuditQuery selects audit rows. Zero fields do not filter.
type AuditQuery struct {
	Account string    // exact account
	Region  string    // exact region
	EventID string    // exact event id
	Start   time.Time // Time >= Start
	End     time.Time // Time < End
	// AfterSeq keeps rows with Seq > AfterSeq; BeforeSeq (when > 0) keeps
	// rows with Seq < BeforeSeq. Page ascending with AfterSeq = last Seq,
	// descending with BeforeSeq = last Seq.
	AfterSeq   int64
	BeforeSeq  int64
	Descending bool // newest first, as CloudTrail LookupEvents returns them
	Limit      int  // <= 0: no limit
}

// PrefixEnd returns the smallest string greater than every string with the
// given prefix, and false when there is none (empty prefix or all 0xFF bytes).
// Backends use it to turn a prefix into a key range.
func PrefixEnd(prefix string) (string, bool) {
	b := []byte(prefix)
	for i := len(b) - 1; i >= 0; i-- {
		if b[i] < 0xff {
			b[i]++
			return string(b[:i+1]), true
		}
	}
	return "", false
}
