package sigv4

import (
	"net/http"
	"net/url"
	"slices"
	"strings"
	"testing"
)

// FuzzParse feeds arbitrary Authorization and date headers, and arbitrary
// query strings, to Parse, and whatever parses to Verify. Neither may panic,
// and an accepted header must hold together.
func FuzzParse(f *testing.F) {
	f.Add(goodAuth, "20150830T123600Z", "")
	f.Add("AWS4-HMAC-SHA256 Credential=a/b/c/d/e", "", "")
	f.Add("AWS4-HMAC-SHA256 Credential=AKID/20150830/us-east-1/sts/aws4_request,SignedHeaders=host,Signature=00", "Sun, 30 Aug 2015 12:36:00 GMT", "")
	f.Add("", "", "X-Amz-Algorithm=AWS4-HMAC-SHA256&X-Amz-Credential=AKID%2F20150830%2Fus-east-1%2Fsts%2Faws4_request&X-Amz-Date=20150830T123600Z&X-Amz-Expires=60&X-Amz-SignedHeaders=host&X-Amz-Signature=00")
	v := NewVerifier()
	f.Fuzz(func(t *testing.T, auth, date, query string) {
		r := &http.Request{Method: "POST", Host: "example.amazonaws.com", URL: &url.URL{Path: "/", RawQuery: query}, Header: http.Header{}}
		if auth != "" {
			r.Header["Authorization"] = []string{auth}
		}
		if date != "" {
			r.Header["X-Amz-Date"] = []string{date}
		}
		a, err := Parse(r)
		if err != nil {
			if _, ok := err.(*Error); !ok {
				t.Fatalf("error %T, want *Error", err)
			}
			return
		}
		if a.Terminator != Terminator || a.Scope != a.Date+"/"+a.Region+"/"+a.Service+"/"+Terminator || a.AmzDate[:8] != a.Date {
			t.Fatalf("inconsistent Auth %+v", a)
		}
		if !slices.Contains(a.SignedHeaders, "host") && !slices.Contains(a.SignedHeaders, ":authority") {
			t.Fatalf("host not signed: %+v", a)
		}
		_ = a.String()
		_ = v.Verify(r, a, "secret", EmptyPayloadHash, a.RequestTime)
	})
}

// FuzzCanonicalRequest builds canonical requests from arbitrary paths,
// queries and header values. The canonical URI and query may hold only
// unreserved characters, '%' escapes and their separators; the query must
// agree with an encoding built on net/url wherever net/url accepts the query.
func FuzzCanonicalRequest(f *testing.F) {
	f.Add("GET", "/", "", "x-amz-date", "20150830T123600Z")
	f.Add("POST", "/example space/../a//b/./c/", "Param2=value2&Param1=value1&ሴ=bar", "my-header", `  "a   b   c"  `)
	f.Add("GET", "/2015-03-31/functions/my%20func%3A1/invocations", "a=b+c&a=b%2Bc&k&=v", "content-type", "application/json;\tcharset=utf-8")
	f.Add("PUT", "/%zz/%/..", "a=%zz&b=%4&%E2%82%AC=%e2%82%ac", "X-Amz-Target", "TrentService.Encrypt")
	f.Fuzz(func(t *testing.T, method, path, query, name, value string) {
		if strings.ContainsAny(method, "\n") {
			return // net/http accepts only a token
		}
		name = strings.ToLower(name)
		r := &http.Request{Method: method, Host: "example.amazonaws.com", RequestURI: "/" + path, URL: &url.URL{RawQuery: query}, Header: http.Header{}}
		r.Header[http.CanonicalHeaderKey(name)] = []string{value}
		a := &Auth{Date: "20150830", Region: "us-east-1", Service: "service", AmzDate: "20150830T123600Z", SignedHeaders: []string{"host", name}}
		creq := CanonicalRequest(r, a, EmptyPayloadHash)
		lines := strings.SplitN(creq, "\n", 4)
		if len(lines) < 4 {
			t.Fatalf("canonical request %q", creq)
		}
		if strings.ContainsFunc(lines[1], func(c rune) bool { return !isCanonical(c, "/") }) || !strings.HasPrefix(lines[1], "/") {
			t.Fatalf("canonical URI %q", lines[1])
		}
		if strings.ContainsFunc(lines[2], func(c rune) bool { return !isCanonical(c, "=&") }) {
			t.Fatalf("canonical query %q", lines[2])
		}
		if want, ok := referenceQuery(query); ok && lines[2] != want {
			t.Fatalf("canonical query of %q\n got %q\nwant %q", query, lines[2], want)
		}
		_ = StringToSign(a, creq)
	})
}

func isCanonical(c rune, extra string) bool {
	return c < 256 && unreserved[c] || c == '%' || strings.ContainsRune(extra, c)
}

// referenceQuery canonicalises a query the way the Go SDK does, from
// url.ParseQuery; false when net/url rejects the query.
func referenceQuery(q string) (string, bool) {
	vals, err := url.ParseQuery(q)
	if err != nil {
		return "", false
	}
	enc := func(s string) string { return strings.ReplaceAll(url.QueryEscape(s), "+", "%20") }
	var pairs [][2]string
	for k, vs := range vals {
		for _, v := range vs {
			pairs = append(pairs, [2]string{enc(k), enc(v)})
		}
	}
	slices.SortFunc(pairs, func(x, y [2]string) int {
		if c := strings.Compare(x[0], y[0]); c != 0 {
			return c
		}
		return strings.Compare(x[1], y[1])
	})
	var b strings.Builder
	for i, p := range pairs {
		if i > 0 {
			b.WriteByte('&')
		}
		b.WriteString(p[0] + "=" + p[1])
	}
	return b.String(), true
}
