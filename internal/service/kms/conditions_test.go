package kms_test

import (
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/iam"
	"github.com/aws/aws-sdk-go-v2/service/kms"
	"github.com/aws/aws-sdk-go-v2/service/kms/types"
	sm "github.com/aws/aws-sdk-go-v2/service/secretsmanager"

	"github.com/rampart/rampart/internal/rampartest"
)

// The condition keys below decide through real policies, as in the
// examples of "AWS KMS condition keys" (KMS Developer Guide).

// TestConditionGrantOperations: an IAM policy lets a user create grants
// only for the operations ForAllValues:StringEquals lists.
func TestConditionGrantOperations(t *testing.T) {
	srv, root := start(t)
	_, bobARN := user(t, srv, "bob", "")
	alice, _ := user(t, srv, "alice", `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"kms:CreateGrant","Resource":"*",
	  "Condition":{"ForAllValues:StringEquals":{"kms:GrantOperations":["Encrypt","Decrypt"]}}}]}`)
	k := createKey(t, root, nil) // the default policy delegates to IAM
	for name, tc := range map[string]struct {
		ops   []types.GrantOperation
		allow bool
	}{
		"one listed":             {[]types.GrantOperation{types.GrantOperationEncrypt}, true},
		"both listed":            {[]types.GrantOperation{types.GrantOperationDecrypt, types.GrantOperationEncrypt}, true},
		"one not listed":         {[]types.GrantOperation{types.GrantOperationEncrypt, types.GrantOperationReEncryptFrom}, false},
		"none listed":            {[]types.GrantOperation{types.GrantOperationGenerateDataKey}, false},
		"CreateGrant itself":     {[]types.GrantOperation{types.GrantOperationCreateGrant}, false},
		"listed and RetireGrant": {[]types.GrantOperation{types.GrantOperationDecrypt, types.GrantOperationRetireGrant}, false},
	} {
		t.Run(name, func(t *testing.T) {
			_, err := alice.CreateGrant(ctx, &kms.CreateGrantInput{KeyId: k.KeyId, GranteePrincipal: aws.String(bobARN), Operations: tc.ops})
			if tc.allow {
				if err != nil {
					t.Fatalf("denied: %v", err)
				}
				return
			}
			wantErr(t, err, "AccessDeniedException", 400, "is not authorized to perform: kms:CreateGrant on resource: "+*k.Arn)
		})
	}
}

// TestConditionGrantIsForAWSResource: kms:GrantIsForAWSResource is true
// only when an AWS service creates the grant for its caller; a grant made
// directly through the API carries false.
func TestConditionGrantIsForAWSResource(t *testing.T) {
	srv, root := start(t)
	_, bobARN := user(t, srv, "bob", "")
	policy := func(v string) string {
		return `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"kms:CreateGrant","Resource":"*",
		  "Condition":{"Bool":{"kms:GrantIsForAWSResource":"` + v + `"}}}]}`
	}
	onlyForAWS, _ := user(t, srv, "services-only", policy("true"))
	direct, _ := user(t, srv, "direct", policy("false"))
	k := createKey(t, root, nil)
	in := &kms.CreateGrantInput{KeyId: k.KeyId, GranteePrincipal: aws.String(bobARN), Operations: []types.GrantOperation{types.GrantOperationDecrypt}}
	_, err := onlyForAWS.CreateGrant(ctx, in)
	wantErr(t, err, "AccessDeniedException", 400, "kms:CreateGrant")
	if _, err := direct.CreateGrant(ctx, in); err != nil {
		t.Fatalf("Bool false denied a direct CreateGrant: %v", err)
	}
	// A Deny on the condition key stops what an Allow allows.
	deny, _ := user(t, srv, "deny", `{"Version":"2012-10-17","Statement":[
	  {"Effect":"Allow","Action":"kms:*","Resource":"*"},
	  {"Effect":"Deny","Action":"kms:CreateGrant","Resource":"*","Condition":{"Bool":{"kms:GrantIsForAWSResource":"false"}}}]}`)
	_, err = deny.CreateGrant(ctx, in)
	wantErr(t, err, "AccessDeniedException", 400, "with an explicit deny")
}

// TestConditionSigningAlgorithm: a key policy allows a user to sign and
// verify with RSASSA-PSS only.
func TestConditionSigningAlgorithm(t *testing.T) {
	srv, root := start(t)
	alice, _ := user(t, srv, "alice", "")
	pol := `{"Version":"2012-10-17","Statement":[
	 {"Sid":"admin","Effect":"Allow","Principal":{"AWS":"arn:aws:iam::000000000000:root"},"Action":"kms:*","Resource":"*"},
	 {"Sid":"pss only","Effect":"Allow","Principal":{"AWS":"arn:aws:iam::000000000000:user/alice"},"Action":["kms:Sign","kms:Verify"],"Resource":"*",
	  "Condition":{"StringLike":{"kms:SigningAlgorithm":"RSASSA_PSS_*"}}}]}`
	k := createKey(t, root, &kms.CreateKeyInput{KeySpec: types.KeySpecRsa2048, KeyUsage: types.KeyUsageTypeSignVerify, Policy: aws.String(pol)})
	msg := []byte("signed")
	for _, alg := range []types.SigningAlgorithmSpec{types.SigningAlgorithmSpecRsassaPssSha256, types.SigningAlgorithmSpecRsassaPssSha512} {
		sig, err := alice.Sign(ctx, &kms.SignInput{KeyId: k.KeyId, Message: msg, SigningAlgorithm: alg})
		if err != nil {
			t.Fatalf("%s denied: %v", alg, err)
		}
		if _, err := alice.Verify(ctx, &kms.VerifyInput{KeyId: k.KeyId, Message: msg, Signature: sig.Signature, SigningAlgorithm: alg}); err != nil {
			t.Fatalf("Verify %s: %v", alg, err)
		}
	}
	_, err := alice.Sign(ctx, &kms.SignInput{KeyId: k.KeyId, Message: msg, SigningAlgorithm: types.SigningAlgorithmSpecRsassaPkcs1V15Sha256})
	wantErr(t, err, "AccessDeniedException", 400, "is not authorized to perform: kms:Sign on resource: "+*k.Arn)
	// Root (allowed any algorithm) signs with PKCS #1 v1.5; Alice may not
	// verify that signature with that algorithm.
	sig, err := root.Sign(ctx, &kms.SignInput{KeyId: k.KeyId, Message: msg, SigningAlgorithm: types.SigningAlgorithmSpecRsassaPkcs1V15Sha256})
	if err != nil {
		t.Fatal(err)
	}
	_, err = alice.Verify(ctx, &kms.VerifyInput{KeyId: k.KeyId, Message: msg, Signature: sig.Signature, SigningAlgorithm: types.SigningAlgorithmSpecRsassaPkcs1V15Sha256})
	wantErr(t, err, "AccessDeniedException", 400, "kms:Verify")
}

// TestConditionViaServiceInKeyPolicy: a customer managed key whose policy
// lets a user decrypt (and generate data keys) only through Secrets
// Manager in us-east-1. Secrets Manager reads and writes the user's
// secret under that key; the same user calling kms:Decrypt directly is
// denied, whatever the ciphertext.
func TestConditionViaServiceInKeyPolicy(t *testing.T) {
	srv, root := start(t)
	smPolicy := `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"secretsmanager:*","Resource":"*"}]}`
	alice, aliceSM := smUser(t, srv, "alice", smPolicy)
	_, bobSM := smUser(t, srv, "bob", smPolicy)
	pol := `{"Version":"2012-10-17","Statement":[
	 {"Sid":"admin","Effect":"Allow","Principal":{"AWS":"arn:aws:iam::000000000000:root"},"Action":"kms:*","Resource":"*"},
	 {"Sid":"through Secrets Manager only","Effect":"Allow","Principal":{"AWS":"arn:aws:iam::000000000000:user/alice"},
	  "Action":["kms:Decrypt","kms:GenerateDataKey"],"Resource":"*",
	  "Condition":{"StringEquals":{"kms:ViaService":"secretsmanager.us-east-1.amazonaws.com"}}}]}`
	k := createKey(t, root, &kms.CreateKeyInput{Policy: aws.String(pol)})

	if _, err := aliceSM.CreateSecret(ctx, &sm.CreateSecretInput{Name: aws.String("db"), SecretString: aws.String("s3cr3t"), KmsKeyId: k.Arn}); err != nil {
		t.Fatalf("CreateSecret through Secrets Manager: %v", err)
	}
	v, err := aliceSM.GetSecretValue(ctx, &sm.GetSecretValueInput{SecretId: aws.String("db")})
	if err != nil || aws.ToString(v.SecretString) != "s3cr3t" {
		t.Fatalf("GetSecretValue through Secrets Manager: %v", err)
	}
	// Bob has the same Secrets Manager permissions but no place in the
	// key policy (and no IAM permission for KMS): he cannot read it.
	_, err = bobSM.GetSecretValue(ctx, &sm.GetSecretValueInput{SecretId: aws.String("db")})
	wantErr(t, err, "AccessDeniedException", 400, "Access to KMS is not allowed")

	// Directly, Alice may neither decrypt nor generate data keys.
	ct, err := root.Encrypt(ctx, &kms.EncryptInput{KeyId: k.KeyId, Plaintext: []byte("direct")})
	if err != nil {
		t.Fatal(err)
	}
	_, err = alice.Decrypt(ctx, &kms.DecryptInput{CiphertextBlob: ct.CiphertextBlob})
	wantErr(t, err, "AccessDeniedException", 400, "is not authorized to perform: kms:Decrypt on resource: "+*k.Arn)
	_, err = alice.GenerateDataKey(ctx, &kms.GenerateDataKeyInput{KeyId: k.KeyId, KeySpec: types.DataKeySpecAes256})
	wantErr(t, err, "AccessDeniedException", 400, "kms:GenerateDataKey")
	// The condition is the whole service name: another Region's Secrets
	// Manager does not match (only us-east-1 serves here, so the key
	// policy is changed to name us-west-2 instead).
	other := `{"Version":"2012-10-17","Statement":[
	 {"Sid":"admin","Effect":"Allow","Principal":{"AWS":"arn:aws:iam::000000000000:root"},"Action":"kms:*","Resource":"*"},
	 {"Sid":"elsewhere","Effect":"Allow","Principal":{"AWS":"arn:aws:iam::000000000000:user/alice"},
	  "Action":["kms:Decrypt","kms:GenerateDataKey"],"Resource":"*",
	  "Condition":{"StringEquals":{"kms:ViaService":"secretsmanager.us-west-2.amazonaws.com"}}}]}`
	if _, err := root.PutKeyPolicy(ctx, &kms.PutKeyPolicyInput{KeyId: k.KeyId, Policy: aws.String(other)}); err != nil {
		t.Fatal(err)
	}
	_, err = aliceSM.GetSecretValue(ctx, &sm.GetSecretValueInput{SecretId: aws.String("db")})
	wantErr(t, err, "AccessDeniedException", 400, "Access to KMS is not allowed")
}

// smUser creates an IAM user with the given inline policy and returns a
// KMS client and a Secrets Manager client signing as the user.
func smUser(t *testing.T, srv *rampartest.Server, name, policy string) (*kms.Client, *sm.Client) {
	t.Helper()
	ic := iam.NewFromConfig(srv.Config())
	if _, err := ic.CreateUser(ctx, &iam.CreateUserInput{UserName: aws.String(name)}); err != nil {
		t.Fatalf("CreateUser: %v", err)
	}
	if _, err := ic.PutUserPolicy(ctx, &iam.PutUserPolicyInput{UserName: aws.String(name), PolicyName: aws.String("p"), PolicyDocument: aws.String(policy)}); err != nil {
		t.Fatalf("PutUserPolicy: %v", err)
	}
	ak, err := ic.CreateAccessKey(ctx, &iam.CreateAccessKeyInput{UserName: aws.String(name)})
	if err != nil {
		t.Fatalf("CreateAccessKey: %v", err)
	}
	cfg := srv.ConfigFor(*ak.AccessKey.AccessKeyId, *ak.AccessKey.SecretAccessKey, "")
	return kms.NewFromConfig(cfg), sm.NewFromConfig(cfg)
}
