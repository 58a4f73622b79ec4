package kms_test

import (
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/iam"
	"github.com/aws/aws-sdk-go-v2/service/kms"
	"github.com/aws/aws-sdk-go-v2/service/kms/types"

	"github.com/rampart/rampart/internal/rampartest"
)

// user creates an IAM user with the given inline policy ("" for none) and
// returns a KMS client signing as the user and the user's ARN.
func user(t *testing.T, srv *rampartest.Server, name, policy string) (*kms.Client, string) {
	t.Helper()
	ic := iam.NewFromConfig(srv.Config())
	u, err := ic.CreateUser(ctx, &iam.CreateUserInput{UserName: aws.String(name)})
	if err != nil {
		t.Fatalf("CreateUser: %v", err)
	}
	if policy != "" {
		if _, err := ic.PutUserPolicy(ctx, &iam.PutUserPolicyInput{UserName: aws.String(name), PolicyName: aws.String("p"), PolicyDocument: aws.String(policy)}); err != nil {
			t.Fatalf("PutUserPolicy: %v", err)
		}
	}
	ak, err := ic.CreateAccessKey(ctx, &iam.CreateAccessKeyInput{UserName: aws.String(name)})
	if err != nil {
		t.Fatalf("CreateAccessKey: %v", err)
	}
	return kms.NewFromConfig(srv.ConfigFor(*ak.AccessKey.AccessKeyId, *ak.AccessKey.SecretAccessKey, "")), *u.User.Arn
}

const allowKMS = `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"kms:*","Resource":"*"}]}`

func keyPolicyFor(principal string) string {
	return `{"Version":"2012-10-17","Statement":[{"Sid":"only","Effect":"Allow","Principal":{"AWS":"` + principal + `"},"Action":"kms:*","Resource":"*"}]}`
}

func TestKeyPolicyDecides(t *testing.T) {
	srv, root := start(t)
	alice, aliceARN := user(t, srv, "alice", allowKMS)
	bob, bobARN := user(t, srv, "bob", "")
	_ = bobARN
	delegating := createKey(t, root, nil) // default policy: the account delegates to IAM
	aliceOnly := createKey(t, root, &kms.CreateKeyInput{Policy: aws.String(keyPolicyFor(aliceARN)), BypassPolicyLockoutSafetyCheck: true})
	bobOnly := createKey(t, root, &kms.CreateKeyInput{Policy: aws.String(keyPolicyFor(bobARN)), BypassPolicyLockoutSafetyCheck: true})

	for name, tc := range map[string]struct {
		c     *kms.Client
		key   *types.KeyMetadata
		allow bool
	}{
		"IAM allows, key policy delegates":         {alice, delegating, true},
		"no IAM policy, key policy delegates":      {bob, delegating, false},
		"key policy names the user":                {alice, aliceOnly, true},
		"key policy names the user, no IAM policy": {bob, bobOnly, true},
		"IAM allows, key policy names another":     {alice, bobOnly, false},
	} {
		t.Run(name, func(t *testing.T) {
			_, err := tc.c.Encrypt(ctx, &kms.EncryptInput{KeyId: tc.key.KeyId, Plaintext: []byte("x")})
			if tc.allow {
				if err != nil {
					t.Fatalf("denied: %v", err)
				}
				return
			}
			wantErr(t, err, "AccessDeniedException", 400, "is not authorized to perform: kms:Encrypt on resource: "+*tc.key.Arn)
		})
	}
	// The root user of the account is not exempt from a key policy that
	// names someone else.
	_, err := root.Encrypt(ctx, &kms.EncryptInput{KeyId: bobOnly.KeyId, Plaintext: []byte("x")})
	wantErr(t, err, "AccessDeniedException", 400, "kms:Encrypt")
}

func TestKeyPolicyConditions(t *testing.T) {
	srv, root := start(t)
	_, aliceARN := user(t, srv, "alice", "")
	alice, _ := user(t, srv, "alice2", "")
	_ = aliceARN
	pol := `{"Version":"2012-10-17","Statement":[
	 {"Sid":"admin","Effect":"Allow","Principal":{"AWS":"arn:aws:iam::000000000000:root"},"Action":"kms:*","Resource":"*"},
	 {"Sid":"use","Effect":"Allow","Principal":{"AWS":"arn:aws:iam::000000000000:user/alice2"},"Action":["kms:Encrypt","kms:Decrypt"],"Resource":"*",
	  "Condition":{"StringEquals":{"kms:EncryptionContext:tenant":"blue"}}}]}`
	k := createKey(t, root, &kms.CreateKeyInput{Policy: aws.String(pol)})
	if _, err := alice.Encrypt(ctx, &kms.EncryptInput{KeyId: k.KeyId, Plaintext: []byte("x"), EncryptionContext: map[string]string{"tenant": "blue"}}); err != nil {
		t.Fatalf("matching context denied: %v", err)
	}
	_, err := alice.Encrypt(ctx, &kms.EncryptInput{KeyId: k.KeyId, Plaintext: []byte("x"), EncryptionContext: map[string]string{"tenant": "red"}})
	wantErr(t, err, "AccessDeniedException", 400, "kms:Encrypt")
	_, err = alice.Encrypt(ctx, &kms.EncryptInput{KeyId: k.KeyId, Plaintext: []byte("x")})
	wantErr(t, err, "AccessDeniedException", 400, "kms:Encrypt")
}

func TestKeyPolicyOperationsAndLockoutCheck(t *testing.T) {
	srv, root := start(t)
	_, aliceARN := user(t, srv, "alice", "")
	k := createKey(t, root, nil)
	got, err := root.GetKeyPolicy(ctx, &kms.GetKeyPolicyInput{KeyId: k.KeyId})
	if err != nil || *got.PolicyName != "default" || !contains(*got.Policy, `"AWS" : "arn:aws:iam::000000000000:root"`) {
		t.Fatalf("default key policy: %v %v", got, err)
	}
	names, err := root.ListKeyPolicies(ctx, &kms.ListKeyPoliciesInput{KeyId: k.KeyId})
	if err != nil || len(names.PolicyNames) != 1 || names.PolicyNames[0] != "default" {
		t.Fatalf("ListKeyPolicies: %v %v", names, err)
	}
	_, err = root.GetKeyPolicy(ctx, &kms.GetKeyPolicyInput{KeyId: k.KeyId, PolicyName: aws.String("other")})
	wantErr(t, err, "NotFoundException", 400, "")
	// A policy that would lock the caller out is refused, and changes nothing.
	_, err = root.PutKeyPolicy(ctx, &kms.PutKeyPolicyInput{KeyId: k.KeyId, Policy: aws.String(keyPolicyFor(aliceARN))})
	wantErr(t, err, "MalformedPolicyDocumentException", 400, "The new key policy will not allow you to update the key policy in the future.")
	_, err = root.CreateKey(ctx, &kms.CreateKeyInput{Policy: aws.String(keyPolicyFor(aliceARN))})
	wantErr(t, err, "MalformedPolicyDocumentException", 400, "will not allow you to update the key policy")
	_, err = root.PutKeyPolicy(ctx, &kms.PutKeyPolicyInput{KeyId: k.KeyId, Policy: aws.String(`{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"kms:*"}]}`)})
	wantErr(t, err, "MalformedPolicyDocumentException", 400, "")
	again, _ := root.GetKeyPolicy(ctx, &kms.GetKeyPolicyInput{KeyId: k.KeyId})
	if *again.Policy != *got.Policy {
		t.Fatal("a refused PutKeyPolicy changed the policy")
	}
	// With the bypass it is accepted, and takes effect at once.
	if _, err := root.PutKeyPolicy(ctx, &kms.PutKeyPolicyInput{KeyId: k.KeyId, Policy: aws.String(keyPolicyFor(aliceARN)), BypassPolicyLockoutSafetyCheck: true}); err != nil {
		t.Fatal(err)
	}
	_, err = root.Encrypt(ctx, &kms.EncryptInput{KeyId: k.KeyId, Plaintext: []byte("x")})
	wantErr(t, err, "AccessDeniedException", 400, "kms:Encrypt")
}

func TestGrants(t *testing.T) {
	srv, root := start(t)
	bob, bobARN := user(t, srv, "bob", "") // no IAM policy at all
	carol, carolARN := user(t, srv, "carol", "")
	k := createKey(t, root, nil)
	enc := func(c *kms.Client, ec map[string]string) error {
		_, err := c.Encrypt(ctx, &kms.EncryptInput{KeyId: k.KeyId, Plaintext: []byte("x"), EncryptionContext: ec})
		return err
	}
	wantErr(t, enc(bob, nil), "AccessDeniedException", 400, "kms:Encrypt")

	g, err := root.CreateGrant(ctx, &kms.CreateGrantInput{KeyId: k.KeyId, GranteePrincipal: aws.String(bobARN), RetiringPrincipal: aws.String(carolARN),
		Operations:  []types.GrantOperation{types.GrantOperationEncrypt, types.GrantOperationDecrypt},
		Constraints: &types.GrantConstraints{EncryptionContextSubset: map[string]string{"app": "billing"}}, Name: aws.String("billing")})
	if err != nil {
		t.Fatal(err)
	}
	if len(*g.GrantId) != 64 || *g.GrantToken == "" {
		t.Fatalf("CreateGrant: %+v", g)
	}
	// Effective at once, within its constraints, for its operations only.
	if err := enc(bob, map[string]string{"app": "billing", "x": "y"}); err != nil {
		t.Fatalf("grant does not allow Encrypt: %v", err)
	}
	wantErr(t, enc(bob, map[string]string{"app": "other"}), "AccessDeniedException", 400, "kms:Encrypt")
	wantErr(t, enc(bob, nil), "AccessDeniedException", 400, "kms:Encrypt")
	_, err = bob.GenerateDataKey(ctx, &kms.GenerateDataKeyInput{KeyId: k.KeyId, KeySpec: types.DataKeySpecAes256, EncryptionContext: map[string]string{"app": "billing"}})
	wantErr(t, err, "AccessDeniedException", 400, "kms:GenerateDataKey")
	wantErr(t, enc(carol, map[string]string{"app": "billing"}), "AccessDeniedException", 400, "kms:Encrypt")
	// Grant tokens that rampart issued are accepted.
	if _, err := bob.Encrypt(ctx, &kms.EncryptInput{KeyId: k.KeyId, Plaintext: []byte("x"), EncryptionContext: map[string]string{"app": "billing"}, GrantTokens: []string{*g.GrantToken}}); err != nil {
		t.Fatalf("with grant token: %v", err)
	}

	list, err := root.ListGrants(ctx, &kms.ListGrantsInput{KeyId: k.KeyId})
	if err != nil || len(list.Grants) != 1 || *list.Grants[0].GranteePrincipal != bobARN || *list.Grants[0].Name != "billing" ||
		list.Grants[0].Constraints.EncryptionContextSubset["app"] != "billing" {
		t.Fatalf("ListGrants: %+v (%v)", list, err)
	}
	ret, err := carol.ListRetirableGrants(ctx, &kms.ListRetirableGrantsInput{RetiringPrincipal: aws.String(carolARN)})
	if err == nil {
		t.Fatalf("carol has no kms:ListRetirableGrants permission, yet listed %d grants", len(ret.Grants))
	}
	ret, err = root.ListRetirableGrants(ctx, &kms.ListRetirableGrantsInput{RetiringPrincipal: aws.String(carolARN)})
	if err != nil || len(ret.Grants) != 1 || *ret.Grants[0].GrantId != *g.GrantId || *ret.Grants[0].KeyId != *k.Arn {
		t.Fatalf("ListRetirableGrants: %+v (%v)", ret, err)
	}

	// Bob may not retire it (no RetireGrant operation, not the retiring
	// principal); Carol may, with the token alone.
	_, err = bob.RetireGrant(ctx, &kms.RetireGrantInput{GrantToken: g.GrantToken})
	wantErr(t, err, "AccessDeniedException", 400, "kms:RetireGrant")
	_, err = carol.RetireGrant(ctx, &kms.RetireGrantInput{GrantToken: aws.String(*g.GrantToken + "x")})
	wantErr(t, err, "InvalidGrantTokenException", 400, "")
	if _, err := carol.RetireGrant(ctx, &kms.RetireGrantInput{GrantToken: g.GrantToken}); err != nil {
		t.Fatalf("retiring principal cannot retire: %v", err)
	}
	wantErr(t, enc(bob, map[string]string{"app": "billing"}), "AccessDeniedException", 400, "kms:Encrypt")

	// RevokeGrant by the key's administrator.
	g2, err := root.CreateGrant(ctx, &kms.CreateGrantInput{KeyId: k.KeyId, GranteePrincipal: aws.String(bobARN), Operations: []types.GrantOperation{types.GrantOperationGenerateDataKey}})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := bob.GenerateDataKey(ctx, &kms.GenerateDataKeyInput{KeyId: k.KeyId, KeySpec: types.DataKeySpecAes256}); err != nil {
		t.Fatalf("second grant: %v", err)
	}
	_, err = bob.RevokeGrant(ctx, &kms.RevokeGrantInput{KeyId: k.KeyId, GrantId: g2.GrantId})
	wantErr(t, err, "AccessDeniedException", 400, "kms:RevokeGrant")
	if _, err := root.RevokeGrant(ctx, &kms.RevokeGrantInput{KeyId: k.KeyId, GrantId: g2.GrantId}); err != nil {
		t.Fatal(err)
	}
	_, err = bob.GenerateDataKey(ctx, &kms.GenerateDataKeyInput{KeyId: k.KeyId, KeySpec: types.DataKeySpecAes256})
	wantErr(t, err, "AccessDeniedException", 400, "kms:GenerateDataKey")
	_, err = root.RevokeGrant(ctx, &kms.RevokeGrantInput{KeyId: k.KeyId, GrantId: g2.GrantId})
	wantErr(t, err, "NotFoundException", 400, "")
	_, err = root.RevokeGrant(ctx, &kms.RevokeGrantInput{KeyId: k.KeyId, GrantId: aws.String("nope")})
	wantErr(t, err, "InvalidGrantIdException", 400, "")

	// Bad grants.
	for name, in := range map[string]kms.CreateGrantInput{
		"sign on encryption key":    {KeyId: k.KeyId, GranteePrincipal: aws.String(bobARN), Operations: []types.GrantOperation{types.GrantOperationSign}},
		"constraint on DescribeKey": {KeyId: k.KeyId, GranteePrincipal: aws.String(bobARN), Operations: []types.GrantOperation{types.GrantOperationDescribeKey}, Constraints: &types.GrantConstraints{EncryptionContextEquals: map[string]string{"a": "b"}}},
		"grantee not an ARN":        {KeyId: k.KeyId, GranteePrincipal: aws.String("bob"), Operations: []types.GrantOperation{types.GrantOperationEncrypt}},
	} {
		t.Run(name, func(t *testing.T) {
			_, err := root.CreateGrant(ctx, &in)
			wantErr(t, err, "ValidationException", 400, "")
		})
	}
	after, _ := root.ListGrants(ctx, &kms.ListGrantsInput{KeyId: k.KeyId})
	if len(after.Grants) != 0 {
		t.Fatalf("%d grants left", len(after.Grants))
	}
}

func contains(s, sub string) bool {
	for i := 0; i+len(sub) <= len(s); i++ {
		if s[i:i+len(sub)] == sub {
			return true
		}
	}
	return false
}
