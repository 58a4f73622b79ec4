package secretsmanager_test

import (
	"bytes"
	"context"
	"regexp"
	"slices"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	sm "github.com/aws/aws-sdk-go-v2/service/secretsmanager"
	smtypes "github.com/aws/aws-sdk-go-v2/service/secretsmanager/types"
)

const tok1 = "11111111-1111-4111-8111-111111111111"
const tok2 = "22222222-2222-4222-8222-222222222222"
const tok3 = "33333333-3333-4333-8333-333333333333"

func TestCreateAndGetSecret(t *testing.T) {
	e := start(t)
	c := e.root()
	ctx := context.Background()
	arnRE := regexp.MustCompile(`^arn:aws:secretsmanager:us-east-1:000000000000:secret:(.+)-[A-Za-z0-9]{6}$`)

	cases := map[string]struct {
		in         sm.CreateSecretInput
		wantString *string
		wantBinary []byte
	}{
		"string": {in: sm.CreateSecretInput{Name: aws.String("app/db"), SecretString: aws.String(`{"password":"hunter2"}`), ClientRequestToken: aws.String(tok1)},
			wantString: aws.String(`{"password":"hunter2"}`)},
		"binary": {in: sm.CreateSecretInput{Name: aws.String("bin"), SecretBinary: []byte{0, 1, 2, 0xff}, ClientRequestToken: aws.String(tok1)},
			wantBinary: []byte{0, 1, 2, 0xff}},
		"with description, tags and key": {in: sm.CreateSecretInput{Name: aws.String("tagged"), SecretString: aws.String("v"), Description: aws.String("d"),
			KmsKeyId: aws.String("alias/mine"), Tags: []smtypes.Tag{{Key: aws.String("team"), Value: aws.String("red")}}, ClientRequestToken: aws.String(tok1)},
			wantString: aws.String("v")},
	}
	e.Keys.Create("alias/mine")
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			out := must[*sm.CreateSecretOutput](t)(c.CreateSecret(ctx, &tc.in))
			m := arnRE.FindStringSubmatch(aws.ToString(out.ARN))
			if m == nil || m[1] != *tc.in.Name || aws.ToString(out.Name) != *tc.in.Name || aws.ToString(out.VersionId) != tok1 {
				t.Fatalf("CreateSecret = %s %s %s", aws.ToString(out.ARN), aws.ToString(out.Name), aws.ToString(out.VersionId))
			}
			// By name, full ARN and partial ARN (without the suffix).
			partial := "arn:aws:secretsmanager:us-east-1:000000000000:secret:" + *tc.in.Name
			for _, id := range []string{*tc.in.Name, *out.ARN, partial} {
				got := must[*sm.GetSecretValueOutput](t)(c.GetSecretValue(ctx, &sm.GetSecretValueInput{SecretId: aws.String(id)}))
				if aws.ToString(got.ARN) != *out.ARN || aws.ToString(got.VersionId) != tok1 || !slices.Equal(got.VersionStages, []string{"AWSCURRENT"}) || got.CreatedDate == nil {
					t.Fatalf("GetSecretValue(%s) = %+v", id, got)
				}
				if !equalPtr(got.SecretString, tc.wantString) || !bytes.Equal(got.SecretBinary, tc.wantBinary) {
					t.Fatalf("GetSecretValue(%s) value = %v %v", id, aws.ToString(got.SecretString), got.SecretBinary)
				}
			}
			d := must[*sm.DescribeSecretOutput](t)(c.DescribeSecret(ctx, &sm.DescribeSecretInput{SecretId: out.ARN}))
			if aws.ToString(d.Description) != aws.ToString(tc.in.Description) || aws.ToString(d.KmsKeyId) != aws.ToString(tc.in.KmsKeyId) ||
				len(d.Tags) != len(tc.in.Tags) || !slices.Equal(d.VersionIdsToStages[tok1], []string{"AWSCURRENT"}) || d.CreatedDate == nil || d.LastAccessedDate == nil {
				t.Fatalf("DescribeSecret = %+v", d)
			}
		})
	}
	// The data key was made for the secret and version, through Secrets Manager.
	ec := e.Keys.Contexts[0]
	if ec["SecretVersionId"] != tok1 || !arnRE.MatchString(ec["SecretARN"]) || e.Keys.Vias[0] != "secretsmanager.us-east-1.amazonaws.com" {
		t.Fatalf("encryption context %v via %s", ec, e.Keys.Vias[0])
	}
	if e.Keys.Managed() == "" {
		t.Fatal("the AWS managed key aws/secretsmanager was not used")
	}
}

func equalPtr(a, b *string) bool {
	return (a == nil) == (b == nil) && aws.ToString(a) == aws.ToString(b)
}

func TestCreateSecretErrors(t *testing.T) {
	e := start(t)
	c := e.root()
	ctx := context.Background()
	must[*sm.CreateSecretOutput](t)(c.CreateSecret(ctx, &sm.CreateSecretInput{Name: aws.String("taken"), SecretString: aws.String("v"), ClientRequestToken: aws.String(tok1)}))
	cases := map[string]struct {
		in        sm.CreateSecretInput
		code, msg string
	}{
		"both values":             {sm.CreateSecretInput{Name: aws.String("x"), SecretString: aws.String("a"), SecretBinary: []byte("b")}, "InvalidParameterException", "You can't specify both a binary secret value and a string secret value in the same secret."},
		"name exists":             {sm.CreateSecretInput{Name: aws.String("taken"), SecretString: aws.String("v"), ClientRequestToken: aws.String(tok2)}, "ResourceExistsException", "The operation failed because the secret taken already exists."},
		"same token, other value": {sm.CreateSecretInput{Name: aws.String("taken"), SecretString: aws.String("other"), ClientRequestToken: aws.String(tok1)}, "ResourceExistsException", "You can't modify an existing version, you can only create new versions."},
		"bad name":                {sm.CreateSecretInput{Name: aws.String("bad name#"), SecretString: aws.String("v")}, "InvalidParameterException", "Invalid name."},
		"unknown key":             {sm.CreateSecretInput{Name: aws.String("k"), SecretString: aws.String("v"), KmsKeyId: aws.String("alias/nope")}, "ResourceNotFoundException", "KMS key"},
		"reserved tag":            {sm.CreateSecretInput{Name: aws.String("t"), Tags: []smtypes.Tag{{Key: aws.String("aws:x"), Value: aws.String("v")}}}, "InvalidParameterException", "aws:"},
		"short token":             {sm.CreateSecretInput{Name: aws.String("s"), SecretString: aws.String("v"), ClientRequestToken: aws.String("short")}, "ValidationException", ""},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			_, err := c.CreateSecret(ctx, &tc.in)
			wantErr(t, err, tc.code, 400, tc.msg)
		})
	}
	// None of them changed anything: one secret, one version.
	l := must[*sm.ListSecretsOutput](t)(c.ListSecrets(ctx, &sm.ListSecretsInput{}))
	if len(l.SecretList) != 1 || len(l.SecretList[0].SecretVersionsToStages) != 1 {
		t.Fatalf("ListSecrets after bad input = %+v", l.SecretList)
	}
	// The same token and value again: the first answer, nothing new.
	again := must[*sm.CreateSecretOutput](t)(c.CreateSecret(ctx, &sm.CreateSecretInput{Name: aws.String("taken"), SecretString: aws.String("v"), ClientRequestToken: aws.String(tok1)}))
	if aws.ToString(again.ARN) != aws.ToString(l.SecretList[0].ARN) || aws.ToString(again.VersionId) != tok1 {
		t.Fatalf("idempotent retry = %+v", again)
	}
}

func TestGetSecretValueVersions(t *testing.T) {
	e := start(t)
	c := e.root()
	ctx := context.Background()
	must[*sm.CreateSecretOutput](t)(c.CreateSecret(ctx, &sm.CreateSecretInput{Name: aws.String("s"), SecretString: aws.String("one"), ClientRequestToken: aws.String(tok1)}))
	must[*sm.PutSecretValueOutput](t)(c.PutSecretValue(ctx, &sm.PutSecretValueInput{SecretId: aws.String("s"), SecretString: aws.String("two"), ClientRequestToken: aws.String(tok2)}))
	must[*sm.PutSecretValueOutput](t)(c.PutSecretValue(ctx, &sm.PutSecretValueInput{SecretId: aws.String("s"), SecretString: aws.String("three"), ClientRequestToken: aws.String(tok3), VersionStages: []string{"AWSPENDING"}}))
	must[*sm.CreateSecretOutput](t)(c.CreateSecret(ctx, &sm.CreateSecretInput{Name: aws.String("empty")}))

	cases := map[string]struct {
		id, versionID, stage string
		want                 string
		code, msg            string
	}{
		"current by default": {id: "s", want: "two"},
		"previous":           {id: "s", stage: "AWSPREVIOUS", want: "one"},
		"pending":            {id: "s", stage: "AWSPENDING", want: "three"},
		"by version":         {id: "s", versionID: tok1, want: "one"},
		"version and stage":  {id: "s", versionID: tok2, stage: "AWSCURRENT", want: "two"},
		"mismatch":           {id: "s", versionID: tok1, stage: "AWSCURRENT", code: "InvalidRequestException", msg: "You provided a VersionStage that is not associated to the provided VersionId."},
		"unknown version":    {id: "s", versionID: "99999999-9999-4999-8999-999999999999", code: "ResourceNotFoundException", msg: "Secrets Manager can't find the specified secret value for VersionId: 99999999-9999-4999-8999-999999999999"},
		"unknown stage":      {id: "s", stage: "NOPE", code: "ResourceNotFoundException", msg: "Secrets Manager can't find the specified secret value for staging label: NOPE"},
		"no value yet":       {id: "empty", code: "ResourceNotFoundException", msg: "Secrets Manager can't find the specified secret value for staging label: AWSCURRENT"},
		"unknown secret":     {id: "nope", code: "ResourceNotFoundException", msg: "Secrets Manager can't find the specified secret."},
		"other suffix":       {id: "arn:aws:secretsmanager:us-east-1:000000000000:secret:s-AAAAAA", code: "ResourceNotFoundException", msg: "Secrets Manager can't find the specified secret."},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			in := &sm.GetSecretValueInput{SecretId: aws.String(tc.id)}
			if tc.versionID != "" {
				in.VersionId = aws.String(tc.versionID)
			}
			if tc.stage != "" {
				in.VersionStage = aws.String(tc.stage)
			}
			got, err := c.GetSecretValue(ctx, in)
			if tc.code != "" {
				wantErr(t, err, tc.code, 400, tc.msg)
				return
			}
			if err != nil || aws.ToString(got.SecretString) != tc.want {
				t.Fatalf("GetSecretValue = %v, %v; want %q", got, err, tc.want)
			}
		})
	}
}
