package server_test

import (
	"context"
	"errors"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"
	"time"

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

// TestAuditRecordOfAChangeIsDurableBeforeTheAnswer: a call that changed
// state (kms:CreateKey) is answered only after its record's commit
// returns; a call that only read (sts:GetCallerIdentity) is answered while
// its record's commit is still held up.
func TestAuditRecordOfAChangeIsDurableBeforeTheAnswer(t *testing.T) {
	srv := rampartest.Start(t)
	g := &gatedAudit{Store: srv.Store, gate: make(chan struct{}), batches: make(chan []string, 16)}
	w := audit.NewWriter(g, audit.Options{})
	h := server.New(server.Config{Registry: srv.Registry, Authn: srv.Authn, Audit: w})
	hs := httptest.NewServer(h)
	closed := false
	t.Cleanup(func() {
		if !closed {
			close(g.gate)
		}
		hs.Close()
		w.Close()
	})
	cfg := srv.Config()
	cfg.BaseEndpoint = stringPtr(hs.URL)
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
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
	close(g.gate)
	closed = true
	if err := <-done; err != nil {
		t.Fatalf("CreateKey: %v", err)
	}
}

func stringPtr(s string) *string { return &s }

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

// TestAuditGapRefusesCalls: once a commit of queued read records has
// failed, the trail has a gap; no handler runs after it (a CreateKey
// changes nothing and answers InternalFailure) and health says failing,
// even when the store has recovered.
func TestAuditGapRefusesCalls(t *testing.T) {
	srv := rampartest.Start(t)
	fa := &failingAudit{Store: srv.Store}
	w := audit.NewWriter(fa, audit.Options{})
	defer w.Close()
	hs := httptest.NewServer(server.New(server.Config{Registry: srv.Registry, Authn: srv.Authn, Audit: w}))
	defer hs.Close()
	cfg := srv.Config()
	cfg.BaseEndpoint = stringPtr(hs.URL)
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
