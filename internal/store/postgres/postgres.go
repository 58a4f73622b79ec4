package postgres

import (
	"context"
	"crypto/rand"
	"errors"
	"fmt"
	"strconv"
	"sync"
	"sync/atomic"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/rampart/rampart/internal/store"
)

// Store is the PostgreSQL implementation of [store.Store] and [store.Leaser].
type Store struct {
	cfg    *pgx.ConnConfig
	schema string // current_schema() of the connections: scopes locks and the channel
	node   string // random id of this Store, to recognise its own notifications

	// The connection pool: sem holds one token per connection in use (or
	// being opened), idle the connections not in use.
	sem       chan struct{}
	idle      chan *pgx.Conn
	maxConns  int
	closing   chan struct{}
	closeOnce sync.Once
	closeErr  error

	channel string
	ctx     context.Context // cancelled by Close: stops the listener and leases
	cancel  context.CancelFunc
	bg      sync.WaitGroup // the listener and lease monitors

	notifyMu sync.Mutex // delivers to subscribers one at a time
	subMu    sync.Mutex
	subs     map[uint64]func([]store.Change)
	subSeq   uint64
	hasSubs  atomic.Bool

	leaseMu sync.Mutex
	leases  map[*lease]struct{}

	pingEvery      time.Duration
	maxAttempts    int
	installationID string
	schemaVersion  int
}

var (
	_ store.Store  = (*Store)(nil)
	_ store.Leaser = (*Store)(nil)
)

type config struct {
	maxConns    int
	pingEvery   time.Duration
	maxAttempts int
	readOnly    bool
}

// Option configures [Open].
type Option func(*config)

// WithMaxConns sets the number of connections used for transactions and
// audit (default 8). Views and Updates beyond that many wait for a free
// connection. The change listener and each held lease use one more.
func WithMaxConns(n int) Option {
	return func(c *config) {
		if n > 0 {
			c.maxConns = n
		}
	}
}

// WithPingInterval sets how often the connection holding a lease is checked
// when it is silent (default 2s); a connection that the server closes is
// noticed at once.
func WithPingInterval(d time.Duration) Option {
	return func(c *config) {
		if d > 0 {
			c.pingEvery = d
		}
	}
}

// WithMaxAttempts sets how many times Update runs its function before giving
// up on serialization failures (default 100).
func WithMaxAttempts(n int) Option {
	return func(c *config) {
		if n > 0 {
			c.maxAttempts = n
		}
	}
}

// Open connects to the database at url (a libpq URL or key=value string,
// e.g. "postgres://rampart@db:5432/rampart?sslmode=verify-full"; unknown
// parameters such as search_path are sent as session settings), applies
// missing schema migrations to the first schema of the search path, starts
// listening for other nodes' changes, and returns the store. A database
// whose schema is newer than this binary is refused with an error wrapping
// [store.ErrSchemaTooNew].
func Open(ctx context.Context, url string, opts ...Option) (*Store, error) {
	c := config{maxConns: 8, pingEvery: 2 * time.Second, maxAttempts: 100}
	for _, o := range opts {
		o(&c)
	}
	cfg, err := pgx.ParseConfig(url)
	if err != nil {
		// The parse error may quote the URL, password included.
		return nil, errors.New("postgres: invalid connection string")
	}
	if _, ok := cfg.RuntimeParams["application_name"]; !ok {
		cfg.RuntimeParams["application_name"] = "rampart"
	}
	if c.readOnly {
		cfg.RuntimeParams["default_transaction_read_only"] = "on"
	}
	node, err := randomHex(8)
	if err != nil {
		return nil, err
	}
	bgctx, cancel := context.WithCancel(context.Background())
	s := &Store{
		cfg:         cfg,
		node:        node,
		sem:         make(chan struct{}, c.maxConns),
		idle:        make(chan *pgx.Conn, c.maxConns),
		maxConns:    c.maxConns,
		closing:     make(chan struct{}),
		ctx:         bgctx,
		cancel:      cancel,
		subs:        map[uint64]func([]store.Change){},
		leases:      map[*lease]struct{}{},
		pingEvery:   c.pingEvery,
		maxAttempts: c.maxAttempts,
	}
	fail := func(err error) (*Store, error) {
		s.Close()
		return nil, fmt.Errorf("postgres: open: %w", err)
	}
	conn, err := s.acquire(ctx)
	if err != nil {
		return fail(err)
	}
	if c.readOnly {
		err = s.checkSchema(ctx, conn)
	} else {
		err = s.migrate(ctx, conn)
	}
	s.release(conn, err == nil)
	if err != nil {
		return fail(err)
	}
	if c.readOnly {
		return s, nil
	}
	s.channel = channelName(s.schema)
	if err := s.startListener(ctx); err != nil {
		return fail(err)
	}
	return s, nil
}

// migrate applies the missing migrations in one transaction holding a
// transaction-level advisory lock, so nodes starting together wait for the
// first one instead of racing it.
func (s *Store) migrate(ctx context.Context, c *pgx.Conn) (err error) {
	var schema *string
	if err := c.QueryRow(ctx, "SELECT current_schema()").Scan(&schema); err != nil {
		return err
	}
	if schema == nil {
		return errors.New("no schema to create tables in: the search_path names no existing schema")
	}
	s.schema = *schema
	if _, err := c.Exec(ctx, "BEGIN"); err != nil {
		return err
	}
	defer func() {
		if err != nil {
			c.Exec(context.Background(), "ROLLBACK")
		}
	}()
	if _, err := c.Exec(ctx, "SELECT pg_advisory_xact_lock($1)", lockKey(s.schema, "migrate")); err != nil {
		return err
	}
	if _, err := c.Exec(ctx, createMigrationsTable); err != nil {
		return err
	}
	var have int
	if err := c.QueryRow(ctx, "SELECT coalesce(max(version), 0) FROM schema_migrations").Scan(&have); err != nil {
		return err
	}
	if err := store.CheckSchema(have, len(migrations), false); err != nil {
		return err
	}
	for v := have + 1; v <= len(migrations); v++ {
		if _, err := c.Exec(ctx, migrations[v-1]); err != nil {
			return fmt.Errorf("migration %d: %w", v, err)
		}
		if _, err := c.Exec(ctx, "INSERT INTO schema_migrations(version) VALUES ($1)", v); err != nil {
			return fmt.Errorf("migration %d: %w", v, err)
		}
	}
	id, err := newUUID()
	if err != nil {
		return err
	}
	if _, err := c.Exec(ctx, "INSERT INTO meta(k, v) VALUES ($1, $2) ON CONFLICT (k) DO NOTHING", metaInstallationID, id); err != nil {
		return err
	}
	if _, err := c.Exec(ctx, "INSERT INTO meta(k, v) VALUES ($1, $2) ON CONFLICT (k) DO UPDATE SET v = excluded.v",
		metaSchemaVersion, strconv.Itoa(len(migrations))); err != nil {
		return err
	}
	if err := c.QueryRow(ctx, "SELECT v FROM meta WHERE k = $1", metaInstallationID).Scan(&s.installationID); err != nil {
		return err
	}
	if _, err := c.Exec(ctx, "COMMIT"); err != nil {
		return err
	}
	s.schemaVersion = len(migrations)
	return nil
}

// InstallationID returns the random identifier created when the database was first opened.
func (s *Store) InstallationID() string { return s.installationID }

// SchemaVersion returns the database's schema version (the number of migrations applied).
func (s *Store) SchemaVersion() int { return s.schemaVersion }

// Schema returns the PostgreSQL schema the store's tables live in.
func (s *Store) Schema() string { return s.schema }

// NodeID returns the random identifier of this Store instance, which tags
// the change notifications it sends.
func (s *Store) NodeID() string { return s.node }

// SchemaVersions reports the newest schema version this binary knows.
func SchemaVersions() int { return len(migrations) }

func randomHex(n int) (string, error) {
	b := make([]byte, n)
	if _, err := rand.Read(b); err != nil {
		return "", err
	}
	return hexString(b), nil
}

func newUUID() (string, error) {
	var b [16]byte
	if _, err := rand.Read(b[:]); err != nil {
		return "", err
	}
	b[6] = b[6]&0x0f | 0x40
	b[8] = b[8]&0x3f | 0x80
	return fmt.Sprintf("%x-%x-%x-%x-%x", b[0:4], b[4:6], b[6:8], b[8:10], b[10:16]), nil
}

// acquire takes a connection from the pool, opening one when none is idle,
// waiting for ctx or Close when all are in use.
func (s *Store) acquire(ctx context.Context) (*pgx.Conn, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	select {
	case <-s.closing:
		return nil, store.ErrClosed
	default:
	}
	select {
	case s.sem <- struct{}{}:
	case <-ctx.Done():
		return nil, ctx.Err()
	case <-s.closing:
		return nil, store.ErrClosed
	}
	select {
	case <-s.closing:
		<-s.sem
		return nil, store.ErrClosed
	default:
	}
	for {
		select {
		case c := <-s.idle:
			if c.IsClosed() {
				continue
			}
			return c, nil
		default:
		}
		c, err := pgx.ConnectConfig(ctx, s.cfg)
		if err != nil {
			<-s.sem
			return nil, fmt.Errorf("postgres: %w", err) // names user and database, never the password
		}
		return c, nil
	}
}

// release returns c to the pool. A connection that is not known to be idle
// and outside a transaction (healthy false, a broken connection, one left
// mid-transaction) is closed instead: closing a session rolls back whatever
// it was doing.
func (s *Store) release(c *pgx.Conn, healthy bool) {
	if c == nil {
		return
	}
	pc := c.PgConn()
	if !healthy || c.IsClosed() || pc.IsBusy() || pc.TxStatus() != 'I' {
		ctx, cancel := context.WithTimeout(context.Background(), time.Second)
		c.Close(ctx)
		cancel()
	} else {
		s.idle <- c // never blocks: at most maxConns connections exist
	}
	<-s.sem
}

// Close implements [store.Store]. It waits for running transactions, then
// ends the leases and the listener and closes every connection.
func (s *Store) Close() error {
	s.closeOnce.Do(func() {
		close(s.closing)
		for range s.maxConns {
			s.sem <- struct{}{} // wait for running transactions; never released
		}
		s.cancel()
		s.leaseMu.Lock()
		ls := make([]*lease, 0, len(s.leases))
		for l := range s.leases {
			ls = append(ls, l)
		}
		s.leaseMu.Unlock()
		for _, l := range ls {
			l.Release()
		}
		s.bg.Wait()
		var errs []error
		for {
			select {
			case c := <-s.idle:
				ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
				errs = append(errs, c.Close(ctx))
				cancel()
				continue
			default:
			}
			break
		}
		s.closeErr = errors.Join(errs...)
	})
	return s.closeErr
}
