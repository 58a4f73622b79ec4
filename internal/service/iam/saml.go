package iam

import (
	"bytes"
	"context"
	"crypto/x509"
	"encoding/base64"
	"encoding/pem"
	"encoding/xml"
	"errors"
	"fmt"
	"io"
	"slices"
	"strings"
	"time"

	"github.com/rampart/rampart/internal/service"
	"github.com/rampart/rampart/internal/store"

	iamapi "github.com/rampart/rampart/internal/api/iam"
)

// SAML 2.0 identity providers ("Create a SAML identity provider in IAM").
// The metadata document is validated as IAM does it: XML whose entity has
// an IDPSSODescriptor with at least one signing certificate. STS's
// AssumeRoleWithSAML reads it back through [Service.SAMLProvider] to verify
// assertion signatures. Private keys for encrypted assertions are sealed by
// the barrier and never returned.

// tableSAML holds the SAML providers: <acct>/<lower name> → samlProvider.
const tableSAML = "iam.saml"

const (
	maxSAMLProviders   = 100
	maxSAMLPrivateKeys = 2
)

const samlMetadataNS = "urn:oasis:names:tc:SAML:2.0:metadata"

type samlKey struct {
	ID      string    `json:"id"`
	Sealed  []byte    `json:"sealed"`
	Created time.Time `json:"created"`
}

type samlProvider struct {
	ARN        string    `json:"arn"`
	Name       string    `json:"name"`
	UUID       string    `json:"uuid"`
	Metadata   string    `json:"metadata"`
	Created    time.Time `json:"created"`
	ValidUntil time.Time `json:"validUntil,omitzero"`
	Encryption string    `json:"encryption,omitempty"` // Allowed (default) or Required
	Keys       []samlKey `json:"keys,omitempty"`
	Tags       []tag     `json:"tags,omitempty"`
}

// SAMLProviderInfo is what STS needs of a SAML provider to accept its
// assertions.
type SAMLProviderInfo struct {
	ARN              string
	Name             string
	Account          string
	MetadataDocument []byte
}

// samlMetadata is the part of a SAML metadata document IAM relies on.
type samlMetadata struct {
	XMLName    xml.Name
	EntityID   string         `xml:"entityID,attr"`
	ValidUntil string         `xml:"validUntil,attr"`
	IDP        []samlIDPSSO   `xml:"IDPSSODescriptor"`
	Entities   []samlMetadata `xml:"EntityDescriptor"` // in an EntitiesDescriptor
}

type samlIDPSSO struct {
	XMLName xml.Name
	Keys    []struct {
		Use   string   `xml:"use,attr"`
		Certs []string `xml:"KeyInfo>X509Data>X509Certificate"`
	} `xml:"KeyDescriptor"`
}

// parseSAMLMetadata validates a metadata document and returns its validUntil
// (zero when absent).
func parseSAMLMetadata(doc string) (time.Time, error) {
	bad := func(why string) error {
		return iamapi.NewInvalidInputException("Could not parse metadata: %s", why)
	}
	if strings.Contains(doc, "<!DOCTYPE") || strings.Contains(doc, "<!ENTITY") {
		return time.Time{}, bad("document type declarations are not allowed")
	}
	var m samlMetadata
	dec := xml.NewDecoder(strings.NewReader(doc))
	if err := dec.Decode(&m); err != nil {
		return time.Time{}, bad("not well-formed XML")
	}
	for {
		tok, err := dec.Token()
		if err == io.EOF {
			break
		}
		if err != nil {
			return time.Time{}, bad("not well-formed XML")
		}
		switch t := tok.(type) {
		case xml.Comment, xml.ProcInst:
			continue
		case xml.CharData:
			if len(bytes.TrimSpace(t)) == 0 {
				continue
			}
		}
		return time.Time{}, bad("content after the root element")
	}
	ent := &m
	switch {
	case m.XMLName.Space == samlMetadataNS && m.XMLName.Local == "EntityDescriptor":
	case m.XMLName.Space == samlMetadataNS && m.XMLName.Local == "EntitiesDescriptor":
		ent = nil
		for i := range m.Entities {
			if len(m.Entities[i].IDP) > 0 {
				ent = &m.Entities[i]
				break
			}
		}
		if ent == nil {
			return time.Time{}, bad("no EntityDescriptor with an IDPSSODescriptor")
		}
	default:
		return time.Time{}, bad("the root element is not a SAML 2.0 metadata EntityDescriptor")
	}
	if ent.EntityID == "" {
		return time.Time{}, bad("the EntityDescriptor has no entityID")
	}
	signing := 0
	for _, idp := range ent.IDP {
		if idp.XMLName.Space != samlMetadataNS {
			continue
		}
		for _, k := range idp.Keys {
			if k.Use != "" && k.Use != "signing" {
				continue
			}
			for _, c := range k.Certs {
				der, err := base64.StdEncoding.DecodeString(strings.Join(strings.Fields(c), ""))
				if err != nil {
					return time.Time{}, bad("a signing certificate is not base64")
				}
				if _, err := x509.ParseCertificate(der); err != nil {
					return time.Time{}, bad("a signing certificate does not parse as X.509")
				}
				signing++
			}
		}
	}
	if len(ent.IDP) == 0 {
		return time.Time{}, bad("no IDPSSODescriptor")
	}
	if signing == 0 {
		return time.Time{}, bad("the IDPSSODescriptor has no signing certificate")
	}
	var until time.Time
	if v := ent.ValidUntil; v != "" {
		t, err := time.Parse(time.RFC3339, v)
		if err != nil {
			return time.Time{}, bad("validUntil is not a date")
		}
		until = t.UTC()
	}
	return until, nil
}

func samlARN(acct, name string) string { return "arn:aws:iam::" + acct + ":saml-provider/" + name }

func noSuchSAML(arn string) error {
	return iamapi.NewNoSuchEntityException("Manifest not found for arn %s", arn)
}

func samlKeyOf(acct, arn string) (string, bool) {
	name, ok := strings.CutPrefix(arn, "arn:aws:iam::"+acct+":saml-provider/")
	if !ok || name == "" || strings.Contains(name, "/") {
		return "", false
	}
	return entityKey(acct, name), true
}

func getSAML(tx store.Tx, acct, arn string) (*samlProvider, error) {
	key, ok := samlKeyOf(acct, arn)
	if !ok {
		return nil, noSuchSAML(arn)
	}
	var p samlProvider
	found, err := getJSON(tx, tableSAML, key, &p)
	if err != nil {
		return nil, err
	}
	if !found || p.ARN != arn {
		return nil, noSuchSAML(arn)
	}
	return &p, nil
}

func samlKeyAAD(arn, id string) []byte { return []byte(tableSAML + "/" + arn + "/" + id) }

// addSAMLKey parses a PEM private key and seals it for p.
func (s *Service) addSAMLKey(c *service.Call, p *samlProvider, pemKey string) error {
	invalid := iamapi.NewInvalidInputException("The private key is not a PEM-encoded RSA or EC private key.")
	blk, _ := pem.Decode([]byte(pemKey))
	if blk == nil {
		return invalid
	}
	if _, err := x509.ParsePKCS8PrivateKey(blk.Bytes); err != nil {
		if _, err := x509.ParsePKCS1PrivateKey(blk.Bytes); err != nil {
			if _, err := x509.ParseECPrivateKey(blk.Bytes); err != nil {
				return invalid
			}
		}
	}
	if len(p.Keys) >= maxSAMLPrivateKeys {
		return iamapi.NewLimitExceededException("Cannot exceed quota for PrivateKeysPerSamlProvider: %d", maxSAMLPrivateKeys)
	}
	id, err := newID(c.Rand, "", 22)
	if err != nil {
		return err
	}
	sealed, err := s.barrier.Seal(blk.Bytes, samlKeyAAD(p.ARN, id))
	if err != nil {
		return err
	}
	p.Keys = append(p.Keys, samlKey{ID: id, Sealed: sealed, Created: c.Now.UTC().Truncate(time.Second)})
	return nil
}

func checkEncryptionMode(p *samlProvider) error {
	if p.Encryption == string(iamapi.AssertionEncryptionModeTypeRequired) && len(p.Keys) == 0 {
		return iamapi.NewInvalidInputException("AssertionEncryptionMode Required needs a private key: pass AddPrivateKey.")
	}
	return nil
}

func newUUID(r io.Reader) (string, error) {
	var b [16]byte
	if _, err := io.ReadFull(r, b[:]); err != nil {
		return "", err
	}
	b[6] = b[6]&0x0f | 0x40
	b[8] = b[8]&0x3f | 0x80
	return fmt.Sprintf("%x-%x-%x-%x-%x", b[0:4], b[4:6], b[6:8], b[8:10], b[10:16]), nil
}

func (s *Service) registerSAML(r *service.Registry) {
	type R = service.Call
	service.Handle(r, iamapi.OpCreateSAMLProvider, s.CreateSAMLProvider, service.Rule[iamapi.CreateSAMLProviderRequest]{Action: "iam:CreateSAMLProvider",
		Resources: func(c *R, in *iamapi.CreateSAMLProviderRequest) []string {
			return []string{samlARN(c.Principal.Account, str(in.Name))}
		},
		Context: func(c *R, in *iamapi.CreateSAMLProviderRequest, k map[string][]string) { requestTags(in.Tags, k) }})
	service.Handle(r, iamapi.OpGetSAMLProvider, s.GetSAMLProvider, service.Rule[iamapi.GetSAMLProviderRequest]{Action: "iam:GetSAMLProvider",
		Resources: func(c *R, in *iamapi.GetSAMLProviderRequest) []string { return []string{str(in.SAMLProviderArn)} }})
	service.Handle(r, iamapi.OpListSAMLProviders, s.ListSAMLProviders, service.Rule[iamapi.ListSAMLProvidersRequest]{Action: "iam:ListSAMLProviders"})
	service.Handle(r, iamapi.OpUpdateSAMLProvider, s.UpdateSAMLProvider, service.Rule[iamapi.UpdateSAMLProviderRequest]{Action: "iam:UpdateSAMLProvider",
		Resources: func(c *R, in *iamapi.UpdateSAMLProviderRequest) []string { return []string{str(in.SAMLProviderArn)} }})
	service.Handle(r, iamapi.OpDeleteSAMLProvider, s.DeleteSAMLProvider, service.Rule[iamapi.DeleteSAMLProviderRequest]{Action: "iam:DeleteSAMLProvider",
		Resources: func(c *R, in *iamapi.DeleteSAMLProviderRequest) []string { return []string{str(in.SAMLProviderArn)} }})
	service.Handle(r, iamapi.OpTagSAMLProvider, s.TagSAMLProvider, service.Rule[iamapi.TagSAMLProviderRequest]{Action: "iam:TagSAMLProvider",
		Resources: func(c *R, in *iamapi.TagSAMLProviderRequest) []string { return []string{str(in.SAMLProviderArn)} },
		Context:   func(c *R, in *iamapi.TagSAMLProviderRequest, k map[string][]string) { requestTags(in.Tags, k) }})
	service.Handle(r, iamapi.OpUntagSAMLProvider, s.UntagSAMLProvider, service.Rule[iamapi.UntagSAMLProviderRequest]{Action: "iam:UntagSAMLProvider",
		Resources: func(c *R, in *iamapi.UntagSAMLProviderRequest) []string { return []string{str(in.SAMLProviderArn)} },
		Context:   func(c *R, in *iamapi.UntagSAMLProviderRequest, k map[string][]string) { k["aws:TagKeys"] = in.TagKeys }})
	service.Handle(r, iamapi.OpListSAMLProviderTags, s.ListSAMLProviderTags, service.Rule[iamapi.ListSAMLProviderTagsRequest]{Action: "iam:ListSAMLProviderTags",
		Resources: func(c *R, in *iamapi.ListSAMLProviderTagsRequest) []string { return []string{str(in.SAMLProviderArn)} }})
}

// CreateSAMLProvider registers a SAML 2.0 identity provider from its metadata.
func (s *Service) CreateSAMLProvider(ctx context.Context, in *iamapi.CreateSAMLProviderRequest) (*iamapi.CreateSAMLProviderResponse, error) {
	c := service.CallFrom(ctx)
	acct := c.Principal.Account
	until, err := parseSAMLMetadata(str(in.SAMLMetadataDocument))
	if err != nil {
		return nil, err
	}
	tags, err := mergeTags(nil, in.Tags)
	if err != nil {
		return nil, err
	}
	uuid, err := newUUID(c.Rand)
	if err != nil {
		return nil, err
	}
	name := str(in.Name)
	p := &samlProvider{ARN: samlARN(acct, name), Name: name, UUID: uuid, Metadata: str(in.SAMLMetadataDocument),
		Created: c.Now.UTC().Truncate(time.Second), ValidUntil: until, Encryption: string(in.AssertionEncryptionMode), Tags: tags}
	if p.Encryption == "" {
		p.Encryption = string(iamapi.AssertionEncryptionModeTypeAllowed)
	}
	if in.AddPrivateKey != nil {
		if err := s.addSAMLKey(c, p, *in.AddPrivateKey); err != nil {
			return nil, err
		}
	}
	if err := checkEncryptionMode(p); err != nil {
		return nil, err
	}
	err = s.store.Update(ctx, func(tx store.Tx) error {
		n, err := tx.Count(tableSAML, acct+"/")
		if err != nil {
			return err
		}
		if n >= maxSAMLProviders {
			return iamapi.NewLimitExceededException("Cannot exceed quota for SamlProvidersPerAccount: %d", maxSAMLProviders)
		}
		if err := insertJSON(tx, tableSAML, entityKey(acct, name), p); err != nil {
			if errors.Is(err, store.ErrExists) {
				return iamapi.NewEntityAlreadyExistsException("SAMLProvider %s already exists.", name)
			}
			return err
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	return &iamapi.CreateSAMLProviderResponse{SAMLProviderArn: ptr(p.ARN), Tags: apiTags(p.Tags)}, nil
}

// GetSAMLProvider returns a provider's metadata document (never its
// private keys, only their ids).
func (s *Service) GetSAMLProvider(ctx context.Context, in *iamapi.GetSAMLProviderRequest) (*iamapi.GetSAMLProviderResponse, error) {
	acct := service.CallFrom(ctx).Principal.Account
	var p *samlProvider
	err := s.store.View(ctx, func(tx store.Tx) error {
		var err error
		p, err = getSAML(tx, acct, str(in.SAMLProviderArn))
		return err
	})
	if err != nil {
		return nil, err
	}
	out := &iamapi.GetSAMLProviderResponse{SAMLProviderUUID: ptr(p.UUID), SAMLMetadataDocument: ptr(p.Metadata), CreateDate: ptr(p.Created),
		Tags: apiTags(p.Tags), AssertionEncryptionMode: iamapi.AssertionEncryptionModeType(p.Encryption), PrivateKeyList: []iamapi.SAMLPrivateKey{}}
	if !p.ValidUntil.IsZero() {
		out.ValidUntil = ptr(p.ValidUntil)
	}
	for _, k := range p.Keys {
		out.PrivateKeyList = append(out.PrivateKeyList, iamapi.SAMLPrivateKey{KeyId: ptr(k.ID), Timestamp: ptr(k.Created)})
	}
	return out, nil
}

// ListSAMLProviders lists the account's SAML providers.
func (s *Service) ListSAMLProviders(ctx context.Context, _ *iamapi.ListSAMLProvidersRequest) (*iamapi.ListSAMLProvidersResponse, error) {
	acct := service.CallFrom(ctx).Principal.Account
	out := &iamapi.ListSAMLProvidersResponse{SAMLProviderList: []iamapi.SAMLProviderListEntry{}}
	err := s.store.View(ctx, func(tx store.Tx) error {
		kvs, err := tx.Scan(tableSAML, acct+"/", "", 0)
		if err != nil {
			return err
		}
		for _, kv := range kvs {
			var p samlProvider
			if err := jsonUnmarshal(kv.Value, &p); err != nil {
				return err
			}
			e := iamapi.SAMLProviderListEntry{Arn: ptr(p.ARN), CreateDate: ptr(p.Created)}
			if !p.ValidUntil.IsZero() {
				e.ValidUntil = ptr(p.ValidUntil)
			}
			out.SAMLProviderList = append(out.SAMLProviderList, e)
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	return out, nil
}

// updateSAML loads a provider, lets fn change it and stores it.
func (s *Service) updateSAML(ctx context.Context, arn string, fn func(p *samlProvider) error) error {
	acct := service.CallFrom(ctx).Principal.Account
	return s.store.Update(ctx, func(tx store.Tx) error {
		p, err := getSAML(tx, acct, arn)
		if err != nil {
			return err
		}
		if err := fn(p); err != nil {
			return err
		}
		return putJSON(tx, tableSAML, entityKey(acct, p.Name), p)
	})
}

// UpdateSAMLProvider replaces the metadata document and manages the
// private keys for encrypted assertions.
func (s *Service) UpdateSAMLProvider(ctx context.Context, in *iamapi.UpdateSAMLProviderRequest) (*iamapi.UpdateSAMLProviderResponse, error) {
	c := service.CallFrom(ctx)
	var until time.Time
	if in.SAMLMetadataDocument != nil {
		var err error
		if until, err = parseSAMLMetadata(*in.SAMLMetadataDocument); err != nil {
			return nil, err
		}
	}
	err := s.updateSAML(ctx, str(in.SAMLProviderArn), func(p *samlProvider) error {
		if in.SAMLMetadataDocument != nil {
			p.Metadata, p.ValidUntil = *in.SAMLMetadataDocument, until
		}
		if in.AssertionEncryptionMode != "" {
			p.Encryption = string(in.AssertionEncryptionMode)
		}
		if in.RemovePrivateKey != nil {
			i := slices.IndexFunc(p.Keys, func(k samlKey) bool { return k.ID == *in.RemovePrivateKey })
			if i < 0 {
				return iamapi.NewInvalidInputException("The private key %s is not attached to this SAML provider.", *in.RemovePrivateKey)
			}
			p.Keys = slices.Delete(p.Keys, i, i+1)
		}
		if in.AddPrivateKey != nil {
			if err := s.addSAMLKey(c, p, *in.AddPrivateKey); err != nil {
				return err
			}
		}
		return checkEncryptionMode(p)
	})
	if err != nil {
		return nil, err
	}
	return &iamapi.UpdateSAMLProviderResponse{SAMLProviderArn: in.SAMLProviderArn}, nil
}

// DeleteSAMLProvider deletes a provider.
func (s *Service) DeleteSAMLProvider(ctx context.Context, in *iamapi.DeleteSAMLProviderRequest) (*awsEmpty, error) {
	acct := service.CallFrom(ctx).Principal.Account
	return empty(s.store.Update(ctx, func(tx store.Tx) error {
		p, err := getSAML(tx, acct, str(in.SAMLProviderArn))
		if err != nil {
			return err
		}
		_, err = tx.Delete(tableSAML, entityKey(acct, p.Name))
		return err
	}))
}

// TagSAMLProvider adds tags to a provider.
func (s *Service) TagSAMLProvider(ctx context.Context, in *iamapi.TagSAMLProviderRequest) (*awsEmpty, error) {
	return empty(s.updateSAML(ctx, str(in.SAMLProviderArn), func(p *samlProvider) error {
		var err error
		p.Tags, err = mergeTags(p.Tags, in.Tags)
		return err
	}))
}

// UntagSAMLProvider removes tags from a provider.
func (s *Service) UntagSAMLProvider(ctx context.Context, in *iamapi.UntagSAMLProviderRequest) (*awsEmpty, error) {
	return empty(s.updateSAML(ctx, str(in.SAMLProviderArn), func(p *samlProvider) error {
		p.Tags = removeTags(p.Tags, in.TagKeys)
		return nil
	}))
}

// ListSAMLProviderTags lists a provider's tags.
func (s *Service) ListSAMLProviderTags(ctx context.Context, in *iamapi.ListSAMLProviderTagsRequest) (*iamapi.ListSAMLProviderTagsResponse, error) {
	acct := service.CallFrom(ctx).Principal.Account
	var p *samlProvider
	err := s.store.View(ctx, func(tx store.Tx) error {
		var err error
		p, err = getSAML(tx, acct, str(in.SAMLProviderArn))
		return err
	})
	if err != nil {
		return nil, err
	}
	ts, trunc, next, err := pageTags(p.Tags, in.Marker, in.MaxItems)
	if err != nil {
		return nil, err
	}
	return &iamapi.ListSAMLProviderTagsResponse{Tags: ts, IsTruncated: trunc, Marker: next}, nil
}

// SAMLProvider returns the SAML provider whose ARN is arn; an error
// wrapping [ErrNoSuchProvider] when there is none.
func (s *Service) SAMLProvider(ctx context.Context, arn string) (*SAMLProviderInfo, error) {
	rest, ok := strings.CutPrefix(arn, "arn:aws:iam::")
	i := strings.IndexByte(rest, ':')
	if !ok || i < 0 {
		return nil, fmt.Errorf("%w: %s", ErrNoSuchProvider, arn)
	}
	acct := rest[:i]
	var p *samlProvider
	err := s.store.View(ctx, func(tx store.Tx) error {
		var err error
		p, err = getSAML(tx, acct, arn)
		return err
	})
	if err != nil {
		if isNoSuchEntity(err) {
			return nil, fmt.Errorf("%w: %s", ErrNoSuchProvider, arn)
		}
		return nil, err
	}
	return &SAMLProviderInfo{ARN: p.ARN, Name: p.Name, Account: acct, MetadataDocument: []byte(p.Metadata)}, nil
}
