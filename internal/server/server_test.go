package server_test

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"encoding/xml"
	"errors"
	"io"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	v4 "github.com/aws/aws-sdk-go-v2/aws/signer/v4"
	"github.com/aws/aws-sdk-go-v2/service/kms"
	"github.com/aws/aws-sdk-go-v2/service/sts"
	"github.com/aws/smithy-go"

	"github.com/rampart/rampart/internal/api"
	"github.com/rampart/rampart/internal/app"
	"github.com/rampart/rampart/internal/awsproto"
	"github.com/rampart/rampart/internal/rampartest"
	"github.com/rampart/rampart/internal/store"
)

func TestGetCallerIdentityRoot(t *testing.T) {
	srv := rampartest.Start(t)
	out, err := sts.NewFromConfig(srv.Config()).GetCallerIdentity(context.Background(), &sts.GetCallerIdentityInput{})
	if err != nil {
		t.Fatal(err)
	}
	if aws.ToString(out.Account) != "000000000000" || aws.ToString(out.Arn) != "arn:aws:iam::000000000000:root" || aws.ToString(out.UserId) != "000000000000" {
		t.Fatalf("GetCallerIdentity = %s %s %s", aws.ToString(out.Account), aws.ToString(out.Arn), aws.ToString(out.UserId))
	}
}

func apiErrorCode(t *testing.T, err error) string {
	t.Helper()
	var ae smithy.APIError
	if !errors.As(err, &ae) {
		t.Fatalf("error %v is not an API error", err)
	}
	return ae.ErrorCode()
}

func TestAuthenticationFailuresThroughSDK(t *testing.T) {
	srv := rampartest.Start(t)
	ctx := context.Background()
	for _, tc := range []struct {
		name, key, secret, token string
		stsCode, kmsCode         string
	}{
		{"wrong secret", "test", "wrong", "", "SignatureDoesNotMatch", "InvalidSignatureException"},
		{"unknown key", "AKIAIOSFODNN7EXAMPLE", "x", "", "InvalidClientTokenId", "UnrecognizedClientException"},
		{"token on a long-term key", "test", "test", "forged", "InvalidClientTokenId", "UnrecognizedClientException"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			cfg := srv.ConfigFor(tc.key, tc.secret, tc.token)
			_, err := sts.NewFromConfig(cfg).GetCallerIdentity(ctx, &sts.GetCallerIdentityInput{})
			if got := apiErrorCode(t, err); got != tc.stsCode {
				t.Errorf("sts: code %s, want %s", got, tc.stsCode)
			}
			_, err = kms.NewFromConfig(cfg).ListKeys(ctx, &kms.ListKeysInput{})
			if got := apiErrorCode(t, err); got != tc.kmsCode {
				t.Errorf("kms: code %s, want %s", got, tc.kmsCode)
			}
		})
	}
}

// TestNotImplementedInEachProtocol: an operation AWS has and rampart does
// not serve answers 501 NotImplemented, naming it, in its protocol's shape.
func TestNotImplementedInEachProtocol(t *testing.T) {
	srv := rampartest.Start(t)
	reg := app.Registry(app.Deps{})
	unserved := func(svc *awsproto.Service) *awsproto.Operation {
		for _, op := range svc.Operations {
			if reg.Lookup(op) == nil && !op.NoAuth {
				return op
			}
		}
		return nil
	}
	byName := map[string]*awsproto.Service{}
	for _, s := range api.Services() {
		byName[s.Name] = s
	}
	// query: the first unserved IAM or STS operation, if any is left.
	var queryOp *awsproto.Operation
	for _, name := range []string{"iam", "sts"} {
		if op := unserved(byName[name]); op != nil {
			queryOp = op
			break
		}
	}
	cases := []struct {
		name, signing, method, path string
		header                      map[string]string
		body                        string
		want                        string
	}{
		{"json", "acm", "POST", "/", map[string]string{"Content-Type": "application/x-amz-json-1.1", "X-Amz-Target": "CertificateManager.ListCertificates"}, "{}", "ACM ListCertificates"},
		{"rest-json", "guardduty", "GET", "/detector", nil, "", "GuardDuty ListDetectors"},
	}
	if queryOp != nil {
		cases = append(cases, struct {
			name, signing, method, path string
			header                      map[string]string
			body                        string
			want                        string
		}{"query", queryOp.Service.SigningName, "POST", "/", map[string]string{"Content-Type": "application/x-www-form-urlencoded"},
			"Action=" + queryOp.Name + "&Version=" + queryOp.Service.APIVersion, queryOp.Service.ID + " " + queryOp.Name})
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			status, hdr, body := raw(t, srv, tc.signing, tc.method, tc.path, tc.header, []byte(tc.body), true)
			if status != 501 {
				t.Fatalf("status %d, want 501; body %s", status, body)
			}
			if !strings.Contains(string(body), "NotImplemented") || !strings.Contains(string(body), tc.want) {
				t.Errorf("body %s lacks NotImplemented and %q", body, tc.want)
			}
			if tc.name == "query" && !strings.HasPrefix(hdr.Get("Content-Type"), "text/xml") {
				t.Errorf("query error content type %q", hdr.Get("Content-Type"))
			}
		})
	}
}

// raw sends a request signed as the root user (unless unsigned) and returns status and body.
func raw(t *testing.T, srv *rampartest.Server, service, method, path string, header map[string]string, body []byte, sign bool) (int, http.Header, []byte) {
	t.Helper()
	req, err := http.NewRequest(method, srv.URL+path, bytes.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	for k, v := range header {
		req.Header.Set(k, v)
	}
	if sign {
		sum := sha256.Sum256(body)
		creds := aws.Credentials{AccessKeyID: srv.AccessKey, SecretAccessKey: srv.SecretKey}
		if err := v4.NewSigner().SignHTTP(context.Background(), creds, req, hex.EncodeToString(sum[:]), service, "us-east-1", time.Now()); err != nil {
			t.Fatal(err)
		}
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, resp.Header, b
}

type xmlError struct {
	Error struct {
		Type, Code, Message string
	}
	RequestID string `xml:"RequestId"`
}

func auditCount(t *testing.T, srv *rampartest.Server) int {
	t.Helper()
	if err := srv.Audit.Flush(context.Background()); err != nil {
		t.Fatal(err)
	}
	rows, err := srv.Store.QueryAudit(context.Background(), store.AuditQuery{})
	if err != nil {
		t.Fatal(err)
	}
	return len(rows)
}

// TestBadInput sends malformed requests; each gets an AWS-shaped error, the
// server keeps serving, and nothing but the audit record is written.
func TestBadInput(t *testing.T) {
	srv := rampartest.Start(t)
	form := map[string]string{"Content-Type": "application/x-www-form-urlencoded; charset=utf-8"}
	kmsJSON := func(target string) map[string]string {
		return map[string]string{"Content-Type": "application/x-amz-json-1.1", "X-Amz-Target": target}
	}
	cases := []struct {
		name       string
		service    string
		method     string
		path       string
		header     map[string]string
		body       string
		unsigned   bool
		wantStatus int
		wantCode   string
	}{
		{"query: unknown action", "sts", "POST", "/", form, "Action=NoSuchThing&Version=2011-06-15", false, 400, "InvalidAction"},
		{"query: no action", "sts", "POST", "/", form, "Version=2011-06-15", false, 400, "MissingAction"},
		{"query: malformed form", "sts", "POST", "/", form, "Action=GetCallerIdentity&Version=2011-06-15&%zz", false, 400, ""},
		{"query: unsigned", "sts", "POST", "/", form, "Action=GetCallerIdentity&Version=2011-06-15", true, 403, "MissingAuthenticationToken"},
		{"json: unknown target", "kms", "POST", "/", kmsJSON("TrentService.NoSuchThing"), "{}", false, 400, "UnknownOperationException"},
		{"json: unsigned", "kms", "POST", "/", kmsJSON("TrentService.ListKeys"), "{}", true, 400, "MissingAuthenticationTokenException"},
		{"json: no target", "kms", "POST", "/", map[string]string{"Content-Type": "application/x-amz-json-1.1"}, "{}", false, 400, "UnknownOperationException"},
		{"json: wrong content type", "kms", "POST", "/", map[string]string{"Content-Type": "text/plain", "X-Amz-Target": "TrentService.ListKeys"}, "{}", false, 0, ""},
		{"query: JSON body", "sts", "POST", "/", map[string]string{"Content-Type": "application/json"}, `{"Action":"GetCallerIdentity"}`, false, 400, ""},
		{"oversized body", "sts", "POST", "/", form, "Action=GetCallerIdentity&Version=2011-06-15&Pad=" + strings.Repeat("x", 2<<20), false, 413, "RequestEntityTooLarge"},
		{"nothing to route by", "", "GET", "/", nil, "", true, 0, ""},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			status, hdr, body := raw(t, srv, tc.service, tc.method, tc.path, tc.header, []byte(tc.body), !tc.unsigned)
			if status < 400 || status >= 500 {
				t.Fatalf("status %d, want a 4xx; body %s", status, body)
			}
			if tc.wantStatus != 0 && status != tc.wantStatus {
				t.Errorf("status %d, want %d; body %s", status, tc.wantStatus, body)
			}
			if hdr.Get("x-amzn-RequestId") == "" {
				t.Error("no x-amzn-RequestId header")
			}
			code := ""
			if strings.HasPrefix(hdr.Get("Content-Type"), "text/xml") {
				var e xmlError
				if err := xml.Unmarshal(body, &e); err != nil {
					t.Fatalf("error body is not AWS XML: %v\n%s", err, body)
				}
				code = e.Error.Code
				if e.RequestID == "" || e.Error.Message == "" {
					t.Errorf("XML error lacks RequestId or Message: %s", body)
				}
			} else {
				var e struct {
					Type    string `json:"__type"`
					Message string `json:"message"`
				}
				if err := json.Unmarshal(body, &e); err != nil {
					t.Fatalf("error body is not AWS JSON: %v\n%s", err, body)
				}
				code = e.Type
			}
			if code == "" {
				t.Errorf("no error code in %s", body)
			}
			if tc.wantCode != "" && code != tc.wantCode {
				t.Errorf("code %q, want %q; body %s", code, tc.wantCode, body)
			}
		})
	}
	// Still serving, and every bad request left only its audit record: the
	// accounts and keys are as they were.
	for _, table := range []string{"authn.account", "authn.key"} {
		var n int
		if err := srv.Store.View(context.Background(), func(tx store.Tx) error {
			var err error
			n, err = tx.Count(table, "")
			return err
		}); err != nil {
			t.Fatal(err)
		}
		if n != 1 {
			t.Errorf("%s holds %d entries after bad input, want 1", table, n)
		}
	}
	if _, err := sts.NewFromConfig(srv.Config()).GetCallerIdentity(context.Background(), &sts.GetCallerIdentityInput{}); err != nil {
		t.Fatalf("server stopped serving: %v", err)
	}
	if got := auditCount(t, srv); got != len(cases)+1 {
		t.Errorf("%d audit records, want %d (one per request)", got, len(cases)+1)
	}
}

// TestCredentialScopeNamesTheService: a request signed for one service and
// addressed to another by X-Amz-Target is refused with AWS's scope message,
// in the protocol of the service addressed. (Query
// requests are routed by their credential scope, so they cannot disagree.)
func TestCredentialScopeNamesTheService(t *testing.T) {
	srv := rampartest.Start(t)
	smJSON := map[string]string{"Content-Type": "application/x-amz-json-1.1", "X-Amz-Target": "secretsmanager.ListSecrets"}
	kmsJSON := map[string]string{"Content-Type": "application/x-amz-json-1.1", "X-Amz-Target": "TrentService.ListKeys"}
	cases := []struct {
		name, signing string
		header        map[string]string
		body          string
		wantStatus    int
		wantCode      string
		wantMessage   string
	}{
		{"kms call signed for sts", "sts", kmsJSON, "{}", 400, "InvalidSignatureException", "Credential should be scoped to correct service: 'kms'."},
		{"kms call signed for kms", "kms", kmsJSON, "{}", 200, "", ""},
		{"secrets manager call signed for kms", "kms", smJSON, "{}", 400, "InvalidSignatureException", "Credential should be scoped to correct service: 'secretsmanager'."},
		{"secrets manager call signed for secretsmanager", "secretsmanager", smJSON, "{}", 200, "", ""},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			status, _, body := raw(t, srv, tc.signing, "POST", "/", tc.header, []byte(tc.body), true)
			if status != tc.wantStatus {
				t.Fatalf("status %d, want %d; body %s", status, tc.wantStatus, body)
			}
			if tc.wantCode == "" {
				return
			}
			var e struct {
				Type    string `json:"__type"`
				Message string `json:"message"`
			}
			if err := json.Unmarshal(body, &e); err != nil {
				t.Fatalf("body %s: %v", body, err)
			}
			if !strings.HasSuffix(e.Type, tc.wantCode) || e.Message != tc.wantMessage {
				t.Errorf("error %s %q, want %s %q", e.Type, e.Message, tc.wantCode, tc.wantMessage)
			}
		})
	}
}
