package sts_test

import (
	"context"
	"crypto"
	"crypto/rand"
	"crypto/rsa"
	"crypto/sha256"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/base64"
	"math/big"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	awssts "github.com/aws/aws-sdk-go-v2/service/sts"

	"github.com/rampart/rampart/internal/service/sts"
)

const (
	samlIssuer = "https://idp.example.com/saml"
	nsAssert   = "urn:oasis:names:tc:SAML:2.0:assertion"
	nsProto    = "urn:oasis:names:tc:SAML:2.0:protocol"
	nsDS       = "http://www.w3.org/2000/09/xmldsig#"
)

// registerSAML makes a SAML provider whose metadata carries key's
// certificate, as IAM's CreateSAMLProvider leaves it.
func (e *env) registerSAML(t *testing.T, name string, key *rsa.PrivateKey) *sts.SAMLProviderInfo {
	t.Helper()
	tmpl := &x509.Certificate{SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: "idp"}, NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(time.Hour)}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		t.Fatal(err)
	}
	md := `<?xml version="1.0"?>
<!-- IdP metadata -->
<md:EntityDescriptor xmlns:md="urn:oasis:names:tc:SAML:2.0:metadata" xmlns:ds="http://www.w3.org/2000/09/xmldsig#" entityID="` + samlIssuer + `">
  <md:IDPSSODescriptor protocolSupportEnumeration="urn:oasis:names:tc:SAML:2.0:protocol">
    <md:KeyDescriptor use="signing"><ds:KeyInfo><ds:X509Data><ds:X509Certificate>` + base64.StdEncoding.EncodeToString(der) + `</ds:X509Certificate></ds:X509Data></ds:KeyInfo></md:KeyDescriptor>
  </md:IDPSSODescriptor>
</md:EntityDescriptor>`
	p := &sts.SAMLProviderInfo{ARN: "arn:aws:iam::" + account + ":saml-provider/" + name, Name: name, Account: account, MetadataDocument: []byte(md)}
	e.mu.Lock()
	e.saml[p.ARN] = p
	e.mu.Unlock()
	return p
}

// samlParams are the parts of a test assertion.
type samlParams struct {
	id, nameID, roleAttr, session, audience string
	notBefore, notOnOrAfter                 time.Time
}

// assertionBody renders the assertion's content. canonical: exactly as
// Exclusive XML Canonicalization renders it (written by hand here, so the
// test does not check rampart's canonicalization against itself); else as
// an IdP might write it: namespaces declared elsewhere, attributes in
// another order, single quotes, empty-element tags, a character reference
// and an unused namespace declaration — all of which canonicalization
// must undo.
func assertionBody(p samlParams, canonical bool) (start, rest string) {
	tf := func(t time.Time) string { return t.UTC().Format(time.RFC3339) }
	if canonical {
		start = `<saml:Assertion xmlns:saml="` + nsAssert + `" ID="` + p.id + `" IssueInstant="` + tf(p.notBefore) + `" Version="2.0"><saml:Issuer>` + samlIssuer + `</saml:Issuer>`
	} else {
		start = `<saml:Assertion Version='2.0' IssueInstant="` + tf(p.notBefore) + `" ID="` + p.id + `"><saml:Issuer>` + samlIssuer + `</saml:Issuer>`
	}
	nameID := p.nameID
	scd := `<saml:SubjectConfirmationData NotOnOrAfter="` + tf(p.notOnOrAfter) + `" Recipient="https://signin.aws.amazon.com/saml"></saml:SubjectConfirmationData>`
	subject := `<saml:Subject>`
	if !canonical {
		nameID = strings.Replace(nameID, "a", "&#x61;", 1)
		scd = `<saml:SubjectConfirmationData Recipient="https://signin.aws.amazon.com/saml" NotOnOrAfter="` + tf(p.notOnOrAfter) + `"/>`
		subject = `<saml:Subject xmlns:xs="http://www.w3.org/2001/XMLSchema" xmlns:saml="` + nsAssert + `">`
	}
	rest = subject + `<saml:NameID Format="urn:oasis:names:tc:SAML:2.0:nameid-format:persistent">` + nameID + `</saml:NameID>` +
		`<saml:SubjectConfirmation Method="urn:oasis:names:tc:SAML:2.0:cm:bearer">` + scd + `</saml:SubjectConfirmation></saml:Subject>` +
		`<saml:Conditions NotBefore="` + tf(p.notBefore) + `" NotOnOrAfter="` + tf(p.notOnOrAfter) + `"><saml:AudienceRestriction><saml:Audience>` + p.audience + `</saml:Audience></saml:AudienceRestriction></saml:Conditions>` +
		`<saml:AttributeStatement><saml:Attribute Name="https://aws.amazon.com/SAML/Attributes/Role"><saml:AttributeValue>` + p.roleAttr + `</saml:AttributeValue></saml:Attribute>` +
		`<saml:Attribute Name="https://aws.amazon.com/SAML/Attributes/RoleSessionName"><saml:AttributeValue>` + p.session + `</saml:AttributeValue></saml:Attribute></saml:AttributeStatement></saml:Assertion>`
	return start, rest
}

// signedResponse builds a Response whose assertion is signed with key,
// and returns it with its parts for attacks.
func signedResponse(t *testing.T, key *rsa.PrivateKey, p samlParams) (response, signedAssertion string) {
	t.Helper()
	cs, cr := assertionBody(p, true)
	digest := sha256.Sum256([]byte(cs + cr))
	const (
		c14n = "http://www.w3.org/2001/10/xml-exc-c14n#"
		env  = "http://www.w3.org/2000/09/xmldsig#enveloped-signature"
	)
	siBody := `<ds:CanonicalizationMethod Algorithm="` + c14n + `"></ds:CanonicalizationMethod><ds:SignatureMethod Algorithm="http://www.w3.org/2001/04/xmldsig-more#rsa-sha256"></ds:SignatureMethod>` +
		`<ds:Reference URI="#` + p.id + `"><ds:Transforms><ds:Transform Algorithm="` + env + `"></ds:Transform><ds:Transform Algorithm="` + c14n + `"></ds:Transform></ds:Transforms>` +
		`<ds:DigestMethod Algorithm="http://www.w3.org/2001/04/xmlenc#sha256"></ds:DigestMethod><ds:DigestValue>` + base64.StdEncoding.EncodeToString(digest[:]) + `</ds:DigestValue></ds:Reference>`
	siCanonical := `<ds:SignedInfo xmlns:ds="` + nsDS + `">` + siBody + `</ds:SignedInfo>`
	siSum := sha256.Sum256([]byte(siCanonical))
	sig, err := rsa.SignPKCS1v15(rand.Reader, key, crypto.SHA256, siSum[:])
	if err != nil {
		t.Fatal(err)
	}
	// As written: ds declared on the Response, empty-element tags.
	siWritten := `<ds:SignedInfo>` + strings.ReplaceAll(strings.ReplaceAll(siBody, `"></ds:Transform>`, `"/>`), `"></ds:DigestMethod>`, `"/>`) + `</ds:SignedInfo>`
	signature := `<ds:Signature>` + siWritten + `<ds:SignatureValue>` + base64.StdEncoding.EncodeToString(sig) + `</ds:SignatureValue><ds:KeyInfo><ds:X509Data><ds:X509Certificate>ignored</ds:X509Certificate></ds:X509Data></ds:KeyInfo></ds:Signature>`
	ws, wr := assertionBody(p, false)
	signedAssertion = ws + signature + wr
	return wrapResponse(signedAssertion), signedAssertion
}

func wrapResponse(inner string) string {
	return `<?xml version="1.0" encoding="UTF-8"?>
<samlp:Response xmlns:samlp="` + nsProto + `" xmlns:saml="` + nsAssert + `" xmlns:ds="` + nsDS + `" ID="_resp1" Version="2.0" IssueInstant="2024-01-01T00:00:00Z" Destination="https://signin.aws.amazon.com/saml">
  <saml:Issuer>` + samlIssuer + `</saml:Issuer>
  <samlp:Status><samlp:StatusCode Value="urn:oasis:names:tc:SAML:2.0:status:Success"/></samlp:Status>
  ` + inner + `
</samlp:Response>`
}

func TestAssumeRoleWithSAML(t *testing.T) {
	ctx := context.Background()
	e := start(t)
	idpKey, otherKey := rsaKey(t, 0), rsaKey(t, 1)
	prov := e.registerSAML(t, "corp-idp", idpKey)
	trust := `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":{"Federated":"` + prov.ARN + `"},"Action":"sts:AssumeRoleWithSAML","Condition":{"StringEquals":{"saml:aud":"https://signin.aws.amazon.com/saml","saml:iss":"` + samlIssuer + `"}}}]}`
	role := e.role("/", "saml-admin", trust, 0, allowSTS)
	strict := e.role("/", "saml-bob-only", `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":{"Federated":"`+prov.ARN+`"},"Action":"sts:AssumeRoleWithSAML","Condition":{"StringEquals":{"saml:sub":"bob"}}}]}`, 0)
	other := e.role("/", "other-idp", `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":{"Federated":"arn:aws:iam::000000000000:saml-provider/another"},"Action":"sts:AssumeRoleWithSAML"}]}`, 0)

	now := e.clock()
	params := func(mod func(p *samlParams)) samlParams {
		p := samlParams{id: "_a1", nameID: "alice", roleAttr: role.ARN + "," + prov.ARN, session: "alice", audience: "https://signin.aws.amazon.com/saml",
			notBefore: now.Add(-time.Minute), notOnOrAfter: now.Add(5 * time.Minute)}
		if mod != nil {
			mod(&p)
		}
		return p
	}
	good, signed := signedResponse(t, idpKey, params(nil))
	forRole := func(r string) string {
		resp, _ := signedResponse(t, idpKey, params(func(p *samlParams) { p.roleAttr = prov.ARN + "," + r })) // provider first: either order
		return resp
	}
	evil := strings.Replace(strings.Replace(signed, `ID="_a1"`, `ID="_evil"`, 1), "<ds:Signature>", "<!--", 1)
	evil = evil[:strings.Index(evil, "<!--")] + evil[strings.Index(evil, "</ds:Signature>")+len("</ds:Signature>"):]
	evil = strings.Replace(evil, "&#x61;lice", "mallory", 1)

	cases := []struct {
		name, role, principal, response string
		code                            string
		status                          int
		msg                             string
	}{
		{name: "signed assertion", role: role.ARN, response: good},
		{name: "role attribute with the provider first", role: role.ARN, response: forRole(role.ARN)},
		{name: "trust condition on saml:sub not met", role: strict.ARN, response: forRole(strict.ARN), code: "AccessDenied", status: 403, msg: "Not authorized to perform sts:AssumeRoleWithSAML"},
		{name: "role not in the Role attribute", role: other.ARN, response: good, code: "AccessDenied", status: 403, msg: "Not authorized to perform sts:AssumeRoleWithSAML"},
		{name: "trust policy of another provider", role: other.ARN, response: forRole(other.ARN), code: "AccessDenied", status: 403, msg: "Not authorized to perform sts:AssumeRoleWithSAML"},
		{name: "unknown provider", role: role.ARN, principal: "arn:aws:iam::000000000000:saml-provider/nope", response: good, code: "InvalidIdentityToken", status: 400, msg: "Specified provider doesn't exist."},
		{name: "signed by another key", role: role.ARN, response: func() string { r, _ := signedResponse(t, otherKey, params(nil)); return r }(), code: "InvalidIdentityToken", status: 400, msg: "Response signature invalid"},
		{name: "role attribute changed after signing", role: other.ARN, response: strings.Replace(good, role.ARN+",", other.ARN+",", 1), code: "InvalidIdentityToken", status: 400, msg: "Response signature invalid"},
		{name: "unsigned", role: role.ARN, response: wrapResponse(evil), code: "InvalidIdentityToken", status: 400, msg: "Response signature invalid"},
		{name: "wrapping: evil assertion beside the signed one", role: role.ARN, response: wrapResponse(evil + signed), code: "InvalidIdentityToken", status: 400, msg: "exactly one Assertion"},
		{name: "wrapping: signed assertion hidden in Extensions", role: role.ARN, response: wrapResponse(`<samlp:Extensions>` + signed + `</samlp:Extensions>` + evil), code: "InvalidIdentityToken", status: 400, msg: "exactly one Assertion"},
		{name: "wrapping: evil assertion carrying the signed one's ID and signature", role: role.ARN,
			response: wrapResponse(strings.Replace(strings.Replace(signed, "&#x61;lice</saml:NameID>", "mallory</saml:NameID>", 1), `ID="_a1"`, `ID="_a1"`, 1)), code: "InvalidIdentityToken", status: 400, msg: "Response signature invalid"},
		{name: "comment injection in the NameID", role: role.ARN, response: strings.Replace(good, "&#x61;lice", "&#x61;<!---->lice", 1), code: "InvalidIdentityToken", status: 400, msg: "comment"},
		{name: "DOCTYPE", role: role.ARN, response: strings.Replace(good, `<?xml version="1.0" encoding="UTF-8"?>`, `<?xml version="1.0"?><!DOCTYPE r [<!ENTITY x "y">]>`, 1), code: "InvalidIdentityToken", status: 400, msg: "DOCTYPE"},
		{name: "expired", role: role.ARN, response: func() string {
			r, _ := signedResponse(t, idpKey, params(func(p *samlParams) { p.notOnOrAfter = now }))
			return r
		}(), code: "ExpiredTokenException", status: 400, msg: "Token expired"},
		{name: "not yet valid", role: role.ARN, response: func() string {
			r, _ := signedResponse(t, idpKey, params(func(p *samlParams) { p.notBefore = now.Add(time.Hour); p.notOnOrAfter = now.Add(2 * time.Hour) }))
			return r
		}(), code: "InvalidIdentityToken", status: 400, msg: "NotBefore"},
		{name: "wrong audience", role: role.ARN, response: func() string {
			r, _ := signedResponse(t, idpKey, params(func(p *samlParams) { p.audience = "https://sp.example.com" }))
			return r
		}(), code: "InvalidIdentityToken", status: 400, msg: "Audience"},
		{name: "bad session name", role: role.ARN, response: func() string {
			r, _ := signedResponse(t, idpKey, params(func(p *samlParams) { p.session = "a b" }))
			return r
		}(), code: "InvalidIdentityToken", status: 400, msg: "RoleSessionName"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			principal := prov.ARN
			if tc.principal != "" {
				principal = tc.principal
			}
			b64 := base64.StdEncoding.EncodeToString([]byte(tc.response))
			out, err := e.anonymous().AssumeRoleWithSAML(ctx, &awssts.AssumeRoleWithSAMLInput{RoleArn: &tc.role, PrincipalArn: &principal, SAMLAssertion: &b64})
			if tc.code != "" {
				wantError(t, err, tc.code, tc.status, tc.msg)
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if aws.ToString(out.Subject) != "alice" || aws.ToString(out.SubjectType) != "persistent" || aws.ToString(out.Issuer) != samlIssuer ||
				aws.ToString(out.Audience) != "https://signin.aws.amazon.com/saml" || aws.ToString(out.NameQualifier) == "" ||
				*out.AssumedRoleUser.Arn != "arn:aws:sts::000000000000:assumed-role/saml-admin/alice" {
				t.Errorf("response = %+v %+v", out, out.AssumedRoleUser)
			}
			id, err := e.client(out.Credentials).GetCallerIdentity(ctx, &awssts.GetCallerIdentityInput{})
			if err != nil || *id.Arn != "arn:aws:sts::000000000000:assumed-role/saml-admin/alice" {
				t.Errorf("GetCallerIdentity = %v %v", id, err)
			}
		})
	}
}
