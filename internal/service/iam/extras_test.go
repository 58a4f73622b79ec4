package iam_test

import (
	"bytes"
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/rsa"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/base64"
	"encoding/binary"
	"encoding/csv"
	"encoding/json"
	"encoding/pem"
	"math/big"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/iam"
	"github.com/aws/aws-sdk-go-v2/service/iam/types"

	"github.com/rampart/rampart/internal/rampartest"
	iamsvc "github.com/rampart/rampart/internal/service/iam"
	"github.com/rampart/rampart/internal/store"
)

// wantErr checks an error's code, HTTP status and (when given) message.
func wantErr(t *testing.T, err error, code string, st int, msg string) {
	t.Helper()
	got := wantCode(t, err, code)
	if s := status(err); s != st {
		t.Errorf("%s: status = %d, want %d", code, s, st)
	}
	if msg != "" && got != msg {
		t.Errorf("%s: message = %q, want %q", code, got, msg)
	}
}

func TestCredentialReportAndKeyUse(t *testing.T) {
	srv := rampartest.Start(t)
	ctx := context.Background()
	c := iam.NewFromConfig(srv.Config())

	_, err := c.GetCredentialReport(ctx, &iam.GetCredentialReportInput{})
	wantErr(t, err, "ReportNotPresent", 410, "")

	must(c.CreateUser(ctx, &iam.CreateUserInput{UserName: aws.String("alice")}))(t)
	must(c.CreateLoginProfile(ctx, &iam.CreateLoginProfileInput{UserName: aws.String("alice"), Password: aws.String("Corr3ct-Horse!")}))(t)
	k1 := must(c.CreateAccessKey(ctx, &iam.CreateAccessKeyInput{UserName: aws.String("alice")}))(t).AccessKey
	k2 := must(c.CreateAccessKey(ctx, &iam.CreateAccessKeyInput{UserName: aws.String("alice")}))(t).AccessKey
	must(c.UpdateAccessKey(ctx, &iam.UpdateAccessKeyInput{UserName: aws.String("alice"), AccessKeyId: k2.AccessKeyId, Status: types.StatusTypeInactive}))(t)
	must(c.CreateUser(ctx, &iam.CreateUserInput{UserName: aws.String("bob")}))(t)

	// Never used: AWS's N/A.
	lu := must(c.GetAccessKeyLastUsed(ctx, &iam.GetAccessKeyLastUsedInput{AccessKeyId: k1.AccessKeyId}))(t)
	if *lu.UserName != "alice" || *lu.AccessKeyLastUsed.ServiceName != "N/A" || *lu.AccessKeyLastUsed.Region != "N/A" || lu.AccessKeyLastUsed.LastUsedDate != nil {
		t.Fatalf("unused key: %+v", lu.AccessKeyLastUsed)
	}
	// Uses recorded through KeyUsed (as the server will on each request) are
	// written in a batch; Close writes what is pending. An older use does
	// not replace a newer one.
	used := time.Date(2026, 3, 1, 12, 30, 0, 0, time.UTC)
	rec := iamsvc.New(srv.Store, srv.Barrier)
	rec.KeyUsed(*k1.AccessKeyId, "kms", "eu-west-1", used)
	rec.KeyUsed(*k1.AccessKeyId, "iam", "us-east-1", used.Add(-time.Hour))
	rec.Close()
	lu = must(c.GetAccessKeyLastUsed(ctx, &iam.GetAccessKeyLastUsedInput{AccessKeyId: k1.AccessKeyId}))(t)
	if !lu.AccessKeyLastUsed.LastUsedDate.Equal(used) || *lu.AccessKeyLastUsed.ServiceName != "kms" || *lu.AccessKeyLastUsed.Region != "eu-west-1" {
		t.Fatalf("used key: %+v", lu.AccessKeyLastUsed)
	}
	_, err = c.GetAccessKeyLastUsed(ctx, &iam.GetAccessKeyLastUsedInput{AccessKeyId: aws.String("AKIAUNKNOWN000000000")})
	wantErr(t, err, "NoSuchEntity", 404, "The Access Key with id AKIAUNKNOWN000000000 cannot be found.")

	gen := must(c.GenerateCredentialReport(ctx, &iam.GenerateCredentialReportInput{}))(t)
	if gen.State != types.ReportStateTypeStarted || *gen.Description != "No report exists. Starting a new report generation task" {
		t.Fatalf("first generate: %s %v", gen.State, gen.Description)
	}
	if gen = must(c.GenerateCredentialReport(ctx, &iam.GenerateCredentialReportInput{}))(t); gen.State != types.ReportStateTypeComplete {
		t.Fatalf("second generate: %s", gen.State)
	}
	rep := must(c.GetCredentialReport(ctx, &iam.GetCredentialReportInput{}))(t)
	if rep.ReportFormat != types.ReportFormatTypeTextCsv || rep.GeneratedTime == nil {
		t.Fatalf("report: %s %v", rep.ReportFormat, rep.GeneratedTime)
	}
	rows, err := csv.NewReader(bytes.NewReader(rep.Content)).ReadAll()
	if err != nil {
		t.Fatal(err)
	}
	header := "user,arn,user_creation_time,password_enabled,password_last_used,password_last_changed,password_next_rotation,mfa_active," +
		"access_key_1_active,access_key_1_last_rotated,access_key_1_last_used_date,access_key_1_last_used_region,access_key_1_last_used_service," +
		"access_key_2_active,access_key_2_last_rotated,access_key_2_last_used_date,access_key_2_last_used_region,access_key_2_last_used_service," +
		"cert_1_active,cert_1_last_rotated,cert_2_active,cert_2_last_rotated"
	if len(rows) != 4 || strings.Join(rows[0], ",") != header {
		t.Fatalf("report rows:\n%s", rep.Content)
	}
	col := map[string]int{}
	for i, h := range rows[0] {
		col[h] = i
	}
	root, alice, bob := rows[1], rows[2], rows[3]
	// Keys are listed by creation; both were created within the same second
	// here, so find which column holds k1.
	used1, other := "access_key_1", "access_key_2"
	if alice[col["access_key_1_active"]] == "false" {
		used1, other = other, used1
	}
	isTime := regexp.MustCompile(`^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\+00:00$`)
	for _, chk := range []struct {
		row       []string
		col, want string
	}{
		{root, "user", "<root_account>"}, {root, "arn", "arn:aws:iam::000000000000:root"}, {root, "password_enabled", "not_supported"},
		{alice, "user", "alice"}, {alice, "arn", "arn:aws:iam::000000000000:user/alice"}, {alice, "password_enabled", "true"},
		{alice, "mfa_active", "false"}, {alice, used1 + "_active", "true"}, {alice, used1 + "_last_used_date", "2026-03-01T12:30:00+00:00"},
		{alice, used1 + "_last_used_region", "eu-west-1"}, {alice, used1 + "_last_used_service", "kms"},
		{alice, other + "_active", "false"}, {alice, other + "_last_used_date", "N/A"}, {alice, "cert_1_active", "false"},
		{bob, "password_enabled", "false"}, {bob, "password_last_changed", "N/A"}, {bob, "access_key_1_active", "false"}, {bob, "access_key_1_last_rotated", "N/A"},
	} {
		if got := chk.row[col[chk.col]]; got != chk.want {
			t.Errorf("%s %s = %q, want %q", chk.row[0], chk.col, got, chk.want)
		}
	}
	for _, name := range []string{"user_creation_time", "password_last_changed", "access_key_1_last_rotated", "access_key_2_last_rotated"} {
		if !isTime.MatchString(alice[col[name]]) {
			t.Errorf("alice %s = %q, not a report time", name, alice[col[name]])
		}
	}

	// A report older than four hours has expired.
	err = srv.Store.Update(ctx, func(tx store.Tx) error {
		b, err := tx.Get("iam.credreport", "000000000000")
		if err != nil {
			return err
		}
		var r map[string]any
		if err := json.Unmarshal(b, &r); err != nil {
			return err
		}
		r["generated"] = time.Now().Add(-5 * time.Hour).UTC().Format(time.RFC3339)
		b, _ = json.Marshal(r)
		return tx.Put("iam.credreport", "000000000000", b)
	})
	if err != nil {
		t.Fatal(err)
	}
	_, err = c.GetCredentialReport(ctx, &iam.GetCredentialReportInput{})
	wantErr(t, err, "ReportExpired", 410, "")
	if gen = must(c.GenerateCredentialReport(ctx, &iam.GenerateCredentialReportInput{}))(t); gen.State != types.ReportStateTypeStarted {
		t.Fatalf("generate after expiry: %s", gen.State)
	}
	must(c.GetCredentialReport(ctx, &iam.GetCredentialReportInput{}))(t)

	// Deleting a key forgets its use.
	must(c.DeleteAccessKey(ctx, &iam.DeleteAccessKeyInput{UserName: aws.String("alice"), AccessKeyId: k1.AccessKeyId}))(t)
	_ = srv.Store.View(ctx, func(tx store.Tx) error {
		if _, err := tx.Get("iam.keyuse", *k1.AccessKeyId); err == nil {
			t.Error("use of a deleted key kept")
		}
		return nil
	})
}

func TestInstanceProfiles(t *testing.T) {
	srv := rampartest.Start(t)
	ctx := context.Background()
	c := iam.NewFromConfig(srv.Config())
	must(c.CreateRole(ctx, &iam.CreateRoleInput{RoleName: aws.String("web"), AssumeRolePolicyDocument: aws.String(trustAccount)}))(t)
	ip := must(c.CreateInstanceProfile(ctx, &iam.CreateInstanceProfileInput{InstanceProfileName: aws.String("web-profile"), Path: aws.String("/app/"),
		Tags: []types.Tag{{Key: aws.String("tier"), Value: aws.String("web")}}}))(t).InstanceProfile
	if *ip.Arn != "arn:aws:iam::000000000000:instance-profile/app/web-profile" || !strings.HasPrefix(*ip.InstanceProfileId, "AIPA") || len(ip.Roles) != 0 {
		t.Fatalf("created: %+v", ip)
	}
	must(c.AddRoleToInstanceProfile(ctx, &iam.AddRoleToInstanceProfileInput{InstanceProfileName: aws.String("web-profile"), RoleName: aws.String("web")}))(t)
	got := must(c.GetInstanceProfile(ctx, &iam.GetInstanceProfileInput{InstanceProfileName: aws.String("web-profile")}))(t).InstanceProfile
	if len(got.Roles) != 1 || *got.Roles[0].RoleName != "web" || len(got.Tags) != 1 {
		t.Fatalf("profile: %+v", got)
	}
	for_ := must(c.ListInstanceProfilesForRole(ctx, &iam.ListInstanceProfilesForRoleInput{RoleName: aws.String("web")}))(t)
	if len(for_.InstanceProfiles) != 1 || *for_.InstanceProfiles[0].InstanceProfileName != "web-profile" {
		t.Fatalf("profiles for role: %+v", for_.InstanceProfiles)
	}
	if l := must(c.ListInstanceProfiles(ctx, &iam.ListInstanceProfilesInput{PathPrefix: aws.String("/other/")}))(t); len(l.InstanceProfiles) != 0 {
		t.Fatalf("path prefix ignored: %d", len(l.InstanceProfiles))
	}
	details := must(c.GetAccountAuthorizationDetails(ctx, &iam.GetAccountAuthorizationDetailsInput{Filter: []types.EntityType{types.EntityTypeRole}}))(t)
	if len(details.RoleDetailList) != 1 || len(details.RoleDetailList[0].InstanceProfileList) != 1 {
		t.Fatalf("authorization details: %+v", details.RoleDetailList)
	}
	sum := must(c.GetAccountSummary(ctx, &iam.GetAccountSummaryInput{}))(t)
	if sum.SummaryMap["InstanceProfiles"] != 1 {
		t.Errorf("summary InstanceProfiles = %d", sum.SummaryMap["InstanceProfiles"])
	}

	// A user may add roles to profiles only with iam:PassRole on the role.
	u := newUser(t, srv, c, "ops")
	must(c.PutUserPolicy(ctx, &iam.PutUserPolicyInput{UserName: aws.String("ops"), PolicyName: aws.String("ip"),
		PolicyDocument: aws.String(`{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":["iam:*InstanceProfile*"],"Resource":"*"}]}`)}))(t)
	must(u.CreateInstanceProfile(ctx, &iam.CreateInstanceProfileInput{InstanceProfileName: aws.String("p2")}))(t)
	_, err := u.AddRoleToInstanceProfile(ctx, &iam.AddRoleToInstanceProfileInput{InstanceProfileName: aws.String("p2"), RoleName: aws.String("web")})
	if msg := wantCode(t, err, "AccessDenied"); !strings.Contains(msg, "iam:PassRole on resource: arn:aws:iam::000000000000:role/web") {
		t.Errorf("PassRole denial: %s", msg)
	}

	bad := map[string]struct {
		call   func() error
		code   string
		status int
		msg    string
	}{
		"second role": {func() error {
			_, err := c.AddRoleToInstanceProfile(ctx, &iam.AddRoleToInstanceProfileInput{InstanceProfileName: aws.String("web-profile"), RoleName: aws.String("web")})
			return err
		}, "LimitExceeded", 409, "Cannot exceed quota for InstanceSessionsPerInstanceProfile: 1"},
		"duplicate": {func() error {
			_, err := c.CreateInstanceProfile(ctx, &iam.CreateInstanceProfileInput{InstanceProfileName: aws.String("web-profile")})
			return err
		}, "EntityAlreadyExists", 409, "Instance Profile web-profile already exists."},
		"unknown": {func() error {
			_, err := c.GetInstanceProfile(ctx, &iam.GetInstanceProfileInput{InstanceProfileName: aws.String("none")})
			return err
		}, "NoSuchEntity", 404, "Instance Profile none cannot be found."},
		"delete profile with role": {func() error {
			_, err := c.DeleteInstanceProfile(ctx, &iam.DeleteInstanceProfileInput{InstanceProfileName: aws.String("web-profile")})
			return err
		}, "DeleteConflict", 409, "Cannot delete entity, must remove roles from instance profile first."},
		"delete role in profile": {func() error {
			_, err := c.DeleteRole(ctx, &iam.DeleteRoleInput{RoleName: aws.String("web")})
			return err
		}, "DeleteConflict", 409, "Cannot delete entity, must remove roles from instance profile first."},
		"unknown role": {func() error {
			_, err := c.AddRoleToInstanceProfile(ctx, &iam.AddRoleToInstanceProfileInput{InstanceProfileName: aws.String("p2"), RoleName: aws.String("none")})
			return err
		}, "NoSuchEntity", 404, "The role with name none cannot be found."},
	}
	for name, tc := range bad {
		t.Run(name, func(t *testing.T) { wantErr(t, tc.call(), tc.code, tc.status, tc.msg) })
	}
	if got := must(c.GetInstanceProfile(ctx, &iam.GetInstanceProfileInput{InstanceProfileName: aws.String("p2")}))(t).InstanceProfile; len(got.Roles) != 0 {
		t.Fatal("refused AddRoleToInstanceProfile changed the profile")
	}

	must(c.UntagInstanceProfile(ctx, &iam.UntagInstanceProfileInput{InstanceProfileName: aws.String("web-profile"), TagKeys: []string{"tier"}}))(t)
	if tags := must(c.ListInstanceProfileTags(ctx, &iam.ListInstanceProfileTagsInput{InstanceProfileName: aws.String("web-profile")}))(t); len(tags.Tags) != 0 {
		t.Fatalf("tags after untag: %+v", tags.Tags)
	}
	must(c.RemoveRoleFromInstanceProfile(ctx, &iam.RemoveRoleFromInstanceProfileInput{InstanceProfileName: aws.String("web-profile"), RoleName: aws.String("web")}))(t)
	must(c.DeleteInstanceProfile(ctx, &iam.DeleteInstanceProfileInput{InstanceProfileName: aws.String("web-profile")}))(t)
	must(c.DeleteRole(ctx, &iam.DeleteRoleInput{RoleName: aws.String("web")}))(t)
}

// certChain makes a CA and a leaf it signs; it returns PEM texts.
func certChain(t *testing.T) (leafPEM, keyPEM, caPEM, otherCAPEM string) {
	t.Helper()
	pemCert := func(der []byte) string {
		return string(pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der}))
	}
	mkCA := func(cn string) (*x509.Certificate, *ecdsa.PrivateKey, string) {
		k, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
		tmpl := &x509.Certificate{SerialNumber: big.NewInt(7), Subject: pkix.Name{CommonName: cn}, IsCA: true, BasicConstraintsValid: true,
			KeyUsage: x509.KeyUsageCertSign, NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(48 * time.Hour)}
		der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &k.PublicKey, k)
		if err != nil {
			t.Fatal(err)
		}
		c, _ := x509.ParseCertificate(der)
		return c, k, pemCert(der)
	}
	ca, caKey, caPEM := mkCA("Test CA")
	_, _, otherCAPEM = mkCA("Other CA")
	lk, _ := rsa.GenerateKey(rand.Reader, 2048)
	tmpl := &x509.Certificate{SerialNumber: big.NewInt(8), Subject: pkix.Name{CommonName: "www.example.com"}, DNSNames: []string{"www.example.com"},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(24 * time.Hour)}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, ca, &lk.PublicKey, caKey)
	if err != nil {
		t.Fatal(err)
	}
	kder, _ := x509.MarshalPKCS8PrivateKey(lk)
	return pemCert(der), string(pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: kder})), caPEM, otherCAPEM
}

func TestServerCertificates(t *testing.T) {
	srv := rampartest.Start(t)
	ctx := context.Background()
	c := iam.NewFromConfig(srv.Config())
	leaf, key, ca, otherCA := certChain(t)
	_, otherKey, _, _ := certChain(t)

	up := must(c.UploadServerCertificate(ctx, &iam.UploadServerCertificateInput{ServerCertificateName: aws.String("www"), Path: aws.String("/cloudfront/"),
		CertificateBody: aws.String(leaf), PrivateKey: aws.String(key), CertificateChain: aws.String(ca)}))(t)
	m := up.ServerCertificateMetadata
	if *m.Arn != "arn:aws:iam::000000000000:server-certificate/cloudfront/www" || !strings.HasPrefix(*m.ServerCertificateId, "ASCA") || m.Expiration == nil {
		t.Fatalf("uploaded: %+v", m)
	}
	got := must(c.GetServerCertificate(ctx, &iam.GetServerCertificateInput{ServerCertificateName: aws.String("www")}))(t).ServerCertificate
	if *got.CertificateBody != leaf || *got.CertificateChain != ca {
		t.Fatalf("GetServerCertificate body/chain differ")
	}
	// The private key is sealed at rest.
	blk, _ := pem.Decode([]byte(key))
	_ = srv.Store.View(ctx, func(tx store.Tx) error {
		kvs, _ := tx.Scan("iam.servercert", "", "", 0)
		for _, kv := range kvs {
			if bytes.Contains(kv.Value, blk.Bytes[20:60]) || bytes.Contains(kv.Value, []byte(base64.StdEncoding.EncodeToString(blk.Bytes)[40:100])) || bytes.Contains(kv.Value, []byte("PRIVATE KEY")) {
				t.Error("server certificate private key stored in the clear")
			}
		}
		return nil
	})

	bad := map[string]struct {
		body, key, chain string
		code             string
		status           int
		msg              string
	}{
		"key of another certificate": {leaf, otherKey, "", "KeyPairMismatch", 400, ""},
		"body not PEM":               {"garbage", key, "", "MalformedCertificate", 400, "Unable to parse certificate. Please ensure the certificate is in PEM format."},
		"key not PEM":                {leaf, "garbage", "", "MalformedCertificate", 400, ""},
		"chain of another CA":        {leaf, key, otherCA, "MalformedCertificate", 400, ""},
		"duplicate name":             {leaf, key, "", "EntityAlreadyExists", 409, "The Server Certificate with name www already exists."},
	}
	for name, tc := range bad {
		t.Run(name, func(t *testing.T) {
			n := "other"
			if tc.code == "EntityAlreadyExists" {
				n = "www"
			}
			_, err := c.UploadServerCertificate(ctx, &iam.UploadServerCertificateInput{ServerCertificateName: aws.String(n), CertificateBody: aws.String(tc.body),
				PrivateKey: aws.String(tc.key), CertificateChain: optional(tc.chain)})
			wantErr(t, err, tc.code, tc.status, tc.msg)
		})
	}
	list := must(c.ListServerCertificates(ctx, &iam.ListServerCertificatesInput{}))(t)
	if len(list.ServerCertificateMetadataList) != 1 {
		t.Fatalf("list after refusals: %d", len(list.ServerCertificateMetadataList))
	}
	must(c.UpdateServerCertificate(ctx, &iam.UpdateServerCertificateInput{ServerCertificateName: aws.String("www"), NewServerCertificateName: aws.String("www2"), NewPath: aws.String("/")}))(t)
	got = must(c.GetServerCertificate(ctx, &iam.GetServerCertificateInput{ServerCertificateName: aws.String("www2")}))(t).ServerCertificate
	if *got.ServerCertificateMetadata.Arn != "arn:aws:iam::000000000000:server-certificate/www2" {
		t.Fatalf("after rename: %s", *got.ServerCertificateMetadata.Arn)
	}
	must(c.TagServerCertificate(ctx, &iam.TagServerCertificateInput{ServerCertificateName: aws.String("www2"), Tags: []types.Tag{{Key: aws.String("a"), Value: aws.String("b")}}}))(t)
	if tags := must(c.ListServerCertificateTags(ctx, &iam.ListServerCertificateTagsInput{ServerCertificateName: aws.String("www2")}))(t); len(tags.Tags) != 1 {
		t.Fatalf("tags: %+v", tags.Tags)
	}
	must(c.DeleteServerCertificate(ctx, &iam.DeleteServerCertificateInput{ServerCertificateName: aws.String("www2")}))(t)
	_, err := c.GetServerCertificate(ctx, &iam.GetServerCertificateInput{ServerCertificateName: aws.String("www2")})
	wantErr(t, err, "NoSuchEntity", 404, "The Server Certificate with name www2 cannot be found.")
}

func optional(s string) *string {
	if s == "" {
		return nil
	}
	return &s
}

// sshRSA renders an RSA public key in the SSH encoding.
func sshRSA(k *rsa.PublicKey) string {
	put := func(b, v []byte) []byte { return append(binary.BigEndian.AppendUint32(b, uint32(len(v))), v...) }
	n := k.N.Bytes()
	if n[0]&0x80 != 0 {
		n = append([]byte{0}, n...)
	}
	blob := put(put(put(nil, []byte("ssh-rsa")), big.NewInt(int64(k.E)).Bytes()), n)
	return "ssh-rsa " + base64.StdEncoding.EncodeToString(blob) + " someone@example"
}

func TestSigningCertificatesAndSSHKeys(t *testing.T) {
	srv := rampartest.Start(t)
	ctx := context.Background()
	c := iam.NewFromConfig(srv.Config())
	must(c.CreateUser(ctx, &iam.CreateUserInput{UserName: aws.String("dev")}))(t)
	leaf, _, _, _ := certChain(t)

	cert := must(c.UploadSigningCertificate(ctx, &iam.UploadSigningCertificateInput{UserName: aws.String("dev"), CertificateBody: aws.String(leaf)}))(t).Certificate
	if cert.Status != types.StatusTypeActive || len(*cert.CertificateId) != 32 || *cert.UserName != "dev" {
		t.Fatalf("uploaded: %+v", cert)
	}
	_, err := c.UploadSigningCertificate(ctx, &iam.UploadSigningCertificateInput{UserName: aws.String("dev"), CertificateBody: aws.String(leaf)})
	wantErr(t, err, "DuplicateCertificate", 409, "")
	_, err = c.UploadSigningCertificate(ctx, &iam.UploadSigningCertificateInput{UserName: aws.String("dev"), CertificateBody: aws.String("not a certificate")})
	wantErr(t, err, "MalformedCertificate", 400, "")
	must(c.UpdateSigningCertificate(ctx, &iam.UpdateSigningCertificateInput{UserName: aws.String("dev"), CertificateId: cert.CertificateId, Status: types.StatusTypeInactive}))(t)
	certs := must(c.ListSigningCertificates(ctx, &iam.ListSigningCertificatesInput{UserName: aws.String("dev")}))(t).Certificates
	if len(certs) != 1 || certs[0].Status != types.StatusTypeInactive {
		t.Fatalf("certificates: %+v", certs)
	}

	rk, _ := rsa.GenerateKey(rand.Reader, 2048)
	pub := sshRSA(&rk.PublicKey)
	key := must(c.UploadSSHPublicKey(ctx, &iam.UploadSSHPublicKeyInput{UserName: aws.String("dev"), SSHPublicKeyBody: aws.String(pub)}))(t).SSHPublicKey
	if !strings.HasPrefix(*key.SSHPublicKeyId, "APKA") || !regexp.MustCompile(`^([0-9a-f]{2}:){15}[0-9a-f]{2}$`).MatchString(*key.Fingerprint) ||
		!strings.HasPrefix(pub, *key.SSHPublicKeyBody) {
		t.Fatalf("uploaded SSH key: %+v", key)
	}
	pemKey := must(c.GetSSHPublicKey(ctx, &iam.GetSSHPublicKeyInput{UserName: aws.String("dev"), SSHPublicKeyId: key.SSHPublicKeyId, Encoding: types.EncodingTypePem}))(t).SSHPublicKey
	blk, _ := pem.Decode([]byte(*pemKey.SSHPublicKeyBody))
	if blk == nil {
		t.Fatalf("PEM encoding: %q", *pemKey.SSHPublicKeyBody)
	}
	if parsed, err := x509.ParsePKIXPublicKey(blk.Bytes); err != nil || !rk.PublicKey.Equal(parsed) {
		t.Fatalf("PEM key is not the uploaded key: %v", err)
	}
	small, _ := rsa.GenerateKey(rand.Reader, 1024)
	for name, tc := range map[string]struct{ body, code string }{
		"duplicate":   {pub, "DuplicateSSHPublicKey"},
		"1024 bits":   {sshRSA(&small.PublicKey), "InvalidPublicKey"},
		"unsupported": {"ssh-dss AAAAB3NzaC1kc3MAAACBAP", "UnrecognizedPublicKeyEncoding"},
	} {
		t.Run(name, func(t *testing.T) {
			_, err := c.UploadSSHPublicKey(ctx, &iam.UploadSSHPublicKeyInput{UserName: aws.String("dev"), SSHPublicKeyBody: aws.String(tc.body)})
			wantErr(t, err, tc.code, 400, "")
		})
	}

	// A user with certificates or keys cannot be deleted; a renamed user keeps them.
	_, err = c.DeleteUser(ctx, &iam.DeleteUserInput{UserName: aws.String("dev")})
	wantErr(t, err, "DeleteConflict", 409, "Cannot delete entity, must delete signing certificates first.")
	must(c.UpdateUser(ctx, &iam.UpdateUserInput{UserName: aws.String("dev"), NewUserName: aws.String("developer")}))(t)
	keys := must(c.ListSSHPublicKeys(ctx, &iam.ListSSHPublicKeysInput{UserName: aws.String("developer")}))(t).SSHPublicKeys
	if len(keys) != 1 || *keys[0].UserName != "developer" {
		t.Fatalf("keys after rename: %+v", keys)
	}
	must(c.DeleteSigningCertificate(ctx, &iam.DeleteSigningCertificateInput{UserName: aws.String("developer"), CertificateId: cert.CertificateId}))(t)
	_, err = c.DeleteUser(ctx, &iam.DeleteUserInput{UserName: aws.String("developer")})
	wantErr(t, err, "DeleteConflict", 409, "Cannot delete entity, must delete SSH public keys first.")
	must(c.DeleteSSHPublicKey(ctx, &iam.DeleteSSHPublicKeyInput{UserName: aws.String("developer"), SSHPublicKeyId: key.SSHPublicKeyId}))(t)
	_, err = c.DeleteSSHPublicKey(ctx, &iam.DeleteSSHPublicKeyInput{UserName: aws.String("developer"), SSHPublicKeyId: key.SSHPublicKeyId})
	wantErr(t, err, "NoSuchEntity", 404, "")
	must(c.DeleteUser(ctx, &iam.DeleteUserInput{UserName: aws.String("developer")}))(t)
}

func TestContextKeysAndMissingValues(t *testing.T) {
	srv := rampartest.Start(t)
	ctx := context.Background()
	c := iam.NewFromConfig(srv.Config())
	const pol = `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"s3:GetObject","Resource":"arn:aws:s3:::b/${aws:username}/*",
		"Condition":{"StringEquals":{"s3:ExistingObjectTag/team":"blue"},"Bool":{"aws:MultiFactorAuthPresent":"true"}}}]}`
	keys := must(c.GetContextKeysForCustomPolicy(ctx, &iam.GetContextKeysForCustomPolicyInput{PolicyInputList: []string{pol}}))(t).ContextKeyNames
	if !slices.Equal(keys, []string{"aws:MultiFactorAuthPresent", "s3:ExistingObjectTag/team", "aws:username"}) {
		t.Fatalf("custom keys = %v", keys)
	}
	_, err := c.GetContextKeysForCustomPolicy(ctx, &iam.GetContextKeysForCustomPolicyInput{PolicyInputList: []string{`{"Statement":[]`}})
	wantErr(t, err, "MalformedPolicyDocument", 400, "")

	must(c.CreateUser(ctx, &iam.CreateUserInput{UserName: aws.String("u")}))(t)
	must(c.PutUserPolicy(ctx, &iam.PutUserPolicyInput{UserName: aws.String("u"), PolicyName: aws.String("p"), PolicyDocument: aws.String(pol)}))(t)
	keys = must(c.GetContextKeysForPrincipalPolicy(ctx, &iam.GetContextKeysForPrincipalPolicyInput{PolicySourceArn: aws.String("arn:aws:iam::000000000000:user/u"),
		PolicyInputList: []string{`{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"kms:Decrypt","Resource":"*","Condition":{"StringLike":{"kms:ViaService":"s3.*"}}}]}`}}))(t).ContextKeyNames
	if !slices.Equal(keys, []string{"aws:MultiFactorAuthPresent", "s3:ExistingObjectTag/team", "aws:username", "kms:ViaService"}) {
		t.Fatalf("principal keys = %v", keys)
	}
	_, err = c.GetContextKeysForPrincipalPolicy(ctx, &iam.GetContextKeysForPrincipalPolicyInput{PolicySourceArn: aws.String("arn:aws:iam::000000000000:user/none")})
	wantErr(t, err, "NoSuchEntity", 404, "")

	// The simulator names the values it lacked; given them, it decides.
	sim := must(c.SimulatePrincipalPolicy(ctx, &iam.SimulatePrincipalPolicyInput{PolicySourceArn: aws.String("arn:aws:iam::000000000000:user/u"),
		ActionNames: []string{"s3:GetObject", "s3:PutObject"}, ResourceArns: []string{"arn:aws:s3:::b/u/x"}}))(t).EvaluationResults
	if len(sim) != 2 || sim[0].EvalDecision != types.PolicyEvaluationDecisionTypeImplicitDeny ||
		!slices.Equal(sim[0].MissingContextValues, []string{"aws:MultiFactorAuthPresent", "s3:ExistingObjectTag/team"}) || len(sim[1].MissingContextValues) != 0 {
		t.Fatalf("without context: %+v", sim)
	}
	sim = must(c.SimulatePrincipalPolicy(ctx, &iam.SimulatePrincipalPolicyInput{PolicySourceArn: aws.String("arn:aws:iam::000000000000:user/u"),
		ActionNames: []string{"s3:GetObject"}, ResourceArns: []string{"arn:aws:s3:::b/u/x"}, ContextEntries: []types.ContextEntry{
			{ContextKeyName: aws.String("aws:MultiFactorAuthPresent"), ContextKeyType: types.ContextKeyTypeEnumBoolean, ContextKeyValues: []string{"true"}},
			{ContextKeyName: aws.String("s3:ExistingObjectTag/team"), ContextKeyType: types.ContextKeyTypeEnumString, ContextKeyValues: []string{"blue"}},
		}}))(t).EvaluationResults
	if sim[0].EvalDecision != types.PolicyEvaluationDecisionTypeAllowed || len(sim[0].MissingContextValues) != 0 {
		t.Fatalf("with context: %+v", sim[0])
	}
}

func TestServiceLastAccessed(t *testing.T) {
	srv := rampartest.Start(t)
	ctx := context.Background()
	c := iam.NewFromConfig(srv.Config())
	u := newUser(t, srv, c, "analyst")
	must(c.PutUserPolicy(ctx, &iam.PutUserPolicyInput{UserName: aws.String("analyst"), PolicyName: aws.String("p"),
		PolicyDocument: aws.String(`{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":["iam:List*","s3:GetObject"],"Resource":"*"}]}`)}))(t)
	must(u.ListUsers(ctx, &iam.ListUsersInput{}))(t)
	must(u.ListRoles(ctx, &iam.ListRolesInput{}))(t)

	job := must(c.GenerateServiceLastAccessedDetails(ctx, &iam.GenerateServiceLastAccessedDetailsInput{Arn: aws.String("arn:aws:iam::000000000000:user/analyst"),
		Granularity: types.AccessAdvisorUsageGranularityTypeActionLevel}))(t)
	det := must(c.GetServiceLastAccessedDetails(ctx, &iam.GetServiceLastAccessedDetailsInput{JobId: job.JobId}))(t)
	if det.JobStatus != types.JobStatusTypeCompleted || det.JobType != types.AccessAdvisorUsageGranularityTypeActionLevel || len(det.ServicesLastAccessed) != 2 {
		t.Fatalf("details: %+v", det)
	}
	iamUse, s3Use := det.ServicesLastAccessed[0], det.ServicesLastAccessed[1]
	if *iamUse.ServiceNamespace != "iam" || iamUse.LastAuthenticated == nil || *iamUse.LastAuthenticatedEntity != "arn:aws:iam::000000000000:user/analyst" ||
		*iamUse.TotalAuthenticatedEntities != 1 || *iamUse.ServiceName != "AWS Identity and Access Management" {
		t.Fatalf("iam: %+v", iamUse)
	}
	var acts []string
	for _, a := range iamUse.TrackedActionsLastAccessed {
		acts = append(acts, *a.ActionName)
	}
	if !slices.Equal(acts, []string{"ListRoles", "ListUsers"}) {
		t.Errorf("tracked actions = %v", acts)
	}
	if *s3Use.ServiceNamespace != "s3" || s3Use.LastAuthenticated != nil || *s3Use.TotalAuthenticatedEntities != 0 {
		t.Fatalf("s3: %+v", s3Use)
	}
	_, err := c.GetServiceLastAccessedDetails(ctx, &iam.GetServiceLastAccessedDetailsInput{JobId: aws.String("00000000-0000-4000-8000-000000000000")})
	wantErr(t, err, "NoSuchEntity", 404, "")
	_, err = c.GenerateServiceLastAccessedDetails(ctx, &iam.GenerateServiceLastAccessedDetailsInput{Arn: aws.String("arn:aws:iam::000000000000:user/nobody")})
	wantErr(t, err, "NoSuchEntity", 404, "")
}
