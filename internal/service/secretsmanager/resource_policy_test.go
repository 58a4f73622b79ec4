package secretsmanager_test

import (
	"context"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	sm "github.com/aws/aws-sdk-go-v2/service/secretsmanager"
)

func TestResourcePolicy(t *testing.T) {
	e := start(t)
	c := e.root()
	ctx := context.Background()
	must[*sm.CreateSecretOutput](t)(c.CreateSecret(ctx, &sm.CreateSecretInput{Name: aws.String("s"), SecretString: aws.String("v")}))
	const private = `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":{"AWS":"arn:aws:iam::111111111111:root"},"Action":"secretsmanager:GetSecretValue","Resource":"*"}]}`
	const public = `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":"*","Action":"secretsmanager:GetSecretValue","Resource":"*"}]}`
	const narrowed = `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":"*","Action":"secretsmanager:GetSecretValue","Resource":"*","Condition":{"StringEquals":{"aws:PrincipalOrgID":"o-abc123"}}}]}`

	cases := map[string]struct {
		doc       string
		block     bool
		code, msg string
		public    bool
	}{
		"account principal":        {doc: private, block: true},
		"public, not blocked":      {doc: public, public: true},
		"public, blocked":          {doc: public, block: true, code: "PublicPolicyException", msg: "The BlockPublicPolicy parameter is set to true, and the resource policy did not prevent broad access to the secret.", public: true},
		"narrowed by org, blocked": {doc: narrowed, block: true},
		"malformed":                {doc: `{"Statement":`, code: "MalformedPolicyDocumentException"},
		"no principal":             {doc: `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"secretsmanager:*","Resource":"*"}]}`, code: "MalformedPolicyDocumentException"},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			before := must[*sm.GetResourcePolicyOutput](t)(c.GetResourcePolicy(ctx, &sm.GetResourcePolicyInput{SecretId: aws.String("s")}))
			_, err := c.PutResourcePolicy(ctx, &sm.PutResourcePolicyInput{SecretId: aws.String("s"), ResourcePolicy: aws.String(tc.doc), BlockPublicPolicy: aws.Bool(tc.block)})
			v, verr := c.ValidateResourcePolicy(ctx, &sm.ValidateResourcePolicyInput{SecretId: aws.String("s"), ResourcePolicy: aws.String(tc.doc)})
			if tc.code == "MalformedPolicyDocumentException" {
				wantErr(t, verr, tc.code, 400, "")
			} else if verr != nil || v.PolicyValidationPassed == tc.public {
				t.Fatalf("ValidateResourcePolicy = %+v, %v", v, verr)
			}
			got := must[*sm.GetResourcePolicyOutput](t)(c.GetResourcePolicy(ctx, &sm.GetResourcePolicyInput{SecretId: aws.String("s")}))
			if tc.code != "" {
				wantErr(t, err, tc.code, 400, tc.msg)
				if aws.ToString(got.ResourcePolicy) != aws.ToString(before.ResourcePolicy) {
					t.Fatal("a refused policy replaced the secret's policy")
				}
				return
			}
			if err != nil || aws.ToString(got.ResourcePolicy) != tc.doc {
				t.Fatalf("PutResourcePolicy: %v; policy now %q", err, aws.ToString(got.ResourcePolicy))
			}
		})
	}
	must[*sm.DeleteResourcePolicyOutput](t)(c.DeleteResourcePolicy(ctx, &sm.DeleteResourcePolicyInput{SecretId: aws.String("s")}))
	if got := must[*sm.GetResourcePolicyOutput](t)(c.GetResourcePolicy(ctx, &sm.GetResourcePolicyInput{SecretId: aws.String("s")})); got.ResourcePolicy != nil {
		t.Fatalf("policy after delete: %q", aws.ToString(got.ResourcePolicy))
	}
}
