// Package app assembles a running rampart from its parts: store, barrier,
// authentication, services, audit and the HTTP server. cmd/rampart and the
// tests (internal/rampartest) both start rampart through it.
package app

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"time"

	"github.com/rampart/rampart/internal/audit"
	"github.com/rampart/rampart/internal/authn"
	"github.com/rampart/rampart/internal/authz"
	"github.com/rampart/rampart/internal/barrier"
	"github.com/rampart/rampart/internal/server"
	"github.com/rampart/rampart/internal/service"
	"github.com/rampart/rampart/internal/service/iam"
	"github.com/rampart/rampart/internal/service/kms"
	"github.com/rampart/rampart/internal/service/organizations"
	"github.com/rampart/rampart/internal/service/secretsmanager"
	"github.com/rampart/rampart/internal/service/sts"
	"github.com/rampart/rampart/internal/store"
)

// Dev-mode identity, as LocalStack users expect it.
const (
	DevAccount   = "000000000000"
	DevAccessKey = "test"
	DevSecretKey = "test"
)

// Config describes one rampart.
type Config struct {
	DataDir  string // holds rampart.json, the key file and (SQLite) rampart.db
	StoreURL string // a postgres:// URL, or "" for SQLite in DataDir
	Logger   *slog.Logger
	// Passphrase is asked for when the installation's root key is sealed by
	// a passphrase (the key-file seal needs nothing: its file is in DataDir).
	Passphrase func() ([]byte, error)
	// Dev mode: the installation is created on first start, with account
	// DevAccount, whose root key is RootAccessKey/RootSecretKey on every start.
	Dev                          bool
	RootAccessKey, RootSecretKey string
	MaxBodyBytes                 int64
	// AuditAsyncReads answers the calls that changed nothing before their
	// audit records are durable (see server.Config.AuditAsyncReads): faster
	// under load, but a crash may lose the records of the last millisecond
	// or so of such calls. Default false: every record is durable before
	// its answer.
	AuditAsyncReads bool
}

// Rampart is an assembled, running rampart (not yet listening).
type Rampart struct {
	guardrails   *organizations.Guardrails
	iam          *iam.Service
	kms          *kms.Service
	sm           *secretsmanager.Service
	Installation *Installation
	Store        store.Store
	Barrier      *barrier.Barrier
	Authn        *authn.Authenticator
	Audit        *audit.Writer
	Registry     *service.Registry
	Handler      *server.Server
	log          *slog.Logger
}

// Deps are what services are built from. Registration itself touches none
// of them, so Registry(Deps{}) lists the served operations (the README table).
type Deps struct {
	Store   store.Store
	Barrier *barrier.Barrier
	Authn   *authn.Authenticator
	// OrgAccounts creates the accounts of Organizations' CreateAccount (nil:
	// those requests end FAILED).
	OrgAccounts organizations.Accounts
	// IAM is the IAM service, shared with the authorizer (its Identities).
	IAM *iam.Service
	// Dev: dev mode (STS then accepts OIDC issuers at http:// loopback URLs).
	Dev bool
	// KMS serves its own API and Secrets Manager's data keys (nil: one is
	// made here, for listing operations).
	KMS *kms.Service
	// SecretsManager (nil: one without background work is made here, for
	// listing operations).
	SecretsManager *secretsmanager.Service
}

// Registry returns the registry of every served operation: one line per
// service.
func Registry(d Deps) *service.Registry {
	r := service.NewRegistry()
	organizations.New(d.Store, d.OrgAccounts).Register(r)
	d.IAM.Register(r) // nil-safe: Registry(Deps{}) lists operations only
	sts.New(sts.Deps{Barrier: d.Barrier, Authn: d.Authn, Roles: d.IAM, Policies: d.IAM, MFA: d.IAM, OIDC: d.IAM, SAML: d.IAM, AllowLoopbackHTTP: d.Dev}).Register(r)
	// One KMS: its own API, and the data keys of Secrets Manager.
	keys := d.KMS
	if keys == nil {
		keys = kms.New(d.Store, d.Barrier)
	}
	keys.Register(r)
	sm := d.SecretsManager
	if sm == nil {
		sm = secretsmanager.New(d.Store, keys, secretsmanager.Options{})
	}
	sm.Register(r)
	return r
}

// Open assembles the rampart installed in cfg.DataDir (dev mode: creating it).
func Open(ctx context.Context, cfg Config) (*Rampart, error) {
	if cfg.Logger == nil {
		cfg.Logger = slog.New(slog.DiscardHandler)
	}
	if cfg.Dev {
		if err := initDev(ctx, cfg); err != nil {
			return nil, err
		}
	}
	st, b, inst, err := openInstalled(ctx, cfg.DataDir, cfg.StoreURL, cfg.Passphrase)
	if err != nil {
		return nil, err
	}
	if cfg.Dev {
		if _, err := authn.EnsureAccount(ctx, st, b, authn.Account{ID: DevAccount, Name: "rampart"}, cfg.RootAccessKey, cfg.RootSecretKey); err != nil {
			st.Close()
			return nil, fmt.Errorf("dev account: %w", err)
		}
	}
	rp := &Rampart{Installation: inst, Store: st, Barrier: b, Authn: authn.New(st, b), log: cfg.Logger}
	iamSvc := iam.New(st, b)
	rp.guardrails = organizations.NewGuardrails(st)
	rp.iam = iamSvc
	rp.kms = kms.New(st, b)
	rp.kms.CheckPrincipals(kmsPrincipals{store: st, iam: iamSvc})
	// Up to 200 µs of commit delay lets concurrent requests share one fsync
	// of the audit trail (see Benchmarks in README.md).
	rp.Audit = audit.NewWriter(st, audit.Options{CommitDelay: 200 * time.Microsecond})
	iamSvc.ReadsAuditTrail(rp.Audit.Flush)
	checker := authz.New(iamSvc, rp.guardrails)
	// Secrets Manager records its own events (rotations, BatchGetSecretValue's
	// per-secret reads) and authorizes scheduled rotations like requests.
	rp.sm = secretsmanager.New(st, rp.kms, secretsmanager.Options{Background: true, Functions: secretsmanager.FunctionsFromEnv(), Authz: checker, Audit: rp.Audit})
	rp.Registry = Registry(Deps{Store: st, Barrier: b, Authn: rp.Authn, IAM: iamSvc, KMS: rp.kms, SecretsManager: rp.sm, Dev: cfg.Dev,
		OrgAccounts: orgAccounts{store: st, barrier: b, iam: iamSvc}})
	rp.Handler = server.New(server.Config{
		Registry:        rp.Registry,
		Authn:           rp.Authn,
		Authz:           checker,
		KeyUsed:         iamSvc.KeyUsed,
		AccountOpen:     rp.guardrails.AccountOpen,
		Audit:           rp.Audit,
		Logger:          cfg.Logger,
		MaxBodyBytes:    cfg.MaxBodyBytes,
		AuditAsyncReads: cfg.AuditAsyncReads,
	})
	return rp, nil
}

// Serve answers on l until ctx ends, then shuts down gracefully: requests in
// flight finish (up to 10 s), then the audit trail and the store close.
func (rp *Rampart) Serve(ctx context.Context, l net.Listener) error {
	srv := &http.Server{
		Handler:           rp.Handler,
		ReadHeaderTimeout: 10 * time.Second,
		IdleTimeout:       120 * time.Second,
		ErrorLog:          slog.NewLogLogger(rp.log.Handler(), slog.LevelWarn),
	}
	errc := make(chan error, 1)
	go func() { errc <- srv.Serve(l) }()
	select {
	case err := <-errc:
		return err
	case <-ctx.Done():
	}
	shutdown, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	err := srv.Shutdown(shutdown)
	if err2 := <-errc; err2 != nil && !errors.Is(err2, http.ErrServerClosed) && err == nil {
		err = err2
	}
	return err
}

// initDev creates dev mode's installation in cfg.DataDir unless it exists:
// the key-file seal, and a first account of its own is not made (dev mode
// ensures DevAccount with the configured key on every start).
func initDev(ctx context.Context, cfg Config) error {
	if _, err := os.Stat(filepath.Join(cfg.DataDir, ConfigFile)); err == nil {
		return nil
	}
	if err := os.MkdirAll(cfg.DataDir, 0o700); err != nil {
		return fmt.Errorf("data directory: %w", err)
	}
	kf := barrier.KeyFile{Path: filepath.Join(cfg.DataDir, KeyFileName)}
	if err := kf.Create(); err != nil {
		return err
	}
	st, err := openStore(ctx, cfg.DataDir, cfg.StoreURL)
	if err != nil {
		return err
	}
	defer st.Close()
	root, err := barrier.NewRootKey()
	if err != nil {
		return err
	}
	wrapped, err := kf.Wrap(root)
	if err != nil {
		return err
	}
	if err := st.Update(ctx, func(tx store.Tx) error { return tx.Insert(tableInstall, keyRootKey, wrapped) }); err != nil {
		return fmt.Errorf("dev installation: %w", err)
	}
	return writeInstallation(cfg.DataDir, Installation{InstallationID: installationID(st), Store: storeName(cfg.StoreURL), Seal: kf.Name(), Account: DevAccount, CreatedAt: time.Now().UTC()})
}

// ServeTLS is Serve over TLS with the given certificate and key files.
func (rp *Rampart) ServeTLS(ctx context.Context, l net.Listener, certFile, keyFile string) error {
	cert, err := tls.LoadX509KeyPair(certFile, keyFile)
	if err != nil {
		return fmt.Errorf("TLS: %w", err)
	}
	return rp.Serve(ctx, tls.NewListener(l, &tls.Config{Certificates: []tls.Certificate{cert}, MinVersion: tls.VersionTLS12}))
}

// Close releases everything Open acquired.
func (rp *Rampart) Close() error {
	rp.Authn.Close()
	rp.guardrails.Close()
	rp.iam.Close()
	rp.sm.Close()  // stops rotations in flight, releases the background lease
	rp.kms.Close() // writes pending key-usage records, releases the sweep lease
	err := rp.Audit.Close()
	if err2 := rp.Store.Close(); err == nil {
		err = err2
	}
	return err
}

// kmsPrincipals tells KMS which principals a key policy may name
// (kms.Principals): rampart's accounts (authn's account table) and their
// IAM users and roles, looked up through IAM.
type kmsPrincipals struct {
	store store.Store
	iam   *iam.Service
}

func (p kmsPrincipals) AccountExists(ctx context.Context, account string) (bool, error) {
	err := p.store.View(ctx, func(tx store.Tx) error {
		_, err := tx.Get(authn.TableAccount, account)
		return err
	})
	if errors.Is(err, store.ErrNotFound) {
		return false, nil
	}
	return err == nil, err
}

func (p kmsPrincipals) RoleExists(ctx context.Context, roleARN string) (bool, error) {
	_, err := p.iam.Role(ctx, roleARN)
	if errors.Is(err, iam.ErrNoSuchRole) {
		return false, nil
	}
	return err == nil, err
}

func (p kmsPrincipals) UserExists(ctx context.Context, userARN string) (bool, error) {
	return p.iam.UserExists(ctx, userARN)
}
