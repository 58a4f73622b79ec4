package iam_test

import (
	"bytes"
	"context"
	"encoding/pem"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/iam"
	"github.com/aws/aws-sdk-go-v2/service/iam/types"
	"github.com/aws/aws-sdk-go-v2/service/sts"

	"github.com/rampart/rampart/internal/authn"
	"github.com/rampart/rampart/internal/rampartest"
	"github.com/rampart/rampart/internal/store"
)

// TestRootAccessKeys: the root user manages its own access keys by naming
// no user ("This operation works for access keys under the AWS account.
// Consequently, you can use this operation to manage AWS account root user
// credentials", CreateAccessKey API reference): at most two, the original
// one counting; new keys sign as the root user, are sealed at rest, and stop
// signing once inactive or deleted.
func TestRootAccessKeys(t *testing.T) {
	srv := rampartest.Start(t)
	ctx := context.Background()
	root := iam.NewFromConfig(srv.Config())

	keyIDs := func() []string {
		t.Helper()
		out := must(root.ListAccessKeys(ctx, &iam.ListAccessKeysInput{}))(t)
		var ids []string
		for _, k := range out.AccessKeyMetadata {
			if k.Status != types.StatusTypeActive && k.Status != types.StatusTypeInactive {
				t.Fatalf("status %q", k.Status)
			}
			ids = append(ids, aws.ToString(k.AccessKeyId))
		}
		return ids
	}
	if ids := keyIDs(); len(ids) != 1 || ids[0] != srv.AccessKey {
		t.Fatalf("root keys = %v, want the original key %s", ids, srv.AccessKey)
	}

	created := must(root.CreateAccessKey(ctx, &iam.CreateAccessKeyInput{}))(t).AccessKey
	if aws.ToString(created.UserName) != srv.Account || created.CreateDate == nil || len(aws.ToString(created.SecretAccessKey)) != 40 {
		t.Fatalf("created key: %+v", created)
	}
	id, secret := aws.ToString(created.AccessKeyId), aws.ToString(created.SecretAccessKey)
	if ids := keyIDs(); len(ids) != 2 || ids[1] != id {
		t.Fatalf("root keys = %v", ids)
	}
	// The quota counts the original key.
	_, err := root.CreateAccessKey(ctx, &iam.CreateAccessKeyInput{})
	if msg := wantCode(t, err, "LimitExceeded"); msg != "Cannot exceed quota for AccessKeysPerUser: 2" {
		t.Fatalf("message: %s", msg)
	}

	// The new key signs as the root user; its secret is sealed at rest.
	who := must(sts.NewFromConfig(srv.ConfigFor(id, secret, "")).GetCallerIdentity(ctx, &sts.GetCallerIdentityInput{}))(t)
	if aws.ToString(who.Arn) != "arn:aws:iam::"+srv.Account+":root" {
		t.Fatalf("new key signs as %s", aws.ToString(who.Arn))
	}
	err = srv.Store.View(ctx, func(tx store.Tx) error {
		v, err := tx.Get(authn.TableKey, id)
		if err == nil && bytes.Contains(v, []byte(secret)) {
			t.Fatal("the secret access key is stored in the clear")
		}
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	last := must(root.GetAccessKeyLastUsed(ctx, &iam.GetAccessKeyLastUsedInput{AccessKeyId: aws.String(id)}))(t)
	if aws.ToString(last.UserName) != srv.Account {
		t.Fatalf("GetAccessKeyLastUsed user = %q", aws.ToString(last.UserName))
	}

	// Inactive: it stops signing; active again: it signs.
	newClient := sts.NewFromConfig(srv.ConfigFor(id, secret, ""))
	must(root.UpdateAccessKey(ctx, &iam.UpdateAccessKeyInput{AccessKeyId: aws.String(id), Status: types.StatusTypeInactive}))(t)
	_, err = newClient.GetCallerIdentity(ctx, &sts.GetCallerIdentityInput{})
	wantCode(t, err, "InvalidClientTokenId")
	must(root.UpdateAccessKey(ctx, &iam.UpdateAccessKeyInput{AccessKeyId: aws.String(id), Status: types.StatusTypeActive}))(t)
	must(newClient.GetCallerIdentity(ctx, &sts.GetCallerIdentityInput{}))(t)

	// Bad input changes nothing: an unknown key, a user's key.
	for _, tc := range []struct {
		name, id string
	}{{"unknown", "AKIAUNKNOWNUNKNOWN00"}} {
		_, err := root.DeleteAccessKey(ctx, &iam.DeleteAccessKeyInput{AccessKeyId: aws.String(tc.id)})
		if msg := wantCode(t, err, "NoSuchEntity"); msg != "The Access Key with id "+tc.id+" cannot be found." {
			t.Fatalf("%s: message %s", tc.name, msg)
		}
		_, err = root.UpdateAccessKey(ctx, &iam.UpdateAccessKeyInput{AccessKeyId: aws.String(tc.id), Status: types.StatusTypeInactive})
		wantCode(t, err, "NoSuchEntity")
	}
	must(root.CreateUser(ctx, &iam.CreateUserInput{UserName: aws.String("ann")}))(t)
	annKey := must(root.CreateAccessKey(ctx, &iam.CreateAccessKeyInput{UserName: aws.String("ann")}))(t).AccessKey
	_, err = root.DeleteAccessKey(ctx, &iam.DeleteAccessKeyInput{AccessKeyId: annKey.AccessKeyId})
	wantCode(t, err, "NoSuchEntity")
	if ids := keyIDs(); len(ids) != 2 {
		t.Fatalf("root keys after refused deletes = %v", ids)
	}

	// Deleted: it stops signing at once, and the quota has room again.
	must(root.DeleteAccessKey(ctx, &iam.DeleteAccessKeyInput{AccessKeyId: aws.String(id)}))(t)
	_, err = newClient.GetCallerIdentity(ctx, &sts.GetCallerIdentityInput{})
	wantCode(t, err, "InvalidClientTokenId")
	if ids := keyIDs(); len(ids) != 1 || ids[0] != srv.AccessKey {
		t.Fatalf("root keys after delete = %v", ids)
	}
	must(root.CreateAccessKey(ctx, &iam.CreateAccessKeyInput{}))(t)

	// The root user has no MFA devices of its own in rampart.
	mfa := must(root.ListMFADevices(ctx, &iam.ListMFADevicesInput{}))(t)
	if len(mfa.MFADevices) != 0 {
		t.Fatalf("root MFA devices: %+v", mfa.MFADevices)
	}
}

// TestRootGetUser: GetUser as the root user answers the account's creation
// date as CreateDate (a required member of User).
func TestRootGetUser(t *testing.T) {
	before := time.Now().Add(-time.Second)
	srv := rampartest.Start(t)
	u := must(iam.NewFromConfig(srv.Config()).GetUser(context.Background(), &iam.GetUserInput{}))(t).User
	if u.CreateDate == nil || u.CreateDate.Before(before.Truncate(time.Second)) || u.CreateDate.After(time.Now()) {
		t.Fatalf("root CreateDate = %v", u.CreateDate)
	}
	if aws.ToString(u.UserId) != srv.Account || aws.ToString(u.Arn) != "arn:aws:iam::"+srv.Account+":root" {
		t.Fatalf("root user: %+v", u)
	}
}

// TestRootSigningCertificates: the root user manages its own signing
// certificates by naming no user, as it does its access keys; its SSH key
// list is empty and it has no MFA device of its own.
func TestRootSigningCertificates(t *testing.T) {
	srv := rampartest.Start(t)
	ctx := context.Background()
	root := iam.NewFromConfig(srv.Config())
	der, _ := selfSigned(t, "root-cert")
	body := string(pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der}))
	up := must(root.UploadSigningCertificate(ctx, &iam.UploadSigningCertificateInput{CertificateBody: aws.String(body)}))(t).Certificate
	if aws.ToString(up.UserName) != srv.Account || up.Status != types.StatusTypeActive {
		t.Fatalf("uploaded: %+v", up)
	}
	list := func() []types.SigningCertificate {
		t.Helper()
		return must(root.ListSigningCertificates(ctx, &iam.ListSigningCertificatesInput{}))(t).Certificates
	}
	if l := list(); len(l) != 1 || aws.ToString(l[0].CertificateId) != aws.ToString(up.CertificateId) {
		t.Fatalf("root certificates: %+v", l)
	}
	// A user's list does not show it.
	must(root.CreateUser(ctx, &iam.CreateUserInput{UserName: aws.String("ann")}))(t)
	if l := must(root.ListSigningCertificates(ctx, &iam.ListSigningCertificatesInput{UserName: aws.String("ann")}))(t).Certificates; len(l) != 0 {
		t.Fatalf("ann's certificates: %+v", l)
	}
	must(root.UpdateSigningCertificate(ctx, &iam.UpdateSigningCertificateInput{CertificateId: up.CertificateId, Status: types.StatusTypeInactive}))(t)
	if l := list(); l[0].Status != types.StatusTypeInactive {
		t.Fatalf("status after update: %s", l[0].Status)
	}
	_, err := root.DeleteSigningCertificate(ctx, &iam.DeleteSigningCertificateInput{CertificateId: aws.String("0123456789ABCDEF0123456789ABCDEF")})
	wantCode(t, err, "NoSuchEntity")
	must(root.DeleteSigningCertificate(ctx, &iam.DeleteSigningCertificateInput{CertificateId: up.CertificateId}))(t)
	if l := list(); len(l) != 0 {
		t.Fatalf("root certificates after delete: %+v", l)
	}

	if k := must(root.ListSSHPublicKeys(ctx, &iam.ListSSHPublicKeysInput{}))(t).SSHPublicKeys; len(k) != 0 {
		t.Fatalf("root SSH keys: %+v", k)
	}
	_, err = root.GetMFADevice(ctx, &iam.GetMFADeviceInput{SerialNumber: aws.String("arn:aws:iam::" + srv.Account + ":mfa/none")})
	wantCode(t, err, "NoSuchEntity")
}
