package secretsmanager_test

import (
	"context"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	sm "github.com/aws/aws-sdk-go-v2/service/secretsmanager"
	smtypes "github.com/aws/aws-sdk-go-v2/service/secretsmanager/types"

	"github.com/rampart/rampart/internal/store"
)

func TestDeleteAndRestore(t *testing.T) {
	e := start(t)
	c := e.root()
	ctx := context.Background()
	cr := must[*sm.CreateSecretOutput](t)(c.CreateSecret(ctx, &sm.CreateSecretInput{Name: aws.String("s"), SecretString: aws.String("v")}))

	bad := map[string]struct {
		in        sm.DeleteSecretInput
		code, msg string
	}{
		"window too short": {sm.DeleteSecretInput{SecretId: aws.String("s"), RecoveryWindowInDays: aws.Int64(6)}, "InvalidParameterException", "The RecoveryWindowInDays value must be between 7 and 30 days (inclusive)."},
		"window too long":  {sm.DeleteSecretInput{SecretId: aws.String("s"), RecoveryWindowInDays: aws.Int64(31)}, "InvalidParameterException", "The RecoveryWindowInDays value must be between 7 and 30 days (inclusive)."},
		"both":             {sm.DeleteSecretInput{SecretId: aws.String("s"), RecoveryWindowInDays: aws.Int64(7), ForceDeleteWithoutRecovery: aws.Bool(true)}, "InvalidParameterException", "You can't use ForceDeleteWithoutRecovery in conjunction with RecoveryWindowInDays."},
		"unknown":          {sm.DeleteSecretInput{SecretId: aws.String("nope")}, "ResourceNotFoundException", "Secrets Manager can't find the specified secret."},
	}
	for name, tc := range bad {
		t.Run(name, func(t *testing.T) {
			_, err := c.DeleteSecret(ctx, &tc.in)
			wantErr(t, err, tc.code, 400, tc.msg)
		})
	}
	del := must[*sm.DeleteSecretOutput](t)(c.DeleteSecret(ctx, &sm.DeleteSecretInput{SecretId: aws.String("s"), RecoveryWindowInDays: aws.Int64(7)}))
	if d := del.DeletionDate.Sub(e.clock()); d < 7*24*time.Hour-time.Minute || d > 7*24*time.Hour {
		t.Fatalf("DeletionDate in %v, want 7 days", d)
	}
	// Scheduled for deletion: unreadable, unchangeable, name still taken.
	marked := "You can't perform this operation on the secret because it was marked for deletion."
	_, err := c.GetSecretValue(ctx, &sm.GetSecretValueInput{SecretId: aws.String("s")})
	wantErr(t, err, "InvalidRequestException", 400, marked)
	_, err = c.PutSecretValue(ctx, &sm.PutSecretValueInput{SecretId: aws.String("s"), SecretString: aws.String("x")})
	wantErr(t, err, "InvalidRequestException", 400, marked)
	_, err = c.UpdateSecret(ctx, &sm.UpdateSecretInput{SecretId: aws.String("s"), Description: aws.String("x")})
	wantErr(t, err, "InvalidRequestException", 400, marked)
	_, err = c.DeleteSecret(ctx, &sm.DeleteSecretInput{SecretId: aws.String("s")})
	wantErr(t, err, "InvalidRequestException", 400, marked)
	_, err = c.CreateSecret(ctx, &sm.CreateSecretInput{Name: aws.String("s"), SecretString: aws.String("v")})
	wantErr(t, err, "InvalidRequestException", 400, "You can't create this secret because a secret with this name is already scheduled for deletion.")
	d := must[*sm.DescribeSecretOutput](t)(c.DescribeSecret(ctx, &sm.DescribeSecretInput{SecretId: aws.String("s")}))
	if d.DeletedDate == nil {
		t.Fatal("DescribeSecret has no DeletedDate")
	}
	if l := must[*sm.ListSecretsOutput](t)(c.ListSecrets(ctx, &sm.ListSecretsInput{})); len(l.SecretList) != 0 {
		t.Fatalf("ListSecrets lists a secret scheduled for deletion: %+v", l.SecretList)
	}
	if l := must[*sm.ListSecretsOutput](t)(c.ListSecrets(ctx, &sm.ListSecretsInput{IncludePlannedDeletion: aws.Bool(true)})); len(l.SecretList) != 1 {
		t.Fatalf("ListSecrets with IncludePlannedDeletion: %+v", l.SecretList)
	}
	// Restore: readable again.
	must[*sm.RestoreSecretOutput](t)(c.RestoreSecret(ctx, &sm.RestoreSecretInput{SecretId: cr.ARN}))
	if v := must[*sm.GetSecretValueOutput](t)(c.GetSecretValue(ctx, &sm.GetSecretValueInput{SecretId: aws.String("s")})); aws.ToString(v.SecretString) != "v" {
		t.Fatalf("after restore: %q", aws.ToString(v.SecretString))
	}
	// Delete again; when the window ends, it is gone, values and all.
	must[*sm.DeleteSecretOutput](t)(c.DeleteSecret(ctx, &sm.DeleteSecretInput{SecretId: aws.String("s"), RecoveryWindowInDays: aws.Int64(7)}))
	if n, err := e.Svc.PurgeDue(ctx, e.clock().Add(6*24*time.Hour)); err != nil || n != 0 {
		t.Fatalf("PurgeDue before the end of the window = %d, %v", n, err)
	}
	if n, err := e.Svc.PurgeDue(ctx, e.clock().Add(7*24*time.Hour+time.Second)); err != nil || n != 1 {
		t.Fatalf("PurgeDue after the window = %d, %v", n, err)
	}
	_, err = c.DescribeSecret(ctx, &sm.DescribeSecretInput{SecretId: aws.String("s")})
	wantErr(t, err, "ResourceNotFoundException", 400, "")
	if n := countRows(t, e, "secretsmanager.value") + countRows(t, e, "secretsmanager.secret"); n != 0 {
		t.Fatalf("%d rows left after deletion", n)
	}
	// The name is free again.
	must[*sm.CreateSecretOutput](t)(c.CreateSecret(ctx, &sm.CreateSecretInput{Name: aws.String("s"), SecretString: aws.String("new")}))
	// Force delete, also of a secret scheduled for deletion.
	must[*sm.DeleteSecretOutput](t)(c.DeleteSecret(ctx, &sm.DeleteSecretInput{SecretId: aws.String("s")}))
	must[*sm.DeleteSecretOutput](t)(c.DeleteSecret(ctx, &sm.DeleteSecretInput{SecretId: aws.String("s"), ForceDeleteWithoutRecovery: aws.Bool(true)}))
	_, err = c.GetSecretValue(ctx, &sm.GetSecretValueInput{SecretId: aws.String("s")})
	wantErr(t, err, "ResourceNotFoundException", 400, "Secrets Manager can't find the specified secret.")
}

// A secret whose window has ended is gone even before the background loop
// removes it.
func TestDeletedWhenDueWithoutSweep(t *testing.T) {
	e := start(t)
	c := e.root()
	ctx := context.Background()
	must[*sm.CreateSecretOutput](t)(c.CreateSecret(ctx, &sm.CreateSecretInput{Name: aws.String("s"), SecretString: aws.String("v")}))
	must[*sm.DeleteSecretOutput](t)(c.DeleteSecret(ctx, &sm.DeleteSecretInput{SecretId: aws.String("s"), RecoveryWindowInDays: aws.Int64(7)}))
	e.advance(8 * 24 * time.Hour)
	sk := e.skewed()
	_, err := sk.DescribeSecret(ctx, &sm.DescribeSecretInput{SecretId: aws.String("s")})
	wantErr(t, err, "ResourceNotFoundException", 400, "")
	must[*sm.CreateSecretOutput](t)(sk.CreateSecret(ctx, &sm.CreateSecretInput{Name: aws.String("s"), SecretString: aws.String("again")}))
	if v := must[*sm.GetSecretValueOutput](t)(sk.GetSecretValue(ctx, &sm.GetSecretValueInput{SecretId: aws.String("s")})); aws.ToString(v.SecretString) != "again" {
		t.Fatalf("recreated secret reads %q", aws.ToString(v.SecretString))
	}
}

func TestTagResource(t *testing.T) {
	e := start(t)
	c := e.root()
	ctx := context.Background()
	must[*sm.CreateSecretOutput](t)(c.CreateSecret(ctx, &sm.CreateSecretInput{Name: aws.String("s"), Tags: []smtypes.Tag{{Key: aws.String("a"), Value: aws.String("1")}}}))
	must[*sm.TagResourceOutput](t)(c.TagResource(ctx, &sm.TagResourceInput{SecretId: aws.String("s"), Tags: []smtypes.Tag{{Key: aws.String("a"), Value: aws.String("2")}, {Key: aws.String("b"), Value: aws.String("3")}}}))
	must[*sm.UntagResourceOutput](t)(c.UntagResource(ctx, &sm.UntagResourceInput{SecretId: aws.String("s"), TagKeys: []string{"b", "zzz"}}))
	d := must[*sm.DescribeSecretOutput](t)(c.DescribeSecret(ctx, &sm.DescribeSecretInput{SecretId: aws.String("s")}))
	if len(d.Tags) != 1 || aws.ToString(d.Tags[0].Key) != "a" || aws.ToString(d.Tags[0].Value) != "2" {
		t.Fatalf("tags = %+v", d.Tags)
	}
	_, err := c.TagResource(ctx, &sm.TagResourceInput{SecretId: aws.String("s"), Tags: []smtypes.Tag{{Key: aws.String("aws:owner"), Value: aws.String("x")}}})
	wantErr(t, err, "InvalidParameterException", 400, "aws:")
	_, err = c.TagResource(ctx, &sm.TagResourceInput{SecretId: aws.String("nope"), Tags: []smtypes.Tag{{Key: aws.String("k"), Value: aws.String("v")}}})
	wantErr(t, err, "ResourceNotFoundException", 400, "")
}

func countRows(t *testing.T, e *env, table string) int {
	t.Helper()
	var n int
	err := e.Store.View(context.Background(), func(tx store.Tx) error {
		var err error
		n, err = tx.Count(table, "")
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	return n
}
