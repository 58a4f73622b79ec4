package conformance

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/rsa"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/base64"
	"encoding/pem"
	"math/big"
	"sync"
	"time"
)

// material is what the known values need that constraints cannot make: a
// certificate with its private key (server and signing certificates, SAML
// metadata), an RSA public key (SSH keys) and a P-256 public key (KMS key
// agreement). It is made once per run.
type material struct {
	certPEM, keyPEM string // a self-signed RSA certificate valid now, and its key
	certB64         string // the certificate's DER in base64 (SAML metadata)
	sshPEM          string // an RSA public key, PEM (UploadSSHPublicKey accepts it)
	ecdhPub         []byte // a P-256 public key, DER SubjectPublicKeyInfo
}

var (
	materialOnce sync.Once
	materialVal  material
)

func materials() *material {
	materialOnce.Do(func() {
		key, err := rsa.GenerateKey(rand.Reader, 2048)
		if err != nil {
			panic(err)
		}
		now := time.Now()
		tmpl := &x509.Certificate{
			SerialNumber: big.NewInt(now.UnixNano()), Subject: pkix.Name{CommonName: "conformance.example.com"},
			DNSNames: []string{"conformance.example.com"}, NotBefore: now.Add(-time.Hour), NotAfter: now.Add(24 * time.Hour),
			KeyUsage: x509.KeyUsageDigitalSignature | x509.KeyUsageKeyEncipherment, ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
		}
		der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
		if err != nil {
			panic(err)
		}
		pkcs8, err := x509.MarshalPKCS8PrivateKey(key)
		if err != nil {
			panic(err)
		}
		spki, err := x509.MarshalPKIXPublicKey(&key.PublicKey)
		if err != nil {
			panic(err)
		}
		ec, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
		if err != nil {
			panic(err)
		}
		ecPub, err := ec.PublicKey.ECDH()
		if err != nil {
			panic(err)
		}
		ecSPKI, err := x509.MarshalPKIXPublicKey(ecPub)
		if err != nil {
			panic(err)
		}
		materialVal = material{
			certPEM: string(pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der})),
			keyPEM:  string(pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: pkcs8})),
			certB64: base64.StdEncoding.EncodeToString(der),
			sshPEM:  string(pem.EncodeToMemory(&pem.Block{Type: "PUBLIC KEY", Bytes: spki})),
			ecdhPub: ecSPKI,
		}
	})
	return &materialVal
}

// samlMetadata is the SAML 2.0 metadata of an identity provider whose
// signing certificate is the material's.
func samlMetadata(entityID string) string {
	return `<?xml version="1.0" encoding="UTF-8"?>
<md:EntityDescriptor xmlns:md="urn:oasis:names:tc:SAML:2.0:metadata" xmlns:ds="http://www.w3.org/2000/09/xmldsig#" entityID="` + entityID + `">
  <md:IDPSSODescriptor protocolSupportEnumeration="urn:oasis:names:tc:SAML:2.0:protocol">
    <md:KeyDescriptor use="signing"><ds:KeyInfo><ds:X509Data><ds:X509Certificate>` + materials().certB64 + `</ds:X509Certificate></ds:X509Data></ds:KeyInfo></md:KeyDescriptor>
    <md:SingleSignOnService Binding="urn:oasis:names:tc:SAML:2.0:bindings:HTTP-Redirect" Location="https://idp.example.com/sso"/>
  </md:IDPSSODescriptor>
</md:EntityDescriptor>`
}
