// Package sts serves the AWS Security Token Service.
package sts

import (
	"github.com/rampart/rampart/internal/service"

	stsapi "github.com/rampart/rampart/internal/api/sts"
)

// Service is the STS service.
type Service struct{}

// New returns the STS service.
func New() *Service { return &Service{} }

// Register lists the operations STS serves, each with its authorization rule.
func (s *Service) Register(r *service.Registry) {
	// GetCallerIdentity needs no permission: "No permissions are required to
	// perform this operation. If an administrator attaches a policy to your
	// identity that explicitly denies access to the sts:GetCallerIdentity
	// action, you can still perform this operation." (STS API Reference)
	service.Handle(r, stsapi.OpGetCallerIdentity, s.GetCallerIdentity, service.Rule[stsapi.GetCallerIdentityRequest]{Action: "sts:GetCallerIdentity", NoPermission: true})
}
