// Package app assembles a running rampart from its parts: store, barrier,
// authentication, services, audit and the HTTP server. cmd/rampart and the
// tests (internal/rampartest) both start rampart through it.
package app

import (
	"context"
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
	"github.com/rampart/rampart/internal/service/sts"
	"github.com/rampart/rampart/internal/store"
	"github.com/rampart/rampart/internal/store/sqlite"
)

// Dev-mode identity, as LocalStack users expect it.
const (
	DevAccount   = "000000000000"
	DevAccessKey = "test"
	DevSecretKey = "test"
)

// Config describes one rampart.
type Config struct {
	DataDir string // holds rampart.db and the barrier key
	Logger  *slog.Logger
	// RootAccessKey and RootSecretKey are the root credentials of the first
	// account (DevAccount), created with the data directory.
	RootAccessKey, RootSecretKey string
	Account                      string
	MaxBodyBytes                 int64
}

// Rampart is an assembled, running rampart (not yet listening).
type Rampart struct {
	Store    store.Store
	Barrier  *barrier.Barrier
	Authn    *authn.Authenticator
	Audit    *audit.Writer
	Registry *service.Registry
	Handler  *server.Server
	log      *slog.Logger
}

// Deps are what services are built from. Registration itself touches none
// of them, so Registry(Deps{}) lists the served operations (the README table).
type Deps struct {
	Store   store.Store
	Barrier *barrier.Barrier
	Authn   *authn.Authenticator
}

// Registry returns the registry of every served operation: one line per
// service.
func Registry(d Deps) *service.Registry {
	r := service.NewRegistry()
	sts.New().Register(r)
	return r
}

// Open assembles rampart over cfg.DataDir, creating what is missing.
func Open(ctx context.Context, cfg Config) (*Rampart, error) {
	if cfg.Logger == nil {
		cfg.Logger = slog.New(slog.DiscardHandler)
	}
	if cfg.Account == "" {
		cfg.Account = DevAccount
	}
	if err := os.MkdirAll(cfg.DataDir, 0o700); err != nil {
		return nil, fmt.Errorf("data directory: %w", err)
	}
	b, err := barrier.OpenKeyFile(filepath.Join(cfg.DataDir, "barrier.key"))
	if err != nil {
		return nil, err
	}
	st, err := sqlite.Open(filepath.Join(cfg.DataDir, "rampart.db"))
	if err != nil {
		return nil, err
	}
	if _, err := authn.EnsureAccount(ctx, st, b, authn.Account{ID: cfg.Account, Name: "rampart"}, cfg.RootAccessKey, cfg.RootSecretKey); err != nil {
		st.Close()
		return nil, fmt.Errorf("first account: %w", err)
	}
	rp := &Rampart{Store: st, Barrier: b, Authn: authn.New(st, b), log: cfg.Logger}
	rp.Registry = Registry(Deps{Store: st, Barrier: b, Authn: rp.Authn})
	// Up to 200 µs of commit delay lets concurrent requests share one fsync
	// of the audit trail (see BENCHMARKS in README.md).
	rp.Audit = audit.NewWriter(st, audit.Options{CommitDelay: 200 * time.Microsecond})
	rp.Handler = server.New(server.Config{
		Registry:     rp.Registry,
		Authn:        rp.Authn,
		Authz:        authz.RootOnly{},
		Audit:        rp.Audit,
		Logger:       cfg.Logger,
		MaxBodyBytes: cfg.MaxBodyBytes,
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

// Close releases everything Open acquired.
func (rp *Rampart) Close() error {
	rp.Authn.Close()
	err := rp.Audit.Close()
	if err2 := rp.Store.Close(); err == nil {
		err = err2
	}
	return err
}
