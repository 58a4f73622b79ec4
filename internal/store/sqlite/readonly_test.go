package sqlite_test

import (
	"context"
	"crypto/sha256"
	"database/sql"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/rampart/rampart/internal/store"
	"github.com/rampart/rampart/internal/store/sqlite"
)

// snapshotDir returns every file under dir with its size, mode, mtime and
// content hash.
func snapshotDir(t *testing.T, dir string) map[string]string {
	t.Helper()
	out := map[string]string{}
	err := filepath.WalkDir(dir, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		fi, err := d.Info()
		if err != nil {
			return err
		}
		v := fi.Mode().String() + " " + fi.ModTime().Format(time.RFC3339Nano)
		if !d.IsDir() {
			b, err := os.ReadFile(p)
			if err != nil {
				return err
			}
			v += fmt.Sprintf(" %d bytes %x", len(b), sha256.Sum256(b))
		}
		out[p] = v
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return out
}

// sameDir fails unless every file of before is unchanged in after. New
// files may only be the -shm and (empty) -wal files a reader of a WAL
// database creates when they are missing; directories may change (their
// mtime moves when those appear).
func sameDir(t *testing.T, before, after map[string]string) {
	t.Helper()
	for p, v := range before {
		if fi, err := os.Stat(p); err == nil && fi.IsDir() {
			continue
		}
		if after[p] != v {
			t.Errorf("%s changed", p)
		}
	}
	for p, v := range after {
		if _, ok := before[p]; ok {
			continue
		}
		switch {
		case strings.HasSuffix(p, ".db-shm"):
		case strings.HasSuffix(p, ".db-wal") && strings.Contains(v, " 0 bytes "):
		default:
			t.Errorf("%s appeared (%s)", p, v)
		}
	}
}

func TestReadOnly(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	path := filepath.Join(dir, "r.db")
	rw, err := sqlite.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	if err := rw.Update(ctx, func(tx store.Tx) error { return tx.Put("t", "a", []byte("one")) }); err != nil {
		t.Fatal(err)
	}
	if err := rw.AppendAudit(ctx, []store.AuditRow{{Time: time.Now(), Account: "1", Region: "r", EventID: "e1", Body: []byte("{}")}}); err != nil {
		t.Fatal(err)
	}
	id := rw.InstallationID()

	check := func(t *testing.T, wantValue string, wantAudit int) {
		t.Helper()
		ro, err := sqlite.Open(path, sqlite.ReadOnly())
		if err != nil {
			t.Fatal(err)
		}
		defer ro.Close()
		if ro.InstallationID() != id || ro.SchemaVersion() != sqlite.SchemaVersions() {
			t.Errorf("read-only open: installation %q schema %d, want %q %d", ro.InstallationID(), ro.SchemaVersion(), id, sqlite.SchemaVersions())
		}
		var got []byte
		if err := ro.View(ctx, func(tx store.Tx) error {
			var err error
			got, err = tx.Get("t", "a")
			return err
		}); err != nil || string(got) != wantValue {
			t.Errorf("View = %q, %v; want %q", got, err, wantValue)
		}
		rows, err := ro.QueryAudit(ctx, store.AuditQuery{})
		if err != nil || len(rows) != wantAudit {
			t.Errorf("QueryAudit = %d rows, %v; want %d", len(rows), err, wantAudit)
		}
		if err := ro.Update(ctx, func(tx store.Tx) error { return tx.Put("t", "b", []byte("x")) }); !errors.Is(err, sqlite.ErrReadOnlyStore) {
			t.Errorf("Update on a read-only store: %v", err)
		}
		if err := ro.AppendAudit(ctx, []store.AuditRow{{Time: time.Now(), Account: "1", Region: "r", EventID: "e2", Body: []byte("{}")}}); err == nil {
			t.Error("AppendAudit on a read-only store succeeded")
		}
		var entries int
		if err := ro.Dump(ctx, func(k, v string) error { return nil }, func(string, string, []byte) error { entries++; return nil }, func(store.AuditRow) error { return nil }); err != nil || entries != 1 {
			t.Errorf("Dump: %d entries, %v", entries, err)
		}
	}

	// Beside a store that is open and writing (a serving rampart).
	t.Run("while open", func(t *testing.T) {
		check(t, "one", 1)
		if err := rw.Update(ctx, func(tx store.Tx) error { return tx.Put("t", "a", []byte("two")) }); err != nil {
			t.Fatalf("the writer after a read-only open: %v", err)
		}
		if err := rw.AppendAudit(ctx, []store.AuditRow{{Time: time.Now(), Account: "1", Region: "r", EventID: "e3", Body: []byte("{}")}}); err != nil {
			t.Fatalf("the audit log's owner after a read-only open: %v", err)
		}
		check(t, "two", 2)
	})
	if err := rw.Close(); err != nil {
		t.Fatal(err)
	}

	// Closed: the read-only open changes no file, and creates none.
	t.Run("closed", func(t *testing.T) {
		before := snapshotDir(t, dir)
		check(t, "two", 2)
		sameDir(t, before, snapshotDir(t, dir))
	})

	t.Run("missing file", func(t *testing.T) {
		missing := filepath.Join(t.TempDir(), "none.db")
		if _, err := sqlite.Open(missing, sqlite.ReadOnly()); err == nil {
			t.Fatal("a read-only open of a missing file succeeded")
		}
		if entries, _ := os.ReadDir(filepath.Dir(missing)); len(entries) != 0 {
			t.Errorf("a refused read-only open left %v", entries)
		}
	})

	setVersion := func(t *testing.T, path, stmt string) {
		t.Helper()
		db, err := sql.Open("sqlite", path)
		if err != nil {
			t.Fatal(err)
		}
		defer db.Close()
		if _, err := db.Exec(stmt); err != nil {
			t.Fatal(err)
		}
	}
	for _, tc := range []struct {
		name, stmt string
		want       error
		words      string
	}{
		{"newer schema", "INSERT INTO schema_migrations(version, applied_at) VALUES (999, 0)", store.ErrSchemaTooNew, "version 999"},
		{"older schema", "DELETE FROM schema_migrations WHERE version = (SELECT max(version) FROM schema_migrations)", store.ErrSchemaTooOld, "start this one's server"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			d := t.TempDir()
			p := filepath.Join(d, "r.db")
			s, err := sqlite.Open(p)
			if err != nil {
				t.Fatal(err)
			}
			s.Close()
			setVersion(t, p, tc.stmt)
			before := snapshotDir(t, d)
			_, err = sqlite.Open(p, sqlite.ReadOnly())
			if !errors.Is(err, tc.want) || !strings.Contains(err.Error(), tc.words) {
				t.Fatalf("read-only open: %v, want %v saying %q", err, tc.want, tc.words)
			}
			sameDir(t, before, snapshotDir(t, d))
		})
	}
}
