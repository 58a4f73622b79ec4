package server_test

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"net/http"
	"net/http/httptest"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	v4 "github.com/aws/aws-sdk-go-v2/aws/signer/v4"

	"github.com/rampart/rampart/internal/audit"
	"github.com/rampart/rampart/internal/rampartest"
	"github.com/rampart/rampart/internal/server"
	"github.com/rampart/rampart/internal/store"
)

// discardAudit is a store whose audit trail is a no-op, so that the
// benchmark below measures the request path without the fsync.
type discardAudit struct{ store.Store }

func (discardAudit) AppendAudit(context.Context, []store.AuditRow) error { return nil }

// BenchmarkServeHTTP: one signed sts:GetCallerIdentity through
// Server.ServeHTTP (route, SigV4, decode, authorize, handler, encode,
// audit record built and encoded), without the network and without the
// audit commit: the CPU and allocations rampart adds to a request.
func BenchmarkServeHTTP(b *testing.B) {
	srv := rampartest.Start(b)
	w := audit.NewWriter(discardAudit{srv.Store}, audit.Options{})
	defer w.Close()
	h := server.New(server.Config{Registry: srv.Registry, Authn: srv.Authn, Audit: w})
	body := []byte("Action=GetCallerIdentity&Version=2011-06-15")
	req, err := http.NewRequest(http.MethodPost, srv.URL+"/", bytes.NewReader(body))
	if err != nil {
		b.Fatal(err)
	}
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded; charset=utf-8")
	req.Header.Set("User-Agent", "aws-sdk-go-v2/1.36.3 os/linux lang/go#1.26 md/GOOS#linux md/GOARCH#amd64 api/sts#1.33.0")
	sum := sha256.Sum256(body)
	if err := v4.NewSigner().SignHTTP(context.Background(), aws.Credentials{AccessKeyID: srv.AccessKey, SecretAccessKey: srv.SecretKey},
		req, hex.EncodeToString(sum[:]), "sts", "us-east-1", time.Now()); err != nil {
		b.Fatal(err)
	}
	req.RemoteAddr = "127.0.0.1:40000"
	rd := bytes.NewReader(body)
	b.ReportAllocs()
	for b.Loop() {
		rd.Reset(body)
		req.Body = http.NoBody
		req.Body = readCloser{rd}
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, req)
		if rec.Code != 200 {
			b.Fatalf("status %d: %s", rec.Code, rec.Body)
		}
	}
}

type readCloser struct{ *bytes.Reader }

func (readCloser) Close() error { return nil }
