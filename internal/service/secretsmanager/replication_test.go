package secretsmanager_test

import (
	"context"
	"net/http/httptest"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/kms"
	sm "github.com/aws/aws-sdk-go-v2/service/secretsmanager"
	smtypes "github.com/aws/aws-sdk-go-v2/service/secretsmanager/types"

	"github.com/rampart/rampart/internal/rampartest"
	"github.com/rampart/rampart/internal/service/secretsmanager"
)

const notOnReplica = "Operation not permitted on a replica secret. Call must be made in primary secret's region."

// inRegion is c signing for another region: the server serves that region.
func inRegion(c *sm.Client, region string) *sm.Client {
	return sm.New(c.Options(), func(o *sm.Options) { o.Region = region })
}

func value(t *testing.T, c *sm.Client, id string) string {
	t.Helper()
	out := must[*sm.GetSecretValueOutput](t)(c.GetSecretValue(context.Background(), &sm.GetSecretValueInput{SecretId: aws.String(id)}))
	return aws.ToString(out.SecretString)
}

func regionsOf(sts []smtypes.ReplicationStatusType) []string {
	var out []string
	for _, s := range sts {
		out = append(out, aws.ToString(s.Region))
	}
	return out
}

// A replica follows its primary: created with the secret, read in its own
// region under that region's KMS key, updated by every change to the
// primary, refused every change of its own, then promoted.
func TestReplication(t *testing.T) {
	e := start(t)
	ctx := context.Background()
	east := e.root()
	west := inRegion(east, "us-west-2")
	eu := inRegion(east, "eu-west-1")

	created := must[*sm.CreateSecretOutput](t)(east.CreateSecret(ctx, &sm.CreateSecretInput{Name: aws.String("db"), SecretString: aws.String("v1"),
		Tags: []smtypes.Tag{{Key: aws.String("team"), Value: aws.String("red")}}, AddReplicaRegions: []smtypes.ReplicaRegionType{{Region: aws.String("us-west-2")}}}))
	primaryARN := aws.ToString(created.ARN)
	replicaARN := strings.Replace(primaryARN, ":us-east-1:", ":us-west-2:", 1)
	if len(created.ReplicationStatus) != 1 {
		t.Fatalf("CreateSecret ReplicationStatus = %+v", created.ReplicationStatus)
	}
	if st := created.ReplicationStatus[0]; aws.ToString(st.Region) != "us-west-2" || st.Status != smtypes.StatusTypeInSync ||
		aws.ToString(st.KmsKeyId) != "alias/aws/secretsmanager" || aws.ToString(st.StatusMessage) != "Replication succeeded" {
		t.Fatalf("CreateSecret ReplicationStatus = %+v", st)
	}

	// Read in the replica's region, by name and by its ARN.
	if v := value(t, west, "db"); v != "v1" {
		t.Fatalf("replica value = %q", v)
	}
	got := must[*sm.GetSecretValueOutput](t)(west.GetSecretValue(ctx, &sm.GetSecretValueInput{SecretId: aws.String(replicaARN)}))
	if aws.ToString(got.ARN) != replicaARN || aws.ToString(got.SecretString) != "v1" || aws.ToString(got.VersionId) != aws.ToString(created.VersionId) {
		t.Fatalf("replica GetSecretValue = %+v", got)
	}
	// Sealed under the replica region's own aws/secretsmanager.
	if w, ea := e.Keys.ManagedIn("us-west-2"), e.Keys.ManagedIn("us-east-1"); w == "" || w == ea {
		t.Fatalf("managed keys: us-west-2 %q, us-east-1 %q", w, ea)
	}
	l := must[*sm.ListSecretVersionIdsOutput](t)(west.ListSecretVersionIds(ctx, &sm.ListSecretVersionIdsInput{SecretId: aws.String("db")}))
	if len(l.Versions) != 1 || !slices.Equal(l.Versions[0].KmsKeyIds, []string{e.Keys.ManagedIn("us-west-2")}) {
		t.Fatalf("replica versions = %+v", l.Versions)
	}

	// A new value, a tag and a description on the primary reach the replica.
	put := must[*sm.PutSecretValueOutput](t)(east.PutSecretValue(ctx, &sm.PutSecretValueInput{SecretId: aws.String("db"), SecretString: aws.String("v2")}))
	must[*sm.TagResourceOutput](t)(east.TagResource(ctx, &sm.TagResourceInput{SecretId: aws.String("db"), Tags: []smtypes.Tag{{Key: aws.String("env"), Value: aws.String("prod")}}}))
	must[*sm.UpdateSecretOutput](t)(east.UpdateSecret(ctx, &sm.UpdateSecretInput{SecretId: aws.String("db"), Description: aws.String("the database")}))
	got = must[*sm.GetSecretValueOutput](t)(west.GetSecretValue(ctx, &sm.GetSecretValueInput{SecretId: aws.String("db")}))
	if aws.ToString(got.SecretString) != "v2" || aws.ToString(got.VersionId) != aws.ToString(put.VersionId) {
		t.Fatalf("replica after PutSecretValue = %q %s", aws.ToString(got.SecretString), aws.ToString(got.VersionId))
	}
	prev := must[*sm.GetSecretValueOutput](t)(west.GetSecretValue(ctx, &sm.GetSecretValueInput{SecretId: aws.String("db"), VersionStage: aws.String("AWSPREVIOUS")}))
	if aws.ToString(prev.SecretString) != "v1" {
		t.Fatalf("replica AWSPREVIOUS = %q", aws.ToString(prev.SecretString))
	}
	rd := must[*sm.DescribeSecretOutput](t)(west.DescribeSecret(ctx, &sm.DescribeSecretInput{SecretId: aws.String("db")}))
	if aws.ToString(rd.ARN) != replicaARN || aws.ToString(rd.PrimaryRegion) != "us-east-1" || aws.ToString(rd.Description) != "the database" || len(rd.Tags) != 2 || rd.ReplicationStatus != nil {
		t.Fatalf("replica DescribeSecret = %+v", rd)
	}
	pd := must[*sm.DescribeSecretOutput](t)(east.DescribeSecret(ctx, &sm.DescribeSecretInput{SecretId: aws.String("db")}))
	if aws.ToString(pd.PrimaryRegion) != "us-east-1" || len(pd.ReplicationStatus) != 1 || pd.ReplicationStatus[0].Status != smtypes.StatusTypeInSync ||
		pd.ReplicationStatus[0].LastAccessedDate == nil {
		t.Fatalf("primary DescribeSecret = %+v", pd)
	}

	// Every change made to the replica is refused and changes nothing.
	refused := map[string]func() error{
		"PutSecretValue": func() error {
			_, err := west.PutSecretValue(ctx, &sm.PutSecretValueInput{SecretId: aws.String("db"), SecretString: aws.String("mine")})
			return err
		},
		"UpdateSecret value": func() error {
			_, err := west.UpdateSecret(ctx, &sm.UpdateSecretInput{SecretId: aws.String("db"), SecretString: aws.String("mine")})
			return err
		},
		"UpdateSecret description": func() error {
			_, err := west.UpdateSecret(ctx, &sm.UpdateSecretInput{SecretId: aws.String("db"), Description: aws.String("mine")})
			return err
		},
		"TagResource": func() error {
			_, err := west.TagResource(ctx, &sm.TagResourceInput{SecretId: aws.String("db"), Tags: []smtypes.Tag{{Key: aws.String("k"), Value: aws.String("v")}}})
			return err
		},
		"UntagResource": func() error {
			_, err := west.UntagResource(ctx, &sm.UntagResourceInput{SecretId: aws.String("db"), TagKeys: []string{"team"}})
			return err
		},
		"PutResourcePolicy": func() error {
			_, err := west.PutResourcePolicy(ctx, &sm.PutResourcePolicyInput{SecretId: aws.String("db"),
				ResourcePolicy: aws.String(`{"Version":"2012-10-17","Statement":[{"Effect":"Deny","Principal":{"AWS":"arn:aws:iam::000000000000:root"},"Action":"secretsmanager:GetSecretValue","Resource":"*"}]}`)})
			return err
		},
		"DeleteResourcePolicy": func() error {
			_, err := west.DeleteResourcePolicy(ctx, &sm.DeleteResourcePolicyInput{SecretId: aws.String("db")})
			return err
		},
		"UpdateSecretVersionStage": func() error {
			_, err := west.UpdateSecretVersionStage(ctx, &sm.UpdateSecretVersionStageInput{SecretId: aws.String("db"), VersionStage: aws.String("X"), MoveToVersionId: put.VersionId})
			return err
		},
		"DeleteSecret": func() error {
			_, err := west.DeleteSecret(ctx, &sm.DeleteSecretInput{SecretId: aws.String("db"), ForceDeleteWithoutRecovery: aws.Bool(true)})
			return err
		},
		"RestoreSecret": func() error {
			_, err := west.RestoreSecret(ctx, &sm.RestoreSecretInput{SecretId: aws.String("db")})
			return err
		},
		"RotateSecret": func() error {
			_, err := west.RotateSecret(ctx, &sm.RotateSecretInput{SecretId: aws.String("db"), RotationLambdaARN: aws.String("arn:aws:lambda:us-west-2:000000000000:function:f")})
			return err
		},
		"CancelRotateSecret": func() error {
			_, err := west.CancelRotateSecret(ctx, &sm.CancelRotateSecretInput{SecretId: aws.String("db")})
			return err
		},
		"ReplicateSecretToRegions": func() error {
			_, err := west.ReplicateSecretToRegions(ctx, &sm.ReplicateSecretToRegionsInput{SecretId: aws.String("db"), AddReplicaRegions: []smtypes.ReplicaRegionType{{Region: aws.String("eu-west-1")}}})
			return err
		},
		"RemoveRegionsFromReplication": func() error {
			_, err := west.RemoveRegionsFromReplication(ctx, &sm.RemoveRegionsFromReplicationInput{SecretId: aws.String("db"), RemoveReplicaRegions: []string{"us-west-2"}})
			return err
		},
	}
	for name, do := range refused {
		t.Run("replica refuses "+name, func(t *testing.T) { wantErr(t, do(), "InvalidParameterException", 400, notOnReplica) })
	}
	if v := value(t, west, "db"); v != "v2" {
		t.Fatalf("replica value after refused changes = %q", v)
	}
	if d := must[*sm.DescribeSecretOutput](t)(west.DescribeSecret(ctx, &sm.DescribeSecretInput{SecretId: aws.String("db")})); len(d.Tags) != 2 || aws.ToString(d.Description) != "the database" {
		t.Fatalf("replica after refused changes = %+v", d)
	}
	// Reading its resource policy is not a change.
	must[*sm.GetResourcePolicyOutput](t)(west.GetResourcePolicy(ctx, &sm.GetResourcePolicyInput{SecretId: aws.String("db")}))

	// The primary cannot be deleted while it has replicas.
	_, err := east.DeleteSecret(ctx, &sm.DeleteSecretInput{SecretId: aws.String("db")})
	wantErr(t, err, "InvalidParameterException", 400, "You can't delete secret "+primaryARN+" that still has replica regions [us-west-2].")

	// ListSecrets and its primary-region filter, in both regions.
	must[*sm.CreateSecretOutput](t)(east.CreateSecret(ctx, &sm.CreateSecretInput{Name: aws.String("plain"), SecretString: aws.String("p")}))
	names := func(c *sm.Client, filters ...smtypes.Filter) []string {
		out := must[*sm.ListSecretsOutput](t)(c.ListSecrets(ctx, &sm.ListSecretsInput{Filters: filters}))
		var n []string
		for _, s := range out.SecretList {
			n = append(n, aws.ToString(s.Name)+"@"+aws.ToString(s.PrimaryRegion))
		}
		slices.Sort(n)
		return n
	}
	byPrimary := smtypes.Filter{Key: smtypes.FilterNameStringTypePrimaryRegion, Values: []string{"us-east-1"}}
	if n := names(east); !slices.Equal(n, []string{"db@us-east-1", "plain@"}) {
		t.Fatalf("ListSecrets us-east-1 = %v", n)
	}
	if n := names(east, byPrimary); !slices.Equal(n, []string{"db@us-east-1"}) {
		t.Fatalf("ListSecrets us-east-1 primary-region = %v", n)
	}
	if n := names(west, byPrimary); !slices.Equal(n, []string{"db@us-east-1"}) {
		t.Fatalf("ListSecrets us-west-2 primary-region = %v", n)
	}

	// A second replica under a key of its own region.
	euKey := e.Keys.CreateIn("eu-west-1", "alias/eu")
	rep := must[*sm.ReplicateSecretToRegionsOutput](t)(east.ReplicateSecretToRegions(ctx, &sm.ReplicateSecretToRegionsInput{SecretId: aws.String(primaryARN),
		AddReplicaRegions: []smtypes.ReplicaRegionType{{Region: aws.String("eu-west-1"), KmsKeyId: aws.String("alias/eu")}}}))
	if aws.ToString(rep.ARN) != primaryARN || len(rep.ReplicationStatus) != 1 || rep.ReplicationStatus[0].Status != smtypes.StatusTypeInSync || aws.ToString(rep.ReplicationStatus[0].KmsKeyId) != "alias/eu" {
		t.Fatalf("ReplicateSecretToRegions = %+v", rep)
	}
	if v := value(t, eu, "db"); v != "v2" {
		t.Fatalf("eu replica = %q", v)
	}
	for _, stage := range []string{"AWSCURRENT", "AWSPREVIOUS"} {
		g := must[*sm.GetSecretValueOutput](t)(eu.GetSecretValue(ctx, &sm.GetSecretValueInput{SecretId: aws.String("db"), VersionStage: aws.String(stage)}))
		if want := map[string]string{"AWSCURRENT": "v2", "AWSPREVIOUS": "v1"}[stage]; aws.ToString(g.SecretString) != want {
			t.Fatalf("eu replica %s = %q", stage, aws.ToString(g.SecretString))
		}
	}
	if d := must[*sm.DescribeSecretOutput](t)(eu.DescribeSecret(ctx, &sm.DescribeSecretInput{SecretId: aws.String("db")})); aws.ToString(d.KmsKeyId) != "alias/eu" {
		t.Fatalf("eu replica KmsKeyId = %q", aws.ToString(d.KmsKeyId))
	}

	// The replica's key, disabled in its region, stops reads there only; a
	// new value then cannot reach it: it is Failed and serves nothing (no
	// stale value, no stale policy) until replicated again.
	e.Keys.SetEnabled(euKey, false)
	_, err = eu.GetSecretValue(ctx, &sm.GetSecretValueInput{SecretId: aws.String("db")})
	wantErr(t, err, "DecryptionFailure", 400, "")
	must[*sm.PutSecretValueOutput](t)(east.PutSecretValue(ctx, &sm.PutSecretValueInput{SecretId: aws.String("db"), SecretString: aws.String("v3")}))
	if v := value(t, east, "db"); v != "v3" {
		t.Fatalf("primary = %q", v)
	}
	if v := value(t, west, "db"); v != "v3" {
		t.Fatalf("us-west-2 replica = %q", v)
	}
	pd = must[*sm.DescribeSecretOutput](t)(east.DescribeSecret(ctx, &sm.DescribeSecretInput{SecretId: aws.String("db")}))
	status := map[string]smtypes.ReplicationStatusType{}
	for _, s := range pd.ReplicationStatus {
		status[aws.ToString(s.Region)] = s
	}
	if status["us-west-2"].Status != smtypes.StatusTypeInSync || status["eu-west-1"].Status != smtypes.StatusTypeFailed ||
		!strings.HasPrefix(aws.ToString(status["eu-west-1"].StatusMessage), "Replication failed: ") {
		t.Fatalf("ReplicationStatus = %+v", pd.ReplicationStatus)
	}
	e.Keys.SetEnabled(euKey, true)
	_, err = eu.GetSecretValue(ctx, &sm.GetSecretValueInput{SecretId: aws.String("db")})
	wantErr(t, err, "ResourceNotFoundException", 400, "")
	// Replicating to the Region again rebuilds the replica with the
	// primary's value.
	again := must[*sm.ReplicateSecretToRegionsOutput](t)(east.ReplicateSecretToRegions(ctx, &sm.ReplicateSecretToRegionsInput{SecretId: aws.String("db"),
		AddReplicaRegions: []smtypes.ReplicaRegionType{{Region: aws.String("eu-west-1"), KmsKeyId: aws.String("alias/eu")}}}))
	for _, st := range again.ReplicationStatus {
		if aws.ToString(st.Region) == "eu-west-1" && st.Status != smtypes.StatusTypeInSync {
			t.Fatalf("eu-west-1 replicated again: %+v", st)
		}
	}
	if v := value(t, eu, "db"); v != "v3" {
		t.Fatalf("eu replica rebuilt = %q, want the primary's v3", v)
	}

	// The replica's own key may change, and only it.
	west2 := e.Keys.CreateIn("us-west-2", "alias/west")
	must[*sm.UpdateSecretOutput](t)(west.UpdateSecret(ctx, &sm.UpdateSecretInput{SecretId: aws.String("db"), KmsKeyId: aws.String("alias/west")}))
	l = must[*sm.ListSecretVersionIdsOutput](t)(west.ListSecretVersionIds(ctx, &sm.ListSecretVersionIdsInput{SecretId: aws.String("db")}))
	for _, v := range l.Versions {
		if !slices.Equal(v.KmsKeyIds, []string{west2}) {
			t.Fatalf("after re-keying the replica, versions = %+v", l.Versions)
		}
	}
	must[*sm.PutSecretValueOutput](t)(east.PutSecretValue(ctx, &sm.PutSecretValueInput{SecretId: aws.String("db"), SecretString: aws.String("v4")}))
	e.Keys.SetEnabled(west2, false)
	_, err = west.GetSecretValue(ctx, &sm.GetSecretValueInput{SecretId: aws.String("db")})
	wantErr(t, err, "DecryptionFailure", 400, "")
	e.Keys.SetEnabled(west2, true)
	if v := value(t, west, "db"); v != "v4" {
		t.Fatalf("re-keyed replica = %q", v)
	}

	// Removing a region deletes its replica; the others remain.
	rm := must[*sm.RemoveRegionsFromReplicationOutput](t)(east.RemoveRegionsFromReplication(ctx, &sm.RemoveRegionsFromReplicationInput{SecretId: aws.String("db"), RemoveReplicaRegions: []string{"eu-west-1"}}))
	if r := regionsOf(rm.ReplicationStatus); !slices.Equal(r, []string{"us-west-2"}) || aws.ToString(rm.ReplicationStatus[0].KmsKeyId) != "alias/west" {
		t.Fatalf("RemoveRegionsFromReplication = %+v", rm.ReplicationStatus)
	}
	_, err = eu.GetSecretValue(ctx, &sm.GetSecretValueInput{SecretId: aws.String("db")})
	wantErr(t, err, "ResourceNotFoundException", 400, "")
	// Again: nothing to remove, no error.
	must[*sm.RemoveRegionsFromReplicationOutput](t)(east.RemoveRegionsFromReplication(ctx, &sm.RemoveRegionsFromReplicationInput{SecretId: aws.String("db"), RemoveReplicaRegions: []string{"eu-west-1"}}))

	// Promotion: the replica becomes a standalone secret of its region.
	stop := must[*sm.StopReplicationToReplicaOutput](t)(west.StopReplicationToReplica(ctx, &sm.StopReplicationToReplicaInput{SecretId: aws.String("db")}))
	if aws.ToString(stop.ARN) != replicaARN {
		t.Fatalf("StopReplicationToReplica ARN = %s", aws.ToString(stop.ARN))
	}
	must[*sm.PutSecretValueOutput](t)(west.PutSecretValue(ctx, &sm.PutSecretValueInput{SecretId: aws.String("db"), SecretString: aws.String("west's own")}))
	must[*sm.PutSecretValueOutput](t)(east.PutSecretValue(ctx, &sm.PutSecretValueInput{SecretId: aws.String("db"), SecretString: aws.String("v5")}))
	if a, b := value(t, east, "db"), value(t, west, "db"); a != "v5" || b != "west's own" {
		t.Fatalf("after promotion: primary %q, promoted %q", a, b)
	}
	pd = must[*sm.DescribeSecretOutput](t)(east.DescribeSecret(ctx, &sm.DescribeSecretInput{SecretId: aws.String("db")}))
	rd = must[*sm.DescribeSecretOutput](t)(west.DescribeSecret(ctx, &sm.DescribeSecretInput{SecretId: aws.String("db")}))
	if pd.ReplicationStatus != nil || pd.PrimaryRegion != nil || rd.PrimaryRegion != nil {
		t.Fatalf("after promotion: primary %+v, promoted %+v", pd, rd)
	}
	must[*sm.DeleteSecretOutput](t)(east.DeleteSecret(ctx, &sm.DeleteSecretInput{SecretId: aws.String("db"), ForceDeleteWithoutRecovery: aws.Bool(true)}))
	if v := value(t, west, "db"); v != "west's own" {
		t.Fatalf("promoted secret after the primary's deletion = %q", v)
	}
}

// Bad requests change nothing; a region holding a secret of that name
// fails unless ForceOverwriteReplicaSecret; a key that cannot be used in
// the replica's region fails that region only.
func TestReplicationErrors(t *testing.T) {
	e := start(t)
	ctx := context.Background()
	east := e.root()
	west := inRegion(east, "us-west-2")
	to := func(regions ...string) []smtypes.ReplicaRegionType {
		var out []smtypes.ReplicaRegionType
		for _, r := range regions {
			out = append(out, smtypes.ReplicaRegionType{Region: aws.String(r)})
		}
		return out
	}

	for name, add := range map[string][]smtypes.ReplicaRegionType{
		"own region":     to("us-east-1"),
		"unknown region": to("xx-fake-1"),
		"twice":          to("us-west-2", "us-west-2"),
		"no region":      {{KmsKeyId: aws.String("alias/x")}},
	} {
		t.Run(name, func(t *testing.T) {
			_, err := east.CreateSecret(ctx, &sm.CreateSecretInput{Name: aws.String("bad"), SecretString: aws.String("v"), AddReplicaRegions: add})
			wantErr(t, err, "InvalidParameterException", 400, "Invalid replica region.")
		})
	}
	if l := must[*sm.ListSecretsOutput](t)(east.ListSecrets(ctx, &sm.ListSecretsInput{})); len(l.SecretList) != 0 {
		t.Fatalf("refused creations left %d secrets", len(l.SecretList))
	}

	_, err := east.ReplicateSecretToRegions(ctx, &sm.ReplicateSecretToRegionsInput{SecretId: aws.String("missing"), AddReplicaRegions: to("us-west-2")})
	wantErr(t, err, "ResourceNotFoundException", 400, "")

	must[*sm.CreateSecretOutput](t)(east.CreateSecret(ctx, &sm.CreateSecretInput{Name: aws.String("dup"), SecretString: aws.String("primary")}))
	theirs := must[*sm.CreateSecretOutput](t)(west.CreateSecret(ctx, &sm.CreateSecretInput{Name: aws.String("dup"), SecretString: aws.String("theirs")}))
	_, err = east.ReplicateSecretToRegions(ctx, &sm.ReplicateSecretToRegionsInput{SecretId: aws.String("dup"), AddReplicaRegions: to("us-east-1")})
	wantErr(t, err, "InvalidParameterException", 400, "Invalid replica region.")

	// Without ForceOverwriteReplicaSecret the other secret stays.
	rep := must[*sm.ReplicateSecretToRegionsOutput](t)(east.ReplicateSecretToRegions(ctx, &sm.ReplicateSecretToRegionsInput{SecretId: aws.String("dup"), AddReplicaRegions: to("us-west-2")}))
	if st := rep.ReplicationStatus; len(st) != 1 || st[0].Status != smtypes.StatusTypeFailed ||
		aws.ToString(st[0].StatusMessage) != "Replication failed: Secret name dup already exists in region us-west-2." {
		t.Fatalf("ReplicationStatus = %+v", st)
	}
	if v := value(t, west, "dup"); v != "theirs" {
		t.Fatalf("us-west-2 dup = %q", v)
	}
	_, err = west.PutSecretValue(ctx, &sm.PutSecretValueInput{SecretId: aws.String("dup"), SecretString: aws.String("still theirs")})
	if err != nil {
		t.Fatalf("the other secret became read-only: %v", err)
	}
	// Changes to the primary leave a failed region alone.
	must[*sm.PutSecretValueOutput](t)(east.PutSecretValue(ctx, &sm.PutSecretValueInput{SecretId: aws.String("dup"), SecretString: aws.String("primary 2")}))
	if v := value(t, west, "dup"); v != "still theirs" {
		t.Fatalf("us-west-2 dup = %q", v)
	}

	// With it, the secret there is replaced by the replica (a failed
	// region may be tried again).
	rep = must[*sm.ReplicateSecretToRegionsOutput](t)(east.ReplicateSecretToRegions(ctx, &sm.ReplicateSecretToRegionsInput{SecretId: aws.String("dup"), AddReplicaRegions: to("us-west-2"), ForceOverwriteReplicaSecret: true}))
	if st := rep.ReplicationStatus; len(st) != 1 || st[0].Status != smtypes.StatusTypeInSync {
		t.Fatalf("ReplicationStatus = %+v", st)
	}
	if v := value(t, west, "dup"); v != "primary 2" {
		t.Fatalf("replica = %q", v)
	}
	_, err = west.GetSecretValue(ctx, &sm.GetSecretValueInput{SecretId: theirs.ARN})
	wantErr(t, err, "ResourceNotFoundException", 400, "")
	if l := must[*sm.ListSecretsOutput](t)(west.ListSecrets(ctx, &sm.ListSecretsInput{})); len(l.SecretList) != 1 {
		t.Fatalf("us-west-2 holds %d secrets", len(l.SecretList))
	}
	_, err = east.ReplicateSecretToRegions(ctx, &sm.ReplicateSecretToRegionsInput{SecretId: aws.String("dup"), AddReplicaRegions: to("us-west-2")})
	wantErr(t, err, "InvalidParameterException", 400, "already replicated")

	// A key that does not exist in the replica's region (this one is in
	// us-east-1) fails that region; the others replicate.
	east1 := e.Keys.Create("alias/east")
	rep = must[*sm.ReplicateSecretToRegionsOutput](t)(east.ReplicateSecretToRegions(ctx, &sm.ReplicateSecretToRegionsInput{SecretId: aws.String("dup"),
		AddReplicaRegions: []smtypes.ReplicaRegionType{{Region: aws.String("eu-west-1"), KmsKeyId: aws.String(east1)}, {Region: aws.String("ap-south-1")}}}))
	if st := rep.ReplicationStatus; len(st) != 2 || st[0].Status != smtypes.StatusTypeFailed || !strings.Contains(aws.ToString(st[0].StatusMessage), "KMS key") ||
		st[1].Status != smtypes.StatusTypeInSync {
		t.Fatalf("ReplicationStatus = %+v", st)
	}
	_, err = inRegion(east, "eu-west-1").GetSecretValue(ctx, &sm.GetSecretValueInput{SecretId: aws.String("dup")})
	wantErr(t, err, "ResourceNotFoundException", 400, "")
	if v := value(t, inRegion(east, "ap-south-1"), "dup"); v != "primary 2" {
		t.Fatalf("ap-south-1 replica = %q", v)
	}
	// Removing the failed region leaves the secret there alone (there is none).
	rm := must[*sm.RemoveRegionsFromReplicationOutput](t)(east.RemoveRegionsFromReplication(ctx, &sm.RemoveRegionsFromReplicationInput{SecretId: aws.String("dup"), RemoveReplicaRegions: []string{"eu-west-1"}}))
	if r := regionsOf(rm.ReplicationStatus); !slices.Equal(r, []string{"us-west-2", "ap-south-1"}) {
		t.Fatalf("remaining = %v", r)
	}

	// StopReplicationToReplica on a secret that is not a replica.
	_, err = east.StopReplicationToReplica(ctx, &sm.StopReplicationToReplicaInput{SecretId: aws.String("dup")})
	wantErr(t, err, "InvalidParameterException", 400, "not a replica")

	// A secret scheduled for deletion is not replicated.
	must[*sm.CreateSecretOutput](t)(east.CreateSecret(ctx, &sm.CreateSecretInput{Name: aws.String("going"), SecretString: aws.String("v")}))
	must[*sm.DeleteSecretOutput](t)(east.DeleteSecret(ctx, &sm.DeleteSecretInput{SecretId: aws.String("going")}))
	_, err = east.ReplicateSecretToRegions(ctx, &sm.ReplicateSecretToRegionsInput{SecretId: aws.String("going"), AddReplicaRegions: to("us-west-2")})
	wantErr(t, err, "InvalidRequestException", 400, "marked for deletion")
	_, err = west.DescribeSecret(ctx, &sm.DescribeSecretInput{SecretId: aws.String("going")})
	wantErr(t, err, "ResourceNotFoundException", 400, "")
}

// secretsmanager:ReplicateSecretToRegions is needed to add replicas, also
// through CreateSecret; secretsmanager:AddReplicaRegions limits where;
// secretsmanager:SecretPrimaryRegion is the primary's region on a replica.
func TestReplicationAuthorization(t *testing.T) {
	e := start(t)
	ctx := context.Background()
	root := e.root()
	createOnly, _ := e.user(account, "createonly", `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"secretsmanager:CreateSecret","Resource":"*"}]}`)
	noReplication, _ := e.user(account, "norep", `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"secretsmanager:*","Resource":"*",
		"Condition":{"Null":{"secretsmanager:AddReplicaRegions":"true"}}}]}`)
	usOnly, _ := e.user(account, "usonly", `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":["secretsmanager:CreateSecret","secretsmanager:ReplicateSecretToRegions"],"Resource":"*",
		"Condition":{"ForAllValues:StringLike":{"secretsmanager:AddReplicaRegions":["us-*","ca-*"]}}}]}`)
	reader, _ := e.user(account, "reader", `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"secretsmanager:GetSecretValue","Resource":"*",
		"Condition":{"StringEquals":{"secretsmanager:SecretPrimaryRegion":"us-east-1"}}}]}`)

	west := []smtypes.ReplicaRegionType{{Region: aws.String("us-west-2")}}
	_, err := createOnly.CreateSecret(ctx, &sm.CreateSecretInput{Name: aws.String("a"), SecretString: aws.String("v"), AddReplicaRegions: west})
	wantErr(t, err, "AccessDeniedException", 400, "secretsmanager:ReplicateSecretToRegions")
	_, err = noReplication.CreateSecret(ctx, &sm.CreateSecretInput{Name: aws.String("a"), SecretString: aws.String("v"), AddReplicaRegions: west})
	wantErr(t, err, "AccessDeniedException", 400, "")
	if l := must[*sm.ListSecretsOutput](t)(root.ListSecrets(ctx, &sm.ListSecretsInput{})); len(l.SecretList) != 0 {
		t.Fatalf("refused creations left %d secrets", len(l.SecretList))
	}
	must[*sm.CreateSecretOutput](t)(noReplication.CreateSecret(ctx, &sm.CreateSecretInput{Name: aws.String("a"), SecretString: aws.String("v")}))
	_, err = noReplication.ReplicateSecretToRegions(ctx, &sm.ReplicateSecretToRegionsInput{SecretId: aws.String("a"), AddReplicaRegions: west})
	wantErr(t, err, "AccessDeniedException", 400, "")

	_, err = usOnly.ReplicateSecretToRegions(ctx, &sm.ReplicateSecretToRegionsInput{SecretId: aws.String("a"), AddReplicaRegions: []smtypes.ReplicaRegionType{{Region: aws.String("eu-west-1")}}})
	wantErr(t, err, "AccessDeniedException", 400, "")
	must[*sm.ReplicateSecretToRegionsOutput](t)(usOnly.ReplicateSecretToRegions(ctx, &sm.ReplicateSecretToRegionsInput{SecretId: aws.String("a"), AddReplicaRegions: west}))
	must[*sm.CreateSecretOutput](t)(usOnly.CreateSecret(ctx, &sm.CreateSecretInput{Name: aws.String("b"), SecretString: aws.String("w"),
		AddReplicaRegions: []smtypes.ReplicaRegionType{{Region: aws.String("ca-central-1")}}}))

	if v := value(t, inRegion(reader, "us-west-2"), "a"); v != "v" {
		t.Fatalf("replica read under secretsmanager:SecretPrimaryRegion = %q", v)
	}
	if v := value(t, inRegion(reader, "ca-central-1"), "b"); v != "w" {
		t.Fatalf("replica read under secretsmanager:SecretPrimaryRegion = %q", v)
	}
	must[*sm.CreateSecretOutput](t)(inRegion(root, "us-west-2").CreateSecret(ctx, &sm.CreateSecretInput{Name: aws.String("local"), SecretString: aws.String("x")}))
	_, err = inRegion(reader, "us-west-2").GetSecretValue(ctx, &sm.GetSecretValueInput{SecretId: aws.String("local")})
	wantErr(t, err, "AccessDeniedException", 400, "")
}

// With rampart's KMS: each replica's value is sealed under the AWS managed
// key of its own region, created there on first use.
func TestReplicationWithRealKMS(t *testing.T) {
	srv := rampartest.Start(t)
	ctx := context.Background()
	east := sm.NewFromConfig(srv.Config())
	west := inRegion(east, "us-west-2")
	must[*sm.CreateSecretOutput](t)(east.CreateSecret(ctx, &sm.CreateSecretInput{Name: aws.String("r"), SecretString: aws.String("v1"),
		AddReplicaRegions: []smtypes.ReplicaRegionType{{Region: aws.String("us-west-2")}}}))
	must[*sm.PutSecretValueOutput](t)(east.PutSecretValue(ctx, &sm.PutSecretValueInput{SecretId: aws.String("r"), SecretString: aws.String("v2")}))
	if v := value(t, west, "r"); v != "v2" {
		t.Fatalf("replica = %q", v)
	}
	kwest := kms.NewFromConfig(srv.Config(), func(o *kms.Options) { o.Region = "us-west-2" })
	managed := must[*kms.DescribeKeyOutput](t)(kwest.DescribeKey(ctx, &kms.DescribeKeyInput{KeyId: aws.String("alias/aws/secretsmanager")}))
	l := must[*sm.ListSecretVersionIdsOutput](t)(west.ListSecretVersionIds(ctx, &sm.ListSecretVersionIdsInput{SecretId: aws.String("r")}))
	for _, v := range l.Versions {
		if !slices.Equal(v.KmsKeyIds, []string{aws.ToString(managed.KeyMetadata.Arn)}) || !strings.Contains(v.KmsKeyIds[0], ":us-west-2:") {
			t.Fatalf("replica versions = %+v, want under %s", l.Versions, aws.ToString(managed.KeyMetadata.Arn))
		}
	}
}

// Rotation runs in the primary's region and its new value reaches the
// replica; the replica, whose rotation configuration follows the
// primary's, is never rotated itself.
func TestReplicaFollowsRotation(t *testing.T) {
	e := start(t)
	ctx := context.Background()
	c := e.root()
	west := inRegion(c, "us-west-2")
	db := &fakeDB{password: "initial"}
	fn := httptest.NewServer(db.handler(t, e.root()))
	defer fn.Close()
	e.Svc.RegisterFunction(fnARN, &secretsmanager.HTTPFunction{URL: fn.URL})
	must[*sm.CreateSecretOutput](t)(c.CreateSecret(ctx, &sm.CreateSecretInput{Name: aws.String("db"), SecretString: aws.String("initial"),
		AddReplicaRegions: []smtypes.ReplicaRegionType{{Region: aws.String("us-west-2")}}}))
	must[*sm.RotateSecretOutput](t)(c.RotateSecret(ctx, &sm.RotateSecretInput{SecretId: aws.String("db"), RotationLambdaARN: aws.String(fnARN),
		RotationRules: &smtypes.RotationRulesType{AutomaticallyAfterDays: aws.Int64(30)}, ClientRequestToken: aws.String(tok2)}))
	waitRotated(t, c, "db", tok2)
	got := must[*sm.GetSecretValueOutput](t)(west.GetSecretValue(ctx, &sm.GetSecretValueInput{SecretId: aws.String("db")}))
	db.mu.Lock()
	pw := db.password
	db.mu.Unlock()
	if aws.ToString(got.VersionId) != tok2 || aws.ToString(got.SecretString) != pw || pw == "initial" {
		t.Fatalf("replica after rotation = %s %q, database has %q", aws.ToString(got.VersionId), aws.ToString(got.SecretString), pw)
	}
	if d := must[*sm.DescribeSecretOutput](t)(west.DescribeSecret(ctx, &sm.DescribeSecretInput{SecretId: aws.String("db")})); !aws.ToBool(d.RotationEnabled) {
		t.Fatalf("replica rotation configuration = %+v", d)
	}

	// When due (inside the primary's next rotation window), only the primary rotates.
	next := must[*sm.DescribeSecretOutput](t)(c.DescribeSecret(ctx, &sm.DescribeSecretInput{SecretId: aws.String("db")})).NextRotationDate
	if next == nil {
		t.Fatal("no NextRotationDate on the primary")
	}
	if n, err := e.Svc.RotateDue(ctx, next.Add(-time.Hour)); err != nil || n != 1 {
		t.Fatalf("RotateDue = %d, %v; want the primary only", n, err)
	}
	waitFor(t, "the scheduled rotation", func() bool {
		db.mu.Lock()
		pw = db.password
		db.mu.Unlock()
		return len(db.stepsSoFar()) == 8 && value(t, c, "db") == pw // finishSecret done
	})
	if v := value(t, west, "db"); v != pw {
		t.Fatalf("replica after the scheduled rotation = %q, database has %q", v, pw)
	}
}

// TestStopReplicationAuthorizesTheReplica: named by the primary's ARN, the
// replica promoted is authorized too, and only from its own Region.
func TestStopReplicationAuthorizesTheReplica(t *testing.T) {
	e := start(t)
	ctx := context.Background()
	root := e.root()
	c := must[*sm.CreateSecretOutput](t)(root.CreateSecret(ctx, &sm.CreateSecretInput{Name: aws.String("p"), SecretString: aws.String("v"),
		AddReplicaRegions: []smtypes.ReplicaRegionType{{Region: aws.String("us-west-2")}}}))
	primaryARN := aws.ToString(c.ARN)
	replicaARN := strings.Replace(primaryARN, ":us-east-1:", ":us-west-2:", 1)
	u, _ := e.user(account, "promoter", `{"Version":"2012-10-17","Statement":[
		{"Effect":"Allow","Action":"secretsmanager:*","Resource":"*"},
		{"Effect":"Deny","Action":"secretsmanager:StopReplicationToReplica","Resource":"`+replicaARN+`"}]}`)
	west := inRegion(u, "us-west-2")
	_, err := west.StopReplicationToReplica(ctx, &sm.StopReplicationToReplicaInput{SecretId: aws.String(primaryARN)})
	wantErr(t, err, "AccessDeniedException", 400, "")
	_, err = west.StopReplicationToReplica(ctx, &sm.StopReplicationToReplicaInput{SecretId: aws.String("p")})
	wantErr(t, err, "AccessDeniedException", 400, "")
	// Root, from the primary's Region with the replica's ARN: refused.
	_, err = root.StopReplicationToReplica(ctx, &sm.StopReplicationToReplicaInput{SecretId: aws.String(replicaARN)})
	wantErr(t, err, "InvalidParameterException", 400, "Region")
	// Nothing was promoted.
	d := must[*sm.DescribeSecretOutput](t)(inRegion(root, "us-west-2").DescribeSecret(ctx, &sm.DescribeSecretInput{SecretId: aws.String("p")}))
	if aws.ToString(d.PrimaryRegion) != "us-east-1" {
		t.Fatalf("replica's PrimaryRegion = %q after refused promotions", aws.ToString(d.PrimaryRegion))
	}
}
