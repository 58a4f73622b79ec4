package server_test

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"encoding/xml"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"slices"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	v4 "github.com/aws/aws-sdk-go-v2/aws/signer/v4"
	"github.com/aws/aws-sdk-go-v2/service/iam"
	"github.com/aws/aws-sdk-go-v2/service/sts"

	"github.com/rampart/rampart/internal/rampartest"
	"github.com/rampart/rampart/internal/server"
)

const (
	stsNamespace   = "https://sts.amazonaws.com/doc/2011-06-15/"
	iamNamespace   = "https://iam.amazonaws.com/doc/2010-05-08/"
	faultNamespace = "http://webservices.amazon.com/AWSFault/2005-15-09"
	stsForm        = "application/x-www-form-urlencoded; charset=utf-8"

	msgSignatureMismatch = "The request signature we calculated does not match the signature you provided. Check your AWS Secret Access Key and signing method. Consult the service documentation for details."
	msgInvalidToken      = "The security token included in the request is invalid."
	msgMissingAuth       = "Request is missing Authentication Token"
)

// signedRequest is a request to base signed (unless creds is nil) with
// creds for service at the time at.
func signedRequest(t *testing.T, base, service, method, path string, header map[string]string, body []byte, creds *aws.Credentials, at time.Time) *http.Request {
	t.Helper()
	req, err := http.NewRequest(method, base+path, bytes.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	for k, v := range header {
		req.Header.Set(k, v)
	}
	if creds != nil {
		sum := sha256.Sum256(body)
		if err := v4.NewSigner().SignHTTP(context.Background(), *creds, req, hex.EncodeToString(sum[:]), service, "us-east-1", at); err != nil {
			t.Fatal(err)
		}
	}
	return req
}

func do(t *testing.T, req *http.Request) (int, http.Header, []byte) {
	t.Helper()
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	return resp.StatusCode, resp.Header, b
}

// queryError is the query protocol's error document, namespace included.
type queryError struct {
	XMLName xml.Name
	Error   struct {
		Type, Code, Message string
	}
	RequestID string `xml:"RequestId"`
}

// checkQueryError asserts the query protocol's error answer: status, the
// text/xml <ErrorResponse xmlns=ns><Error><Type>Sender</Type><Code>…
// <Message>…</Message></Error><RequestId>…</RequestId></ErrorResponse> with
// the request id of the x-amzn-RequestId header, code, and message (a
// prefix when it ends with "…").
func checkQueryError(t *testing.T, status int, hdr http.Header, body []byte, wantStatus int, ns, code, message string) {
	t.Helper()
	if status != wantStatus {
		t.Errorf("status %d, want %d; body %s", status, wantStatus, body)
	}
	if ct := hdr.Get("Content-Type"); ct != "text/xml" {
		t.Errorf("Content-Type %q, want text/xml", ct)
	}
	var e queryError
	if err := xml.Unmarshal(body, &e); err != nil {
		t.Fatalf("not XML: %v\n%s", err, body)
	}
	if e.XMLName.Local != "ErrorResponse" || e.XMLName.Space != ns {
		t.Errorf("root {%s}%s, want {%s}ErrorResponse", e.XMLName.Space, e.XMLName.Local, ns)
	}
	if e.Error.Type != "Sender" || e.Error.Code != code {
		t.Errorf("Type %q Code %q, want Sender %s", e.Error.Type, e.Error.Code, code)
	}
	if p, ok := strings.CutSuffix(message, "…"); ok && !strings.HasPrefix(e.Error.Message, p) || !ok && e.Error.Message != message {
		t.Errorf("Message %q, want %q", e.Error.Message, message)
	}
	if e.RequestID == "" || e.RequestID != hdr.Get("x-amzn-RequestId") {
		t.Errorf("RequestId %q, header %q", e.RequestID, hdr.Get("x-amzn-RequestId"))
	}
}

// checkJSONError asserts the json protocol's error answer (KMS, json 1.1):
// status, Content-Type, and a body of exactly {"__type": code, "message": …}
// — __type the bare shape name, message in lower case, as KMS writes them.
func checkJSONError(t *testing.T, status int, hdr http.Header, body []byte, wantStatus int, code, message string) {
	t.Helper()
	if status != wantStatus {
		t.Errorf("status %d, want %d; body %s", status, wantStatus, body)
	}
	if ct := hdr.Get("Content-Type"); ct != "application/x-amz-json-1.1" {
		t.Errorf("Content-Type %q, want application/x-amz-json-1.1", ct)
	}
	var e map[string]any
	if err := json.Unmarshal(body, &e); err != nil {
		t.Fatalf("not JSON: %v\n%s", err, body)
	}
	keys := make([]string, 0, len(e))
	for k := range e {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	if !slices.Equal(keys, []string{"__type", "message"}) {
		t.Errorf("members %v, want [__type message]: %s", keys, body)
	}
	if e["__type"] != code {
		t.Errorf("__type %v, want %s", e["__type"], code)
	}
	got, _ := e["message"].(string)
	if p, ok := strings.CutSuffix(message, "…"); ok && !strings.HasPrefix(got, p) || !ok && got != message {
		t.Errorf("message %q, want %q", got, message)
	}
	if hdr.Get("x-amzn-RequestId") == "" {
		t.Error("no x-amzn-RequestId header")
	}
}

// TestAuthenticationFailureShapes: each authentication failure answers
// with AWS's code, HTTP status and body shape in each protocol: STS (query)
// 403 and an <ErrorResponse> in STS's namespace; KMS (json 1.1) 400 and
// {"__type","message"}. A clock more than 15 minutes off is
// SignatureDoesNotMatch / InvalidSignatureException "Signature expired: …"
// (or "Signature not yet current: …"), as both answer it.
func TestAuthenticationFailureShapes(t *testing.T) {
	srv := rampartest.Start(t)
	root := &aws.Credentials{AccessKeyID: srv.AccessKey, SecretAccessKey: srv.SecretKey}
	wrong := &aws.Credentials{AccessKeyID: srv.AccessKey, SecretAccessKey: "wrong"}
	unknown := &aws.Credentials{AccessKeyID: "AKIAIOSFODNN7EXAMPLE", SecretAccessKey: "x"}
	now := time.Now()
	cases := []struct {
		name              string
		creds             *aws.Credentials
		at                time.Time
		stsCode, stsMsg   string
		kmsCode, kmsMsg   string
		stsStatus, kmsSts int
	}{
		{"wrong secret", wrong, now, "SignatureDoesNotMatch", msgSignatureMismatch, "InvalidSignatureException", msgSignatureMismatch, 403, 400},
		{"unknown key", unknown, now, "InvalidClientTokenId", msgInvalidToken, "UnrecognizedClientException", msgInvalidToken, 403, 400},
		{"unsigned", nil, now, "MissingAuthenticationToken", msgMissingAuth, "MissingAuthenticationTokenException", msgMissingAuth, 403, 400},
		{"signed 20 minutes ago", root, now.Add(-20 * time.Minute), "SignatureDoesNotMatch", "Signature expired: …", "InvalidSignatureException", "Signature expired: …", 403, 400},
		{"signed 20 minutes ahead", root, now.Add(20 * time.Minute), "SignatureDoesNotMatch", "Signature not yet current: …", "InvalidSignatureException", "Signature not yet current: …", 403, 400},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			status, hdr, body := do(t, signedRequest(t, srv.URL, "sts", "POST", "/", map[string]string{"Content-Type": stsForm},
				[]byte("Action=GetCallerIdentity&Version=2011-06-15"), tc.creds, tc.at))
			checkQueryError(t, status, hdr, body, tc.stsStatus, stsNamespace, tc.stsCode, tc.stsMsg)

			status, hdr, body = do(t, signedRequest(t, srv.URL, "kms", "POST", "/",
				map[string]string{"Content-Type": "application/x-amz-json-1.1", "X-Amz-Target": "TrentService.ListKeys"}, []byte("{}"), tc.creds, tc.at))
			checkJSONError(t, status, hdr, body, tc.kmsSts, tc.kmsCode, tc.kmsMsg)
		})
	}
}

// TestPresignedGetCallerIdentity: a GetCallerIdentity URL presigned by the
// SDK, requested with plain net/http, answers the signer's identity; a
// tampered signature is SignatureDoesNotMatch (403); a presigned URL used
// after its X-Amz-Expires is RequestExpired (400), which AWS documents as
// the answer to a request that arrives after "the request expiration date
// (such as for pre-signed URLs)"
// (https://docs.aws.amazon.com/STS/latest/APIReference/CommonErrors.html).
func TestPresignedGetCallerIdentity(t *testing.T) {
	srv := rampartest.Start(t)
	var offset atomic.Int64 // the server's clock, ahead of the real one
	hs := httptest.NewServer(server.New(server.Config{Registry: srv.Registry, Authn: srv.Authn,
		Now: func() time.Time { return time.Now().Add(time.Duration(offset.Load())) }}))
	defer hs.Close()
	cfg := srv.Config()
	cfg.BaseEndpoint = aws.String(hs.URL)
	ctx := context.Background()

	presigned, err := sts.NewPresignClient(sts.NewFromConfig(cfg)).PresignGetCallerIdentity(ctx, &sts.GetCallerIdentityInput{})
	if err != nil {
		t.Fatal(err)
	}
	send := func(rawURL string) (int, http.Header, []byte) {
		t.Helper()
		req, err := http.NewRequest(presigned.Method, rawURL, nil)
		if err != nil {
			t.Fatal(err)
		}
		for k, vs := range presigned.SignedHeader {
			if !strings.EqualFold(k, "Host") { // net/http sends the URL's
				req.Header[k] = vs
			}
		}
		return do(t, req)
	}

	status, _, body := send(presigned.URL)
	if status != 200 {
		t.Fatalf("presigned GetCallerIdentity: %d %s", status, body)
	}
	var ok struct {
		XMLName xml.Name `xml:"GetCallerIdentityResponse"`
		Result  struct {
			Arn, UserId, Account string
		} `xml:"GetCallerIdentityResult"`
	}
	if err := xml.Unmarshal(body, &ok); err != nil {
		t.Fatalf("%v\n%s", err, body)
	}
	if ok.Result.Account != srv.Account || ok.Result.Arn != "arn:aws:iam::"+srv.Account+":root" || ok.Result.UserId != srv.Account {
		t.Fatalf("presigned GetCallerIdentity answered %+v", ok.Result)
	}

	u, err := url.Parse(presigned.URL)
	if err != nil {
		t.Fatal(err)
	}
	q := u.Query()
	sig := []byte(q.Get("X-Amz-Signature"))
	if sig[0] == '0' {
		sig[0] = '1'
	} else {
		sig[0] = '0'
	}
	q.Set("X-Amz-Signature", string(sig))
	tampered := *u
	tampered.RawQuery = q.Encode()
	status, hdr, body := send(tampered.String())
	checkQueryError(t, status, hdr, body, 403, stsNamespace, "SignatureDoesNotMatch", msgSignatureMismatch)

	// The SDK's STS presigner sets no X-Amz-Expires; sign one that has it.
	req, err := http.NewRequest("GET", hs.URL+"/?Action=GetCallerIdentity&Version=2011-06-15&X-Amz-Expires=60", nil)
	if err != nil {
		t.Fatal(err)
	}
	signedAt := time.Now()
	expiring, _, err := v4.NewSigner().PresignHTTP(ctx, aws.Credentials{AccessKeyID: srv.AccessKey, SecretAccessKey: srv.SecretKey},
		req, emptySHA256, "sts", "us-east-1", signedAt)
	if err != nil {
		t.Fatal(err)
	}
	if status, _, body := do(t, mustGet(t, expiring)); status != 200 {
		t.Fatalf("presigned with X-Amz-Expires=60, within its time: %d %s", status, body)
	}
	// AWS's Common Errors allow "more than 15 minutes after the request
	// expiration date": well past both.
	offset.Store(int64(60*time.Second + 16*time.Minute))
	status, hdr, body = do(t, mustGet(t, expiring))
	checkQueryError(t, status, hdr, body, 400, stsNamespace, "RequestExpired", "…")
}

func mustGet(t *testing.T, rawURL string) *http.Request {
	t.Helper()
	req, err := http.NewRequest("GET", rawURL, nil)
	if err != nil {
		t.Fatal(err)
	}
	return req
}

// TestQueryVersion: a signed IAM or STS request whose Version is not the
// service's, or that has none, is InvalidAction (400) "Could not find
// operation ListUsers for version 2099-01-01" / "… for version
// NO_VERSION_SPECIFIED", as IAM and STS answer, in an <ErrorResponse> of
// AWS's fault namespace; no handler runs (the CreateUser makes no user),
// and each call leaves only its audit record.
func TestQueryVersion(t *testing.T) {
	srv := rampartest.Start(t)
	root := &aws.Credentials{AccessKeyID: srv.AccessKey, SecretAccessKey: srv.SecretKey}
	form := map[string]string{"Content-Type": stsForm}
	before := auditCount(t, srv)
	cases := []struct {
		name, service, method, path, body, message string
	}{
		{"wrong version", "iam", "POST", "/", "Action=ListUsers&Version=2099-01-01", "Could not find operation ListUsers for version 2099-01-01"},
		{"no version", "iam", "POST", "/", "Action=ListUsers", "Could not find operation ListUsers for version NO_VERSION_SPECIFIED"},
		{"a change, wrong version", "iam", "POST", "/", "Action=CreateUser&UserName=bob&Version=2099-01-01", "Could not find operation CreateUser for version 2099-01-01"},
		{"a change, no version", "iam", "POST", "/", "Action=CreateUser&UserName=bob", "Could not find operation CreateUser for version NO_VERSION_SPECIFIED"},
		{"GET, wrong version", "iam", "GET", "/?Action=CreateUser&UserName=bob&Version=2099-01-01", "", "Could not find operation CreateUser for version 2099-01-01"},
		{"IAM's version to STS", "sts", "POST", "/", "Action=GetCallerIdentity&Version=2010-05-08", "Could not find operation GetCallerIdentity for version 2010-05-08"},
		{"STS, no version", "sts", "POST", "/", "Action=GetCallerIdentity", "Could not find operation GetCallerIdentity for version NO_VERSION_SPECIFIED"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			status, hdr, body := do(t, signedRequest(t, srv.URL, tc.service, tc.method, tc.path, form, []byte(tc.body), root, time.Now()))
			checkQueryError(t, status, hdr, body, 400, faultNamespace, "InvalidAction", tc.message)
		})
	}
	users, err := iam.NewFromConfig(srv.Config()).ListUsers(context.Background(), &iam.ListUsersInput{})
	if err != nil {
		t.Fatal(err)
	}
	if len(users.Users) != 0 {
		t.Fatalf("%d users after CreateUser with a wrong or no Version", len(users.Users))
	}
	if got := auditCount(t, srv) - before; got != len(cases)+1 {
		t.Errorf("%d audit records, want %d (one per request)", got, len(cases)+1)
	}
	// The right Version is served, signed the same way.
	status, _, body := do(t, signedRequest(t, srv.URL, "iam", "POST", "/", form, []byte("Action=ListUsers&Version=2010-05-08"), root, time.Now()))
	if status != 200 || !strings.Contains(string(body), `<ListUsersResponse xmlns="`+iamNamespace+`">`) {
		t.Fatalf("ListUsers with its Version: %d %s", status, body)
	}
}

// TestUnplacedRequestHasNoEmptyNamespace: a request rampart cannot place
// in any service is answered in the query protocol's XML without an
// xmlns="" attribute.
func TestUnplacedRequestHasNoEmptyNamespace(t *testing.T) {
	srv := rampartest.Start(t)
	status, hdr, body := do(t, signedRequest(t, srv.URL, "", "GET", "/", nil, nil, nil, time.Now()))
	if strings.Contains(string(body), "xmlns") {
		t.Errorf("body carries a namespace attribute: %s", body)
	}
	checkQueryError(t, status, hdr, body, 400, "", "UnknownService", "rampart could not tell…")
}

// emptySHA256 is the hex SHA-256 of an empty body.
const emptySHA256 = "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"
