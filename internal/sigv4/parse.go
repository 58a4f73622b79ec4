package sigv4

import (
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"
)

// Algorithm is the only signing algorithm this package verifies.
const Algorithm = "AWS4-HMAC-SHA256"

// Terminator ends every SigV4 credential scope.
const Terminator = "aws4_request"

// MaxExpires is the longest X-Amz-Expires AWS accepts: seven days.
const MaxExpires = 7 * 24 * time.Hour

// MaxSkew is how far the request time may be from the server clock.
const MaxSkew = 15 * time.Minute

// Auth is what a request says about its signature: the credential, the scope,
// the signed headers, the signature and the time. [Parse] fills it without the
// secret, so that the server can route by Service and look up AccessKeyID.
type Auth struct {
	AccessKeyID string
	Date        string // yyyymmdd, from the credential scope
	Region      string
	Service     string
	Terminator  string // the fifth part of the credential; Parse insists on "aws4_request"
	// Scope is the credential scope as signed: "Date/Region/Service/aws4_request".
	Scope string
	// SignedHeaders are the lower-cased header names, in the order signed.
	SignedHeaders []string
	Signature     string // hex, as sent
	// AmzDate is the request time in ISO-8601 basic format ("20150830T123600Z"),
	// as it goes into the string to sign.
	AmzDate     string
	RequestTime time.Time // from X-Amz-Date (header or query) or the Date header
	// SecurityToken is X-Amz-Security-Token (header, or query parameter when
	// presigned). Verify does not check it: the server resolves it to a session.
	SecurityToken string
	// ContentSHA256 is the x-amz-content-sha256 header (or X-Amz-Content-Sha256
	// query parameter when presigned), empty when absent. "UNSIGNED-PAYLOAD"
	// and "STREAMING-…" mean the body is not covered by the signature.
	ContentSHA256 string
	Presigned     bool
	Expires       time.Duration // X-Amz-Expires when presigned; 0 when absent
}

// PayloadSigned reports whether the signature covers the body: false for
// UNSIGNED-PAYLOAD and the STREAMING-… values (whose chunk signatures this
// package does not check).
func (a *Auth) PayloadSigned() bool {
	return a.ContentSHA256 != UnsignedPayload && !strings.HasPrefix(a.ContentSHA256, "STREAMING-")
}

// Parse extracts the credential and the signature from r, from the
// Authorization header or, when presigned, from the X-Amz-* query parameters.
// It needs no secret and does not verify the signature; [Verifier.Verify] does.
//
// Parse checks what can be checked without the secret or the clock: the
// algorithm, the presence of every part, the date format, the five parts of
// the credential, the "aws4_request" terminator, that the scope date is the
// request's date, and that 'host' is signed. On such an error it still returns
// the *Auth as far as it was read (nil when the credential was not reached), so
// that the caller can render the error in the protocol of a.Service.
func Parse(r *http.Request) (*Auth, error) {
	presigned := r.URL != nil && hasPresignParams(r.URL.RawQuery)
	if h := r.Header["Authorization"]; len(h) > 0 && h[0] != "" {
		if presigned {
			// S3's wording; the other services do not document theirs.
			return nil, newError(KindIncompleteSignature, "Only one auth mechanism allowed; only the X-Amz-Algorithm query parameter or the Authorization header should be specified")
		}
		return parseHeader(r, h[0])
	}
	if presigned {
		return parsePresigned(r)
	}
	return nil, newError(KindMissingAuthentication, msgMissingAuth)
}

// hasPresignParams reports whether the raw query names one of the presigned
// parameters. SDKs never percent-encode these names.
func hasPresignParams(q string) bool {
	for q != "" {
		var seg string
		seg, q, _ = strings.Cut(q, "&")
		k, _, _ := strings.Cut(seg, "=")
		switch k {
		case "X-Amz-Algorithm", "X-Amz-Credential", "X-Amz-Signature":
			return true
		}
	}
	return false
}

func parseHeader(r *http.Request, h string) (*Auth, error) {
	alg, rest, _ := strings.Cut(strings.TrimLeft(h, " "), " ")
	if !strings.HasPrefix(alg, "AWS4-") {
		// AWS treats a foreign scheme (Basic, Bearer, AWS …) as no SigV4 at all.
		return nil, newError(KindMissingAuthentication, msgMissingAuth)
	}
	var cred, signed, sig string
	var haveCred, haveSigned, haveSig bool
	for rest != "" {
		var part string
		part, rest, _ = strings.Cut(rest, ",")
		part = strings.Trim(part, " \t")
		if part == "" {
			continue
		}
		k, v, ok := strings.Cut(part, "=")
		if !ok {
			return nil, newError(KindIncompleteSignature, "'"+part+"' not a valid key=value pair (missing equal-sign) in Authorization header: '"+h+"'.")
		}
		switch k {
		case "Credential":
			cred, haveCred = v, true
		case "SignedHeaders":
			signed, haveSigned = v, true
		case "Signature":
			sig, haveSig = v, true
		}
	}
	date, fromDateHeader := headerDate(r.Header)
	if !haveCred || cred == "" || !haveSig || sig == "" || !haveSigned || date == "" {
		var b strings.Builder
		if !haveCred || cred == "" {
			b.WriteString("Authorization header requires 'Credential' parameter. ")
		}
		if !haveSig || sig == "" {
			b.WriteString("Authorization header requires 'Signature' parameter. ")
		}
		if !haveSigned {
			b.WriteString("Authorization header requires 'SignedHeaders' parameter. ")
		}
		if date == "" {
			b.WriteString("Authorization header requires existence of either a 'X-Amz-Date' or a 'Date' header. ")
		}
		b.WriteString("Authorization=")
		b.WriteString(h)
		return nil, newError(KindIncompleteSignature, b.String())
	}
	if alg != Algorithm {
		return nil, unsupportedAlgorithm(alg)
	}
	a := newAuth()
	a.Signature = sig
	if err := a.setCredential(cred); err != nil {
		return nil, err
	}
	a.setSignedHeaders(signed)
	if err := a.setTime(date, fromDateHeader); err != nil {
		return a, err
	}
	if v := r.Header["X-Amz-Security-Token"]; len(v) > 0 {
		a.SecurityToken = v[0]
	}
	if v := r.Header["X-Amz-Content-Sha256"]; len(v) > 0 {
		a.ContentSHA256 = v[0]
	}
	return a, a.check()
}

// headerDate returns X-Amz-Date, else Date, and whether it came from Date.
func headerDate(h http.Header) (string, bool) {
	if v := h["X-Amz-Date"]; len(v) > 0 && v[0] != "" {
		return v[0], false
	}
	if v := h["Date"]; len(v) > 0 && v[0] != "" {
		return v[0], true
	}
	return "", false
}

func unsupportedAlgorithm(alg string) *Error {
	return newError(KindIncompleteSignature, "Unsupported AWS 'algorithm': '"+alg+"' (only AWS4-HMAC-SHA256 for now).")
}

// presignParams are the X-Amz-* query parameters of a presigned request, in
// the order AWS names the missing ones.
var presignParams = [...]string{
	"X-Amz-Algorithm", "X-Amz-Credential", "X-Amz-Signature", "X-Amz-Date", "X-Amz-SignedHeaders",
	"X-Amz-Expires", "X-Amz-Security-Token", "X-Amz-Content-Sha256",
}

const (
	pAlgorithm = iota
	pCredential
	pSignature
	pDate
	pSignedHeaders
	pExpires
	pSecurityToken
	pContentSHA256
	nPresignParams
)

func parsePresigned(r *http.Request) (*Auth, error) {
	var vals [nPresignParams]string
	var have [nPresignParams]bool
	for q := r.URL.RawQuery; q != ""; {
		var seg string
		seg, q, _ = strings.Cut(q, "&")
		k, v, _ := strings.Cut(seg, "=")
		for i, name := range presignParams {
			if k == name && !have[i] {
				dv, err := url.QueryUnescape(v)
				if err != nil {
					return nil, newError(KindIncompleteSignature, "Query-string parameter '"+name+"' is not correctly percent-encoded. "+msgReexamineQuery)
				}
				vals[i], have[i] = dv, true
			}
		}
	}
	var missing strings.Builder
	for _, i := range [...]int{pAlgorithm, pCredential, pSignature, pDate, pSignedHeaders} {
		if vals[i] == "" {
			missing.WriteString("AWS query-string parameters must include '" + presignParams[i] + "'. ")
		}
	}
	if missing.Len() > 0 {
		missing.WriteString(msgReexamineQuery)
		return nil, newError(KindIncompleteSignature, missing.String())
	}
	if vals[pAlgorithm] != Algorithm {
		return nil, unsupportedAlgorithm(vals[pAlgorithm])
	}
	a := newAuth()
	a.Signature, a.Presigned = vals[pSignature], true
	if err := a.setCredential(vals[pCredential]); err != nil {
		return nil, err
	}
	a.setSignedHeaders(vals[pSignedHeaders])
	if err := a.setTime(vals[pDate], false); err != nil {
		return a, err
	}
	if have[pExpires] {
		n, err := strconv.ParseInt(vals[pExpires], 10, 64)
		switch {
		case err != nil:
			return a, newError(KindIncompleteSignature, "X-Amz-Expires should be a number")
		case n < 0:
			return a, newError(KindIncompleteSignature, "X-Amz-Expires must be non-negative")
		case n > int64(MaxExpires/time.Second):
			return a, newError(KindIncompleteSignature, "X-Amz-Expires must be less than a week (in seconds) that is 604800")
		}
		a.Expires = time.Duration(n) * time.Second
	}
	a.SecurityToken = vals[pSecurityToken]
	a.ContentSHA256 = vals[pContentSHA256]
	return a, a.check()
}

// setTime parses the request time. X-Amz-Date must be ISO-8601 basic format;
// the Date header is an HTTP date.
func (a *Auth) setTime(v string, httpDate bool) error {
	if httpDate {
		t, err := http.ParseTime(v)
		if err != nil {
			return badDate(v)
		}
		a.RequestTime = t.UTC()
		a.AmzDate = AmzDate(t)
		return nil
	}
	t, ok := parseAmzDate(v)
	if !ok {
		return badDate(v)
	}
	a.RequestTime, a.AmzDate = t, v
	return nil
}

func badDate(v string) *Error {
	return newError(KindIncompleteSignature, "Date must be in ISO-8601 'basic format'. Got '"+v+"'. See http://en.wikipedia.org/wiki/ISO_8601")
}

// setCredential splits "AKID/yyyymmdd/region/service/aws4_request". AWS
// ignores trailing slashes.
func (a *Auth) setCredential(cred string) error {
	c := strings.TrimRight(cred, "/")
	ak, rest, ok1 := strings.Cut(c, "/")
	date, rest, ok2 := strings.Cut(rest, "/")
	region, rest, ok3 := strings.Cut(rest, "/")
	service, term, ok4 := strings.Cut(rest, "/")
	if !ok1 || !ok2 || !ok3 || !ok4 || strings.Contains(term, "/") {
		return newError(KindIncompleteSignature, "Credential must have exactly 5 slash-delimited elements, e.g. keyid/date/region/service/term, got '"+cred+"'")
	}
	a.AccessKeyID, a.Date, a.Region, a.Service, a.Terminator = ak, date, region, service, term
	a.Scope = c[len(ak)+1:]
	return nil
}

// setSignedHeaders splits the list, lower-casing it if the client did not.
func (a *Auth) setSignedHeaders(s string) {
	if s == "" {
		a.SignedHeaders = nil
		return
	}
	for i := 0; i < len(s); i++ {
		if 'A' <= s[i] && s[i] <= 'Z' {
			s = strings.ToLower(s)
			break
		}
	}
	// strings.Split(s, ";"), into the room newAuth left for it when it fits.
	hs := a.SignedHeaders[:0]
	if n := strings.Count(s, ";") + 1; cap(hs) < n {
		hs = make([]string, 0, n)
	}
	for {
		i := strings.IndexByte(s, ';')
		if i < 0 {
			break
		}
		hs = append(hs, s[:i])
		s = s[i+1:]
	}
	a.SignedHeaders = append(hs, s)
}

// authAndHeaders is an Auth with room for its signed headers: the SDKs sign
// three to six, so one allocation serves both.
type authAndHeaders struct {
	a       Auth
	headers [8]string
}

// newAuth returns an empty Auth whose SignedHeaders has room for eight names.
func newAuth() *Auth {
	ah := new(authAndHeaders)
	ah.a.SignedHeaders = ah.headers[:0:len(ah.headers)]
	return &ah.a
}

// check applies the rules that need neither the secret nor the clock.
func (a *Auth) check() error {
	host := false
	for _, h := range a.SignedHeaders {
		if h == "host" || h == ":authority" {
			host = true
			break
		}
	}
	if !host {
		return newError(KindSignatureDoesNotMatch, msgHostNotSigned)
	}
	var msg string
	if a.Terminator != Terminator {
		msg = "Credential should be scoped with a valid terminator: 'aws4_request', not '" + a.Terminator + "'."
	}
	if len(a.AmzDate) < 8 || a.Date != a.AmzDate[:8] {
		if msg != "" {
			msg += " "
		}
		msg += "Date in Credential scope does not match YYYYMMDD from ISO-8601 version of date from HTTP: '" + a.Date + "' != '" + ShortDate(a.RequestTime) + "', from '" + a.AmzDate + "'."
	}
	if msg != "" {
		return newError(KindSignatureDoesNotMatch, msg)
	}
	return nil
}

// CheckScope reports whether the credential scope names region and service,
// with AWS's messages; an empty region or service is not checked. Parse cannot
// do it: only the server knows which region it is and which service it routed
// the request to.
func (a *Auth) CheckScope(region, service string) error {
	var msg string
	if region != "" && a.Region != region {
		msg = "Credential should be scoped to a valid region, not '" + a.Region + "'."
	}
	if service != "" && a.Service != service {
		if msg != "" {
			msg += " "
		}
		msg += "Credential should be scoped to correct service: '" + service + "'."
	}
	if msg != "" {
		return newError(KindSignatureDoesNotMatch, msg)
	}
	return nil
}

// String describes the credential and scope for logs. It leaves out the
// signature and the session token.
func (a *Auth) String() string {
	if a == nil {
		return "sigv4.Auth(nil)"
	}
	s := "AWS4-HMAC-SHA256 " + a.AccessKeyID + "/" + a.Scope + " at " + a.AmzDate + " signing " + strings.Join(a.SignedHeaders, ";")
	if a.Presigned {
		s += " (presigned, expires " + a.Expires.String() + ")"
	}
	if a.SecurityToken != "" {
		s += " (session token)"
	}
	return s
}
