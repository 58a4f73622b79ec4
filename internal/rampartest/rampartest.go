// Package rampartest starts an in-process rampart for tests and hands out
// AWS SDK for Go v2 configurations pointed at it. Every service test uses it:
//
//	srv := rampartest.Start(t)
//	client := sts.NewFromConfig(srv.Config())
package rampartest

import (
	"context"
	"log/slog"
	"net"
	"net/http"
	"os"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"

	"github.com/rampart/rampart/internal/app"
)

// Server is a running in-process rampart listening on a random loopback port.
type Server struct {
	URL     string // http://127.0.0.1:PORT
	DataDir string
	Account string
	// Root credentials of Account.
	AccessKey, SecretKey string
	*app.Rampart
}

// Start starts rampart over a fresh data directory; it stops when the test ends.
func Start(t testing.TB) *Server {
	t.Helper()
	return StartDir(t, t.TempDir())
}

// StartDir starts rampart over dir (which may hold an earlier run's state).
func StartDir(t testing.TB, dir string) *Server {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	logger := slog.New(slog.DiscardHandler)
	if os.Getenv("RAMPART_TEST_LOG") != "" {
		logger = slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelDebug}))
	}
	rp, err := app.Open(ctx, app.Config{DataDir: dir, Logger: logger, Dev: true, RootAccessKey: app.DevAccessKey, RootSecretKey: app.DevSecretKey})
	if err != nil {
		cancel()
		t.Fatalf("rampartest: open: %v", err)
	}
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		cancel()
		rp.Close()
		t.Fatalf("rampartest: listen: %v", err)
	}
	done := make(chan error, 1)
	go func() { done <- rp.Serve(ctx, l) }()
	t.Cleanup(func() {
		cancel()
		if err := <-done; err != nil && err != http.ErrServerClosed {
			t.Errorf("rampartest: serve: %v", err)
		}
		if err := rp.Close(); err != nil {
			t.Errorf("rampartest: close: %v", err)
		}
	})
	return &Server{
		URL: "http://" + l.Addr().String(), DataDir: dir, Account: app.DevAccount,
		AccessKey: app.DevAccessKey, SecretKey: app.DevSecretKey, Rampart: rp,
	}
}

// Config returns an AWS SDK configuration for the root user of the account.
func (s *Server) Config() aws.Config {
	return s.ConfigFor(s.AccessKey, s.SecretKey, "")
}

// ConfigFor returns an AWS SDK configuration signing with the given
// credentials (sessionToken may be empty). No AWS error is retried, so
// tests see every error as the server sent it (see [Retryer]).
func (s *Server) ConfigFor(accessKey, secretKey, sessionToken string) aws.Config {
	return aws.Config{
		Region:       "us-east-1",
		Credentials:  credentials.NewStaticCredentialsProvider(accessKey, secretKey, sessionToken),
		BaseEndpoint: aws.String(s.URL),
		Retryer:      Retryer,
		HTTPClient:   &http.Client{},
	}
}
