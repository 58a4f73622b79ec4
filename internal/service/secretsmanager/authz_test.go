package secretsmanager_test

import (
	"context"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	sm "github.com/aws/aws-sdk-go-v2/service/secretsmanager"
	smtypes "github.com/aws/aws-sdk-go-v2/service/secretsmanager/types"
)

// Access to a secret under the real authorizer: identity policies with
// Secrets Manager's condition keys, the secret's resource policy across
// accounts, and the KMS key behind the value.
func TestAuthorization(t *testing.T) {
	e := start(t)
	root := e.root()
	ctx := context.Background()
	key := e.Keys.Create("alias/app")
	tagged := must[*sm.CreateSecretOutput](t)(root.CreateSecret(ctx, &sm.CreateSecretInput{Name: aws.String("team/db"), SecretString: aws.String("v1"), KmsKeyId: aws.String("alias/app"),
		Tags: []smtypes.Tag{{Key: aws.String("team"), Value: aws.String("red")}}}))
	must[*sm.PutSecretValueOutput](t)(root.PutSecretValue(ctx, &sm.PutSecretValueInput{SecretId: aws.String("team/db"), SecretString: aws.String("v2")}))
	must[*sm.CreateSecretOutput](t)(root.CreateSecret(ctx, &sm.CreateSecretInput{Name: aws.String("other"), SecretString: aws.String("x")}))

	byTag, byTagARN := e.user(account, "bytag", `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":["secretsmanager:GetSecretValue","secretsmanager:DescribeSecret"],"Resource":"*",
		"Condition":{"StringEquals":{"secretsmanager:ResourceTag/team":"red"}}}]}`)
	current, _ := e.user(account, "current", `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"secretsmanager:GetSecretValue","Resource":"arn:aws:secretsmanager:us-east-1:000000000000:secret:team/db-??????",
		"Condition":{"StringEquals":{"secretsmanager:VersionStage":"AWSCURRENT"}}}]}`)
	creator, _ := e.user(account, "creator", `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"secretsmanager:CreateSecret","Resource":"arn:aws:secretsmanager:us-east-1:000000000000:secret:app/*",
		"Condition":{"StringEquals":{"aws:RequestTag/team":"red"}}}]}`)
	nobody, _ := e.user(account, "nobody")
	foreign, foreignARN := e.user(other, "reader", `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"secretsmanager:GetSecretValue","Resource":"*"}]}`)

	get := func(c *sm.Client, id string, stage string) error {
		in := &sm.GetSecretValueInput{SecretId: aws.String(id)}
		if stage != "" {
			in.VersionStage = aws.String(stage)
		}
		_, err := c.GetSecretValue(ctx, in)
		return err
	}
	type check struct {
		name string
		do   func() error
		code string // "" for success
	}
	checks := []check{
		{"tag condition allows", func() error { return get(byTag, "team/db", "") }, ""},
		{"tag condition, other secret", func() error { return get(byTag, "other", "") }, "AccessDeniedException"},
		{"no policy", func() error { return get(nobody, "team/db", "") }, "AccessDeniedException"},
		{"no policy, missing secret: denied, not not-found", func() error { return get(nobody, "missing", "") }, "AccessDeniedException"},
		{"allowed, missing secret", func() error { return get(byTag, "missing", "") }, "AccessDeniedException"},
		{"version stage condition: current", func() error { return get(current, "team/db", "") }, ""},
		{"version stage condition: previous", func() error { return get(current, "team/db", "AWSPREVIOUS") }, "AccessDeniedException"},
		{"create with the required tag", func() error {
			_, err := creator.CreateSecret(ctx, &sm.CreateSecretInput{Name: aws.String("app/x"), Tags: []smtypes.Tag{{Key: aws.String("team"), Value: aws.String("red")}}})
			return err
		}, ""},
		{"create without the tag", func() error {
			_, err := creator.CreateSecret(ctx, &sm.CreateSecretInput{Name: aws.String("app/y")})
			return err
		}, "AccessDeniedException"},
		{"create outside the path", func() error {
			_, err := creator.CreateSecret(ctx, &sm.CreateSecretInput{Name: aws.String("ops/z"), Tags: []smtypes.Tag{{Key: aws.String("team"), Value: aws.String("red")}}})
			return err
		}, "AccessDeniedException"},
		{"other account, no resource policy", func() error { return get(foreign, aws.ToString(tagged.ARN), "") }, "AccessDeniedException"},
	}
	run := func(checks []check) {
		for _, ck := range checks {
			t.Run(ck.name, func(t *testing.T) {
				err := ck.do()
				if ck.code == "" {
					if err != nil {
						t.Fatal(err)
					}
					return
				}
				wantErr(t, err, ck.code, 400, "")
			})
		}
	}
	run(checks)

	// The resource policy grants the other account; its user's own policy
	// allows too: the secret reads across accounts.
	must[*sm.PutResourcePolicyOutput](t)(root.PutResourcePolicy(ctx, &sm.PutResourcePolicyInput{SecretId: aws.String("team/db"),
		ResourcePolicy: aws.String(`{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":{"AWS":"` + foreignARN + `"},"Action":"secretsmanager:GetSecretValue","Resource":"*"}]}`)}))
	run([]check{
		{"other account, resource policy allows", func() error { return get(foreign, aws.ToString(tagged.ARN), "") }, ""},
		{"other account, by name resolves in its own account", func() error { return get(foreign, "team/db", "") }, "ResourceNotFoundException"},
	})
	// The KMS key's policy refuses the user: Access to KMS is not allowed.
	e.Keys.Deny(key, byTagARN)
	_, err := byTag.GetSecretValue(ctx, &sm.GetSecretValueInput{SecretId: aws.String("team/db")})
	wantErr(t, err, "AccessDeniedException", 400, "Access to KMS is not allowed")
	// A disabled key: DecryptionFailure for every reader, EncryptionFailure for writers.
	e.Keys.SetEnabled(key, false)
	_, err = root.GetSecretValue(ctx, &sm.GetSecretValueInput{SecretId: aws.String("team/db")})
	wantErr(t, err, "DecryptionFailure", 400, "Secrets Manager can't decrypt the protected secret text using the provided KMS key.")
	_, err = root.PutSecretValue(ctx, &sm.PutSecretValueInput{SecretId: aws.String("team/db"), SecretString: aws.String("v3")})
	wantErr(t, err, "EncryptionFailure", 400, "")
	e.Keys.SetEnabled(key, true)
	if v := must[*sm.GetSecretValueOutput](t)(root.GetSecretValue(ctx, &sm.GetSecretValueInput{SecretId: aws.String("team/db")})); aws.ToString(v.SecretString) != "v2" {
		t.Fatalf("after re-enabling: %q", aws.ToString(v.SecretString))
	}
}

// UpdateSecret with a new KmsKeyId re-encrypts the labelled versions: they
// read only while the new key is usable.
func TestUpdateSecretRekeys(t *testing.T) {
	e := start(t)
	c := e.root()
	ctx := context.Background()
	k1, k2 := e.Keys.Create("alias/one"), e.Keys.Create("alias/two")
	must[*sm.CreateSecretOutput](t)(c.CreateSecret(ctx, &sm.CreateSecretInput{Name: aws.String("s"), SecretString: aws.String("v1"), KmsKeyId: aws.String("alias/one")}))
	u := must[*sm.UpdateSecretOutput](t)(c.UpdateSecret(ctx, &sm.UpdateSecretInput{SecretId: aws.String("s"), KmsKeyId: aws.String("alias/two"), Description: aws.String("moved")}))
	if u.VersionId != nil {
		t.Fatalf("UpdateSecret without a value made version %s", aws.ToString(u.VersionId))
	}
	e.Keys.SetEnabled(k1, false)
	if v := must[*sm.GetSecretValueOutput](t)(c.GetSecretValue(ctx, &sm.GetSecretValueInput{SecretId: aws.String("s")})); aws.ToString(v.SecretString) != "v1" {
		t.Fatalf("after re-encryption: %q", aws.ToString(v.SecretString))
	}
	e.Keys.SetEnabled(k2, false)
	_, err := c.GetSecretValue(ctx, &sm.GetSecretValueInput{SecretId: aws.String("s")})
	wantErr(t, err, "DecryptionFailure", 400, "")
	e.Keys.SetEnabled(k2, true)
	u = must[*sm.UpdateSecretOutput](t)(c.UpdateSecret(ctx, &sm.UpdateSecretInput{SecretId: aws.String("s"), SecretString: aws.String("v2"), ClientRequestToken: aws.String(tok2)}))
	d := must[*sm.DescribeSecretOutput](t)(c.DescribeSecret(ctx, &sm.DescribeSecretInput{SecretId: aws.String("s")}))
	if aws.ToString(u.VersionId) != tok2 || aws.ToString(d.Description) != "moved" || aws.ToString(d.KmsKeyId) != "alias/two" || len(d.VersionIdsToStages[tok2]) != 1 {
		t.Fatalf("UpdateSecret = %+v; describe %+v", u, d)
	}
	_, err = c.UpdateSecret(ctx, &sm.UpdateSecretInput{SecretId: aws.String("s"), KmsKeyId: aws.String("alias/none")})
	wantErr(t, err, "ResourceNotFoundException", 400, "KMS key")
}
