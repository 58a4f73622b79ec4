package iam

import (
	"context"
	"crypto"
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/rsa"
	"crypto/x509"
	"encoding/json"
	"encoding/pem"
	"errors"
	"strings"
	"time"

	"github.com/rampart/rampart/internal/authz"
	"github.com/rampart/rampart/internal/service"
	"github.com/rampart/rampart/internal/store"

	iamapi "github.com/rampart/rampart/internal/api/iam"
)

// Server certificates (for load balancers and CloudFront that predate
// ACM). The certificate, its chain and its private key are validated on
// upload; the private key is sealed by the barrier and never returned.

const (
	tableServerCert    = "iam.servercert" // <acct>/<lower name> → serverCert
	prefixServerCert   = "ASCA"
	maxServerCerts     = 20
	errChainMessage    = "Unable to validate certificate chain. The certificate chain must start with the immediate signing certificate, followed by any intermediaries in order. The index within the chain of the invalid certificate is: %d"
	errMalformedCert   = "Unable to parse certificate. Please ensure the certificate is in PEM format."
	errMalformedKey    = "Unable to parse private key. Please ensure the private key is in PEM format."
	errKeyPairMismatch = "The private key did not match the public key provided by the certificate."
)

type serverCert struct {
	Name       string    `json:"name"`
	Path       string    `json:"path"`
	ID         string    `json:"id"`
	ARN        string    `json:"arn"`
	Body       string    `json:"body"`
	Chain      string    `json:"chain,omitempty"`
	Key        []byte    `json:"key"` // sealed PKCS #8
	Uploaded   time.Time `json:"uploaded"`
	Expiration time.Time `json:"expiration"`
	Tags       []tag     `json:"tags,omitempty"`
}

func serverCertAAD(acct, id string) []byte { return []byte(tableServerCert + "/" + acct + "/" + id) }

func (c *serverCert) meta() *iamapi.ServerCertificateMetadata {
	return &iamapi.ServerCertificateMetadata{Path: ptr(c.Path), ServerCertificateName: ptr(c.Name), ServerCertificateId: ptr(c.ID), Arn: ptr(c.ARN),
		UploadDate: ptr(c.Uploaded), Expiration: ptr(c.Expiration)}
}

func (s *Service) registerServerCerts(r *service.Registry) {
	type R = service.Call
	service.Handle(r, iamapi.OpUploadServerCertificate, s.UploadServerCertificate, service.Rule[iamapi.UploadServerCertificateRequest]{Action: "iam:UploadServerCertificate",
		Resources: func(c *R, in *iamapi.UploadServerCertificateRequest) []string {
			return []string{entityARN(c.Principal.Account, "server-certificate", pathOr(in.Path), str(in.ServerCertificateName))}
		},
		Context: func(c *R, in *iamapi.UploadServerCertificateRequest, k map[string][]string) { requestTags(in.Tags, k) }})
	service.Handle(r, iamapi.OpGetServerCertificate, s.GetServerCertificate, service.Rule[iamapi.GetServerCertificateRequest]{Action: "iam:GetServerCertificate",
		Resource: certResource(s, func(in *iamapi.GetServerCertificateRequest) string { return str(in.ServerCertificateName) })})
	service.Handle(r, iamapi.OpListServerCertificates, s.ListServerCertificates, service.Rule[iamapi.ListServerCertificatesRequest]{Action: "iam:ListServerCertificates",
		Resources: func(c *R, in *iamapi.ListServerCertificatesRequest) []string {
			return listARN(c, "server-certificate", in.PathPrefix)
		}})
	service.Handle(r, iamapi.OpUpdateServerCertificate, s.UpdateServerCertificate, service.Rule[iamapi.UpdateServerCertificateRequest]{Action: "iam:UpdateServerCertificate",
		Resource: certResource(s, func(in *iamapi.UpdateServerCertificateRequest) string { return str(in.ServerCertificateName) })})
	service.Handle(r, iamapi.OpDeleteServerCertificate, s.DeleteServerCertificate, service.Rule[iamapi.DeleteServerCertificateRequest]{Action: "iam:DeleteServerCertificate",
		Resource: certResource(s, func(in *iamapi.DeleteServerCertificateRequest) string { return str(in.ServerCertificateName) })})
	service.Handle(r, iamapi.OpTagServerCertificate, s.TagServerCertificate, service.Rule[iamapi.TagServerCertificateRequest]{Action: "iam:TagServerCertificate",
		Resource: certResource(s, func(in *iamapi.TagServerCertificateRequest) string { return str(in.ServerCertificateName) }),
		Context:  func(c *R, in *iamapi.TagServerCertificateRequest, k map[string][]string) { requestTags(in.Tags, k) }})
	service.Handle(r, iamapi.OpUntagServerCertificate, s.UntagServerCertificate, service.Rule[iamapi.UntagServerCertificateRequest]{Action: "iam:UntagServerCertificate",
		Resource: certResource(s, func(in *iamapi.UntagServerCertificateRequest) string { return str(in.ServerCertificateName) }),
		Context: func(c *R, in *iamapi.UntagServerCertificateRequest, k map[string][]string) {
			k["aws:TagKeys"] = in.TagKeys
		}})
	service.Handle(r, iamapi.OpListServerCertificateTags, s.ListServerCertificateTags, service.Rule[iamapi.ListServerCertificateTagsRequest]{Action: "iam:ListServerCertificateTags",
		Resource: certResource(s, func(in *iamapi.ListServerCertificateTagsRequest) string { return str(in.ServerCertificateName) })})
}

// certResource returns a rule's Resource func for the named server
// certificate: its ARN with its path and its tags.
func certResource[I any](s *Service, name func(in *I) string) func(context.Context, *service.Call, *I) (*authz.Resource, error) {
	return func(ctx context.Context, c *service.Call, in *I) (*authz.Resource, error) {
		acct := c.Principal.Account
		n := name(in)
		res := &authz.Resource{ARN: entityARN(acct, "server-certificate", "/", n), Account: acct}
		err := s.store.View(ctx, func(tx store.Tx) error {
			var sc serverCert
			ok, err := getJSON(tx, tableServerCert, entityKey(acct, n), &sc)
			if err != nil || !ok {
				return err
			}
			res.ARN, res.Tags = sc.ARN, tagMap(sc.Tags)
			return nil
		})
		return res, err
	}
}

// parsePEMCerts parses a sequence of PEM certificates.
func parsePEMCerts(s string) ([]*x509.Certificate, bool) {
	rest := []byte(s)
	var out []*x509.Certificate
	for {
		blk, r := pem.Decode(rest)
		if blk == nil {
			break
		}
		rest = r
		if blk.Type != "CERTIFICATE" {
			return nil, false
		}
		c, err := x509.ParseCertificate(blk.Bytes)
		if err != nil {
			return nil, false
		}
		out = append(out, c)
	}
	if strings.TrimSpace(string(rest)) != "" || len(out) == 0 {
		return nil, false
	}
	return out, true
}

// parsePrivateKey parses a PEM private key (PKCS #1, PKCS #8 or SEC 1).
func parsePrivateKey(s string) (crypto.Signer, []byte, bool) {
	blk, rest := pem.Decode([]byte(s))
	if blk == nil || strings.TrimSpace(string(rest)) != "" {
		return nil, nil, false
	}
	var key any
	var err error
	if key, err = x509.ParsePKCS8PrivateKey(blk.Bytes); err != nil {
		if key, err = x509.ParsePKCS1PrivateKey(blk.Bytes); err != nil {
			if key, err = x509.ParseECPrivateKey(blk.Bytes); err != nil {
				return nil, nil, false
			}
		}
	}
	signer, ok := key.(crypto.Signer)
	if !ok {
		return nil, nil, false
	}
	der, err := x509.MarshalPKCS8PrivateKey(key)
	if err != nil {
		return nil, nil, false
	}
	return signer, der, true
}

func publicKeysEqual(a, b crypto.PublicKey) bool {
	switch k := a.(type) {
	case *rsa.PublicKey:
		return k.Equal(b)
	case *ecdsa.PublicKey:
		return k.Equal(b)
	case ed25519.PublicKey:
		return k.Equal(b)
	}
	return false
}

// validateServerCert checks the certificate, that the private key is its,
// and that each certificate of the chain signed the one before it.
func validateServerCert(body, key, chain string) (*x509.Certificate, []byte, error) {
	certs, ok := parsePEMCerts(body)
	if !ok || len(certs) != 1 {
		return nil, nil, iamapi.NewMalformedCertificateException(errMalformedCert)
	}
	cert := certs[0]
	signer, der, ok := parsePrivateKey(key)
	if !ok {
		return nil, nil, iamapi.NewMalformedCertificateException(errMalformedKey)
	}
	if !publicKeysEqual(cert.PublicKey, signer.Public()) {
		return nil, nil, iamapi.NewKeyPairMismatchException(errKeyPairMismatch)
	}
	if chain != "" {
		cs, ok := parsePEMCerts(chain)
		if !ok {
			return nil, nil, iamapi.NewMalformedCertificateException(errMalformedCert)
		}
		prev := cert
		for i, c := range cs {
			if err := prev.CheckSignatureFrom(c); err != nil {
				return nil, nil, iamapi.NewMalformedCertificateException(errChainMessage, i)
			}
			prev = c
		}
	}
	return cert, der, nil
}

// UploadServerCertificate stores a certificate, its chain and its private
// key (sealed).
func (s *Service) UploadServerCertificate(ctx context.Context, in *iamapi.UploadServerCertificateRequest) (*iamapi.UploadServerCertificateResponse, error) {
	c := service.CallFrom(ctx)
	acct := c.Principal.Account
	cert, der, err := validateServerCert(str(in.CertificateBody), str(in.PrivateKey), str(in.CertificateChain))
	if err != nil {
		return nil, err
	}
	tags, err := mergeTags(nil, in.Tags)
	if err != nil {
		return nil, err
	}
	id, err := newID(c.Rand, prefixServerCert, 17)
	if err != nil {
		return nil, err
	}
	sealed, err := s.barrier.Seal(der, serverCertAAD(acct, id))
	if err != nil {
		return nil, err
	}
	name, path := str(in.ServerCertificateName), pathOr(in.Path)
	sc := &serverCert{Name: name, Path: path, ID: id, ARN: entityARN(acct, "server-certificate", path, name), Body: str(in.CertificateBody),
		Chain: str(in.CertificateChain), Key: sealed, Uploaded: c.Now.UTC().Truncate(time.Second), Expiration: cert.NotAfter.UTC(), Tags: tags}
	err = s.store.Update(ctx, func(tx store.Tx) error {
		if n, err := tx.Count(tableServerCert, acct+"/"); err != nil {
			return err
		} else if n >= maxServerCerts {
			return iamapi.NewLimitExceededException("Cannot exceed quota for ServerCertificatesPerAccount: %d", maxServerCerts)
		}
		if err := insertJSON(tx, tableServerCert, entityKey(acct, name), sc); err != nil {
			if errors.Is(err, store.ErrExists) {
				return iamapi.NewEntityAlreadyExistsException("The Server Certificate with name %s already exists.", name)
			}
			return err
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	return &iamapi.UploadServerCertificateResponse{ServerCertificateMetadata: sc.meta(), Tags: apiTags(sc.Tags)}, nil
}

func noSuchServerCert(name string) error {
	return iamapi.NewNoSuchEntityException("The Server Certificate with name %s cannot be found.", name)
}

func getServerCert(tx store.Tx, acct, name string) (*serverCert, error) {
	var sc serverCert
	ok, err := getJSON(tx, tableServerCert, entityKey(acct, name), &sc)
	if err != nil {
		return nil, err
	}
	if !ok {
		return nil, noSuchServerCert(name)
	}
	return &sc, nil
}

// GetServerCertificate returns a certificate and its chain, never its key.
func (s *Service) GetServerCertificate(ctx context.Context, in *iamapi.GetServerCertificateRequest) (*iamapi.GetServerCertificateResponse, error) {
	acct := service.CallFrom(ctx).Principal.Account
	var sc *serverCert
	err := s.store.View(ctx, func(tx store.Tx) error {
		var err error
		sc, err = getServerCert(tx, acct, str(in.ServerCertificateName))
		return err
	})
	if err != nil {
		return nil, err
	}
	out := &iamapi.ServerCertificate{ServerCertificateMetadata: sc.meta(), CertificateBody: ptr(sc.Body), Tags: apiTags(sc.Tags)}
	if sc.Chain != "" {
		out.CertificateChain = ptr(sc.Chain)
	}
	return &iamapi.GetServerCertificateResponse{ServerCertificate: out}, nil
}

// ListServerCertificates lists certificates under a path prefix.
func (s *Service) ListServerCertificates(ctx context.Context, in *iamapi.ListServerCertificatesRequest) (*iamapi.ListServerCertificatesResponse, error) {
	acct := service.CallFrom(ctx).Principal.Account
	prefix := pathOr(in.PathPrefix)
	var all []iamapi.ServerCertificateMetadata
	err := s.store.View(ctx, func(tx store.Tx) error {
		kvs, err := tx.Scan(tableServerCert, acct+"/", "", 0)
		if err != nil {
			return err
		}
		for _, kv := range kvs {
			var sc serverCert
			if err := json.Unmarshal(kv.Value, &sc); err != nil {
				return err
			}
			if strings.HasPrefix(sc.Path, prefix) {
				all = append(all, *sc.meta())
			}
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	pg, trunc, next, err := page(all, in.Marker, in.MaxItems)
	if err != nil {
		return nil, err
	}
	if pg == nil {
		pg = []iamapi.ServerCertificateMetadata{}
	}
	return &iamapi.ListServerCertificatesResponse{ServerCertificateMetadataList: pg, IsTruncated: trunc, Marker: next}, nil
}

// UpdateServerCertificate renames a certificate or changes its path.
func (s *Service) UpdateServerCertificate(ctx context.Context, in *iamapi.UpdateServerCertificateRequest) (*awsEmpty, error) {
	acct := service.CallFrom(ctx).Principal.Account
	return empty(s.store.Update(ctx, func(tx store.Tx) error {
		sc, err := getServerCert(tx, acct, str(in.ServerCertificateName))
		if err != nil {
			return err
		}
		old := sc.Name
		if in.NewPath != nil {
			sc.Path = *in.NewPath
		}
		if in.NewServerCertificateName != nil && *in.NewServerCertificateName != old {
			if !strings.EqualFold(*in.NewServerCertificateName, old) {
				if _, err := tx.Get(tableServerCert, entityKey(acct, *in.NewServerCertificateName)); err == nil {
					return iamapi.NewEntityAlreadyExistsException("The Server Certificate with name %s already exists.", *in.NewServerCertificateName)
				}
			}
			if _, err := tx.Delete(tableServerCert, entityKey(acct, old)); err != nil {
				return err
			}
			sc.Name = *in.NewServerCertificateName
		}
		sc.ARN = entityARN(acct, "server-certificate", sc.Path, sc.Name)
		return putJSON(tx, tableServerCert, entityKey(acct, sc.Name), sc)
	}))
}

// DeleteServerCertificate deletes a certificate and its sealed key.
func (s *Service) DeleteServerCertificate(ctx context.Context, in *iamapi.DeleteServerCertificateRequest) (*awsEmpty, error) {
	acct := service.CallFrom(ctx).Principal.Account
	return empty(s.store.Update(ctx, func(tx store.Tx) error {
		sc, err := getServerCert(tx, acct, str(in.ServerCertificateName))
		if err != nil {
			return err
		}
		_, err = tx.Delete(tableServerCert, entityKey(acct, sc.Name))
		return err
	}))
}

func (s *Service) updateServerCert(ctx context.Context, name string, fn func(sc *serverCert) error) error {
	acct := service.CallFrom(ctx).Principal.Account
	return s.store.Update(ctx, func(tx store.Tx) error {
		sc, err := getServerCert(tx, acct, name)
		if err != nil {
			return err
		}
		if err := fn(sc); err != nil {
			return err
		}
		return putJSON(tx, tableServerCert, entityKey(acct, sc.Name), sc)
	})
}

// TagServerCertificate adds tags to a certificate.
func (s *Service) TagServerCertificate(ctx context.Context, in *iamapi.TagServerCertificateRequest) (*awsEmpty, error) {
	return empty(s.updateServerCert(ctx, str(in.ServerCertificateName), func(sc *serverCert) error {
		var err error
		sc.Tags, err = mergeTags(sc.Tags, in.Tags)
		return err
	}))
}

// UntagServerCertificate removes tags from a certificate.
func (s *Service) UntagServerCertificate(ctx context.Context, in *iamapi.UntagServerCertificateRequest) (*awsEmpty, error) {
	return empty(s.updateServerCert(ctx, str(in.ServerCertificateName), func(sc *serverCert) error {
		sc.Tags = removeTags(sc.Tags, in.TagKeys)
		return nil
	}))
}

// ListServerCertificateTags lists a certificate's tags.
func (s *Service) ListServerCertificateTags(ctx context.Context, in *iamapi.ListServerCertificateTagsRequest) (*iamapi.ListServerCertificateTagsResponse, error) {
	acct := service.CallFrom(ctx).Principal.Account
	var sc *serverCert
	err := s.store.View(ctx, func(tx store.Tx) error {
		var err error
		sc, err = getServerCert(tx, acct, str(in.ServerCertificateName))
		return err
	})
	if err != nil {
		return nil, err
	}
	ts, trunc, next, err := pageTags(sc.Tags, in.Marker, in.MaxItems)
	if err != nil {
		return nil, err
	}
	return &iamapi.ListServerCertificateTagsResponse{Tags: ts, IsTruncated: trunc, Marker: next}, nil
}
