package iam_test

import (
	"bytes"
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/rsa"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/base64"
	"encoding/pem"
	"errors"
	"math/big"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/iam"
	"github.com/aws/aws-sdk-go-v2/service/iam/types"

	"github.com/rampart/rampart/internal/rampartest"
	iamsvc "github.com/rampart/rampart/internal/service/iam"
	"github.com/rampart/rampart/internal/store"
)

const (
	thumb1 = "990f4193972f2becf12ddeda5237f9c952f20d9e"
	thumb2 = "1c58a3a8518e8759bf075b76b750d4f2df264fcd"
)

func TestOIDCProviders(t *testing.T) {
	srv := rampartest.Start(t)
	ctx := context.Background()
	c := iam.NewFromConfig(srv.Config())

	out := must(c.CreateOpenIDConnectProvider(ctx, &iam.CreateOpenIDConnectProviderInput{
		Url: aws.String("https://Token.Actions.GitHubusercontent.com/"), ClientIDList: []string{"sts.amazonaws.com"},
		ThumbprintList: []string{thumb1}, Tags: []types.Tag{{Key: aws.String("team"), Value: aws.String("ci")}},
	}))(t)
	arn := *out.OpenIDConnectProviderArn
	if arn != "arn:aws:iam::000000000000:oidc-provider/token.actions.githubusercontent.com" {
		t.Fatalf("ARN = %s", arn)
	}
	got := must(c.GetOpenIDConnectProvider(ctx, &iam.GetOpenIDConnectProviderInput{OpenIDConnectProviderArn: &arn}))(t)
	if *got.Url != "token.actions.githubusercontent.com" || !slices.Equal(got.ClientIDList, []string{"sts.amazonaws.com"}) ||
		!slices.Equal(got.ThumbprintList, []string{thumb1}) || got.CreateDate == nil || len(got.Tags) != 1 {
		t.Fatalf("GetOpenIDConnectProvider = %+v", got)
	}

	// Client ids: adding one twice changes nothing; removing an absent one is fine.
	for _, id := range []string{"app-1", "app-1"} {
		must(c.AddClientIDToOpenIDConnectProvider(ctx, &iam.AddClientIDToOpenIDConnectProviderInput{OpenIDConnectProviderArn: &arn, ClientID: aws.String(id)}))(t)
	}
	must(c.RemoveClientIDFromOpenIDConnectProvider(ctx, &iam.RemoveClientIDFromOpenIDConnectProviderInput{OpenIDConnectProviderArn: &arn, ClientID: aws.String("sts.amazonaws.com")}))(t)
	must(c.RemoveClientIDFromOpenIDConnectProvider(ctx, &iam.RemoveClientIDFromOpenIDConnectProviderInput{OpenIDConnectProviderArn: &arn, ClientID: aws.String("never-there")}))(t)
	must(c.UpdateOpenIDConnectProviderThumbprint(ctx, &iam.UpdateOpenIDConnectProviderThumbprintInput{OpenIDConnectProviderArn: &arn, ThumbprintList: []string{thumb2, strings.ToUpper(thumb1)}}))(t)
	got = must(c.GetOpenIDConnectProvider(ctx, &iam.GetOpenIDConnectProviderInput{OpenIDConnectProviderArn: &arn}))(t)
	if !slices.Equal(got.ClientIDList, []string{"app-1"}) || !slices.Equal(got.ThumbprintList, []string{thumb2, thumb1}) {
		t.Fatalf("after updates: %+v", got)
	}

	// Tags.
	must(c.TagOpenIDConnectProvider(ctx, &iam.TagOpenIDConnectProviderInput{OpenIDConnectProviderArn: &arn, Tags: []types.Tag{{Key: aws.String("env"), Value: aws.String("dev")}}}))(t)
	must(c.UntagOpenIDConnectProvider(ctx, &iam.UntagOpenIDConnectProviderInput{OpenIDConnectProviderArn: &arn, TagKeys: []string{"TEAM"}}))(t)
	tags := must(c.ListOpenIDConnectProviderTags(ctx, &iam.ListOpenIDConnectProviderTagsInput{OpenIDConnectProviderArn: &arn}))(t)
	if len(tags.Tags) != 1 || *tags.Tags[0].Key != "env" {
		t.Fatalf("tags = %+v", tags.Tags)
	}

	// What STS sees.
	svc := iamsvc.New(srv.Store, srv.Barrier)
	defer svc.Close()
	info, err := svc.OIDCProvider(ctx, "000000000000", "https://token.actions.githubusercontent.com")
	if err != nil || info.ARN != arn || info.URL != "https://token.actions.githubusercontent.com" || !slices.Equal(info.ClientIDs, []string{"app-1"}) || len(info.Thumbprints) != 2 {
		t.Fatalf("OIDCProvider = %+v, %v", info, err)
	}
	for _, miss := range []struct{ acct, url string }{{"111111111111", "https://token.actions.githubusercontent.com"}, {"000000000000", "https://other.example.com"}, {"000000000000", "not a url"}} {
		if _, err := svc.OIDCProvider(ctx, miss.acct, miss.url); !errors.Is(err, iamsvc.ErrNoSuchProvider) {
			t.Errorf("OIDCProvider(%s, %s) error = %v", miss.acct, miss.url, err)
		}
	}

	bad := map[string]struct {
		call   func() error
		code   string
		status int
		msg    string
	}{
		"duplicate URL": {func() error {
			_, err := c.CreateOpenIDConnectProvider(ctx, &iam.CreateOpenIDConnectProviderInput{Url: aws.String("https://token.actions.githubusercontent.com"), ThumbprintList: []string{thumb1}})
			return err
		}, "EntityAlreadyExists", 409, "Provider with url https://token.actions.githubusercontent.com already exists."},
		"http URL": {func() error {
			_, err := c.CreateOpenIDConnectProvider(ctx, &iam.CreateOpenIDConnectProviderInput{Url: aws.String("http://idp.example.com"), ThumbprintList: []string{thumb1}})
			return err
		}, "InvalidInput", 400, ""},
		"URL with query": {func() error {
			_, err := c.CreateOpenIDConnectProvider(ctx, &iam.CreateOpenIDConnectProviderInput{Url: aws.String("https://idp.example.com/?a=b"), ThumbprintList: []string{thumb1}})
			return err
		}, "InvalidInput", 400, ""},
		"thumbprint not hex": {func() error {
			_, err := c.CreateOpenIDConnectProvider(ctx, &iam.CreateOpenIDConnectProviderInput{Url: aws.String("https://idp.example.com"), ThumbprintList: []string{strings.Repeat("z", 40)}})
			return err
		}, "InvalidInput", 400, ""},
		"six thumbprints": {func() error {
			_, err := c.UpdateOpenIDConnectProviderThumbprint(ctx, &iam.UpdateOpenIDConnectProviderThumbprintInput{OpenIDConnectProviderArn: &arn,
				ThumbprintList: []string{thumb1, thumb1, thumb1, thumb1, thumb1, thumb1}})
			return err
		}, "LimitExceeded", 409, "Cannot exceed quota for ThumbprintsPerOpenIdConnectProvider: 5"},
		"unknown provider": {func() error {
			_, err := c.GetOpenIDConnectProvider(ctx, &iam.GetOpenIDConnectProviderInput{OpenIDConnectProviderArn: aws.String("arn:aws:iam::000000000000:oidc-provider/none.example.com")})
			return err
		}, "NoSuchEntity", 404, "OpenIDConnect Provider not found for arn arn:aws:iam::000000000000:oidc-provider/none.example.com"},
	}
	for name, tc := range bad {
		t.Run(name, func(t *testing.T) {
			err := tc.call()
			msg := wantCode(t, err, tc.code)
			if got := status(err); got != tc.status {
				t.Errorf("status = %d, want %d", got, tc.status)
			}
			if tc.msg != "" && msg != tc.msg {
				t.Errorf("message = %q, want %q", msg, tc.msg)
			}
		})
	}
	// Nothing changed by the refusals.
	list := must(c.ListOpenIDConnectProviders(ctx, &iam.ListOpenIDConnectProvidersInput{}))(t)
	if len(list.OpenIDConnectProviderList) != 1 || *list.OpenIDConnectProviderList[0].Arn != arn {
		t.Fatalf("list = %+v", list.OpenIDConnectProviderList)
	}
	got = must(c.GetOpenIDConnectProvider(ctx, &iam.GetOpenIDConnectProviderInput{OpenIDConnectProviderArn: &arn}))(t)
	if len(got.ThumbprintList) != 2 {
		t.Fatalf("thumbprints after refusal: %v", got.ThumbprintList)
	}

	// A user without permission learns nothing; deletion is idempotent.
	u := newUser(t, srv, c, "nobody")
	_, err = u.GetOpenIDConnectProvider(ctx, &iam.GetOpenIDConnectProviderInput{OpenIDConnectProviderArn: &arn})
	wantCode(t, err, "AccessDenied")
	must(c.DeleteOpenIDConnectProvider(ctx, &iam.DeleteOpenIDConnectProviderInput{OpenIDConnectProviderArn: &arn}))(t)
	must(c.DeleteOpenIDConnectProvider(ctx, &iam.DeleteOpenIDConnectProviderInput{OpenIDConnectProviderArn: &arn}))(t)
	_, err = c.GetOpenIDConnectProvider(ctx, &iam.GetOpenIDConnectProviderInput{OpenIDConnectProviderArn: &arn})
	wantCode(t, err, "NoSuchEntity")
	if _, err := svc.OIDCProvider(ctx, "000000000000", "https://token.actions.githubusercontent.com"); !errors.Is(err, iamsvc.ErrNoSuchProvider) {
		t.Fatalf("after delete: %v", err)
	}
}

// selfSigned returns a DER certificate and its key.
func selfSigned(t *testing.T, cn string) ([]byte, *ecdsa.PrivateKey) {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: cn},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(24 * time.Hour)}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		t.Fatal(err)
	}
	return der, key
}

// samlMetadata is an IdP's metadata document with a signing certificate.
func samlMetadata(t *testing.T, entityID string) string {
	der, _ := selfSigned(t, "idp.example.com")
	b64 := base64.StdEncoding.EncodeToString(der)
	return `<?xml version="1.0" encoding="UTF-8"?>
<md:EntityDescriptor xmlns:md="urn:oasis:names:tc:SAML:2.0:metadata" xmlns:ds="http://www.w3.org/2000/09/xmldsig#" entityID="` + entityID + `" validUntil="2099-01-01T00:00:00Z">
  <md:IDPSSODescriptor WantAuthnRequestsSigned="false" protocolSupportEnumeration="urn:oasis:names:tc:SAML:2.0:protocol">
    <md:KeyDescriptor use="signing">
      <ds:KeyInfo><ds:X509Data><ds:X509Certificate>` + b64 + `</ds:X509Certificate></ds:X509Data></ds:KeyInfo>
    </md:KeyDescriptor>
    <md:NameIDFormat>urn:oasis:names:tc:SAML:1.1:nameid-format:unspecified</md:NameIDFormat>
    <md:NameIDFormat>urn:oasis:names:tc:SAML:2.0:nameid-format:persistent</md:NameIDFormat>
    <md:NameIDFormat>urn:oasis:names:tc:SAML:2.0:nameid-format:transient</md:NameIDFormat>
    <md:SingleSignOnService Binding="urn:oasis:names:tc:SAML:2.0:bindings:HTTP-Redirect" Location="https://idp.example.com/sso/saml/redirect"/>
    <md:SingleSignOnService Binding="urn:oasis:names:tc:SAML:2.0:bindings:HTTP-POST" Location="https://idp.example.com/sso/saml/post"/>
  </md:IDPSSODescriptor>
</md:EntityDescriptor>`
}

func TestSAMLProviders(t *testing.T) {
	srv := rampartest.Start(t)
	ctx := context.Background()
	c := iam.NewFromConfig(srv.Config())
	meta := samlMetadata(t, "https://idp.example.com/metadata")

	out := must(c.CreateSAMLProvider(ctx, &iam.CreateSAMLProviderInput{Name: aws.String("Corp-IdP"), SAMLMetadataDocument: aws.String(meta),
		Tags: []types.Tag{{Key: aws.String("owner"), Value: aws.String("it")}}}))(t)
	arn := *out.SAMLProviderArn
	if arn != "arn:aws:iam::000000000000:saml-provider/Corp-IdP" || len(out.Tags) != 1 {
		t.Fatalf("CreateSAMLProvider = %s %+v", arn, out.Tags)
	}
	got := must(c.GetSAMLProvider(ctx, &iam.GetSAMLProviderInput{SAMLProviderArn: &arn}))(t)
	if *got.SAMLMetadataDocument != meta || got.ValidUntil == nil || got.ValidUntil.Year() != 2099 || got.CreateDate == nil ||
		len(*got.SAMLProviderUUID) != 36 || got.AssertionEncryptionMode != types.AssertionEncryptionModeTypeAllowed {
		t.Fatalf("GetSAMLProvider = %+v", got)
	}
	list := must(c.ListSAMLProviders(ctx, &iam.ListSAMLProvidersInput{}))(t)
	if len(list.SAMLProviderList) != 1 || *list.SAMLProviderList[0].Arn != arn {
		t.Fatalf("ListSAMLProviders = %+v", list.SAMLProviderList)
	}

	// A private key for encrypted assertions: sealed, never returned.
	rk, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		t.Fatal(err)
	}
	pkcs8, _ := x509.MarshalPKCS8PrivateKey(rk)
	keyPEM := string(pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: pkcs8}))
	meta2 := samlMetadata(t, "https://idp.example.com/metadata2")
	must(c.UpdateSAMLProvider(ctx, &iam.UpdateSAMLProviderInput{SAMLProviderArn: &arn, SAMLMetadataDocument: aws.String(meta2),
		AddPrivateKey: aws.String(keyPEM), AssertionEncryptionMode: types.AssertionEncryptionModeTypeRequired}))(t)
	got = must(c.GetSAMLProvider(ctx, &iam.GetSAMLProviderInput{SAMLProviderArn: &arn}))(t)
	if *got.SAMLMetadataDocument != meta2 || len(got.PrivateKeyList) != 1 || got.AssertionEncryptionMode != types.AssertionEncryptionModeTypeRequired {
		t.Fatalf("after update: %+v", got)
	}
	err = srv.Store.View(ctx, func(tx store.Tx) error {
		kvs, err := tx.Scan("iam.saml", "", "", 0)
		if err != nil {
			return err
		}
		for _, kv := range kvs {
			if bytes.Contains(kv.Value, pkcs8[10:40]) || bytes.Contains(kv.Value, []byte(base64.StdEncoding.EncodeToString(pkcs8)[20:60])) {
				t.Error("SAML private key stored in the clear")
			}
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	// Removing the only key while encryption is Required is refused.
	_, err = c.UpdateSAMLProvider(ctx, &iam.UpdateSAMLProviderInput{SAMLProviderArn: &arn, RemovePrivateKey: got.PrivateKeyList[0].KeyId})
	wantCode(t, err, "InvalidInput")

	// What STS sees.
	svc := iamsvc.New(srv.Store, srv.Barrier)
	defer svc.Close()
	info, err := svc.SAMLProvider(ctx, arn)
	if err != nil || info.Name != "Corp-IdP" || info.Account != "000000000000" || string(info.MetadataDocument) != meta2 || info.ARN != arn {
		t.Fatalf("SAMLProvider = %+v, %v", info, err)
	}
	if _, err := svc.SAMLProvider(ctx, "arn:aws:iam::000000000000:saml-provider/none"); !errors.Is(err, iamsvc.ErrNoSuchProvider) {
		t.Fatalf("unknown SAMLProvider: %v", err)
	}

	// Tags.
	must(c.TagSAMLProvider(ctx, &iam.TagSAMLProviderInput{SAMLProviderArn: &arn, Tags: []types.Tag{{Key: aws.String("env"), Value: aws.String("prod")}}}))(t)
	must(c.UntagSAMLProvider(ctx, &iam.UntagSAMLProviderInput{SAMLProviderArn: &arn, TagKeys: []string{"owner"}}))(t)
	tags := must(c.ListSAMLProviderTags(ctx, &iam.ListSAMLProviderTagsInput{SAMLProviderArn: &arn}))(t)
	if len(tags.Tags) != 1 || *tags.Tags[0].Key != "env" {
		t.Fatalf("tags = %+v", tags.Tags)
	}

	pad := "<!--" + strings.Repeat("x", 1000) + "-->"
	noCert := `<md:EntityDescriptor xmlns:md="urn:oasis:names:tc:SAML:2.0:metadata" entityID="x"><md:IDPSSODescriptor protocolSupportEnumeration="urn:oasis:names:tc:SAML:2.0:protocol">` +
		`<md:SingleSignOnService Binding="urn:oasis:names:tc:SAML:2.0:bindings:HTTP-POST" Location="https://idp.example.com/sso"/></md:IDPSSODescriptor></md:EntityDescriptor>` + pad
	spOnly := strings.ReplaceAll(meta, "IDPSSODescriptor", "SPSSODescriptor")
	badCert := strings.Replace(meta, "<ds:X509Certificate>", "<ds:X509Certificate>AAAA", 1)
	bad := map[string]struct {
		name, doc string
		code      string
		status    int
	}{
		"not XML":                 {"p1", strings.Repeat("not xml ", 200), "InvalidInput", 400},
		"no signing certificate":  {"p2", noCert, "InvalidInput", 400},
		"no IDPSSODescriptor":     {"p3", spOnly, "InvalidInput", 400},
		"certificate not X.509":   {"p4", badCert, "InvalidInput", 400},
		"trailing garbage":        {"p5", meta + "<more/>", "InvalidInput", 400},
		"duplicate name":          {"Corp-IdP", meta, "EntityAlreadyExists", 409},
		"document under 1000 chr": {"p6", "<x/>", "ValidationError", 400},
	}
	for name, tc := range bad {
		t.Run(name, func(t *testing.T) {
			_, err := c.CreateSAMLProvider(ctx, &iam.CreateSAMLProviderInput{Name: aws.String(tc.name), SAMLMetadataDocument: aws.String(tc.doc)})
			wantCode(t, err, tc.code)
			if got := status(err); got != tc.status {
				t.Errorf("status = %d, want %d", got, tc.status)
			}
		})
	}
	_, err = c.UpdateSAMLProvider(ctx, &iam.UpdateSAMLProviderInput{SAMLProviderArn: &arn, SAMLMetadataDocument: aws.String(noCert)})
	wantCode(t, err, "InvalidInput")
	if list := must(c.ListSAMLProviders(ctx, &iam.ListSAMLProvidersInput{}))(t); len(list.SAMLProviderList) != 1 {
		t.Fatalf("providers after refusals: %d", len(list.SAMLProviderList))
	}
	if got := must(c.GetSAMLProvider(ctx, &iam.GetSAMLProviderInput{SAMLProviderArn: &arn}))(t); *got.SAMLMetadataDocument != meta2 {
		t.Fatal("refused update changed the metadata")
	}

	must(c.DeleteSAMLProvider(ctx, &iam.DeleteSAMLProviderInput{SAMLProviderArn: &arn}))(t)
	_, err = c.DeleteSAMLProvider(ctx, &iam.DeleteSAMLProviderInput{SAMLProviderArn: &arn})
	if msg := wantCode(t, err, "NoSuchEntity"); msg != "Manifest not found for arn "+arn {
		t.Errorf("message = %q", msg)
	}
}
