package postgres_test

import (
	"context"
	"errors"
	"strings"
	"testing"

	"github.com/jackc/pgx/v5"

	"github.com/rampart/rampart/internal/store"
	"github.com/rampart/rampart/internal/store/postgres"
)

func TestReadOnly(t *testing.T) {
	ctx := context.Background()
	u := newSchema(t)

	// An empty schema is not created, only refused.
	if _, err := postgres.Open(ctx, u, postgres.ReadOnly()); err == nil || !strings.Contains(err.Error(), "holds no rampart store") {
		t.Fatalf("read-only open of an empty schema: %v", err)
	}
	c, err := pgx.Connect(ctx, u)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close(ctx)
	var tables int
	if err := c.QueryRow(ctx, "SELECT count(*) FROM pg_tables WHERE schemaname = current_schema()").Scan(&tables); err != nil || tables != 0 {
		t.Fatalf("the refused read-only open created %d tables (%v)", tables, err)
	}

	rw := open(t, u)
	if err := rw.Update(ctx, func(tx store.Tx) error { return tx.Put("t", "a", []byte("one")) }); err != nil {
		t.Fatal(err)
	}
	ro := open(t, u, postgres.ReadOnly())
	if ro.InstallationID() != rw.InstallationID() || ro.SchemaVersion() != postgres.SchemaVersions() {
		t.Errorf("read-only open: installation %q schema %d", ro.InstallationID(), ro.SchemaVersion())
	}
	var got []byte
	if err := ro.View(ctx, func(tx store.Tx) error {
		var err error
		got, err = tx.Get("t", "a")
		return err
	}); err != nil || string(got) != "one" {
		t.Errorf("View = %q, %v", got, err)
	}
	if err := ro.Update(ctx, func(tx store.Tx) error { return tx.Put("t", "b", []byte("x")) }); err == nil || !strings.Contains(err.Error(), "read-only") {
		t.Errorf("Update on a read-only store: %v", err)
	}
	ro.Close()

	for _, tc := range []struct {
		name, stmt string
		want       error
	}{
		{"older schema", "DELETE FROM schema_migrations", store.ErrSchemaTooOld},
		{"newer schema", "INSERT INTO schema_migrations(version) VALUES (999)", store.ErrSchemaTooNew},
	} {
		if _, err := c.Exec(ctx, tc.stmt); err != nil {
			t.Fatal(err)
		}
		_, err := postgres.Open(ctx, u, postgres.ReadOnly())
		if !errors.Is(err, tc.want) {
			t.Errorf("%s: read-only open: %v, want %v", tc.name, err, tc.want)
		}
	}
	var versions int
	if err := c.QueryRow(ctx, "SELECT count(*) FROM schema_migrations").Scan(&versions); err != nil || versions != 1 {
		t.Errorf("schema_migrations holds %d rows after the refused opens (%v), want 1 (999 alone: nothing migrated)", versions, err)
	}
}
