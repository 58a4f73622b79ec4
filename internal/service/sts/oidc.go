package sts

import (
	"context"
	"crypto"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rsa"
	"crypto/sha1"
	"crypto/sha256"
	"crypto/sha512"
	"crypto/tls"
	"crypto/x509"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math/big"
	"net"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"
)

// OpenID Connect ID tokens, as AssumeRoleWithWebIdentity checks them: a
// JWS in compact form (RFC 7515) whose signature verifies with a key of the
// issuer's JWKS (RFC 7517), found through the issuer's discovery document
// (OpenID Connect Discovery 1.0, /.well-known/openid-configuration).

// jwtClaims are the claims rampart reads.
type jwtClaims struct {
	Iss string          `json:"iss"`
	Sub string          `json:"sub"`
	Aud audience        `json:"aud"`
	Azp string          `json:"azp"`
	Amr audience        `json:"amr"`
	Exp *json.Number    `json:"exp"`
	Nbf *json.Number    `json:"nbf"`
	Iat *json.Number    `json:"iat"`
	Raw json.RawMessage `json:"-"`
}

// audience is a claim that is a string or an array of strings.
type audience []string

func (a *audience) UnmarshalJSON(b []byte) error {
	var one string
	if err := json.Unmarshal(b, &one); err == nil {
		*a = audience{one}
		return nil
	}
	var many []string
	if err := json.Unmarshal(b, &many); err != nil {
		return err
	}
	*a = many
	return nil
}

type jwtHeader struct {
	Alg string `json:"alg"`
	Kid string `json:"kid"`
	Typ string `json:"typ"`
}

// jwt is a parsed, not yet verified token.
type jwt struct {
	header       jwtHeader
	claims       jwtClaims
	signingInput []byte // header.payload, as signed
	signature    []byte
}

var errNotJWT = errors.New("not a JWT")

// parseJWT splits and decodes a compact JWS. It verifies nothing.
func parseJWT(token string) (*jwt, error) {
	parts := strings.Split(token, ".")
	if len(parts) != 3 || parts[0] == "" || parts[1] == "" || parts[2] == "" {
		return nil, errNotJWT
	}
	dec := base64.RawURLEncoding.Strict()
	h, err := dec.DecodeString(parts[0])
	if err != nil {
		return nil, errNotJWT
	}
	p, err := dec.DecodeString(parts[1])
	if err != nil {
		return nil, errNotJWT
	}
	sig, err := dec.DecodeString(parts[2])
	if err != nil {
		return nil, errNotJWT
	}
	t := &jwt{signingInput: []byte(parts[0] + "." + parts[1]), signature: sig}
	if err := json.Unmarshal(h, &t.header); err != nil {
		return nil, errNotJWT
	}
	if err := unmarshalNumbers(p, &t.claims); err != nil {
		return nil, errNotJWT
	}
	t.claims.Raw = p
	return t, nil
}

func unmarshalNumbers(b []byte, v any) error {
	d := json.NewDecoder(strings.NewReader(string(b)))
	d.UseNumber()
	return d.Decode(v)
}

// numericDate reads a NumericDate claim (seconds since the epoch, possibly
// fractional); ok is false when it is absent or not a number.
func numericDate(n *json.Number) (int64, bool) {
	if n == nil {
		return 0, false
	}
	if i, err := n.Int64(); err == nil {
		return i, true
	}
	f, err := n.Float64()
	if err != nil {
		return 0, false
	}
	return int64(f), true
}

// algorithms AWS accepts for ID tokens: RS256/384/512 and ES256/384/512.
// "none" and HMAC (whose key would be a public JWKS entry) are refused.
func algorithm(alg string) (hash crypto.Hash, ec bool, curve elliptic.Curve, ok bool) {
	switch alg {
	case "RS256":
		return crypto.SHA256, false, nil, true
	case "RS384":
		return crypto.SHA384, false, nil, true
	case "RS512":
		return crypto.SHA512, false, nil, true
	case "ES256":
		return crypto.SHA256, true, elliptic.P256(), true
	case "ES384":
		return crypto.SHA384, true, elliptic.P384(), true
	case "ES512":
		return crypto.SHA512, true, elliptic.P521(), true
	}
	return 0, false, nil, false
}

func digest(h crypto.Hash, b []byte) []byte {
	switch h {
	case crypto.SHA384:
		s := sha512.Sum384(b)
		return s[:]
	case crypto.SHA512:
		s := sha512.Sum512(b)
		return s[:]
	}
	s := sha256.Sum256(b)
	return s[:]
}

// verify checks the token's signature with key; the key type must be the
// algorithm's.
func (t *jwt) verify(key crypto.PublicKey) bool {
	h, ec, curve, ok := algorithm(t.header.Alg)
	if !ok {
		return false
	}
	sum := digest(h, t.signingInput)
	switch k := key.(type) {
	case *rsa.PublicKey:
		if ec || k.N.BitLen() < 2048 {
			return false
		}
		return rsa.VerifyPKCS1v15(k, h, sum, t.signature) == nil
	case *ecdsa.PublicKey:
		if !ec || k.Curve != curve {
			return false
		}
		n := (curve.Params().BitSize + 7) / 8
		if len(t.signature) != 2*n {
			return false
		}
		r := new(big.Int).SetBytes(t.signature[:n])
		s := new(big.Int).SetBytes(t.signature[n:])
		return ecdsa.Verify(k, sum, r, s)
	}
	return false
}

// jwk is one key of a JWKS.
type jwk struct {
	Kty string `json:"kty"`
	Kid string `json:"kid"`
	Use string `json:"use"`
	Alg string `json:"alg"`
	N   string `json:"n"`
	E   string `json:"e"`
	Crv string `json:"crv"`
	X   string `json:"x"`
	Y   string `json:"y"`
}

// publicKey decodes a signing key; ok is false for keys rampart cannot use
// (encryption keys, unknown types or curves), which are skipped.
func (k *jwk) publicKey() (crypto.PublicKey, bool) {
	if k.Use != "" && k.Use != "sig" {
		return nil, false
	}
	dec := base64.RawURLEncoding
	switch k.Kty {
	case "RSA":
		n, err1 := dec.DecodeString(strings.TrimRight(k.N, "="))
		e, err2 := dec.DecodeString(strings.TrimRight(k.E, "="))
		if err1 != nil || err2 != nil || len(n) == 0 || len(e) == 0 || len(e) > 4 {
			return nil, false
		}
		exp := 0
		for _, b := range e {
			exp = exp<<8 | int(b)
		}
		if exp < 3 {
			return nil, false
		}
		return &rsa.PublicKey{N: new(big.Int).SetBytes(n), E: exp}, true
	case "EC":
		var curve elliptic.Curve
		switch k.Crv {
		case "P-256":
			curve = elliptic.P256()
		case "P-384":
			curve = elliptic.P384()
		case "P-521":
			curve = elliptic.P521()
		default:
			return nil, false
		}
		x, err1 := dec.DecodeString(strings.TrimRight(k.X, "="))
		y, err2 := dec.DecodeString(strings.TrimRight(k.Y, "="))
		size := (curve.Params().BitSize + 7) / 8
		if err1 != nil || err2 != nil || len(x) != size || len(y) != size {
			return nil, false
		}
		point := append(append([]byte{4}, x...), y...)
		pub, err := ecdsa.ParseUncompressedPublicKey(curve, point)
		if err != nil {
			return nil, false
		}
		return pub, true
	}
	return nil, false
}

// Key cache policy. AWS caches an issuer's keys and refetches them when a
// token names a key it does not know; rampart does the same, at most once
// per refetchInterval per issuer, so that tokens with made-up key ids
// cannot make it hammer the issuer.
const (
	keysTTLDefault  = time.Hour
	keysTTLMin      = 5 * time.Minute
	keysTTLMax      = 24 * time.Hour
	refetchInterval = 30 * time.Second
	fetchTimeout    = 5 * time.Second // AWS gives the issuer 5 s
	maxDocumentSize = 1 << 20
	maxKeyrings     = 1024
)

// errIDPUnreachable is a failure to get the discovery document or the JWKS.
var errIDPUnreachable = errors.New("identity provider unreachable")

// errIDPTimeout: the issuer did not answer in time.
var errIDPTimeout = errors.New("identity provider did not answer in time")

// errUnknownKey: the JWKS has no key the token names.
var errUnknownKey = errors.New("no verification key")

type keyring struct {
	mu          sync.Mutex
	keys        map[string]crypto.PublicKey // by kid ("" for keys without one)
	fetched     time.Time
	ttl         time.Duration
	lastAttempt time.Time
}

// keyrings caches issuers' keys, by issuer URL and TLS trust (thumbprints).
type keyrings struct {
	mu    sync.Mutex
	rings map[string]*keyring
	// allowLoopbackHTTP lets http:// issuers on loopback addresses through
	// (dev mode); every other issuer must be https.
	allowLoopbackHTTP bool
	roots             *x509.CertPool // nil: the system's
	// transport is used for http:// loopback issuers and, when set, for
	// every fetch (tests).
	transport http.RoundTripper
}

func newKeyrings(allowLoopbackHTTP bool, roots *x509.CertPool) *keyrings {
	return &keyrings{rings: map[string]*keyring{}, allowLoopbackHTTP: allowLoopbackHTTP, roots: roots}
}

// key returns the verification key kid of issuer, fetching or refetching
// the issuer's keys as the cache policy says.
func (k *keyrings) key(ctx context.Context, issuer string, thumbprints []string, kid string, now time.Time) (crypto.PublicKey, error) {
	id := issuer + "|" + strings.Join(thumbprints, ",")
	k.mu.Lock()
	r, ok := k.rings[id]
	if !ok {
		if len(k.rings) >= maxKeyrings {
			k.rings = map[string]*keyring{}
		}
		r = &keyring{}
		k.rings[id] = r
	}
	k.mu.Unlock()

	r.mu.Lock()
	defer r.mu.Unlock()
	valid := func() bool { return r.keys != nil && !now.Before(r.fetched) && now.Sub(r.fetched) < r.ttl }
	if valid() {
		if key, ok := pick(r.keys, kid); ok {
			return key, nil
		}
	}
	// Never fetched, stale, or an unknown kid: fetch, unless the last
	// attempt was less than refetchInterval ago.
	if r.lastAttempt.IsZero() || now.Sub(r.lastAttempt) >= refetchInterval || now.Before(r.lastAttempt) {
		r.lastAttempt = now
		keys, ttl, err := k.fetch(ctx, issuer, thumbprints)
		if err != nil && !valid() {
			return nil, err
		}
		if err == nil {
			r.keys, r.fetched, r.ttl = keys, now, ttl
		}
	}
	if !valid() {
		return nil, errIDPUnreachable
	}
	if key, ok := pick(r.keys, kid); ok {
		return key, nil
	}
	return nil, errUnknownKey
}

// pick finds the key a token names; a token without a kid may use the
// only key of a JWKS that has one.
func pick(keys map[string]crypto.PublicKey, kid string) (crypto.PublicKey, bool) {
	if k, ok := keys[kid]; ok {
		return k, true
	}
	if kid == "" && len(keys) == 1 {
		for _, k := range keys {
			return k, true
		}
	}
	return nil, false
}

// fetch reads the discovery document and the JWKS it names.
func (k *keyrings) fetch(ctx context.Context, issuer string, thumbprints []string) (map[string]crypto.PublicKey, time.Duration, error) {
	client, err := k.client(issuer, thumbprints)
	if err != nil {
		return nil, 0, err
	}
	ctx, cancel := context.WithTimeout(ctx, fetchTimeout)
	defer cancel()
	var disc struct {
		Issuer  string `json:"issuer"`
		JWKSURI string `json:"jwks_uri"`
	}
	if _, err := getJSON(ctx, client, strings.TrimRight(issuer, "/")+"/.well-known/openid-configuration", &disc); err != nil {
		return nil, 0, err
	}
	// The discovery document must be the issuer's own (OpenID Connect
	// Discovery 1.0 §4.3), and its JWKS on the same origin's trust rules.
	if strings.TrimRight(disc.Issuer, "/") != strings.TrimRight(issuer, "/") || disc.JWKSURI == "" {
		return nil, 0, fmt.Errorf("%w: discovery document of %s names issuer %q", errIDPUnreachable, issuer, disc.Issuer)
	}
	ju, err := url.Parse(disc.JWKSURI)
	if err != nil || !k.allowedURL(ju) {
		return nil, 0, fmt.Errorf("%w: jwks_uri %q", errIDPUnreachable, disc.JWKSURI)
	}
	if ju.Host != mustHost(issuer) {
		// Another host: its TLS trust is the system's, not the thumbprints.
		if client, err = k.client(disc.JWKSURI, nil); err != nil {
			return nil, 0, err
		}
	}
	var set struct {
		Keys []jwk `json:"keys"`
	}
	hdr, err := getJSON(ctx, client, disc.JWKSURI, &set)
	if err != nil {
		return nil, 0, err
	}
	keys := map[string]crypto.PublicKey{}
	for i := range set.Keys {
		if pub, ok := set.Keys[i].publicKey(); ok {
			keys[set.Keys[i].Kid] = pub
		}
	}
	return keys, cacheTTL(hdr), nil
}

func mustHost(raw string) string {
	u, err := url.Parse(raw)
	if err != nil {
		return ""
	}
	return u.Host
}

// cacheTTL reads Cache-Control max-age, within [keysTTLMin, keysTTLMax].
func cacheTTL(h http.Header) time.Duration {
	ttl := keysTTLDefault
	for _, d := range strings.Split(h.Get("Cache-Control"), ",") {
		d = strings.TrimSpace(strings.ToLower(d))
		if v, ok := strings.CutPrefix(d, "max-age="); ok {
			if n, err := strconv.Atoi(v); err == nil {
				ttl = time.Duration(n) * time.Second
			}
		}
	}
	return min(max(ttl, keysTTLMin), keysTTLMax)
}

func getJSON(ctx context.Context, c *http.Client, u string, v any) (http.Header, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, u, nil)
	if err != nil {
		return nil, fmt.Errorf("%w: %v", errIDPUnreachable, err)
	}
	req.Header.Set("Accept", "application/json")
	resp, err := c.Do(req)
	if err != nil {
		if ctx.Err() != nil {
			return nil, fmt.Errorf("%w: GET %s", errIDPTimeout, u)
		}
		return nil, fmt.Errorf("%w: %v", errIDPUnreachable, err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return nil, fmt.Errorf("%w: GET %s: %s", errIDPUnreachable, u, resp.Status)
	}
	body, err := io.ReadAll(io.LimitReader(resp.Body, maxDocumentSize+1))
	if ctx.Err() != nil {
		return nil, fmt.Errorf("%w: GET %s", errIDPTimeout, u)
	}
	if err != nil || len(body) > maxDocumentSize {
		return nil, fmt.Errorf("%w: GET %s: body unreadable or over %d bytes", errIDPUnreachable, u, maxDocumentSize)
	}
	if err := json.Unmarshal(body, v); err != nil {
		return nil, fmt.Errorf("%w: GET %s: %v", errIDPUnreachable, u, err)
	}
	return resp.Header, nil
}

// allowedURL: https, or http on a loopback address in dev mode.
func (k *keyrings) allowedURL(u *url.URL) bool {
	switch u.Scheme {
	case "https":
		return u.Host != ""
	case "http":
		return k.allowLoopbackHTTP && isLoopback(u.Hostname())
	}
	return false
}

func isLoopback(host string) bool {
	if strings.EqualFold(host, "localhost") {
		return true
	}
	ip := net.ParseIP(host)
	return ip != nil && ip.IsLoopback()
}

// client returns an HTTP client for the issuer: no redirects (a redirect
// could lead to a host the trust rules were not checked for), and for
// https, TLS verified against the system's roots or, failing that, against
// the provider's thumbprints (SHA-1 of a certificate of the chain the
// server presents, as IAM defines them): the certificate whose thumbprint
// matches must be the root of a valid chain to the server's certificate
// for the issuer's host.
func (k *keyrings) client(raw string, thumbprints []string) (*http.Client, error) {
	u, err := url.Parse(raw)
	if err != nil || !k.allowedURL(u) {
		return nil, fmt.Errorf("%w: issuer %q is not an https URL", errIDPUnreachable, raw)
	}
	noRedirect := func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }
	if k.transport != nil {
		return &http.Client{Transport: k.transport, CheckRedirect: noRedirect}, nil
	}
	if u.Scheme == "http" {
		return &http.Client{Transport: &http.Transport{Proxy: nil, DisableKeepAlives: true}, CheckRedirect: noRedirect}, nil
	}
	roots := k.roots
	tp := slices.Clone(thumbprints)
	cfg := &tls.Config{
		MinVersion:         tls.VersionTLS12,
		InsecureSkipVerify: true, // verified by VerifyConnection, below
		VerifyConnection: func(cs tls.ConnectionState) error {
			return verifyIssuerTLS(cs, roots, tp)
		},
	}
	return &http.Client{
		Transport:     &http.Transport{Proxy: http.ProxyFromEnvironment, TLSClientConfig: cfg, DisableKeepAlives: true},
		CheckRedirect: noRedirect,
	}, nil
}

func verifyIssuerTLS(cs tls.ConnectionState, roots *x509.CertPool, thumbprints []string) error {
	if len(cs.PeerCertificates) == 0 {
		return errors.New("no server certificate")
	}
	leaf := cs.PeerCertificates[0]
	inter := x509.NewCertPool()
	for _, c := range cs.PeerCertificates[1:] {
		inter.AddCert(c)
	}
	opts := x509.VerifyOptions{DNSName: cs.ServerName, Roots: roots, Intermediates: inter}
	_, sysErr := leaf.Verify(opts)
	if sysErr == nil {
		return nil
	}
	for _, c := range cs.PeerCertificates {
		sum := sha1.Sum(c.Raw)
		if !slices.Contains(thumbprints, hex.EncodeToString(sum[:])) {
			continue
		}
		pinned := x509.NewCertPool()
		pinned.AddCert(c)
		opts.Roots = pinned
		if _, err := leaf.Verify(opts); err == nil {
			return nil
		}
	}
	return sysErr
}
