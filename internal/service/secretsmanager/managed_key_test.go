package secretsmanager_test

import (
	"context"
	"slices"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/kms"
	sm "github.com/aws/aws-sdk-go-v2/service/secretsmanager"
	smtypes "github.com/aws/aws-sdk-go-v2/service/secretsmanager/types"

	"github.com/rampart/rampart/internal/rampartest"
)

// A secret or replica created with the AWS managed key aws/secretsmanager
// named by its alias, alias ARN, key ARN or key id is a secret under that
// key, exactly as one created without KmsKeyId: DescribeSecret omits
// KmsKeyId ("If the secret is encrypted with the AWS managed key
// aws/secretsmanager, this field is omitted"), the replication status
// names the alias, and a reader in another account whom the secret's
// resource policy admits is refused with AWS's InvalidRequestException
// rather than by KMS. A customer managed key named by ARN stays as given.
// With rampart's KMS, whose managed key policy admits its own account
// only.
func TestManagedKeyNamedByARNOrKeyID(t *testing.T) {
	srv := rampartest.Start(t)
	ctx := context.Background()
	a := sm.NewFromConfig(srv.Config())
	const b = "111111111111"
	reader := sm.NewFromConfig(realAccount(t, srv, b))
	grant := aws.String(`{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":{"AWS":"arn:aws:iam::` + b + `:root"},"Action":"secretsmanager:GetSecretValue","Resource":"*"}]}`)
	const crossAccount = "You can't access a secret from a different AWS account if you encrypt the secret with the default KMS service key."

	// The managed keys exist once used: here in two Regions, for replicas.
	managedIn := func(region string) *kms.DescribeKeyOutput {
		t.Helper()
		c := inRegion(a, region)
		must[*sm.CreateSecretOutput](t)(c.CreateSecret(ctx, &sm.CreateSecretInput{Name: aws.String("first-use"), SecretString: aws.String("x")}))
		k := kms.NewFromConfig(srv.Config(), func(o *kms.Options) { o.Region = region })
		return must[*kms.DescribeKeyOutput](t)(k.DescribeKey(ctx, &kms.DescribeKeyInput{KeyId: aws.String("alias/aws/secretsmanager")}))
	}
	east, west := managedIn("us-east-1"), managedIn("us-west-2")
	keyARN, keyID := aws.ToString(east.KeyMetadata.Arn), aws.ToString(east.KeyMetadata.KeyId)
	westARN, westID := aws.ToString(west.KeyMetadata.Arn), aws.ToString(west.KeyMetadata.KeyId)

	underManagedKey := func(t *testing.T, c, r *sm.Client, arn, want, keyARN string) {
		t.Helper()
		d := must[*sm.DescribeSecretOutput](t)(c.DescribeSecret(ctx, &sm.DescribeSecretInput{SecretId: aws.String(arn)}))
		if d.KmsKeyId != nil {
			t.Fatalf("DescribeSecret's KmsKeyId = %q under the managed key", aws.ToString(d.KmsKeyId))
		}
		_, err := r.GetSecretValue(ctx, &sm.GetSecretValueInput{SecretId: aws.String(arn)})
		wantErr(t, err, "InvalidRequestException", 400, crossAccount)
		if v := value(t, c, arn); v != want {
			t.Fatalf("owner reads %q, want %q", v, want)
		}
		l := must[*sm.ListSecretVersionIdsOutput](t)(c.ListSecretVersionIds(ctx, &sm.ListSecretVersionIdsInput{SecretId: aws.String(arn)}))
		for _, v := range l.Versions {
			if !slices.Equal(v.KmsKeyIds, []string{keyARN}) {
				t.Fatalf("version %s under %v, want %s", aws.ToString(v.VersionId), v.KmsKeyIds, keyARN)
			}
		}
	}

	for name, key := range map[string]string{
		"none":       "",
		"alias":      "alias/aws/secretsmanager",
		"alias-arn":  "arn:aws:kms:us-east-1:000000000000:alias/aws/secretsmanager",
		"key-arn":    keyARN,
		"key-id":     keyID,
		"key-id-new": keyID, // created without a value, given one afterwards
	} {
		t.Run(name, func(t *testing.T) {
			in := &sm.CreateSecretInput{Name: aws.String(name), SecretString: aws.String("v")}
			if key != "" {
				in.KmsKeyId = aws.String(key)
			}
			if name == "key-id-new" {
				in.SecretString = nil
			}
			arn := aws.ToString(must[*sm.CreateSecretOutput](t)(a.CreateSecret(ctx, in)).ARN)
			must[*sm.PutResourcePolicyOutput](t)(a.PutResourcePolicy(ctx, &sm.PutResourcePolicyInput{SecretId: aws.String(arn), ResourcePolicy: grant}))
			if name == "key-id-new" {
				must[*sm.PutSecretValueOutput](t)(a.PutSecretValue(ctx, &sm.PutSecretValueInput{SecretId: aws.String(arn), SecretString: aws.String("v")}))
			}
			underManagedKey(t, a, reader, arn, "v", keyARN)
		})
	}

	// A customer managed key named by ARN is shown as given; the other
	// account reads through it when its policy allows (here, not: KMS
	// refuses).
	cmk := createKey(t, kms.NewFromConfig(srv.Config()), `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":{"AWS":"arn:aws:iam::000000000000:root"},"Action":"kms:*","Resource":"*"}]}`)
	own := aws.ToString(must[*sm.CreateSecretOutput](t)(a.CreateSecret(ctx, &sm.CreateSecretInput{Name: aws.String("cmk"), SecretString: aws.String("c"), KmsKeyId: aws.String(cmk)})).ARN)
	must[*sm.PutResourcePolicyOutput](t)(a.PutResourcePolicy(ctx, &sm.PutResourcePolicyInput{SecretId: aws.String(own), ResourcePolicy: grant}))
	if d := must[*sm.DescribeSecretOutput](t)(a.DescribeSecret(ctx, &sm.DescribeSecretInput{SecretId: aws.String(own)})); aws.ToString(d.KmsKeyId) != cmk {
		t.Fatalf("KmsKeyId %q, want %s", aws.ToString(d.KmsKeyId), cmk)
	}
	_, err := reader.GetSecretValue(ctx, &sm.GetSecretValueInput{SecretId: aws.String(own)})
	wantErr(t, err, "AccessDeniedException", 400, "Access to KMS is not allowed")

	// Replicas: CreateSecret's with the replica Region's managed key by
	// ARN, ReplicateSecretToRegions' by key id, and a replica moved to it
	// by UpdateSecret in its Region.
	westReader, westA := inRegion(reader, "us-west-2"), inRegion(a, "us-west-2")
	westOf := func(arn *string) string { return strings.Replace(aws.ToString(arn), ":us-east-1:", ":us-west-2:", 1) }
	wantStatus := func(t *testing.T, sts []smtypes.ReplicationStatusType) {
		t.Helper()
		if len(sts) != 1 || aws.ToString(sts[0].Region) != "us-west-2" || sts[0].Status != smtypes.StatusTypeInSync ||
			aws.ToString(sts[0].KmsKeyId) != "alias/aws/secretsmanager" {
			t.Fatalf("replication status %+v", sts)
		}
	}
	t.Run("replica-key-arn", func(t *testing.T) {
		out := must[*sm.CreateSecretOutput](t)(a.CreateSecret(ctx, &sm.CreateSecretInput{Name: aws.String("replicated"), SecretString: aws.String("r"),
			AddReplicaRegions: []smtypes.ReplicaRegionType{{Region: aws.String("us-west-2"), KmsKeyId: aws.String(westARN)}}}))
		wantStatus(t, out.ReplicationStatus)
		must[*sm.PutResourcePolicyOutput](t)(a.PutResourcePolicy(ctx, &sm.PutResourcePolicyInput{SecretId: out.ARN, ResourcePolicy: grant}))
		wantStatus(t, must[*sm.DescribeSecretOutput](t)(a.DescribeSecret(ctx, &sm.DescribeSecretInput{SecretId: out.ARN})).ReplicationStatus)
		underManagedKey(t, westA, westReader, westOf(out.ARN), "r", westARN)
		// A new value reaches the replica under that key.
		must[*sm.PutSecretValueOutput](t)(a.PutSecretValue(ctx, &sm.PutSecretValueInput{SecretId: out.ARN, SecretString: aws.String("r2")}))
		underManagedKey(t, westA, westReader, westOf(out.ARN), "r2", westARN)
	})
	t.Run("replica-key-id", func(t *testing.T) {
		out := must[*sm.CreateSecretOutput](t)(a.CreateSecret(ctx, &sm.CreateSecretInput{Name: aws.String("replicated-later"), SecretString: aws.String("l")}))
		must[*sm.PutResourcePolicyOutput](t)(a.PutResourcePolicy(ctx, &sm.PutResourcePolicyInput{SecretId: out.ARN, ResourcePolicy: grant}))
		rep := must[*sm.ReplicateSecretToRegionsOutput](t)(a.ReplicateSecretToRegions(ctx, &sm.ReplicateSecretToRegionsInput{SecretId: out.ARN,
			AddReplicaRegions: []smtypes.ReplicaRegionType{{Region: aws.String("us-west-2"), KmsKeyId: aws.String(westID)}}}))
		wantStatus(t, rep.ReplicationStatus)
		underManagedKey(t, westA, westReader, westOf(out.ARN), "l", westARN)
	})
	t.Run("replica-moved", func(t *testing.T) {
		westCMK := createKey(t, kms.NewFromConfig(srv.Config(), func(o *kms.Options) { o.Region = "us-west-2" }),
			`{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":{"AWS":"arn:aws:iam::000000000000:root"},"Action":"kms:*","Resource":"*"}]}`)
		out := must[*sm.CreateSecretOutput](t)(a.CreateSecret(ctx, &sm.CreateSecretInput{Name: aws.String("replica-moved"), SecretString: aws.String("m"),
			AddReplicaRegions: []smtypes.ReplicaRegionType{{Region: aws.String("us-west-2"), KmsKeyId: aws.String(westCMK)}}}))
		must[*sm.PutResourcePolicyOutput](t)(a.PutResourcePolicy(ctx, &sm.PutResourcePolicyInput{SecretId: out.ARN, ResourcePolicy: grant}))
		if d := must[*sm.DescribeSecretOutput](t)(westA.DescribeSecret(ctx, &sm.DescribeSecretInput{SecretId: aws.String("replica-moved")})); aws.ToString(d.KmsKeyId) != westCMK {
			t.Fatalf("replica's KmsKeyId %q, want %s", aws.ToString(d.KmsKeyId), westCMK)
		}
		must[*sm.UpdateSecretOutput](t)(westA.UpdateSecret(ctx, &sm.UpdateSecretInput{SecretId: aws.String("replica-moved"), KmsKeyId: aws.String(westARN)}))
		wantStatus(t, must[*sm.DescribeSecretOutput](t)(a.DescribeSecret(ctx, &sm.DescribeSecretInput{SecretId: out.ARN})).ReplicationStatus)
		underManagedKey(t, westA, westReader, westOf(out.ARN), "m", westARN)
	})
}
