package conformance

import (
	"crypto/hmac"
	"crypto/rand"
	"crypto/rsa"
	"crypto/sha1"
	"crypto/sha256"
	"crypto/x509"
	"encoding/base32"
	"encoding/binary"
	"fmt"
	"slices"
	"strings"
	"time"
)

// Policy documents the fixtures and known values use.
const (
	identityPolicy = `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"s3:GetObject","Resource":"*"}]}`
	trustPolicy    = `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":{"Service":"ec2.amazonaws.com"},"Action":"sts:AssumeRole"}]}`
	scpPolicy      = `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"*","Resource":"*"}]}`
)

// rootTrustPolicy lets the account's principals assume the role (as their
// identity policies allow), with session tags and a source identity.
func rootTrustPolicy(acct string) string {
	return `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":{"AWS":"arn:aws:iam::` + acct + `:root"},"Action":["sts:AssumeRole","sts:TagSession","sts:SetSourceIdentity"]}]}`
}

// federatedTrustPolicy lets the users of an identity provider assume the
// role with action.
func federatedTrustPolicy(provider, action string) string {
	return `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":{"Federated":"` + provider + `"},"Action":"` + action + `"}]}`
}

// tagPolicy is an Organizations tag policy.
const tagPolicy = `{"tags":{"costcenter":{"tag_key":{"@@assign":"CostCenter"}}}}`

func keyPolicy(acct string) string {
	return `{"Version":"2012-10-17","Statement":[{"Sid":"root","Effect":"Allow","Principal":{"AWS":"arn:aws:iam::` + acct + `:root"},"Action":"kms:*","Resource":"*"}]}`
}

func resourcePolicy(acct string) string {
	return `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":{"AWS":"arn:aws:iam::` + acct + `:root"},"Action":"secretsmanager:GetSecretValue","Resource":"*"}]}`
}

// vctx is what a fixture sees of the variant it prepares.
type vctx struct {
	h    *harness
	acct account
	op   string
	in   obj // the variant's input: fixtures read the members they need
	// resolved are the members whose fixtures have run: their values in in
	// name existing state.
	resolved map[string]bool
	stash    map[string]any
	cleanup  []func()
	// caller is whom the variant runs as when a fixture made it (an IAM
	// user of the account, another account's root user, another Region);
	// nil: the account's root user.
	caller *account
}

// who is the caller the variant runs as.
func (c *vctx) who() account {
	if c.caller != nil {
		return *c.caller
	}
	return c.acct
}

func (c *vctx) call(svc, op string, in obj) (obj, error) { return c.h.call(c.acct, svc, op, in) }
func (c *vctx) name(kind string) string                  { return "cf-" + kind + "-" + c.h.salt() }

// fixture fills one input member with state it creates first, through the
// service's own operations.
type fixture struct {
	svc, member string
	ops         []string // only for these operations; nil: every operation but skip
	skip        []string // operations for which the member names something new
	needs       []string // members resolved first, when the input has them
	// add: the fixture supplies the member even where the generated input
	// lacks it (the minimal one): a member the model leaves optional that
	// the operation needs, as AWS documents (a ciphertext to decrypt, one
	// of two alternative members).
	add  bool
	make func(c *vctx) (any, error)
}

func (f *fixture) applies(svc, op string) bool {
	if f.svc != svc {
		return false
	}
	if f.ops != nil {
		return slices.Contains(f.ops, op)
	}
	return !slices.Contains(f.skip, op)
}

// get returns path (a.b.c) of a decoded output.
func get(o obj, path ...string) (any, error) {
	var v any = o
	for _, p := range path {
		m, ok := v.(obj)
		if !ok {
			return nil, fmt.Errorf("output has no %v", path)
		}
		v, ok = m[p]
		if !ok {
			return nil, fmt.Errorf("output has no %v", path)
		}
	}
	return v, nil
}

func str(o obj, err error, path ...string) (any, error) {
	if err != nil {
		return nil, err
	}
	return get(o, path...)
}

func (c *vctx) inString(member string) (string, bool) {
	s, ok := c.in[member].(string)
	return s, ok
}

// ---- IAM ----

// iamUser is the variant's user: the one its UserName fixture created, or
// a new one.
func iamUser(c *vctx) (string, error) {
	if u, ok := c.inString("UserName"); ok && c.resolved["UserName"] {
		return u, nil
	}
	n := c.name("user")
	_, err := c.call("iam", "CreateUser", obj{"UserName": n})
	return n, err
}

// attached makes a policy and attaches it to the variant's user, group or
// role (the member named by entity) with attach.
func attached(attach, entity string) func(c *vctx) (any, error) {
	return func(c *vctx) (any, error) {
		arn, err := iamPolicyArn(c)
		if err != nil {
			return nil, err
		}
		_, err = c.call("iam", attach, obj{entity: c.in[entity], "PolicyArn": arn})
		return arn, err
	}
}

func iamPolicyArn(c *vctx) (any, error) {
	o, err := c.call("iam", "CreatePolicy", obj{"PolicyName": c.name("policy"), "PolicyDocument": identityPolicy})
	return str(o, err, "Policy", "Arn")
}

// totp is RFC 6238's code at a 30-second step, as virtual MFA apps compute it.
func totp(seed []byte, step int64) string {
	var msg [8]byte
	binary.BigEndian.PutUint64(msg[:], uint64(step))
	m := hmac.New(sha1.New, seed)
	m.Write(msg[:])
	sum := m.Sum(nil)
	off := sum[len(sum)-1] & 0x0f
	return fmt.Sprintf("%06d", (binary.BigEndian.Uint32(sum[off:off+4])&0x7fffffff)%1_000_000)
}

// mfaDevice creates a virtual MFA device and keeps its seed for the codes.
func mfaDevice(c *vctx) (string, error) {
	o, err := c.call("iam", "CreateVirtualMFADevice", obj{"VirtualMFADeviceName": c.name("mfa")})
	if err != nil {
		return "", err
	}
	serial, err := get(o, "VirtualMFADevice", "SerialNumber")
	if err != nil {
		return "", err
	}
	b32, err := get(o, "VirtualMFADevice", "Base32StringSeed")
	if err != nil {
		return "", err
	}
	raw, _ := b32.([]byte)
	seed, err := base32.StdEncoding.DecodeString(string(raw))
	if err != nil {
		return "", fmt.Errorf("MFA seed: %v", err)
	}
	c.stash["mfa-seed"] = seed
	return serial.(string), nil
}

// mfaCode is the TOTP code at step offset from now of the stashed device.
func mfaCode(c *vctx, offset int64) (any, error) {
	seed, ok := c.stash["mfa-seed"].([]byte)
	if !ok {
		return nil, fmt.Errorf("no MFA device in this variant")
	}
	return totp(seed, time.Now().Unix()/30+offset), nil
}

// ---- KMS ----

func kmsKey(c *vctx, in obj) (string, error) {
	o, err := c.call("kms", "CreateKey", in)
	v, err := str(o, err, "KeyMetadata", "KeyId")
	if err != nil {
		return "", err
	}
	return v.(string), nil
}

func (c *vctx) keyID() (string, error) {
	if k, ok := c.inString("KeyId"); ok {
		return k, nil
	}
	return kmsKey(c, obj{})
}

// ---- Organizations ----

func orgAccount(c *vctx) (any, error) {
	o, err := c.call("organizations", "CreateAccount", obj{"Email": c.name("acct") + "@example.com", "AccountName": c.name("acct")})
	id, err := str(o, err, "CreateAccountStatus", "Id")
	if err != nil {
		return nil, err
	}
	for i := 0; i < 50; i++ {
		o, err := c.call("organizations", "DescribeCreateAccountStatus", obj{"CreateAccountRequestId": id})
		if err != nil {
			return nil, err
		}
		state, _ := get(o, "CreateAccountStatus", "State")
		if state == "SUCCEEDED" {
			return get(o, "CreateAccountStatus", "AccountId")
		}
		if state == "FAILED" {
			return nil, fmt.Errorf("CreateAccount failed: %v", o)
		}
		time.Sleep(20 * time.Millisecond)
	}
	return nil, fmt.Errorf("CreateAccount did not finish")
}

func orgOU(c *vctx) (any, error) {
	o, err := c.call("organizations", "CreateOrganizationalUnit", obj{"ParentId": c.stash["root"], "Name": c.name("ou")})
	return str(o, err, "OrganizationalUnit", "Id")
}

func orgPolicy(c *vctx) (any, error) {
	o, err := c.call("organizations", "CreatePolicy", obj{"Content": scpPolicy, "Description": "conformance", "Name": c.name("scp"), "Type": "SERVICE_CONTROL_POLICY"})
	return str(o, err, "Policy", "PolicySummary", "Id")
}

// opSetups create the state an operation acts on that no input member
// names.
var opSetups = map[string]func(c *vctx) error{
	"iam.GetAccountPasswordPolicy":    passwordPolicy,
	"iam.DeleteAccountPasswordPolicy": passwordPolicy,
	"iam.GetCredentialReport": func(c *vctx) error {
		_, err := c.call("iam", "GenerateCredentialReport", obj{})
		return err
	},
	"organizations.DescribeResourcePolicy": orgResourcePolicy,
	"organizations.DeleteResourcePolicy":   orgResourcePolicy,
	// An effective tag policy: a tag policy attached to the root applies
	// to every account.
	"organizations.DescribeEffectivePolicy":             orgTagPolicy,
	"organizations.ListEffectivePolicyValidationErrors": orgTagPolicy,
	// A member account leaves: one that accepted an invitation (AWS lets
	// an account leave only if it can stand alone, which created accounts
	// cannot until their owner completes them).
	"organizations.LeaveOrganization": func(c *vctx) error {
		a, hs, err := invitee(c)
		if err != nil {
			return err
		}
		if _, err := c.h.call(a, "organizations", "AcceptHandshake", obj{"HandshakeId": hs}); err != nil {
			return err
		}
		c.caller = &a
		return nil
	},
	// Without UserName the login-profile operations act on the calling
	// IAM user ("Must specify userName when calling with non-User
	// credentials" otherwise).
	"iam.CreateLoginProfile": selfLoginProfile(false),
	"iam.GetLoginProfile":    selfLoginProfile(true),
	"iam.DeleteLoginProfile": selfLoginProfile(true),
	// AssumeRole: "Roles may not be assumed by root accounts."
	"sts.AssumeRole": func(c *vctx) error {
		_, err := c.callerUser()
		return err
	},
}

// selfLoginProfile runs a login-profile operation without a UserName as an
// IAM user (with a login profile when withProfile).
func selfLoginProfile(withProfile bool) func(c *vctx) error {
	return func(c *vctx) error {
		if _, ok := c.in["UserName"]; ok {
			return nil
		}
		u, err := c.callerUser()
		if err != nil || !withProfile {
			return err
		}
		_, err = c.call("iam", "CreateLoginProfile", obj{"UserName": u, "Password": "Cf-Passw0rd-" + c.h.salt()})
		return err
	}
}

func orgTagPolicy(c *vctx) error {
	if _, err := c.call("organizations", "EnablePolicyType", obj{"RootId": c.stash["root"], "PolicyType": "TAG_POLICY"}); err != nil {
		return err
	}
	o, err := c.call("organizations", "CreatePolicy", obj{"Content": tagPolicy, "Description": "conformance", "Name": c.name("tags"), "Type": "TAG_POLICY"})
	id, err := str(o, err, "Policy", "PolicySummary", "Id")
	if err != nil {
		return err
	}
	_, err = c.call("organizations", "AttachPolicy", obj{"PolicyId": id, "TargetId": c.stash["root"]})
	return err
}

func orgResourcePolicy(c *vctx) error {
	_, err := c.call("organizations", "PutResourcePolicy", obj{"Content": orgResourcePolicyDoc(c.acct.ID)})
	return err
}

// orgResourcePolicyDoc is an Organizations resource-based policy that lets
// the account itself describe the organization.
func orgResourcePolicyDoc(acct string) string {
	return `{"Version":"2012-10-17","Statement":[{"Sid":"cf","Effect":"Allow","Principal":{"AWS":"arn:aws:iam::` + acct + `:root"},"Action":"organizations:DescribeOrganization","Resource":"*"}]}`
}

func passwordPolicy(c *vctx) error {
	_, err := c.call("iam", "UpdateAccountPasswordPolicy", obj{"MinimumPasswordLength": int64(12)})
	return err
}

// setups prepare the account of every valid variant of a service before
// its fixtures run.
var setups = map[string]func(c *vctx) error{
	// An organization with service control policies enabled, managed by
	// the variant's account (CreateOrganization itself starts without one).
	"organizations": func(c *vctx) error {
		if c.op == "CreateOrganization" {
			return nil
		}
		// EnableAllFeatures needs an organization that has only
		// consolidated billing (which cannot have policies).
		feature := "ALL"
		if c.op == "EnableAllFeatures" {
			feature = "CONSOLIDATED_BILLING"
		}
		if _, err := c.call("organizations", "CreateOrganization", obj{"FeatureSet": feature}); err != nil {
			return err
		}
		o, err := c.call("organizations", "ListRoots", obj{})
		if err != nil {
			return err
		}
		roots, _ := o["Roots"].([]any)
		if len(roots) != 1 {
			return fmt.Errorf("ListRoots: %v", o)
		}
		c.stash["root"] = roots[0].(obj)["Id"]
		if feature != "ALL" {
			return nil
		}
		_, err = c.call("organizations", "EnablePolicyType", obj{"RootId": c.stash["root"], "PolicyType": "SERVICE_CONTROL_POLICY"})
		return err
	},
}

// fixtures is the per-service table of state the operations need, each
// created with the service's own create operation. The first entry that
// applies to an operation's member wins, so operation-specific entries
// come before general ones.
var fixtures = []fixture{
	// IAM.
	// ChangePassword: the calling IAM user changes its own password, and
	// OldPassword is the one its login profile has.
	{svc: "iam", member: "OldPassword", ops: []string{"ChangePassword"}, make: func(c *vctx) (any, error) {
		u, err := c.callerUser()
		if err != nil {
			return nil, err
		}
		_, err = c.call("iam", "CreateLoginProfile", obj{"UserName": u, "Password": c.in["OldPassword"]})
		return c.in["OldPassword"], err
	}},
	// "Password: ... This parameter must be omitted when you make the
	// request with an AssumeRoot session. It is required in all other
	// cases" (CreateLoginProfile).
	{svc: "iam", member: "Password", ops: []string{"CreateLoginProfile"}, add: true, make: func(c *vctx) (any, error) { return "Cf-Passw0rd-" + c.h.salt(), nil }},
	{svc: "iam", member: "UserName", ops: []string{"GetLoginProfile", "UpdateLoginProfile", "DeleteLoginProfile"}, make: func(c *vctx) (any, error) {
		u, err := iamUser(c)
		if err != nil {
			return nil, err
		}
		_, err = c.call("iam", "CreateLoginProfile", obj{"UserName": u, "Password": "Cf-Passw0rd-" + c.h.salt()})
		return u, err
	}},
	{svc: "iam", member: "UserName", ops: []string{"RemoveUserFromGroup"}, needs: []string{"GroupName"}, make: func(c *vctx) (any, error) {
		u, err := iamUser(c)
		if err != nil {
			return nil, err
		}
		_, err = c.call("iam", "AddUserToGroup", obj{"UserName": u, "GroupName": c.in["GroupName"]})
		return u, err
	}},
	{svc: "iam", member: "UserName", skip: []string{"CreateUser"}, make: func(c *vctx) (any, error) { return iamUser(c) }},
	{svc: "iam", member: "GroupName", skip: []string{"CreateGroup"}, make: func(c *vctx) (any, error) {
		n := c.name("group")
		_, err := c.call("iam", "CreateGroup", obj{"GroupName": n})
		return n, err
	}},
	{svc: "iam", member: "RoleName", skip: []string{"CreateRole"}, make: func(c *vctx) (any, error) {
		n := c.name("role")
		_, err := c.call("iam", "CreateRole", obj{"RoleName": n, "AssumeRolePolicyDocument": trustPolicy})
		return n, err
	}},
	{svc: "iam", member: "PolicyArn", ops: []string{"DetachUserPolicy"}, needs: []string{"UserName"}, make: attached("AttachUserPolicy", "UserName")},
	{svc: "iam", member: "PolicyArn", ops: []string{"DetachGroupPolicy"}, needs: []string{"GroupName"}, make: attached("AttachGroupPolicy", "GroupName")},
	{svc: "iam", member: "PolicyArn", ops: []string{"DetachRolePolicy"}, needs: []string{"RoleName"}, make: attached("AttachRolePolicy", "RoleName")},
	{svc: "iam", member: "PolicyArn", make: iamPolicyArn},
	{svc: "iam", member: "PermissionsBoundary", make: iamPolicyArn},
	{svc: "iam", member: "VersionId", needs: []string{"PolicyArn"}, make: func(c *vctx) (any, error) {
		o, err := c.call("iam", "CreatePolicyVersion", obj{"PolicyArn": c.in["PolicyArn"], "PolicyDocument": identityPolicy})
		return str(o, err, "PolicyVersion", "VersionId")
	}},
	{svc: "iam", member: "PolicyName", ops: []string{"GetUserPolicy", "DeleteUserPolicy"}, needs: []string{"UserName"}, make: func(c *vctx) (any, error) {
		n := c.name("inline")
		_, err := c.call("iam", "PutUserPolicy", obj{"UserName": c.in["UserName"], "PolicyName": n, "PolicyDocument": identityPolicy})
		return n, err
	}},
	{svc: "iam", member: "PolicyName", ops: []string{"GetGroupPolicy", "DeleteGroupPolicy"}, needs: []string{"GroupName"}, make: func(c *vctx) (any, error) {
		n := c.name("inline")
		_, err := c.call("iam", "PutGroupPolicy", obj{"GroupName": c.in["GroupName"], "PolicyName": n, "PolicyDocument": identityPolicy})
		return n, err
	}},
	{svc: "iam", member: "PolicyName", ops: []string{"GetRolePolicy", "DeleteRolePolicy"}, needs: []string{"RoleName"}, make: func(c *vctx) (any, error) {
		n := c.name("inline")
		_, err := c.call("iam", "PutRolePolicy", obj{"RoleName": c.in["RoleName"], "PolicyName": n, "PolicyDocument": identityPolicy})
		return n, err
	}},
	// Without a UserName, DeleteAccessKey and UpdateAccessKey act on the
	// caller's own keys: the root user's.
	{svc: "iam", member: "AccessKeyId", needs: []string{"UserName"}, make: func(c *vctx) (any, error) {
		in := obj{}
		if u, ok := c.inString("UserName"); ok {
			in["UserName"] = u
		} else if c.op != "DeleteAccessKey" && c.op != "UpdateAccessKey" {
			u, err := iamUser(c)
			if err != nil {
				return nil, err
			}
			in["UserName"] = u
		}
		o, err := c.call("iam", "CreateAccessKey", in)
		return str(o, err, "AccessKey", "AccessKeyId")
	}},
	{svc: "iam", member: "AccountAlias", ops: []string{"DeleteAccountAlias"}, make: func(c *vctx) (any, error) {
		a := "cf-alias-" + c.h.salt()
		_, err := c.call("iam", "CreateAccountAlias", obj{"AccountAlias": a})
		return a, err
	}},
	{svc: "iam", member: "PolicySourceArn", make: func(c *vctx) (any, error) {
		o, err := c.call("iam", "CreateUser", obj{"UserName": c.name("user")})
		return str(o, err, "User", "Arn")
	}},
	// MFA: EnableMFADevice takes two consecutive codes of a new device;
	// Resync and Deactivate need an enabled one (Resync then takes the two
	// codes after those Enable used).
	{svc: "iam", member: "SerialNumber", ops: []string{"EnableMFADevice"}, make: func(c *vctx) (any, error) { return mfaDevice(c) }},
	// Deactivate and Get take a device enabled for the user they name, or
	// without a UserName for the calling IAM user.
	{svc: "iam", member: "SerialNumber", ops: []string{"DeactivateMFADevice", "GetMFADevice"}, needs: []string{"UserName"}, make: func(c *vctx) (any, error) {
		u, ok := c.inString("UserName")
		if !ok {
			var err error
			if u, err = c.callerUser(); err != nil {
				return nil, err
			}
		}
		return enabledMFA(c, u)
	}},
	{svc: "iam", member: "SerialNumber", ops: []string{"ResyncMFADevice"}, needs: []string{"UserName"}, make: func(c *vctx) (any, error) {
		u, err := iamUser(c)
		if err != nil {
			return nil, err
		}
		serial, err := mfaDevice(c)
		if err != nil {
			return nil, err
		}
		c1, _ := mfaCode(c, -1)
		c2, _ := mfaCode(c, 0)
		_, err = c.call("iam", "EnableMFADevice", obj{"UserName": u, "SerialNumber": serial, "AuthenticationCode1": c1, "AuthenticationCode2": c2})
		return serial, err
	}},
	{svc: "iam", member: "SerialNumber", ops: []string{"DeleteVirtualMFADevice"}, make: func(c *vctx) (any, error) { return mfaDevice(c) }},
	{svc: "iam", member: "AuthenticationCode1", ops: []string{"EnableMFADevice"}, needs: []string{"SerialNumber"}, make: func(c *vctx) (any, error) { return mfaCode(c, -1) }},
	{svc: "iam", member: "AuthenticationCode2", ops: []string{"EnableMFADevice"}, needs: []string{"SerialNumber"}, make: func(c *vctx) (any, error) { return mfaCode(c, 0) }},
	{svc: "iam", member: "AuthenticationCode1", ops: []string{"ResyncMFADevice"}, needs: []string{"SerialNumber"}, make: func(c *vctx) (any, error) { return mfaCode(c, 1) }},
	{svc: "iam", member: "AuthenticationCode2", ops: []string{"ResyncMFADevice"}, needs: []string{"SerialNumber"}, make: func(c *vctx) (any, error) { return mfaCode(c, 2) }},

	// IAM identity providers, instance profiles, certificates, SSH keys.
	{svc: "iam", member: "OpenIDConnectProviderArn", make: func(c *vctx) (any, error) {
		in := obj{"Url": "https://cf-" + c.h.salt() + ".example.com", "ThumbprintList": []any{oidcThumbprint}}
		if id, ok := c.inString("ClientID"); ok && c.op == "RemoveClientIDFromOpenIDConnectProvider" {
			in["ClientIDList"] = []any{id}
		}
		o, err := c.call("iam", "CreateOpenIDConnectProvider", in)
		return str(o, err, "OpenIDConnectProviderArn")
	}},
	{svc: "iam", member: "SAMLProviderArn", make: samlProvider},
	// RemovePrivateKey names a decryption key the provider has: another
	// than the one the full input adds.
	{svc: "iam", member: "RemovePrivateKey", ops: []string{"UpdateSAMLProvider"}, needs: []string{"SAMLProviderArn"}, make: func(c *vctx) (any, error) {
		arn := c.in["SAMLProviderArn"]
		if _, err := c.call("iam", "UpdateSAMLProvider", obj{"SAMLProviderArn": arn, "AddPrivateKey": materials().key2PEM}); err != nil {
			return nil, err
		}
		o, err := c.call("iam", "GetSAMLProvider", obj{"SAMLProviderArn": arn})
		keys, err := str(o, err, "PrivateKeyList")
		if err != nil {
			return nil, err
		}
		l, _ := keys.([]any)
		if len(l) != 1 {
			return nil, fmt.Errorf("GetSAMLProvider: private keys %v", keys)
		}
		return get(l[0].(obj), "KeyId")
	}},
	{svc: "iam", member: "InstanceProfileName", skip: []string{"CreateInstanceProfile"}, needs: []string{"RoleName"}, make: func(c *vctx) (any, error) {
		n := c.name("profile")
		if _, err := c.call("iam", "CreateInstanceProfile", obj{"InstanceProfileName": n}); err != nil {
			return nil, err
		}
		if c.op == "RemoveRoleFromInstanceProfile" {
			if _, err := c.call("iam", "AddRoleToInstanceProfile", obj{"InstanceProfileName": n, "RoleName": c.in["RoleName"]}); err != nil {
				return nil, err
			}
		}
		return n, nil
	}},
	{svc: "iam", member: "ServerCertificateName", skip: []string{"UploadServerCertificate"}, make: func(c *vctx) (any, error) {
		n := c.name("cert")
		_, err := c.call("iam", "UploadServerCertificate", obj{"ServerCertificateName": n, "CertificateBody": materials().certPEM, "PrivateKey": materials().keyPEM})
		return n, err
	}},
	// Without a UserName, the signing-certificate operations act on the
	// caller's (the root user's) certificates.
	{svc: "iam", member: "CertificateId", needs: []string{"UserName"}, make: func(c *vctx) (any, error) {
		in := obj{"CertificateBody": materials().certPEM}
		if u, ok := c.inString("UserName"); ok {
			in["UserName"] = u
		}
		o, err := c.call("iam", "UploadSigningCertificate", in)
		return str(o, err, "Certificate", "CertificateId")
	}},
	{svc: "iam", member: "SSHPublicKeyId", needs: []string{"UserName"}, make: func(c *vctx) (any, error) {
		o, err := c.call("iam", "UploadSSHPublicKey", obj{"UserName": c.in["UserName"], "SSHPublicKeyBody": materials().sshPEM})
		return str(o, err, "SSHPublicKey", "SSHPublicKeyId")
	}},
	{svc: "iam", member: "Arn", ops: []string{"GenerateServiceLastAccessedDetails"}, make: iamUserArn},
	{svc: "iam", member: "JobId", ops: []string{"GetServiceLastAccessedDetails", "GetServiceLastAccessedDetailsWithEntities"}, make: func(c *vctx) (any, error) {
		arn, err := iamUserArn(c)
		if err != nil {
			return nil, err
		}
		o, err := c.call("iam", "GenerateServiceLastAccessedDetails", obj{"Arn": arn})
		return str(o, err, "JobId")
	}},
	{svc: "iam", member: "SerialNumber", ops: []string{"TagMFADevice", "UntagMFADevice", "ListMFADeviceTags"}, make: func(c *vctx) (any, error) { return mfaDevice(c) }},

	// KMS: the key each operation needs, of the right spec.
	// The model leaves GranteePrincipal optional (GranteeServicePrincipal
	// is the alternative); a grant needs one of them.
	{svc: "kms", member: "GranteePrincipal", ops: []string{"CreateGrant"}, add: true, make: func(c *vctx) (any, error) {
		return "arn:aws:iam::" + c.acct.ID + ":root", nil
	}},
	// "You must specify either RetiringPrincipal or RetiringServicePrincipal."
	{svc: "kms", member: "RetiringPrincipal", ops: []string{"ListRetirableGrants"}, add: true, make: func(c *vctx) (any, error) {
		return "arn:aws:iam::" + c.acct.ID + ":root", nil
	}},
	// "To specify the length of the data key, use either the KeySpec or
	// NumberOfBytes parameters (but not both). For 128-bit and 256-bit
	// data keys, use the KeySpec parameter."
	{svc: "kms", member: "KeySpec", ops: []string{"GenerateDataKey", "GenerateDataKeyWithoutPlaintext"}, add: true, make: func(c *vctx) (any, error) { return "AES_256", nil }},
	// GenerateRandom: "NumberOfBytes: The length of the random byte
	// string" (optional in the model, needed by KMS).
	{svc: "kms", member: "NumberOfBytes", ops: []string{"GenerateRandom"}, add: true, make: func(c *vctx) (any, error) { return int64(32), nil }},
	// "ExpirationModel: ... The default is KEY_MATERIAL_EXPIRES", which
	// "must specify a value for the ValidTo parameter".
	{svc: "kms", member: "ValidTo", ops: []string{"ImportKeyMaterial"}, add: true, make: func(c *vctx) (any, error) { return Timestamp(), nil }},
	// RetireGrant: "use a grant token, or both the grant ID and a key
	// identifier"; the account in which the grant was created may retire it.
	{svc: "kms", member: "GrantToken", ops: []string{"RetireGrant"}, add: true, needs: []string{"KeyId"}, make: func(c *vctx) (any, error) {
		k, err := c.keyID()
		if err != nil {
			return nil, err
		}
		o, err := c.call("kms", "CreateGrant", obj{"KeyId": k, "GranteePrincipal": "arn:aws:iam::" + c.acct.ID + ":root", "Operations": []any{"Decrypt"}})
		if err != nil {
			return nil, err
		}
		c.stash["grant-id"] = o["GrantId"]
		return o["GrantToken"], nil
	}},
	{svc: "kms", member: "SourceKeyId", make: func(c *vctx) (any, error) { return kmsKey(c, obj{}) }},
	{svc: "kms", member: "KeyId", ops: []string{"ReplicateKey"}, make: func(c *vctx) (any, error) {
		return kmsKey(c, obj{"MultiRegion": true})
	}},
	{svc: "kms", member: "KeyId", ops: []string{"UpdatePrimaryRegion"}, make: func(c *vctx) (any, error) {
		k, err := kmsKey(c, obj{"MultiRegion": true})
		if err != nil {
			return nil, err
		}
		_, err = c.call("kms", "ReplicateKey", obj{"KeyId": k, "ReplicaRegion": replicaRegion})
		return k, err
	}},
	{svc: "kms", member: "KeyId", ops: []string{"DeriveSharedSecret"}, make: func(c *vctx) (any, error) {
		return kmsKey(c, obj{"KeySpec": "ECC_NIST_P256", "KeyUsage": "KEY_AGREEMENT"})
	}},
	{svc: "kms", member: "KeyId", ops: []string{"Sign", "Verify", "GetPublicKey"}, make: func(c *vctx) (any, error) {
		return kmsKey(c, obj{"KeySpec": "ECC_NIST_P256", "KeyUsage": "SIGN_VERIFY"})
	}},
	{svc: "kms", member: "KeyId", ops: []string{"GenerateMac", "VerifyMac"}, make: func(c *vctx) (any, error) {
		return kmsKey(c, obj{"KeySpec": "HMAC_256", "KeyUsage": "GENERATE_VERIFY_MAC"})
	}},
	{svc: "kms", member: "KeyId", ops: []string{"GetParametersForImport", "ImportKeyMaterial"}, make: func(c *vctx) (any, error) {
		return kmsKey(c, obj{"Origin": "EXTERNAL"})
	}},
	{svc: "kms", member: "KeyId", ops: []string{"DeleteImportedKeyMaterial"}, make: func(c *vctx) (any, error) {
		k, err := kmsKey(c, obj{"Origin": "EXTERNAL"})
		if err != nil {
			return nil, err
		}
		c.in["KeyId"] = k
		if err := importMaterial(c); err != nil {
			return nil, err
		}
		_, err = c.call("kms", "ImportKeyMaterial", obj{"KeyId": k, "ImportToken": c.stash["import-token"], "EncryptedKeyMaterial": c.stash["import-material"], "ExpirationModel": "KEY_MATERIAL_DOES_NOT_EXPIRE"})
		return k, err
	}},
	{svc: "kms", member: "KeyId", ops: []string{"CancelKeyDeletion"}, make: func(c *vctx) (any, error) {
		k, err := kmsKey(c, obj{})
		if err != nil {
			return nil, err
		}
		_, err = c.call("kms", "ScheduleKeyDeletion", obj{"KeyId": k, "PendingWindowInDays": int64(7)})
		return k, err
	}},
	{svc: "kms", member: "KeyId", skip: []string{"CreateKey"}, make: func(c *vctx) (any, error) { return kmsKey(c, obj{}) }},
	{svc: "kms", member: "TargetKeyId", make: func(c *vctx) (any, error) { return kmsKey(c, obj{}) }},
	{svc: "kms", member: "DestinationKeyId", make: func(c *vctx) (any, error) { return kmsKey(c, obj{}) }},
	{svc: "kms", member: "AliasName", ops: []string{"DeleteAlias", "UpdateAlias"}, make: func(c *vctx) (any, error) {
		k, err := kmsKey(c, obj{})
		if err != nil {
			return nil, err
		}
		a := "alias/cf-" + c.h.salt()
		_, err = c.call("kms", "CreateAlias", obj{"AliasName": a, "TargetKeyId": k})
		return a, err
	}},
	// The model leaves CiphertextBlob optional (for DryRun); there is
	// nothing to decrypt without one.
	{svc: "kms", member: "CiphertextBlob", add: true, needs: []string{"KeyId", "SourceKeyId"}, make: func(c *vctx) (any, error) {
		k, ok := c.inString("SourceKeyId")
		if !ok {
			var err error
			if k, err = c.keyID(); err != nil {
				return nil, err
			}
		}
		in := obj{"KeyId": k, "Plaintext": []byte("conformance")}
		for _, m := range []string{"EncryptionContext", "SourceEncryptionContext"} {
			if ec, ok := c.in[m]; ok {
				in["EncryptionContext"] = ec
			}
		}
		o, err := c.call("kms", "Encrypt", in)
		return str(o, err, "CiphertextBlob")
	}},
	{svc: "kms", member: "Signature", needs: []string{"KeyId", "Message"}, make: func(c *vctx) (any, error) {
		in := obj{"KeyId": c.in["KeyId"], "Message": c.in["Message"], "SigningAlgorithm": c.in["SigningAlgorithm"]}
		if mt, ok := c.in["MessageType"]; ok {
			in["MessageType"] = mt
		}
		o, err := c.call("kms", "Sign", in)
		return str(o, err, "Signature")
	}},
	{svc: "kms", member: "Mac", needs: []string{"KeyId", "Message"}, make: func(c *vctx) (any, error) {
		o, err := c.call("kms", "GenerateMac", obj{"KeyId": c.in["KeyId"], "Message": c.in["Message"], "MacAlgorithm": c.in["MacAlgorithm"]})
		return str(o, err, "Mac")
	}},
	{svc: "kms", member: "ImportToken", needs: []string{"KeyId"}, make: func(c *vctx) (any, error) {
		if err := importMaterial(c); err != nil {
			return nil, err
		}
		return c.stash["import-token"], nil
	}},
	{svc: "kms", member: "EncryptedKeyMaterial", needs: []string{"ImportToken"}, make: func(c *vctx) (any, error) {
		return c.stash["import-material"], nil
	}},
	{svc: "kms", member: "GrantId", needs: []string{"KeyId", "GrantToken"}, make: func(c *vctx) (any, error) {
		if id, ok := c.stash["grant-id"]; ok {
			return id, nil // RetireGrant's, made with the grant token
		}
		k, err := c.keyID()
		if err != nil {
			return nil, err
		}
		o, err := c.call("kms", "CreateGrant", obj{"KeyId": k, "GranteePrincipal": "arn:aws:iam::" + c.acct.ID + ":root", "Operations": []any{"Decrypt"}})
		return str(o, err, "GrantId")
	}},

	// Secrets Manager.
	// Rotation is configured (with the harness's rotation function) before
	// it is started or cancelled; a rotation started runs in the
	// background, and the variant waits for its end.
	{svc: "secretsmanager", member: "SecretId", ops: []string{"RotateSecret", "CancelRotateSecret"}, make: func(c *vctx) (any, error) {
		arn, err := smSecret(c, obj{})
		if err != nil {
			return nil, err
		}
		if _, err := c.call("secretsmanager", "RotateSecret", obj{"SecretId": arn, "RotationLambdaARN": rotationARN, "RotateImmediately": false,
			"RotationRules": obj{"AutomaticallyAfterDays": int64(30)}}); err != nil {
			return nil, err
		}
		if now, ok := c.in["RotateImmediately"].(bool); c.op == "RotateSecret" && (!ok || now) {
			c.cleanup = append(c.cleanup, func() { rotated(c, arn) })
		}
		return arn, nil
	}},
	// Only a replica is promoted, in its own Region (the caller's).
	{svc: "secretsmanager", member: "SecretId", ops: []string{"StopReplicationToReplica"}, make: func(c *vctx) (any, error) {
		arn, err := smSecret(c, obj{"AddReplicaRegions": []any{obj{"Region": replicaRegion}}})
		if err != nil {
			return nil, err
		}
		in := c.acct
		in.Region = replicaRegion
		c.caller = &in
		return strings.Replace(arn.(string), ":us-east-1:", ":"+replicaRegion+":", 1), nil
	}},
	// BatchGetSecretValue: "Either SecretIdList or Filters".
	{svc: "secretsmanager", member: "SecretIdList", ops: []string{"BatchGetSecretValue"}, add: true, make: func(c *vctx) (any, error) {
		arn, err := smSecret(c, obj{})
		return []any{arn}, err
	}},
	// PutSecretValue: "You must provide either SecretString or SecretBinary."
	{svc: "secretsmanager", member: "SecretString", ops: []string{"PutSecretValue"}, add: true, make: func(c *vctx) (any, error) { return "s3cret-" + c.h.salt(), nil }},
	// UpdateSecretVersionStage moves the label to the current version,
	// from a version that a fixture labels with it.
	{svc: "secretsmanager", member: "RemoveFromVersionId", ops: []string{"UpdateSecretVersionStage"}, needs: []string{"SecretId", "VersionStage"}, make: func(c *vctx) (any, error) {
		o, err := c.call("secretsmanager", "PutSecretValue", obj{"SecretId": c.in["SecretId"], "SecretString": "s3cret-" + c.h.salt(), "VersionStages": []any{c.in["VersionStage"]}})
		return str(o, err, "VersionId")
	}},
	// "You must specify RemoveFromVersionId, MoveToVersionId, or both."
	{svc: "secretsmanager", member: "MoveToVersionId", ops: []string{"UpdateSecretVersionStage"}, add: true, needs: []string{"SecretId"}, make: func(c *vctx) (any, error) {
		return c.stash["secret-version"], nil
	}},
	{svc: "secretsmanager", member: "VersionId", needs: []string{"SecretId"}, make: func(c *vctx) (any, error) {
		return c.stash["secret-version"], nil
	}},
	{svc: "secretsmanager", member: "SecretId", ops: []string{"RestoreSecret"}, make: func(c *vctx) (any, error) {
		o, err := c.call("secretsmanager", "CreateSecret", obj{"Name": c.name("secret"), "SecretString": "s3cret"})
		arn, err := str(o, err, "ARN")
		if err != nil {
			return nil, err
		}
		_, err = c.call("secretsmanager", "DeleteSecret", obj{"SecretId": arn})
		return arn, err
	}},
	{svc: "secretsmanager", member: "SecretId", make: func(c *vctx) (any, error) { return smSecret(c, obj{}) }},
	// A customer managed key of the account encrypts the secret.
	{svc: "secretsmanager", member: "KmsKeyId", make: func(c *vctx) (any, error) { return kmsKey(c, obj{}) }},

	// STS: the role and keys come from IAM.
	// AssumeRoleWithSAML: a role that the SAML provider's users may
	// assume, and a response that its key signed.
	{svc: "sts", member: "RoleArn", ops: []string{"AssumeRoleWithSAML"}, needs: []string{"PrincipalArn"}, make: func(c *vctx) (any, error) {
		o, err := c.call("iam", "CreateRole", obj{"RoleName": c.name("role"), "AssumeRolePolicyDocument": federatedTrustPolicy(c.in["PrincipalArn"].(string), "sts:AssumeRoleWithSAML")})
		return str(o, err, "Role", "Arn")
	}},
	{svc: "sts", member: "SAMLAssertion", needs: []string{"RoleArn", "PrincipalArn"}, make: func(c *vctx) (any, error) {
		iss, _ := c.stash["saml-issuer"].(string)
		return samlResponse(iss, "_cf"+c.h.salt(), c.in["RoleArn"].(string), c.in["PrincipalArn"].(string), "cf-session")
	}},
	// AssumeRoleWithWebIdentity: the loopback issuer registered with IAM,
	// a role its users may assume, and an ID token it signed.
	{svc: "sts", member: "RoleArn", ops: []string{"AssumeRoleWithWebIdentity"}, make: func(c *vctx) (any, error) {
		o, err := c.call("iam", "CreateOpenIDConnectProvider", obj{"Url": c.h.issuer().providerURL(), "ClientIDList": []any{oidcClientID}})
		provider, err := str(o, err, "OpenIDConnectProviderArn")
		if err != nil {
			return nil, err
		}
		o, err = c.call("iam", "CreateRole", obj{"RoleName": c.name("role"), "AssumeRolePolicyDocument": federatedTrustPolicy(provider.(string), "sts:AssumeRoleWithWebIdentity")})
		return str(o, err, "Role", "Arn")
	}},
	{svc: "sts", member: "WebIdentityToken", make: func(c *vctx) (any, error) { return c.h.issuer().token("cf-subject") }},
	{svc: "sts", member: "EncodedMessage", make: encodedMessage},
	// Session policies: managed policies of the account.
	{svc: "sts", member: "PolicyArns", make: func(c *vctx) (any, error) {
		arn, err := iamPolicyArn(c)
		return []any{obj{"arn": arn}}, err
	}},
	// Transitive tags are among the session's tags.
	{svc: "sts", member: "TransitiveTagKeys", needs: []string{"Tags"}, make: func(c *vctx) (any, error) {
		tags, _ := c.in["Tags"].([]any)
		var keys []any
		for _, t := range tags {
			keys = append(keys, t.(obj)["Key"])
		}
		return keys, nil
	}},
	// An MFA code: of a device enabled for the calling IAM user (the root
	// user's devices are managed in the console).
	{svc: "sts", member: "SerialNumber", make: func(c *vctx) (any, error) {
		u, err := c.callerUser()
		if err != nil {
			return nil, err
		}
		return enabledMFA(c, u)
	}},
	{svc: "sts", member: "TokenCode", needs: []string{"SerialNumber"}, make: func(c *vctx) (any, error) { return mfaCode(c, 0) }},
	{svc: "sts", member: "RoleArn", make: func(c *vctx) (any, error) {
		o, err := c.call("iam", "CreateRole", obj{"RoleName": c.name("role"), "AssumeRolePolicyDocument": rootTrustPolicy(c.acct.ID)})
		return str(o, err, "Role", "Arn")
	}},
	{svc: "sts", member: "AccessKeyId", make: func(c *vctx) (any, error) {
		u, err := iamUser(c)
		if err != nil {
			return nil, err
		}
		o, err := c.call("iam", "CreateAccessKey", obj{"UserName": u})
		return str(o, err, "AccessKey", "AccessKeyId")
	}},

	{svc: "sts", member: "PrincipalArn", make: samlProvider},

	// Organizations (the setup made the organization and its root).
	{svc: "organizations", member: "ParentId", make: func(c *vctx) (any, error) { return c.stash["root"], nil }},
	{svc: "organizations", member: "SourceParentId", make: func(c *vctx) (any, error) { return c.stash["root"], nil }},
	{svc: "organizations", member: "RootId", make: func(c *vctx) (any, error) { return c.stash["root"], nil }},
	{svc: "organizations", member: "OrganizationalUnitId", make: orgOU},
	{svc: "organizations", member: "DestinationParentId", make: orgOU},
	{svc: "organizations", member: "ChildId", make: orgOU},
	{svc: "organizations", member: "ResourceId", make: orgOU},
	{svc: "organizations", member: "PolicyId", make: orgPolicy},
	{svc: "organizations", member: "TargetId", ops: []string{"DetachPolicy"}, needs: []string{"PolicyId"}, make: func(c *vctx) (any, error) {
		ou, err := orgOU(c)
		if err != nil {
			return nil, err
		}
		_, err = c.call("organizations", "AttachPolicy", obj{"PolicyId": c.in["PolicyId"], "TargetId": ou})
		return ou, err
	}},
	// DescribeEffectivePolicy: "TargetId: When you're signed in as the
	// management account, specify the ID of the account" (an account).
	{svc: "organizations", member: "TargetId", ops: []string{"DescribeEffectivePolicy"}, make: orgAccount},
	{svc: "organizations", member: "TargetId", make: orgOU},
	{svc: "organizations", member: "AccountId", ops: []string{"DeregisterDelegatedAdministrator", "ListDelegatedServicesForAccount"}, make: func(c *vctx) (any, error) {
		a, err := orgAccount(c)
		if err != nil {
			return nil, err
		}
		_, err = c.call("organizations", "RegisterDelegatedAdministrator", obj{"AccountId": a, "ServicePrincipal": "ssm.amazonaws.com"})
		return a, err
	}},
	{svc: "organizations", member: "AccountId", make: orgAccount},
	{svc: "organizations", member: "CreateAccountRequestId", make: func(c *vctx) (any, error) {
		o, err := c.call("organizations", "CreateAccount", obj{"Email": c.name("acct") + "@example.com", "AccountName": c.name("acct")})
		return str(o, err, "CreateAccountStatus", "Id")
	}},
	// A handshake is accepted or declined by the invited account, and
	// described or cancelled by the organization's.
	{svc: "organizations", member: "HandshakeId", make: func(c *vctx) (any, error) {
		a, id, err := invitee(c)
		if c.op == "AcceptHandshake" || c.op == "DeclineHandshake" {
			c.caller = &a
		}
		return id, err
	}},
	{svc: "organizations", member: "Target", make: func(c *vctx) (any, error) {
		return obj{"Id": c.h.freshAccount().ID, "Type": "ACCOUNT"}, nil
	}},
}

// replicaRegion is where multi-Region keys get their replica (the
// harness signs for us-east-1).
const replicaRegion = "us-west-2"

// oidcThumbprint is a well-formed thumbprint (40 hex digits): IAM keeps
// thumbprints as given.
const oidcThumbprint = "9e99a48a9960b14926bb7f3b02e22da2b0ab7280"

func samlProvider(c *vctx) (any, error) {
	iss := "https://idp-" + c.h.salt() + ".example.com/"
	c.stash["saml-issuer"] = iss
	o, err := c.call("iam", "CreateSAMLProvider", obj{"Name": c.name("saml"), "SAMLMetadataDocument": samlMetadata(iss)})
	return str(o, err, "SAMLProviderArn")
}

// smSecret creates a secret (with in's extra members) and keeps its
// first version's id for the members that name a version.
func smSecret(c *vctx, in obj) (any, error) {
	in["Name"], in["SecretString"] = c.name("secret"), "s3cret"
	o, err := c.call("secretsmanager", "CreateSecret", in)
	if err != nil {
		return nil, err
	}
	c.stash["secret-version"] = o["VersionId"]
	return get(o, "ARN")
}

func iamUserArn(c *vctx) (any, error) {
	o, err := c.call("iam", "CreateUser", obj{"UserName": c.name("user")})
	return str(o, err, "User", "Arn")
}

// importMaterial fetches import parameters for the variant's EXTERNAL key
// and wraps 32 random bytes of key material with the public key.
func importMaterial(c *vctx) error {
	o, err := c.call("kms", "GetParametersForImport", obj{"KeyId": c.in["KeyId"], "WrappingAlgorithm": "RSAES_OAEP_SHA_256", "WrappingKeySpec": "RSA_2048"})
	if err != nil {
		return err
	}
	der, _ := o["PublicKey"].([]byte)
	pub, err := x509.ParsePKIXPublicKey(der)
	if err != nil {
		return fmt.Errorf("import public key: %v", err)
	}
	rsaPub, ok := pub.(*rsa.PublicKey)
	if !ok {
		return fmt.Errorf("import public key is %T", pub)
	}
	material := make([]byte, 32)
	rand.Read(material)
	wrapped, err := rsa.EncryptOAEP(sha256.New(), rand.Reader, rsaPub, material, nil)
	if err != nil {
		return err
	}
	c.stash["import-token"] = o["ImportToken"]
	c.stash["import-material"] = wrapped
	return nil
}

// known returns a known-good value for a member of an operation: where the
// model's constraints allow values the service cannot act on (a policy
// document, an alias name, an algorithm that fits the fixture's key).
func known(svc, op string, acct string, salt func() string) func(member string) (any, bool) {
	return func(member string) (any, bool) {
		switch svc + "." + member {
		case "kms.Policy":
			return keyPolicy(acct), true
		case "kms.PolicyName":
			return "default", true // "The only valid policy name is default."
		case "kms.PendingWindowInDays":
			return int64(7), true // AWS: a value between 7 and 30, inclusive
		case "kms.AliasName":
			return "alias/cf-" + salt(), true
		case "kms.SigningAlgorithm":
			return "ECDSA_SHA_256", true
		case "kms.MacAlgorithm":
			return "HMAC_SHA_256", true
		case "kms.WrappingAlgorithm":
			return "RSAES_OAEP_SHA_256", true
		case "kms.WrappingKeySpec":
			return "RSA_2048", true
		case "kms.KeyPairSpec":
			return "ECC_NIST_P256", true
		case "kms.GranteePrincipal", "kms.RetiringPrincipal":
			return "arn:aws:iam::" + acct + ":root", true
		case "kms.ExpirationModel":
			// The full input carries a ValidTo (a generated timestamp,
			// in the future), which only expiring material may have.
			return "KEY_MATERIAL_EXPIRES", true
		case "secretsmanager.ResourcePolicy":
			return resourcePolicy(acct), true
		case "secretsmanager.SecretString":
			return "s3cret-" + salt(), true
		case "secretsmanager.RecoveryWindowInDays":
			return int64(7), true // AWS: from 7 to 30 days
		case "secretsmanager.RotationLambdaARN":
			return rotationARN, true
		case "secretsmanager.Duration":
			return "2h", true // RotationRules: a window of 1h to 24h
		case "secretsmanager.VersionStage":
			if op == "GetSecretValue" {
				return "AWSCURRENT", true // the label of the version VersionId names
			}
		case "organizations.RoleName":
			return "OrganizationAccountAccessRole", true // AWS's default; rampart creates this role and refuses others
		case "organizations.Content":
			if op == "PutResourcePolicy" {
				return orgResourcePolicyDoc(acct), true
			}
			return scpPolicy, true
		case "organizations.ServicePrincipal":
			return "ssm.amazonaws.com", true
		case "organizations.FeatureSet":
			return "ALL", true
		case "organizations.PolicyType":
			switch op {
			case "EnablePolicyType":
				return "TAG_POLICY", true // SCPs are enabled by the setup
			case "DescribeEffectivePolicy", "ListAccountsWithInvalidEffectivePolicy", "ListEffectivePolicyValidationErrors":
				return "TAG_POLICY", true // AWS has no effective SCP
			}
			return "SERVICE_CONTROL_POLICY", true
		case "organizations.Type":
			if op == "CreatePolicy" {
				return "SERVICE_CONTROL_POLICY", true
			}
		case "organizations.Filter":
			if op == "ListPolicies" || op == "ListPoliciesForTarget" {
				return "SERVICE_CONTROL_POLICY", true
			}
		case "sts.Policy":
			return identityPolicy, true
		case "iam.Url":
			return "https://cf-" + salt() + ".example.com", true
		case "iam.ThumbprintList":
			return []any{oidcThumbprint}, true
		case "iam.SAMLMetadataDocument":
			return samlMetadata("https://idp-" + salt() + ".example.com/"), true
		case "iam.CertificateBody":
			return materials().certPEM, true
		case "iam.CertificateChain":
			return materials().chainPEM, true
		case "iam.AddPrivateKey":
			return materials().keyPEM, true
		case "iam.PrivateKey":
			return materials().keyPEM, true
		case "iam.SSHPublicKeyBody":
			return materials().sshPEM, true
		case "iam.AccountAlias":
			return "cf-alias-" + salt(), true
		case "kms.ReplicaRegion", "kms.PrimaryRegion":
			return replicaRegion, true
		case "secretsmanager.Region": // ReplicaRegionType: a Region to replicate a secret to
			return replicaRegion, true
		case "kms.PublicKey":
			return materials().ecdhPub, true
		case "iam.ResourcePolicy":
			return resourcePolicy(acct), true
		}
		switch member {
		case "PolicyDocument":
			if op == "UpdateAssumeRolePolicy" {
				return trustPolicy, true
			}
			return identityPolicy, true
		case "AssumeRolePolicyDocument":
			return trustPolicy, true
		case "PolicyInputList", "PermissionsBoundaryPolicyInputList":
			return []any{identityPolicy}, true
		case "ActionNames":
			return []any{"s3:GetObject"}, true
		case "Description":
			return "conformance", true
		case "Path", "PathPrefix":
			return "/", true
		case "Email":
			return "cf-" + salt() + "@example.com", true
		case "Password", "NewPassword", "OldPassword":
			return "Cf-Passw0rd-" + salt(), true
		}
		return nil, false
	}
}

// omission is a member that the full input of an operation leaves out,
// with why: a full input is every member, each with a value AWS accepts,
// except where AWS does not accept them all together or a member needs
// what no account here can have.
type omission struct {
	svc     string
	members []string
	ops     []string // nil: every operation of svc
	why     string
}

// omissions are the members full inputs leave out, per service.
var omissions = []omission{
	{members: []string{"Marker", "NextToken"}, why: "a pagination token means something only when a previous response handed it out"},
	{svc: "kms", members: []string{"GrantTokens"}, why: "a grant token means something only when CreateGrant handed it out"},
	{svc: "kms", members: []string{"Recipient"}, why: "an attestation document that AWS Nitro Enclaves signed; no enclave runs here (rampart refuses Recipient for the same reason)"},
	{svc: "kms", members: []string{"CustomKeyStoreId", "CustomKeyStoreName", "XksKeyId"}, why: "no custom key store exists: they need a CloudHSM cluster or an external key store proxy"},
	{svc: "kms", members: []string{"XksProxyUriEndpoint", "XksProxyUriPath", "XksProxyVpcEndpointServiceName", "XksProxyVpcEndpointServiceOwner", "XksProxyAuthenticationCredential", "XksProxyConnectivity"}, ops: []string{"CreateCustomKeyStore"},
		why: "the full input's CustomKeyStoreType is AWS_CLOUDHSM, which takes no external key store proxy"},
	{svc: "kms", members: []string{"GranteeServicePrincipal", "RetiringServicePrincipal"}, why: "the alternatives to GranteePrincipal and RetiringPrincipal, which the full input sets (one grantee, one retiring principal)"},
	{svc: "kms", members: []string{"SourceArn"}, ops: []string{"CreateGrant"},
		why: "the SourceArn grant constraint, which goes with grants to AWS service principals (kms:GrantConstraintSourceArn); rampart refuses it (\"does not support the SourceArn grant constraint yet\")"},
	{svc: "kms", members: []string{"EncryptionContextSubset"}, ops: []string{"CreateGrant"},
		why: "the alternative to EncryptionContextEquals in a grant's constraints (\"You can specify only one type of encryption context\", Access Analyzer's KmsGrantConstraints; rampart refuses both)"},
	{svc: "kms", members: []string{"NumberOfBytes"}, ops: []string{"GenerateDataKey", "GenerateDataKeyWithoutPlaintext"}, why: `"use either the KeySpec or NumberOfBytes parameters (but not both)"`},
	{svc: "secretsmanager", members: []string{"SecretBinary"}, why: "the alternative to SecretString: a secret version holds one or the other"},
	{svc: "secretsmanager", members: []string{"Filters", "MaxResults"}, ops: []string{"BatchGetSecretValue"},
		why: `"either SecretIdList or Filters", not both; MaxResults: "To use this parameter, you must also use the Filters parameter"`},
	{svc: "secretsmanager", members: []string{"ScheduleExpression"}, ops: []string{"RotateSecret"}, why: "the alternative to AutomaticallyAfterDays in RotationRules"},
	{svc: "secretsmanager", members: []string{"ExternalSecretRotationMetadata", "ExternalSecretRotationRoleArn"}, ops: []string{"RotateSecret"}, why: "for managed external secrets, rotated by a partner (Salesforce, Snowflake…) that does not run here"},
	{svc: "sts", members: []string{"ProvidedContexts"}, why: "context assertions that a trusted context provider (IAM Identity Center) signed"},
	{svc: "sts", members: []string{"ProviderId"}, why: "for OAuth 2.0 access tokens of www.amazon.com and graph.facebook.com; the full input's token is an OpenID Connect ID token (rampart refuses ProviderId)"},
}

// skipInFull returns the members the full input of svc.op leaves out.
func skipInFull(svc, op string) map[string]bool {
	out := map[string]bool{}
	for _, o := range omissions {
		if (o.svc == "" || o.svc == svc) && (o.ops == nil || slices.Contains(o.ops, op)) {
			for _, m := range o.members {
				out[m] = true
			}
		}
	}
	return out
}
