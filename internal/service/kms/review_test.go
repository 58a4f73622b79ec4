package kms_test

import (
	"maps"
	"slices"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/iam"
	"github.com/aws/aws-sdk-go-v2/service/kms"
	"github.com/aws/aws-sdk-go-v2/service/kms/types"
	sm "github.com/aws/aws-sdk-go-v2/service/secretsmanager"

	"github.com/rampart/rampart/internal/authn"
)

// A grant may allow only operations its key supports ("Grant operations",
// KMS Developer Guide): no Sign, Verify, GetPublicKey, GenerateMac or
// VerifyMac on a symmetric encryption key, no data key (pair) generation on
// asymmetric keys, only the operations of an asymmetric key's usage.
func TestGrantOperationsFollowKeySpec(t *testing.T) {
	srv, root := start(t)
	_, bobARN := user(t, srv, "bob", "")
	keys := map[string]*types.KeyMetadata{
		"symmetric":   createKey(t, root, nil),
		"rsa encrypt": createKey(t, root, &kms.CreateKeyInput{KeySpec: types.KeySpecRsa2048, KeyUsage: types.KeyUsageTypeEncryptDecrypt}),
		"rsa sign":    createKey(t, root, &kms.CreateKeyInput{KeySpec: types.KeySpecRsa2048, KeyUsage: types.KeyUsageTypeSignVerify}),
		"ecc sign":    createKey(t, root, &kms.CreateKeyInput{KeySpec: types.KeySpecEccNistP256, KeyUsage: types.KeyUsageTypeSignVerify}),
		"ecc agree":   createKey(t, root, &kms.CreateKeyInput{KeySpec: types.KeySpecEccNistP256, KeyUsage: types.KeyUsageTypeKeyAgreement}),
		"hmac":        createKey(t, root, &kms.CreateKeyInput{KeySpec: types.KeySpecHmac256, KeyUsage: types.KeyUsageTypeGenerateVerifyMac}),
	}
	allowed := map[string][]types.GrantOperation{
		"symmetric": {types.GrantOperationEncrypt, types.GrantOperationDecrypt, types.GrantOperationGenerateDataKey,
			types.GrantOperationGenerateDataKeyWithoutPlaintext, types.GrantOperationReEncryptFrom, types.GrantOperationReEncryptTo,
			types.GrantOperationGenerateDataKeyPair, types.GrantOperationGenerateDataKeyPairWithoutPlaintext},
		"rsa encrypt": {types.GrantOperationEncrypt, types.GrantOperationDecrypt, types.GrantOperationReEncryptFrom,
			types.GrantOperationReEncryptTo, types.GrantOperationGetPublicKey},
		"rsa sign":  {types.GrantOperationSign, types.GrantOperationVerify, types.GrantOperationGetPublicKey},
		"ecc sign":  {types.GrantOperationSign, types.GrantOperationVerify, types.GrantOperationGetPublicKey},
		"ecc agree": {types.GrantOperationDeriveSharedSecret, types.GrantOperationGetPublicKey},
		"hmac":      {types.GrantOperationGenerateMac, types.GrantOperationVerifyMac},
	}
	common := []types.GrantOperation{types.GrantOperationCreateGrant, types.GrantOperationRetireGrant, types.GrantOperationDescribeKey}
	// The grant operations of the API model rampart serves (the SDK knows
	// newer ones, Encapsulate and Decapsulate, for key specs rampart does
	// not serve).
	var all []types.GrantOperation
	for _, ops := range append(slices.Collect(maps.Values(allowed)), common) {
		for _, op := range ops {
			if !slices.Contains(all, op) {
				all = append(all, op)
			}
		}
	}
	for name, k := range keys {
		ok := append(append([]types.GrantOperation(nil), allowed[name]...), common...)
		for _, op := range all {
			t.Run(name+"/"+string(op), func(t *testing.T) {
				_, err := root.CreateGrant(ctx, &kms.CreateGrantInput{KeyId: k.KeyId, GranteePrincipal: aws.String(bobARN), Operations: []types.GrantOperation{op, types.GrantOperationDescribeKey}})
				if slices.Contains(ok, op) {
					if err != nil {
						t.Fatalf("refused: %v", err)
					}
					return
				}
				wantErr(t, err, "ValidationException", 400, "Grant operation "+string(op)+" is not valid for a key whose key spec is "+string(k.KeySpec))
			})
		}
	}
}

// Encryption-context grant constraints are refused on asymmetric and HMAC
// keys, whose operations take no encryption context (CreateGrant,
// Constraints), and accepted on symmetric encryption keys.
func TestGrantContextConstraintsOnSymmetricKeysOnly(t *testing.T) {
	srv, root := start(t)
	_, bobARN := user(t, srv, "bob", "")
	eq := &types.GrantConstraints{EncryptionContextEquals: map[string]string{"a": "b"}}
	sub := &types.GrantConstraints{EncryptionContextSubset: map[string]string{"a": "b"}}
	rsa := createKey(t, root, &kms.CreateKeyInput{KeySpec: types.KeySpecRsa3072, KeyUsage: types.KeyUsageTypeEncryptDecrypt})
	hmac := createKey(t, root, &kms.CreateKeyInput{KeySpec: types.KeySpecHmac512, KeyUsage: types.KeyUsageTypeGenerateVerifyMac})
	sign := createKey(t, root, &kms.CreateKeyInput{KeySpec: types.KeySpecEccNistP384, KeyUsage: types.KeyUsageTypeSignVerify})
	for name, in := range map[string]kms.CreateGrantInput{
		"rsa encrypt, equals":   {KeyId: rsa.KeyId, Operations: []types.GrantOperation{types.GrantOperationEncrypt, types.GrantOperationDecrypt}, Constraints: eq},
		"rsa encrypt, subset":   {KeyId: rsa.KeyId, Operations: []types.GrantOperation{types.GrantOperationDecrypt}, Constraints: sub},
		"hmac, subset":          {KeyId: hmac.KeyId, Operations: []types.GrantOperation{types.GrantOperationGenerateMac}, Constraints: sub},
		"ecc sign, DescribeKey": {KeyId: sign.KeyId, Operations: []types.GrantOperation{types.GrantOperationDescribeKey}, Constraints: eq},
	} {
		t.Run(name, func(t *testing.T) {
			in.GranteePrincipal = aws.String(bobARN)
			_, err := root.CreateGrant(ctx, &in)
			wantErr(t, err, "ValidationException", 400, "Encryption context grant constraints are not supported on a key whose key spec is ")
			list, err := root.ListGrants(ctx, &kms.ListGrantsInput{KeyId: in.KeyId})
			if err != nil || len(list.Grants) != 0 {
				t.Fatalf("grants after a refusal: %v %v", list, err)
			}
		})
	}
	sym := createKey(t, root, nil)
	if _, err := root.CreateGrant(ctx, &kms.CreateGrantInput{KeyId: sym.KeyId, GranteePrincipal: aws.String(bobARN), Operations: []types.GrantOperation{types.GrantOperationEncrypt}, Constraints: sub}); err != nil {
		t.Fatalf("constraint on a symmetric key: %v", err)
	}
}

// In a grant constraint "the key in each key-value pair is not case
// sensitive, but the value is case sensitive" (GrantConstraints, KMS API
// reference), for EncryptionContextEquals as for EncryptionContextSubset.
func TestGrantConstraintKeysIgnoreCase(t *testing.T) {
	srv, root := start(t)
	bob, bobARN := user(t, srv, "bob", "") // no IAM policy: only the grants allow
	carol, carolARN := user(t, srv, "carol", "")
	k := createKey(t, root, nil)
	grant := func(grantee string, c *types.GrantConstraints) {
		t.Helper()
		if _, err := root.CreateGrant(ctx, &kms.CreateGrantInput{KeyId: k.KeyId, GranteePrincipal: aws.String(grantee), Operations: []types.GrantOperation{types.GrantOperationEncrypt}, Constraints: c}); err != nil {
			t.Fatal(err)
		}
	}
	grant(bobARN, &types.GrantConstraints{EncryptionContextEquals: map[string]string{"Department": "IT", "Project": "Apollo"}})
	grant(carolARN, &types.GrantConstraints{EncryptionContextSubset: map[string]string{"Department": "IT"}})
	for name, tc := range map[string]struct {
		c     *kms.Client
		ec    map[string]string
		allow bool
	}{
		"equals, same case":              {bob, map[string]string{"Department": "IT", "Project": "Apollo"}, true},
		"equals, keys in another case":   {bob, map[string]string{"department": "IT", "PROJECT": "Apollo"}, true},
		"equals, value in another case":  {bob, map[string]string{"department": "it", "project": "Apollo"}, false},
		"equals, a pair more":            {bob, map[string]string{"department": "IT", "project": "Apollo", "x": "y"}, false},
		"equals, a pair less":            {bob, map[string]string{"department": "IT"}, false},
		"equals, keys differing by case": {bob, map[string]string{"department": "IT", "DEPARTMENT": "IT"}, false},
		"subset, same case":              {carol, map[string]string{"Department": "IT"}, true},
		"subset, key in another case":    {carol, map[string]string{"dePARTment": "IT", "x": "y"}, true},
		"subset, value in another case":  {carol, map[string]string{"department": "It"}, false},
		"subset, missing":                {carol, map[string]string{"x": "IT"}, false},
	} {
		t.Run(name, func(t *testing.T) {
			_, err := tc.c.Encrypt(ctx, &kms.EncryptInput{KeyId: k.KeyId, Plaintext: []byte("x"), EncryptionContext: tc.ec})
			if tc.allow {
				if err != nil {
					t.Fatalf("denied: %v", err)
				}
				return
			}
			wantErr(t, err, "AccessDeniedException", 400, "kms:Encrypt")
		})
	}
}

// A key policy may name only principals that exist: an IAM user or role,
// or an account, that does not exist makes CreateKey, PutKeyPolicy and
// ReplicateKey answer MalformedPolicyDocumentException "Policy contains a
// statement with one or more invalid principals.", and changes nothing.
func TestKeyPolicyPrincipalsMustExist(t *testing.T) {
	srv, root := start(t)
	_, aliceARN := user(t, srv, "alice", "")
	ic := iam.NewFromConfig(srv.Config())
	r, err := ic.CreateRole(ctx, &iam.CreateRoleInput{RoleName: aws.String("app"), Path: aws.String("/team/"),
		AssumeRolePolicyDocument: aws.String(`{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":{"Service":"ec2.amazonaws.com"},"Action":"sts:AssumeRole"}]}`)})
	if err != nil {
		t.Fatal(err)
	}
	roleARN := *r.Role.Arn
	const other = "111111111111"
	if _, err := authn.EnsureAccount(ctx, srv.Store, srv.Barrier, authn.Account{ID: other, Name: other}, "otherroot", "othersecret"); err != nil {
		t.Fatal(err)
	}
	// The account's root stays allowed, so that the lockout check passes.
	policy := func(pr string) string {
		return `{"Version":"2012-10-17","Statement":[` +
			`{"Sid":"admin","Effect":"Allow","Principal":{"AWS":"arn:aws:iam::000000000000:root"},"Action":"kms:*","Resource":"*"},` +
			`{"Sid":"use","Effect":"Allow","Principal":` + pr + `,"Action":"kms:Encrypt","Resource":"*"}]}`
	}
	k := createKey(t, root, nil)
	before, err := root.GetKeyPolicy(ctx, &kms.GetKeyPolicyInput{KeyId: k.KeyId})
	if err != nil {
		t.Fatal(err)
	}
	for name, tc := range map[string]struct {
		principal string
		ok        bool
	}{
		"existing user":              {`{"AWS":"` + aliceARN + `"}`, true},
		"existing role with path":    {`{"AWS":"` + roleARN + `"}`, true},
		"users and roles":            {`{"AWS":["` + aliceARN + `","` + roleARN + `"]}`, true},
		"another rampart account":    {`{"AWS":"arn:aws:iam::` + other + `:root"}`, true},
		"account id":                 {`{"AWS":"` + other + `"}`, true},
		"everyone":                   {`{"AWS":"*"}`, true},
		"everyone, plain":            {`"*"`, true},
		"service":                    {`{"Service":"logs.amazonaws.com"}`, true},
		"role session":               {`{"AWS":"arn:aws:sts::000000000000:assumed-role/app/s1"}`, true},
		"missing user":               {`{"AWS":"arn:aws:iam::000000000000:user/nobody"}`, false},
		"missing among existing":     {`{"AWS":["` + aliceARN + `","arn:aws:iam::000000000000:user/nobody"]}`, false},
		"missing role":               {`{"AWS":"arn:aws:iam::000000000000:role/nothing"}`, false},
		"role without its path":      {`{"AWS":"arn:aws:iam::000000000000:role/app"}`, false},
		"user of another account":    {`{"AWS":"arn:aws:iam::` + other + `:user/alice"}`, false},
		"missing account root":       {`{"AWS":"arn:aws:iam::222222222222:root"}`, false},
		"missing account id":         {`{"AWS":"222222222222"}`, false},
		"session of missing account": {`{"AWS":"arn:aws:sts::222222222222:assumed-role/app/s1"}`, false},
		"group":                      {`{"AWS":"arn:aws:iam::000000000000:group/admins"}`, false},
		"wildcard in an ARN":         {`{"AWS":"arn:aws:iam::000000000000:user/*"}`, false},
	} {
		t.Run(name, func(t *testing.T) {
			doc := policy(tc.principal)
			_, cerr := root.CreateKey(ctx, &kms.CreateKeyInput{Policy: aws.String(doc)})
			_, perr := root.PutKeyPolicy(ctx, &kms.PutKeyPolicyInput{KeyId: k.KeyId, Policy: aws.String(doc)})
			if tc.ok {
				if cerr != nil || perr != nil {
					t.Fatalf("refused: CreateKey %v, PutKeyPolicy %v", cerr, perr)
				}
				return
			}
			const msg = "Policy contains a statement with one or more invalid principals."
			wantErr(t, cerr, "MalformedPolicyDocumentException", 400, msg)
			wantErr(t, perr, "MalformedPolicyDocumentException", 400, msg)
			// NotPrincipal and the bypass of the lockout check change nothing.
			notDoc := `{"Version":"2012-10-17","Statement":[{"Effect":"Deny","NotPrincipal":` + tc.principal + `,"Action":"kms:Decrypt","Resource":"*"},` +
				`{"Effect":"Allow","Principal":{"AWS":"arn:aws:iam::000000000000:root"},"Action":"kms:*","Resource":"*"}]}`
			_, err := root.PutKeyPolicy(ctx, &kms.PutKeyPolicyInput{KeyId: k.KeyId, Policy: aws.String(notDoc), BypassPolicyLockoutSafetyCheck: true})
			wantErr(t, err, "MalformedPolicyDocumentException", 400, msg)
		})
	}
	// Restore, then check that a refused policy changes nothing.
	if _, err := root.PutKeyPolicy(ctx, &kms.PutKeyPolicyInput{KeyId: k.KeyId, Policy: before.Policy}); err != nil {
		t.Fatal(err)
	}
	_, err = root.PutKeyPolicy(ctx, &kms.PutKeyPolicyInput{KeyId: k.KeyId, Policy: aws.String(policy(`{"AWS":"arn:aws:iam::000000000000:user/nobody"}`))})
	wantErr(t, err, "MalformedPolicyDocumentException", 400, "invalid principals")
	if after, _ := root.GetKeyPolicy(ctx, &kms.GetKeyPolicyInput{KeyId: k.KeyId}); *after.Policy != *before.Policy {
		t.Fatal("a refused PutKeyPolicy changed the policy")
	}

	// A user deleted since cannot be named any more.
	if _, err := ic.CreateUser(ctx, &iam.CreateUserInput{UserName: aws.String("temp")}); err != nil {
		t.Fatal(err)
	}
	if _, err := ic.DeleteUser(ctx, &iam.DeleteUserInput{UserName: aws.String("temp")}); err != nil {
		t.Fatal(err)
	}
	_, err = root.CreateKey(ctx, &kms.CreateKeyInput{Policy: aws.String(policy(`{"AWS":"arn:aws:iam::000000000000:user/temp"}`))})
	wantErr(t, err, "MalformedPolicyDocumentException", 400, "invalid principals")

	// ReplicateKey's policy too; the replica is not created.
	mrk := createKey(t, root, &kms.CreateKeyInput{MultiRegion: aws.Bool(true)})
	_, err = root.ReplicateKey(ctx, &kms.ReplicateKeyInput{KeyId: mrk.KeyId, ReplicaRegion: aws.String("eu-west-1"), Policy: aws.String(policy(`{"AWS":"arn:aws:iam::000000000000:role/nothing"}`))})
	wantErr(t, err, "MalformedPolicyDocumentException", 400, "invalid principals")
	west := kms.NewFromConfig(srv.Config(), func(o *kms.Options) { o.Region = "eu-west-1" })
	_, err = west.DescribeKey(ctx, &kms.DescribeKeyInput{KeyId: mrk.KeyId})
	wantErr(t, err, "NotFoundException", 400, "")
}

// DescribeKey on a predefined AWS alias creates the AWS managed key and
// associates the alias with it (DescribeKey API reference), once; other
// operations and other accounts' aliases do not create it, and an unknown
// alias/aws/ name is not found.
func TestDescribePredefinedAlias(t *testing.T) {
	srv, root := start(t)
	_, err := root.Encrypt(ctx, &kms.EncryptInput{KeyId: aws.String("alias/aws/ebs"), Plaintext: []byte("x")})
	wantErr(t, err, "NotFoundException", 400, "Alias arn:aws:kms:us-east-1:000000000000:alias/aws/ebs is not found.")

	d, err := root.DescribeKey(ctx, &kms.DescribeKeyInput{KeyId: aws.String("alias/aws/ebs")})
	if err != nil {
		t.Fatal(err)
	}
	m := d.KeyMetadata
	if m.KeyManager != types.KeyManagerTypeAws || m.KeySpec != types.KeySpecSymmetricDefault || m.KeyState != types.KeyStateEnabled || *m.AWSAccountId != "000000000000" {
		t.Fatalf("managed key: %+v", m)
	}
	again, err := root.DescribeKey(ctx, &kms.DescribeKeyInput{KeyId: aws.String("arn:aws:kms:us-east-1:000000000000:alias/aws/ebs")})
	if err != nil || *again.KeyMetadata.KeyId != *m.KeyId {
		t.Fatalf("second DescribeKey: %v %v", again, err)
	}
	aliases, err := root.ListAliases(ctx, &kms.ListAliasesInput{KeyId: m.KeyId})
	if err != nil || len(aliases.Aliases) != 1 || *aliases.Aliases[0].AliasName != "alias/aws/ebs" || *aliases.Aliases[0].TargetKeyId != *m.KeyId {
		t.Fatalf("ListAliases: %+v %v", aliases, err)
	}
	pol, err := root.GetKeyPolicy(ctx, &kms.GetKeyPolicyInput{KeyId: m.KeyId})
	if err != nil || !contains(*pol.Policy, `"kms:ViaService" : "ec2.us-east-1.amazonaws.com"`) {
		t.Fatalf("managed key policy: %v %v", pol, err)
	}
	// Now it exists, other operations find it (and its policy decides).
	_, err = root.Encrypt(ctx, &kms.EncryptInput{KeyId: aws.String("alias/aws/ebs"), Plaintext: []byte("x")})
	wantErr(t, err, "AccessDeniedException", 400, "kms:Encrypt")

	for name, id := range map[string]string{
		"unknown service": "alias/aws/nothing",
		"customer alias":  "alias/mine",
		"another account": "arn:aws:kms:us-east-1:111111111111:alias/aws/s3",
		"another Region":  "arn:aws:kms:eu-west-1:000000000000:alias/aws/s3",
	} {
		t.Run(name, func(t *testing.T) {
			_, err := root.DescribeKey(ctx, &kms.DescribeKeyInput{KeyId: aws.String(id)})
			wantErr(t, err, "NotFoundException", 400, "is not found.")
		})
	}
	keys, err := root.ListKeys(ctx, &kms.ListKeysInput{})
	if err != nil || len(keys.Keys) != 1 {
		t.Fatalf("ListKeys: %+v %v; want the one managed key", keys, err)
	}

	// Authorization as for any key: a user without kms:DescribeKey is
	// refused, one allowed by IAM is answered (the managed key's policy
	// delegates kms:Describe* to the account).
	nobody, _ := user(t, srv, "nobody", "")
	_, err = nobody.DescribeKey(ctx, &kms.DescribeKeyInput{KeyId: aws.String("alias/aws/ebs")})
	wantErr(t, err, "AccessDeniedException", 400, "kms:DescribeKey")
	reader, _ := user(t, srv, "reader", `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"kms:DescribeKey","Resource":"*"}]}`)
	if d, err := reader.DescribeKey(ctx, &kms.DescribeKeyInput{KeyId: aws.String("alias/aws/ebs")}); err != nil || *d.KeyMetadata.KeyId != *m.KeyId {
		t.Fatalf("DescribeKey allowed by IAM: %v", err)
	}

	// The key DescribeKey creates for alias/aws/secretsmanager is the one
	// Secrets Manager then uses.
	smk, err := root.DescribeKey(ctx, &kms.DescribeKeyInput{KeyId: aws.String("alias/aws/secretsmanager")})
	if err != nil {
		t.Fatal(err)
	}
	smc := sm.NewFromConfig(srv.Config())
	if _, err := smc.CreateSecret(ctx, &sm.CreateSecretInput{Name: aws.String("s"), SecretString: aws.String("v")}); err != nil {
		t.Fatal(err)
	}
	ds, err := smc.DescribeSecret(ctx, &sm.DescribeSecretInput{SecretId: aws.String("s")})
	if err != nil {
		t.Fatal(err)
	}
	if u := lastUsage(t, root, *smk.KeyMetadata.KeyId).KeyLastUsage; u == nil {
		t.Fatalf("Secrets Manager did not use the managed key DescribeKey created (secret: %+v)", ds)
	}
}
