package iam

import (
	"context"
	"crypto/hmac"
	"crypto/sha1"
	"crypto/subtle"
	"encoding/base32"
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/url"
	"strings"
	"time"

	"github.com/rampart/rampart/internal/service"
	"github.com/rampart/rampart/internal/store"

	iamapi "github.com/rampart/rampart/internal/api/iam"
)

// mfaDevice is a virtual MFA device; its TOTP seed is sealed by the barrier.
type mfaDevice struct {
	Serial  string    `json:"serial"`
	Name    string    `json:"name"`
	Path    string    `json:"path"`
	Seed    []byte    `json:"seed"` // sealed
	User    string    `json:"user,omitempty"`
	Enabled time.Time `json:"enabled,omitzero"`
	Created time.Time `json:"created"`
	Tags    []tag     `json:"tags,omitempty"`
	// LastStep is the last TOTP time step accepted, so a code is never
	// accepted twice.
	LastStep int64 `json:"lastStep,omitempty"`
}

func mfaAAD(serial string) []byte { return []byte(tableMFA + "/" + serial) }

// totp is RFC 6238's TOTP (HMAC-SHA-1, 30-second steps, 6 digits), as
// virtual MFA apps compute it.
func totp(seed []byte, step int64) string {
	var msg [8]byte
	binary.BigEndian.PutUint64(msg[:], uint64(step))
	m := hmac.New(sha1.New, seed)
	m.Write(msg[:])
	sum := m.Sum(nil)
	off := sum[len(sum)-1] & 0x0f
	code := binary.BigEndian.Uint32(sum[off:off+4]) & 0x7fffffff
	return fmt.Sprintf("%06d", code%1_000_000)
}

// matchConsecutive finds the step at which code1 and code2 are two
// consecutive codes, within five minutes of now; -1 when they are not.
func matchConsecutive(seed []byte, now time.Time, code1, code2 string, after int64) int64 {
	cur := now.Unix() / 30
	for step := cur - 10; step <= cur+1; step++ {
		if step <= after {
			continue
		}
		ok1 := subtle.ConstantTimeCompare([]byte(totp(seed, step)), []byte(code1)) == 1
		ok2 := subtle.ConstantTimeCompare([]byte(totp(seed, step+1)), []byte(code2)) == 1
		if ok1 && ok2 {
			return step + 1
		}
	}
	return -1
}

func (s *Service) registerMFA(r *service.Registry) {
	type R = service.Call
	service.Handle(r, iamapi.OpCreateVirtualMFADevice, s.CreateVirtualMFADevice, service.Rule[iamapi.CreateVirtualMFADeviceRequest]{Action: "iam:CreateVirtualMFADevice",
		Resources: func(c *R, in *iamapi.CreateVirtualMFADeviceRequest) []string {
			return newARN(c, "mfa", in.Path, in.VirtualMFADeviceName)
		},
		Context: func(c *R, in *iamapi.CreateVirtualMFADeviceRequest, k map[string][]string) { requestTags(in.Tags, k) }})
	service.Handle(r, iamapi.OpEnableMFADevice, s.EnableMFADevice, service.Rule[iamapi.EnableMFADeviceRequest]{Action: "iam:EnableMFADevice",
		Resource: entityResource(s, kindUser, func(c *R, in *iamapi.EnableMFADeviceRequest) string { return str(in.UserName) })})
	service.Handle(r, iamapi.OpResyncMFADevice, s.ResyncMFADevice, service.Rule[iamapi.ResyncMFADeviceRequest]{Action: "iam:ResyncMFADevice",
		Resource: entityResource(s, kindUser, func(c *R, in *iamapi.ResyncMFADeviceRequest) string { return str(in.UserName) })})
	service.Handle(r, iamapi.OpDeactivateMFADevice, s.DeactivateMFADevice, service.Rule[iamapi.DeactivateMFADeviceRequest]{Action: "iam:DeactivateMFADevice",
		Resource: entityResource(s, kindUser, func(c *R, in *iamapi.DeactivateMFADeviceRequest) string { return callerUser(c, in.UserName) })})
	service.Handle(r, iamapi.OpDeleteVirtualMFADevice, s.DeleteVirtualMFADevice, service.Rule[iamapi.DeleteVirtualMFADeviceRequest]{Action: "iam:DeleteVirtualMFADevice",
		Resources: func(c *R, in *iamapi.DeleteVirtualMFADeviceRequest) []string { return []string{str(in.SerialNumber)} }})
	service.Handle(r, iamapi.OpListMFADevices, s.ListMFADevices, service.Rule[iamapi.ListMFADevicesRequest]{Action: "iam:ListMFADevices",
		Resource: entityResource(s, kindUser, func(c *R, in *iamapi.ListMFADevicesRequest) string { return callerUser(c, in.UserName) })})
	service.Handle(r, iamapi.OpListVirtualMFADevices, s.ListVirtualMFADevices, service.Rule[iamapi.ListVirtualMFADevicesRequest]{Action: "iam:ListVirtualMFADevices"})
}

// CreateVirtualMFADevice creates a virtual MFA device with a fresh TOTP
// seed, returned once (Base32StringSeed, and as an otpauth:// URI in the
// QRCodePNG image) and sealed at rest.
func (s *Service) CreateVirtualMFADevice(ctx context.Context, in *iamapi.CreateVirtualMFADeviceRequest) (*iamapi.CreateVirtualMFADeviceResponse, error) {
	if err := checkTags(in.Tags); err != nil {
		return nil, err
	}
	c := service.CallFrom(ctx)
	acct := c.Principal.Account
	path, name := pathOr(in.Path), str(in.VirtualMFADeviceName)
	seed := make([]byte, 20)
	if _, err := io.ReadFull(c.Rand, seed); err != nil {
		return nil, err
	}
	d := &mfaDevice{Serial: "arn:aws:iam::" + acct + ":mfa" + path + name, Name: name, Path: path, Created: c.Now.UTC().Truncate(time.Second)}
	d.Tags, _ = mergeTags(nil, in.Tags)
	sealed, err := s.barrier.Seal(seed, mfaAAD(d.Serial))
	if err != nil {
		return nil, err
	}
	d.Seed = sealed
	err = s.store.Update(ctx, func(tx store.Tx) error {
		if err := insertJSON(tx, tableMFA, entityKey(acct, name), d); err != nil {
			if errors.Is(err, store.ErrExists) {
				return iamapi.NewEntityAlreadyExistsException("MFADevice entity at the same path and name already exists.")
			}
			return err
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	b32 := base32.StdEncoding.WithPadding(base32.NoPadding).EncodeToString(seed)
	qr, err := qrPNG([]byte(otpauthURI(name, acct, b32)), 4)
	if err != nil {
		return nil, err
	}
	return &iamapi.CreateVirtualMFADeviceResponse{VirtualMFADevice: &iamapi.VirtualMFADevice{SerialNumber: ptr(d.Serial), Base32StringSeed: []byte(b32),
		QRCodePNG: qr, Tags: apiTags(d.Tags)}}, nil
}

// otpauthURI is the key URI authenticator apps read from the QR code
// (the "Key Uri Format" of Google Authenticator): TOTP, SHA-1, 6 digits,
// 30 seconds, labelled with the device name and account.
func otpauthURI(device, account, b32 string) string {
	return "otpauth://totp/" + url.PathEscape("rampart:"+device+"@"+account) + "?secret=" + b32 + "&issuer=rampart"
}

// getMFA loads a virtual MFA device by serial number (its ARN).
func getMFA(tx store.Tx, acct, serial string) (*mfaDevice, error) {
	name := serial[strings.LastIndexByte(serial, '/')+1:]
	var d mfaDevice
	ok, err := getJSON(tx, tableMFA, entityKey(acct, name), &d)
	if err != nil {
		return nil, err
	}
	if !ok || d.Serial != serial {
		return nil, iamapi.NewNoSuchEntityException("VirtualMFADevice with serial number %s doesn't exist.", serial)
	}
	return &d, nil
}

// checkCodes checks two consecutive codes of device d of account acct,
// counting failures against the device's rate limit (mfa_limit.go): a
// locked-out device refuses any codes with the error a wrong code gets.
func (s *Service) checkCodes(acct string, d *mfaDevice, now time.Time, code1, code2 string) (int64, error) {
	invalid := iamapi.NewInvalidAuthenticationCodeException("Authentication code for device is not valid.")
	key := mfaLimitKey(acct, d.Serial)
	if !s.mfa.allowed(key, now) {
		return 0, invalid
	}
	seed, err := s.barrier.Open(d.Seed, mfaAAD(d.Serial))
	if err != nil {
		return 0, err
	}
	step := matchConsecutive(seed, now, code1, code2, d.LastStep)
	clear(seed)
	if step < 0 {
		s.mfa.failed(key, now)
		return 0, invalid
	}
	s.mfa.succeeded(key)
	return step, nil
}

// EnableMFADevice assigns a virtual MFA device to a user once the user
// proves it with two consecutive codes.
func (s *Service) EnableMFADevice(ctx context.Context, in *iamapi.EnableMFADeviceRequest) (*awsEmpty, error) {
	c := service.CallFrom(ctx)
	acct := c.Principal.Account
	return empty(s.store.Update(ctx, func(tx store.Tx) error {
		e, err := getEntity(tx, kindUser, acct, str(in.UserName))
		if err != nil {
			return err
		}
		d, err := getMFA(tx, acct, str(in.SerialNumber))
		if err != nil {
			return err
		}
		if d.User != "" {
			return iamapi.NewEntityAlreadyExistsException("MFA Device is already in use.")
		}
		step, err := s.checkCodes(acct, d, c.Now, str(in.AuthenticationCode1), str(in.AuthenticationCode2))
		if err != nil {
			return err
		}
		d.User, d.Enabled, d.LastStep = e.Name, c.Now.UTC().Truncate(time.Second), step
		return putJSON(tx, tableMFA, entityKey(acct, d.Name), d)
	}))
}

// ResyncMFADevice re-synchronises a device with two consecutive codes.
func (s *Service) ResyncMFADevice(ctx context.Context, in *iamapi.ResyncMFADeviceRequest) (*awsEmpty, error) {
	c := service.CallFrom(ctx)
	acct := c.Principal.Account
	return empty(s.store.Update(ctx, func(tx store.Tx) error {
		d, err := getMFA(tx, acct, str(in.SerialNumber))
		if err != nil {
			return err
		}
		if !strings.EqualFold(d.User, str(in.UserName)) {
			return iamapi.NewNoSuchEntityException("MFA Device with serial number %s not found for user %s.", str(in.SerialNumber), str(in.UserName))
		}
		step, err := s.checkCodes(acct, d, c.Now, str(in.AuthenticationCode1), str(in.AuthenticationCode2))
		if err != nil {
			return err
		}
		d.LastStep = step
		return putJSON(tx, tableMFA, entityKey(acct, d.Name), d)
	}))
}

// DeactivateMFADevice unassigns a device from its user.
func (s *Service) DeactivateMFADevice(ctx context.Context, in *iamapi.DeactivateMFADeviceRequest) (*awsEmpty, error) {
	c := service.CallFrom(ctx)
	acct := c.Principal.Account
	user := callerUser(c, in.UserName)
	return empty(s.store.Update(ctx, func(tx store.Tx) error {
		d, err := getMFA(tx, acct, str(in.SerialNumber))
		if err != nil {
			return err
		}
		if d.User == "" || !strings.EqualFold(d.User, user) {
			return iamapi.NewNoSuchEntityException("MFA Device with serial number %s not found for user %s.", str(in.SerialNumber), user)
		}
		d.User, d.Enabled = "", time.Time{}
		return putJSON(tx, tableMFA, entityKey(acct, d.Name), d)
	}))
}

// DeleteVirtualMFADevice deletes a device that no user has.
func (s *Service) DeleteVirtualMFADevice(ctx context.Context, in *iamapi.DeleteVirtualMFADeviceRequest) (*awsEmpty, error) {
	acct := service.CallFrom(ctx).Principal.Account
	return empty(s.store.Update(ctx, func(tx store.Tx) error {
		d, err := getMFA(tx, acct, str(in.SerialNumber))
		if err != nil {
			return err
		}
		if d.User != "" {
			return iamapi.NewDeleteConflictException("MFA Device is still in use.")
		}
		_, err = tx.Delete(tableMFA, entityKey(acct, d.Name))
		return err
	}))
}

func scanMFA(tx store.Tx, acct string) ([]*mfaDevice, error) {
	kvs, err := tx.Scan(tableMFA, acct+"/", "", 0)
	if err != nil {
		return nil, err
	}
	out := make([]*mfaDevice, 0, len(kvs))
	for _, kv := range kvs {
		var d mfaDevice
		if err := json.Unmarshal(kv.Value, &d); err != nil {
			return nil, err
		}
		out = append(out, &d)
	}
	return out, nil
}

// ListMFADevices lists the MFA devices assigned to a user.
func (s *Service) ListMFADevices(ctx context.Context, in *iamapi.ListMFADevicesRequest) (*iamapi.ListMFADevicesResponse, error) {
	c := service.CallFrom(ctx)
	if isRootSelf(c, in.UserName) {
		// The root user's own devices ("If you do not specify a user name,
		// IAM determines the user name implicitly based on the AWS access
		// key ID signing the request"): EnableMFADevice assigns devices to
		// IAM users only, so the root user has none in rampart.
		return &iamapi.ListMFADevicesResponse{MFADevices: []iamapi.MFADevice{}, IsTruncated: ptr(false)}, nil
	}
	name, err := selfName(c, in.UserName)
	if err != nil {
		return nil, err
	}
	var out []iamapi.MFADevice
	err = s.store.View(ctx, func(tx store.Tx) error {
		e, err := getEntity(tx, kindUser, c.Principal.Account, name)
		if err != nil {
			return err
		}
		ds, err := scanMFA(tx, c.Principal.Account)
		if err != nil {
			return err
		}
		for _, d := range ds {
			if strings.EqualFold(d.User, e.Name) {
				out = append(out, iamapi.MFADevice{UserName: ptr(e.Name), SerialNumber: ptr(d.Serial), EnableDate: ptr(d.Enabled)})
			}
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	pg, trunc, next, err := page(out, in.Marker, in.MaxItems)
	if err != nil {
		return nil, err
	}
	if pg == nil {
		pg = []iamapi.MFADevice{}
	}
	return &iamapi.ListMFADevicesResponse{MFADevices: pg, IsTruncated: trunc, Marker: next}, nil
}

// ListVirtualMFADevices lists the account's virtual MFA devices.
func (s *Service) ListVirtualMFADevices(ctx context.Context, in *iamapi.ListVirtualMFADevicesRequest) (*iamapi.ListVirtualMFADevicesResponse, error) {
	acct := service.CallFrom(ctx).Principal.Account
	var out []iamapi.VirtualMFADevice
	err := s.store.View(ctx, func(tx store.Tx) error {
		ds, err := scanMFA(tx, acct)
		if err != nil {
			return err
		}
		for _, d := range ds {
			assigned := d.User != ""
			if in.AssignmentStatus == iamapi.AssignmentStatusTypeAssigned && !assigned || in.AssignmentStatus == iamapi.AssignmentStatusTypeUnassigned && assigned {
				continue
			}
			v := iamapi.VirtualMFADevice{SerialNumber: ptr(d.Serial), Tags: apiTags(d.Tags)}
			if assigned {
				e, err := getEntity(tx, kindUser, acct, d.User)
				if err != nil {
					return err
				}
				v.User, v.EnableDate = e.apiUser(), ptr(d.Enabled)
				v.User.Tags = nil
			}
			out = append(out, v)
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	pg, trunc, next, err := page(out, in.Marker, in.MaxItems)
	if err != nil {
		return nil, err
	}
	if pg == nil {
		pg = []iamapi.VirtualMFADevice{}
	}
	return &iamapi.ListVirtualMFADevicesResponse{VirtualMFADevices: pg, IsTruncated: trunc, Marker: next}, nil
}

func (s *Service) userMFACount(tx store.Tx, acct, user string) (int, error) {
	ds, err := scanMFA(tx, acct)
	if err != nil {
		return 0, err
	}
	n := 0
	for _, d := range ds {
		if strings.EqualFold(d.User, user) {
			n++
		}
	}
	return n, nil
}

func (s *Service) mfaCounts(tx store.Tx, acct string) (devices, inUse int, err error) {
	ds, err := scanMFA(tx, acct)
	if err != nil {
		return 0, 0, err
	}
	for _, d := range ds {
		if d.User != "" {
			inUse++
		}
	}
	return len(ds), inUse, nil
}
