package iam_test

import (
	"bytes"
	"context"
	"crypto/hmac"
	"crypto/sha1"
	"encoding/base32"
	"encoding/binary"
	"fmt"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/iam"
	"github.com/aws/aws-sdk-go-v2/service/iam/types"

	"github.com/rampart/rampart/internal/rampartest"
	iamsvc "github.com/rampart/rampart/internal/service/iam"
	"github.com/rampart/rampart/internal/store"
)

// code computes an RFC 6238 code the way an authenticator app does.
func code(t *testing.T, b32 []byte, step int64) string {
	seed, err := base32.StdEncoding.WithPadding(base32.NoPadding).DecodeString(string(b32))
	if err != nil {
		t.Fatal(err)
	}
	var msg [8]byte
	binary.BigEndian.PutUint64(msg[:], uint64(step))
	m := hmac.New(sha1.New, seed)
	m.Write(msg[:])
	sum := m.Sum(nil)
	off := sum[19] & 0x0f
	return fmt.Sprintf("%06d", (binary.BigEndian.Uint32(sum[off:])&0x7fffffff)%1_000_000)
}

func TestPasswordsAndMFA(t *testing.T) {
	srv := rampartest.Start(t)
	ctx := context.Background()
	c := iam.NewFromConfig(srv.Config())
	must(c.CreateUser(ctx, &iam.CreateUserInput{UserName: aws.String("ann")}))(t)

	_, err := c.GetAccountPasswordPolicy(ctx, &iam.GetAccountPasswordPolicyInput{})
	if msg := wantCode(t, err, "NoSuchEntity"); msg != "The Password Policy with domain name 000000000000 cannot be found." {
		t.Fatalf("message: %s", msg)
	}
	must(c.UpdateAccountPasswordPolicy(ctx, &iam.UpdateAccountPasswordPolicyInput{MinimumPasswordLength: aws.Int32(12), RequireNumbers: true, PasswordReusePrevention: aws.Int32(3)}))(t)
	pp := must(c.GetAccountPasswordPolicy(ctx, &iam.GetAccountPasswordPolicyInput{}))(t)
	if *pp.PasswordPolicy.MinimumPasswordLength != 12 || !pp.PasswordPolicy.RequireNumbers || *pp.PasswordPolicy.PasswordReusePrevention != 3 {
		t.Fatalf("policy: %+v", pp.PasswordPolicy)
	}
	for _, bad := range []string{"short1", "longbutnodigits"} {
		_, err = c.CreateLoginProfile(ctx, &iam.CreateLoginProfileInput{UserName: aws.String("ann"), Password: aws.String(bad)})
		wantCode(t, err, "PasswordPolicyViolation")
	}
	const pw = "correct-horse-1"
	must(c.CreateLoginProfile(ctx, &iam.CreateLoginProfileInput{UserName: aws.String("ann"), Password: aws.String(pw)}))(t)
	_, err = c.CreateLoginProfile(ctx, &iam.CreateLoginProfileInput{UserName: aws.String("ann"), Password: aws.String(pw)})
	wantCode(t, err, "EntityAlreadyExists")
	_, err = c.UpdateLoginProfile(ctx, &iam.UpdateLoginProfileInput{UserName: aws.String("ann"), Password: aws.String(pw)})
	wantCode(t, err, "PasswordPolicyViolation") // reuse
	// The password is not stored in the clear.
	_ = srv.Store.View(ctx, func(tx store.Tx) error {
		kvs, _ := tx.Scan("iam.login", "", "", 0)
		for _, kv := range kvs {
			if bytes.Contains(kv.Value, []byte(pw)) {
				t.Error("password stored in the clear")
			}
		}
		return nil
	})
	_, err = c.DeleteUser(ctx, &iam.DeleteUserInput{UserName: aws.String("ann")})
	if msg := wantCode(t, err, "DeleteConflict"); msg != "Cannot delete entity, must delete login profile first." {
		t.Fatalf("message: %s", msg)
	}

	// Virtual MFA: a real TOTP seed; two consecutive codes enable it.
	dev := must(c.CreateVirtualMFADevice(ctx, &iam.CreateVirtualMFADeviceInput{VirtualMFADeviceName: aws.String("ann-phone")}))(t)
	seed := dev.VirtualMFADevice.Base32StringSeed
	if len(seed) != 32 || *dev.VirtualMFADevice.SerialNumber != "arn:aws:iam::000000000000:mfa/ann-phone" {
		t.Fatalf("device: %s %q", *dev.VirtualMFADevice.SerialNumber, seed)
	}
	// The QR code carries the same seed as an otpauth:// URI.
	if uri := iamsvc.QRRead(t, dev.VirtualMFADevice.QRCodePNG); uri != "otpauth://totp/rampart:ann-phone@000000000000?secret="+string(seed)+"&issuer=rampart" {
		t.Fatalf("QR code holds %q", uri)
	}
	step := time.Now().Unix()/30 - 1
	_, err = c.EnableMFADevice(ctx, &iam.EnableMFADeviceInput{UserName: aws.String("ann"), SerialNumber: dev.VirtualMFADevice.SerialNumber,
		AuthenticationCode1: aws.String(code(t, seed, step)), AuthenticationCode2: aws.String(code(t, seed, step+5))})
	wantCode(t, err, "InvalidAuthenticationCode")
	must(c.EnableMFADevice(ctx, &iam.EnableMFADeviceInput{UserName: aws.String("ann"), SerialNumber: dev.VirtualMFADevice.SerialNumber,
		AuthenticationCode1: aws.String(code(t, seed, step)), AuthenticationCode2: aws.String(code(t, seed, step+1))}))(t)
	ds := must(c.ListMFADevices(ctx, &iam.ListMFADevicesInput{UserName: aws.String("ann")}))(t)
	if len(ds.MFADevices) != 1 {
		t.Fatalf("devices: %+v", ds.MFADevices)
	}
	got := must(c.GetMFADevice(ctx, &iam.GetMFADeviceInput{UserName: aws.String("ann"), SerialNumber: dev.VirtualMFADevice.SerialNumber}))(t)
	if *got.UserName != "ann" || *got.SerialNumber != *dev.VirtualMFADevice.SerialNumber || got.EnableDate == nil {
		t.Fatalf("GetMFADevice: %+v", got)
	}
	_, err = c.GetMFADevice(ctx, &iam.GetMFADeviceInput{UserName: aws.String("ann"), SerialNumber: aws.String("arn:aws:iam::000000000000:mfa/none")})
	wantCode(t, err, "NoSuchEntity")
	must(c.TagMFADevice(ctx, &iam.TagMFADeviceInput{SerialNumber: dev.VirtualMFADevice.SerialNumber, Tags: []types.Tag{{Key: aws.String("k"), Value: aws.String("v")}, {Key: aws.String("x"), Value: aws.String("y")}}}))(t)
	must(c.UntagMFADevice(ctx, &iam.UntagMFADeviceInput{SerialNumber: dev.VirtualMFADevice.SerialNumber, TagKeys: []string{"x"}}))(t)
	if tags := must(c.ListMFADeviceTags(ctx, &iam.ListMFADeviceTagsInput{SerialNumber: dev.VirtualMFADevice.SerialNumber}))(t).Tags; len(tags) != 1 || *tags[0].Key != "k" {
		t.Fatalf("MFA tags: %+v", tags)
	}
	_, err = c.DeleteVirtualMFADevice(ctx, &iam.DeleteVirtualMFADeviceInput{SerialNumber: dev.VirtualMFADevice.SerialNumber})
	wantCode(t, err, "DeleteConflict")
	sum := must(c.GetAccountSummary(ctx, &iam.GetAccountSummaryInput{}))(t)
	if sum.SummaryMap["MFADevicesInUse"] != 1 {
		t.Fatalf("MFADevicesInUse = %d", sum.SummaryMap["MFADevicesInUse"])
	}
	must(c.DeactivateMFADevice(ctx, &iam.DeactivateMFADeviceInput{UserName: aws.String("ann"), SerialNumber: dev.VirtualMFADevice.SerialNumber}))(t)
	must(c.DeleteVirtualMFADevice(ctx, &iam.DeleteVirtualMFADeviceInput{SerialNumber: dev.VirtualMFADevice.SerialNumber}))(t)
	must(c.DeleteLoginProfile(ctx, &iam.DeleteLoginProfileInput{UserName: aws.String("ann")}))(t)
	must(c.DeleteUser(ctx, &iam.DeleteUserInput{UserName: aws.String("ann")}))(t)
}
