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
	"time"
)

// Policy documents the fixtures and known values use.
const (
	identityPolicy = `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"s3:GetObject","Resource":"*"}]}`
	trustPolicy    = `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":{"Service":"ec2.amazonaws.com"},"Action":"sts:AssumeRole"}]}`
	scpPolicy      = `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"*","Resource":"*"}]}`
)

func rootTrustPolicy(acct string) string {
	return `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":{"AWS":"arn:aws:iam::` + acct + `:root"},"Action":"sts:AssumeRole"}]}`
}

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
	make        func(c *vctx) (any, error)
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
	{svc: "iam", member: "SerialNumber", ops: []string{"ResyncMFADevice", "DeactivateMFADevice"}, needs: []string{"UserName"}, make: func(c *vctx) (any, error) {
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
	{svc: "iam", member: "SerialNumber", ops: []string{"TagMFADevice", "UntagMFADevice", "ListMFADeviceTags", "GetMFADevice"}, make: func(c *vctx) (any, error) { return mfaDevice(c) }},

	// KMS: the key each operation needs, of the right spec.
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
	{svc: "kms", member: "CiphertextBlob", needs: []string{"KeyId"}, make: func(c *vctx) (any, error) {
		k, err := c.keyID()
		if err != nil {
			return nil, err
		}
		in := obj{"KeyId": k, "Plaintext": []byte("conformance")}
		if ec, ok := c.in["EncryptionContext"]; ok {
			in["EncryptionContext"] = ec
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
	{svc: "kms", member: "GrantId", needs: []string{"KeyId"}, make: func(c *vctx) (any, error) {
		k, err := c.keyID()
		if err != nil {
			return nil, err
		}
		o, err := c.call("kms", "CreateGrant", obj{"KeyId": k, "GranteePrincipal": "arn:aws:iam::" + c.acct.ID + ":root", "Operations": []any{"Decrypt"}})
		return str(o, err, "GrantId")
	}},

	// Secrets Manager.
	{svc: "secretsmanager", member: "SecretId", ops: []string{"RestoreSecret"}, make: func(c *vctx) (any, error) {
		o, err := c.call("secretsmanager", "CreateSecret", obj{"Name": c.name("secret"), "SecretString": "s3cret"})
		arn, err := str(o, err, "ARN")
		if err != nil {
			return nil, err
		}
		_, err = c.call("secretsmanager", "DeleteSecret", obj{"SecretId": arn})
		return arn, err
	}},
	{svc: "secretsmanager", member: "SecretId", make: func(c *vctx) (any, error) {
		o, err := c.call("secretsmanager", "CreateSecret", obj{"Name": c.name("secret"), "SecretString": "s3cret"})
		return str(o, err, "ARN")
	}},

	// STS: the role and keys come from IAM.
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
	{svc: "organizations", member: "HandshakeId", make: func(c *vctx) (any, error) {
		invitee := c.h.freshAccount()
		o, err := c.call("organizations", "InviteAccountToOrganization", obj{"Target": obj{"Id": invitee.ID, "Type": "ACCOUNT"}})
		return str(o, err, "Handshake", "Id")
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
	o, err := c.call("iam", "CreateSAMLProvider", obj{"Name": c.name("saml"), "SAMLMetadataDocument": samlMetadata("https://idp-" + c.h.salt() + ".example.com/")})
	return str(o, err, "SAMLProviderArn")
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
		case "iam.CertificateBody", "iam.CertificateChain":
			return materials().certPEM, true
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

// skipInFull are members the full input leaves out: pagination tokens and
// grant tokens mean something only when a previous response handed them
// out.
var skipInFull = map[string]bool{"Marker": true, "NextToken": true, "GrantTokens": true}
