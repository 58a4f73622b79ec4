package secretsmanager_test

import (
	"context"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	sm "github.com/aws/aws-sdk-go-v2/service/secretsmanager"
	smtypes "github.com/aws/aws-sdk-go-v2/service/secretsmanager/types"
)

// GetSecretValue's hot path (the rule hands the cached secret to its
// Context step and the handler; a cached secret carries its
// authorization resource, condition keys and encryption contexts) follows
// every change to the secret at the next request.
func TestHotPathFollowsChanges(t *testing.T) {
	e := start(t)
	root := e.root()
	ctx := context.Background()
	out := must[*sm.CreateSecretOutput](t)(root.CreateSecret(ctx, &sm.CreateSecretInput{Name: aws.String("hot"), SecretString: aws.String("v1"),
		ClientRequestToken: aws.String(tok1), Tags: []smtypes.Tag{{Key: aws.String("Team"), Value: aws.String("red")}}}))
	byTag, _ := e.user(account, "bytag", `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"secretsmanager:GetSecretValue","Resource":"*",
		"Condition":{"StringEquals":{"secretsmanager:ResourceTag/Team":"red","secretsmanager:SecretId":"`+aws.ToString(out.ARN)+`","secretsmanager:SecretPrimaryRegion":"us-east-1"}}}]}`)
	byPolicy, byPolicyARN := e.user(account, "bypolicy")

	get := func(c *sm.Client, in *sm.GetSecretValueInput) (string, error) {
		v, err := c.GetSecretValue(ctx, in)
		if err != nil {
			return "", err
		}
		return aws.ToString(v.SecretString), nil
	}
	byName := &sm.GetSecretValueInput{SecretId: aws.String("hot")}
	wantValue := func(c *sm.Client, in *sm.GetSecretValueInput, want string) {
		t.Helper()
		got, err := get(c, in)
		if err != nil || got != want {
			t.Fatalf("GetSecretValue(%s) = %q, %v; want %q", aws.ToString(in.SecretId), got, err, want)
		}
	}
	wantDenied := func(c *sm.Client, in *sm.GetSecretValueInput) {
		t.Helper()
		_, err := get(c, in)
		wantErr(t, err, "AccessDeniedException", 400, "secretsmanager:GetSecretValue")
	}

	// Tags: the condition keys follow TagResource and UntagResource.
	wantValue(byTag, byName, "v1")
	wantValue(byTag, &sm.GetSecretValueInput{SecretId: out.ARN}, "v1")
	must[*sm.TagResourceOutput](t)(root.TagResource(ctx, &sm.TagResourceInput{SecretId: aws.String("hot"), Tags: []smtypes.Tag{{Key: aws.String("Team"), Value: aws.String("blue")}}}))
	wantDenied(byTag, byName)
	must[*sm.TagResourceOutput](t)(root.TagResource(ctx, &sm.TagResourceInput{SecretId: aws.String("hot"), Tags: []smtypes.Tag{{Key: aws.String("Team"), Value: aws.String("red")}}}))
	wantValue(byTag, byName, "v1")

	// The resource policy: the authorization resource follows
	// PutResourcePolicy and DeleteResourcePolicy.
	wantDenied(byPolicy, byName)
	must[*sm.PutResourcePolicyOutput](t)(root.PutResourcePolicy(ctx, &sm.PutResourcePolicyInput{SecretId: aws.String("hot"),
		ResourcePolicy: aws.String(`{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":{"AWS":"` + byPolicyARN + `"},"Action":"secretsmanager:GetSecretValue","Resource":"*"}]}`)}))
	wantValue(byPolicy, byName, "v1")
	must[*sm.DeleteResourcePolicyOutput](t)(root.DeleteResourcePolicy(ctx, &sm.DeleteResourcePolicyInput{SecretId: aws.String("hot")}))
	wantDenied(byPolicy, byName)

	// Versions: new values read at once; an unlabelled version (whose
	// encryption context is not prepared) still reads by its id.
	must[*sm.PutSecretValueOutput](t)(root.PutSecretValue(ctx, &sm.PutSecretValueInput{SecretId: aws.String("hot"), SecretString: aws.String("v2"), ClientRequestToken: aws.String(tok2)}))
	wantValue(root, byName, "v2")
	must[*sm.PutSecretValueOutput](t)(root.PutSecretValue(ctx, &sm.PutSecretValueInput{SecretId: aws.String("hot"), SecretString: aws.String("v3")}))
	wantValue(root, byName, "v3")
	wantValue(root, &sm.GetSecretValueInput{SecretId: aws.String("hot"), VersionStage: aws.String("AWSPREVIOUS")}, "v2")
	first := must[*sm.GetSecretValueOutput](t)(root.GetSecretValue(ctx, &sm.GetSecretValueInput{SecretId: aws.String("hot"), VersionId: aws.String(tok1)}))
	if aws.ToString(first.SecretString) != "v1" || len(first.VersionStages) != 0 {
		t.Fatalf("first version: %q, stages %v; want v1 without stages", aws.ToString(first.SecretString), first.VersionStages)
	}

	// A secret deleted and created again under the same name is another
	// secret (another ARN, so another encryption context): the new one reads.
	must[*sm.DeleteSecretOutput](t)(root.DeleteSecret(ctx, &sm.DeleteSecretInput{SecretId: aws.String("hot"), ForceDeleteWithoutRecovery: aws.Bool(true)}))
	_, err := get(root, byName)
	wantErr(t, err, "ResourceNotFoundException", 400, "can't find the specified secret")
	again := must[*sm.CreateSecretOutput](t)(root.CreateSecret(ctx, &sm.CreateSecretInput{Name: aws.String("hot"), SecretString: aws.String("again"),
		Tags: []smtypes.Tag{{Key: aws.String("Team"), Value: aws.String("red")}}}))
	if aws.ToString(again.ARN) == aws.ToString(out.ARN) {
		t.Fatalf("the new secret has the old ARN %s", aws.ToString(out.ARN))
	}
	wantValue(root, byName, "again")
	wantDenied(byTag, byName) // its policy names the old ARN
}
