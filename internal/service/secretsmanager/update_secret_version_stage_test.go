package secretsmanager_test

import (
	"context"
	"fmt"
	"slices"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	sm "github.com/aws/aws-sdk-go-v2/service/secretsmanager"

	"github.com/rampart/rampart/internal/store"
)

// stages returns the secret's version → labels map.
func stages(t *testing.T, c *sm.Client, id string) map[string][]string {
	t.Helper()
	d := must[*sm.DescribeSecretOutput](t)(c.DescribeSecret(context.Background(), &sm.DescribeSecretInput{SecretId: aws.String(id)}))
	for _, v := range d.VersionIdsToStages {
		slices.Sort(v)
	}
	return d.VersionIdsToStages
}

func TestPutSecretValueMovesLabels(t *testing.T) {
	e := start(t)
	c := e.root()
	ctx := context.Background()
	must[*sm.CreateSecretOutput](t)(c.CreateSecret(ctx, &sm.CreateSecretInput{Name: aws.String("s"), SecretString: aws.String("one"), ClientRequestToken: aws.String(tok1)}))
	p := must[*sm.PutSecretValueOutput](t)(c.PutSecretValue(ctx, &sm.PutSecretValueInput{SecretId: aws.String("s"), SecretString: aws.String("two"), ClientRequestToken: aws.String(tok2)}))
	if aws.ToString(p.VersionId) != tok2 || !slices.Equal(p.VersionStages, []string{"AWSCURRENT"}) {
		t.Fatalf("PutSecretValue = %+v", p)
	}
	if got := stages(t, c, "s"); !slices.Equal(got[tok1], []string{"AWSPREVIOUS"}) || !slices.Equal(got[tok2], []string{"AWSCURRENT"}) {
		t.Fatalf("after put: %v", got)
	}
	// A third version: the first loses AWSPREVIOUS and is deprecated.
	must[*sm.PutSecretValueOutput](t)(c.PutSecretValue(ctx, &sm.PutSecretValueInput{SecretId: aws.String("s"), SecretBinary: []byte{9}, ClientRequestToken: aws.String(tok3)}))
	got := stages(t, c, "s")
	if _, ok := got[tok1]; ok || !slices.Equal(got[tok2], []string{"AWSPREVIOUS"}) || !slices.Equal(got[tok3], []string{"AWSCURRENT"}) {
		t.Fatalf("after second put: %v", got)
	}
	l := must[*sm.ListSecretVersionIdsOutput](t)(c.ListSecretVersionIds(ctx, &sm.ListSecretVersionIdsInput{SecretId: aws.String("s")}))
	all := must[*sm.ListSecretVersionIdsOutput](t)(c.ListSecretVersionIds(ctx, &sm.ListSecretVersionIdsInput{SecretId: aws.String("s"), IncludeDeprecated: aws.Bool(true)}))
	if len(l.Versions) != 2 || len(all.Versions) != 3 || len(all.Versions[0].KmsKeyIds) != 1 {
		t.Fatalf("ListSecretVersionIds: %d labelled, %d in all (%+v)", len(l.Versions), len(all.Versions), all.Versions)
	}
	// A deprecated version still reads by id until it is dropped.
	old := must[*sm.GetSecretValueOutput](t)(c.GetSecretValue(ctx, &sm.GetSecretValueInput{SecretId: aws.String("s"), VersionId: aws.String(tok1)}))
	if aws.ToString(old.SecretString) != "one" || len(old.VersionStages) != 0 {
		t.Fatalf("deprecated version = %+v", old)
	}
	// Idempotent retry, and a conflicting one.
	again := must[*sm.PutSecretValueOutput](t)(c.PutSecretValue(ctx, &sm.PutSecretValueInput{SecretId: aws.String("s"), SecretBinary: []byte{9}, ClientRequestToken: aws.String(tok3)}))
	if aws.ToString(again.VersionId) != tok3 {
		t.Fatalf("retry = %+v", again)
	}
	_, err := c.PutSecretValue(ctx, &sm.PutSecretValueInput{SecretId: aws.String("s"), SecretBinary: []byte{8}, ClientRequestToken: aws.String(tok3)})
	wantErr(t, err, "ResourceExistsException", 400, "You can't modify an existing version")
	_, err = c.PutSecretValue(ctx, &sm.PutSecretValueInput{SecretId: aws.String("s"), ClientRequestToken: aws.String("44444444-4444-4444-8444-444444444444")})
	wantErr(t, err, "InvalidRequestException", 400, "SecretString or SecretBinary")
	_, err = c.PutSecretValue(ctx, &sm.PutSecretValueInput{SecretId: aws.String("nope"), SecretString: aws.String("x")})
	wantErr(t, err, "ResourceNotFoundException", 400, "Secrets Manager can't find the specified secret.")
}

func TestUpdateSecretVersionStage(t *testing.T) {
	e := start(t)
	c := e.root()
	ctx := context.Background()
	must[*sm.CreateSecretOutput](t)(c.CreateSecret(ctx, &sm.CreateSecretInput{Name: aws.String("s"), SecretString: aws.String("one"), ClientRequestToken: aws.String(tok1)}))
	must[*sm.PutSecretValueOutput](t)(c.PutSecretValue(ctx, &sm.PutSecretValueInput{SecretId: aws.String("s"), SecretString: aws.String("two"), ClientRequestToken: aws.String(tok2), VersionStages: []string{"AWSPENDING", "blue"}}))

	steps := []struct {
		name         string
		stage        string
		remove, move string
		code, msg    string
		want         map[string][]string
	}{
		{name: "current needs remove-from", stage: "AWSCURRENT", move: tok2, code: "InvalidParameterException",
			msg: "The parameter RemoveFromVersionId can't be empty. Staging label AWSCURRENT is currently attached to version " + tok1},
		{name: "label not on version", stage: "blue", remove: tok1, code: "InvalidParameterException", msg: "not attached"},
		{name: "unknown version", stage: "blue", move: "55555555-5555-4555-8555-555555555555", code: "InvalidParameterException", msg: "Not a valid version"},
		{name: "custom label moves", stage: "green", move: tok1,
			want: map[string][]string{tok1: {"AWSCURRENT", "green"}, tok2: {"AWSPENDING", "blue"}}},
		{name: "promote pending", stage: "AWSCURRENT", remove: tok1, move: tok2,
			want: map[string][]string{tok1: {"AWSPREVIOUS", "green"}, tok2: {"AWSCURRENT", "AWSPENDING", "blue"}}},
		{name: "remove a label", stage: "AWSPENDING", remove: tok2,
			want: map[string][]string{tok1: {"AWSPREVIOUS", "green"}, tok2: {"AWSCURRENT", "blue"}}},
		{name: "current cannot just go", stage: "AWSCURRENT", remove: tok2, code: "InvalidParameterException", msg: "AWSCURRENT"},
	}
	for _, st := range steps {
		t.Run(st.name, func(t *testing.T) {
			in := &sm.UpdateSecretVersionStageInput{SecretId: aws.String("s"), VersionStage: aws.String(st.stage)}
			if st.remove != "" {
				in.RemoveFromVersionId = aws.String(st.remove)
			}
			if st.move != "" {
				in.MoveToVersionId = aws.String(st.move)
			}
			before := stages(t, c, "s")
			_, err := c.UpdateSecretVersionStage(ctx, in)
			if st.code != "" {
				wantErr(t, err, st.code, 400, st.msg)
				if after := stages(t, c, "s"); fmt.Sprint(after) != fmt.Sprint(before) {
					t.Fatalf("a failed call changed the labels: %v → %v", before, after)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if got := stages(t, c, "s"); fmt.Sprint(got) != fmt.Sprint(st.want) {
				t.Fatalf("labels = %v, want %v", got, st.want)
			}
		})
	}
	if v := must[*sm.GetSecretValueOutput](t)(c.GetSecretValue(ctx, &sm.GetSecretValueInput{SecretId: aws.String("s")})); aws.ToString(v.SecretString) != "two" {
		t.Fatalf("AWSCURRENT reads %q", aws.ToString(v.SecretString))
	}
}

// Versions without labels are dropped once a secret has more than 100
// versions, oldest first, but only when they are more than a day old.
func TestDeprecatedVersionsDropped(t *testing.T) {
	e := start(t)
	c := e.root()
	ctx := context.Background()
	must[*sm.CreateSecretOutput](t)(c.CreateSecret(ctx, &sm.CreateSecretInput{Name: aws.String("s"), SecretString: aws.String("v0"), ClientRequestToken: aws.String(token(0))}))
	for i := 1; i < 100; i++ {
		must[*sm.PutSecretValueOutput](t)(c.PutSecretValue(ctx, &sm.PutSecretValueInput{SecretId: aws.String("s"), SecretString: aws.String(fmt.Sprint("v", i)), ClientRequestToken: aws.String(token(i))}))
	}
	// The 101st version within a day: nothing may be dropped yet.
	_, err := c.PutSecretValue(ctx, &sm.PutSecretValueInput{SecretId: aws.String("s"), SecretString: aws.String("v100"), ClientRequestToken: aws.String(token(100))})
	wantErr(t, err, "LimitExceededException", 400, "maximum number of versions")
	e.advance(25 * time.Hour)
	sk := e.skewed()
	must[*sm.PutSecretValueOutput](t)(sk.PutSecretValue(ctx, &sm.PutSecretValueInput{SecretId: aws.String("s"), SecretString: aws.String("v100"), ClientRequestToken: aws.String(token(100))}))
	all := must[*sm.ListSecretVersionIdsOutput](t)(sk.ListSecretVersionIds(ctx, &sm.ListSecretVersionIdsInput{SecretId: aws.String("s"), IncludeDeprecated: aws.Bool(true)}))
	if len(all.Versions) != 100 {
		t.Fatalf("%d versions, want 100", len(all.Versions))
	}
	_, err = sk.GetSecretValue(ctx, &sm.GetSecretValueInput{SecretId: aws.String("s"), VersionId: aws.String(token(0))})
	wantErr(t, err, "ResourceNotFoundException", 400, "VersionId")
	// Its value is gone from the store too.
	var n int
	if err := e.Store.View(ctx, func(tx store.Tx) error { n, err = tx.Count("secretsmanager.value", ""); return err }); err != nil || n != 100 {
		t.Fatalf("%d stored values (%v), want 100", n, err)
	}
}

func token(i int) string { return fmt.Sprintf("%08d-0000-4000-8000-000000000000", i) }
