package server_test

import (
	"bytes"
	"context"
	"errors"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/service/sts"
	"github.com/aws/smithy-go"
	smithyhttp "github.com/aws/smithy-go/transport/http"

	stsapi "github.com/rampart/rampart/internal/api/sts"
	"github.com/rampart/rampart/internal/audit"
	"github.com/rampart/rampart/internal/rampartest"
	"github.com/rampart/rampart/internal/server"
	"github.com/rampart/rampart/internal/service"
	"github.com/rampart/rampart/internal/store"
)

// syncBuffer is a log destination written by the server's goroutines.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

// TestHandlerPanicLogsNoRequestData: a handler that panics answers
// InternalFailure (HTTP 500) and the server keeps serving; the log names
// the operation and where it panicked, a runtime error in the runtime's
// words, and never a panic value built from the request, which may hold a
// secret.
func TestHandlerPanicLogsNoRequestData(t *testing.T) {
	const secret = "wJalrXUtnFEMI/K7MDENG/bPxRfiCYSECRET"
	srv := rampartest.Start(t)
	var (
		logs  syncBuffer
		calls int
	)
	reg := service.NewRegistry()
	service.Handle(reg, stsapi.OpGetCallerIdentity, func(ctx context.Context, in *stsapi.GetCallerIdentityRequest) (*stsapi.GetCallerIdentityResponse, error) {
		calls++
		switch calls {
		case 1:
			panic("rotation failed for password " + secret)
		case 2:
			panic(errors.New("cannot open " + secret))
		case 3:
			var m map[string]int
			m["x"]++ // fine: a nil map read… and then a write panics
		}
		return &stsapi.GetCallerIdentityResponse{}, nil
	}, service.Rule[stsapi.GetCallerIdentityRequest]{Action: "sts:GetCallerIdentity", NoPermission: true})
	// A panic outside the handler: in the rule's Context step.
	service.Handle(reg, stsapi.OpGetSessionToken, func(ctx context.Context, in *stsapi.GetSessionTokenRequest) (*stsapi.GetSessionTokenResponse, error) {
		t.Error("the handler ran after its rule panicked")
		return &stsapi.GetSessionTokenResponse{}, nil
	}, service.Rule[stsapi.GetSessionTokenRequest]{Action: "sts:GetSessionToken", Context: func(c *service.Call, in *stsapi.GetSessionTokenRequest, keys map[string][]string) {
		panic(errors.New("bad context value " + secret))
	}})
	w := audit.NewWriter(srv.Store, audit.Options{})
	h := server.New(server.Config{Registry: reg, Authn: srv.Authn, Audit: w, Logger: slog.New(slog.NewTextHandler(&logs, nil))})
	hs := httptest.NewServer(h)
	t.Cleanup(func() { hs.Close(); w.Close() })
	cfg := srv.Config()
	cfg.BaseEndpoint = stringPtr(hs.URL)
	client := sts.NewFromConfig(cfg, func(o *sts.Options) { o.RetryMaxAttempts = 1 })
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()

	for i := range 3 {
		_, err := client.GetCallerIdentity(ctx, &sts.GetCallerIdentityInput{})
		var ae smithy.APIError
		if !errors.As(err, &ae) || ae.ErrorCode() != "InternalFailure" {
			t.Fatalf("panic %d: %v, want InternalFailure", i+1, err)
		}
		var re *smithyhttp.ResponseError
		if !errors.As(err, &re) || re.HTTPStatusCode() != http.StatusInternalServerError {
			t.Fatalf("panic %d: %v, want HTTP 500", i+1, err)
		}
		if strings.Contains(err.Error(), secret) {
			t.Fatalf("panic %d: the answer holds the panic value: %v", i+1, err)
		}
	}
	_, err := client.GetSessionToken(ctx, &sts.GetSessionTokenInput{})
	var ae smithy.APIError
	if !errors.As(err, &ae) || ae.ErrorCode() != "InternalFailure" || strings.Contains(err.Error(), secret) {
		t.Fatalf("panic in the rule's Context step: %v, want InternalFailure", err)
	}
	if _, err := client.GetCallerIdentity(ctx, &sts.GetCallerIdentityInput{}); err != nil {
		t.Fatalf("after the panics: %v", err)
	}
	// Every call, the panicked ones too, has its audit record, without the secret.
	rows, err := srv.Store.QueryAudit(ctx, store.AuditQuery{})
	if err != nil {
		t.Fatal(err)
	}
	var failed int
	for _, r := range rows {
		if strings.Contains(string(r.Body), secret) {
			t.Fatalf("an audit record holds the panic value: %s", r.Body)
		}
		if strings.Contains(string(r.Body), `"errorCode":"InternalFailure"`) {
			failed++
		}
	}
	if failed != 4 {
		t.Fatalf("%d audit records of failed calls, want 4 (three handler panics, one rule panic)", failed)
	}
	got := logs.String()
	if strings.Contains(got, secret) {
		t.Fatalf("the log holds the panic value's secret:\n%s", got)
	}
	for _, want := range []string{
		"a value of type string",
		"a value of type *errors.errorString",
		"assignment to entry in nil map",
		"panic_test.go:",
		"a value of type *errors.errorString",
		"operation=GetCallerIdentity",
	} {
		if !strings.Contains(got, want) {
			t.Errorf("the log lacks %q:\n%s", want, got)
		}
	}
}
