package secretsmanager_test

import (
	"bytes"
	"context"
	"crypto/rand"
	"crypto/sha256"
	"encoding/hex"
	"net/http"
	"net/http/httptest"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	v4 "github.com/aws/aws-sdk-go-v2/aws/signer/v4"
	sm "github.com/aws/aws-sdk-go-v2/service/secretsmanager"

	"github.com/rampart/rampart/internal/audit"
	"github.com/rampart/rampart/internal/authz"
	"github.com/rampart/rampart/internal/rampartest"
	"github.com/rampart/rampart/internal/server"
	"github.com/rampart/rampart/internal/service"
	"github.com/rampart/rampart/internal/service/organizations"
	"github.com/rampart/rampart/internal/store"

	smapi "github.com/rampart/rampart/internal/api/secretsmanager"
)

// discardAudit is a store whose audit trail is a no-op: the benchmark
// measures the request path, not the audit commit's fsync.
type discardAudit struct{ store.Store }

func (discardAudit) AppendAudit(context.Context, []store.AuditRow) error { return nil }

type readCloser struct{ *bytes.Reader }

func (readCloser) Close() error { return nil }

// BenchmarkServeGetSecretValue: one signed GetSecretValue through
// Server.ServeHTTP without the network, as cmd/rampart-bench reads its
// secret: rampart as internal/app assembles it (the real KMS, the secret
// under the AWS managed key aws/secretsmanager), the root user allowed by
// the secret's resource policy, the real authorizer. The figure covers
// SigV4, decoding, the rule (secret lookup, resource policy, condition
// keys), the handler (the sealed value, KMS's authorization of kms:Decrypt
// through Secrets Manager and its decryption of the data key, AES-GCM),
// encoding and the audit record, without the audit commit.
func BenchmarkServeGetSecretValue(b *testing.B) { benchGetSecretValue(b, false) }

// BenchmarkGetSecretValueHandler is what Secrets Manager (and the KMS
// behind it) adds to a GetSecretValue: the rule, the authorizer's
// decisions on the secret and on the key, the handler; no SigV4, codec
// or audit.
func BenchmarkGetSecretValueHandler(b *testing.B) { benchGetSecretValue(b, true) }

func benchHandler(b *testing.B, srv *rampartest.Server) {
	h := srv.Registry.Lookup(smapi.OpGetSecretValue)
	c := &service.Call{
		RequestID: "11111111-2222-3333-4444-555555555555", Operation: smapi.OpGetSecretValue, Region: "us-east-1",
		Principal: &authz.Principal{Type: authz.Root, Account: srv.Account, ARN: "arn:aws:iam::" + srv.Account + ":root", ID: srv.Account},
		SourceIP:  "127.0.0.1", Now: time.Now(), Rand: rand.Reader,
		Authz: authz.New(nil, organizations.NewGuardrails(srv.Store)),
	}
	in := &smapi.GetSecretValueRequest{SecretId: aws.String("rampart-bench")}
	ctx := service.WithCall(context.Background(), c)
	serve := func() {
		if err := h.Authorize(ctx, c, in); err != nil {
			b.Fatal(err)
		}
		if _, err := h.Do(ctx, in); err != nil {
			b.Fatal(err)
		}
	}
	serve() // warm the caches (and record today's LastAccessedDate)
	b.ReportAllocs()
	for b.Loop() {
		serve()
	}
}

func benchGetSecretValue(b *testing.B, handlerOnly bool) {
	srv := rampartest.Start(b)
	ctx := context.Background()
	c := sm.NewFromConfig(srv.Config())
	out, err := c.CreateSecret(ctx, &sm.CreateSecretInput{Name: aws.String("rampart-bench"), SecretString: aws.String(`{"username":"bench","password":"not-a-real-password"}`)})
	if err != nil {
		b.Fatal(err)
	}
	if _, err := c.PutResourcePolicy(ctx, &sm.PutResourcePolicyInput{SecretId: out.ARN, ResourcePolicy: aws.String(`{"Version":"2012-10-17","Statement":[{"Effect":"Allow",` +
		`"Principal":{"AWS":"arn:aws:iam::` + srv.Account + `:root"},"Action":"secretsmanager:GetSecretValue","Resource":"*"}]}`)}); err != nil {
		b.Fatal(err)
	}

	if handlerOnly {
		benchHandler(b, srv)
		return
	}
	w := audit.NewWriter(discardAudit{srv.Store}, audit.Options{})
	defer w.Close()
	h := server.New(server.Config{Registry: srv.Registry, Authn: srv.Authn, Authz: authz.New(nil, organizations.NewGuardrails(srv.Store)), Audit: w})
	body := []byte(`{"SecretId":"rampart-bench"}`)
	req, err := http.NewRequest(http.MethodPost, srv.URL+"/", bytes.NewReader(body))
	if err != nil {
		b.Fatal(err)
	}
	req.Header.Set("Content-Type", "application/x-amz-json-1.1")
	req.Header.Set("X-Amz-Target", "secretsmanager.GetSecretValue")
	req.Header.Set("User-Agent", "aws-sdk-go-v2/1.36.3 os/linux lang/go#1.26 md/GOOS#linux md/GOARCH#amd64 api/secretsmanager#1.35.0")
	sum := sha256.Sum256(body)
	if err := v4.NewSigner().SignHTTP(ctx, aws.Credentials{AccessKeyID: srv.AccessKey, SecretAccessKey: srv.SecretKey},
		req, hex.EncodeToString(sum[:]), "secretsmanager", "us-east-1", time.Now()); err != nil {
		b.Fatal(err)
	}
	req.RemoteAddr = "127.0.0.1:40000"
	rd := bytes.NewReader(body)
	serve := func() {
		rd.Reset(body)
		req.Body = readCloser{rd}
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, req)
		if rec.Code != 200 {
			b.Fatalf("status %d: %s", rec.Code, rec.Body)
		}
	}
	serve() // warm the caches (and record today's LastAccessedDate)
	b.ReportAllocs()
	for b.Loop() {
		serve()
	}
}
