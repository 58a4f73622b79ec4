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
// certificate with its private key and the certificate of the CA that
// issued it (server and signing certificates, SAML metadata and
// assertions, ID tokens), another private key (a SAML provider's second
// decryption key), an RSA public key (SSH keys) and a P-256 public key
// (KMS key agreement). It is made once per run.
type material struct {
	certPEM, keyPEM string          // an RSA certificate valid now, issued by the CA, and its key
	key             *rsa.PrivateKey // that key
	chainPEM        string          // the issuing CA's self-signed certificate
	key2PEM         string          // another RSA private key
	certB64         string          // the certificate's DER in base64 (SAML metadata)
	sshPEM          string          // an RSA public key, PEM (UploadSSHPublicKey accepts it)
	ecdhPub         []byte          // a P-256 public key, DER SubjectPublicKeyInfo
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
		caKey, err := rsa.GenerateKey(rand.Reader, 2048)
		if err != nil {
			panic(err)
		}
		key2, err := rsa.GenerateKey(rand.Reader, 2048)
		if err != nil {
			panic(err)
		}
		now := time.Now()
		caTmpl := &x509.Certificate{
			SerialNumber: big.NewInt(now.UnixNano() + 1), Subject: pkix.Name{CommonName: "Conformance CA"},
			NotBefore: now.Add(-time.Hour), NotAfter: now.Add(48 * time.Hour), IsCA: true, BasicConstraintsValid: true,
			KeyUsage: x509.KeyUsageCertSign | x509.KeyUsageCRLSign,
		}
		caDER, err := x509.CreateCertificate(rand.Reader, caTmpl, caTmpl, &caKey.PublicKey, caKey)
		if err != nil {
			panic(err)
		}
		ca, err := x509.ParseCertificate(caDER)
		if err != nil {
			panic(err)
		}
		tmpl := &x509.Certificate{
			SerialNumber: big.NewInt(now.UnixNano()), Subject: pkix.Name{CommonName: "conformance.example.com"},
			DNSNames: []string{"conformance.example.com"}, NotBefore: now.Add(-time.Hour), NotAfter: now.Add(24 * time.Hour),
			KeyUsage: x509.KeyUsageDigitalSignature | x509.KeyUsageKeyEncipherment, ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
		}
		der, err := x509.CreateCertificate(rand.Reader, tmpl, ca, &key.PublicKey, caKey)
		if err != nil {
			panic(err)
		}
		key2DER, err := x509.MarshalPKCS8PrivateKey(key2)
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
			certPEM:  string(pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der})),
			keyPEM:   string(pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: pkcs8})),
			key:      key,
			chainPEM: string(pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: caDER})),
			key2PEM:  string(pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: key2DER})),
			certB64:  base64.StdEncoding.EncodeToString(der),
			sshPEM:   string(pem.EncodeToMemory(&pem.Block{Type: "PUBLIC KEY", Bytes: spki})),
			ecdhPub:  ecSPKI,
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
