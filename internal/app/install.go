package app

import (
	"context"
	"crypto/rand"
	"encoding/json"
	"errors"
	"fmt"
	"math/big"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/rampart/rampart/internal/authn"
	"github.com/rampart/rampart/internal/barrier"
	"github.com/rampart/rampart/internal/store"
	"github.com/rampart/rampart/internal/store/postgres"
	"github.com/rampart/rampart/internal/store/sqlite"
)

// An installation is a data directory (its configuration file, and the
// SQLite database or the address of a PostgreSQL one) whose store holds the
// barrier's root key, wrapped by the installation's seal.
const (
	ConfigFile   = "rampart.json" // in the data directory
	KeyFileName  = "seal.key"     // the key-file seal's key-encryption key
	DatabaseFile = "rampart.db"   // the SQLite store
)

// Table and keys of the installation's own records in the store.
const (
	tableInstall = "rampart.install"
	keyRootKey   = "root-key" // the barrier's root key, wrapped by the seal
)

// Installation is the configuration file of a data directory. It holds no
// secret: not the root key, not a database password.
type Installation struct {
	InstallationID string    `json:"installationId"` // the store's; checked at every start
	Store          string    `json:"store"`          // "sqlite", or a PostgreSQL URL without its password
	Seal           string    `json:"seal"`           // "keyfile" or "passphrase"
	Account        string    `json:"account"`        // the first account
	Addr           string    `json:"addr,omitempty"` // where `rampart server` listens unless --addr says otherwise
	CreatedAt      time.Time `json:"createdAt"`
}

// Credentials are the first account's root credentials, shown once by init.
type Credentials struct {
	AccountID       string `json:"accountId"`
	AccessKeyID     string `json:"accessKeyId"`
	SecretAccessKey string `json:"secretAccessKey"`
}

// ErrInstalled is returned by Init for a data directory or store that
// already holds an installation.
var ErrInstalled = errors.New("an installation already exists here: rampart init never touches one; use rampart server")

// InitConfig says what Init creates.
type InitConfig struct {
	DataDir  string
	StoreURL string // "" for SQLite in DataDir
	Seal     string // "keyfile" (default) or "passphrase"
	// Passphrase is the passphrase seal's secret.
	Passphrase []byte
}

// Init creates an installation: the store's schema, the barrier's root key
// sealed by the chosen seal, and the first account with random root
// credentials, which it returns (they are shown once and kept nowhere in
// the clear).
func Init(ctx context.Context, cfg InitConfig) (*Credentials, error) {
	if _, err := os.Stat(filepath.Join(cfg.DataDir, ConfigFile)); err == nil {
		return nil, ErrInstalled
	}
	if err := os.MkdirAll(cfg.DataDir, 0o700); err != nil {
		return nil, fmt.Errorf("data directory: %w", err)
	}
	if cfg.Seal == "" {
		cfg.Seal = "keyfile"
	}
	var seal barrier.Seal
	switch cfg.Seal {
	case "keyfile":
		kf := barrier.KeyFile{Path: filepath.Join(cfg.DataDir, KeyFileName)}
		if _, err := os.Stat(kf.Path); err == nil {
			return nil, ErrInstalled
		}
		if err := kf.Create(); err != nil {
			return nil, err
		}
		seal = kf
	case "passphrase":
		seal = barrier.Passphrase{Secret: cfg.Passphrase}
	default:
		return nil, fmt.Errorf("unknown seal %q: use keyfile or passphrase", cfg.Seal)
	}
	st, err := openStore(ctx, cfg.DataDir, cfg.StoreURL)
	if err != nil {
		return nil, err
	}
	defer st.Close()
	root, err := barrier.NewRootKey()
	if err != nil {
		return nil, err
	}
	wrapped, err := seal.Wrap(root)
	if err != nil {
		return nil, err
	}
	b, err := barrier.New(root)
	if err != nil {
		return nil, err
	}
	creds := &Credentials{}
	if creds.AccountID, err = randomDigits(12); err != nil {
		return nil, err
	}
	if creds.AccessKeyID, err = authn.NewKeyID("AKIA", creds.AccountID, rand.Reader); err != nil {
		return nil, err
	}
	if creds.SecretAccessKey, err = authn.NewSecret(rand.Reader); err != nil {
		return nil, err
	}
	err = st.Update(ctx, func(tx store.Tx) error {
		if err := tx.Insert(tableInstall, keyRootKey, wrapped); errors.Is(err, store.ErrExists) {
			return ErrInstalled
		} else if err != nil {
			return err
		}
		return authn.CreateAccount(tx, b, authn.Account{ID: creds.AccountID, Name: "rampart"}, creds.AccessKeyID, creds.SecretAccessKey)
	})
	if err != nil {
		return nil, err
	}
	inst := Installation{InstallationID: installationID(st), Store: storeName(cfg.StoreURL), Seal: cfg.Seal, Account: creds.AccountID, CreatedAt: time.Now().UTC()}
	if err := writeInstallation(cfg.DataDir, inst); err != nil {
		return nil, err
	}
	return creds, nil
}

func writeInstallation(dir string, inst Installation) error {
	data, err := json.MarshalIndent(inst, "", "  ")
	if err != nil {
		return err
	}
	return os.WriteFile(filepath.Join(dir, ConfigFile), append(data, '\n'), 0o600)
}

// storeName is how the configuration file names a store: "sqlite", or the
// PostgreSQL URL without its password.
func storeName(url string) string {
	if url == "" {
		return "sqlite"
	}
	return redactURL(url)
}

// openInstalled opens the store and the barrier of an installation made by
// Init, checking that they belong together.
func openInstalled(ctx context.Context, dir, storeURL string, passphrase func() ([]byte, error)) (store.Store, *barrier.Barrier, *Installation, error) {
	data, err := os.ReadFile(filepath.Join(dir, ConfigFile))
	if errors.Is(err, os.ErrNotExist) {
		return nil, nil, nil, fmt.Errorf("%s holds no installation: create one with rampart init --data %s", dir, dir)
	}
	if err != nil {
		return nil, nil, nil, err
	}
	var inst Installation
	if err := json.Unmarshal(data, &inst); err != nil {
		return nil, nil, nil, fmt.Errorf("%s: %w", ConfigFile, err)
	}
	if storeURL == "" && inst.Store != "sqlite" {
		return nil, nil, nil, fmt.Errorf("this installation keeps its state in PostgreSQL (%s): give its URL with --store or RAMPART_STORE", inst.Store)
	}
	var seal barrier.Seal
	switch inst.Seal {
	case "keyfile":
		seal = barrier.KeyFile{Path: filepath.Join(dir, KeyFileName)}
	case "passphrase":
		if passphrase == nil {
			return nil, nil, nil, errors.New("this installation's root key is sealed by a passphrase, and none was given")
		}
		p, err := passphrase()
		if err != nil {
			return nil, nil, nil, err
		}
		seal = barrier.Passphrase{Secret: p}
	default:
		return nil, nil, nil, fmt.Errorf("%s names an unknown seal %q", ConfigFile, inst.Seal)
	}
	st, err := openStore(ctx, dir, storeURL)
	if err != nil {
		return nil, nil, nil, err
	}
	if id := installationID(st); id != inst.InstallationID {
		st.Close()
		return nil, nil, nil, fmt.Errorf("the store belongs to another installation (%s, not %s): refusing to use it", id, inst.InstallationID)
	}
	b, err := openBarrier(ctx, st, seal)
	if err != nil {
		st.Close()
		return nil, nil, nil, err
	}
	return st, b, &inst, nil
}

// openBarrier unwraps the stored root key with seal.
func openBarrier(ctx context.Context, st store.Store, seal barrier.Seal) (*barrier.Barrier, error) {
	var wrapped []byte
	err := st.View(ctx, func(tx store.Tx) error {
		var err error
		wrapped, err = tx.Get(tableInstall, keyRootKey)
		return err
	})
	if errors.Is(err, store.ErrNotFound) {
		return nil, errors.New("the store holds no root key: it was not made by rampart init")
	}
	if err != nil {
		return nil, err
	}
	root, err := seal.Unwrap(wrapped)
	if err != nil {
		return nil, err
	}
	return barrier.New(root)
}

func openStore(ctx context.Context, dir, url string) (store.Store, error) {
	if url == "" {
		return sqlite.Open(filepath.Join(dir, DatabaseFile))
	}
	if !strings.HasPrefix(url, "postgres://") && !strings.HasPrefix(url, "postgresql://") {
		return nil, fmt.Errorf("--store: want a postgres:// URL, got %q", redactURL(url))
	}
	return postgres.Open(ctx, url)
}

func installationID(st store.Store) string {
	if s, ok := st.(interface{ InstallationID() string }); ok {
		return s.InstallationID()
	}
	return ""
}

// redactURL drops the password from a store URL.
func redactURL(u string) string {
	at := strings.LastIndexByte(u, '@')
	scheme := strings.Index(u, "://")
	if at < 0 || scheme < 0 {
		return u
	}
	userinfo := u[scheme+3 : at]
	if name, _, ok := strings.Cut(userinfo, ":"); ok {
		return u[:scheme+3] + name + ":xxxxx" + u[at:]
	}
	return u
}

func randomDigits(n int) (string, error) {
	var b strings.Builder
	for i := 0; i < n; i++ {
		d, err := rand.Int(rand.Reader, big.NewInt(10))
		if err != nil {
			return "", err
		}
		if i == 0 && d.Int64() == 0 {
			d = big.NewInt(1) // account ids do not start with 0 (000000000000 is dev mode's)
		}
		b.WriteByte(byte('0' + d.Int64()))
	}
	return b.String(), nil
}
