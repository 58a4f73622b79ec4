package sigv4

import (
	"errors"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"
)

const goodAuth = "AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/20150830/us-east-1/service/aws4_request, SignedHeaders=host;x-amz-date, Signature=5fa00fa31553b73ebf1942676e86291e8372ff2a2260956d9b8aae1d763fbf31"

func headerRequest(auth string, hdr ...string) *http.Request {
	r, _ := http.NewRequest("GET", "https://example.amazonaws.com/", nil)
	if auth != "" {
		r.Header.Set("Authorization", auth)
	}
	for i := 0; i+1 < len(hdr); i += 2 {
		r.Header.Set(hdr[i], hdr[i+1])
	}
	return r
}

func TestParseHeaderErrors(t *testing.T) {
	date := []string{"X-Amz-Date", "20150830T123600Z"}
	tests := map[string]struct {
		r    *http.Request
		kind Kind
		msg  string
	}{
		"ok": {headerRequest(goodAuth, date...), 0, ""},
		"no auth": {headerRequest(""), KindMissingAuthentication,
			"Request is missing Authentication Token"},
		"basic auth": {headerRequest("Basic dXNlcjpwYXNz", date...), KindMissingAuthentication, ""},
		"all missing": {headerRequest("AWS4-HMAC-SHA256 "), KindIncompleteSignature,
			"Authorization header requires 'Credential' parameter. Authorization header requires 'Signature' parameter. Authorization header requires 'SignedHeaders' parameter. Authorization header requires existence of either a 'X-Amz-Date' or a 'Date' header. Authorization=AWS4-HMAC-SHA256 "},
		"no signature": {headerRequest("AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/20150830/us-east-1/service/aws4_request, SignedHeaders=host", date...), KindIncompleteSignature,
			"Authorization header requires 'Signature' parameter. Authorization=AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/20150830/us-east-1/service/aws4_request, SignedHeaders=host"},
		"no date": {headerRequest(goodAuth), KindIncompleteSignature,
			"Authorization header requires existence of either a 'X-Amz-Date' or a 'Date' header. Authorization=" + goodAuth},
		"missing equal sign": {headerRequest("AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/20150830/us-east-1/service/aws4_request, SignedHeaders", date...), KindIncompleteSignature,
			"'SignedHeaders' not a valid key=value pair (missing equal-sign) in Authorization header: 'AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/20150830/us-east-1/service/aws4_request, SignedHeaders'."},
		"algorithm": {headerRequest(strings.Replace(goodAuth, "SHA256", "SHA512", 1), date...), KindIncompleteSignature,
			"Unsupported AWS 'algorithm': 'AWS4-HMAC-SHA512' (only AWS4-HMAC-SHA256 for now)."},
		"bad date": {headerRequest(goodAuth, "X-Amz-Date", "2015-08-30T12:36:00Z"), KindIncompleteSignature,
			"Date must be in ISO-8601 'basic format'. Got '2015-08-30T12:36:00Z'. See http://en.wikipedia.org/wiki/ISO_8601"},
		"impossible date": {headerRequest(goodAuth, "X-Amz-Date", "20150231T123600Z"), KindIncompleteSignature, ""},
		"http date":       {headerRequest(goodAuth, "Date", "Sun, 30 Aug 2015 12:36:00 GMT"), 0, ""},
		"four parts": {headerRequest(strings.Replace(goodAuth, "/us-east-1", "", 1), date...), KindIncompleteSignature,
			"Credential must have exactly 5 slash-delimited elements, e.g. keyid/date/region/service/term, got 'AKIDEXAMPLE/20150830/service/aws4_request'"},
		"six parts":              {headerRequest(strings.Replace(goodAuth, "/us-east-1", "/us-east-1/x", 1), date...), KindIncompleteSignature, ""},
		"trailing slash ignored": {headerRequest(strings.Replace(goodAuth, "aws4_request", "aws4_request//", 1), date...), 0, ""},
		"terminator": {headerRequest(strings.Replace(goodAuth, "aws4_request", "aws5_request", 1), date...), KindSignatureDoesNotMatch,
			"Credential should be scoped with a valid terminator: 'aws4_request', not 'aws5_request'."},
		"scope date": {headerRequest(strings.Replace(goodAuth, "20150830", "20150831", 1), date...), KindSignatureDoesNotMatch,
			"Date in Credential scope does not match YYYYMMDD from ISO-8601 version of date from HTTP: '20150831' != '20150830', from '20150830T123600Z'."},
		"terminator and date": {headerRequest(strings.Replace(strings.Replace(goodAuth, "aws4_request", "x", 1), "20150830", "2015", 1), date...), KindSignatureDoesNotMatch,
			"Credential should be scoped with a valid terminator: 'aws4_request', not 'x'. Date in Credential scope does not match YYYYMMDD from ISO-8601 version of date from HTTP: '2015' != '20150830', from '20150830T123600Z'."},
		"host not signed": {headerRequest(strings.Replace(goodAuth, "host;", "", 1), date...), KindSignatureDoesNotMatch,
			"'Host' or ':authority' must be a 'SignedHeader' in the AWS Authorization."},
		"empty signed headers": {headerRequest(strings.Replace(goodAuth, "host;x-amz-date", "", 1), date...), KindSignatureDoesNotMatch, msgHostNotSigned},
		"header and query": {func() *http.Request {
			r := headerRequest(goodAuth, date...)
			r.URL.RawQuery = "X-Amz-Algorithm=AWS4-HMAC-SHA256"
			return r
		}(), KindIncompleteSignature, ""},
		"no spaces after commas": {headerRequest(strings.ReplaceAll(goodAuth, ", ", ","), date...), 0, ""},
	}
	for name, tt := range tests {
		t.Run(name, func(t *testing.T) {
			_, err := Parse(tt.r)
			checkErr(t, err, tt.kind, tt.msg)
		})
	}
}

// Parse returns what it could read, so the server can answer in the protocol
// of the credential's service.
func TestParsePartialAuth(t *testing.T) {
	a, err := Parse(headerRequest(strings.Replace(goodAuth, "host;", "", 1), "X-Amz-Date", "bad"))
	if err == nil || a == nil || a.Service != "service" || a.AccessKeyID != "AKIDEXAMPLE" {
		t.Fatalf("Parse = %+v, %v", a, err)
	}
}

func TestParsePresignedErrors(t *testing.T) {
	const good = "X-Amz-Algorithm=AWS4-HMAC-SHA256&X-Amz-Credential=AKIDEXAMPLE%2F20150830%2Fus-east-1%2Fsts%2Faws4_request&X-Amz-Date=20150830T123600Z&X-Amz-Expires=60&X-Amz-SignedHeaders=host&X-Amz-Signature=abcd"
	q := func(s string) *http.Request {
		r, _ := http.NewRequest("GET", "https://sts.amazonaws.com/?Action=GetCallerIdentity&"+s, nil)
		return r
	}
	tests := map[string]struct {
		r    *http.Request
		kind Kind
		msg  string
	}{
		"ok": {q(good), 0, ""},
		"missing credential and date": {q("X-Amz-Algorithm=AWS4-HMAC-SHA256&X-Amz-SignedHeaders=host&X-Amz-Signature=abcd"), KindIncompleteSignature,
			"AWS query-string parameters must include 'X-Amz-Credential'. AWS query-string parameters must include 'X-Amz-Date'. Re-examine the query-string parameters."},
		"algorithm": {q(strings.Replace(good, "HMAC-SHA256", "ECDSA-P256-SHA256", 1)), KindIncompleteSignature,
			"Unsupported AWS 'algorithm': 'AWS4-ECDSA-P256-SHA256' (only AWS4-HMAC-SHA256 for now)."},
		"expires too long": {q(strings.Replace(good, "Expires=60", "Expires=604801", 1)), KindIncompleteSignature,
			"X-Amz-Expires must be less than a week (in seconds) that is 604800"},
		"expires negative":     {q(strings.Replace(good, "Expires=60", "Expires=-1", 1)), KindIncompleteSignature, "X-Amz-Expires must be non-negative"},
		"expires not a number": {q(strings.Replace(good, "Expires=60", "Expires=1h", 1)), KindIncompleteSignature, ""},
		"host not signed":      {q(strings.Replace(good, "SignedHeaders=host", "SignedHeaders=x-amz-date", 1)), KindSignatureDoesNotMatch, msgHostNotSigned},
		"bad escape":           {q(strings.Replace(good, "%2F", "%zz", 1)), KindIncompleteSignature, ""},
	}
	for name, tt := range tests {
		t.Run(name, func(t *testing.T) {
			a, err := Parse(tt.r)
			checkErr(t, err, tt.kind, tt.msg)
			if err == nil && (!a.Presigned || a.Expires != time.Minute || a.Service != "sts") {
				t.Errorf("Parse = %+v", a)
			}
		})
	}
}

func TestCheckScope(t *testing.T) {
	a, err := Parse(headerRequest(goodAuth, "X-Amz-Date", "20150830T123600Z"))
	if err != nil {
		t.Fatal(err)
	}
	checkErr(t, a.CheckScope("us-east-1", "service"), 0, "")
	checkErr(t, a.CheckScope("", ""), 0, "")
	checkErr(t, a.CheckScope("eu-west-1", "sts"), KindSignatureDoesNotMatch,
		"Credential should be scoped to a valid region, not 'us-east-1'. Credential should be scoped to correct service: 'sts'.")
}

func TestPayloadHeader(t *testing.T) {
	const body = "9095672bbd1f56dfc5b65f3e153adc8731a4a654192329106275f4c7b24d0b6e"
	tests := map[string]struct {
		header, payload string
		want            string
		kind            Kind
	}{
		"absent":        {"", body, body, 0},
		"unsigned":      {"UNSIGNED-PAYLOAD", body, "UNSIGNED-PAYLOAD", 0},
		"streaming":     {"STREAMING-AWS4-HMAC-SHA256-PAYLOAD", body, "STREAMING-AWS4-HMAC-SHA256-PAYLOAD", 0},
		"matching hash": {body, body, body, 0},
		"hash mismatch": {EmptyPayloadHash, body, "", KindSignatureDoesNotMatch},
		"garbage":       {"not-a-hash", body, "", KindIncompleteSignature},
	}
	for name, tt := range tests {
		t.Run(name, func(t *testing.T) {
			a := &Auth{ContentSHA256: tt.header}
			got, err := payloadLine(a, tt.payload)
			checkErr(t, err, tt.kind, "")
			if got != tt.want {
				t.Errorf("payload line %q, want %q", got, tt.want)
			}
			if signed := a.PayloadSigned(); signed != (tt.header == "" || tt.header == body || tt.header == EmptyPayloadHash || tt.header == "not-a-hash") {
				t.Errorf("PayloadSigned = %v", signed)
			}
		})
	}
}

// The Go SDK does not normalise paths; Verify falls back to the path as sent.
func TestPathFallback(t *testing.T) {
	tc := sdkCases["path with dot and empty segments as the Go SDK signs it"]
	_, r := sdkSign(t, tc, testSecret)
	a, err := Parse(r)
	if err != nil {
		t.Fatal(err)
	}
	if creq := CanonicalRequest(r, a, EmptyPayloadHash); !strings.HasPrefix(creq, "GET\n/a/c/d/\n") {
		t.Fatalf("normalised canonical request starts %q", creq[:20])
	}
	if err := NewVerifier().Verify(r, a, testSecret, EmptyPayloadHash, signTime); err != nil {
		t.Fatal(err)
	}
}

func TestCanonicalURI(t *testing.T) {
	tests := map[string]struct{ path, normalized, raw string }{
		"root":          {"/", "/", "/"},
		"empty":         {"", "/", ""},
		"double encode": {"/a%20b/c%3Ad", "/a%2520b/c%253Ad", "/a%2520b/c%253Ad"},
		"dots":          {"/a/./b/../c", "/a/c", "/a/./b/../c"},
		"above root":    {"/../../a", "/a", "/../../a"},
		"trailing":      {"/a/b/", "/a/b/", "/a/b/"},
		"slashes":       {"//a///b//", "/a/b/", "//a///b//"},
		"reserved":      {"/a:b@c!d$e&f'g(h)i*j+k,l;m=n", "/a%3Ab%40c%21d%24e%26f%27g%28h%29i%2Aj%2Bk%2Cl%3Bm%3Dn", "/a%3Ab%40c%21d%24e%26f%27g%28h%29i%2Aj%2Bk%2Cl%3Bm%3Dn"},
	}
	b := getBuilder()
	defer putBuilder(b)
	for name, tt := range tests {
		if got := string(b.appendCanonicalURI(nil, tt.path, true)); got != tt.normalized {
			t.Errorf("%s: normalised %q, want %q", name, got, tt.normalized)
		}
		if got := string(b.appendCanonicalURI(nil, tt.path, false)); got != tt.raw {
			t.Errorf("%s: raw %q, want %q", name, got, tt.raw)
		}
	}
}

func TestCanonicalQuery(t *testing.T) {
	tests := map[string]struct{ raw, want string }{
		"empty":                  {"", ""},
		"sorted after encoding":  {"v=a-b&v=a%2Fb", "v=a%2Fb&v=a-b"},
		"plus is space":          {"a=b+c&a=b%2Bc", "a=b%20c&a=b%2Bc"},
		"bare key":               {"b&a=", "a=&b="},
		"empty segments":         {"&&a=1&", "a=1"},
		"bad escape":             {"a=%zz&b=%4", "a=%25zz&b=%254"},
		"lower-case escape":      {"a=%2f", "a=%2F"},
		"reserved encoded":       {"a=*:/?", "a=%2A%3A%2F%3F"},
		"key sorts before value": {"a-b=1&a=2", "a=2&a-b=1"},
	}
	b := getBuilder()
	defer putBuilder(b)
	for name, tt := range tests {
		if got := string(b.appendCanonicalQuery(nil, tt.raw, false)); got != tt.want {
			t.Errorf("%s: %q, want %q", name, got, tt.want)
		}
	}
	if got := string(b.appendCanonicalQuery(nil, "X-Amz-Signature=ab&X-Amz-Date=1", true)); got != "X-Amz-Date=1" {
		t.Errorf("presigned: %q", got)
	}
}

func TestTimeHelpers(t *testing.T) {
	tm := time.Date(2015, 8, 30, 12, 36, 0, 0, time.FixedZone("x", 3600))
	if got := ShortDate(tm); got != "20150830" {
		t.Errorf("ShortDate = %q", got)
	}
	if got := AmzDate(tm); got != "20150830T113600Z" {
		t.Errorf("AmzDate = %q", got)
	}
	for _, bad := range []string{"", "20150830T123600", "20150830 123600Z", "2015083OT123600Z", "20151301T000000Z", "20150830T246000Z"} {
		if _, ok := parseAmzDate(bad); ok {
			t.Errorf("parseAmzDate(%q) ok", bad)
		}
	}
}

func TestErrorKinds(t *testing.T) {
	for k := KindMissingAuthentication; k <= KindInvalidClientTokenID; k++ {
		if k.Code() == "InternalFailure" || k.JSONCode() == "InternalFailure" || k.Status() == 500 || k.String() == "Kind(?)" {
			t.Errorf("kind %d lacks a mapping", k)
		}
	}
	if Kind(0).String() != "Kind(?)" || Kind(99).Code() != "InternalFailure" {
		t.Error("unknown kind")
	}
	e := ErrInvalidClientTokenID()
	if e.Kind.Code() != "InvalidClientTokenId" || e.Kind.JSONCode() != "UnrecognizedClientException" || e.Message != "The security token included in the request is invalid." {
		t.Errorf("%+v", e)
	}
	if !errors.Is(newError(KindRequestExpired, "x"), ErrRequestExpired) || errors.Is(newError(KindRequestExpired, "x"), ErrSignatureDoesNotMatch) {
		t.Error("errors.Is by kind")
	}
	if !strings.Contains(e.Error(), "InvalidClientTokenID") {
		t.Error(e.Error())
	}
}

// Neither errors nor String reveal the secret, the signature or the token.
func TestNoSecretsInOutput(t *testing.T) {
	tc := sdkCases["kms json with session token"]
	_, r := sdkSign(t, tc, testSecret)
	a, err := Parse(r)
	if err != nil {
		t.Fatal(err)
	}
	s := a.String()
	if strings.Contains(s, testToken) || strings.Contains(s, a.Signature) {
		t.Errorf("String leaks: %s", s)
	}
	err = NewVerifier().Verify(r, a, testSecret+"x", EmptyPayloadHash, signTime)
	if err == nil || strings.Contains(err.Error(), testSecret) || strings.Contains(err.Error(), testToken) {
		t.Errorf("error leaks: %v", err)
	}
	if (*Auth)(nil).String() == "" {
		t.Error("nil String")
	}
}

func TestWirePath(t *testing.T) {
	u := func(s string) *http.Request {
		r, _ := http.NewRequest("GET", s, nil)
		return r
	}
	opaque := u("https://example.com/")
	opaque.URL.Opaque = "//example.com/a%2Fb/c?x=1"
	noslash := u("https://example.com/")
	noslash.URL.Opaque = "//example.com"
	tests := map[string]struct {
		r    *http.Request
		want string
	}{
		"request uri":  {&http.Request{RequestURI: "/a%2Fb?x=1", URL: &url.URL{Path: "/a/b"}}, "/a%2Fb"},
		"absolute uri": {&http.Request{RequestURI: "http://h/x", URL: &url.URL{Path: "/x"}}, "/x"},
		"escaped path": {u("https://example.com/a%20b"), "/a%20b"},
		"empty":        {u("https://example.com"), "/"},
		"opaque":       {opaque, "/a%2Fb/c"},
		"opaque host":  {noslash, "/"},
		"no url":       {&http.Request{}, "/"},
	}
	for name, tt := range tests {
		if got := wirePath(tt.r); got != tt.want {
			t.Errorf("%s: %q, want %q", name, got, tt.want)
		}
	}
}

func TestHeaderValueFallbacks(t *testing.T) {
	r := &http.Request{Host: "h", Header: http.Header{"X-A": {" 1 ", "2"}}, ContentLength: 42, TransferEncoding: []string{"chunked"}}
	for name, want := range map[string]string{"content-length": "42", "transfer-encoding": "chunked", "x-a": "1,2", "x-missing": "", "host": "h"} {
		if got := string(appendHeaderValue(nil, r, name)); got != want {
			t.Errorf("%s: %q, want %q", name, got, want)
		}
	}
	long := strings.Repeat("x", 70)
	r.Header.Set(long, "v")
	if got := string(appendHeaderValue(nil, r, long)); got != "v" {
		t.Errorf("long name: %q", got)
	}
}
