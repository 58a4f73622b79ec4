package sqlite

import (
	"context"
	"errors"
	"fmt"
	"net/url"
	"os"
	"path/filepath"
	"strconv"

	"github.com/rampart/rampart/internal/store"
)

// ReadOnly makes [Open] open an existing database without changing
// anything in it or beside it: the file is opened with SQLite's mode=ro and
// every connection is query_only; no migration runs, and a database whose
// schema version is not this binary's is refused (newer: an error wrapping
// [store.ErrSchemaTooNew]; older: [store.ErrSchemaTooOld]) instead of being
// migrated; the audit log is read as a reader without taking its lock, so a
// server starting meanwhile still owns it; audit rows left in the audit
// table are read there, not moved. A missing file is an error, not a new
// database. The one trace it may leave: when the database's -wal and -shm
// files are missing (no server has it open), SQLite creates them (the -wal
// empty) for its readers, and a read-only connection cannot remove them;
// the next server finds them as it would after any reader. Update fails with [ErrReadOnlyStore]; SQLite refuses any other
// write. This is how `rampart backup` opens a store, serving or not.
func ReadOnly() Option {
	return func(c *config) { c.readOnly = true }
}

// ErrReadOnlyStore is returned by Update on a store opened [ReadOnly].
var ErrReadOnlyStore = errors.New("sqlite: the store is opened read-only")

// readOnlyDSN is the driver's name for path opened read-only: a file: URI,
// which the driver hands to SQLite whole, so that mode=ro takes effect (a
// plain path loses its query parameters).
func readOnlyDSN(path string, cfg config) (string, error) {
	if _, err := os.Stat(path); err != nil {
		return "", err
	}
	abs, err := filepath.Abs(path)
	if err != nil {
		return "", err
	}
	u := url.URL{Scheme: "file", Path: filepath.ToSlash(abs)}
	q := url.Values{}
	q.Set("mode", "ro")
	q.Add("_pragma", "busy_timeout("+strconv.FormatInt(cfg.busyTimeout.Milliseconds(), 10)+")")
	q.Add("_pragma", "query_only(1)")
	u.RawQuery = q.Encode()
	return u.String(), nil
}

// checkSchema is migrate's read-only counterpart: it reads the schema
// version and the installation id and changes nothing.
func (s *Store) checkSchema(ctx context.Context) error {
	c := s.writer.c
	var tables int
	if err := c.QueryRowContext(ctx, "SELECT count(*) FROM sqlite_schema WHERE type = 'table' AND name IN ('schema_migrations', 'meta')").Scan(&tables); err != nil {
		return err
	}
	if tables != 2 {
		return errors.New("not a rampart database (no schema)")
	}
	var have int
	if err := c.QueryRowContext(ctx, "SELECT coalesce(max(version), 0) FROM schema_migrations").Scan(&have); err != nil {
		return err
	}
	if err := store.CheckSchema(have, len(migrations), true); err != nil {
		return err
	}
	if err := c.QueryRowContext(ctx, "SELECT v FROM meta WHERE k = ?", metaInstallationID).Scan(&s.installationID); err != nil {
		return fmt.Errorf("installation id: %w", err)
	}
	s.schemaVersion = have
	return nil
}

// openAuditLogReadOnly opens the audit log in dir as a reader that takes no
// lock and creates nothing; nil when there is no log (the audit table then
// holds the whole trail).
func openAuditLogReadOnly(dir string) (*auditLog, error) {
	if _, err := os.Stat(dir); errors.Is(err, os.ErrNotExist) {
		return nil, nil
	}
	l := &auditLog{dir: dir, reader: true}
	if err := l.refresh(); err != nil {
		return nil, err
	}
	return l, nil
}
