package sts

import (
	"context"

	"github.com/rampart/rampart/internal/service"

	stsapi "github.com/rampart/rampart/internal/api/sts"
)

// GetCallerIdentity returns the account, ARN and unique id of the caller.
func (s *Service) GetCallerIdentity(ctx context.Context, _ *stsapi.GetCallerIdentityRequest) (*stsapi.GetCallerIdentityResponse, error) {
	p := service.CallFrom(ctx).Principal
	return &stsapi.GetCallerIdentityResponse{UserId: &p.ID, Account: &p.Account, Arn: &p.ARN}, nil
}
