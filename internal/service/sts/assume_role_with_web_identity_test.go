package sts_test

import (
	"context"
	"crypto"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/rsa"
	"crypto/sha1"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"math/big"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials/stscreds"
	awssts "github.com/aws/aws-sdk-go-v2/service/sts"

	"github.com/rampart/rampart/internal/authn"
	"github.com/rampart/rampart/internal/service/sts"
)

// issuer is an OpenID Connect issuer on loopback: its own signing keys, a
// discovery document and a JWKS, and a count of the fetches it served.
type issuer struct {
	t       testing.TB
	srv     *httptest.Server
	URL     string
	mu      sync.Mutex
	keys    map[string]crypto.Signer // published, by kid
	fetches atomic.Int32             // JWKS fetches
}

func newIssuer(t testing.TB, tls bool) *issuer {
	t.Helper()
	is := &issuer{t: t, keys: map[string]crypto.Signer{}}
	mux := http.NewServeMux()
	mux.HandleFunc("/.well-known/openid-configuration", func(w http.ResponseWriter, r *http.Request) {
		json.NewEncoder(w).Encode(map[string]any{"issuer": is.URL, "jwks_uri": is.URL + "/keys", "id_token_signing_alg_values_supported": []string{"RS256", "ES256"}})
	})
	mux.HandleFunc("/keys", func(w http.ResponseWriter, r *http.Request) {
		is.fetches.Add(1)
		is.mu.Lock()
		defer is.mu.Unlock()
		var keys []map[string]string
		for kid, k := range is.keys {
			keys = append(keys, jwkOf(kid, k.Public()))
		}
		// An encryption key and a key of an unknown type are skipped.
		keys = append(keys, map[string]string{"kty": "oct", "kid": "hmac", "k": "c2VjcmV0"})
		w.Header().Set("Cache-Control", "public, max-age=3600")
		json.NewEncoder(w).Encode(map[string]any{"keys": keys})
	})
	if tls {
		is.srv = httptest.NewTLSServer(mux)
	} else {
		is.srv = httptest.NewServer(mux)
	}
	t.Cleanup(is.srv.Close)
	is.URL = is.srv.URL
	return is
}

var (
	rsaKeyOnce sync.Once
	rsaKeys    [2]*rsa.PrivateKey
)

// rsaKey returns one of two RSA keys, generated once per test binary.
func rsaKey(t testing.TB, i int) *rsa.PrivateKey {
	rsaKeyOnce.Do(func() {
		for j := range rsaKeys {
			k, err := rsa.GenerateKey(rand.Reader, 2048)
			if err != nil {
				panic(err)
			}
			rsaKeys[j] = k
		}
	})
	return rsaKeys[i]
}

func (is *issuer) publish(kid string, k crypto.Signer) {
	is.mu.Lock()
	is.keys[kid] = k
	is.mu.Unlock()
}

func jwkOf(kid string, pub crypto.PublicKey) map[string]string {
	b64 := base64.RawURLEncoding.EncodeToString
	switch k := pub.(type) {
	case *rsa.PublicKey:
		return map[string]string{"kty": "RSA", "kid": kid, "use": "sig", "alg": "RS256", "n": b64(k.N.Bytes()), "e": b64(big.NewInt(int64(k.E)).Bytes())}
	case *ecdsa.PublicKey:
		raw, _ := k.Bytes() // 0x04 || X || Y
		n := (len(raw) - 1) / 2
		return map[string]string{"kty": "EC", "kid": kid, "use": "sig", "crv": "P-256", "x": b64(raw[1 : 1+n]), "y": b64(raw[1+n:])}
	}
	panic("key type")
}

// sign makes a compact JWS of claims with key, under header alg and kid.
func sign(t testing.TB, key crypto.Signer, alg, kid string, claims map[string]any) string {
	t.Helper()
	hdr := map[string]string{"alg": alg, "typ": "JWT"}
	if kid != "" {
		hdr["kid"] = kid
	}
	h, _ := json.Marshal(hdr)
	p, _ := json.Marshal(claims)
	input := base64.RawURLEncoding.EncodeToString(h) + "." + base64.RawURLEncoding.EncodeToString(p)
	sum := sha256.Sum256([]byte(input))
	var sig []byte
	switch k := key.(type) {
	case *rsa.PrivateKey:
		var err error
		if sig, err = rsa.SignPKCS1v15(rand.Reader, k, crypto.SHA256, sum[:]); err != nil {
			t.Fatal(err)
		}
	case *ecdsa.PrivateKey:
		r, s, err := ecdsa.Sign(rand.Reader, k, sum[:])
		if err != nil {
			t.Fatal(err)
		}
		sig = make([]byte, 64)
		r.FillBytes(sig[:32])
		s.FillBytes(sig[32:])
	case nil:
	}
	return input + "." + base64.RawURLEncoding.EncodeToString(sig)
}

// register makes the issuer an OIDC provider of the account, as IAM's
// CreateOpenIDConnectProvider leaves it (http:// loopback issuers are
// registered as their https:// twin, as dev mode looks them up).
func (e *env) register(is *issuer, thumbprints []string, clientIDs ...string) *sts.OIDCProviderInfo {
	id := strings.TrimPrefix(strings.TrimPrefix(is.URL, "http://"), "https://")
	p := &sts.OIDCProviderInfo{ARN: "arn:aws:iam::" + account + ":oidc-provider/" + id, URL: "https://" + id, ClientIDs: clientIDs, Thumbprints: thumbprints}
	e.mu.Lock()
	e.oidc[p.URL] = p
	e.mu.Unlock()
	return p
}

func trustFederated(provider string, cond string) string {
	c := ""
	if cond != "" {
		c = `,"Condition":` + cond
	}
	return fmt.Sprintf(`{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":{"Federated":%q},"Action":"sts:AssumeRoleWithWebIdentity"%s}]}`, provider, c)
}

// anonymous is an STS client that signs nothing.
func (e *env) anonymous() *awssts.Client {
	return awssts.NewFromConfig(aws.Config{Region: "us-east-1", BaseEndpoint: aws.String(e.URL), RetryMaxAttempts: 1, HTTPClient: &http.Client{}})
}

// TestWebIdentityWithSDKProvider: the SDK's web-identity credential
// provider (AWS_WEB_IDENTITY_TOKEN_FILE + AWS_ROLE_ARN) gets credentials
// from rampart with a token of a local issuer, and they sign requests as
// the role session.
func TestWebIdentityWithSDKProvider(t *testing.T) {
	ctx := context.Background()
	e := start(t)
	is := newIssuer(t, false)
	is.publish("k1", rsaKey(t, 0))
	prov := e.register(is, nil, "sts.amazonaws.com")
	host := strings.TrimPrefix(is.URL, "http://")
	role := e.role("/ci/", "deployer", trustFederated(prov.ARN, fmt.Sprintf(`{"StringEquals":{%q:"repo:acme/app:ref:refs/heads/main",%q:"sts.amazonaws.com"}}`, host+":sub", host+":aud")), 0, allowSTS)

	now := e.clock()
	token := sign(t, rsaKey(t, 0), "RS256", "k1", map[string]any{"iss": is.URL, "sub": "repo:acme/app:ref:refs/heads/main", "aud": "sts.amazonaws.com",
		"iat": now.Unix(), "nbf": now.Unix(), "exp": now.Add(10 * time.Minute).Unix()})
	file := filepath.Join(t.TempDir(), "token")
	if err := os.WriteFile(file, []byte(token), 0o600); err != nil {
		t.Fatal(err)
	}
	provider := stscreds.NewWebIdentityRoleProvider(e.anonymous(), role.ARN, stscreds.IdentityTokenFile(file), func(o *stscreds.WebIdentityRoleOptions) {
		o.RoleSessionName = "gha-42"
	})
	cfg := e.config("", "", "")
	cfg.Credentials = aws.NewCredentialsCache(provider)
	id, err := awssts.NewFromConfig(cfg).GetCallerIdentity(ctx, &awssts.GetCallerIdentityInput{})
	if err != nil {
		t.Fatal(err)
	}
	wantARN := "arn:aws:sts::000000000000:assumed-role/deployer/gha-42"
	if *id.Arn != wantARN || *id.UserId != role.RoleID+":gha-42" || *id.Account != account {
		t.Errorf("GetCallerIdentity = %s %s %s", *id.Arn, *id.UserId, *id.Account)
	}

	// The response, as the API returns it.
	out, err := e.anonymous().AssumeRoleWithWebIdentity(ctx, &awssts.AssumeRoleWithWebIdentityInput{RoleArn: &role.ARN, RoleSessionName: aws.String("direct"), WebIdentityToken: &token, DurationSeconds: aws.Int32(900)})
	if err != nil {
		t.Fatal(err)
	}
	if aws.ToString(out.SubjectFromWebIdentityToken) != "repo:acme/app:ref:refs/heads/main" || aws.ToString(out.Audience) != "sts.amazonaws.com" ||
		aws.ToString(out.Provider) != is.URL || *out.AssumedRoleUser.Arn != "arn:aws:sts::000000000000:assumed-role/deployer/direct" {
		t.Errorf("response = sub %q aud %q provider %q user %q", aws.ToString(out.SubjectFromWebIdentityToken), aws.ToString(out.Audience), aws.ToString(out.Provider), *out.AssumedRoleUser.Arn)
	}
	if !out.Credentials.Expiration.Equal(now.Add(900 * time.Second)) {
		t.Errorf("expiration = %v", out.Credentials.Expiration)
	}
	cred, err := authn.OpenSession(e.Barrier, *out.Credentials.AccessKeyId, *out.Credentials.SessionToken, e.clock())
	if err != nil {
		t.Fatal(err)
	}
	if p := cred.Principal; p.RoleARN != role.ARN || p.Session == nil || p.Session.MFAAuthenticated || p.Session.Chained {
		t.Errorf("session principal = %+v %+v", p, p.Session)
	}
	// The keys were fetched once, and cached.
	if n := is.fetches.Load(); n != 1 {
		t.Errorf("JWKS fetched %d times, want 1", n)
	}
}

// TestWebIdentityRejections: what AWS answers to tokens it will not take.
func TestWebIdentityRejections(t *testing.T) {
	ctx := context.Background()
	e := start(t)
	is := newIssuer(t, false)
	is.publish("k1", rsaKey(t, 0))
	ec, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	is.publish("ec1", ec)
	prov := e.register(is, nil, "my-app", "other-app")
	stranger := newIssuer(t, false) // serves keys, but is not registered
	stranger.publish("k1", rsaKey(t, 0))
	host := strings.TrimPrefix(is.URL, "http://")

	trusting := e.role("/", "web", trustFederated(prov.ARN, fmt.Sprintf(`{"StringLike":{%q:"user-*"},"ForAnyValue:StringEquals":{%q:["mfa","pwd"]}}`, host+":sub", host+":amr")), 7200)
	otherProvider := e.role("/", "other", trustFederated("arn:aws:iam::000000000000:oidc-provider/accounts.example.com", ""), 0)
	usersOnly := e.role("/", "users", trustUser(userARN("alice")), 0)

	now := e.clock()
	claims := func(mod func(m map[string]any)) map[string]any {
		m := map[string]any{"iss": is.URL, "sub": "user-1", "aud": "my-app", "amr": []string{"pwd"}, "iat": now.Unix() - 10, "exp": now.Add(5 * time.Minute).Unix()}
		if mod != nil {
			mod(m)
		}
		return m
	}
	good := sign(t, rsaKey(t, 0), "RS256", "k1", claims(nil))
	tampered := func() string {
		parts := strings.Split(good, ".")
		p, _ := json.Marshal(claims(func(m map[string]any) { m["sub"] = "user-admin" }))
		return parts[0] + "." + base64.RawURLEncoding.EncodeToString(p) + "." + parts[2]
	}()

	cases := []struct {
		name   string
		role   string
		token  string
		dur    *int32
		code   string
		status int
		msg    string
	}{
		{name: "valid RS256", role: trusting.ARN, token: good},
		{name: "valid ES256, audience among several", role: trusting.ARN, token: sign(t, ec, "ES256", "ec1", claims(func(m map[string]any) { m["aud"] = []string{"x", "other-app"} }))},
		{name: "two hours, the role's maximum", role: trusting.ARN, token: good, dur: aws.Int32(7200)},
		{name: "beyond the role's maximum", role: trusting.ARN, token: good, dur: aws.Int32(7201), code: "ValidationError", status: 400, msg: "MaxSessionDuration"},
		{name: "wrong audience", role: trusting.ARN, token: sign(t, rsaKey(t, 0), "RS256", "k1", claims(func(m map[string]any) { m["aud"] = "someone-else" })),
			code: "InvalidIdentityToken", status: 400, msg: "Incorrect token audience"},
		{name: "expired", role: trusting.ARN, token: sign(t, rsaKey(t, 0), "RS256", "k1", claims(func(m map[string]any) { m["exp"] = now.Unix() - 1 })),
			code: "ExpiredTokenException", status: 400, msg: fmt.Sprintf("Token expired: current date/time %d must be before the expiration date/time%d", now.Unix(), now.Unix()-1)},
		{name: "expires right now", role: trusting.ARN, token: sign(t, rsaKey(t, 0), "RS256", "k1", claims(func(m map[string]any) { m["exp"] = now.Unix() })),
			code: "ExpiredTokenException", status: 400, msg: "Token expired"},
		{name: "not yet valid (nbf beyond the skew)", role: trusting.ARN, token: sign(t, rsaKey(t, 0), "RS256", "k1", claims(func(m map[string]any) { m["nbf"] = now.Add(6 * time.Minute).Unix() })),
			code: "InvalidIdentityToken", status: 400, msg: "not valid yet"},
		{name: "nbf within the skew", role: trusting.ARN, token: sign(t, rsaKey(t, 0), "RS256", "k1", claims(func(m map[string]any) { m["nbf"] = now.Add(4 * time.Minute).Unix() }))},
		{name: "issued in the future", role: trusting.ARN, token: sign(t, rsaKey(t, 0), "RS256", "k1", claims(func(m map[string]any) { m["iat"] = now.Add(time.Hour).Unix() })),
			code: "InvalidIdentityToken", status: 400, msg: "before issued"},
		{name: "no exp", role: trusting.ARN, token: sign(t, rsaKey(t, 0), "RS256", "k1", claims(func(m map[string]any) { delete(m, "exp") })),
			code: "InvalidIdentityToken", status: 400, msg: "could not be validated"},
		{name: "unknown provider", role: trusting.ARN, token: sign(t, rsaKey(t, 0), "RS256", "k1", claims(func(m map[string]any) { m["iss"] = stranger.URL })),
			code: "InvalidIdentityToken", status: 400, msg: "No OpenIDConnect provider found in your account for " + stranger.URL},
		{name: "https issuer that is not registered", role: trusting.ARN, token: sign(t, rsaKey(t, 0), "RS256", "k1", claims(func(m map[string]any) { m["iss"] = "https://idp.example.com" })),
			code: "InvalidIdentityToken", status: 400, msg: "No OpenIDConnect provider found in your account for https://idp.example.com"},
		{name: "http issuer not on loopback", role: trusting.ARN, token: sign(t, rsaKey(t, 0), "RS256", "k1", claims(func(m map[string]any) { m["iss"] = "http://idp.example.com" })),
			code: "InvalidIdentityToken", status: 400, msg: "No OpenIDConnect provider found"},
		{name: "untrusted: the trust policy names another provider", role: otherProvider.ARN, token: good,
			code: "AccessDenied", status: 403, msg: "Not authorized to perform sts:AssumeRoleWithWebIdentity"},
		{name: "untrusted: a role for IAM users", role: usersOnly.ARN, token: good,
			code: "AccessDenied", status: 403, msg: "Not authorized to perform sts:AssumeRoleWithWebIdentity"},
		{name: "untrusted: sub not matching the condition", role: trusting.ARN, token: sign(t, rsaKey(t, 0), "RS256", "k1", claims(func(m map[string]any) { m["sub"] = "admin-1" })),
			code: "AccessDenied", status: 403, msg: "Not authorized to perform sts:AssumeRoleWithWebIdentity"},
		{name: "untrusted: amr not matching the condition", role: trusting.ARN, token: sign(t, rsaKey(t, 0), "RS256", "k1", claims(func(m map[string]any) { m["amr"] = []string{"otp"} })),
			code: "AccessDenied", status: 403, msg: "Not authorized"},
		{name: "role that does not exist", role: "arn:aws:iam::000000000000:role/nope", token: good,
			code: "AccessDenied", status: 403, msg: "Not authorized to perform sts:AssumeRoleWithWebIdentity"},
		{name: "claims changed after signing", role: trusting.ARN, token: tampered, code: "InvalidIdentityToken", status: 400, msg: "could not be validated"},
		{name: "signed by another key under the same kid", role: trusting.ARN, token: sign(t, rsaKey(t, 1), "RS256", "k1", claims(nil)),
			code: "InvalidIdentityToken", status: 400, msg: "could not be validated"},
		{name: "alg none", role: trusting.ARN, token: sign(t, nil, "none", "k1", claims(nil)) + "AA", code: "InvalidIdentityToken", status: 400, msg: "could not be validated"},
		{name: "HS256 with the public key as secret", role: trusting.ARN, token: sign(t, nil, "HS256", "hmac", claims(nil)) + "AA", code: "InvalidIdentityToken", status: 400, msg: "could not be validated"},
		{name: "RS256 header over an EC key", role: trusting.ARN, token: sign(t, rsaKey(t, 0), "RS256", "ec1", claims(nil)), code: "InvalidIdentityToken", status: 400, msg: "could not be validated"},
		{name: "unknown kid", role: trusting.ARN, token: sign(t, rsaKey(t, 1), "RS256", "k9", claims(nil)),
			code: "InvalidIdentityToken", status: 400, msg: "Couldn't retrieve verification key from your identity provider"},
		{name: "not a JWT", role: trusting.ARN, token: "an-opaque-access-token-of-twenty-chars", code: "InvalidIdentityToken", status: 400, msg: "not a valid JWT"},
		{name: "no sub", role: trusting.ARN, token: sign(t, rsaKey(t, 0), "RS256", "k1", claims(func(m map[string]any) { delete(m, "sub") })),
			code: "IDPRejectedClaim", status: 403, msg: "sub"},
		{name: "too short (the model)", role: trusting.ARN, token: "x", code: "ValidationError", status: 400, msg: "webIdentityToken"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			out, err := e.anonymous().AssumeRoleWithWebIdentity(ctx, &awssts.AssumeRoleWithWebIdentityInput{RoleArn: &tc.role, RoleSessionName: aws.String("s1x"), WebIdentityToken: &tc.token, DurationSeconds: tc.dur})
			if tc.code != "" {
				wantError(t, err, tc.code, tc.status, tc.msg)
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if out.Credentials == nil || !strings.HasPrefix(*out.Credentials.AccessKeyId, "ASIA") {
				t.Errorf("credentials = %+v", out.Credentials)
			}
		})
	}

	// A signed request is served the same way: the signer is not the caller.
	alice := e.user("alice", allowSTS)
	_, err = alice.AssumeRoleWithWebIdentity(ctx, &awssts.AssumeRoleWithWebIdentityInput{RoleArn: &usersOnly.ARN, RoleSessionName: aws.String("s1x"), WebIdentityToken: &good})
	wantError(t, err, "AccessDenied", 403, "Not authorized to perform sts:AssumeRoleWithWebIdentity")
}

// TestWebIdentityKeyCache: keys are fetched once and cached; a token naming
// a key the cache lacks makes rampart refetch, at most once per 30 s, so a
// rotated key is found and made-up key ids do not hammer the issuer.
func TestWebIdentityKeyCache(t *testing.T) {
	ctx := context.Background()
	e := start(t)
	is := newIssuer(t, false)
	is.publish("k1", rsaKey(t, 0))
	prov := e.register(is, nil, "app")
	role := e.role("/", "web", trustFederated(prov.ARN, ""), 0)
	call := func(key *rsa.PrivateKey, kid string) error {
		now := e.clock()
		tok := sign(t, key, "RS256", kid, map[string]any{"iss": is.URL, "sub": "u", "aud": "app", "exp": now.Add(time.Hour).Unix()})
		_, err := e.anonymous().AssumeRoleWithWebIdentity(ctx, &awssts.AssumeRoleWithWebIdentityInput{RoleArn: &role.ARN, RoleSessionName: aws.String("s2"), WebIdentityToken: &tok})
		return err
	}
	steps := []struct {
		name    string
		advance time.Duration
		key     int
		kid     string
		publish bool
		ok      bool
		fetches int32
	}{
		{name: "first token: keys fetched", key: 0, kid: "k1", ok: true, fetches: 1},
		{name: "second token: from the cache", advance: time.Minute, key: 0, kid: "k1", ok: true, fetches: 1},
		{name: "unknown kid: one refetch", advance: time.Second, key: 1, kid: "k2", fetches: 2},
		{name: "unknown kid again: no refetch within 30 s", advance: 10 * time.Second, key: 1, kid: "k3", fetches: 2},
		{name: "rotated key published, within 30 s: not seen yet", advance: 10 * time.Second, key: 1, kid: "k2", publish: true, fetches: 2},
		{name: "rotated key, 30 s later: refetched and accepted", advance: 11 * time.Second, key: 1, kid: "k2", ok: true, fetches: 3},
		{name: "old key still in the cache", advance: time.Second, key: 0, kid: "k1", ok: true, fetches: 3},
		{name: "after the max-age: refetched", advance: time.Hour, key: 0, kid: "k1", ok: true, fetches: 4},
	}
	for _, st := range steps {
		e.advance(st.advance)
		if st.publish {
			is.publish("k2", rsaKey(t, 1))
		}
		err := call(rsaKey(t, st.key), st.kid)
		if st.ok && err != nil {
			t.Fatalf("%s: %v", st.name, err)
		}
		if !st.ok {
			if err == nil {
				t.Fatalf("%s: accepted", st.name)
			}
			wantError(t, err, "InvalidIdentityToken", 400, "Couldn't retrieve verification key")
		}
		if n := is.fetches.Load(); n != st.fetches {
			t.Fatalf("%s: %d JWKS fetches, want %d", st.name, n, st.fetches)
		}
	}
}

// TestWebIdentityHTTPSIssuer: an https issuer whose certificate no trusted
// CA signed is accepted when the provider's thumbprint pins it, and refused
// otherwise.
func TestWebIdentityHTTPSIssuer(t *testing.T) {
	ctx := context.Background()
	e := start(t)
	is := newIssuer(t, true)
	is.publish("k1", rsaKey(t, 0))
	sum := sha1.Sum(is.srv.Certificate().Raw)
	thumb := hex.EncodeToString(sum[:])
	cases := []struct {
		name        string
		thumbprints []string
		code        string
	}{
		{name: "pinned by thumbprint", thumbprints: []string{"0000000000000000000000000000000000000000", thumb}},
		{name: "no thumbprint, untrusted certificate", code: "InvalidIdentityToken"},
		{name: "another thumbprint", thumbprints: []string{"0000000000000000000000000000000000000000"}, code: "InvalidIdentityToken"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			prov := e.register(is, tc.thumbprints, "app")
			role := e.role("/", "tls", trustFederated(prov.ARN, ""), 0)
			now := e.clock()
			tok := sign(t, rsaKey(t, 0), "RS256", "k1", map[string]any{"iss": is.URL, "sub": "u", "aud": "app", "exp": now.Add(time.Hour).Unix()})
			_, err := e.anonymous().AssumeRoleWithWebIdentity(ctx, &awssts.AssumeRoleWithWebIdentityInput{RoleArn: &role.ARN, RoleSessionName: aws.String("s2"), WebIdentityToken: &tok})
			if tc.code == "" {
				if err != nil {
					t.Fatal(err)
				}
				return
			}
			wantError(t, err, tc.code, 400, "Couldn't retrieve verification key")
		})
	}
}
