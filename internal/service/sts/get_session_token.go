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

// GetSessionToken issues temporary credentials for the calling IAM user (or
// root user), optionally MFA-authenticated. The session acts as the user
// itself: same ARN and id, the user's policies, plus the MFA context.
func (s *Service) GetSessionToken(ctx context.Context, in *stsapi.GetSessionTokenRequest) (*stsapi.GetSessionTokenResponse, error) {
	c := service.CallFrom(ctx)
	caller := c.Principal
	if caller.Session != nil || (caller.Type != authz.IAMUser && caller.Type != authz.Root) {
		return nil, denied(fmt.Sprintf(msgSessionCredsCall, "GetSessionToken"))
	}
	// "Sessions for AWS account owners are restricted to a maximum of
	// 3,600 seconds (one hour). If the duration is longer than one hour,
	// the session for AWS account owners defaults to one hour."
	def, max := int32(defaultUserSession), int32(129600)
	if caller.Type == authz.Root {
		def, max = rootSessionMax, rootSessionMax
	}
	d := def
	if in.DurationSeconds != nil {
		d = min(*in.DurationSeconds, max)
	}
	if (in.SerialNumber == nil) != (in.TokenCode == nil) {
		return nil, validation("SerialNumber and TokenCode must be passed together.")
	}
	mfa := false
	if in.SerialNumber != nil {
		if err := s.checkMFA(ctx, c, *in.SerialNumber, *in.TokenCode); err != nil {
			if isMFAError(err) {
				return nil, denied(msgSessionTokenMFA)
			}
			return nil, err
		}
		mfa = true
	}
	p := *caller
	p.AccessKeyID, p.Session = "", nil
	spec := &authn.SessionSpec{
		Principal: p, MFAAuthenticated: mfa, IssuedAt: c.Now,
		Expiration: c.Now.Add(time.Duration(d) * time.Second).Truncate(time.Second),
		IssuerARN:  caller.ARN,
	}
	if mfa {
		spec.MFAAuthTime = c.Now
	}
	creds, err := s.credentials(c, spec)
	if err != nil {
		return nil, err
	}
	return &stsapi.GetSessionTokenResponse{Credentials: creds}, nil
}
