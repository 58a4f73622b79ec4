package conformance

import (
	"crypto"
	"crypto/rand"
	"crypto/rsa"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"math/big"
	"net/http"
	"net/http/httptest"
	"strings"
	"time"

	"github.com/rampart/rampart/internal/authz"
	"github.com/rampart/rampart/internal/service/sts"
)

// The federation fixtures make what an identity provider would hand a
// user, as the STS service tests do (internal/service/sts
// assume_role_with_saml_test.go, web_identity_iam_test.go): a SAML
// response signed by the key whose certificate the provider's metadata
// carries, and an OpenID Connect ID token signed by a loopback issuer
// registered with IAM's CreateOpenIDConnectProvider.

const (
	samlNSAssert = "urn:oasis:names:tc:SAML:2.0:assertion"
	samlNSProto  = "urn:oasis:names:tc:SAML:2.0:protocol"
	samlNSDS     = "http://www.w3.org/2000/09/xmldsig#"
	// samlAudience is AWS's sign-in endpoint, the audience and recipient
	// of the assertions AWS accepts.
	samlAudience = "https://signin.aws.amazon.com/saml"
)

// samlResponse is a SAML 2.0 response from issuer whose assertion, with
// id, maps the user to role through provider and is signed (enveloped
// signature, exclusive canonicalization, RSA-SHA256) with the material's
// key. The assertion is written in its canonical form, so that its digest
// is that of the text as sent.
func samlResponse(issuer, id, role, provider, session string) (string, error) {
	now := time.Now().UTC()
	tf := func(t time.Time) string { return t.Format(time.RFC3339) }
	notBefore, notAfter := now.Add(-time.Minute), now.Add(5*time.Minute)
	start := `<saml:Assertion xmlns:saml="` + samlNSAssert + `" ID="` + id + `" IssueInstant="` + tf(notBefore) + `" Version="2.0"><saml:Issuer>` + issuer + `</saml:Issuer>`
	rest := `<saml:Subject><saml:NameID Format="urn:oasis:names:tc:SAML:2.0:nameid-format:persistent">` + session + `</saml:NameID>` +
		`<saml:SubjectConfirmation Method="urn:oasis:names:tc:SAML:2.0:cm:bearer"><saml:SubjectConfirmationData NotOnOrAfter="` + tf(notAfter) + `" Recipient="` + samlAudience + `"></saml:SubjectConfirmationData></saml:SubjectConfirmation></saml:Subject>` +
		`<saml:Conditions NotBefore="` + tf(notBefore) + `" NotOnOrAfter="` + tf(notAfter) + `"><saml:AudienceRestriction><saml:Audience>` + samlAudience + `</saml:Audience></saml:AudienceRestriction></saml:Conditions>` +
		`<saml:AttributeStatement><saml:Attribute Name="https://aws.amazon.com/SAML/Attributes/Role"><saml:AttributeValue>` + role + `,` + provider + `</saml:AttributeValue></saml:Attribute>` +
		`<saml:Attribute Name="https://aws.amazon.com/SAML/Attributes/RoleSessionName"><saml:AttributeValue>` + session + `</saml:AttributeValue></saml:Attribute></saml:AttributeStatement></saml:Assertion>`
	digest := sha256.Sum256([]byte(start + rest))
	const (
		c14n = "http://www.w3.org/2001/10/xml-exc-c14n#"
		env  = "http://www.w3.org/2000/09/xmldsig#enveloped-signature"
	)
	siBody := `<ds:CanonicalizationMethod Algorithm="` + c14n + `"></ds:CanonicalizationMethod><ds:SignatureMethod Algorithm="http://www.w3.org/2001/04/xmldsig-more#rsa-sha256"></ds:SignatureMethod>` +
		`<ds:Reference URI="#` + id + `"><ds:Transforms><ds:Transform Algorithm="` + env + `"></ds:Transform><ds:Transform Algorithm="` + c14n + `"></ds:Transform></ds:Transforms>` +
		`<ds:DigestMethod Algorithm="http://www.w3.org/2001/04/xmlenc#sha256"></ds:DigestMethod><ds:DigestValue>` + base64.StdEncoding.EncodeToString(digest[:]) + `</ds:DigestValue></ds:Reference>`
	// Exclusive canonicalization puts the ds namespace on SignedInfo (it
	// is declared on the Response as sent).
	siSum := sha256.Sum256([]byte(`<ds:SignedInfo xmlns:ds="` + samlNSDS + `">` + siBody + `</ds:SignedInfo>`))
	sig, err := rsa.SignPKCS1v15(rand.Reader, materials().key, crypto.SHA256, siSum[:])
	if err != nil {
		return "", err
	}
	signature := `<ds:Signature><ds:SignedInfo>` + siBody + `</ds:SignedInfo><ds:SignatureValue>` + base64.StdEncoding.EncodeToString(sig) + `</ds:SignatureValue></ds:Signature>`
	doc := `<?xml version="1.0" encoding="UTF-8"?>
<samlp:Response xmlns:samlp="` + samlNSProto + `" xmlns:saml="` + samlNSAssert + `" xmlns:ds="` + samlNSDS + `" ID="_r` + id + `" Version="2.0" IssueInstant="` + tf(now) + `" Destination="` + samlAudience + `">
  <saml:Issuer>` + issuer + `</saml:Issuer>
  <samlp:Status><samlp:StatusCode Value="urn:oasis:names:tc:SAML:2.0:status:Success"/></samlp:Status>
  ` + start + signature + rest + `
</samlp:Response>`
	return base64.StdEncoding.EncodeToString([]byte(doc)), nil
}

// oidcIssuer is an OpenID Connect issuer on loopback, publishing the
// material's RSA key as "k1": rampart dev accepts http on loopback for an
// issuer registered as its https:// twin.
type oidcIssuer struct {
	url string // http://127.0.0.1:port, the tokens' iss
}

// issuer is the harness's issuer, started on first use; it stops with the
// test.
func (h *harness) issuer() *oidcIssuer {
	h.issuerOnce.Do(func() {
		is := &oidcIssuer{}
		mux := http.NewServeMux()
		mux.HandleFunc("/.well-known/openid-configuration", func(w http.ResponseWriter, r *http.Request) {
			json.NewEncoder(w).Encode(map[string]any{"issuer": is.url, "jwks_uri": is.url + "/keys", "id_token_signing_alg_values_supported": []string{"RS256"}})
		})
		mux.HandleFunc("/keys", func(w http.ResponseWriter, r *http.Request) {
			pub := &materials().key.PublicKey
			b64 := base64.RawURLEncoding.EncodeToString
			w.Header().Set("Cache-Control", "public, max-age=3600")
			json.NewEncoder(w).Encode(map[string]any{"keys": []map[string]string{{
				"kty": "RSA", "kid": "k1", "use": "sig", "alg": "RS256", "n": b64(pub.N.Bytes()), "e": b64(big.NewInt(int64(pub.E)).Bytes()),
			}}})
		})
		srv := httptest.NewServer(mux)
		h.t.Cleanup(srv.Close)
		is.url = srv.URL
		h.oidc = is
	})
	return h.oidc
}

// providerURL is the issuer as IAM registers it.
func (is *oidcIssuer) providerURL() string { return "https://" + strings.TrimPrefix(is.url, "http://") }

// oidcClientID is the audience of the issuer's tokens.
const oidcClientID = "cf-app"

// token is an ID token of the issuer for subject sub, valid for ten minutes.
func (is *oidcIssuer) token(sub string) (string, error) {
	now := time.Now()
	hdr, _ := json.Marshal(map[string]string{"alg": "RS256", "typ": "JWT", "kid": "k1"})
	claims, _ := json.Marshal(map[string]any{"iss": is.url, "aud": oidcClientID, "sub": sub, "iat": now.Unix(), "exp": now.Add(10 * time.Minute).Unix()})
	input := base64.RawURLEncoding.EncodeToString(hdr) + "." + base64.RawURLEncoding.EncodeToString(claims)
	sum := sha256.Sum256([]byte(input))
	sig, err := rsa.SignPKCS1v15(rand.Reader, materials().key, crypto.SHA256, sum[:])
	if err != nil {
		return "", err
	}
	return input + "." + base64.RawURLEncoding.EncodeToString(sig), nil
}

// encodedMessage is an encoded authorization message for account acct,
// as a service puts one in an AccessDenied message: rampart's STS seals
// it with the installation's barrier (sts.EncodeAuthorizationMessage),
// which the harness's in-process server lends.
func encodedMessage(c *vctx) (any, error) {
	req := &authz.Request{
		Principal: &authz.Principal{Type: authz.IAMUser, Account: c.acct.ID, ARN: "arn:aws:iam::" + c.acct.ID + ":user/cf-denied", ID: "AIDACONFORMANCE", Name: "cf-denied"},
		Action:    "kms:Decrypt", Resources: []string{"arn:aws:kms:us-east-1:" + c.acct.ID + ":key/cf"},
	}
	return sts.EncodeAuthorizationMessage(c.h.srv.Barrier, c.acct.ID, sts.NewAuthorizationMessage(req, true))
}
