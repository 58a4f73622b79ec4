package kms_test

import (
	"bytes"
	"context"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"net/http"
	"net/http/httptest"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	v4 "github.com/aws/aws-sdk-go-v2/aws/signer/v4"
	"github.com/aws/aws-sdk-go-v2/service/kms"

	"github.com/rampart/rampart/internal/audit"
	"github.com/rampart/rampart/internal/authz"
	"github.com/rampart/rampart/internal/rampartest"
	"github.com/rampart/rampart/internal/server"
	"github.com/rampart/rampart/internal/service"
	"github.com/rampart/rampart/internal/service/organizations"
	"github.com/rampart/rampart/internal/store"

	kmsapi "github.com/rampart/rampart/internal/api/kms"
)

// discardAudit is a store whose audit trail is a no-op: the benchmarks
// below measure the request path, not the audit commit's fsync.
type discardAudit struct{ store.Store }

func (discardAudit) AppendAudit(context.Context, []store.AuditRow) error { return nil }

// serveBench is one signed JSON request of a KMS operation, served again
// and again by Server.ServeHTTP without the network: SigV4, decoding, the
// rule (key lookup, grants, condition keys), the authorizer's evaluation
// of the key policy, the handler, encoding and the audit record, as the
// root user of the dev account. The figure is what rampart adds to a
// request, as internal/server's BenchmarkServeHTTP measures it for
// sts:GetCallerIdentity.
func serveBench(b *testing.B, srv *rampartest.Server, target string, body []byte) {
	b.Helper()
	w := audit.NewWriter(discardAudit{srv.Store}, audit.Options{})
	defer w.Close()
	g := organizations.NewGuardrails(srv.Store)
	h := server.New(server.Config{Registry: srv.Registry, Authn: srv.Authn, Authz: authz.New(nil, g), Audit: w})
	req, err := http.NewRequest(http.MethodPost, srv.URL+"/", bytes.NewReader(body))
	if err != nil {
		b.Fatal(err)
	}
	req.Header.Set("Content-Type", "application/x-amz-json-1.1")
	req.Header.Set("X-Amz-Target", "TrentService."+target)
	req.Header.Set("User-Agent", "aws-sdk-go-v2/1.36.3 os/linux lang/go#1.26 md/GOOS#linux md/GOARCH#amd64 api/kms#1.38.0")
	sum := sha256.Sum256(body)
	if err := v4.NewSigner().SignHTTP(context.Background(), aws.Credentials{AccessKeyID: srv.AccessKey, SecretAccessKey: srv.SecretKey},
		req, hex.EncodeToString(sum[:]), "kms", "us-east-1", time.Now()); err != nil {
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
	serve() // warm the caches: the key entry, the parsed key policy
	b.ReportAllocs()
	for b.Loop() {
		serve()
	}
}

type readCloser struct{ *bytes.Reader }

func (readCloser) Close() error { return nil }

func benchKey(b *testing.B) (*rampartest.Server, string) {
	srv, c := startB(b)
	k, err := c.CreateKey(ctx, &kms.CreateKeyInput{})
	if err != nil {
		b.Fatal(err)
	}
	return srv, aws.ToString(k.KeyMetadata.KeyId)
}

// BenchmarkServeEncrypt: Encrypt of 32 bytes with an encryption context.
func BenchmarkServeEncrypt(b *testing.B) {
	srv, id := benchKey(b)
	pt := base64.StdEncoding.EncodeToString(make([]byte, 32))
	serveBench(b, srv, "Encrypt", []byte(`{"KeyId":"`+id+`","Plaintext":"`+pt+`","EncryptionContext":{"bench":"rampart"}}`))
}

// BenchmarkServeDecrypt: Decrypt of what BenchmarkServeEncrypt encrypts.
func BenchmarkServeDecrypt(b *testing.B) {
	srv, id := benchKey(b)
	ec := map[string]string{"bench": "rampart"}
	out, err := kms.NewFromConfig(srv.Config()).Encrypt(ctx, &kms.EncryptInput{KeyId: &id, Plaintext: make([]byte, 32), EncryptionContext: ec})
	if err != nil {
		b.Fatal(err)
	}
	ct := base64.StdEncoding.EncodeToString(out.CiphertextBlob)
	serveBench(b, srv, "Decrypt", []byte(`{"CiphertextBlob":"`+ct+`","EncryptionContext":{"bench":"rampart"}}`))
}

// BenchmarkServeGenerateDataKey: an AES_256 data key with an encryption context.
func BenchmarkServeGenerateDataKey(b *testing.B) {
	srv, id := benchKey(b)
	serveBench(b, srv, "GenerateDataKey", []byte(`{"KeyId":"`+id+`","KeySpec":"AES_256","EncryptionContext":{"bench":"rampart"}}`))
}

// BenchmarkEncryptHandler is what KMS itself adds to an Encrypt: the
// rule (key lookup, grants, condition keys), the authorizer's evaluation
// of the key policy and the handler, without the server around them
// (SigV4, codec, audit).
func BenchmarkEncryptHandler(b *testing.B) {
	srv, id := benchKey(b)
	h := srv.Registry.Lookup(kmsapi.OpEncrypt)
	c := &service.Call{
		RequestID: "11111111-2222-3333-4444-555555555555", Operation: kmsapi.OpEncrypt, Region: "us-east-1",
		Principal: &authz.Principal{Type: authz.Root, Account: srv.Account, ARN: "arn:aws:iam::" + srv.Account + ":root", ID: srv.Account},
		SourceIP:  "127.0.0.1", Now: time.Now(), Rand: rand.Reader,
		Authz: authz.New(nil, organizations.NewGuardrails(srv.Store)),
	}
	in := &kmsapi.EncryptRequest{KeyId: &id, Plaintext: make([]byte, 32), EncryptionContext: map[string]string{"bench": "rampart"}}
	ctx := service.WithCall(context.Background(), c)
	b.ReportAllocs()
	for b.Loop() {
		if err := h.Authorize(ctx, c, in); err != nil {
			b.Fatal(err)
		}
		if _, err := h.Do(ctx, in); err != nil {
			b.Fatal(err)
		}
	}
}
