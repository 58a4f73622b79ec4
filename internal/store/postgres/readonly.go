package postgres

import (
	"context"
	"errors"
	"fmt"

	"github.com/jackc/pgx/v5"

	"github.com/rampart/rampart/internal/store"
)

// ReadOnly makes [Open] open an existing store without changing it: every
// session runs with default_transaction_read_only on, no migration runs, a
// schema version other than this binary's is refused (newer: an error
// wrapping [store.ErrSchemaTooNew]; older: [store.ErrSchemaTooOld]) instead of
// being migrated, and no change listener starts. This is how `rampart
// backup` opens a store that other nodes may be serving.
func ReadOnly() Option {
	return func(c *config) { c.readOnly = true }
}

// checkSchema is migrate's read-only counterpart: it reads the schema
// version and the installation id and changes nothing.
func (s *Store) checkSchema(ctx context.Context, c *pgx.Conn) error {
	var schema *string
	if err := c.QueryRow(ctx, "SELECT current_schema()").Scan(&schema); err != nil {
		return err
	}
	if schema == nil {
		return errors.New("the search_path names no existing schema")
	}
	s.schema = *schema
	var tables int
	if err := c.QueryRow(ctx, "SELECT count(*) FROM pg_tables WHERE schemaname = $1 AND tablename IN ('schema_migrations', 'meta')", s.schema).Scan(&tables); err != nil {
		return err
	}
	if tables != 2 {
		return fmt.Errorf("schema %q holds no rampart store", s.schema)
	}
	var have int
	if err := c.QueryRow(ctx, "SELECT coalesce(max(version), 0) FROM schema_migrations").Scan(&have); err != nil {
		return err
	}
	if err := store.CheckSchema(have, len(migrations), true); err != nil {
		return err
	}
	if err := c.QueryRow(ctx, "SELECT v FROM meta WHERE k = $1", metaInstallationID).Scan(&s.installationID); err != nil {
		return fmt.Errorf("installation id: %w", err)
	}
	s.schemaVersion = have
	return nil
}
