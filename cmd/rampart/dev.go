package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"log/slog"
	"net"
	"os"
	"os/signal"
	"runtime/pprof"
	"syscall"

	"github.com/rampart/rampart/internal/app"
)

func runDev(args []string) error {
	fs := flag.NewFlagSet("dev", flag.ContinueOnError)
	addr := fs.String("addr", "127.0.0.1:4566", "address to listen on")
	data := fs.String("data", "./rampart-data", "data directory")
	ephemeral := fs.Bool("ephemeral", false, "keep state in a temporary directory, removed on exit")
	logLevel := fs.String("log-level", "info", "log level: debug, info, warn, error")
	accessKey := fs.String("root-access-key", envOr("RAMPART_ROOT_ACCESS_KEY_ID", app.DevAccessKey), "root access key id of account 000000000000 (env RAMPART_ROOT_ACCESS_KEY_ID)")
	secretKey := fs.String("root-secret-key", envOr("RAMPART_ROOT_SECRET_ACCESS_KEY", app.DevSecretKey), "root secret access key (env RAMPART_ROOT_SECRET_ACCESS_KEY)")
	auditAsync := auditAsyncReadsFlag(fs)
	if err := fs.Parse(args); err != nil {
		return err
	}
	var level slog.Level
	if err := level.UnmarshalText([]byte(*logLevel)); err != nil {
		return fmt.Errorf("--log-level: %w", err)
	}
	logger := slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: level}))

	wellKnown := *accessKey == app.DevAccessKey && *secretKey == app.DevSecretKey
	if wellKnown && !isLoopback(*addr) {
		return fmt.Errorf("refusing to listen on %s with the well-known root key test/test: anyone who can reach it would be root.\n"+
			"Listen on 127.0.0.1, or choose other root credentials with --root-access-key/--root-secret-key "+
			"(or RAMPART_ROOT_ACCESS_KEY_ID/RAMPART_ROOT_SECRET_ACCESS_KEY)", *addr)
	}
	dir := *data
	if *ephemeral {
		tmp, err := os.MkdirTemp("", "rampart-dev-")
		if err != nil {
			return err
		}
		defer os.RemoveAll(tmp)
		dir = tmp
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	if path := os.Getenv("RAMPART_CPUPROFILE"); path != "" {
		// For performance work: a CPU profile of the whole run, written at exit.
		f, err := os.Create(path)
		if err != nil {
			return err
		}
		if err := pprof.StartCPUProfile(f); err != nil {
			return err
		}
		defer f.Close()
		defer pprof.StopCPUProfile()
	}
	rp, err := app.Open(ctx, app.Config{DataDir: dir, Logger: logger, Dev: true, RootAccessKey: *accessKey, RootSecretKey: *secretKey,
		AuditAsyncReads: *auditAsync})
	if err != nil {
		return err
	}
	defer rp.Close()
	l, err := net.Listen("tcp", *addr)
	if err != nil {
		return err
	}
	endpoint := "http://" + l.Addr().String()
	secretShown := *secretKey
	if !wellKnown {
		secretShown = "<your root secret>"
	}
	fmt.Fprintf(os.Stderr, `rampart %s (dev mode) on %s, data in %s
account %s; root access key %s

  export AWS_ENDPOINT_URL=%s AWS_ACCESS_KEY_ID=%s AWS_SECRET_ACCESS_KEY=%s AWS_REGION=us-east-1 AWS_DEFAULT_REGION=us-east-1
  aws sts get-caller-identity

`, version, endpoint, dir, app.DevAccount, *accessKey, endpoint, *accessKey, secretShown)
	logger.Info("listening", "addr", l.Addr().String(), "data", dir)
	err = rp.Serve(ctx, l)
	logger.Info("stopped")
	if errors.Is(err, context.Canceled) {
		err = nil
	}
	return err
}

// auditAsyncReadsFlag registers --audit-async-reads (dev and server).
func auditAsyncReadsFlag(fs *flag.FlagSet) *bool {
	return fs.Bool("audit-async-reads", false,
		"answer calls that changed no stored state (reads, GetSecretValue and Decrypt included, STS credentials, refusals, authentication failures) before their audit records are durable: "+
			"less latency under load, but a crash may lose the records of such calls answered in the last millisecond or so "+
			"(the record of a change is always durable before its answer)")
}

func envOr(name, def string) string {
	if v := os.Getenv(name); v != "" {
		return v
	}
	return def
}

// isLoopback reports whether addr listens on loopback only.
func isLoopback(addr string) bool {
	host, _, err := net.SplitHostPort(addr)
	if err != nil {
		return false
	}
	if host == "localhost" {
		return true
	}
	ip := net.ParseIP(host)
	return ip != nil && ip.IsLoopback()
}
