package kms_test

import (
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/kms"
	"github.com/aws/aws-sdk-go-v2/service/kms/types"
	sm "github.com/aws/aws-sdk-go-v2/service/secretsmanager"
)

// TestManagedKeyYearlyRotation: the AWS managed key aws/secretsmanager,
// created by Secrets Manager's first use, rotates every year by itself
// ("AWS KMS always rotates the key material of AWS managed keys every
// year", EnableKeyRotation), and nobody can change that.
func TestManagedKeyYearlyRotation(t *testing.T) {
	srv, c := start(t)
	smc := sm.NewFromConfig(srv.Config())
	if _, err := smc.CreateSecret(ctx, &sm.CreateSecretInput{Name: aws.String("app"), SecretString: aws.String("year one")}); err != nil {
		t.Fatal(err)
	}
	d, err := c.DescribeKey(ctx, &kms.DescribeKeyInput{KeyId: aws.String("alias/aws/secretsmanager")})
	if err != nil {
		t.Fatal(err)
	}
	key := d.KeyMetadata
	if key.KeyManager != types.KeyManagerTypeAws || key.CurrentKeyMaterialId == nil {
		t.Fatalf("aws/secretsmanager: manager %s", key.KeyManager)
	}
	created := *key.CreationDate
	st, err := c.GetKeyRotationStatus(ctx, &kms.GetKeyRotationStatusInput{KeyId: key.KeyId})
	if err != nil || !st.KeyRotationEnabled || aws.ToInt32(st.RotationPeriodInDays) != 365 {
		t.Fatalf("GetKeyRotationStatus: %+v %v", st, err)
	}
	if d := st.NextRotationDate.Sub(created); d < 365*24*time.Hour-time.Minute || d > 365*24*time.Hour+time.Minute {
		t.Fatalf("first rotation %s after creation; want a year", d)
	}
	rots, err := c.ListKeyRotations(ctx, &kms.ListKeyRotationsInput{KeyId: key.KeyId})
	if err != nil || len(rots.Rotations) != 0 {
		t.Fatalf("ListKeyRotations of a new key: %+v %v", rots, err)
	}

	// Not before the year is out; then once.
	w := worker(t, srv)
	if err := w.Sweep(ctx, created.Add(364*24*time.Hour)); err != nil {
		t.Fatal(err)
	}
	if rots, _ := c.ListKeyRotations(ctx, &kms.ListKeyRotationsInput{KeyId: key.KeyId}); len(rots.Rotations) != 0 {
		t.Fatalf("rotated before a year: %+v", rots.Rotations)
	}
	if err := w.Sweep(ctx, created.Add(366*24*time.Hour)); err != nil {
		t.Fatal(err)
	}
	rots, err = c.ListKeyRotations(ctx, &kms.ListKeyRotationsInput{KeyId: key.KeyId})
	if err != nil || len(rots.Rotations) != 1 {
		t.Fatalf("ListKeyRotations after a year: %+v %v", rots, err)
	}
	r := rots.Rotations[0]
	if r.RotationType != types.RotationTypeAutomatic || r.KeyMaterialState != types.KeyMaterialStateCurrent ||
		!r.RotationDate.Equal(*st.NextRotationDate) || aws.ToString(r.KeyMaterialId) == aws.ToString(key.CurrentKeyMaterialId) {
		t.Fatalf("rotation %+v", r)
	}
	d, _ = c.DescribeKey(ctx, &kms.DescribeKeyInput{KeyId: key.KeyId})
	if aws.ToString(d.KeyMetadata.CurrentKeyMaterialId) != aws.ToString(r.KeyMaterialId) {
		t.Fatal("the new material is not current")
	}
	st, _ = c.GetKeyRotationStatus(ctx, &kms.GetKeyRotationStatusInput{KeyId: key.KeyId})
	if d := st.NextRotationDate.Sub(created); d < 730*24*time.Hour-time.Minute || d > 730*24*time.Hour+time.Minute {
		t.Fatalf("next rotation %s after creation; want two years", d)
	}
	// A second sweep in the same year does nothing more.
	if err := w.Sweep(ctx, created.Add(367*24*time.Hour)); err != nil {
		t.Fatal(err)
	}
	if rots, _ := c.ListKeyRotations(ctx, &kms.ListKeyRotationsInput{KeyId: key.KeyId}); len(rots.Rotations) != 1 {
		t.Fatalf("%d rotations in one year", len(rots.Rotations))
	}

	// The secret written under the first material still reads; a new
	// version is written under the current one.
	v, err := smc.GetSecretValue(ctx, &sm.GetSecretValueInput{SecretId: aws.String("app")})
	if err != nil || aws.ToString(v.SecretString) != "year one" {
		t.Fatalf("GetSecretValue after rotation: %v", err)
	}
	if _, err := smc.PutSecretValue(ctx, &sm.PutSecretValueInput{SecretId: aws.String("app"), SecretString: aws.String("year two")}); err != nil {
		t.Fatal(err)
	}
	v, err = smc.GetSecretValue(ctx, &sm.GetSecretValueInput{SecretId: aws.String("app")})
	if err != nil || aws.ToString(v.SecretString) != "year two" {
		t.Fatalf("GetSecretValue of the new version: %v", err)
	}
	v, err = smc.GetSecretValue(ctx, &sm.GetSecretValueInput{SecretId: aws.String("app"), VersionStage: aws.String("AWSPREVIOUS")})
	if err != nil || aws.ToString(v.SecretString) != "year one" {
		t.Fatalf("GetSecretValue of the previous version: %v", err)
	}

	// The rotation of an AWS managed key is not configurable. AWS's key
	// policy for AWS managed keys gives the account direct access to
	// kms:Describe*, kms:Get*, kms:List* and kms:RevokeGrant only ("AWS
	// managed keys" in "Default key policy"), so these operations are
	// denied by the key policy before anything else, even to the root user.
	arn := *key.Arn
	because := " because no resource-based policy allows the "
	_, err = c.EnableKeyRotation(ctx, &kms.EnableKeyRotationInput{KeyId: key.KeyId})
	wantErr(t, err, "AccessDeniedException", 400, "User: arn:aws:iam::000000000000:root is not authorized to perform: kms:EnableKeyRotation on resource: "+arn+because+"kms:EnableKeyRotation action")
	_, err = c.EnableKeyRotation(ctx, &kms.EnableKeyRotationInput{KeyId: key.KeyId, RotationPeriodInDays: aws.Int32(90)})
	wantErr(t, err, "AccessDeniedException", 400, "kms:EnableKeyRotation on resource: "+arn)
	_, err = c.DisableKeyRotation(ctx, &kms.DisableKeyRotationInput{KeyId: key.KeyId})
	wantErr(t, err, "AccessDeniedException", 400, "User: arn:aws:iam::000000000000:root is not authorized to perform: kms:DisableKeyRotation on resource: "+arn+because+"kms:DisableKeyRotation action")
	_, err = c.RotateKeyOnDemand(ctx, &kms.RotateKeyOnDemandInput{KeyId: key.KeyId})
	wantErr(t, err, "AccessDeniedException", 400, "User: arn:aws:iam::000000000000:root is not authorized to perform: kms:RotateKeyOnDemand on resource: "+arn+because+"kms:RotateKeyOnDemand action")
	// Nor may anyone rewrite the key policy to allow them.
	_, err = c.PutKeyPolicy(ctx, &kms.PutKeyPolicyInput{KeyId: key.KeyId, Policy: aws.String(keyPolicyFor("arn:aws:iam::000000000000:root"))})
	wantErr(t, err, "AccessDeniedException", 400, "kms:PutKeyPolicy on resource: "+arn)
	st, _ = c.GetKeyRotationStatus(ctx, &kms.GetKeyRotationStatusInput{KeyId: key.KeyId})
	if !st.KeyRotationEnabled || aws.ToInt32(st.RotationPeriodInDays) != 365 {
		t.Fatalf("rotation status changed: %+v", st)
	}
}
