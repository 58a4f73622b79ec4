package sigv4

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"io"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	v4 "github.com/aws/aws-sdk-go-v2/aws/signer/v4"
)

// Round trips through the AWS SDK for Go v2's signer: sign a request as the
// SDK does, send it through net/http's wire format, verify what the server
// reads.

const (
	testAK     = "AKIAIOSFODNN7EXAMPLE"
	testSecret = "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY"
	testToken  = "FwoGZXIvYXdzEBYaDH+session/token=="
)

var signTime = time.Date(2026, 3, 14, 15, 9, 26, 0, time.UTC)

type sdkCase struct {
	method, url string
	rawPath     string // URL.RawPath, as smithy's rest-json serializer sets it
	header      http.Header
	body        string
	service     string
	token       string
	unsigned    bool // sign UNSIGNED-PAYLOAD with x-amz-content-sha256
	hostHeader  string
}

var sdkCases = map[string]sdkCase{
	"sts query POST": {
		method: "POST", url: "https://sts.amazonaws.com/", service: "sts",
		header: http.Header{"Content-Type": {"application/x-www-form-urlencoded; charset=utf-8"}},
		body:   "Action=GetCallerIdentity&Version=2011-06-15",
	},
	"iam query POST with encoded values": {
		method: "POST", url: "https://iam.amazonaws.com/", service: "iam",
		header: http.Header{"Content-Type": {"application/x-www-form-urlencoded; charset=utf-8"}},
		body:   "Action=CreateUser&Path=%2Fdivision_abc%2Fsubdivision_xyz%2F&UserName=Bob%2B1&Version=2010-05-08",
	},
	"kms json": {
		method: "POST", url: "https://kms.us-east-1.amazonaws.com/", service: "kms",
		header: http.Header{"Content-Type": {"application/x-amz-json-1.1"}, "X-Amz-Target": {"TrentService.Encrypt"}},
		body:   `{"KeyId":"alias/my-key","Plaintext":"aGVsbG8="}`,
	},
	"kms json with session token": {
		method: "POST", url: "https://kms.us-east-1.amazonaws.com/", service: "kms", token: testToken,
		header: http.Header{"Content-Type": {"application/x-amz-json-1.1"}, "X-Amz-Target": {"TrentService.ListKeys"}},
		body:   `{}`,
	},
	"get query with plus, slash, unicode and repeated keys": {
		method: "GET", url: "https://iam.amazonaws.com/?Action=ListUsers&PathPrefix=%2Fa%2Fb%2F&Marker=a+b&Tag=%E2%82%AC&Tag=a-b&Tag=a%2Fb&Version=2010-05-08&empty=&bare",
		service: "iam",
	},
	"rest-json path with space and colon": {
		method: "POST", url: "https://lambda.us-east-1.amazonaws.com/2015-03-31/functions/my%20func%3A1/invocations",
		rawPath: "/2015-03-31/functions/my%20func%3A1/invocations", service: "lambda",
		header: http.Header{"Content-Type": {"application/json"}}, body: `{"a":1}`,
	},
	"rest-json path with encoded slash": {
		method: "GET", url: "https://secretsmanager.us-east-1.amazonaws.com/secrets/a%2Fb%2F..%2Fc",
		rawPath: "/secrets/a%2Fb%2F..%2Fc", service: "secretsmanager",
	},
	"rest-json unicode path": {
		method: "DELETE", url: "https://example.us-east-1.amazonaws.com/keys/%D0%BA%D0%BB%D1%8E%D1%87/x~y_z.w-v", service: "example",
	},
	"path with dot and empty segments as the Go SDK signs it": {
		method: "GET", url: "https://example.us-east-1.amazonaws.com/a/./b/../c//d/", service: "example",
	},
	"unsigned payload": {
		method: "PUT", url: "https://example.us-east-1.amazonaws.com/objects/o", service: "example", unsigned: true,
		header: http.Header{"Content-Type": {"application/octet-stream"}}, body: "some bytes",
	},
	"header values with runs of spaces and repeats": {
		method: "POST", url: "https://example.us-east-1.amazonaws.com/", service: "example",
		header: http.Header{"Content-Type": {"application/json;   charset=utf-8"}, "X-Amz-Meta-Thing": {"  a   b ", "c"}},
		body:   `[]`,
	},
	"host with port": {
		method: "POST", url: "http://127.0.0.1:4566/", service: "sts",
		header: http.Header{"Content-Type": {"application/x-www-form-urlencoded"}},
		body:   "Action=GetCallerIdentity&Version=2011-06-15",
	},
}

// sdkSign builds the request, signs it with the SDK and returns the
// client-side request and what a server reads off the wire.
func sdkSign(t testing.TB, tc sdkCase, secret string) (client, server *http.Request) {
	t.Helper()
	var body io.Reader
	if tc.body != "" {
		body = strings.NewReader(tc.body)
	}
	r, err := http.NewRequest(tc.method, tc.url, body)
	if err != nil {
		t.Fatal(err)
	}
	if tc.rawPath != "" {
		r.URL.RawPath = tc.rawPath
		if r.URL.EscapedPath() != tc.rawPath {
			t.Fatalf("RawPath %q not kept: %q", tc.rawPath, r.URL.EscapedPath())
		}
	}
	for k, vs := range tc.header {
		for _, v := range vs {
			r.Header.Add(k, v)
		}
	}
	payload := hexSHA256([]byte(tc.body))
	if tc.unsigned {
		payload = UnsignedPayload
		r.Header.Set("X-Amz-Content-Sha256", UnsignedPayload)
	}
	creds := aws.Credentials{AccessKeyID: testAK, SecretAccessKey: secret, SessionToken: tc.token}
	if err := v4.NewSigner().SignHTTP(context.Background(), creds, r, payload, tc.service, "us-east-1", signTime); err != nil {
		t.Fatal(err)
	}
	if tc.body != "" {
		r.Body = io.NopCloser(strings.NewReader(tc.body))
	}
	return r, throughWire(t, r)
}

// throughWire writes r as a client would and reads it back as a server does.
func throughWire(t testing.TB, r *http.Request) *http.Request {
	t.Helper()
	var wire bytes.Buffer
	if err := r.Write(&wire); err != nil {
		t.Fatal(err)
	}
	if r.GetBody != nil {
		b, _ := r.GetBody()
		r.Body = b
	}
	s, err := http.ReadRequest(bufio.NewReader(&wire))
	if err != nil {
		t.Fatalf("ReadRequest: %v\n%s", err, wire.String())
	}
	return s
}

func readBodyHash(t testing.TB, r *http.Request) string {
	t.Helper()
	if r.Body == nil {
		return EmptyPayloadHash
	}
	b, err := io.ReadAll(r.Body)
	if err != nil {
		t.Fatal(err)
	}
	return hexSHA256(b)
}

func TestSDKRoundTrip(t *testing.T) {
	v := NewVerifier()
	for name, tc := range sdkCases {
		t.Run(name, func(t *testing.T) {
			client, server := sdkSign(t, tc, testSecret)
			for _, side := range []struct {
				name string
				r    *http.Request
			}{{"server", server}, {"client", client}} {
				r := side.r
				a, err := Parse(r)
				if err != nil {
					t.Fatalf("%s: Parse: %v", side.name, err)
				}
				if a.AccessKeyID != testAK || a.Service != tc.service || a.Region != "us-east-1" || a.SecurityToken != tc.token || a.Presigned {
					t.Errorf("%s: Parse = %+v", side.name, a)
				}
				if err := v.Verify(r, a, testSecret, readBodyHash(t, r), signTime.Add(time.Minute)); err != nil {
					t.Errorf("%s: Verify: %v\ncanonical request:\n%s", side.name, err, CanonicalRequest(r, a, readBodyHash(t, r)))
				}
			}
		})
	}
}

func TestSDKRoundTripMutations(t *testing.T) {
	v := NewVerifier()
	now := signTime.Add(time.Minute)
	type mutation struct {
		name string
		f    func(r *http.Request, body []byte) []byte
	}
	muts := []mutation{
		{"body byte", func(r *http.Request, body []byte) []byte {
			if len(body) == 0 {
				return nil
			}
			body = bytes.Clone(body)
			body[len(body)/2] ^= 1
			return body
		}},
		{"signed header", func(r *http.Request, body []byte) []byte {
			d := r.Header.Get("X-Amz-Date")
			r.Header.Set("X-Amz-Date", d[:len(d)-2]+"7Z")
			return body
		}},
		{"host", func(r *http.Request, body []byte) []byte {
			r.Host = "evil.example.com"
			return body
		}},
		{"method", func(r *http.Request, body []byte) []byte {
			r.Method = "PATCH"
			return body
		}},
		{"query", func(r *http.Request, body []byte) []byte {
			r.URL.RawQuery += "&extra=1"
			r.RequestURI = r.URL.RequestURI()
			return body
		}},
		{"path", func(r *http.Request, body []byte) []byte {
			r.RequestURI = "/x" + r.RequestURI
			return body
		}},
		{"signature", func(r *http.Request, body []byte) []byte {
			h := r.Header.Get("Authorization")
			last := h[len(h)-1]
			if last == '0' {
				last = '1'
			} else {
				last = '0'
			}
			r.Header.Set("Authorization", h[:len(h)-1]+string(last))
			return body
		}},
	}
	for name, tc := range sdkCases {
		for _, m := range muts {
			t.Run(name+"/"+m.name, func(t *testing.T) {
				_, r := sdkSign(t, tc, testSecret)
				body, _ := io.ReadAll(r.Body)
				nb := m.f(r, body)
				if nb == nil {
					t.Skip("no body")
				}
				a, err := Parse(r)
				if err != nil {
					t.Fatalf("Parse: %v", err)
				}
				err = v.Verify(r, a, testSecret, hexSHA256(nb), now)
				if tc.unsigned && m.name == "body byte" {
					if err != nil {
						t.Errorf("UNSIGNED-PAYLOAD body changed: Verify = %v, want nil", err)
					}
					return
				}
				if !errors.Is(err, ErrSignatureDoesNotMatch) {
					t.Errorf("Verify = %v, want SignatureDoesNotMatch", err)
				}
				var e *Error
				if errors.As(err, &e) && e.Message != msgSignatureMismatch {
					t.Errorf("message %q", e.Message)
				}
			})
		}
	}
}

func TestSDKWrongSecretAndSkew(t *testing.T) {
	v := NewVerifier()
	tc := sdkCases["sts query POST"]
	_, r := sdkSign(t, tc, testSecret)
	a, err := Parse(r)
	if err != nil {
		t.Fatal(err)
	}
	payload := readBodyHash(t, r)
	tests := map[string]struct {
		secret string
		now    time.Time
		kind   Kind
		msg    string
	}{
		"ok":              {testSecret, signTime, 0, ""},
		"wrong secret":    {"wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEZ", signTime, KindSignatureDoesNotMatch, msgSignatureMismatch},
		"15 min late":     {testSecret, signTime.Add(15 * time.Minute), 0, ""},
		"15 min early":    {testSecret, signTime.Add(-15 * time.Minute), 0, ""},
		"too late":        {testSecret, signTime.Add(25 * time.Minute), KindRequestTimeTooSkewed, "Signature expired: 20260314T150926Z is now earlier than 20260314T151926Z (20260314T153426Z - 15 min.)"},
		"too early":       {testSecret, signTime.Add(-16 * time.Minute), KindRequestTimeTooSkewed, "Signature not yet current: 20260314T150926Z is still later than 20260314T150826Z (20260314T145326Z + 15 min.)"},
		"skew before sig": {"wrong", signTime.Add(time.Hour), KindRequestTimeTooSkewed, ""},
	}
	for name, tt := range tests {
		t.Run(name, func(t *testing.T) {
			err := v.Verify(r, a, tt.secret, payload, tt.now)
			checkErr(t, err, tt.kind, tt.msg)
		})
	}
}

func checkErr(t *testing.T, err error, kind Kind, msg string) {
	t.Helper()
	if kind == 0 {
		if err != nil {
			t.Fatalf("err = %v, want nil", err)
		}
		return
	}
	var e *Error
	if !errors.As(err, &e) {
		t.Fatalf("err = %v, want *Error of kind %v", err, kind)
	}
	if e.Kind != kind {
		t.Errorf("kind = %v, want %v (%s)", e.Kind, kind, e.Message)
	}
	if msg != "" && e.Message != msg {
		t.Errorf("message\n got %q\nwant %q", e.Message, msg)
	}
}

func sdkPresign(t *testing.T, rawURL string, expires int, token string) *http.Request {
	t.Helper()
	r, err := http.NewRequest("GET", rawURL, nil)
	if err != nil {
		t.Fatal(err)
	}
	if expires >= 0 {
		q := r.URL.Query()
		q.Set("X-Amz-Expires", itoa(expires))
		r.URL.RawQuery = q.Encode()
	}
	creds := aws.Credentials{AccessKeyID: testAK, SecretAccessKey: testSecret, SessionToken: token}
	signed, hdr, err := v4.NewSigner().PresignHTTP(context.Background(), creds, r, EmptyPayloadHash, "sts", "us-east-1", signTime)
	if err != nil {
		t.Fatal(err)
	}
	pr, err := http.NewRequest("GET", signed, nil)
	if err != nil {
		t.Fatal(err)
	}
	for k, vs := range hdr {
		if strings.EqualFold(k, "host") {
			continue
		}
		pr.Header[k] = vs
	}
	return throughWire(t, pr)
}

func itoa(n int) string { return string(appendInt(nil, int64(n))) }

func TestSDKPresign(t *testing.T) {
	v := NewVerifier()
	const u = "https://sts.amazonaws.com/?Action=GetCallerIdentity&Version=2011-06-15"
	r := sdkPresign(t, u, 60, testToken)
	a, err := Parse(r)
	if err != nil {
		t.Fatal(err)
	}
	if !a.Presigned || a.Expires != time.Minute || a.SecurityToken != testToken || a.Service != "sts" || a.AccessKeyID != testAK {
		t.Fatalf("Parse = %+v", a)
	}
	tests := map[string]struct {
		now  time.Time
		kind Kind
		msg  string
	}{
		"at signing":      {signTime, 0, ""},
		"just before":     {signTime.Add(60 * time.Second), 0, ""},
		"expired":         {signTime.Add(61 * time.Second), KindRequestExpired, "Request has expired."},
		"clock behind":    {signTime.Add(-14 * time.Minute), 0, ""},
		"not yet current": {signTime.Add(-16 * time.Minute), KindRequestTimeTooSkewed, ""},
	}
	for name, tt := range tests {
		t.Run(name, func(t *testing.T) {
			checkErr(t, v.Verify(r, a, testSecret, EmptyPayloadHash, tt.now), tt.kind, tt.msg)
		})
	}
	t.Run("tampered query", func(t *testing.T) {
		r := sdkPresign(t, u, 60, "")
		r.URL.RawQuery = strings.Replace(r.URL.RawQuery, "GetCallerIdentity", "GetSessionToken", 1)
		r.RequestURI = r.URL.RequestURI()
		a, err := Parse(r)
		if err != nil {
			t.Fatal(err)
		}
		checkErr(t, v.Verify(r, a, testSecret, EmptyPayloadHash, signTime), KindSignatureDoesNotMatch, msgSignatureMismatch)
	})
	t.Run("longer expiry", func(t *testing.T) {
		r := sdkPresign(t, u, 60, "")
		r.URL.RawQuery = strings.Replace(r.URL.RawQuery, "X-Amz-Expires=60", "X-Amz-Expires=3600", 1)
		r.RequestURI = r.URL.RequestURI()
		a, err := Parse(r)
		if err != nil {
			t.Fatal(err)
		}
		checkErr(t, v.Verify(r, a, testSecret, EmptyPayloadHash, signTime.Add(30*time.Minute)), KindSignatureDoesNotMatch, msgSignatureMismatch)
	})
	t.Run("no expiry", func(t *testing.T) {
		r := sdkPresign(t, u, -1, "")
		a, err := Parse(r)
		if err != nil {
			t.Fatal(err)
		}
		if a.Expires != 0 {
			t.Fatalf("Expires = %v", a.Expires)
		}
		checkErr(t, v.Verify(r, a, testSecret, EmptyPayloadHash, signTime.Add(10*time.Minute)), 0, "")
		checkErr(t, v.Verify(r, a, testSecret, EmptyPayloadHash, signTime.Add(16*time.Minute)), KindRequestTimeTooSkewed, "")
	})
}

// The cache derives a key once per scope and survives concurrent use.
func TestVerifierCache(t *testing.T) {
	v := NewVerifierSize(4)
	tc := sdkCases["kms json"]
	_, r := sdkSign(t, tc, testSecret)
	payload := readBodyHash(t, r)
	a, err := Parse(r)
	if err != nil {
		t.Fatal(err)
	}
	done := make(chan error)
	for range 8 {
		go func() {
			var err error
			for range 50 {
				if err = v.Verify(r, a, testSecret, payload, signTime); err != nil {
					break
				}
			}
			done <- err
		}()
	}
	for range 8 {
		if err := <-done; err != nil {
			t.Fatal(err)
		}
	}
	if n := v.derived.Load(); n < 1 || n > 8 {
		t.Errorf("derived %d keys for one scope", n)
	}
	before := v.derived.Load()
	for range 10 {
		_ = v.Verify(r, a, testSecret, payload, signTime)
	}
	if v.derived.Load() != before {
		t.Errorf("cached key derived again")
	}
	// A new secret for the same key id is a new key, never the old one.
	if err := v.Verify(r, a, testSecret+"2", payload, signTime); !errors.Is(err, ErrSignatureDoesNotMatch) {
		t.Errorf("rotated secret: %v", err)
	}
	// Bounded.
	for i := range 20 {
		b := *a
		b.Region = "region-" + itoa(i)
		b.Scope = ""
		_ = v.Verify(r, &b, testSecret, payload, signTime)
	}
	if n := len(v.keys); n > 4 {
		t.Errorf("cache holds %d keys, max 4", n)
	}
	if s := v.String(); strings.Contains(s, testSecret) {
		t.Errorf("String leaks the secret")
	}
}
