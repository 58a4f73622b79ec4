package server_test

import (
	"context"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/service/kms"
	"github.com/aws/aws-sdk-go-v2/service/sts"

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
