package iam

import (
	"context"
	"crypto/pbkdf2"
	"crypto/sha256"
	"crypto/subtle"
	"errors"
	"io"
	"time"
	"unicode"

	"github.com/rampart/rampart/internal/authz"
	"github.com/rampart/rampart/internal/awsproto"
	"github.com/rampart/rampart/internal/service"
	"github.com/rampart/rampart/internal/store"

	iamapi "github.com/rampart/rampart/internal/api/iam"
)

// passwordPolicy is the account password policy as stored.
type passwordPolicy struct {
	MinLength      int32 `json:"minLength"`
	Symbols        bool  `json:"symbols,omitempty"`
	Numbers        bool  `json:"numbers,omitempty"`
	Upper          bool  `json:"upper,omitempty"`
	Lower          bool  `json:"lower,omitempty"`
	AllowChange    bool  `json:"allowChange,omitempty"`
	MaxAge         int32 `json:"maxAge,omitempty"`
	ReusePrevented int32 `json:"reuse,omitempty"`
	HardExpiry     bool  `json:"hardExpiry,omitempty"`
}

// loginProfile is a user's console password, kept as a salted PBKDF2 hash.
type loginProfile struct {
	Hash          []byte    `json:"hash"`
	Salt          []byte    `json:"salt"`
	Created       time.Time `json:"created"`
	Changed       time.Time `json:"changed"`
	ResetRequired bool      `json:"reset,omitempty"`
	History       [][]byte  `json:"history,omitempty"` // earlier hashes (same salt), newest last, for reuse prevention
}

// pbkdf2Iterations follows OWASP's recommendation for PBKDF2-HMAC-SHA256.
const pbkdf2Iterations = 600_000

func hashPassword(password string, salt []byte) ([]byte, error) {
	return pbkdf2.Key(sha256.New, password, salt, pbkdf2Iterations, 32)
}

func (s *Service) registerCredentials(r *service.Registry) {
	type R = service.Call
	service.Handle(r, iamapi.OpUpdateAccountPasswordPolicy, s.UpdateAccountPasswordPolicy, service.Rule[iamapi.UpdateAccountPasswordPolicyRequest]{Action: "iam:UpdateAccountPasswordPolicy"})
	service.Handle(r, iamapi.OpGetAccountPasswordPolicy, s.GetAccountPasswordPolicy, service.Rule[awsEmpty]{Action: "iam:GetAccountPasswordPolicy"})
	service.Handle(r, iamapi.OpDeleteAccountPasswordPolicy, s.DeleteAccountPasswordPolicy, service.Rule[awsEmpty]{Action: "iam:DeleteAccountPasswordPolicy"})
	service.Handle(r, iamapi.OpCreateLoginProfile, s.CreateLoginProfile, service.Rule[iamapi.CreateLoginProfileRequest]{Action: "iam:CreateLoginProfile",
		Resource: entityResource(s, kindUser, func(c *R, in *iamapi.CreateLoginProfileRequest) string { return callerUser(c, in.UserName) })})
	service.Handle(r, iamapi.OpGetLoginProfile, s.GetLoginProfile, service.Rule[iamapi.GetLoginProfileRequest]{Action: "iam:GetLoginProfile",
		Resource: entityResource(s, kindUser, func(c *R, in *iamapi.GetLoginProfileRequest) string { return callerUser(c, in.UserName) })})
	service.Handle(r, iamapi.OpUpdateLoginProfile, s.UpdateLoginProfile, service.Rule[iamapi.UpdateLoginProfileRequest]{Action: "iam:UpdateLoginProfile",
		Resource: entityResource(s, kindUser, func(c *R, in *iamapi.UpdateLoginProfileRequest) string { return str(in.UserName) })})
	service.Handle(r, iamapi.OpDeleteLoginProfile, s.DeleteLoginProfile, service.Rule[iamapi.DeleteLoginProfileRequest]{Action: "iam:DeleteLoginProfile",
		Resource: entityResource(s, kindUser, func(c *R, in *iamapi.DeleteLoginProfileRequest) string { return callerUser(c, in.UserName) })})
	service.Handle(r, iamapi.OpChangePassword, s.ChangePassword, service.Rule[iamapi.ChangePasswordRequest]{Action: "iam:ChangePassword",
		Resource: entityResource(s, kindUser, func(c *R, in *iamapi.ChangePasswordRequest) string { return callerUser(c, nil) })})
	s.registerMFA(r)
}

func (p *passwordPolicy) api() *iamapi.PasswordPolicy {
	return &iamapi.PasswordPolicy{MinimumPasswordLength: ptr(p.MinLength), RequireSymbols: ptr(p.Symbols), RequireNumbers: ptr(p.Numbers),
		RequireUppercaseCharacters: ptr(p.Upper), RequireLowercaseCharacters: ptr(p.Lower), AllowUsersToChangePassword: ptr(p.AllowChange),
		ExpirePasswords: ptr(p.MaxAge > 0), MaxPasswordAge: nilIfZero(p.MaxAge), PasswordReusePrevention: nilIfZero(p.ReusePrevented), HardExpiry: ptr(p.HardExpiry)}
}

func nilIfZero(v int32) *int32 {
	if v == 0 {
		return nil
	}
	return &v
}

// UpdateAccountPasswordPolicy sets the account password policy; unset
// fields take AWS's defaults.
func (s *Service) UpdateAccountPasswordPolicy(ctx context.Context, in *iamapi.UpdateAccountPasswordPolicyRequest) (*awsEmpty, error) {
	acct := service.CallFrom(ctx).Principal.Account
	b := func(p *bool) bool { return p != nil && *p }
	pp := &passwordPolicy{MinLength: 8, Symbols: b(in.RequireSymbols), Numbers: b(in.RequireNumbers), Upper: b(in.RequireUppercaseCharacters),
		Lower: b(in.RequireLowercaseCharacters), AllowChange: b(in.AllowUsersToChangePassword), HardExpiry: b(in.HardExpiry)}
	if in.MinimumPasswordLength != nil {
		pp.MinLength = *in.MinimumPasswordLength
	}
	if in.MaxPasswordAge != nil {
		pp.MaxAge = *in.MaxPasswordAge
	}
	if in.PasswordReusePrevention != nil {
		pp.ReusePrevented = *in.PasswordReusePrevention
	}
	return empty(s.store.Update(ctx, func(tx store.Tx) error {
		a, err := getSettings(tx, acct)
		if err != nil {
			return err
		}
		a.PasswordPolicy = pp
		return putJSON(tx, tableAccount, acct, a)
	}))
}

func noPasswordPolicy(acct string) error {
	return iamapi.NewNoSuchEntityException("The Password Policy with domain name %s cannot be found.", acct)
}

// GetAccountPasswordPolicy returns the account password policy.
func (s *Service) GetAccountPasswordPolicy(ctx context.Context, _ *awsEmpty) (*iamapi.GetAccountPasswordPolicyResponse, error) {
	acct := service.CallFrom(ctx).Principal.Account
	var a *accountSettings
	err := s.store.View(ctx, func(tx store.Tx) error {
		var err error
		a, err = getSettings(tx, acct)
		return err
	})
	if err != nil {
		return nil, err
	}
	if a.PasswordPolicy == nil {
		return nil, noPasswordPolicy(acct)
	}
	return &iamapi.GetAccountPasswordPolicyResponse{PasswordPolicy: a.PasswordPolicy.api()}, nil
}

// DeleteAccountPasswordPolicy removes the account password policy.
func (s *Service) DeleteAccountPasswordPolicy(ctx context.Context, _ *awsEmpty) (*awsEmpty, error) {
	acct := service.CallFrom(ctx).Principal.Account
	return empty(s.store.Update(ctx, func(tx store.Tx) error {
		a, err := getSettings(tx, acct)
		if err != nil {
			return err
		}
		if a.PasswordPolicy == nil {
			return noPasswordPolicy(acct)
		}
		a.PasswordPolicy = nil
		return putJSON(tx, tableAccount, acct, a)
	}))
}

// checkPassword enforces the account password policy (IAM's default when
// none is set: at least 8 characters, three of the four character classes).
func checkPassword(pp *passwordPolicy, password string) error {
	var upper, lower, digit, symbol bool
	for _, r := range password {
		switch {
		case unicode.IsUpper(r):
			upper = true
		case unicode.IsLower(r):
			lower = true
		case unicode.IsDigit(r):
			digit = true
		default:
			symbol = true
		}
	}
	violation := iamapi.NewPasswordPolicyViolationException("Password does not conform to the account password policy.")
	if pp == nil {
		n := 0
		for _, b := range []bool{upper, lower, digit, symbol} {
			if b {
				n++
			}
		}
		if len([]rune(password)) < 8 || n < 3 {
			return violation
		}
		return nil
	}
	if int32(len([]rune(password))) < pp.MinLength || pp.Upper && !upper || pp.Lower && !lower || pp.Numbers && !digit || pp.Symbols && !symbol {
		return violation
	}
	return nil
}

func newLoginProfile(rand io.Reader, now time.Time, password string, reset bool) (*loginProfile, error) {
	salt := make([]byte, 16)
	if _, err := io.ReadFull(rand, salt); err != nil {
		return nil, err
	}
	h, err := hashPassword(password, salt)
	if err != nil {
		return nil, err
	}
	now = now.UTC().Truncate(time.Second)
	return &loginProfile{Hash: h, Salt: salt, Created: now, Changed: now, ResetRequired: reset}, nil
}

// CreateLoginProfile gives a user a console password.
func (s *Service) CreateLoginProfile(ctx context.Context, in *iamapi.CreateLoginProfileRequest) (*iamapi.CreateLoginProfileResponse, error) {
	c := service.CallFrom(ctx)
	name, err := selfName(c, in.UserName)
	if err != nil {
		return nil, err
	}
	acct := c.Principal.Account
	// Hash outside the transaction: PBKDF2 is slow on purpose, and writes
	// are serialised.
	lp, err := newLoginProfile(c.Rand, c.Now, str(in.Password), in.PasswordResetRequired != nil && *in.PasswordResetRequired)
	if err != nil {
		return nil, err
	}
	var e *entity
	err = s.store.Update(ctx, func(tx store.Tx) error {
		if e, err = getEntity(tx, kindUser, acct, name); err != nil {
			return err
		}
		a, err := getSettings(tx, acct)
		if err != nil {
			return err
		}
		if err := checkPassword(a.PasswordPolicy, str(in.Password)); err != nil {
			return err
		}
		if err := insertJSON(tx, tableLogin, entityKey(acct, e.Name), lp); err != nil {
			if errors.Is(err, store.ErrExists) {
				return iamapi.NewEntityAlreadyExistsException("Login Profile for user %s already exists.", e.Name)
			}
			return err
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	return &iamapi.CreateLoginProfileResponse{LoginProfile: &iamapi.LoginProfile{UserName: ptr(e.Name), CreateDate: ptr(lp.Created), PasswordResetRequired: ptr(lp.ResetRequired)}}, nil
}

func getLogin(tx store.Tx, acct, user string) (*loginProfile, error) {
	var lp loginProfile
	ok, err := getJSON(tx, tableLogin, entityKey(acct, user), &lp)
	if err != nil {
		return nil, err
	}
	if !ok {
		return nil, iamapi.NewNoSuchEntityException("Login Profile for User %s cannot be found.", user)
	}
	return &lp, nil
}

// GetLoginProfile tells whether a user has a console password (never the password).
func (s *Service) GetLoginProfile(ctx context.Context, in *iamapi.GetLoginProfileRequest) (*iamapi.GetLoginProfileResponse, error) {
	c := service.CallFrom(ctx)
	name, err := selfName(c, in.UserName)
	if err != nil {
		return nil, err
	}
	var lp *loginProfile
	var e *entity
	err = s.store.View(ctx, func(tx store.Tx) error {
		if e, err = getEntity(tx, kindUser, c.Principal.Account, name); err != nil {
			return err
		}
		lp, err = getLogin(tx, c.Principal.Account, e.Name)
		return err
	})
	if err != nil {
		return nil, err
	}
	return &iamapi.GetLoginProfileResponse{LoginProfile: &iamapi.LoginProfile{UserName: ptr(e.Name), CreateDate: ptr(lp.Created), PasswordResetRequired: ptr(lp.ResetRequired)}}, nil
}

// setPassword replaces a login profile's password, refusing reuse of the
// last N passwords when the policy says so.
func setPassword(lp *loginProfile, pp *passwordPolicy, password string, now time.Time) error {
	if err := checkPassword(pp, password); err != nil {
		return err
	}
	h, err := hashPassword(password, lp.Salt)
	if err != nil {
		return err
	}
	if pp != nil && pp.ReusePrevented > 0 {
		recent := append(append([][]byte(nil), lp.History...), lp.Hash)
		if len(recent) > int(pp.ReusePrevented) {
			recent = recent[len(recent)-int(pp.ReusePrevented):]
		}
		for _, old := range recent {
			if subtle.ConstantTimeCompare(old, h) == 1 {
				return iamapi.NewPasswordPolicyViolationException("Policy constraint violation with password reuse prevention during password change.")
			}
		}
	}
	lp.History = append(lp.History, lp.Hash)
	if len(lp.History) > 24 {
		lp.History = lp.History[len(lp.History)-24:]
	}
	lp.Hash, lp.Changed = h, now.UTC().Truncate(time.Second)
	return nil
}

// UpdateLoginProfile changes a user's password or reset flag (administrators).
func (s *Service) UpdateLoginProfile(ctx context.Context, in *iamapi.UpdateLoginProfileRequest) (*awsEmpty, error) {
	c := service.CallFrom(ctx)
	acct := c.Principal.Account
	return empty(s.store.Update(ctx, func(tx store.Tx) error {
		e, err := getEntity(tx, kindUser, acct, str(in.UserName))
		if err != nil {
			return err
		}
		lp, err := getLogin(tx, acct, e.Name)
		if err != nil {
			return err
		}
		if in.Password != nil {
			a, err := getSettings(tx, acct)
			if err != nil {
				return err
			}
			if err := setPassword(lp, a.PasswordPolicy, *in.Password, c.Now); err != nil {
				return err
			}
		}
		if in.PasswordResetRequired != nil {
			lp.ResetRequired = *in.PasswordResetRequired
		}
		return putJSON(tx, tableLogin, entityKey(acct, e.Name), lp)
	}))
}

// DeleteLoginProfile removes a user's console password.
func (s *Service) DeleteLoginProfile(ctx context.Context, in *iamapi.DeleteLoginProfileRequest) (*awsEmpty, error) {
	c := service.CallFrom(ctx)
	name, err := selfName(c, in.UserName)
	if err != nil {
		return nil, err
	}
	return empty(s.store.Update(ctx, func(tx store.Tx) error {
		e, err := getEntity(tx, kindUser, c.Principal.Account, name)
		if err != nil {
			return err
		}
		if _, err := getLogin(tx, c.Principal.Account, e.Name); err != nil {
			return err
		}
		_, err = tx.Delete(tableLogin, entityKey(c.Principal.Account, e.Name))
		return err
	}))
}

// ChangePassword lets an IAM user change its own password, proving the old one.
//
// An expired password (older than the policy's MaxPasswordAge) can be
// changed here even under HardExpiry: AWS documents HardExpiry as
// preventing a new password "via the AWS Management Console", while "IAM
// users with iam:ChangePassword permission and active access keys can
// reset their own expired console password using the AWS CLI or API"
// (PasswordPolicy, IAM API Reference). Changing it restarts its age
// (setPassword sets Changed), which is what the credential report's
// password_next_rotation reflects. GetLoginProfile's PasswordResetRequired
// is not documented to reflect expiry and stays the administrator's flag.
func (s *Service) ChangePassword(ctx context.Context, in *iamapi.ChangePasswordRequest) (*awsEmpty, error) {
	c := service.CallFrom(ctx)
	if c.Principal.Type != authz.IAMUser {
		return nil, iamapi.NewInvalidUserTypeException("Only IAM users can change their own password.")
	}
	acct := c.Principal.Account
	return empty(s.store.Update(ctx, func(tx store.Tx) error {
		lp, err := getLogin(tx, acct, c.Principal.Name)
		if err != nil {
			return err
		}
		old, err := hashPassword(str(in.OldPassword), lp.Salt)
		if err != nil {
			return err
		}
		if subtle.ConstantTimeCompare(old, lp.Hash) != 1 {
			return &awsproto.Error{Code: awsproto.CodeAccessDenied, Status: 403, Sender: true, Message: "The old password is incorrect."}
		}
		a, err := getSettings(tx, acct)
		if err != nil {
			return err
		}
		if err := setPassword(lp, a.PasswordPolicy, str(in.NewPassword), c.Now); err != nil {
			return err
		}
		lp.ResetRequired = false
		return putJSON(tx, tableLogin, entityKey(acct, c.Principal.Name), lp)
	}))
}
