package iam_test

import (
	"context"
	"encoding/json"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/iam"
	"github.com/aws/aws-sdk-go-v2/service/iam/types"
	"github.com/aws/aws-sdk-go-v2/service/sts"

	"github.com/rampart/rampart/internal/rampartest"
	"github.com/rampart/rampart/internal/store"
)

// Five wrong codes lock a device: even the right codes are then refused
// with the error a wrong code gets, and nothing changes; other devices
// are unaffected.
func TestMFALockout(t *testing.T) {
	srv := rampartest.Start(t)
	ctx := context.Background()
	c := iam.NewFromConfig(srv.Config())
	must(c.CreateUser(ctx, &iam.CreateUserInput{UserName: aws.String("lee")}))(t)
	locked := must(c.CreateVirtualMFADevice(ctx, &iam.CreateVirtualMFADeviceInput{VirtualMFADeviceName: aws.String("locked")}))(t).VirtualMFADevice
	free := must(c.CreateVirtualMFADevice(ctx, &iam.CreateVirtualMFADeviceInput{VirtualMFADeviceName: aws.String("free")}))(t).VirtualMFADevice
	step := time.Now().Unix()/30 - 1
	enable := func(d *types.VirtualMFADevice, c1, c2 string) error {
		_, err := c.EnableMFADevice(ctx, &iam.EnableMFADeviceInput{UserName: aws.String("lee"), SerialNumber: d.SerialNumber,
			AuthenticationCode1: aws.String(c1), AuthenticationCode2: aws.String(c2)})
		return err
	}
	right1, right2 := code(t, locked.Base32StringSeed, step), code(t, locked.Base32StringSeed, step+1)
	wrongMsg := ""
	for i := range 5 {
		wrong := "000000"
		if wrong == right1 {
			wrong = "000001"
		}
		msg := wantCode(t, enable(locked, wrong, right2), "InvalidAuthenticationCode")
		if i == 0 {
			wrongMsg = msg
		}
	}
	if msg := wantCode(t, enable(locked, right1, right2), "InvalidAuthenticationCode"); msg != wrongMsg || msg != "Authentication code for device is not valid." {
		t.Fatalf("locked device answers %q, a wrong code %q", msg, wrongMsg)
	}
	un := must(c.ListVirtualMFADevices(ctx, &iam.ListVirtualMFADevicesInput{AssignmentStatus: types.AssignmentStatusTypeAssigned}))(t)
	if len(un.VirtualMFADevices) != 0 {
		t.Fatalf("a locked device was enabled: %+v", un.VirtualMFADevices)
	}
	// Another device of the same user is not locked.
	must(struct{}{}, enable(free, code(t, free.Base32StringSeed, step), code(t, free.Base32StringSeed, step+1)))(t)
	// Resync is limited too: wrong codes on the enabled device, then the right ones are refused.
	for range 5 {
		_, err := c.ResyncMFADevice(ctx, &iam.ResyncMFADeviceInput{UserName: aws.String("lee"), SerialNumber: free.SerialNumber,
			AuthenticationCode1: aws.String("000000"), AuthenticationCode2: aws.String("000000")})
		wantCode(t, err, "InvalidAuthenticationCode")
	}
	_, err := c.ResyncMFADevice(ctx, &iam.ResyncMFADeviceInput{UserName: aws.String("lee"), SerialNumber: free.SerialNumber,
		AuthenticationCode1: aws.String(code(t, free.Base32StringSeed, step+2)), AuthenticationCode2: aws.String(code(t, free.Base32StringSeed, step+3))})
	wantCode(t, err, "InvalidAuthenticationCode")
}

// An expired password under HardExpiry can still be changed through the
// API by the user (AWS documents HardExpiry as a console restriction), and
// changing it restarts its age.
func TestExpiredPasswordChange(t *testing.T) {
	srv := rampartest.Start(t)
	ctx := context.Background()
	c := iam.NewFromConfig(srv.Config())
	must(c.UpdateAccountPasswordPolicy(ctx, &iam.UpdateAccountPasswordPolicyInput{MaxPasswordAge: aws.Int32(30), HardExpiry: aws.Bool(true),
		AllowUsersToChangePassword: true}))(t)
	must(c.CreateUser(ctx, &iam.CreateUserInput{UserName: aws.String("old")}))(t)
	must(c.PutUserPolicy(ctx, &iam.PutUserPolicyInput{UserName: aws.String("old"), PolicyName: aws.String("pw"),
		PolicyDocument: aws.String(`{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"iam:ChangePassword","Resource":"*"}]}`)}))(t)
	const oldPW, newPW = "Old-password-1", "New-password-2"
	must(c.CreateLoginProfile(ctx, &iam.CreateLoginProfileInput{UserName: aws.String("old"), Password: aws.String(oldPW)}))(t)
	// Age the password past MaxPasswordAge.
	past := time.Now().UTC().AddDate(0, 0, -40).Truncate(time.Second)
	changed := func() time.Time {
		var at time.Time
		_ = srv.Store.View(ctx, func(tx store.Tx) error {
			kvs, err := tx.Scan("iam.login", "", "", 0)
			if err != nil || len(kvs) != 1 {
				t.Fatalf("login profiles: %d %v", len(kvs), err)
			}
			var lp struct{ Changed time.Time }
			if err := json.Unmarshal(kvs[0].Value, &lp); err != nil {
				t.Fatal(err)
			}
			at = lp.Changed
			return nil
		})
		return at
	}
	if err := srv.Store.Update(ctx, func(tx store.Tx) error {
		kvs, err := tx.Scan("iam.login", "", "", 0)
		if err != nil {
			return err
		}
		var lp map[string]any
		if err := json.Unmarshal(kvs[0].Value, &lp); err != nil {
			return err
		}
		lp["changed"] = past
		b, _ := json.Marshal(lp)
		return tx.Put("iam.login", kvs[0].Key, b)
	}); err != nil {
		t.Fatal(err)
	}
	if !changed().Equal(past) {
		t.Fatalf("password not aged: %v", changed())
	}
	k := must(c.CreateAccessKey(ctx, &iam.CreateAccessKeyInput{UserName: aws.String("old")}))(t)
	u := iam.NewFromConfig(srv.ConfigFor(*k.AccessKey.AccessKeyId, *k.AccessKey.SecretAccessKey, ""))
	_, err := u.ChangePassword(ctx, &iam.ChangePasswordInput{OldPassword: aws.String("wrong"), NewPassword: aws.String(newPW)})
	wantCode(t, err, "AccessDenied")
	must(u.ChangePassword(ctx, &iam.ChangePasswordInput{OldPassword: aws.String(oldPW), NewPassword: aws.String(newPW)}))(t)
	if at := changed(); time.Since(at) > time.Minute {
		t.Fatalf("password age not restarted: changed %v", at)
	}
}

// The limit covers the codes STS checks (GetSessionToken's TokenCode):
// after five wrong codes, the right one is refused with the same error.
func TestMFALockoutSTS(t *testing.T) {
	srv := rampartest.Start(t)
	ctx := context.Background()
	c := iam.NewFromConfig(srv.Config())
	must(c.CreateUser(ctx, &iam.CreateUserInput{UserName: aws.String("sam")}))(t)
	d := must(c.CreateVirtualMFADevice(ctx, &iam.CreateVirtualMFADeviceInput{VirtualMFADeviceName: aws.String("sam")}))(t).VirtualMFADevice
	cur := time.Now().Unix() / 30
	must(c.EnableMFADevice(ctx, &iam.EnableMFADeviceInput{UserName: aws.String("sam"), SerialNumber: d.SerialNumber,
		AuthenticationCode1: aws.String(code(t, d.Base32StringSeed, cur-2)), AuthenticationCode2: aws.String(code(t, d.Base32StringSeed, cur-1))}))(t)
	must(c.PutUserPolicy(ctx, &iam.PutUserPolicyInput{UserName: aws.String("sam"), PolicyName: aws.String("sts"),
		PolicyDocument: aws.String(`{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"sts:GetSessionToken","Resource":"*"}]}`)}))(t)
	k := must(c.CreateAccessKey(ctx, &iam.CreateAccessKeyInput{UserName: aws.String("sam")}))(t)
	s := sts.NewFromConfig(srv.ConfigFor(*k.AccessKey.AccessKeyId, *k.AccessKey.SecretAccessKey, ""))
	get := func(tc string) error {
		_, err := s.GetSessionToken(ctx, &sts.GetSessionTokenInput{SerialNumber: d.SerialNumber, TokenCode: aws.String(tc)})
		return err
	}
	right := code(t, d.Base32StringSeed, cur)
	wrong := "000000"
	if wrong == right || wrong == code(t, d.Base32StringSeed, cur+1) || wrong == code(t, d.Base32StringSeed, cur-1) {
		wrong = "999999"
	}
	var wrongCode, wrongMsg string
	for range 5 {
		wrongCode, wrongMsg = apiErr(t, get(wrong))
	}
	if wrongCode == "" {
		t.Fatal("a wrong code was accepted")
	}
	if gotCode, gotMsg := apiErr(t, get(right)); gotCode != wrongCode || gotMsg != wrongMsg {
		t.Fatalf("locked device answers %s %q, a wrong code %s %q", gotCode, gotMsg, wrongCode, wrongMsg)
	}
}
