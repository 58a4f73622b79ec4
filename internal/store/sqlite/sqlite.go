package sqlite

import (
	"context"
	"crypto/rand"
	"database/sql"
	"errors"
	"fmt"
	"net/url"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	_ "modernc.org/sqlite" // registers the "sqlite" database/sql driver

	"github.com/rampart/rampart/internal/store"
)

// Store is the SQLite implementation of [store.Store].
type Store struct {
	db        *sql.DB
	path      string
	memory    bool
	writer    *conn
	writeSem  chan struct{} // capacity 1: holds the writer connection
	readers   chan *conn    // idle reader connections; nil in memory mode
	nReaders  int
	all       []*conn // every connection, for closing
	closing   chan struct{}
	closeOnce sync.Once
	closeErr  error

	notifyMu sync.Mutex // delivers commits one at a time, in commit order
	subMu    sync.Mutex
	subs     map[uint64]func([]store.Change)
	subSeq   uint64
	hasSubs  atomic.Bool

	installationID string
	schemaVersion  int
	readOnly       bool // opened with ReadOnly

	// audit is the append-only audit log of a file-backed store (see
	// auditlog.go); nil in memory mode, where the audit table serves.
	audit *auditLog
}

var _ store.Store = (*Store)(nil)

type config struct {
	readers     int
	busyTimeout time.Duration
	segmentSize int64
	readOnly    bool
}

// Option configures [Open].
type Option func(*config)

// WithReaders sets the number of reader connections (default 4). Views and
// QueryAudit calls beyond that many wait for a free connection.
func WithReaders(n int) Option {
	return func(c *config) {
		if n > 0 {
			c.readers = n
		}
	}
}

// WithBusyTimeout sets how long a connection waits for a lock held by another
// process (default 5s). Within one process writers are serialised in Go and
// never wait on SQLite's lock.
func WithBusyTimeout(d time.Duration) Option {
	return func(c *config) { c.busyTimeout = d }
}

// Open opens (creating if needed) the database file at path, applies missing
// schema migrations, and refuses a database whose schema is newer than this
// binary with an error wrapping [store.ErrSchemaTooNew].
func Open(path string, opts ...Option) (*Store, error) {
	if path == "" || strings.ContainsAny(path, "?#") || strings.HasPrefix(path, "file:") || path == ":memory:" {
		return nil, fmt.Errorf("sqlite: invalid database path %q (use OpenMemory for an in-memory store)", path)
	}
	return open(path, false, opts)
}

// OpenMemory opens a private in-memory store, for tests. It uses a single
// connection: Views and Updates run one at a time, so a View must not be
// started from inside an Update's function (or a Subscribe callback run by one) on such a store. Nothing survives Close.
func OpenMemory(opts ...Option) (*Store, error) {
	return open(":memory:", true, opts)
}

func open(path string, memory bool, opts []Option) (*Store, error) {
	cfg := config{readers: 4, busyTimeout: 5 * time.Second}
	for _, o := range opts {
		o(&cfg)
	}
	q := url.Values{}
	q.Add("_pragma", "busy_timeout("+strconv.FormatInt(cfg.busyTimeout.Milliseconds(), 10)+")")
	q.Add("_pragma", "foreign_keys(1)")
	q.Add("_pragma", "synchronous(FULL)")
	if !memory {
		q.Add("_pragma", "journal_mode(WAL)")
	}
	dsn := path + "?" + q.Encode()
	if cfg.readOnly && !memory {
		var err error
		if dsn, err = readOnlyDSN(path, cfg); err != nil {
			return nil, fmt.Errorf("sqlite: open %s: %w", path, err)
		}
	}
	db, err := sql.Open("sqlite", dsn)
	if err != nil {
		return nil, fmt.Errorf("sqlite: open %s: %w", path, err)
	}
	n := cfg.readers
	if memory {
		n = 0
	}
	// database/sql must never close or replace our connections: each holds
	// its prepared statements (and, in memory mode, the database itself).
	db.SetMaxOpenConns(1 + n)
	db.SetMaxIdleConns(1 + n)
	db.SetConnMaxLifetime(0)
	db.SetConnMaxIdleTime(0)

	s := &Store{
		db: db, path: path, memory: memory, nReaders: n, readOnly: cfg.readOnly && !memory,
		writeSem: make(chan struct{}, 1),
		closing:  make(chan struct{}),
		subs:     map[uint64]func([]store.Change){},
	}
	fail := func(err error) (*Store, error) {
		if s.audit != nil {
			s.audit.close()
		}
		s.closeConns()
		db.Close()
		return nil, err
	}
	ctx := context.Background()
	w, err := db.Conn(ctx)
	if err != nil {
		return fail(fmt.Errorf("sqlite: open %s: %w", path, err))
	}
	s.writer = newConn(w)
	s.all = append(s.all, s.writer)
	if !memory {
		var mode string
		if err := w.QueryRowContext(ctx, "PRAGMA journal_mode").Scan(&mode); err != nil {
			return fail(fmt.Errorf("sqlite: open %s: %w", path, err))
		}
		if !strings.EqualFold(mode, "wal") {
			return fail(fmt.Errorf("sqlite: open %s: journal mode is %q, want wal", path, mode))
		}
	}
	if s.readOnly {
		if err := s.checkSchema(ctx); err != nil {
			return fail(fmt.Errorf("sqlite: open %s: %w", path, err))
		}
		if s.audit, err = openAuditLogReadOnly(path + auditLogSuffix); err != nil {
			return fail(fmt.Errorf("sqlite: open %s: %w", path+auditLogSuffix, err))
		}
	} else if err := s.migrate(ctx); err != nil {
		return fail(fmt.Errorf("sqlite: open %s: %w", path, err))
	}
	if !memory && !s.readOnly {
		if s.audit, err = openAuditLog(path+auditLogSuffix, cfg.segmentSize); err != nil {
			return fail(fmt.Errorf("sqlite: open %s: %w", path+auditLogSuffix, err))
		}
		if err := s.migrateAuditTable(ctx); err != nil {
			return fail(fmt.Errorf("sqlite: open %s: %w", path, err))
		}
	}
	if n > 0 {
		s.readers = make(chan *conn, n)
		for range n {
			rc, err := db.Conn(ctx)
			if err != nil {
				return fail(fmt.Errorf("sqlite: open %s: %w", path, err))
			}
			// A reader that tried to write would be a bug; make SQLite refuse it too.
			if _, err := rc.ExecContext(ctx, "PRAGMA query_only = 1"); err != nil {
				rc.Close()
				return fail(fmt.Errorf("sqlite: open %s: %w", path, err))
			}
			rconn := newConn(rc)
			s.all = append(s.all, rconn)
			s.readers <- rconn
		}
	}
	return s, nil
}

// migrate applies the missing migrations in one IMMEDIATE transaction, so two
// processes opening the same new file do not both apply them.
func (s *Store) migrate(ctx context.Context) (err error) {
	c := s.writer
	if _, err := c.c.ExecContext(ctx, "BEGIN IMMEDIATE"); err != nil {
		return err
	}
	defer func() {
		if err != nil {
			c.c.ExecContext(context.Background(), "ROLLBACK")
		}
	}()
	if _, err := c.c.ExecContext(ctx, createMigrationsTable); err != nil {
		return err
	}
	var have int
	if err := c.c.QueryRowContext(ctx, "SELECT coalesce(max(version), 0) FROM schema_migrations").Scan(&have); err != nil {
		return err
	}
	if err := store.CheckSchema(have, len(migrations), false); err != nil {
		return err
	}
	now := time.Now().UnixNano()
	for v := have + 1; v <= len(migrations); v++ {
		if _, err := c.c.ExecContext(ctx, migrations[v-1]); err != nil {
			return fmt.Errorf("migration %d: %w", v, err)
		}
		if _, err := c.c.ExecContext(ctx, "INSERT INTO schema_migrations(version, applied_at) VALUES (?, ?)", v, now); err != nil {
			return fmt.Errorf("migration %d: %w", v, err)
		}
	}
	id, err := newUUID()
	if err != nil {
		return err
	}
	if _, err := c.c.ExecContext(ctx, "INSERT INTO meta(k, v) VALUES (?, ?) ON CONFLICT(k) DO NOTHING", metaInstallationID, id); err != nil {
		return err
	}
	if _, err := c.c.ExecContext(ctx, "INSERT INTO meta(k, v) VALUES (?, ?) ON CONFLICT(k) DO UPDATE SET v = excluded.v",
		metaSchemaVersion, strconv.Itoa(len(migrations))); err != nil {
		return err
	}
	if err := c.c.QueryRowContext(ctx, "SELECT v FROM meta WHERE k = ?", metaInstallationID).Scan(&s.installationID); err != nil {
		return err
	}
	if _, err := c.c.ExecContext(ctx, "COMMIT"); err != nil {
		return err
	}
	s.schemaVersion = len(migrations)
	return nil
}

// InstallationID returns the random identifier created when the database was first opened.
func (s *Store) InstallationID() string { return s.installationID }

// SchemaVersion returns the database's schema version (the number of migrations applied).
func (s *Store) SchemaVersion() int { return s.schemaVersion }

// SchemaVersions reports the newest schema version this binary knows.
func SchemaVersions() int { return len(migrations) }

func newUUID() (string, error) {
	var b [16]byte
	if _, err := rand.Read(b[:]); err != nil {
		return "", err
	}
	b[6] = b[6]&0x0f | 0x40
	b[8] = b[8]&0x3f | 0x80
	return fmt.Sprintf("%x-%x-%x-%x-%x", b[0:4], b[4:6], b[6:8], b[8:10], b[10:16]), nil
}

// acquireWriter takes the writer connection, waiting for ctx or Close.
func (s *Store) acquireWriter(ctx context.Context) error {
	select {
	case <-s.closing:
		return store.ErrClosed
	default:
	}
	select {
	case s.writeSem <- struct{}{}:
	case <-ctx.Done():
		return ctx.Err()
	case <-s.closing:
		return store.ErrClosed
	}
	select {
	case <-s.closing:
		<-s.writeSem
		return store.ErrClosed
	default:
		return nil
	}
}

func (s *Store) releaseWriter() { <-s.writeSem }

// acquireReader takes a reader connection (the writer in memory mode).
func (s *Store) acquireReader(ctx context.Context) (*conn, func(), error) {
	if s.readers == nil {
		if err := s.acquireWriter(ctx); err != nil {
			return nil, nil, err
		}
		return s.writer, s.releaseWriter, nil
	}
	select {
	case <-s.closing:
		return nil, nil, store.ErrClosed
	default:
	}
	select {
	case c := <-s.readers:
		select {
		case <-s.closing:
			s.readers <- c
			return nil, nil, store.ErrClosed
		default:
		}
		return c, func() { s.readers <- c }, nil
	case <-ctx.Done():
		return nil, nil, ctx.Err()
	case <-s.closing:
		return nil, nil, store.ErrClosed
	}
}

// View implements [store.Store].
func (s *Store) View(ctx context.Context, fn func(tx store.Tx) error) error {
	c, release, err := s.acquireReader(ctx)
	if err != nil {
		return err
	}
	defer release()
	if err := c.exec(ctx, sqlBegin); err != nil {
		return fmt.Errorf("sqlite: begin: %w", err)
	}
	t := &tx{ctx: ctx, c: c}
	defer func() {
		t.done = true
		c.rollback()
	}()
	return fn(t)
}

// Update implements [store.Store].
func (s *Store) Update(ctx context.Context, fn func(tx store.Tx) error) error {
	store.NoteWrite(ctx)
	if s.readOnly {
		return ErrReadOnlyStore
	}
	if err := s.acquireWriter(ctx); err != nil {
		return err
	}
	held := true
	defer func() {
		if held {
			s.releaseWriter()
		}
	}()
	c := s.writer
	if err := c.exec(ctx, sqlBeginImmediate); err != nil {
		return fmt.Errorf("sqlite: begin: %w", err)
	}
	t := &tx{ctx: ctx, c: c, write: true}
	committed := false
	defer func() { // runs before the release above, also when fn panics
		t.done = true
		if !committed {
			c.rollback()
		}
	}()
	if err := fn(t); err != nil {
		return err
	}
	if t.err != nil {
		// fn swallowed a failed statement; SQLite may already have rolled
		// back part of the transaction, so committing the rest is unsafe.
		return fmt.Errorf("sqlite: commit refused after failed statement: %w", t.err)
	}
	if err := c.exec(context.WithoutCancel(ctx), sqlCommit); err != nil {
		return fmt.Errorf("sqlite: commit: %w", err)
	}
	committed = true
	if len(t.changes) > 0 && s.hasSubs.Load() {
		// Hand over from the writer lock to the delivery lock: the next
		// writer may start while we deliver, but deliveries stay in commit order.
		s.notifyMu.Lock()
		held = false
		s.releaseWriter()
		defer s.notifyMu.Unlock()
		s.deliver(t.changes)
	}
	return nil
}

func (s *Store) deliver(changes []store.Change) {
	s.subMu.Lock()
	fns := make([]func([]store.Change), 0, len(s.subs))
	for _, fn := range s.subs {
		fns = append(fns, fn)
	}
	s.subMu.Unlock()
	for _, fn := range fns {
		fn(changes)
	}
}

// Subscribe implements [store.Store].
func (s *Store) Subscribe(fn func(changes []store.Change)) (cancel func()) {
	s.subMu.Lock()
	defer s.subMu.Unlock()
	s.subSeq++
	id := s.subSeq
	s.subs[id] = fn
	s.hasSubs.Store(true)
	return func() {
		s.subMu.Lock()
		defer s.subMu.Unlock()
		delete(s.subs, id)
		s.hasSubs.Store(len(s.subs) > 0)
	}
}

// Close implements [store.Store]. It waits for running transactions.
func (s *Store) Close() error {
	s.closeOnce.Do(func() {
		close(s.closing)
		s.writeSem <- struct{}{} // wait for the running writer; never released
		for range s.nReaders {
			<-s.readers // wait for running readers
		}
		s.closeErr = s.closeConns()
		if s.audit != nil {
			if err := s.audit.close(); err != nil && s.closeErr == nil {
				s.closeErr = err
			}
		}
		if err := s.db.Close(); err != nil && s.closeErr == nil {
			s.closeErr = err
		}
	})
	return s.closeErr
}

func (s *Store) closeConns() error {
	var errs []error
	for _, c := range s.all {
		errs = append(errs, c.close())
	}
	return errors.Join(errs...)
}

// withSegmentSize sets the size of audit log segments (tests use small ones).
func withSegmentSize(n int64) Option {
	return func(c *config) { c.segmentSize = n }
}
