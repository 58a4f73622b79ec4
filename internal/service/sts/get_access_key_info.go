package sts

import (
	"context"
	"errors"
	"strings"

	"github.com/rampart/rampart/internal/authn"

	stsapi "github.com/rampart/rampart/internal/api/sts"
)

// GetAccessKeyInfo returns the account an access key id belongs to. Like
// AWS, it answers from the key id itself (rampart's AKIA…/ASIA… ids encode
// the account as AWS's do) and, for other ids rampart issued (the dev
// root key), from the key store. It tells nothing else about the key.
func (s *Service) GetAccessKeyInfo(ctx context.Context, in *stsapi.GetAccessKeyInfoRequest) (*stsapi.GetAccessKeyInfoResponse, error) {
	id := *in.AccessKeyId
	if !strings.HasPrefix(id, authn.SessionKeyPrefix) && s.d.Authn != nil {
		cred, err := s.d.Authn.Lookup(ctx, id)
		if err == nil {
			acct := cred.Principal.Account
			return &stsapi.GetAccessKeyInfoResponse{Account: &acct}, nil
		}
		if !errors.Is(err, authn.ErrUnknownKey) {
			return nil, err
		}
	}
	if acct, ok := authn.KeyIDAccount(id); ok {
		return &stsapi.GetAccessKeyInfoResponse{Account: &acct}, nil
	}
	return nil, invalidParameter("The access key ID %s is not valid.", id)
}
