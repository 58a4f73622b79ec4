package iam_test

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"net/url"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	awshttp "github.com/aws/aws-sdk-go-v2/aws/transport/http"
	"github.com/aws/aws-sdk-go-v2/service/iam"
	"github.com/aws/aws-sdk-go-v2/service/iam/types"

	"github.com/rampart/rampart/internal/authn"
	"github.com/rampart/rampart/internal/rampartest"
	iamsvc "github.com/rampart/rampart/internal/service/iam"
	"github.com/rampart/rampart/internal/store"
)

func status(err error) int {
	var re *awshttp.ResponseError
	if errors.As(err, &re) {
		return re.HTTPStatusCode()
	}
	return 0
}

const allowAll = `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"*","Resource":"*"}]}`
const trustAccount = `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":{"AWS":"arn:aws:iam::000000000000:root"},"Action":"sts:AssumeRole"}]}`

// TestBadInput: each refused request answers AWS's code, status and
// message, and changes nothing.
func TestBadInput(t *testing.T) {
	srv := rampartest.Start(t)
	ctx := context.Background()
	c := iam.NewFromConfig(srv.Config())
	must(c.CreateUser(ctx, &iam.CreateUserInput{UserName: aws.String("alice")}))(t)
	must(c.CreateAccessKey(ctx, &iam.CreateAccessKeyInput{UserName: aws.String("alice")}))(t)
	must(c.CreateGroup(ctx, &iam.CreateGroupInput{GroupName: aws.String("g")}))(t)
	pol := must(c.CreatePolicy(ctx, &iam.CreatePolicyInput{PolicyName: aws.String("p"), PolicyDocument: aws.String(allowAll)}))(t)
	must(c.AttachGroupPolicy(ctx, &iam.AttachGroupPolicyInput{GroupName: aws.String("g"), PolicyArn: pol.Policy.Arn}))(t)

	cases := map[string]struct {
		call   func() error
		code   string
		status int
		msg    string
	}{
		"duplicate user (case-insensitive)": {func() error {
			_, err := c.CreateUser(ctx, &iam.CreateUserInput{UserName: aws.String("ALICE")})
			return err
		},
			"EntityAlreadyExists", 409, "User with name ALICE already exists."},
		"unknown user": {func() error { _, err := c.GetUser(ctx, &iam.GetUserInput{UserName: aws.String("nobody")}); return err },
			"NoSuchEntity", 404, "The user with name nobody cannot be found."},
		"illegal user name": {func() error {
			_, err := c.CreateUser(ctx, &iam.CreateUserInput{UserName: aws.String("a b")})
			return err
		},
			"ValidationError", 400, ""},
		"user with access keys": {func() error {
			_, err := c.DeleteUser(ctx, &iam.DeleteUserInput{UserName: aws.String("alice")})
			return err
		},
			"DeleteConflict", 409, "Cannot delete entity, must delete access keys first."},
		"group with policies": {func() error {
			_, err := c.DeleteGroup(ctx, &iam.DeleteGroupInput{GroupName: aws.String("g")})
			return err
		},
			"DeleteConflict", 409, "Cannot delete entity, must detach all policies first."},
		"attached policy": {func() error {
			_, err := c.DeletePolicy(ctx, &iam.DeletePolicyInput{PolicyArn: pol.Policy.Arn})
			return err
		},
			"DeleteConflict", 409, "Cannot delete a policy attached to entities."},
		"malformed policy": {func() error {
			_, err := c.PutUserPolicy(ctx, &iam.PutUserPolicyInput{UserName: aws.String("alice"), PolicyName: aws.String("x"),
				PolicyDocument: aws.String(`{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Resource":"*"}]}`)})
			return err
		}, "MalformedPolicyDocument", 400, "Policy statement must contain actions."},
		"principal in identity policy": {func() error {
			_, err := c.CreatePolicy(ctx, &iam.CreatePolicyInput{PolicyName: aws.String("bad"),
				PolicyDocument: aws.String(`{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":"*","Action":"s3:*","Resource":"*"}]}`)})
			return err
		}, "MalformedPolicyDocument", 400, ""},
		"trust policy without principal": {func() error {
			_, err := c.CreateRole(ctx, &iam.CreateRoleInput{RoleName: aws.String("r"), AssumeRolePolicyDocument: aws.String(allowAll)})
			return err
		}, "MalformedPolicyDocument", 400, ""},
		"third access key": {func() error {
			if _, err := c.CreateAccessKey(ctx, &iam.CreateAccessKeyInput{UserName: aws.String("alice")}); err != nil {
				return err
			}
			_, err := c.CreateAccessKey(ctx, &iam.CreateAccessKeyInput{UserName: aws.String("alice")})
			return err
		}, "LimitExceeded", 409, "Cannot exceed quota for AccessKeysPerUser: 2"},
		"attach unknown policy": {func() error {
			_, err := c.AttachUserPolicy(ctx, &iam.AttachUserPolicyInput{UserName: aws.String("alice"), PolicyArn: aws.String("arn:aws:iam::000000000000:policy/none")})
			return err
		}, "NoSuchEntity", 404, "Policy arn:aws:iam::000000000000:policy/none does not exist or is not attachable."},
		"duplicate tag keys": {func() error {
			_, err := c.TagUser(ctx, &iam.TagUserInput{UserName: aws.String("alice"), Tags: []types.Tag{{Key: aws.String("k"), Value: aws.String("1")}, {Key: aws.String("K"), Value: aws.String("2")}}})
			return err
		}, "InvalidInput", 400, "Duplicate tag keys found. Please note that Tag keys are case insensitive."},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			err := tc.call()
			msg := wantCode(t, err, tc.code)
			if got := status(err); got != tc.status {
				t.Errorf("status = %d, want %d", got, tc.status)
			}
			if tc.msg != "" && msg != tc.msg {
				t.Errorf("message = %q, want %q", msg, tc.msg)
			}
		})
	}
	// Nothing half-written: still one user, its policies untouched.
	users := must(c.ListUsers(ctx, &iam.ListUsersInput{}))(t)
	if len(users.Users) != 1 {
		t.Fatalf("users after refusals: %d", len(users.Users))
	}
	if ps := must(c.ListUserPolicies(ctx, &iam.ListUserPoliciesInput{UserName: aws.String("alice")}))(t); len(ps.PolicyNames) != 0 {
		t.Fatalf("inline policies after refusal: %v", ps.PolicyNames)
	}
	if _, err := c.GetRole(ctx, &iam.GetRoleInput{RoleName: aws.String("r")}); err == nil {
		t.Fatal("refused role exists")
	}
}

// TestLifecycle walks users, groups, roles, policies, versions, tags and
// pagination through the SDK.
func TestLifecycle(t *testing.T) {
	srv := rampartest.Start(t)
	ctx := context.Background()
	c := iam.NewFromConfig(srv.Config())

	for i := range 5 {
		path := "/"
		if i%2 == 0 {
			path = "/eng/"
		}
		must(c.CreateUser(ctx, &iam.CreateUserInput{UserName: aws.String(fmt.Sprintf("u%d", i)), Path: aws.String(path),
			Tags: []types.Tag{{Key: aws.String("team"), Value: aws.String("t" + fmt.Sprint(i))}}}))(t)
	}
	// Marker/MaxItems pagination visits every user once.
	var names []string
	var marker *string
	for {
		out := must(c.ListUsers(ctx, &iam.ListUsersInput{MaxItems: aws.Int32(2), Marker: marker}))(t)
		for _, u := range out.Users {
			names = append(names, *u.UserName)
		}
		if !out.IsTruncated {
			break
		}
		marker = out.Marker
	}
	if strings.Join(names, ",") != "u0,u1,u2,u3,u4" {
		t.Fatalf("paged users: %v", names)
	}
	eng := must(c.ListUsers(ctx, &iam.ListUsersInput{PathPrefix: aws.String("/eng/")}))(t)
	if len(eng.Users) != 3 || *eng.Users[0].Arn != "arn:aws:iam::000000000000:user/eng/u0" {
		t.Fatalf("PathPrefix /eng/: %+v", eng.Users)
	}
	u := must(c.GetUser(ctx, &iam.GetUserInput{UserName: aws.String("u1")}))(t)
	if !strings.HasPrefix(*u.User.UserId, "AIDA") || len(*u.User.UserId) != 21 || len(u.User.Tags) != 1 {
		t.Fatalf("user: %+v", u.User)
	}
	must(c.UpdateUser(ctx, &iam.UpdateUserInput{UserName: aws.String("u1"), NewUserName: aws.String("renamed"), NewPath: aws.String("/x/")}))(t)
	u = must(c.GetUser(ctx, &iam.GetUserInput{UserName: aws.String("renamed")}))(t)
	if *u.User.Arn != "arn:aws:iam::000000000000:user/x/renamed" {
		t.Fatalf("renamed: %s", *u.User.Arn)
	}

	// Groups and membership.
	must(c.CreateGroup(ctx, &iam.CreateGroupInput{GroupName: aws.String("admins")}))(t)
	must(c.AddUserToGroup(ctx, &iam.AddUserToGroupInput{GroupName: aws.String("admins"), UserName: aws.String("u0")}))(t)
	g := must(c.GetGroup(ctx, &iam.GetGroupInput{GroupName: aws.String("admins")}))(t)
	if len(g.Users) != 1 || *g.Users[0].UserName != "u0" {
		t.Fatalf("group members: %+v", g.Users)
	}
	_, err := c.DeleteUser(ctx, &iam.DeleteUserInput{UserName: aws.String("u0")})
	wantCode(t, err, "DeleteConflict")
	must(c.RemoveUserFromGroup(ctx, &iam.RemoveUserFromGroupInput{GroupName: aws.String("admins"), UserName: aws.String("u0")}))(t)
	must(c.DeleteUser(ctx, &iam.DeleteUserInput{UserName: aws.String("u0")}))(t)
	must(c.DeleteGroup(ctx, &iam.DeleteGroupInput{GroupName: aws.String("admins")}))(t)

	// Roles.
	r := must(c.CreateRole(ctx, &iam.CreateRoleInput{RoleName: aws.String("deploy"), Path: aws.String("/ci/"),
		AssumeRolePolicyDocument: aws.String(trustAccount), MaxSessionDuration: aws.Int32(7200), Description: aws.String("CI")}))(t)
	if !strings.HasPrefix(*r.Role.RoleId, "AROA") || *r.Role.Arn != "arn:aws:iam::000000000000:role/ci/deploy" || *r.Role.MaxSessionDuration != 7200 {
		t.Fatalf("role: %+v", r.Role)
	}
	gr := must(c.GetRole(ctx, &iam.GetRoleInput{RoleName: aws.String("deploy")}))(t)
	if doc, _ := url.QueryUnescape(*gr.Role.AssumeRolePolicyDocument); doc != trustAccount {
		t.Fatalf("trust policy round trip: %s", doc)
	}
	_, err = c.UpdateRole(ctx, &iam.UpdateRoleInput{RoleName: aws.String("deploy"), MaxSessionDuration: aws.Int32(100)})
	wantCode(t, err, "ValidationError")

	// Managed policy versions: at most five, the default cannot be deleted.
	p := must(c.CreatePolicy(ctx, &iam.CreatePolicyInput{PolicyName: aws.String("pv"), PolicyDocument: aws.String(allowAll)}))(t)
	for i := 2; i <= 5; i++ {
		v := must(c.CreatePolicyVersion(ctx, &iam.CreatePolicyVersionInput{PolicyArn: p.Policy.Arn, PolicyDocument: aws.String(allowAll), SetAsDefault: i == 5}))(t)
		if *v.PolicyVersion.VersionId != fmt.Sprintf("v%d", i) {
			t.Fatalf("version id %s", *v.PolicyVersion.VersionId)
		}
	}
	_, err = c.CreatePolicyVersion(ctx, &iam.CreatePolicyVersionInput{PolicyArn: p.Policy.Arn, PolicyDocument: aws.String(allowAll)})
	wantCode(t, err, "LimitExceeded")
	_, err = c.DeletePolicyVersion(ctx, &iam.DeletePolicyVersionInput{PolicyArn: p.Policy.Arn, VersionId: aws.String("v5")})
	wantCode(t, err, "DeleteConflict")
	must(c.DeletePolicyVersion(ctx, &iam.DeletePolicyVersionInput{PolicyArn: p.Policy.Arn, VersionId: aws.String("v1")}))(t)
	gp := must(c.GetPolicy(ctx, &iam.GetPolicyInput{PolicyArn: p.Policy.Arn}))(t)
	if *gp.Policy.DefaultVersionId != "v5" {
		t.Fatalf("default version %s", *gp.Policy.DefaultVersionId)
	}
	vs := must(c.ListPolicyVersions(ctx, &iam.ListPolicyVersionsInput{PolicyArn: p.Policy.Arn}))(t)
	if len(vs.Versions) != 4 {
		t.Fatalf("versions: %d", len(vs.Versions))
	}

	// AWS managed policies are there, with their real documents.
	ro := must(c.GetPolicyVersion(ctx, &iam.GetPolicyVersionInput{PolicyArn: aws.String("arn:aws:iam::aws:policy/IAMReadOnlyAccess"), VersionId: aws.String("v4")}))(t)
	if doc, _ := url.QueryUnescape(*ro.PolicyVersion.Document); !strings.Contains(doc, `"iam:Get*"`) {
		t.Fatalf("IAMReadOnlyAccess: %s", doc)
	}
	found := map[string]bool{}
	for pg := iam.NewListPoliciesPaginator(c, &iam.ListPoliciesInput{Scope: types.PolicyScopeTypeAws}); pg.HasMorePages(); {
		for _, p := range must(pg.NextPage(ctx))(t).Policies {
			found[*p.PolicyName] = true
		}
	}
	for _, n := range []string{"AdministratorAccess", "ReadOnlyAccess", "PowerUserAccess", "IAMFullAccess", "IAMReadOnlyAccess", "SecurityAudit"} {
		if !found[n] {
			t.Errorf("AWS managed policy %s missing", n)
		}
	}

	sum := must(c.GetAccountSummary(ctx, &iam.GetAccountSummaryInput{}))(t)
	if sum.SummaryMap["Users"] != 4 || sum.SummaryMap["Roles"] != 1 || sum.SummaryMap["Policies"] != 1 || sum.SummaryMap["AccessKeysPerUserQuota"] != 2 {
		t.Fatalf("summary: %v", sum.SummaryMap)
	}
	det := must(c.GetAccountAuthorizationDetails(ctx, &iam.GetAccountAuthorizationDetailsInput{}))(t)
	if len(det.UserDetailList) != 4 || len(det.RoleDetailList) != 1 || len(det.Policies) != 1 {
		t.Fatalf("authorization details: %d users, %d roles, %d policies", len(det.UserDetailList), len(det.RoleDetailList), len(det.Policies))
	}
}

// TestBoundaryAndInline: an inline policy allows, a permissions boundary
// limits, and a change counts from the next request.
func TestBoundaryAndInline(t *testing.T) {
	srv := rampartest.Start(t)
	ctx := context.Background()
	root := iam.NewFromConfig(srv.Config())
	dev := newUser(t, srv, root, "dev")
	must(root.PutUserPolicy(ctx, &iam.PutUserPolicyInput{UserName: aws.String("dev"), PolicyName: aws.String("all"), PolicyDocument: aws.String(allowAll)}))(t)
	must(dev.CreateGroup(ctx, &iam.CreateGroupInput{GroupName: aws.String("g1")}))(t)
	must(root.PutUserPermissionsBoundary(ctx, &iam.PutUserPermissionsBoundaryInput{UserName: aws.String("dev"), PermissionsBoundary: aws.String("arn:aws:iam::aws:policy/IAMReadOnlyAccess")}))(t)
	_, err := dev.CreateGroup(ctx, &iam.CreateGroupInput{GroupName: aws.String("g2")})
	msg := wantCode(t, err, "AccessDenied")
	if !strings.HasSuffix(msg, "because no permissions boundary allows the iam:CreateGroup action") {
		t.Fatalf("boundary denial: %s", msg)
	}
	must(dev.ListGroups(ctx, &iam.ListGroupsInput{}))(t)
	must(root.DeleteUserPermissionsBoundary(ctx, &iam.DeleteUserPermissionsBoundaryInput{UserName: aws.String("dev")}))(t)
	must(dev.CreateGroup(ctx, &iam.CreateGroupInput{GroupName: aws.String("g2")}))(t)
	// An explicit deny wins, whatever allows.
	must(root.PutUserPolicy(ctx, &iam.PutUserPolicyInput{UserName: aws.String("dev"), PolicyName: aws.String("deny"),
		PolicyDocument: aws.String(`{"Version":"2012-10-17","Statement":[{"Effect":"Deny","Action":"iam:DeleteGroup","Resource":"*"}]}`)}))(t)
	_, err = dev.DeleteGroup(ctx, &iam.DeleteGroupInput{GroupName: aws.String("g2")})
	msg = wantCode(t, err, "AccessDenied")
	if !strings.HasSuffix(msg, "with an explicit deny in an identity-based policy") {
		t.Fatalf("explicit deny: %s", msg)
	}
	// Tag conditions: aws:ResourceTag from the user's tags.
	must(root.CreateUser(ctx, &iam.CreateUserInput{UserName: aws.String("tagged"), Tags: []types.Tag{{Key: aws.String("env"), Value: aws.String("prod")}}}))(t)
	must(root.PutUserPolicy(ctx, &iam.PutUserPolicyInput{UserName: aws.String("dev"), PolicyName: aws.String("prod"),
		PolicyDocument: aws.String(`{"Version":"2012-10-17","Statement":[{"Effect":"Deny","Action":"iam:GetUser","Resource":"*","Condition":{"StringEquals":{"aws:ResourceTag/env":"prod"}}}]}`)}))(t)
	_, err = dev.GetUser(ctx, &iam.GetUserInput{UserName: aws.String("tagged")})
	wantCode(t, err, "AccessDenied")
	must(dev.GetUser(ctx, &iam.GetUserInput{UserName: aws.String("dev")}))(t)
}

// TestSecretsSealed: an access key's secret is nowhere in the store in the
// clear; an inactive key signs nothing.
func TestSecretsSealed(t *testing.T) {
	srv := rampartest.Start(t)
	ctx := context.Background()
	c := iam.NewFromConfig(srv.Config())
	must(c.CreateUser(ctx, &iam.CreateUserInput{UserName: aws.String("k")}))(t)
	k := must(c.CreateAccessKey(ctx, &iam.CreateAccessKeyInput{UserName: aws.String("k")}))(t)
	secret := *k.AccessKey.SecretAccessKey
	if len(secret) != 40 || !strings.HasPrefix(*k.AccessKey.AccessKeyId, "AKIA") || len(*k.AccessKey.AccessKeyId) != 20 {
		t.Fatalf("key shape: %s / %d chars", *k.AccessKey.AccessKeyId, len(secret))
	}
	err := srv.Store.View(ctx, func(tx store.Tx) error {
		for _, table := range []string{authn.TableKey, "iam.accesskey", "iam.user"} {
			kvs, err := tx.Scan(table, "", "", 0)
			if err != nil {
				return err
			}
			for _, kv := range kvs {
				if bytes.Contains(kv.Value, []byte(secret)) {
					t.Errorf("secret in the clear in %s/%s", table, kv.Key)
				}
			}
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	as := iam.NewFromConfig(srv.ConfigFor(*k.AccessKey.AccessKeyId, secret, ""))
	_, err = as.GetUser(ctx, &iam.GetUserInput{})
	wantCode(t, err, "AccessDenied") // signed and known, but allowed nothing
	must(c.UpdateAccessKey(ctx, &iam.UpdateAccessKeyInput{UserName: aws.String("k"), AccessKeyId: k.AccessKey.AccessKeyId, Status: types.StatusTypeInactive}))(t)
	_, err = as.GetUser(ctx, &iam.GetUserInput{})
	wantCode(t, err, "InvalidClientTokenId")
	keys := must(c.ListAccessKeys(ctx, &iam.ListAccessKeysInput{UserName: aws.String("k")}))(t)
	if len(keys.AccessKeyMetadata) != 1 || keys.AccessKeyMetadata[0].Status != types.StatusTypeInactive {
		t.Fatalf("keys: %+v", keys.AccessKeyMetadata)
	}
}

// TestRoleAndBootstrap: the accessors STS and Organizations call.
func TestRoleAndBootstrap(t *testing.T) {
	srv := rampartest.Start(t)
	ctx := context.Background()
	c := iam.NewFromConfig(srv.Config())
	must(c.CreateRole(ctx, &iam.CreateRoleInput{RoleName: aws.String("app"), Path: aws.String("/svc/"), AssumeRolePolicyDocument: aws.String(trustAccount),
		Tags: []types.Tag{{Key: aws.String("team"), Value: aws.String("blue")}}}))(t)
	s := iamsvc.New(srv.Store, srv.Barrier)
	defer s.Close()
	ri, err := s.Role(ctx, "arn:aws:iam::000000000000:role/svc/app")
	if err != nil {
		t.Fatal(err)
	}
	if ri.Name != "app" || ri.Path != "/svc/" || string(ri.TrustPolicy) != trustAccount || ri.MaxSessionDuration != 3600 || ri.Tags["team"] != "blue" || !strings.HasPrefix(ri.RoleID, "AROA") {
		t.Fatalf("RoleInfo: %+v", ri)
	}
	for _, arn := range []string{"arn:aws:iam::000000000000:role/app", "arn:aws:iam::000000000000:role/svc/none", "bogus"} {
		if _, err := s.Role(ctx, arn); !errors.Is(err, iamsvc.ErrNoSuchRole) {
			t.Errorf("Role(%s) = %v, want ErrNoSuchRole", arn, err)
		}
	}
	if err := s.BootstrapAccount(ctx, "111111111111", "000000000000"); err != nil {
		t.Fatal(err)
	}
	if err := s.BootstrapAccount(ctx, "111111111111", "000000000000"); err != nil {
		t.Fatalf("second bootstrap: %v", err)
	}
	ri, err = s.Role(ctx, "arn:aws:iam::111111111111:role/OrganizationAccountAccessRole")
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(string(ri.TrustPolicy), `"AWS":"arn:aws:iam::000000000000:root"`) {
		t.Fatalf("bootstrap trust: %s", ri.TrustPolicy)
	}
}
