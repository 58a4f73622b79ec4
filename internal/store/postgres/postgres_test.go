package postgres_test

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"net/url"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/rampart/rampart/internal/store"
	"github.com/rampart/rampart/internal/store/postgres"
	"github.com/rampart/rampart/internal/store/storetest"
)

// baseURL is the test server: RAMPART_TEST_POSTGRES, or a local PostgreSQL
// with trust authentication.
func baseURL() string {
	if u := os.Getenv("RAMPART_TEST_POSTGRES"); u != "" {
		return u
	}
	return "postgres://postgres@127.0.0.1:5432/test?sslmode=disable"
}

// admin connects to the test server, skipping the test when it is
// unreachable (failing under CI, where it must be there).
func admin(t testing.TB) *pgx.Conn {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	c, err := pgx.Connect(ctx, baseURL())
	if err != nil {
		if os.Getenv("CI") != "" {
			t.Fatalf("PostgreSQL unreachable (set RAMPART_TEST_POSTGRES): %v", err)
		}
		t.Skipf("PostgreSQL unreachable (set RAMPART_TEST_POSTGRES): %v", err)
	}
	t.Cleanup(func() { c.Close(context.Background()) })
	return c
}

// newSchema creates a fresh schema, dropped at cleanup, and returns the URL
// whose connections use it.
func newSchema(t testing.TB) string {
	t.Helper()
	c := admin(t)
	var b [6]byte
	rand.Read(b[:])
	schema := "rampart_test_" + hex.EncodeToString(b[:])
	ctx := context.Background()
	if _, err := c.Exec(ctx, "CREATE SCHEMA "+pgx.Identifier{schema}.Sanitize()); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if _, err := c.Exec(context.Background(), "DROP SCHEMA "+pgx.Identifier{schema}.Sanitize()+" CASCADE"); err != nil {
			t.Errorf("drop schema %s: %v", schema, err)
		}
	})
	return withParam(t, baseURL(), "search_path", schema)
}

func withParam(t testing.TB, raw, k, v string) string {
	t.Helper()
	u, err := url.Parse(raw)
	if err != nil {
		t.Fatalf("RAMPART_TEST_POSTGRES must be a postgres:// URL: %v", err)
	}
	q := u.Query()
	q.Set(k, v)
	// libpq and pgx percent-decode the query but do not read "+" as a space.
	u.RawQuery = strings.ReplaceAll(q.Encode(), "+", "%20")
	return u.String()
}

func open(t testing.TB, u string, opts ...postgres.Option) *postgres.Store {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	s, err := postgres.Open(ctx, u, opts...)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	return s
}

func TestConformance(t *testing.T) {
	admin(t) // skip everything at once when there is no server
	storetest.Run(t, func(t *testing.T) func(t *testing.T) store.Store {
		u := newSchema(t)
		return func(t *testing.T) store.Store { return open(t, u) }
	})
}
