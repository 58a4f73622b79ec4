package server_test

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/kms"
	"github.com/aws/aws-sdk-go-v2/service/sts"
	"github.com/aws/smithy-go"

	"github.com/rampart/rampart/internal/audit"
	"github.com/rampart/rampart/internal/rampartest"
	"github.com/rampart/rampart/internal/server"
	"github.com/rampart/rampart/internal/store"
)

// gatedAudit is a store whose audit commits wait for the test's word and
// report what they carry.
type gatedAudit struct {
	store.Store
	gate    chan struct{} // one value lets one commit proceed; closed: all do
	batches chan []string // event names of each commit, as it starts
}

func (g *gatedAudit) AppendAudit(ctx context.Context, rows []store.AuditRow) error {
	var names []string
	for _, r := range rows {
		body := string(r.Body)
		i := strings.Index(body, `"eventName":"`)
		names = append(names, strings.SplitN(body[i+len(`"eventName":"`):], `"`, 2)[0])
	}
	g.batches <- names
	<-g.gate
	return g.Store.AppendAudit(ctx, rows)
}

// gatedServer serves srv's services through a server whose audit commits
// are held by a gatedAudit; the gate opens for good when the test ends.
func gatedServer(t *testing.T, srv *rampartest.Server, async bool) (*gatedAudit, aws.Config, func()) {
	t.Helper()
	g := &gatedAudit{Store: srv.Store, gate: make(chan struct{}), batches: make(chan []string, 16)}
	w := audit.NewWriter(g, audit.Options{})
	hs := httptest.NewServer(server.New(server.Config{Registry: srv.Registry, Authn: srv.Authn, Audit: w, AuditAsyncReads: async}))
	var once sync.Once
	open := func() { once.Do(func() { close(g.gate) }) }
	t.Cleanup(func() {
		open()
		hs.Close()
		w.Close()
	})
	cfg := srv.Config()
	cfg.BaseEndpoint = stringPtr(hs.URL)
	return g, cfg, open
}

// TestAuditRecordIsDurableBeforeTheAnswer: by default every call, a read
// (sts:GetCallerIdentity) as much as a change, is answered only after its
// record's commit returns.
func TestAuditRecordIsDurableBeforeTheAnswer(t *testing.T) {
	srv := rampartest.Start(t)
	g, cfg, open := gatedServer(t, srv, false)
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second) // a hang guard
	defer cancel()

	for _, tc := range []struct {
		name string
		call func() error
	}{
		{"GetCallerIdentity", func() error {
			_, err := sts.NewFromConfig(cfg).GetCallerIdentity(ctx, &sts.GetCallerIdentityInput{})
			return err
		}},
		{"GetCallerIdentity", func() error { // refused: its record is waited for too
			bad := cfg
			bad.Credentials = credentials.NewStaticCredentialsProvider(srv.AccessKey, "wrong", "")
			_, err := sts.NewFromConfig(bad).GetCallerIdentity(ctx, &sts.GetCallerIdentityInput{})
			var ae smithy.APIError
			if errors.As(err, &ae) && ae.ErrorCode() == "SignatureDoesNotMatch" {
				return nil
			}
			return fmt.Errorf("want SignatureDoesNotMatch, got %v", err)
		}},
		{"CreateKey", func() error {
			_, err := kms.NewFromConfig(cfg).CreateKey(ctx, &kms.CreateKeyInput{})
			return err
		}},
	} {
		done := make(chan error, 1)
		go func() { done <- tc.call() }()
		if got := <-g.batches; len(got) != 1 || got[0] != tc.name {
			t.Fatalf("commit carries %v, want [%s]", got, tc.name)
		}
		select {
		case err := <-done:
			t.Fatalf("%s answered while its audit record's commit is held (err %v)", tc.name, err)
		default:
		}
		g.gate <- struct{}{} // this commit completes
		if err := <-done; err != nil {
			t.Fatalf("%s: %v", tc.name, err)
		}
	}
	open()
	if _, err := sts.NewFromConfig(cfg).GetCallerIdentity(ctx, &sts.GetCallerIdentityInput{}); err != nil {
		t.Fatal(err)
	}
}

// TestAuditAsyncReads: with Config.AuditAsyncReads, a call that changed
// state (kms:CreateKey) is still answered only after its record's commit
// returns, but a call that only read (sts:GetCallerIdentity) is answered
// while its record's commit is held up.
func TestAuditAsyncReads(t *testing.T) {
	srv := rampartest.Start(t)
	g, cfg, open := gatedServer(t, srv, true)
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second) // a hang guard
	defer cancel()

	// A read is answered although its record's commit is held.
	if _, err := sts.NewFromConfig(cfg).GetCallerIdentity(ctx, &sts.GetCallerIdentityInput{}); err != nil {
		t.Fatalf("GetCallerIdentity while the audit commit is held: %v", err)
	}
	if got := <-g.batches; len(got) != 1 || got[0] != "GetCallerIdentity" {
		t.Fatalf("first commit carries %v", got)
	}

	// A change is not answered until its record's commit returns.
	done := make(chan error, 1)
	go func() {
		_, err := kms.NewFromConfig(cfg).CreateKey(ctx, &kms.CreateKeyInput{})
		done <- err
	}()
	g.gate <- struct{}{} // GetCallerIdentity's commit completes
	if got := <-g.batches; len(got) != 1 || got[0] != "CreateKey" {
		t.Fatalf("second commit carries %v", got)
	}
	select {
	case err := <-done:
		t.Fatalf("CreateKey answered while its audit record's commit is held (err %v)", err)
	default:
	}
	open()
	if err := <-done; err != nil {
		t.Fatalf("CreateKey: %v", err)
	}
}

func stringPtr(s string) *string { return &s }

// failingServer serves srv's registry through an audit Writer whose
// commits fail while fa.fail is set; cfg signs for it as srv's root user.
func failingServer(t *testing.T, asyncReads bool) (srv *rampartest.Server, fa *failingAudit, w *audit.Writer, hs *httptest.Server, cfg aws.Config) {
	t.Helper()
	srv = rampartest.Start(t)
	fa = &failingAudit{Store: srv.Store}
	w = audit.NewWriter(fa, audit.Options{})
	t.Cleanup(func() { w.Close() })
	hs = httptest.NewServer(server.New(server.Config{Registry: srv.Registry, Authn: srv.Authn, Audit: w, AuditAsyncReads: asyncReads}))
	t.Cleanup(hs.Close)
	cfg = srv.Config()
	cfg.BaseEndpoint = stringPtr(hs.URL)
	return srv, fa, w, hs, cfg
}

// failingAudit is a store whose audit commits fail while fail is set.
type failingAudit struct {
	store.Store
	fail atomic.Bool
}

func (f *failingAudit) AppendAudit(ctx context.Context, rows []store.AuditRow) error {
	if f.fail.Load() {
		return errors.New("disk full")
	}
	return f.Store.AppendAudit(ctx, rows)
}

// TestAuditGapRefusesCalls: with Config.AuditAsyncReads, once a commit of
// queued read records has failed, the trail has a gap; no handler runs
// after it (a CreateKey changes nothing and answers InternalFailure) and
// health says failing, even when the store has recovered.
func TestAuditGapRefusesCalls(t *testing.T) {
	srv, fa, w, hs, cfg := failingServer(t, true)
	ctx := context.Background()

	fa.fail.Store(true)
	if _, err := sts.NewFromConfig(cfg).GetCallerIdentity(ctx, &sts.GetCallerIdentityInput{}); err != nil {
		t.Fatalf("GetCallerIdentity (its record is queued): %v", err)
	}
	if err := w.Flush(ctx); err == nil {
		t.Fatal("Flush after the failed commit: nil error")
	}
	fa.fail.Store(false) // the store recovers; the gap stays

	_, err := kms.NewFromConfig(cfg).CreateKey(ctx, &kms.CreateKeyInput{})
	var ae smithy.APIError
	if !errors.As(err, &ae) || ae.ErrorCode() != "InternalFailure" {
		t.Fatalf("CreateKey after the gap: %v, want InternalFailure", err)
	}
	resp, err := http.Get(hs.URL + server.PathHealth)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusServiceUnavailable {
		t.Fatalf("health: %d, want 503", resp.StatusCode)
	}
	// Through a healthy front end: the refused CreateKey made no key.
	ok := httptest.NewServer(server.New(server.Config{Registry: srv.Registry, Authn: srv.Authn}))
	defer ok.Close()
	cfg.BaseEndpoint = stringPtr(ok.URL)
	keys, err := kms.NewFromConfig(cfg).ListKeys(ctx, &kms.ListKeysInput{})
	if err != nil {
		t.Fatal(err)
	}
	if len(keys.Keys) != 0 {
		t.Fatalf("%d keys after a refused CreateKey", len(keys.Keys))
	}
}

// TestAuditFailureWithoutAsyncReads: by default a failed commit fails the
// calls that waited on it (InternalFailure: the answer never claims a call
// whose record is not stored) and leaves no gap: once the store recovers,
// calls are served and health is ok.
func TestAuditFailureWithoutAsyncReads(t *testing.T) {
	_, fa, w, hs, cfg := failingServer(t, false)
	ctx := context.Background()

	fa.fail.Store(true)
	_, err := sts.NewFromConfig(cfg).GetCallerIdentity(ctx, &sts.GetCallerIdentityInput{})
	if got := apiErrorCode(t, err); got != "InternalFailure" {
		t.Fatalf("GetCallerIdentity whose record cannot be stored: %s, want InternalFailure", got)
	}
	if w.Err() != nil {
		t.Fatalf("the writer reports a gap: %v", w.Err())
	}
	fa.fail.Store(false)
	if _, err := sts.NewFromConfig(cfg).GetCallerIdentity(ctx, &sts.GetCallerIdentityInput{}); err != nil {
		t.Fatalf("GetCallerIdentity once the store recovered: %v", err)
	}
	resp, err := http.Get(hs.URL + server.PathHealth)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("health: %d, want 200", resp.StatusCode)
	}
}

// TestAuditFailureOfAChangeRefusesCalls: a change whose record cannot be
// stored has taken effect unrecorded (its transaction committed): it is
// answered InternalFailure, and the trail has a gap, so every later call
// is refused before its handler runs and health says failing, even once
// the store has recovered.
func TestAuditFailureOfAChangeRefusesCalls(t *testing.T) {
	_, fa, w, hs, cfg := failingServer(t, false)
	ctx := context.Background()

	fa.fail.Store(true)
	_, err := kms.NewFromConfig(cfg).CreateKey(ctx, &kms.CreateKeyInput{})
	if got := apiErrorCode(t, err); got != "InternalFailure" {
		t.Fatalf("CreateKey whose record cannot be stored: %s, want InternalFailure", got)
	}
	if w.Err() == nil {
		t.Fatal("the writer reports no gap after a change's record failed")
	}
	fa.fail.Store(false)
	_, err = sts.NewFromConfig(cfg).GetCallerIdentity(ctx, &sts.GetCallerIdentityInput{})
	if got := apiErrorCode(t, err); got != "InternalFailure" {
		t.Fatalf("GetCallerIdentity after the gap: %s, want InternalFailure", got)
	}
	resp, err := http.Get(hs.URL + server.PathHealth)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusServiceUnavailable {
		t.Fatalf("health: %d, want 503", resp.StatusCode)
	}
}
