package kms_test

import (
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/kms"
	"github.com/aws/aws-sdk-go-v2/service/kms/types"
)

// The hot path (a rule hands the key it resolved to its Context step and
// handler; the condition keys that follow from the key are built once
// per cache entry) decides as AWS documents every condition key, and
// follows each change to the key at once.
func TestConditionKeysOnTheHotPath(t *testing.T) {
	srv, root := start(t)
	k := createKey(t, root, nil) // default policy: the account delegates to IAM
	for _, a := range []string{"alias/hot", "alias/blocked"} {
		if _, err := root.CreateAlias(ctx, &kms.CreateAliasInput{AliasName: aws.String(a), TargetKeyId: k.KeyId}); err != nil {
			t.Fatal(err)
		}
	}
	carol, _ := user(t, srv, "carol", `{"Version":"2012-10-17","Statement":[
	  {"Effect":"Allow","Action":["kms:Encrypt","kms:GenerateDataKey","kms:Decrypt"],"Resource":"*","Condition":{
	    "StringEquals":{"kms:CallerAccount":"`+srv.Account+`","kms:KeySpec":"SYMMETRIC_DEFAULT","kms:CustomerMasterKeySpec":"SYMMETRIC_DEFAULT",
	      "kms:KeyUsage":"ENCRYPT_DECRYPT","kms:KeyOrigin":"AWS_KMS","kms:MultiRegion":"false","kms:EncryptionAlgorithm":"SYMMETRIC_DEFAULT",
	      "kms:EncryptionContext:Tenant":"blue"},
	    "ForAllValues:StringEquals":{"kms:EncryptionContextKeys":["Tenant","Purpose"]},
	    "ForAnyValue:StringEquals":{"kms:ResourceAliases":"alias/hot"}}},
	  {"Effect":"Deny","Action":"kms:Encrypt","Resource":"*","Condition":{"StringEquals":{"kms:RequestAlias":"alias/blocked"}}}]}`)

	blue := map[string]string{"Tenant": "blue", "Purpose": "test"}
	encrypt := func(keyID string, ec map[string]string) (*kms.EncryptOutput, error) {
		return carol.Encrypt(ctx, &kms.EncryptInput{KeyId: aws.String(keyID), Plaintext: []byte("hot"), EncryptionContext: ec})
	}
	for name, tc := range map[string]struct {
		keyID string
		ec    map[string]string
		allow bool
	}{
		"key id, blue":              {aws.ToString(k.KeyId), blue, true},
		"key ARN, blue":             {aws.ToString(k.Arn), blue, true},
		"alias, blue":               {"alias/hot", blue, true},
		"alias ARN, blue":           {"arn:aws:kms:us-east-1:" + srv.Account + ":alias/hot", blue, true},
		"denied alias":              {"alias/blocked", blue, false},
		"denied alias ARN":          {"arn:aws:kms:us-east-1:" + srv.Account + ":alias/blocked", blue, false},
		"red tenant":                {aws.ToString(k.KeyId), map[string]string{"Tenant": "red"}, false},
		"context key not allowed":   {aws.ToString(k.KeyId), map[string]string{"Tenant": "blue", "Other": "x"}, false},
		"no context":                {aws.ToString(k.KeyId), nil, false},
		"context name in lowercase": {aws.ToString(k.KeyId), map[string]string{"tenant": "blue"}, false}, // kms:EncryptionContextKeys is case-sensitive
	} {
		t.Run(name, func(t *testing.T) {
			_, err := encrypt(tc.keyID, tc.ec)
			if tc.allow {
				if err != nil {
					t.Fatal(err)
				}
				return
			}
			wantErr(t, err, "AccessDeniedException", 400, "kms:Encrypt")
		})
	}

	enc, err := encrypt("alias/hot", blue)
	if err != nil {
		t.Fatal(err)
	}
	if aws.ToString(enc.KeyId) != aws.ToString(k.Arn) {
		t.Fatalf("Encrypt KeyId %s; want %s", aws.ToString(enc.KeyId), aws.ToString(k.Arn))
	}
	dec, err := carol.Decrypt(ctx, &kms.DecryptInput{CiphertextBlob: enc.CiphertextBlob, EncryptionContext: blue})
	if err != nil || string(dec.Plaintext) != "hot" || aws.ToString(dec.KeyId) != aws.ToString(k.Arn) || aws.ToString(dec.KeyMaterialId) == "" {
		t.Fatalf("Decrypt = %+v, %v", dec, err)
	}
	_, err = carol.Decrypt(ctx, &kms.DecryptInput{CiphertextBlob: enc.CiphertextBlob, EncryptionContext: map[string]string{"Tenant": "red", "Purpose": "test"}})
	wantErr(t, err, "AccessDeniedException", 400, "kms:Decrypt")
	dk, err := carol.GenerateDataKey(ctx, &kms.GenerateDataKeyInput{KeyId: aws.String("alias/hot"), KeySpec: types.DataKeySpecAes256, EncryptionContext: blue})
	if err != nil || len(dk.Plaintext) != 32 || aws.ToString(dk.KeyMaterialId) != aws.ToString(dec.KeyMaterialId) {
		t.Fatalf("GenerateDataKey = %+v, %v", dk, err)
	}

	// Changes reach the next request: without alias/hot the key no
	// longer has the alias the policy asks for (kms:ResourceAliases)...
	if _, err := root.DeleteAlias(ctx, &kms.DeleteAliasInput{AliasName: aws.String("alias/hot")}); err != nil {
		t.Fatal(err)
	}
	_, err = encrypt(aws.ToString(k.KeyId), blue)
	wantErr(t, err, "AccessDeniedException", 400, "kms:Encrypt")
	if _, err := root.CreateAlias(ctx, &kms.CreateAliasInput{AliasName: aws.String("alias/hot"), TargetKeyId: k.KeyId}); err != nil {
		t.Fatal(err)
	}
	if _, err := encrypt(aws.ToString(k.KeyId), blue); err != nil {
		t.Fatal(err)
	}
	// ...a disabled key refuses, an enabled one serves again...
	if _, err := root.DisableKey(ctx, &kms.DisableKeyInput{KeyId: k.KeyId}); err != nil {
		t.Fatal(err)
	}
	_, err = encrypt("alias/hot", blue)
	wantErr(t, err, "DisabledException", 400, "is disabled")
	if _, err := root.EnableKey(ctx, &kms.EnableKeyInput{KeyId: k.KeyId}); err != nil {
		t.Fatal(err)
	}
	// ...and after a rotation new ciphertexts use the new material while
	// the old ones still open.
	if _, err := root.RotateKeyOnDemand(ctx, &kms.RotateKeyOnDemandInput{KeyId: k.KeyId}); err != nil {
		t.Fatal(err)
	}
	enc2, err := encrypt("alias/hot", blue)
	if err != nil {
		t.Fatal(err)
	}
	dec2, err := carol.Decrypt(ctx, &kms.DecryptInput{CiphertextBlob: enc2.CiphertextBlob, EncryptionContext: blue})
	if err != nil || aws.ToString(dec2.KeyMaterialId) == aws.ToString(dec.KeyMaterialId) {
		t.Fatalf("Decrypt after rotation = %+v, %v (material %s before)", dec2, err, aws.ToString(dec.KeyMaterialId))
	}
	if old, err := carol.Decrypt(ctx, &kms.DecryptInput{CiphertextBlob: enc.CiphertextBlob, EncryptionContext: blue}); err != nil || aws.ToString(old.KeyMaterialId) != aws.ToString(dec.KeyMaterialId) {
		t.Fatalf("Decrypt of the old ciphertext = %+v, %v", old, err)
	}
}
