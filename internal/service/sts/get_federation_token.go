package sts

import (
	"context"
	"fmt"
	"time"

	"github.com/rampart/rampart/internal/authn"
	"github.com/rampart/rampart/internal/authz"
	"github.com/rampart/rampart/internal/service"

	stsapi "github.com/rampart/rampart/internal/api/sts"
)

// federatedUserARN is the ARN of the federated user Name of account.
func federatedUserARN(account, name string) string {
	return "arn:aws:sts::" + account + ":federated-user/" + name
}

func federatedUserResource(c *service.Call, in *stsapi.GetFederationTokenRequest) []string {
	if c.Principal == nil {
		return nil
	}
	return []string{federatedUserARN(c.Principal.Account, *in.Name)}
}

func federationContext(_ *service.Call, in *stsapi.GetFederationTokenRequest, keys map[string][]string) {
	tagContext(in.Tags, keys)
}

// GetFederationToken issues credentials for a federated user: the calling
// IAM user's permissions, limited by the session policies passed. Without
// a session policy the federated user may do nothing ("If you do not pass
// a policy to this operation, the resulting temporary credentials do not
// have any permissions", STS API Reference) — except GetCallerIdentity.
func (s *Service) GetFederationToken(ctx context.Context, in *stsapi.GetFederationTokenRequest) (*stsapi.GetFederationTokenResponse, error) {
	c := service.CallFrom(ctx)
	caller := c.Principal
	if caller.Session != nil || (caller.Type != authz.IAMUser && caller.Type != authz.Root) {
		return nil, denied(fmt.Sprintf(msgSessionCredsCall, "GetFederationToken"))
	}
	def, max := int32(defaultUserSession), int32(129600)
	if caller.Type == authz.Root {
		def, max = rootSessionMax, rootSessionMax
	}
	d := def
	if in.DurationSeconds != nil {
		d = min(*in.DurationSeconds, max)
	}
	tags, _, tagOrder, err := sessionTags(in.Tags, nil, nil)
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
	arn := federatedUserARN(caller.Account, *in.Name)
	if len(in.Tags) > 0 {
		req := c.Request("sts:TagSession")
		req.Resources = []string{arn}
		req.Keys = map[string][]string{}
		tagContext(in.Tags, req.Keys)
		if err := asAWS(c.Authz.Authorize(ctx, req)); err != nil {
			return nil, err
		}
	}
	if len(docs) == 0 {
		docs = []string{noPermissionsPolicy}
	}
	id := caller.Account + ":" + *in.Name
	spec := &authn.SessionSpec{
		Principal: authz.Principal{Type: authz.FederatedUser, Account: caller.Account, ARN: arn, ID: id, Name: *in.Name},
		Policies:  docs, Tags: tags,
		IssuedAt: c.Now, Expiration: c.Now.Add(time.Duration(d) * time.Second).Truncate(time.Second),
		IssuerARN: caller.ARN,
	}
	creds, err := s.credentials(c, spec)
	if err != nil {
		return nil, err
	}
	return &stsapi.GetFederationTokenResponse{
		Credentials:      creds,
		FederatedUser:    &stsapi.FederatedUser{FederatedUserId: &id, Arn: &arn},
		PackedPolicySize: packed,
	}, nil
}
