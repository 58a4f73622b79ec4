// Package sts serves the AWS Security Token Service: temporary credentials
// for role sessions (AssumeRole), MFA-backed user sessions (GetSessionToken)
// federated users (GetFederationToken), web identities
// (AssumeRoleWithWebIdentity: OIDC ID tokens of providers registered in
// IAM, verified with the issuer's JWKS) and SAML subjects
// (AssumeRoleWithSAML: signed assertions of SAML providers registered in
// IAM, see xmldsig.go), plus GetCallerIdentity, GetAccessKeyInfo and
// DecodeAuthorizationMessage.
//
// Not served yet: AssumeRoot, GetDelegatedAccessToken,
// GetWebIdentityToken; session tags and source identity carried in web
// identity tokens (https://aws.amazon.com/tags, …/source_identity) and SAML
// attributes (PrincipalTag, TransitiveTagKeys, SourceIdentity,
// SessionDuration); encrypted SAML assertions; aws:FederatedProvider in
// the authorizations of the resulting sessions (the session does not carry
// its provider yet).
//
// The credentials it issues are ASIA… access key ids whose session token is
// the session itself, sealed by the barrier (see internal/authn/session.go):
// the server authenticates them on every service without reading the store.
// STS keeps no state of its own; what it needs of IAM (roles, managed
// policies, MFA devices) it asks through the small interfaces below.
package sts

import (
	"context"
	"crypto/x509"
	"reflect"
	"time"

	"github.com/rampart/rampart/internal/authn"
	"github.com/rampart/rampart/internal/authz"
	"github.com/rampart/rampart/internal/barrier"
	"github.com/rampart/rampart/internal/service"
	"github.com/rampart/rampart/internal/service/iam"

	stsapi "github.com/rampart/rampart/internal/api/sts"
)

// RoleInfo is a role as STS needs it: ARN (with path), RoleID (AROA…),
// Name, Path, Account, TrustPolicy, MaxSessionDuration (seconds; 0 means
// the default, 3600) and Tags.
type RoleInfo = iam.RoleInfo

// ErrNoSuchRole is what Roles returns (wrapped) for a role that does not exist.
var ErrNoSuchRole = iam.ErrNoSuchRole

// Roles is what STS needs of IAM (implemented by *iam.Service).
type Roles interface {
	Role(ctx context.Context, roleARN string) (*iam.RoleInfo, error)
}

// ManagedPolicies resolves the PolicyArns passed as session policies to the
// documents of their default versions (implemented by IAM).
type ManagedPolicies interface {
	// ManagedPolicy returns the default version's document, or an error
	// wrapping ErrNoSuchPolicy.
	ManagedPolicy(ctx context.Context, policyARN string) ([]byte, error)
}

// ErrNoSuchPolicy is what a ManagedPolicies implementation returns (wrapped)
// for a policy that does not exist.
var ErrNoSuchPolicy = iam.ErrNoSuchPolicy

// MFADevices checks MFA codes against the virtual MFA devices IAM keeps
// (implemented by IAM).
type MFADevices interface {
	// CheckMFA reports whether code is a current one-time code of the MFA
	// device serialNumber, assigned to the principal p (an IAM user or the
	// root user). It returns ErrMFA for a wrong code, an unknown device or
	// a device of someone else.
	CheckMFA(ctx context.Context, p *authz.Principal, serialNumber, code string, now time.Time) error
}

// ErrMFA is what MFADevices returns (wrapped) when a code does not check out.
var ErrMFA = iam.ErrMFA

// OIDCProviders finds the OpenID Connect providers registered in IAM
// (implemented by *iam.Service).
type OIDCProviders interface {
	// OIDCProvider returns the provider of account whose issuer is
	// issuerURL (https://host/path), or an error wrapping
	// ErrNoSuchProvider.
	OIDCProvider(ctx context.Context, account, issuerURL string) (*iam.OIDCProviderInfo, error)
}

// SAMLProviders finds the SAML providers registered in IAM (implemented by
// *iam.Service).
type SAMLProviders interface {
	// SAMLProvider returns the provider providerARN, or an error wrapping
	// ErrNoSuchProvider.
	SAMLProvider(ctx context.Context, providerARN string) (*iam.SAMLProviderInfo, error)
}

// OIDCProviderInfo is an OIDC provider as STS needs it: ARN, URL
// (https://host/path), ClientIDs (audiences) and Thumbprints.
type OIDCProviderInfo = iam.OIDCProviderInfo

// SAMLProviderInfo is a SAML provider as STS needs it: ARN, Name, Account
// and MetadataDocument.
type SAMLProviderInfo = iam.SAMLProviderInfo

// ErrNoSuchProvider is what OIDCProviders and SAMLProviders return
// (wrapped) for a provider that does not exist.
var ErrNoSuchProvider = iam.ErrNoSuchProvider

// Deps are what the STS service is built from. Any may be nil while the
// service only lists its operations (app.Registry(app.Deps{})); a nil
// Roles, ManagedPolicies or MFADevices makes the operations needing it
// refuse, never allow.
type Deps struct {
	Barrier  *barrier.Barrier
	Authn    *authn.Authenticator
	Roles    Roles
	Policies ManagedPolicies
	MFA      MFADevices
	OIDC     OIDCProviders
	SAML     SAMLProviders
	// AllowLoopbackHTTP lets AssumeRoleWithWebIdentity fetch the keys of
	// issuers at http:// URLs on loopback addresses (dev mode, local test
	// issuers); AWS, and rampart otherwise, require https.
	AllowLoopbackHTTP bool
	// IssuerRoots are the CAs trusted for OIDC issuers' TLS certificates
	// (nil: the system's), besides each provider's thumbprints.
	IssuerRoots *x509.CertPool
}

// Service is the STS service.
type Service struct {
	d    Deps
	keys *keyrings // OIDC issuers' keys
}

// New returns the STS service.
func New(d Deps) *Service {
	// A nil *iam.Service (app.Registry(app.Deps{})) is no IAM at all.
	if isNil(d.Roles) {
		d.Roles = nil
	}
	if isNil(d.Policies) {
		d.Policies = nil
	}
	if isNil(d.MFA) {
		d.MFA = nil
	}
	if isNil(d.OIDC) {
		d.OIDC = nil
	}
	if isNil(d.SAML) {
		d.SAML = nil
	}
	return &Service{d: d, keys: newKeyrings(d.AllowLoopbackHTTP, d.IssuerRoots)}
}

func isNil(v any) bool {
	if v == nil {
		return true
	}
	rv := reflect.ValueOf(v)
	return rv.Kind() == reflect.Pointer && rv.IsNil()
}

// Register lists the operations STS serves, each with its authorization rule.
func (s *Service) Register(r *service.Registry) {
	// GetCallerIdentity needs no permission: "No permissions are required to
	// perform this operation. If an administrator attaches a policy to your
	// identity that explicitly denies access to the sts:GetCallerIdentity
	// action, you can still perform this operation." (STS API Reference)
	service.Handle(r, stsapi.OpGetCallerIdentity, s.GetCallerIdentity, service.Rule[stsapi.GetCallerIdentityRequest]{Action: "sts:GetCallerIdentity", NoPermission: true})
	// AssumeRole: the role's trust policy (a "trust" resource) and the
	// caller's identity policies; session tags also need sts:TagSession and
	// a source identity sts:SetSourceIdentity, checked by the handler.
	service.Handle(r, stsapi.OpAssumeRole, s.AssumeRole, service.Rule[stsapi.AssumeRoleRequest]{
		Action: "sts:AssumeRole", Resource: s.assumeRoleResource, Context: assumeRoleContext,
	})
	// GetSessionToken: "No permissions are required for users to perform
	// this operation. The purpose of the sts:GetSessionToken operation is to
	// authenticate the user using MFA. You cannot use policies to control
	// authentication operations." (STS API Reference)
	service.Handle(r, stsapi.OpGetSessionToken, s.GetSessionToken, service.Rule[stsapi.GetSessionTokenRequest]{Action: "sts:GetSessionToken", NoPermission: true})
	// GetFederationToken acts on the federated user it creates.
	service.Handle(r, stsapi.OpGetFederationToken, s.GetFederationToken, service.Rule[stsapi.GetFederationTokenRequest]{
		Action: "sts:GetFederationToken", Resources: federatedUserResource, Context: federationContext,
	})
	// GetAccessKeyInfo has no resource-level permissions.
	service.Handle(r, stsapi.OpGetAccessKeyInfo, s.GetAccessKeyInfo, service.Rule[stsapi.GetAccessKeyInfoRequest]{Action: "sts:GetAccessKeyInfo"})
	// AssumeRoleWithWebIdentity and AssumeRoleWithSAML are unsigned (the
	// model's authtype "none"): the caller is the web identity or SAML
	// subject, not an IAM principal, so no identity policy can allow or
	// deny it and the rule has nothing to evaluate. The handler verifies
	// the token or assertion and then asks the authorizer, as a federated
	// caller, whether the role's trust policy lets it in
	// (authz.FederatedChecker: the trust policy and the RCPs of the role's
	// account), before any credentials are made.
	service.Handle(r, stsapi.OpAssumeRoleWithWebIdentity, s.AssumeRoleWithWebIdentity, service.Rule[stsapi.AssumeRoleWithWebIdentityRequest]{Action: "sts:AssumeRoleWithWebIdentity", NoPermission: true})
	service.Handle(r, stsapi.OpAssumeRoleWithSAML, s.AssumeRoleWithSAML, service.Rule[stsapi.AssumeRoleWithSAMLRequest]{Action: "sts:AssumeRoleWithSAML", NoPermission: true})
	service.Handle(r, stsapi.OpDecodeAuthorizationMessage, s.DecodeAuthorizationMessage, service.Rule[stsapi.DecodeAuthorizationMessageRequest]{Action: "sts:DecodeAuthorizationMessage"})
}
