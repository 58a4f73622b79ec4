package sqlite_test

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"path/filepath"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/rampart/rampart/internal/store"
	"github.com/rampart/rampart/internal/store/sqlite"
)

func TestOpenMetadataAndSettings(t *testing.T) {
	path := filepath.Join(t.TempDir(), "r.db")
	s, err := sqlite.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	id := s.InstallationID()
	if len(id) != 36 || id[14] != '4' {
		t.Fatalf("installation id %q is not a UUID v4", id)
	}
	if s.SchemaVersion() != sqlite.SchemaVersions() {
		t.Fatalf("schema version %d, binary knows %d", s.SchemaVersion(), sqlite.SchemaVersions())
	}
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	s, err = sqlite.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	if s.InstallationID() != id {
		t.Fatalf("installation id changed across reopen: %q -> %q", id, s.InstallationID())
	}
	s.Close()

	// Inspect the file with a plain connection.
	db, err := sql.Open("sqlite", path)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	var mode string
	if err := db.QueryRow("PRAGMA journal_mode").Scan(&mode); err != nil || mode != "wal" {
		t.Fatalf("journal_mode %q %v, want wal", mode, err)
	}
	var n int
	if err := db.QueryRow("SELECT count(*) FROM schema_migrations").Scan(&n); err != nil || n != sqlite.SchemaVersions() {
		t.Fatalf("schema_migrations has %d rows (%v), want %d", n, err, sqlite.SchemaVersions())
	}
}

func TestRefuseNewerSchema(t *testing.T) {
	path := filepath.Join(t.TempDir(), "r.db")
	s, err := sqlite.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	s.Close()
	db, err := sql.Open("sqlite", path)
	if err != nil {
		t.Fatal(err)
	}
	future := sqlite.SchemaVersions() + 1
	if _, err := db.Exec("INSERT INTO schema_migrations(version, applied_at) VALUES (?, 0)", future); err != nil {
		t.Fatal(err)
	}
	db.Close()
	_, err = sqlite.Open(path)
	if !errors.Is(err, store.ErrSchemaTooNew) {
		t.Fatalf("got %v, want ErrSchemaTooNew", err)
	}
	if !strings.Contains(err.Error(), fmt.Sprintf("version %d", future)) {
		t.Fatalf("error does not name the database version: %v", err)
	}
}

func TestInvalidPath(t *testing.T) {
	for _, p := range []string{"", ":memory:", "file:x.db", "x.db?mode=ro"} {
		if _, err := sqlite.Open(p); err == nil {
			t.Errorf("Open(%q) succeeded", p)
		}
	}
}

// Two stores on one file (two processes, in effect) see each other's commits;
// SQLite's own lock serialises their writers.
func TestTwoStoresOneFile(t *testing.T) {
	path := filepath.Join(t.TempDir(), "r.db")
	a := openFile(t, path)
	b := openFile(t, path)
	ctx := context.Background()
	for i := range 20 {
		s := a
		if i%2 == 1 {
			s = b
		}
		if err := s.Update(ctx, func(tx store.Tx) error {
			return tx.Put("t", fmt.Sprintf("k%02d", i), nil)
		}); err != nil {
			t.Fatal(err)
		}
	}
	if err := a.View(ctx, func(tx store.Tx) error {
		n, err := tx.Count("t", "")
		if err == nil && n != 20 {
			err = fmt.Errorf("count %d, want 20", n)
		}
		return err
	}); err != nil {
		t.Fatal(err)
	}
}

// A function that swallows a failed statement cannot commit the rest.
func TestCommitRefusedAfterSwallowedError(t *testing.T) {
	s := openFile(t, filepath.Join(t.TempDir(), "r.db"))
	ctx, cancel := context.WithCancel(context.Background())
	err := s.Update(ctx, func(tx store.Tx) error {
		if err := tx.Put("t", "a", nil); err != nil {
			return err
		}
		cancel()
		_ = tx.Put("t", "b", nil) // interrupted: ignored by a careless caller
		return nil
	})
	if err == nil {
		// The interrupt may have landed after the statement finished; then both are in.
		return
	}
	if err := s.View(context.Background(), func(tx store.Tx) error {
		n, err := tx.Count("t", "")
		if err == nil && n != 0 {
			err = fmt.Errorf("%d keys committed after a refused commit", n)
		}
		return err
	}); err != nil {
		t.Fatal(err)
	}
}

func BenchmarkUpdatePut(b *testing.B) {
	s, err := sqlite.Open(filepath.Join(b.TempDir(), "r.db"))
	if err != nil {
		b.Fatal(err)
	}
	defer s.Close()
	ctx := context.Background()
	val := []byte(`{"UserName":"alice","Arn":"arn:aws:iam::000000000000:user/alice"}`)
	var i atomic.Int64
	b.ReportAllocs()
	b.ResetTimer()
	for b.Loop() {
		k := fmt.Sprintf("000000000000/user%06d", i.Add(1))
		if err := s.Update(ctx, func(tx store.Tx) error { return tx.Put("iam.user", k, val) }); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "commits/s")
}

func BenchmarkViewGet(b *testing.B) {
	s, err := sqlite.Open(filepath.Join(b.TempDir(), "r.db"))
	if err != nil {
		b.Fatal(err)
	}
	defer s.Close()
	ctx := context.Background()
	if err := s.Update(ctx, func(tx store.Tx) error { return tx.Put("iam.user", "k", []byte("v")) }); err != nil {
		b.Fatal(err)
	}
	b.ReportAllocs()
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			if err := s.View(ctx, func(tx store.Tx) error { _, err := tx.Get("iam.user", "k"); return err }); err != nil {
				b.Error(err)
				return
			}
		}
	})
}
