package iam

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/url"
	"slices"
	"strings"
	"time"

	"github.com/rampart/rampart/internal/service"
	"github.com/rampart/rampart/internal/store"

	iamapi "github.com/rampart/rampart/internal/api/iam"
)

// OpenID Connect identity providers ("Create an OpenID Connect (OIDC)
// identity provider in IAM", IAM User Guide). rampart stores them for STS's
// AssumeRoleWithWebIdentity, which finds one by the token's issuer through
// [Service.OIDCProvider]. rampart never calls out to the provider: the
// thumbprints are kept as given.

// tableOIDC holds the OIDC providers: <acct>/<host+path> → oidcProvider.
const tableOIDC = "iam.oidc"

// Quotas ("IAM and AWS STS quotas").
const (
	maxOIDCProviders = 100
	maxClientIDs     = 100
	maxThumbprints   = 5
)

// ErrNoSuchProvider is returned (wrapped) by [Service.OIDCProvider] and
// [Service.SAMLProvider] for a provider that does not exist.
var ErrNoSuchProvider = errors.New("iam: no such identity provider")

type oidcProvider struct {
	ARN         string    `json:"arn"`
	URL         string    `json:"url"` // host and path, without https:// (as GetOpenIDConnectProvider returns it)
	ClientIDs   []string  `json:"clientIds,omitempty"`
	Thumbprints []string  `json:"thumbprints,omitempty"`
	Created     time.Time `json:"created"`
	Tags        []tag     `json:"tags,omitempty"`
}

// OIDCProviderInfo is what STS needs of an OIDC provider to accept its
// tokens.
type OIDCProviderInfo struct {
	ARN         string
	URL         string // the issuer URL, https://host/path
	ClientIDs   []string
	Thumbprints []string
}

// oidcID normalises an issuer URL to the part that names the provider: the
// host (lower case) and path, without scheme or trailing slash. IAM accepts
// only https URLs without port, query or fragment; rampart also accepts a
// port on a loopback host, so that a test's own issuer on 127.0.0.1 can be
// registered (STS reaches it over http only in dev mode).
func oidcID(raw string) (string, error) {
	invalid := iamapi.NewInvalidInputException("Invalid URL %s: the URL must begin with https:// and contain a host, and no port, query or fragment.", raw)
	rest, ok := cutPrefixFold(raw, "https://")
	if !ok {
		return "", invalid
	}
	u, err := url.Parse("https://" + rest)
	if err != nil || u.Host == "" || (u.Port() != "" && !loopbackHost(u.Hostname())) || u.RawQuery != "" || u.Fragment != "" || u.User != nil || strings.Contains(rest, "#") || strings.Contains(rest, "?") {
		return "", invalid
	}
	return strings.ToLower(u.Host) + strings.TrimRight(u.EscapedPath(), "/"), nil
}

// loopbackHost reports whether host names this machine's loopback interface.
func loopbackHost(host string) bool {
	if strings.EqualFold(host, "localhost") {
		return true
	}
	ip := net.ParseIP(host)
	return ip != nil && ip.IsLoopback()
}

func cutPrefixFold(s, prefix string) (string, bool) {
	if len(s) >= len(prefix) && strings.EqualFold(s[:len(prefix)], prefix) {
		return s[len(prefix):], true
	}
	return s, false
}

func oidcARN(acct, id string) string { return "arn:aws:iam::" + acct + ":oidc-provider/" + id }

// oidcKeyOf maps a provider ARN of acct to its store key; false when the
// ARN is not an OIDC provider ARN of the account.
func oidcKeyOf(acct, arn string) (string, bool) {
	id, ok := strings.CutPrefix(arn, "arn:aws:iam::"+acct+":oidc-provider/")
	if !ok || id == "" {
		return "", false
	}
	return acct + "/" + id, true
}

func noSuchOIDC(arn string) error {
	return iamapi.NewNoSuchEntityException("OpenIDConnect Provider not found for arn %s", arn)
}

func getOIDC(tx store.Tx, acct, arn string) (*oidcProvider, error) {
	key, ok := oidcKeyOf(acct, arn)
	if !ok {
		return nil, noSuchOIDC(arn)
	}
	var p oidcProvider
	found, err := getJSON(tx, tableOIDC, key, &p)
	if err != nil {
		return nil, err
	}
	if !found {
		return nil, noSuchOIDC(arn)
	}
	return &p, nil
}

func checkThumbprints(ts []string) error {
	if len(ts) > maxThumbprints {
		return iamapi.NewLimitExceededException("Cannot exceed quota for ThumbprintsPerOpenIdConnectProvider: %d", maxThumbprints)
	}
	for _, t := range ts {
		if len(t) != 40 || strings.Trim(strings.ToLower(t), "0123456789abcdef") != "" {
			return iamapi.NewInvalidInputException("Thumbprint %s is not a hex-encoded SHA-1 hash of 40 characters.", t)
		}
	}
	return nil
}

func addClientIDs(have []string, add ...string) ([]string, error) {
	for _, id := range add {
		if id == "" || len(id) > 255 {
			return nil, iamapi.NewInvalidInputException("ClientID %q must be between 1 and 255 characters.", id)
		}
		if !slices.Contains(have, id) {
			have = append(have, id)
		}
	}
	if len(have) > maxClientIDs {
		return nil, iamapi.NewLimitExceededException("Cannot exceed quota for ClientIdsPerOpenIdConnectProvider: %d", maxClientIDs)
	}
	return have, nil
}

func (s *Service) registerOIDC(r *service.Registry) {
	type R = service.Call
	arnOf := func(c *R, arn *string) []string { return []string{str(arn)} }
	service.Handle(r, iamapi.OpCreateOpenIDConnectProvider, s.CreateOpenIDConnectProvider, service.Rule[iamapi.CreateOpenIDConnectProviderRequest]{Action: "iam:CreateOpenIDConnectProvider",
		Resources: func(c *R, in *iamapi.CreateOpenIDConnectProviderRequest) []string {
			id, err := oidcID(str(in.Url))
			if err != nil {
				return []string{"arn:aws:iam::" + c.Principal.Account + ":oidc-provider/*"}
			}
			return []string{oidcARN(c.Principal.Account, id)}
		},
		Context: func(c *R, in *iamapi.CreateOpenIDConnectProviderRequest, k map[string][]string) {
			requestTags(in.Tags, k)
		}})
	service.Handle(r, iamapi.OpGetOpenIDConnectProvider, s.GetOpenIDConnectProvider, service.Rule[iamapi.GetOpenIDConnectProviderRequest]{Action: "iam:GetOpenIDConnectProvider",
		Resources: func(c *R, in *iamapi.GetOpenIDConnectProviderRequest) []string {
			return arnOf(c, in.OpenIDConnectProviderArn)
		}})
	service.Handle(r, iamapi.OpListOpenIDConnectProviders, s.ListOpenIDConnectProviders, service.Rule[iamapi.ListOpenIDConnectProvidersRequest]{Action: "iam:ListOpenIDConnectProviders"})
	service.Handle(r, iamapi.OpDeleteOpenIDConnectProvider, s.DeleteOpenIDConnectProvider, service.Rule[iamapi.DeleteOpenIDConnectProviderRequest]{Action: "iam:DeleteOpenIDConnectProvider",
		Resources: func(c *R, in *iamapi.DeleteOpenIDConnectProviderRequest) []string {
			return arnOf(c, in.OpenIDConnectProviderArn)
		}})
	service.Handle(r, iamapi.OpAddClientIDToOpenIDConnectProvider, s.AddClientIDToOpenIDConnectProvider, service.Rule[iamapi.AddClientIDToOpenIDConnectProviderRequest]{Action: "iam:AddClientIDToOpenIDConnectProvider",
		Resources: func(c *R, in *iamapi.AddClientIDToOpenIDConnectProviderRequest) []string {
			return arnOf(c, in.OpenIDConnectProviderArn)
		}})
	service.Handle(r, iamapi.OpRemoveClientIDFromOpenIDConnectProvider, s.RemoveClientIDFromOpenIDConnectProvider, service.Rule[iamapi.RemoveClientIDFromOpenIDConnectProviderRequest]{Action: "iam:RemoveClientIDFromOpenIDConnectProvider",
		Resources: func(c *R, in *iamapi.RemoveClientIDFromOpenIDConnectProviderRequest) []string {
			return arnOf(c, in.OpenIDConnectProviderArn)
		}})
	service.Handle(r, iamapi.OpUpdateOpenIDConnectProviderThumbprint, s.UpdateOpenIDConnectProviderThumbprint, service.Rule[iamapi.UpdateOpenIDConnectProviderThumbprintRequest]{Action: "iam:UpdateOpenIDConnectProviderThumbprint",
		Resources: func(c *R, in *iamapi.UpdateOpenIDConnectProviderThumbprintRequest) []string {
			return arnOf(c, in.OpenIDConnectProviderArn)
		}})
	service.Handle(r, iamapi.OpTagOpenIDConnectProvider, s.TagOpenIDConnectProvider, service.Rule[iamapi.TagOpenIDConnectProviderRequest]{Action: "iam:TagOpenIDConnectProvider",
		Resources: func(c *R, in *iamapi.TagOpenIDConnectProviderRequest) []string {
			return arnOf(c, in.OpenIDConnectProviderArn)
		},
		Context: func(c *R, in *iamapi.TagOpenIDConnectProviderRequest, k map[string][]string) { requestTags(in.Tags, k) }})
	service.Handle(r, iamapi.OpUntagOpenIDConnectProvider, s.UntagOpenIDConnectProvider, service.Rule[iamapi.UntagOpenIDConnectProviderRequest]{Action: "iam:UntagOpenIDConnectProvider",
		Resources: func(c *R, in *iamapi.UntagOpenIDConnectProviderRequest) []string {
			return arnOf(c, in.OpenIDConnectProviderArn)
		},
		Context: func(c *R, in *iamapi.UntagOpenIDConnectProviderRequest, k map[string][]string) {
			k["aws:TagKeys"] = in.TagKeys
		}})
	service.Handle(r, iamapi.OpListOpenIDConnectProviderTags, s.ListOpenIDConnectProviderTags, service.Rule[iamapi.ListOpenIDConnectProviderTagsRequest]{Action: "iam:ListOpenIDConnectProviderTags",
		Resources: func(c *R, in *iamapi.ListOpenIDConnectProviderTagsRequest) []string {
			return arnOf(c, in.OpenIDConnectProviderArn)
		}})
}

// CreateOpenIDConnectProvider registers an OIDC identity provider, one per
// issuer URL.
func (s *Service) CreateOpenIDConnectProvider(ctx context.Context, in *iamapi.CreateOpenIDConnectProviderRequest) (*iamapi.CreateOpenIDConnectProviderResponse, error) {
	c := service.CallFrom(ctx)
	acct := c.Principal.Account
	id, err := oidcID(str(in.Url))
	if err != nil {
		return nil, err
	}
	if err := checkThumbprints(in.ThumbprintList); err != nil {
		return nil, err
	}
	clients, err := addClientIDs(nil, in.ClientIDList...)
	if err != nil {
		return nil, err
	}
	tags, err := mergeTags(nil, in.Tags)
	if err != nil {
		return nil, err
	}
	p := &oidcProvider{ARN: oidcARN(acct, id), URL: id, ClientIDs: clients, Thumbprints: lowerAll(in.ThumbprintList),
		Created: c.Now.UTC().Truncate(time.Second), Tags: tags}
	err = s.store.Update(ctx, func(tx store.Tx) error {
		n, err := tx.Count(tableOIDC, acct+"/")
		if err != nil {
			return err
		}
		if n >= maxOIDCProviders {
			return iamapi.NewLimitExceededException("Cannot exceed quota for OpenIdConnectProvidersPerAccount: %d", maxOIDCProviders)
		}
		if err := insertJSON(tx, tableOIDC, acct+"/"+id, p); err != nil {
			if errors.Is(err, store.ErrExists) {
				return iamapi.NewEntityAlreadyExistsException("Provider with url %s already exists.", str(in.Url))
			}
			return err
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	return &iamapi.CreateOpenIDConnectProviderResponse{OpenIDConnectProviderArn: ptr(p.ARN), Tags: apiTags(p.Tags)}, nil
}

func lowerAll(ss []string) []string {
	if len(ss) == 0 {
		return nil
	}
	out := make([]string, len(ss))
	for i, s := range ss {
		out[i] = strings.ToLower(s)
	}
	return out
}

// GetOpenIDConnectProvider returns a provider's URL (without https://),
// client ids, thumbprints and tags.
func (s *Service) GetOpenIDConnectProvider(ctx context.Context, in *iamapi.GetOpenIDConnectProviderRequest) (*iamapi.GetOpenIDConnectProviderResponse, error) {
	acct := service.CallFrom(ctx).Principal.Account
	var p *oidcProvider
	err := s.store.View(ctx, func(tx store.Tx) error {
		var err error
		p, err = getOIDC(tx, acct, str(in.OpenIDConnectProviderArn))
		return err
	})
	if err != nil {
		return nil, err
	}
	return &iamapi.GetOpenIDConnectProviderResponse{Url: ptr(p.URL), ClientIDList: nonNil(p.ClientIDs), ThumbprintList: nonNil(p.Thumbprints),
		CreateDate: ptr(p.Created), Tags: apiTags(p.Tags)}, nil
}

func nonNil(ss []string) []string {
	if ss == nil {
		return []string{}
	}
	return ss
}

// ListOpenIDConnectProviders lists the account's OIDC providers by ARN.
func (s *Service) ListOpenIDConnectProviders(ctx context.Context, _ *iamapi.ListOpenIDConnectProvidersRequest) (*iamapi.ListOpenIDConnectProvidersResponse, error) {
	acct := service.CallFrom(ctx).Principal.Account
	out := &iamapi.ListOpenIDConnectProvidersResponse{OpenIDConnectProviderList: []iamapi.OpenIDConnectProviderListEntry{}}
	err := s.store.View(ctx, func(tx store.Tx) error {
		kvs, err := tx.Scan(tableOIDC, acct+"/", "", 0)
		if err != nil {
			return err
		}
		for _, kv := range kvs {
			var p oidcProvider
			if err := jsonUnmarshal(kv.Value, &p); err != nil {
				return err
			}
			out.OpenIDConnectProviderList = append(out.OpenIDConnectProviderList, iamapi.OpenIDConnectProviderListEntry{Arn: ptr(p.ARN)})
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	return out, nil
}

// DeleteOpenIDConnectProvider deletes a provider. As in AWS it is
// idempotent: deleting a provider that does not exist succeeds.
func (s *Service) DeleteOpenIDConnectProvider(ctx context.Context, in *iamapi.DeleteOpenIDConnectProviderRequest) (*awsEmpty, error) {
	acct := service.CallFrom(ctx).Principal.Account
	return empty(s.store.Update(ctx, func(tx store.Tx) error {
		key, ok := oidcKeyOf(acct, str(in.OpenIDConnectProviderArn))
		if !ok {
			return noSuchOIDC(str(in.OpenIDConnectProviderArn))
		}
		_, err := tx.Delete(tableOIDC, key)
		return err
	}))
}

// updateOIDC loads a provider, lets fn change it and stores it, in one
// transaction.
func (s *Service) updateOIDC(ctx context.Context, arn string, fn func(p *oidcProvider) error) error {
	acct := service.CallFrom(ctx).Principal.Account
	return s.store.Update(ctx, func(tx store.Tx) error {
		p, err := getOIDC(tx, acct, arn)
		if err != nil {
			return err
		}
		if err := fn(p); err != nil {
			return err
		}
		key, _ := oidcKeyOf(acct, arn)
		return putJSON(tx, tableOIDC, key, p)
	})
}

// AddClientIDToOpenIDConnectProvider adds an audience; adding one already
// there changes nothing.
func (s *Service) AddClientIDToOpenIDConnectProvider(ctx context.Context, in *iamapi.AddClientIDToOpenIDConnectProviderRequest) (*awsEmpty, error) {
	return empty(s.updateOIDC(ctx, str(in.OpenIDConnectProviderArn), func(p *oidcProvider) error {
		var err error
		p.ClientIDs, err = addClientIDs(p.ClientIDs, str(in.ClientID))
		return err
	}))
}

// RemoveClientIDFromOpenIDConnectProvider removes an audience; removing one
// that is not there is not an error (AWS documents the call as idempotent).
func (s *Service) RemoveClientIDFromOpenIDConnectProvider(ctx context.Context, in *iamapi.RemoveClientIDFromOpenIDConnectProviderRequest) (*awsEmpty, error) {
	return empty(s.updateOIDC(ctx, str(in.OpenIDConnectProviderArn), func(p *oidcProvider) error {
		p.ClientIDs = slices.DeleteFunc(p.ClientIDs, func(id string) bool { return id == str(in.ClientID) })
		return nil
	}))
}

// UpdateOpenIDConnectProviderThumbprint replaces the thumbprint list.
func (s *Service) UpdateOpenIDConnectProviderThumbprint(ctx context.Context, in *iamapi.UpdateOpenIDConnectProviderThumbprintRequest) (*awsEmpty, error) {
	if err := checkThumbprints(in.ThumbprintList); err != nil {
		return nil, err
	}
	return empty(s.updateOIDC(ctx, str(in.OpenIDConnectProviderArn), func(p *oidcProvider) error {
		p.Thumbprints = lowerAll(in.ThumbprintList)
		return nil
	}))
}

// TagOpenIDConnectProvider adds tags to a provider.
func (s *Service) TagOpenIDConnectProvider(ctx context.Context, in *iamapi.TagOpenIDConnectProviderRequest) (*awsEmpty, error) {
	return empty(s.updateOIDC(ctx, str(in.OpenIDConnectProviderArn), func(p *oidcProvider) error {
		var err error
		p.Tags, err = mergeTags(p.Tags, in.Tags)
		return err
	}))
}

// UntagOpenIDConnectProvider removes tags from a provider.
func (s *Service) UntagOpenIDConnectProvider(ctx context.Context, in *iamapi.UntagOpenIDConnectProviderRequest) (*awsEmpty, error) {
	return empty(s.updateOIDC(ctx, str(in.OpenIDConnectProviderArn), func(p *oidcProvider) error {
		p.Tags = removeTags(p.Tags, in.TagKeys)
		return nil
	}))
}

// ListOpenIDConnectProviderTags lists a provider's tags.
func (s *Service) ListOpenIDConnectProviderTags(ctx context.Context, in *iamapi.ListOpenIDConnectProviderTagsRequest) (*iamapi.ListOpenIDConnectProviderTagsResponse, error) {
	acct := service.CallFrom(ctx).Principal.Account
	var p *oidcProvider
	err := s.store.View(ctx, func(tx store.Tx) error {
		var err error
		p, err = getOIDC(tx, acct, str(in.OpenIDConnectProviderArn))
		return err
	})
	if err != nil {
		return nil, err
	}
	ts, trunc, next, err := pageTags(p.Tags, in.Marker, in.MaxItems)
	if err != nil {
		return nil, err
	}
	return &iamapi.ListOpenIDConnectProviderTagsResponse{Tags: ts, IsTruncated: trunc, Marker: next}, nil
}

// pageTags pages a tag list for a List…Tags answer (never nil).
func pageTags(tags []tag, marker *string, maxItems *int32) ([]iamapi.Tag, *bool, *string, error) {
	ts, trunc, next, err := page(tags, marker, maxItems)
	if err != nil {
		return nil, nil, nil, err
	}
	out := apiTags(ts)
	if out == nil {
		out = []iamapi.Tag{}
	}
	return out, trunc, next, nil
}

// OIDCProvider returns the OIDC provider of account whose issuer is
// issuerURL (https://host/path, as in a token's iss claim; a trailing slash
// and the host's case do not matter); an error wrapping [ErrNoSuchProvider]
// when there is none.
func (s *Service) OIDCProvider(ctx context.Context, account, issuerURL string) (*OIDCProviderInfo, error) {
	id, err := oidcID(issuerURL)
	if err != nil {
		return nil, fmt.Errorf("%w: %s", ErrNoSuchProvider, issuerURL)
	}
	var p oidcProvider
	var found bool
	err = s.store.View(ctx, func(tx store.Tx) error {
		var err error
		found, err = getJSON(tx, tableOIDC, account+"/"+id, &p)
		return err
	})
	if err != nil {
		return nil, err
	}
	if !found {
		return nil, fmt.Errorf("%w: %s in account %s", ErrNoSuchProvider, issuerURL, account)
	}
	return &OIDCProviderInfo{ARN: p.ARN, URL: "https://" + p.URL, ClientIDs: slices.Clone(p.ClientIDs), Thumbprints: slices.Clone(p.Thumbprints)}, nil
}
