package secretsmanager_test

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"net/http/httptest"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	sm "github.com/aws/aws-sdk-go-v2/service/secretsmanager"
	smtypes "github.com/aws/aws-sdk-go-v2/service/secretsmanager/types"
	"github.com/jackc/pgx/v5"

	"github.com/rampart/rampart/internal/audit"
	"github.com/rampart/rampart/internal/authn"
	"github.com/rampart/rampart/internal/authz"
	"github.com/rampart/rampart/internal/barrier"
	"github.com/rampart/rampart/internal/policy"
	"github.com/rampart/rampart/internal/server"
	"github.com/rampart/rampart/internal/service"
	"github.com/rampart/rampart/internal/service/secretsmanager"
	"github.com/rampart/rampart/internal/store/postgres"
)

const (
	tok4 = "44444444-4444-4444-8444-444444444444"
	tok5 = "55555555-5555-4555-8555-555555555555"
)

// twoNodes starts two rampart nodes, each with its own PostgreSQL store
// (two connections pools, two node ids), over one fresh schema of the
// test machine's PostgreSQL, sharing the barrier and KMS as nodes of one
// installation do. It skips without PostgreSQL, and fails under CI.
func twoNodes(t *testing.T) (a, b *env) {
	t.Helper()
	conn := pgAdmin(t) // builtin_test.go
	ctx := context.Background()
	var r [6]byte
	rand.Read(r[:])
	schema := "rampart_sm_" + hex.EncodeToString(r[:])
	if _, err := conn.Exec(ctx, "CREATE SCHEMA "+pgx.Identifier{schema}.Sanitize()); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if _, err := conn.Exec(context.Background(), "DROP SCHEMA "+pgx.Identifier{schema}.Sanitize()+" CASCADE"); err != nil {
			t.Errorf("drop schema %s: %v", schema, err)
		}
	})
	url := "postgres://postgres@127.0.0.1:5432/test?sslmode=disable&search_path=" + schema
	bar, err := barrier.OpenKeyFile(filepath.Join(t.TempDir(), "barrier.key"))
	if err != nil {
		t.Fatal(err)
	}
	keys := newFakeKeys()
	node := func() *env {
		octx, cancel := context.WithTimeout(ctx, 30*time.Second)
		defer cancel()
		st, err := postgres.Open(octx, url)
		if err != nil {
			t.Fatal(err)
		}
		e := &env{t: t, Store: st, Barrier: bar, Keys: keys, identity: map[string][]*policy.Policy{}}
		e.Audit = audit.NewWriter(st, audit.Options{})
		e.Svc = secretsmanager.New(st, keys, secretsmanager.Options{Now: e.clock, Audit: e.Audit})
		reg := service.NewRegistry()
		e.Svc.Register(reg)
		an := authn.New(st, bar)
		ts := httptest.NewServer(server.New(server.Config{Registry: reg, Authn: an, Authz: authz.New(e, nil), Audit: e.Audit, Now: e.clock}))
		e.URL = ts.URL
		t.Cleanup(func() {
			ts.Close()
			e.Svc.Close()
			an.Close()
			e.Audit.Close()
			st.Close()
		})
		return e
	}
	a = node()
	if _, err := authn.EnsureAccount(ctx, a.Store, bar, authn.Account{ID: account, Name: account}, "test", "test"); err != nil {
		t.Fatal(err)
	}
	b = node()
	return a, b
}

// heldFunction is a rotation function whose createSecret step waits until
// release is closed (or its context ends), then fails: a node that stopped
// in the middle of a rotation and comes back late.
type heldFunction struct {
	entered chan string // the token of each createSecret step begun
	release chan struct{}
}

func (f *heldFunction) Rotate(ctx context.Context, _ *service.Call, ev secretsmanager.RotationEvent) error {
	if ev.Step != "createSecret" {
		return nil
	}
	f.entered <- ev.ClientRequestToken
	select {
	case <-f.release:
	case <-ctx.Done():
	}
	return context.Canceled
}

// A rotation's claim on its secret is stored with the secret, so that it
// holds across the nodes sharing a PostgreSQL store: while node A's
// rotation is held in its createSecret step, node B refuses RotateSecret
// with AWS's InvalidRequestException (whether it would rotate now or only
// test the configuration) and its scheduled run skips the secret, though
// it is due; once A's rotation has finished, B's RotateSecret rotates.
// A claim older than its bound, left by a node taken for dead, does not
// block: B rotates, and A's late outcome leaves the secret as B's
// rotation left it.
func TestRotationClaimAcrossNodes(t *testing.T) {
	a, b := twoNodes(t)
	ctx := context.Background()
	ca, cb := a.root(), b.root()
	db := &fakeDB{password: "initial", gate: make(chan struct{})}
	fn := httptest.NewServer(db.handler(t, ca))
	defer fn.Close()
	defer func() {
		select {
		case <-db.gate:
		default:
			close(db.gate)
		}
	}()
	a.Svc.RegisterFunction(fnARN, &secretsmanager.HTTPFunction{URL: fn.URL})
	b.Svc.RegisterFunction(fnARN, &secretsmanager.HTTPFunction{URL: fn.URL})

	must[*sm.CreateSecretOutput](t)(ca.CreateSecret(ctx, &sm.CreateSecretInput{Name: aws.String("db"), SecretString: aws.String("initial"), ClientRequestToken: aws.String(tok1)}))
	must[*sm.RotateSecretOutput](t)(ca.RotateSecret(ctx, &sm.RotateSecretInput{SecretId: aws.String("db"), RotationLambdaARN: aws.String(fnARN), ClientRequestToken: aws.String(tok2),
		RotationRules: &smtypes.RotationRulesType{ScheduleExpression: aws.String("rate(4 hours)")}}))
	waitFor(t, "A's createSecret step", func() bool { return len(db.stepsSoFar()) == 1 })

	_, err := cb.RotateSecret(ctx, &sm.RotateSecretInput{SecretId: aws.String("db"), ClientRequestToken: aws.String(tok3)})
	wantErr(t, err, "InvalidRequestException", 400, "A previous rotation isn't complete. That rotation will be reattempted.")
	_, err = cb.RotateSecret(ctx, &sm.RotateSecretInput{SecretId: aws.String("db"), ClientRequestToken: aws.String(tok3), RotateImmediately: aws.Bool(false)})
	wantErr(t, err, "InvalidRequestException", 400, "A previous rotation isn't complete. That rotation will be reattempted.")
	// In the next window the secret is due; B, leading the scheduled
	// work, does not start a second rotation.
	next := must[*sm.DescribeSecretOutput](t)(cb.DescribeSecret(ctx, &sm.DescribeSecretInput{SecretId: aws.String("db")})).NextRotationDate
	if next == nil {
		t.Fatal("no NextRotationDate")
	}
	if n, err := b.Svc.RotateDue(ctx, next.Add(-time.Minute)); err != nil || n != 0 {
		t.Fatalf("B's RotateDue during A's rotation = %d, %v; want none started", n, err)
	}
	if steps := db.stepsSoFar(); len(steps) != 1 {
		t.Fatalf("steps during A's rotation: %v", steps)
	}

	close(db.gate)
	waitRotated(t, cb, "db", tok2)
	must[*sm.RotateSecretOutput](t)(cb.RotateSecret(ctx, &sm.RotateSecretInput{SecretId: aws.String("db"), ClientRequestToken: aws.String(tok3)}))
	waitRotated(t, cb, "db", tok3)
	d := must[*sm.DescribeSecretOutput](t)(ca.DescribeSecret(ctx, &sm.DescribeSecretInput{SecretId: aws.String("db")}))
	if !slices.Equal(d.VersionIdsToStages[tok2], []string{"AWSPREVIOUS"}) || !slices.Equal(d.VersionIdsToStages[tok3], []string{"AWSCURRENT"}) {
		t.Fatalf("after both rotations: %v", d.VersionIdsToStages)
	}
	if v := value(t, ca, "db"); v != db.password {
		t.Fatalf("AWSCURRENT %q, the database has %q", v, db.password)
	}

	t.Run("abandoned", func(t *testing.T) {
		const held = "arn:aws:lambda:us-east-1:000000000000:function:held"
		hf := &heldFunction{entered: make(chan string, 4), release: make(chan struct{})}
		defer close(hf.release)
		a.Svc.RegisterFunction(held, hf)
		skb := b.skewed() // follows B's clock once it moves
		db2 := &fakeDB{password: "initial"}
		fn2 := httptest.NewServer(db2.handler(t, skb))
		defer fn2.Close()
		b.Svc.RegisterFunction(held, &secretsmanager.HTTPFunction{URL: fn2.URL}) // B's works
		must[*sm.CreateSecretOutput](t)(ca.CreateSecret(ctx, &sm.CreateSecretInput{Name: aws.String("db2"), SecretString: aws.String("initial"), ClientRequestToken: aws.String(tok1)}))
		arn := aws.ToString(must[*sm.RotateSecretOutput](t)(ca.RotateSecret(ctx, &sm.RotateSecretInput{SecretId: aws.String("db2"), RotationLambdaARN: aws.String(held), ClientRequestToken: aws.String(tok4)})).ARN)
		select {
		case <-hf.entered:
		case <-time.After(30 * time.Second):
			t.Fatal("A's rotation did not reach createSecret")
		}
		_, err := cb.RotateSecret(ctx, &sm.RotateSecretInput{SecretId: aws.String("db2"), ClientRequestToken: aws.String(tok5)})
		wantErr(t, err, "InvalidRequestException", 400, "A previous rotation isn't complete.")

		// A is taken for dead: its claim is older than the bound (four
		// steps of 5 minutes and a 5-minute margin).
		a.advance(26 * time.Minute)
		b.advance(26 * time.Minute)
		must[*sm.RotateSecretOutput](t)(skb.RotateSecret(ctx, &sm.RotateSecretInput{SecretId: aws.String("db2"), RotationLambdaARN: aws.String(held), ClientRequestToken: aws.String(tok5)}))
		waitRotated(t, skb, "db2", tok5)

		// A comes back: its step fails, and its outcome, no longer its
		// claim's, is recorded as an event only.
		hf.release <- struct{}{}
		waitFor(t, "A's outcome", func() bool {
			for _, r := range failureReasons(t, a, arn) { // review_fixes_test.go
				if strings.Contains(r, "outlived its claim") {
					return true
				}
			}
			return false
		})
		if rot := readRotation(t, b, "db2"); rot.LastError != "" {
			t.Fatalf("LastError %q after B's rotation", rot.LastError)
		}
		d := must[*sm.DescribeSecretOutput](t)(skb.DescribeSecret(ctx, &sm.DescribeSecretInput{SecretId: aws.String("db2")}))
		if !slices.Equal(d.VersionIdsToStages[tok5], []string{"AWSCURRENT"}) || d.LastRotatedDate == nil {
			t.Fatalf("after A's late outcome: %v, LastRotatedDate %v", d.VersionIdsToStages, d.LastRotatedDate)
		}
		// The secret is free: B rotates it again.
		must[*sm.RotateSecretOutput](t)(skb.RotateSecret(ctx, &sm.RotateSecretInput{SecretId: aws.String("db2"), ClientRequestToken: aws.String(tok3)}))
		waitRotated(t, skb, "db2", tok3)
	})
}
