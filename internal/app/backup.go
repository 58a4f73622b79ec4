package app

import (
	"bufio"
	"compress/gzip"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	"github.com/rampart/rampart/internal/barrier"
	"github.com/rampart/rampart/internal/store"
	"github.com/rampart/rampart/internal/store/postgres"
	"github.com/rampart/rampart/internal/store/sqlite"
)

// A backup is one consistent snapshot of an installation's store, in a
// format that does not depend on the backend (a SQLite installation can be
// restored onto PostgreSQL and back): gzip-compressed JSON lines,
//
//	{"format":"rampart-backup","version":1,…header…}
//	{"kv":{"t":table,"k":key,"v":base64}}      every entry, (table, key) order
//	{"audit":{"seq":…,"time":…,…,"body":…}}    every audit row, sequence order
//	{"end":{"kv":n,"audit":m,"sha256":hex}}     counts, and the SHA-256 of every line before
//
// The header carries the installation's configuration file (rampart.json:
// no secret) and the store's installation id and schema version. The
// entries carry what the store holds, which is sealed where it matters
// (secret values, key material, secret access keys) and the barrier's root
// key wrapped by the installation's seal. The seal itself — the key file
// seal.key, the passphrase, or the PKCS#11 token's key — is NOT in the
// backup: restoring needs it (copy seal.key into the new data directory
// yourself; have the token and its PIN), and a stolen backup without it
// reveals nothing sealed.
const (
	backupFormat  = "rampart-backup"
	backupVersion = 1
)

type backupHeader struct {
	Format         string          `json:"format"`
	Version        int             `json:"version"`
	CreatedAt      time.Time       `json:"createdAt"`
	Backend        string          `json:"backend"` // "sqlite" or "postgres"
	SchemaVersion  int             `json:"schemaVersion"`
	InstallationID string          `json:"installationId"`
	Installation   json.RawMessage `json:"installation"` // rampart.json as it was
}

type backupKV struct {
	T string `json:"t"`
	K string `json:"k"`
	V []byte `json:"v"`
}

type backupAudit struct {
	Seq     int64     `json:"seq"`
	Time    time.Time `json:"time"`
	Account string    `json:"account"`
	Region  string    `json:"region"`
	EventID string    `json:"eventId"`
	Body    []byte    `json:"body"`
}

type backupEnd struct {
	KV     int64  `json:"kv"`
	Audit  int64  `json:"audit"`
	SHA256 string `json:"sha256"`
}

type backupLine struct {
	KV    *backupKV    `json:"kv,omitempty"`
	Audit *backupAudit `json:"audit,omitempty"`
	End   *backupEnd   `json:"end,omitempty"`
}

// dumper and loader are the backends' backup hooks (store/sqlite and
// store/postgres backup.go).
type dumper interface {
	Dump(ctx context.Context, meta func(k, v string) error, kv func(table, key string, value []byte) error, audit func(store.AuditRow) error) error
}

type loader interface {
	Load(ctx context.Context, installationID string, read func(kv func(table, key string, value []byte) error, audit func(store.AuditRow) error) error) error
}

// BackupStats says what a backup or restore carried.
type BackupStats struct {
	InstallationID string
	Entries        int64
	AuditEvents    int64
	// SealMissing (restore) is set when the installation's seal is a key
	// file that is not in the new data directory yet: copy it there
	// before starting the server.
	SealMissing bool
	Seal        string
	// PKCS11 is the pkcs11 seal's token and key: restoring needs them.
	PKCS11 *PKCS11
	// SealChecked (restore) is set when the seal at hand (the key file in
	// the new data directory, or the PKCS#11 key with RAMPART_PKCS11_PIN
	// set) was found to open the backup's root key.
	SealChecked bool
}

// Backup writes one consistent snapshot of the installation in dataDir
// (its store at storeURL, "" for SQLite) to w, while the installation may
// be serving. It needs no seal: it copies sealed data as it is. It opens
// the store read-only and never migrates it: a store whose schema version
// is not this binary's is refused (back it up with the rampart that
// serves it).
func Backup(ctx context.Context, dataDir, storeURL string, w io.Writer) (*BackupStats, error) {
	raw, inst, err := readInstallation(dataDir)
	if err != nil {
		return nil, err
	}
	if storeURL == "" && inst.Store != "sqlite" {
		return nil, fmt.Errorf("this installation keeps its state in PostgreSQL (%s): give its URL with --store or RAMPART_STORE", inst.Store)
	}
	if storeURL == "" {
		// Do not create a database where none is.
		if _, err := os.Stat(filepath.Join(dataDir, DatabaseFile)); err != nil {
			return nil, fmt.Errorf("the installation's database: %w", err)
		}
	}
	st, err := openStoreReadOnly(ctx, dataDir, storeURL)
	if err != nil {
		if errors.Is(err, store.ErrSchemaTooNew) || errors.Is(err, store.ErrSchemaTooOld) {
			return nil, fmt.Errorf("refusing to back up (a backup never migrates the store): %w", err)
		}
		return nil, err
	}
	defer st.Close()
	d, ok := st.(dumper)
	if !ok {
		return nil, errors.New("this store cannot be backed up")
	}
	if id := installationID(st); id != inst.InstallationID {
		return nil, fmt.Errorf("the store belongs to another installation (%s, not %s): refusing to back it up", id, inst.InstallationID)
	}
	backend := "sqlite"
	if storeURL != "" {
		backend = "postgres"
	}

	zw := gzip.NewWriter(w)
	sum := sha256.New()
	bw := bufio.NewWriterSize(io.MultiWriter(zw, sum), 1<<16)
	enc := json.NewEncoder(bw)
	stats := &BackupStats{InstallationID: inst.InstallationID, Seal: inst.Seal, PKCS11: inst.PKCS11}
	h := backupHeader{Format: backupFormat, Version: backupVersion, CreatedAt: time.Now().UTC(), Backend: backend, Installation: raw}
	headerDone := false
	writeHeader := func() error {
		if headerDone {
			return nil
		}
		headerDone = true
		if h.InstallationID != inst.InstallationID {
			return fmt.Errorf("the store's installation id changed under the backup (%s)", h.InstallationID)
		}
		return enc.Encode(h)
	}
	err = d.Dump(ctx, func(k, v string) error {
		switch k {
		case "installation_id":
			h.InstallationID = v
		case "schema_version":
			h.SchemaVersion, _ = strconv.Atoi(v)
		}
		return nil
	}, func(table, key string, value []byte) error {
		if err := writeHeader(); err != nil {
			return err
		}
		stats.Entries++
		return enc.Encode(backupLine{KV: &backupKV{T: table, K: key, V: value}})
	}, func(r store.AuditRow) error {
		if err := writeHeader(); err != nil {
			return err
		}
		stats.AuditEvents++
		return enc.Encode(backupLine{Audit: &backupAudit{Seq: r.Seq, Time: r.Time, Account: r.Account, Region: r.Region, EventID: r.EventID, Body: r.Body}})
	})
	if err == nil {
		err = writeHeader()
	}
	if err != nil {
		return nil, fmt.Errorf("backup: %w", err)
	}
	if err := bw.Flush(); err != nil {
		return nil, fmt.Errorf("backup: %w", err)
	}
	// The trailer is not part of its own checksum.
	if err := json.NewEncoder(zw).Encode(backupLine{End: &backupEnd{KV: stats.Entries, Audit: stats.AuditEvents, SHA256: hex.EncodeToString(sum.Sum(nil))}}); err != nil {
		return nil, fmt.Errorf("backup: %w", err)
	}
	if err := zw.Close(); err != nil {
		return nil, fmt.Errorf("backup: %w", err)
	}
	return stats, nil
}

// openStoreReadOnly opens an installation's store for Backup: read-only,
// without migrating it (see sqlite.ReadOnly and postgres.ReadOnly).
func openStoreReadOnly(ctx context.Context, dir, url string) (store.Store, error) {
	if url == "" {
		return sqlite.Open(filepath.Join(dir, DatabaseFile), sqlite.ReadOnly())
	}
	if !strings.HasPrefix(url, "postgres://") && !strings.HasPrefix(url, "postgresql://") {
		return nil, fmt.Errorf("--store: want a postgres:// URL, got %q", redactURL(url))
	}
	return postgres.Open(ctx, url, postgres.ReadOnly())
}

// BackupFile is Backup to a file, written whole or not at all: a temporary
// file beside it, synced, then renamed over path (mode 0600).
func BackupFile(ctx context.Context, dataDir, storeURL, path string) (*BackupStats, error) {
	f, err := os.CreateTemp(filepath.Dir(path), "."+filepath.Base(path)+".tmp-*")
	if err != nil {
		return nil, err
	}
	tmp := f.Name()
	defer os.Remove(tmp) // after the rename, a no-op
	if err := f.Chmod(0o600); err != nil {
		f.Close()
		return nil, err
	}
	stats, err := Backup(ctx, dataDir, storeURL, f)
	if err == nil {
		err = f.Sync()
	}
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		return nil, err
	}
	if err := os.Rename(tmp, path); err != nil {
		return nil, err
	}
	if d, err := os.Open(filepath.Dir(path)); err == nil {
		d.Sync()
		d.Close()
	}
	return stats, nil
}

// ErrBadBackup wraps every reason a backup file is refused.
var ErrBadBackup = errors.New("not a usable rampart backup")

// Restore creates an installation in dataDir (which must hold none) from
// the backup r, with its store at storeURL ("" for SQLite in dataDir; a
// PostgreSQL store must be empty, e.g. a new schema). The installation
// keeps its id, its accounts and everything they had; its store may be of
// the other backend. It all happens in one transaction: a damaged or
// truncated backup, a non-empty store, or a seal that does not open the
// backup's root key (when the key file is already in dataDir) change
// nothing. The seal is not in the backup: when the installation uses a key
// file and dataDir has none yet, stats.SealMissing says to copy it there.
// A pkcs11 installation's root key is checked against its token's key when
// RAMPART_PKCS11_PIN is set (a refused PIN changes nothing either).
func Restore(ctx context.Context, r io.Reader, dataDir, storeURL string) (stats *BackupStats, err error) {
	if _, err := os.Stat(filepath.Join(dataDir, ConfigFile)); err == nil {
		return nil, ErrInstalled
	}
	if storeURL == "" {
		if _, err := os.Stat(filepath.Join(dataDir, DatabaseFile)); err == nil {
			return nil, fmt.Errorf("%s already holds a database (%s): restore into a new data directory", dataDir, DatabaseFile)
		}
	}
	zr, err := gzip.NewReader(r)
	if err != nil {
		return nil, fmt.Errorf("%w: %v", ErrBadBackup, err)
	}
	defer zr.Close()
	sum := sha256.New()
	br := bufio.NewReaderSize(zr, 1<<16)
	var h backupHeader
	line, err := readLine(br)
	if err == nil {
		sum.Write(line)
		err = json.Unmarshal(line, &h)
	}
	if err != nil || h.Format != backupFormat {
		return nil, fmt.Errorf("%w: no rampart backup header", ErrBadBackup)
	}
	if h.Version != backupVersion {
		return nil, fmt.Errorf("%w: backup format version %d, this binary reads version %d", ErrBadBackup, h.Version, backupVersion)
	}
	var inst Installation
	if err := json.Unmarshal(h.Installation, &inst); err != nil || inst.InstallationID == "" || inst.InstallationID != h.InstallationID {
		return nil, fmt.Errorf("%w: its installation record is missing or does not match its store", ErrBadBackup)
	}
	target, known := "sqlite", sqlite.SchemaVersions()
	if storeURL != "" {
		target, known = "postgres", postgres.SchemaVersions()
	}
	if h.Backend == target && h.SchemaVersion > known {
		return nil, fmt.Errorf("%w: database schema version %d, this binary knows versions up to %d; upgrade rampart", store.ErrSchemaTooNew, h.SchemaVersion, known)
	}
	if inst.Seal == "pkcs11" {
		// The backup's module path is not loaded: a backup is checked only
		// once read whole, and a library named by a tampered one would run
		// as rampart. This machine's library is named by its operator, and
		// that path is what the restored installation records.
		m := os.Getenv(PKCS11ModuleEnv)
		if m == "" {
			return nil, fmt.Errorf("the backup's root key is sealed by a key in a PKCS#11 token: name this machine's PKCS#11 library in %s (a backup's module path is never loaded)", PKCS11ModuleEnv)
		}
		p := PKCS11{}
		if inst.PKCS11 != nil {
			p = *inst.PKCS11
		}
		p.Module = m
		inst.PKCS11 = &p
	}
	var seal barrier.Seal
	sealWhat := KeyFileName + " in the data directory"
	if inst.Seal == "pkcs11" && os.Getenv(PKCS11PINEnv) != "" {
		p, err := openPKCS11(inst.PKCS11)
		if err != nil {
			return nil, err
		}
		defer p.Close()
		seal, sealWhat = p, fmt.Sprintf("PKCS#11 key %q of token %q", inst.PKCS11.KeyLabel, inst.PKCS11.Token)
	}

	// A refused restore leaves the data directory as it found it (it may
	// hold the key file, copied there first).
	before := map[string]bool{}
	entries, statErr := os.ReadDir(dataDir)
	for _, e := range entries {
		before[e.Name()] = true
	}
	if err := os.MkdirAll(dataDir, 0o700); err != nil {
		return nil, fmt.Errorf("data directory: %w", err)
	}
	closed := false
	var st store.Store
	defer func() {
		if st != nil && !closed {
			st.Close()
		}
		if err == nil {
			return
		}
		if errors.Is(statErr, os.ErrNotExist) {
			os.RemoveAll(dataDir)
			return
		}
		after, _ := os.ReadDir(dataDir)
		for _, e := range after {
			if !before[e.Name()] {
				os.RemoveAll(filepath.Join(dataDir, e.Name()))
			}
		}
	}()
	st, err = openStore(ctx, dataDir, storeURL)
	if err != nil {
		return nil, err
	}
	l, ok := st.(loader)
	if !ok {
		return nil, errors.New("this store cannot be restored into")
	}
	if inst.Seal == "keyfile" {
		kf := barrier.KeyFile{Path: filepath.Join(dataDir, KeyFileName)}
		if _, err := os.Stat(kf.Path); err == nil {
			seal = kf
		}
	}
	stats = &BackupStats{InstallationID: h.InstallationID, Seal: inst.Seal, PKCS11: inst.PKCS11, SealChecked: seal != nil}
	err = l.Load(ctx, h.InstallationID, func(kv func(table, key string, value []byte) error, audit func(store.AuditRow) error) error {
		var rootKey []byte
		for {
			line, err := readLine(br)
			if err != nil {
				return fmt.Errorf("%w: truncated (%v)", ErrBadBackup, err)
			}
			var bl backupLine
			if err := json.Unmarshal(line, &bl); err != nil {
				return fmt.Errorf("%w: damaged after %d entries and %d audit events", ErrBadBackup, stats.Entries, stats.AuditEvents)
			}
			if bl.End == nil {
				sum.Write(line) // the trailer is not part of its own checksum
			}
			switch {
			case bl.KV != nil:
				if bl.KV.T == tableInstall && bl.KV.K == keyRootKey {
					rootKey = bl.KV.V
				}
				stats.Entries++
				if err := kv(bl.KV.T, bl.KV.K, bl.KV.V); err != nil {
					return err
				}
			case bl.Audit != nil:
				a := bl.Audit
				stats.AuditEvents++
				if err := audit(store.AuditRow{Seq: a.Seq, Time: a.Time, Account: a.Account, Region: a.Region, EventID: a.EventID, Body: a.Body}); err != nil {
					return err
				}
			case bl.End != nil:
				if err := checkEnd(bl.End, stats, sum.Sum(nil), rootKey, seal, sealWhat); err != nil {
					return err
				}
				if _, err := br.ReadByte(); err != io.EOF {
					return fmt.Errorf("%w: data after its end", ErrBadBackup)
				}
				return nil
			default:
				return fmt.Errorf("%w: unknown record", ErrBadBackup)
			}
		}
	})
	if err != nil {
		return nil, fmt.Errorf("restore: %w", err)
	}
	closed = true
	if err = st.Close(); err != nil {
		return nil, err
	}
	inst.Store = storeName(storeURL)
	if err = writeInstallation(dataDir, inst); err != nil {
		return nil, err
	}
	stats.SealMissing = inst.Seal == "keyfile" && seal == nil
	return stats, nil
}

// readLine reads one JSON line.
func readLine(br *bufio.Reader) ([]byte, error) {
	line, err := br.ReadBytes('\n')
	if err == io.EOF {
		err = io.ErrUnexpectedEOF
	}
	return line, err
}

func checkEnd(end *backupEnd, stats *BackupStats, got []byte, rootKey []byte, seal barrier.Seal, sealWhat string) error {
	if end.KV != stats.Entries || end.Audit != stats.AuditEvents {
		return fmt.Errorf("%w: it announces %d entries and %d audit events, it holds %d and %d", ErrBadBackup, end.KV, end.Audit, stats.Entries, stats.AuditEvents)
	}
	if hex.EncodeToString(got) != end.SHA256 {
		return fmt.Errorf("%w: checksum mismatch (damaged)", ErrBadBackup)
	}
	if rootKey == nil {
		return fmt.Errorf("%w: it holds no root key", ErrBadBackup)
	}
	if seal != nil {
		if _, err := seal.Unwrap(rootKey); err != nil {
			return fmt.Errorf("the %s does not open this backup's root key: %w", sealWhat, err)
		}
	}
	return nil
}

// readInstallation reads a data directory's configuration file, raw and parsed.
func readInstallation(dir string) (json.RawMessage, *Installation, error) {
	data, err := os.ReadFile(filepath.Join(dir, ConfigFile))
	if errors.Is(err, os.ErrNotExist) {
		return nil, nil, fmt.Errorf("%s holds no installation (no %s)", dir, ConfigFile)
	}
	if err != nil {
		return nil, nil, err
	}
	var inst Installation
	if err := json.Unmarshal(data, &inst); err != nil {
		return nil, nil, fmt.Errorf("%s: %w", ConfigFile, err)
	}
	var raw json.RawMessage
	if err := json.Unmarshal(data, &raw); err != nil {
		return nil, nil, fmt.Errorf("%s: %w", ConfigFile, err)
	}
	return raw, &inst, nil
}
