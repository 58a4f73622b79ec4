package postgres_test

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"sync"
	"testing"

	"github.com/jackc/pgx/v5"

	"github.com/rampart/rampart/internal/store"
	"github.com/rampart/rampart/internal/store/postgres"
)

func TestOpenMetadata(t *testing.T) {
	u := newSchema(t)
	s := open(t, u)
	id := s.InstallationID()
	if len(id) != 36 || id[14] != '4' {
		t.Fatalf("installation id %q is not a UUID v4", id)
	}
	if s.SchemaVersion() != postgres.SchemaVersions() {
		t.Fatalf("schema version %d, binary knows %d", s.SchemaVersion(), postgres.SchemaVersions())
	}
	if !strings.HasPrefix(s.Schema(), "rampart_test_") {
		t.Fatalf("schema %q, want the test's", s.Schema())
	}
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	s2 := open(t, u)
	if s2.InstallationID() != id {
		t.Fatalf("installation id changed across reopen: %q -> %q", id, s2.InstallationID())
	}
	if s2.NodeID() == s.NodeID() {
		t.Fatal("two Store instances share a node id")
	}

	// Inspect the schema with a plain connection.
	c, err := pgx.Connect(context.Background(), u)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close(context.Background())
	var n int
	if err := c.QueryRow(context.Background(), "SELECT count(*) FROM schema_migrations").Scan(&n); err != nil || n != postgres.SchemaVersions() {
		t.Fatalf("schema_migrations has %d rows (%v), want %d", n, err, postgres.SchemaVersions())
	}
	var coll string
	if err := c.QueryRow(context.Background(),
		`SELECT collation_name FROM information_schema.columns WHERE table_schema = $1 AND table_name = 'kv' AND column_name = 'k'`,
		s.Schema()).Scan(&coll); err != nil || coll != "C" {
		t.Fatalf("kv.k collation %q (%v), want C", coll, err)
	}
}

func TestRefuseNewerSchema(t *testing.T) {
	u := newSchema(t)
	open(t, u).Close()
	c, err := pgx.Connect(context.Background(), u)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close(context.Background())
	future := postgres.SchemaVersions() + 1
	if _, err := c.Exec(context.Background(), "INSERT INTO schema_migrations(version) VALUES ($1)", future); err != nil {
		t.Fatal(err)
	}
	_, err = postgres.Open(context.Background(), u)
	if !errors.Is(err, store.ErrSchemaTooNew) {
		t.Fatalf("got %v, want ErrSchemaTooNew", err)
	}
	if !strings.Contains(err.Error(), fmt.Sprintf("version %d", future)) {
		t.Fatalf("error does not name the database version: %v", err)
	}
}

// Nodes starting together on an empty schema: the advisory lock makes one
// apply the migrations and the others find them applied.
func TestConcurrentOpen(t *testing.T) {
	u := newSchema(t)
	const n = 6
	var wg sync.WaitGroup
	errs := make(chan error, n)
	ids := make(chan string, n)
	for range n {
		wg.Go(func() {
			s, err := postgres.Open(context.Background(), u, postgres.WithMaxConns(1))
			if err != nil {
				errs <- err
				return
			}
			ids <- s.InstallationID()
			errs <- s.Close()
		})
	}
	wg.Wait()
	close(errs)
	close(ids)
	for err := range errs {
		if err != nil {
			t.Fatal(err)
		}
	}
	first := ""
	for id := range ids {
		if first == "" {
			first = id
		}
		if id != first {
			t.Fatalf("nodes disagree on the installation id: %q vs %q", first, id)
		}
	}
}

func TestOpenErrors(t *testing.T) {
	admin(t)
	cases := map[string]struct {
		url  string
		want string
	}{
		"no schema on the search path": {withParam(t, baseURL(), "search_path", "rampart_no_such_schema"), "no schema"},
		"unparsable URL":               {"postgres://user:s3cret@[::1/x", "invalid connection string"},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			_, err := postgres.Open(context.Background(), tc.url)
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("got %v, want an error containing %q", err, tc.want)
			}
			if strings.Contains(err.Error(), "s3cret") {
				t.Fatalf("error reveals the password: %v", err)
			}
		})
	}
}
