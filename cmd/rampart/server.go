package main

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"log/slog"
	"net"
	"os"
	"os/signal"
	"strconv"
	"strings"
	"syscall"

	"golang.org/x/term"

	"github.com/rampart/rampart/internal/app"
	"github.com/rampart/rampart/internal/barrier"
)

// runInit serves `rampart init`: a new installation, its first account's
// root credentials shown once.
func runInit(args []string) error {
	fs := flag.NewFlagSet("init", flag.ContinueOnError)
	data := fs.String("data", "", "data directory to create (required)")
	storeURL := fs.String("store", os.Getenv("RAMPART_STORE"), "postgres://… URL; default SQLite in the data directory (env RAMPART_STORE)")
	seal := fs.String("seal", "keyfile", "what protects the root key: keyfile (seal.key in the data directory), passphrase (env RAMPART_PASSPHRASE, or asked) or pkcs11 (a key in a PKCS#11 token; its PIN in env RAMPART_PKCS11_PIN, or asked)")
	p11Module := fs.String("pkcs11-module", os.Getenv(app.PKCS11ModuleEnv), "pkcs11 seal: the token's PKCS#11 library, e.g. /usr/lib/softhsm/libsofthsm2.so (env RAMPART_PKCS11_MODULE)")
	p11Token := fs.String("pkcs11-token", "", "pkcs11 seal: the token's label")
	p11Slot := fs.String("pkcs11-slot", "", "pkcs11 seal: the token's slot number (instead of, or as well as, its label)")
	p11Key := fs.String("pkcs11-key-label", barrier.DefaultPKCS11KeyLabel, "pkcs11 seal: the label of the AES key in the token (created unless there)")
	output := fs.String("output", "text", "text or json")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if *data == "" {
		return errors.New("init: --data DIR is required")
	}
	cfg := app.InitConfig{DataDir: *data, StoreURL: *storeURL, Seal: *seal}
	switch *seal {
	case "passphrase":
		p, err := readPassphrase(true)
		if err != nil {
			return err
		}
		cfg.Passphrase = p
	case "pkcs11":
		if *p11Module == "" || (*p11Token == "" && *p11Slot == "") {
			return errors.New("init: the pkcs11 seal needs --pkcs11-module PATH and --pkcs11-token LABEL (or --pkcs11-slot N)")
		}
		cfg.PKCS11 = barrier.PKCS11Config{Module: *p11Module, Token: *p11Token, KeyLabel: *p11Key}
		if *p11Slot != "" {
			n, err := strconv.ParseUint(*p11Slot, 10, 0)
			if err != nil {
				return fmt.Errorf("--pkcs11-slot: want a slot number, got %q", *p11Slot)
			}
			slot := uint(n)
			cfg.PKCS11.Slot = &slot
		}
		pin, err := readSecret(app.PKCS11PINEnv, "pkcs11", "PKCS#11 user PIN", false)
		if err != nil {
			return err
		}
		cfg.PKCS11.PIN = pin
	}
	creds, err := app.Init(context.Background(), cfg)
	if err != nil {
		return err
	}
	if *output == "json" {
		return json.NewEncoder(os.Stdout).Encode(creds)
	}
	fmt.Printf(`rampart is installed in %s.

Account %s; its root user's credentials, shown this once:

  AWS_ACCESS_KEY_ID=%s
  AWS_SECRET_ACCESS_KEY=%s

Start it with: %srampart server --data %s
`, *data, creds.AccountID, creds.AccessKeyID, creds.SecretAccessKey, startEnv(*seal), *data)
	return nil
}

// runServer serves `rampart server`: production mode over an installation.
func runServer(args []string) error {
	fs := flag.NewFlagSet("server", flag.ContinueOnError)
	data := fs.String("data", "", "data directory made by rampart init (required)")
	storeURL := fs.String("store", os.Getenv("RAMPART_STORE"), "postgres://… URL of the installation's store (env RAMPART_STORE)")
	addr := fs.String("addr", "", "address to listen on (default: the installation's, else 127.0.0.1:4566)")
	tlsCert := fs.String("tls-cert", "", "TLS certificate file (PEM)")
	tlsKey := fs.String("tls-key", "", "TLS private key file (PEM)")
	logLevel := fs.String("log-level", "info", "log level: debug, info, warn, error")
	auditAsync := auditAsyncReadsFlag(fs)
	if err := fs.Parse(args); err != nil {
		return err
	}
	if *data == "" {
		return errors.New("server: --data DIR is required")
	}
	if (*tlsCert == "") != (*tlsKey == "") {
		return errors.New("server: give both --tls-cert and --tls-key, or neither")
	}
	var level slog.Level
	if err := level.UnmarshalText([]byte(*logLevel)); err != nil {
		return fmt.Errorf("--log-level: %w", err)
	}
	logger := slog.New(slog.NewJSONHandler(os.Stderr, &slog.HandlerOptions{Level: level}))
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	rp, err := app.Open(ctx, app.Config{DataDir: *data, StoreURL: *storeURL, Logger: logger, AuditAsyncReads: *auditAsync,
		Passphrase: func() ([]byte, error) { return readPassphrase(false) }})
	if err != nil {
		return err
	}
	defer rp.Close()
	listen := *addr
	if listen == "" {
		listen = rp.Installation.Addr
	}
	if listen == "" {
		listen = "127.0.0.1:4566"
	}
	l, err := net.Listen("tcp", listen)
	if err != nil {
		return err
	}
	scheme := "http"
	if *tlsCert != "" {
		scheme = "https"
	}
	logger.Info("listening", "endpoint", scheme+"://"+l.Addr().String(), "installation", rp.Installation.InstallationID, "store", rp.Installation.Store)
	fmt.Fprintf(os.Stderr, "rampart %s serving on %s://%s\n", version, scheme, l.Addr())
	if *tlsCert != "" {
		err = rp.ServeTLS(ctx, l, *tlsCert, *tlsKey)
	} else {
		err = rp.Serve(ctx, l)
	}
	if errors.Is(err, context.Canceled) {
		err = nil
	}
	return err
}

// startEnv is what the command that starts the server needs before it,
// by seal.
func startEnv(seal string) string {
	switch seal {
	case "passphrase":
		return "RAMPART_PASSPHRASE=… "
	case "pkcs11":
		return app.PKCS11PINEnv + "=… "
	}
	return ""
}

// readPassphrase takes the passphrase from RAMPART_PASSPHRASE, else asks for
// it on the terminal (twice when confirm).
func readPassphrase(confirm bool) ([]byte, error) {
	return readSecret("RAMPART_PASSPHRASE", "passphrase", "passphrase", confirm)
}

// readSecret takes seal's secret from the environment variable env, else
// asks for it (what) on the terminal, twice when confirm.
func readSecret(env, seal, what string, confirm bool) ([]byte, error) {
	if p := os.Getenv(env); p != "" {
		return []byte(p), nil
	}
	fd := int(os.Stdin.Fd())
	if !term.IsTerminal(fd) {
		return nil, fmt.Errorf("the %s seal needs %s or a terminal to ask on", seal, env)
	}
	fmt.Fprint(os.Stderr, strings.ToUpper(what[:1])+what[1:]+": ")
	p, err := term.ReadPassword(fd)
	fmt.Fprintln(os.Stderr)
	if err != nil {
		return nil, err
	}
	if confirm {
		fmt.Fprint(os.Stderr, "Again: ")
		q, err := term.ReadPassword(fd)
		fmt.Fprintln(os.Stderr)
		if err != nil {
			return nil, err
		}
		if string(p) != string(q) {
			return nil, fmt.Errorf("the %ss differ", what)
		}
	}
	return []byte(strings.TrimRight(string(p), "\r\n")), nil
}
