package app

import (
	"context"
	"crypto/rand"
	"crypto/subtle"
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
	InstallationID string    `json:"installationId"`   // the store's; checked at every start
	Store          string    `json:"store"`            // "sqlite", or a PostgreSQL URL without its password
	Seal           string    `json:"seal"`             // "keyfile", "passphrase" or "pkcs11"
	PKCS11         *PKCS11   `json:"pkcs11,omitempty"` // the pkcs11 seal's token and key (not its PIN)
	Account        string    `json:"account"`          // the first account
	Addr           string    `json:"addr,omitempty"`   // where `rampart server` listens unless --addr says otherwise
	CreatedAt      time.Time `json:"createdAt"`
}

// PKCS11 is where the pkcs11 seal's key is: the token's library, the
// token, the key's label. The PIN is not kept: the server reads it from
// RAMPART_PKCS11_PIN at every start.
type PKCS11 struct {
	Module   string `json:"module"`
	Token    string `json:"token,omitempty"`
	Slot     *uint  `json:"slot,omitempty"`
	KeyLabel string `json:"keyLabel"`
}

// Environment variables of the pkcs11 seal.
const (
	// PKCS11PINEnv holds the token's user PIN (never a flag: flags show in ps).
	PKCS11PINEnv = "RAMPART_PKCS11_PIN"
	// PKCS11ModuleEnv, when set, replaces the module path the installation
	// recorded (a node whose library lives elsewhere).
	PKCS11ModuleEnv = "RAMPART_PKCS11_MODULE"
)

// config is the barrier's configuration of the seal p, with pin.
func (p *PKCS11) config(pin []byte) barrier.PKCS11Config {
	return barrier.PKCS11Config{Module: p.Module, Token: p.Token, Slot: p.Slot, PIN: pin, KeyLabel: p.KeyLabel}
}

// openPKCS11 opens an installation's pkcs11 seal with the PIN in
// RAMPART_PKCS11_PIN.
func openPKCS11(p *PKCS11) (*barrier.PKCS11, error) {
	if p == nil || p.Module == "" {
		return nil, fmt.Errorf("%s names the pkcs11 seal but not its module and token", ConfigFile)
	}
	pin := os.Getenv(PKCS11PINEnv)
	if pin == "" {
		return nil, fmt.Errorf("this installation's root key is sealed by a key in a PKCS#11 token: give the token's user PIN in %s", PKCS11PINEnv)
	}
	cfg := p.config([]byte(pin))
	if m := os.Getenv(PKCS11ModuleEnv); m != "" {
		cfg.Module = m
	}
	s, err := barrier.OpenPKCS11(cfg)
	if errors.Is(err, barrier.ErrPKCS11PIN) {
		err = fmt.Errorf("%w (%s)", err, PKCS11PINEnv)
	}
	return s, err
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
	Seal     string // "keyfile" (default), "passphrase" or "pkcs11"
	// Passphrase is the passphrase seal's secret.
	Passphrase []byte
	// PKCS11 is the pkcs11 seal's token, key label and PIN. Init creates
	// the key in the token unless it is there.
	PKCS11 barrier.PKCS11Config
}

// Init creates an installation: the store's schema, the barrier's root key
// sealed by the chosen seal, and the first account with random root
// credentials, which it returns (they are shown once and kept nowhere in
// the clear).
func Init(ctx context.Context, cfg InitConfig) (*Credentials, error) {
	if _, err := os.Stat(filepath.Join(cfg.DataDir, ConfigFile)); err == nil {
		return nil, ErrInstalled
	}
	if cfg.Seal == "" {
		cfg.Seal = "keyfile"
	}
	var seal barrier.Seal
	var p11 *PKCS11
	if cfg.Seal == "pkcs11" {
		// Before the data directory exists: a refused PIN touches nothing.
		s, err := barrier.OpenPKCS11(cfg.PKCS11)
		if errors.Is(err, barrier.ErrPKCS11PIN) {
			return nil, fmt.Errorf("%w (%s)", err, PKCS11PINEnv)
		}
		if err != nil {
			return nil, err
		}
		defer s.Close()
		if _, err := s.EnsureKey(); err != nil {
			return nil, err
		}
		seal = s
		p11 = &PKCS11{Module: cfg.PKCS11.Module, Token: cfg.PKCS11.Token, Slot: cfg.PKCS11.Slot, KeyLabel: cfg.PKCS11.KeyLabel}
		if p11.KeyLabel == "" {
			p11.KeyLabel = barrier.DefaultPKCS11KeyLabel
		}
	}
	if err := os.MkdirAll(cfg.DataDir, 0o700); err != nil {
		return nil, fmt.Errorf("data directory: %w", err)
	}
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
	case "pkcs11":
	default:
		return nil, fmt.Errorf("unknown seal %q: use keyfile, passphrase or pkcs11", cfg.Seal)
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
	// Unwrap it once before anything is stored: a seal (an HSM) whose
	// output cannot be read back would leave an installation that never
	// starts.
	if back, err := seal.Unwrap(wrapped); err != nil || subtle.ConstantTimeCompare(back, root) != 1 {
		return nil, fmt.Errorf("the %s seal cannot unwrap the root key it wrapped (%v): refusing to install", seal.Name(), err)
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
	inst := Installation{InstallationID: installationID(st), Store: storeName(cfg.StoreURL), Seal: cfg.Seal, PKCS11: p11, Account: creds.AccountID, CreatedAt: time.Now().UTC()}
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
	case "pkcs11":
		p, err := openPKCS11(inst.PKCS11)
		if err != nil {
			return nil, nil, nil, err
		}
		// The seal is needed only to unwrap the root key, below: the
		// module is unloaded (and the PIN forgotten) before serving.
		defer p.Close()
		seal = p
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
