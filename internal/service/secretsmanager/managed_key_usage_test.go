package secretsmanager_test

import (
	"context"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/kms"
	kmstypes "github.com/aws/aws-sdk-go-v2/service/kms/types"
	sm "github.com/aws/aws-sdk-go-v2/service/secretsmanager"
	smtypes "github.com/aws/aws-sdk-go-v2/service/secretsmanager/types"

	"github.com/rampart/rampart/internal/rampartest"
)

// Secrets under customer managed keys named by ARN or key id (created
// with a value or without, moved by UpdateSecret, replicated, a replica
// moved) do not use the AWS managed key aws/secretsmanager: Secrets
// Manager tells whether a key id names that key by reading its alias, so
// KMS's GetKeyLastUsage of the managed key still reports the use that
// created it, while the customer keys report their own. In a Region where
// the managed key does not exist yet, such a secret does not create it.
// With rampart's KMS.
func TestCustomerKeySecretsDoNotUseManagedKey(t *testing.T) {
	srv := rampartest.Start(t)
	ctx := context.Background()
	a := sm.NewFromConfig(srv.Config())
	kmsIn := func(region string) *kms.Client {
		return kms.NewFromConfig(srv.Config(), func(o *kms.Options) { o.Region = region })
	}
	const keyPolicy = `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":{"AWS":"arn:aws:iam::000000000000:root"},"Action":"kms:*","Resource":"*"}]}`

	// The managed keys of two Regions, created by their first use.
	type managed struct {
		id    string
		usage *kmstypes.KeyLastUsageData
	}
	managedIn := func(region string) managed {
		t.Helper()
		must[*sm.CreateSecretOutput](t)(inRegion(a, region).CreateSecret(ctx, &sm.CreateSecretInput{Name: aws.String("first-use"), SecretString: aws.String("x")}))
		d := must[*kms.DescribeKeyOutput](t)(kmsIn(region).DescribeKey(ctx, &kms.DescribeKeyInput{KeyId: aws.String("alias/aws/secretsmanager")}))
		id := aws.ToString(d.KeyMetadata.KeyId)
		u := must[*kms.GetKeyLastUsageOutput](t)(kmsIn(region).GetKeyLastUsage(ctx, &kms.GetKeyLastUsageInput{KeyId: aws.String(id)})).KeyLastUsage
		if u == nil || u.KmsRequestId == nil {
			t.Fatalf("the managed key of %s reports no use after its first: %+v", region, u)
		}
		return managed{id, u}
	}
	east, west := managedIn("us-east-1"), managedIn("us-west-2")

	cmk, cmk2 := createKey(t, kmsIn("us-east-1"), keyPolicy), createKey(t, kmsIn("us-east-1"), keyPolicy)
	westCMK, westCMK2 := createKey(t, kmsIn("us-west-2"), keyPolicy), createKey(t, kmsIn("us-west-2"), keyPolicy)
	keyID := func(arn string) string { return arn[len(arn)-36:] }

	// CreateSecret with a value and a replica, by key ARN.
	out := must[*sm.CreateSecretOutput](t)(a.CreateSecret(ctx, &sm.CreateSecretInput{Name: aws.String("cmk"), SecretString: aws.String("v"), KmsKeyId: aws.String(cmk),
		AddReplicaRegions: []smtypes.ReplicaRegionType{{Region: aws.String("us-west-2"), KmsKeyId: aws.String(westCMK)}}}))
	if len(out.ReplicationStatus) != 1 || out.ReplicationStatus[0].Status != smtypes.StatusTypeInSync {
		t.Fatalf("replication status %+v", out.ReplicationStatus)
	}
	// CreateSecret without a value, by key id; then a value.
	must[*sm.CreateSecretOutput](t)(a.CreateSecret(ctx, &sm.CreateSecretInput{Name: aws.String("cmk-empty"), KmsKeyId: aws.String(keyID(cmk))}))
	must[*sm.PutSecretValueOutput](t)(a.PutSecretValue(ctx, &sm.PutSecretValueInput{SecretId: aws.String("cmk-empty"), SecretString: aws.String("w")}))
	// UpdateSecret to another customer key, the replica too.
	must[*sm.UpdateSecretOutput](t)(a.UpdateSecret(ctx, &sm.UpdateSecretInput{SecretId: aws.String("cmk"), KmsKeyId: aws.String(cmk2)}))
	must[*sm.UpdateSecretOutput](t)(inRegion(a, "us-west-2").UpdateSecret(ctx, &sm.UpdateSecretInput{SecretId: aws.String("cmk"), KmsKeyId: aws.String(westCMK2)}))
	// ReplicateSecretToRegions by key id.
	must[*sm.CreateSecretOutput](t)(a.CreateSecret(ctx, &sm.CreateSecretInput{Name: aws.String("later"), SecretString: aws.String("l"), KmsKeyId: aws.String(cmk)}))
	must[*sm.ReplicateSecretToRegionsOutput](t)(a.ReplicateSecretToRegions(ctx, &sm.ReplicateSecretToRegionsInput{SecretId: aws.String("later"),
		AddReplicaRegions: []smtypes.ReplicaRegionType{{Region: aws.String("us-west-2"), KmsKeyId: aws.String(keyID(westCMK))}}}))

	for name, want := range map[string]string{"cmk": cmk2, "cmk-empty": keyID(cmk), "later": cmk} {
		if d := must[*sm.DescribeSecretOutput](t)(a.DescribeSecret(ctx, &sm.DescribeSecretInput{SecretId: aws.String(name)})); aws.ToString(d.KmsKeyId) != want {
			t.Fatalf("%s: KmsKeyId %q, want %s", name, aws.ToString(d.KmsKeyId), want)
		}
	}
	if v := value(t, inRegion(a, "us-west-2"), "cmk"); v != "v" {
		t.Fatalf("replica reads %q", v)
	}

	for region, m := range map[string]managed{"us-east-1": east, "us-west-2": west} {
		u := must[*kms.GetKeyLastUsageOutput](t)(kmsIn(region).GetKeyLastUsage(ctx, &kms.GetKeyLastUsageInput{KeyId: aws.String(m.id)})).KeyLastUsage
		if u == nil || aws.ToString(u.KmsRequestId) != aws.ToString(m.usage.KmsRequestId) || !u.Timestamp.Equal(*m.usage.Timestamp) {
			var got string
			if u != nil {
				got = string(u.Operation) + " " + aws.ToString(u.KmsRequestId)
			}
			t.Fatalf("the managed key of %s was used by secrets under customer keys: last use %q, was %s %s", region, got, m.usage.Operation, aws.ToString(m.usage.KmsRequestId))
		}
	}
	// The customer keys report their use: tracking works.
	for _, k := range []struct{ region, arn string }{{"us-east-1", cmk}, {"us-east-1", cmk2}, {"us-west-2", westCMK}, {"us-west-2", westCMK2}} {
		u := must[*kms.GetKeyLastUsageOutput](t)(kmsIn(k.region).GetKeyLastUsage(ctx, &kms.GetKeyLastUsageInput{KeyId: aws.String(k.arn)})).KeyLastUsage
		if u == nil {
			t.Fatalf("customer key %s reports no use", k.arn)
		}
	}

	// A Region whose managed key does not exist yet: a secret under a
	// customer key, named by key ARN and by key id, does not create it.
	euCMK := createKey(t, kmsIn("eu-west-1"), keyPolicy)
	eu := inRegion(a, "eu-west-1")
	must[*sm.CreateSecretOutput](t)(eu.CreateSecret(ctx, &sm.CreateSecretInput{Name: aws.String("eu"), SecretString: aws.String("e"), KmsKeyId: aws.String(euCMK)}))
	must[*sm.CreateSecretOutput](t)(eu.CreateSecret(ctx, &sm.CreateSecretInput{Name: aws.String("eu-empty"), KmsKeyId: aws.String(keyID(euCMK))}))
	if d := must[*sm.DescribeSecretOutput](t)(eu.DescribeSecret(ctx, &sm.DescribeSecretInput{SecretId: aws.String("eu-empty")})); aws.ToString(d.KmsKeyId) != keyID(euCMK) {
		t.Fatalf("KmsKeyId %q, want %s", aws.ToString(d.KmsKeyId), keyID(euCMK))
	}
	// ListAliases, not DescribeKey: DescribeKey on a predefined AWS alias
	// creates its AWS managed key.
	for _, al := range must[*kms.ListAliasesOutput](t)(kmsIn("eu-west-1").ListAliases(ctx, &kms.ListAliasesInput{})).Aliases {
		if aws.ToString(al.AliasName) == "alias/aws/secretsmanager" {
			t.Fatalf("a secret under a customer key created the managed key %s", aws.ToString(al.TargetKeyId))
		}
	}
}
