package iam

import (
	"context"
	"strings"

	"github.com/rampart/rampart/internal/service"
	"github.com/rampart/rampart/internal/store"

	iamapi "github.com/rampart/rampart/internal/api/iam"
)

// GetMFADevice and the tags of virtual MFA devices.

func (s *Service) registerMFAExtras(r *service.Registry) {
	type R = service.Call
	serial := func(p *string) []string { return []string{str(p)} }
	service.Handle(r, iamapi.OpGetMFADevice, s.GetMFADevice, service.Rule[iamapi.GetMFADeviceRequest]{Action: "iam:GetMFADevice",
		Resource: entityResource(s, kindUser, func(c *R, in *iamapi.GetMFADeviceRequest) string { return callerUser(c, in.UserName) })})
	service.Handle(r, iamapi.OpTagMFADevice, s.TagMFADevice, service.Rule[iamapi.TagMFADeviceRequest]{Action: "iam:TagMFADevice",
		Resources: func(c *R, in *iamapi.TagMFADeviceRequest) []string { return serial(in.SerialNumber) },
		Context:   func(c *R, in *iamapi.TagMFADeviceRequest, k map[string][]string) { requestTags(in.Tags, k) }})
	service.Handle(r, iamapi.OpUntagMFADevice, s.UntagMFADevice, service.Rule[iamapi.UntagMFADeviceRequest]{Action: "iam:UntagMFADevice",
		Resources: func(c *R, in *iamapi.UntagMFADeviceRequest) []string { return serial(in.SerialNumber) },
		Context:   func(c *R, in *iamapi.UntagMFADeviceRequest, k map[string][]string) { k["aws:TagKeys"] = in.TagKeys }})
	service.Handle(r, iamapi.OpListMFADeviceTags, s.ListMFADeviceTags, service.Rule[iamapi.ListMFADeviceTagsRequest]{Action: "iam:ListMFADeviceTags",
		Resources: func(c *R, in *iamapi.ListMFADeviceTagsRequest) []string { return serial(in.SerialNumber) }})
}

// GetMFADevice returns a user's MFA device (the caller's when no user is named).
func (s *Service) GetMFADevice(ctx context.Context, in *iamapi.GetMFADeviceRequest) (*iamapi.GetMFADeviceResponse, error) {
	c := service.CallFrom(ctx)
	if isRootSelf(c, in.UserName) {
		// The root user's own device: EnableMFADevice assigns devices to
		// IAM users only, so the root user has none in rampart.
		return nil, iamapi.NewNoSuchEntityException("MFA Device with serial number %s not found for the root user.", str(in.SerialNumber))
	}
	name, err := selfName(c, in.UserName)
	if err != nil {
		return nil, err
	}
	var d *mfaDevice
	var user string
	err = s.store.View(ctx, func(tx store.Tx) error {
		e, err := getEntity(tx, kindUser, c.Principal.Account, name)
		if err != nil {
			return err
		}
		user = e.Name
		if d, err = getMFA(tx, c.Principal.Account, str(in.SerialNumber)); err != nil {
			return err
		}
		if !strings.EqualFold(d.User, e.Name) {
			return iamapi.NewNoSuchEntityException("MFA Device with serial number %s not found for user %s.", str(in.SerialNumber), e.Name)
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	return &iamapi.GetMFADeviceResponse{UserName: ptr(user), SerialNumber: ptr(d.Serial), EnableDate: ptr(d.Enabled)}, nil
}

func (s *Service) updateMFA(ctx context.Context, serial string, fn func(d *mfaDevice) error) error {
	acct := service.CallFrom(ctx).Principal.Account
	return s.store.Update(ctx, func(tx store.Tx) error {
		d, err := getMFA(tx, acct, serial)
		if err != nil {
			return err
		}
		if err := fn(d); err != nil {
			return err
		}
		return putJSON(tx, tableMFA, entityKey(acct, d.Name), d)
	})
}

// TagMFADevice adds tags to a virtual MFA device.
func (s *Service) TagMFADevice(ctx context.Context, in *iamapi.TagMFADeviceRequest) (*awsEmpty, error) {
	return empty(s.updateMFA(ctx, str(in.SerialNumber), func(d *mfaDevice) error {
		var err error
		d.Tags, err = mergeTags(d.Tags, in.Tags)
		return err
	}))
}

// UntagMFADevice removes tags from a virtual MFA device.
func (s *Service) UntagMFADevice(ctx context.Context, in *iamapi.UntagMFADeviceRequest) (*awsEmpty, error) {
	return empty(s.updateMFA(ctx, str(in.SerialNumber), func(d *mfaDevice) error {
		d.Tags = removeTags(d.Tags, in.TagKeys)
		return nil
	}))
}

// ListMFADeviceTags lists a virtual MFA device's tags.
func (s *Service) ListMFADeviceTags(ctx context.Context, in *iamapi.ListMFADeviceTagsRequest) (*iamapi.ListMFADeviceTagsResponse, error) {
	acct := service.CallFrom(ctx).Principal.Account
	var d *mfaDevice
	err := s.store.View(ctx, func(tx store.Tx) error {
		var err error
		d, err = getMFA(tx, acct, str(in.SerialNumber))
		return err
	})
	if err != nil {
		return nil, err
	}
	ts, trunc, next, err := pageTags(d.Tags, in.Marker, in.MaxItems)
	if err != nil {
		return nil, err
	}
	return &iamapi.ListMFADeviceTagsResponse{Tags: ts, IsTruncated: trunc, Marker: next}, nil
}
