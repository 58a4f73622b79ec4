package iam

import (
	"context"
	"crypto/subtle"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/rampart/rampart/internal/authz"
	"github.com/rampart/rampart/internal/store"
)

// What STS asks of IAM besides roles (internal/service/sts declares the
// interfaces): the documents of managed policies passed as session
// policies, and one-time codes of users' virtual MFA devices.

// ErrNoSuchPolicy is returned (wrapped) by [Service.ManagedPolicy] for a
// policy that does not exist.
var ErrNoSuchPolicy = errors.New("iam: no such policy")

// ErrMFA is returned (wrapped) by [Service.CheckMFA] when a code does not
// check out: wrong or reused code, unknown device, or a device that is not
// the caller's.
var ErrMFA = errors.New("iam: MFA code does not check out")

// ManagedPolicy returns the document of the default version of the managed
// policy policyARN: an AWS managed policy (arn:aws:iam::aws:policy/…) or a
// customer managed policy of the account in the ARN. When there is no such
// policy it returns an error wrapping [ErrNoSuchPolicy].
func (s *Service) ManagedPolicy(ctx context.Context, policyARN string) ([]byte, error) {
	if m, ok := awsPolicy(policyARN); ok {
		return []byte(m.defaultDoc()), nil
	}
	acct, _, _, ok := policyARNParts(policyARN)
	if !ok || acct == "aws" {
		return nil, fmt.Errorf("%w: %s", ErrNoSuchPolicy, policyARN)
	}
	var doc string
	err := s.store.View(ctx, func(tx store.Tx) error {
		p, err := getCustomerPolicy(tx, acct, policyARN)
		if err != nil {
			return err
		}
		doc = p.defaultDoc()
		return nil
	})
	if err != nil {
		if isNoSuchEntity(err) {
			return nil, fmt.Errorf("%w: %s", ErrNoSuchPolicy, policyARN)
		}
		return nil, err
	}
	return []byte(doc), nil
}

// mfaWindow is how many 30-second steps either side of now a single code
// may be from: one, as authenticator apps and servers allow for clock drift.
const mfaWindow = 1

// CheckMFA checks code, one TOTP code of the virtual MFA device
// serialNumber, for the IAM user p (an IAM user or one of its
// GetSessionToken sessions): the device must be enabled for that user, and
// the code current (within one step of now) and later than any code the
// device accepted before — a code is never accepted twice, nor one older
// than an accepted one. The accepted step is recorded in the same
// transaction. Any failure is an error wrapping [ErrMFA] (the caller learns
// nothing about which part failed). Wrong codes count against the
// device's rate limit (mfa_limit.go), shared with EnableMFADevice and
// ResyncMFADevice.
//
// The root user's MFA and hardware or FIDO devices are not served: they
// return ErrMFA.
func (s *Service) CheckMFA(ctx context.Context, p *authz.Principal, serialNumber, code string, now time.Time) error {
	if p == nil || p.Type != authz.IAMUser || p.Name == "" {
		return fmt.Errorf("%w: not an IAM user", ErrMFA)
	}
	if !strings.HasPrefix(serialNumber, "arn:aws:iam::"+p.Account+":mfa/") {
		return fmt.Errorf("%w: not a virtual MFA device of account %s", ErrMFA, p.Account)
	}
	if len(code) != 6 || strings.Trim(code, "0123456789") != "" {
		return fmt.Errorf("%w: malformed code", ErrMFA)
	}
	err := s.store.Update(ctx, func(tx store.Tx) error {
		d, err := getMFA(tx, p.Account, serialNumber)
		if err != nil {
			if isNoSuchEntity(err) {
				return fmt.Errorf("%w: no device %s", ErrMFA, serialNumber)
			}
			return err
		}
		if d.User == "" || d.Enabled.IsZero() || !strings.EqualFold(d.User, p.Name) {
			return fmt.Errorf("%w: device %s is not enabled for %s", ErrMFA, serialNumber, p.Name)
		}
		key := mfaLimitKey(p.Account, d.Serial)
		if !s.mfa.allowed(key, now) {
			// Locked out after repeated wrong codes: the same error as a
			// wrong code, whatever this one is.
			return fmt.Errorf("%w: code not valid for %s", ErrMFA, serialNumber)
		}
		seed, err := s.barrier.Open(d.Seed, mfaAAD(d.Serial))
		if err != nil {
			return err
		}
		cur := now.Unix() / 30
		match := int64(-1)
		// Every step of the window is compared, whatever matched first,
		// so that timing does not tell which step a code was for.
		for step := cur - mfaWindow; step <= cur+mfaWindow; step++ {
			ok := subtle.ConstantTimeCompare([]byte(totp(seed, step)), []byte(code)) == 1
			if ok && step > d.LastStep && match < 0 {
				match = step
			}
		}
		clear(seed)
		if match < 0 {
			s.mfa.failed(key, now)
			return fmt.Errorf("%w: code not valid for %s", ErrMFA, serialNumber)
		}
		s.mfa.succeeded(key)
		d.LastStep = match
		return putJSON(tx, tableMFA, entityKey(p.Account, d.Name), d)
	})
	return err
}
