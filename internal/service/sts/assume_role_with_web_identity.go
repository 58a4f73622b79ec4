package sts

import (
	"context"
	"errors"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/rampart/rampart/internal/authn"
	"github.com/rampart/rampart/internal/authz"
	"github.com/rampart/rampart/internal/awsproto"
	"github.com/rampart/rampart/internal/service"

	stsapi "github.com/rampart/rampart/internal/api/sts"
)

// AWS's words for AssumeRoleWithWebIdentity's refusals.
const (
	msgWebIdentityDenied = "Not authorized to perform sts:AssumeRoleWithWebIdentity"
	msgNotJWT            = "The ID Token provided is not a valid JWT. (You may see this error if you sent an Access Token)"
	msgNoOIDCProvider    = "No OpenIDConnect provider found in your account for %s"
	msgBadAudience       = "Incorrect token audience"
	msgNoKey             = "Couldn't retrieve verification key from your identity provider,  please reference AssumeRoleWithWebIdentity documentation for requirements"
	msgTokenInvalid      = "The web identity token that was passed could not be validated by AWS. Get a new identity token from the identity provider and then retry the request."
	msgIDPTimeout        = "The request could not be fulfilled because the identity provider (IDP) that was asked to verify the incoming identity token could not be reached. Retry the request."
	msgTokenExpired      = "Token expired: current date/time %d must be before the expiration date/time%d"
)

// tokenSkew is how far in the future a token's nbf and iat may be: clocks
// of the issuer and of rampart drift apart. exp gets no leeway: AWS was
// seen refusing tokens 198 s past their exp.
const tokenSkew = 5 * time.Minute

// AssumeRoleWithWebIdentity issues credentials for a session of a role to
// the holder of an OpenID Connect ID token from a provider registered in
// the role's account: the token's signature is verified with the issuer's
// published keys, its exp/nbf/iat and audience checked, and the role's
// trust policy must let the provider's subject in (Principal
// {"Federated": "<provider ARN>"}, action sts:AssumeRoleWithWebIdentity,
// conditions on <provider>:sub, <provider>:aud, <provider>:amr,
// aws:FederatedProvider, sts:RoleSessionName).
func (s *Service) AssumeRoleWithWebIdentity(ctx context.Context, in *stsapi.AssumeRoleWithWebIdentityRequest) (*stsapi.AssumeRoleWithWebIdentityResponse, error) {
	c := service.CallFrom(ctx)
	if in.ProviderId != nil {
		// OAuth 2.0 access tokens of Login with Amazon and Facebook are
		// checked by calling those providers, which rampart does not do.
		return nil, invalidParameter("ProviderId is not supported: rampart accepts OpenID Connect ID tokens of providers registered in IAM.")
	}
	acct, ok := roleAccount(*in.RoleArn)
	if !ok {
		return nil, denied(msgWebIdentityDenied)
	}
	tok, err := parseJWT(*in.WebIdentityToken)
	if err != nil {
		return nil, stsapi.NewInvalidIdentityTokenException("%s", msgNotJWT)
	}
	if _, _, _, ok := algorithm(tok.header.Alg); !ok {
		return nil, stsapi.NewInvalidIdentityTokenException("%s", msgTokenInvalid)
	}
	iss := tok.claims.Iss
	issURL, err := url.Parse(iss)
	if iss == "" || err != nil || issURL.Host == "" || issURL.RawQuery != "" || issURL.Fragment != "" {
		return nil, stsapi.NewInvalidIdentityTokenException("%s", msgTokenInvalid)
	}
	if !s.keys.allowedURL(issURL) {
		return nil, stsapi.NewInvalidIdentityTokenException(msgNoOIDCProvider, iss)
	}
	prov, err := s.oidcProvider(ctx, acct, issURL)
	if errors.Is(err, ErrNoSuchProvider) {
		return nil, stsapi.NewInvalidIdentityTokenException(msgNoOIDCProvider, iss)
	}
	if err != nil {
		return nil, err
	}

	// The signature first: nothing else the token says counts before it.
	key, err := s.keys.key(ctx, iss, prov.Thumbprints, tok.header.Kid, c.Now)
	switch {
	case errors.Is(err, errIDPTimeout):
		return nil, stsapi.NewIDPCommunicationErrorException("%s", msgIDPTimeout)
	case errors.Is(err, errUnknownKey), errors.Is(err, errIDPUnreachable):
		// AWS answers both a key missing from the JWKS and an issuer whose
		// discovery document or JWKS cannot be read this way.
		return nil, stsapi.NewInvalidIdentityTokenException("%s", msgNoKey)
	case err != nil:
		return nil, err
	}
	if !tok.verify(key) {
		return nil, stsapi.NewInvalidIdentityTokenException("%s", msgTokenInvalid)
	}

	cl := &tok.claims
	now := c.Now.Unix()
	exp, ok := numericDate(cl.Exp)
	if !ok {
		return nil, stsapi.NewInvalidIdentityTokenException("%s", msgTokenInvalid)
	}
	if now >= exp {
		return nil, stsapi.NewExpiredTokenException(msgTokenExpired, now, exp)
	}
	skew := int64(tokenSkew / time.Second)
	if nbf, ok := numericDate(cl.Nbf); ok && nbf > now+skew {
		return nil, stsapi.NewInvalidIdentityTokenException("Token is not valid yet: current date/time %d must be after the not-before date/time %d", now, nbf)
	}
	if iat, ok := numericDate(cl.Iat); ok && iat > now+skew {
		return nil, stsapi.NewInvalidIdentityTokenException("Token used before issued: current date/time %d must be after the issue date/time %d", now, iat)
	}
	aud := ""
	for _, a := range cl.Aud {
		if slices.Contains(prov.ClientIDs, a) {
			aud = a
			break
		}
	}
	if aud == "" {
		return nil, stsapi.NewInvalidIdentityTokenException("%s", msgBadAudience)
	}
	if cl.Sub == "" {
		return nil, stsapi.NewIDPRejectedClaimException("The identity token has no sub claim.")
	}

	role, dur, docs, packed, err := s.federatedSession(ctx, *in.RoleArn, in.DurationSeconds, in.Policy, in.PolicyArns, msgWebIdentityDenied)
	if err != nil {
		return nil, err
	}

	// The trust policy, for the provider's subject.
	provKey := strings.TrimPrefix(strings.TrimPrefix(prov.URL, "https://"), "http://")
	req := c.Request("sts:AssumeRoleWithWebIdentity")
	req.Principal = nil
	req.Resource = roleResource(role)
	req.Keys = map[string][]string{
		provKey + ":sub":        {cl.Sub},
		provKey + ":aud":        {aud},
		"aws:FederatedProvider": {prov.ARN},
		"sts:RoleSessionName":   {*in.RoleSessionName},
	}
	if len(cl.Amr) > 0 {
		req.Keys[provKey+":amr"] = append([]string(nil), cl.Amr...)
	}
	if err := s.authorizeFederated(ctx, c, req, prov.ARN); err != nil {
		return nil, err
	}

	session := *in.RoleSessionName
	id := role.RoleID + ":" + session
	arn := "arn:aws:sts::" + role.Account + ":assumed-role/" + role.Name + "/" + session
	spec := &authn.SessionSpec{
		Principal: authz.Principal{
			Type: authz.AssumedRole, Account: role.Account, ARN: arn, ID: id, Name: role.Name,
			RoleARN: role.ARN, RoleID: role.RoleID, SessionName: session,
		},
		Policies: docs, IssuedAt: c.Now, Expiration: c.Now.Add(dur).Truncate(time.Second),
		IssuerARN: role.ARN,
	}
	creds, err := s.credentials(c, spec)
	if err != nil {
		return nil, err
	}
	sub := cl.Sub
	return &stsapi.AssumeRoleWithWebIdentityResponse{
		Credentials:                 creds,
		SubjectFromWebIdentityToken: &sub,
		AssumedRoleUser:             &stsapi.AssumedRoleUser{AssumedRoleId: &id, Arn: &arn},
		PackedPolicySize:            packed,
		Provider:                    &iss,
		Audience:                    &aud,
	}, nil
}

// oidcProvider finds the provider of the token's issuer in the role's
// account. In dev mode an http:// loopback issuer is looked up as its
// https:// twin: IAM registers only https providers.
func (s *Service) oidcProvider(ctx context.Context, acct string, iss *url.URL) (*OIDCProviderInfo, error) {
	if s.d.OIDC == nil {
		return nil, ErrNoSuchProvider
	}
	u := *iss
	u.Scheme = "https"
	return s.d.OIDC.OIDCProvider(ctx, acct, u.String())
}

// authorizeFederated asks the call's authorizer whether the role's trust
// policy admits the federated caller; any refusal is STS's AccessDenied
// for the operation, whatever the policy said.
func (s *Service) authorizeFederated(ctx context.Context, c *service.Call, req *authz.Request, provider string) error {
	fc, ok := c.Authz.(authz.FederatedChecker)
	if !ok {
		return awsproto.Internal(errors.New("sts: the authorizer cannot decide for federated callers"))
	}
	err := fc.AuthorizeFederated(ctx, req, provider)
	var d *authz.Denied
	if errors.As(err, &d) {
		return denied("Not authorized to perform " + req.Action)
	}
	return err
}

// roleAccount is the account of a role ARN (arn:aws:iam::<acct>:role/…).
func roleAccount(roleARN string) (string, bool) {
	rest, ok := strings.CutPrefix(roleARN, "arn:aws:iam::")
	if !ok || len(rest) < 13 || rest[12] != ':' || !strings.HasPrefix(rest[13:], "role/") {
		return "", false
	}
	if _, err := strconv.ParseUint(rest[:12], 10, 64); err != nil {
		return "", false
	}
	return rest[:12], true
}
