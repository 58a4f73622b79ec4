package sts

import (
	"context"
	"errors"
	"strings"
	"time"

	"github.com/rampart/rampart/internal/authn"
	"github.com/rampart/rampart/internal/authz"
	"github.com/rampart/rampart/internal/awsproto"
	"github.com/rampart/rampart/internal/service"

	stsapi "github.com/rampart/rampart/internal/api/sts"
)

// assumeRoleResource is AssumeRole's authorization resource: the role, with
// its trust policy as a "trust" resource policy and its tags. The root user
// is refused before any policy is read, as AWS does; an unknown role is
// denied in the words AWS uses (no "because" clause: nothing tells the
// caller whether the role exists). An MFA code, when passed, is checked here
// so that the rule's context can say aws:MultiFactorAuthPresent.
func (s *Service) assumeRoleResource(ctx context.Context, c *service.Call, in *stsapi.AssumeRoleRequest) (*authz.Resource, error) {
	p := c.Principal
	if p == nil || p.Type == authz.Root {
		return nil, accessDenied(msgRootCannotAssume)
	}
	if p.Type == authz.FederatedUser {
		return nil, accessDenied(notAuthorized(p, "sts:AssumeRole", *in.RoleArn))
	}
	role, err := s.role(ctx, *in.RoleArn)
	if errors.Is(err, ErrNoSuchRole) {
		return nil, accessDenied(notAuthorized(p, "sts:AssumeRole", *in.RoleArn))
	}
	if err != nil {
		return nil, err
	}
	if (in.SerialNumber == nil) != (in.TokenCode == nil) {
		return nil, validation("SerialNumber and TokenCode must be passed together.")
	}
	if in.SerialNumber != nil {
		if err := s.checkMFA(ctx, c, *in.SerialNumber, *in.TokenCode); err != nil {
			if errors.Is(err, ErrMFA) {
				return nil, accessDenied(msgAssumeRoleMFA)
			}
			return nil, err
		}
	}
	return roleResource(role), nil
}

func roleResource(role *RoleInfo) *authz.Resource {
	return &authz.Resource{ARN: role.ARN, Account: role.Account, Policy: role.TrustPolicy, PolicyKind: "trust", Tags: role.Tags}
}

func (s *Service) role(ctx context.Context, arn string) (*RoleInfo, error) {
	if s.d.Roles == nil {
		return nil, ErrNoSuchRole
	}
	return s.d.Roles.Role(ctx, arn)
}

func (s *Service) checkMFA(ctx context.Context, c *service.Call, serial, code string) error {
	if s.d.MFA == nil {
		return ErrMFA
	}
	return s.d.MFA.CheckMFA(ctx, c.Principal, serial, code, c.Now)
}

// notAuthorized is AWS's AccessDenied wording without a reason.
func notAuthorized(p *authz.Principal, action, resource string) string {
	return "User: " + p.ARN + " is not authorized to perform: " + action + " on resource: " + resource
}

// assumeRoleContext adds AssumeRole's condition keys
// (https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_iam-condition-keys.html).
func assumeRoleContext(c *service.Call, in *stsapi.AssumeRoleRequest, keys map[string][]string) {
	keys["sts:RoleSessionName"] = []string{*in.RoleSessionName}
	if in.ExternalId != nil {
		keys["sts:ExternalId"] = []string{*in.ExternalId}
	}
	if in.SourceIdentity != nil {
		keys["sts:SourceIdentity"] = []string{*in.SourceIdentity}
	} else if c.Principal != nil && c.Principal.Session != nil && c.Principal.Session.SourceIdentity != "" {
		keys["sts:SourceIdentity"] = []string{c.Principal.Session.SourceIdentity}
	}
	tagContext(in.Tags, keys)
	if len(in.TransitiveTagKeys) > 0 {
		keys["sts:TransitiveTagKeys"] = append([]string(nil), in.TransitiveTagKeys...)
	}
	// assumeRoleResource ran first and checked the code: a request that
	// reaches here with one is MFA-authenticated, just now.
	if in.SerialNumber != nil && in.TokenCode != nil {
		keys["aws:MultiFactorAuthPresent"] = []string{"true"}
		keys["aws:MultiFactorAuthAge"] = []string{"0"}
	}
}

// AssumeRole issues credentials for a session of the role.
func (s *Service) AssumeRole(ctx context.Context, in *stsapi.AssumeRoleRequest) (*stsapi.AssumeRoleResponse, error) {
	c := service.CallFrom(ctx)
	caller := c.Principal
	role, err := s.role(ctx, *in.RoleArn)
	if err != nil {
		if errors.Is(err, ErrNoSuchRole) { // deleted since the rule looked
			return nil, denied(notAuthorized(caller, "sts:AssumeRole", *in.RoleArn))
		}
		return nil, err
	}
	chained := caller.Type == authz.AssumedRole

	// Duration: 900 s (the model) to the role's MaxSessionDuration; one
	// hour when chaining, whatever the role allows.
	max := role.MaxSessionDuration
	if max == 0 {
		max = defaultRoleSession
	}
	tooLong := msgDurationRoleMax
	if chained {
		max, tooLong = chainedSessionMax, msgDurationChained
	}
	if in.DurationSeconds != nil && chained && *in.DurationSeconds > chainedSessionMax {
		return nil, validation("%s", msgDurationChained)
	}
	dur, err := duration(in.DurationSeconds, defaultRoleSession, max, tooLong)
	if err != nil {
		return nil, err
	}

	// Source identity: set once, then it stays for the whole chain.
	srcID := ""
	if caller.Session != nil {
		srcID = caller.Session.SourceIdentity
	}
	if in.SourceIdentity != nil {
		if strings.HasPrefix(strings.ToLower(*in.SourceIdentity), reservedPrefix) {
			return nil, validation("SourceIdentity cannot start with the reserved prefix 'aws:'.")
		}
		if srcID != "" && srcID != *in.SourceIdentity {
			return nil, denied("The source identity is already set for the calling session and cannot be changed: " + srcID)
		}
		srcID = *in.SourceIdentity
	}

	tags, transitive, tagOrder, err := sessionTags(in.Tags, in.TransitiveTagKeys, caller)
	if err != nil {
		return nil, err
	}
	docs, arns, err := s.sessionPolicies(ctx, in.Policy, in.PolicyArns)
	if err != nil {
		return nil, err
	}
	packed, err := checkPacked(docs, arns, tags, tagOrder)
	if err != nil {
		return nil, err
	}

	// The rule checked sts:AssumeRole; tags and a source identity need
	// their own permissions, on the same role, with the same context.
	res := roleResource(role)
	if len(in.Tags) > 0 {
		if err := s.also(ctx, c, "sts:TagSession", res, in); err != nil {
			return nil, err
		}
	}
	if srcID != "" {
		if err := s.also(ctx, c, "sts:SetSourceIdentity", res, in); err != nil {
			return nil, err
		}
	}

	mfa, mfaTime := mfaOf(caller)
	if in.SerialNumber != nil {
		mfa, mfaTime = true, c.Now
	}
	session := *in.RoleSessionName
	id := role.RoleID + ":" + session
	arn := "arn:aws:sts::" + role.Account + ":assumed-role/" + role.Name + "/" + session
	spec := &authn.SessionSpec{
		Principal: authz.Principal{
			Type: authz.AssumedRole, Account: role.Account, ARN: arn, ID: id, Name: role.Name,
			RoleARN: role.ARN, RoleID: role.RoleID, SessionName: session,
		},
		Policies: docs, Tags: tags, TransitiveTagKeys: transitive, SourceIdentity: srcID,
		MFAAuthenticated: mfa, MFAAuthTime: mfaTime,
		IssuedAt: c.Now, Expiration: c.Now.Add(dur).Truncate(time.Second),
		Chained: chained, IssuerARN: role.ARN,
	}
	creds, err := s.credentials(c, spec)
	if err != nil {
		return nil, err
	}
	out := &stsapi.AssumeRoleResponse{
		Credentials:      creds,
		AssumedRoleUser:  &stsapi.AssumedRoleUser{AssumedRoleId: &id, Arn: &arn},
		PackedPolicySize: packed,
	}
	if srcID != "" {
		out.SourceIdentity = &srcID
	}
	return out, nil
}

// also authorizes a second action of an AssumeRole call.
func (s *Service) also(ctx context.Context, c *service.Call, action string, res *authz.Resource, in *stsapi.AssumeRoleRequest) error {
	req := c.Request(action)
	req.Resource = res
	req.Keys = map[string][]string{}
	assumeRoleContext(c, in, req.Keys)
	if c.Authz == nil {
		return awsproto.Internal(errors.New("sts: no authorizer"))
	}
	return asAWS(c.Authz.Authorize(ctx, req))
}
