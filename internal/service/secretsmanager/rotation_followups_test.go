package secretsmanager_test

import (
	"context"
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	sm "github.com/aws/aws-sdk-go-v2/service/secretsmanager"
	smtypes "github.com/aws/aws-sdk-go-v2/service/secretsmanager/types"

	"github.com/rampart/rampart/internal/service/secretsmanager"
)

// passingFunction registers as fnARN a rotation function that answers
// every step with success and does nothing: what a test needs whose
// RotateSecret with RotateImmediately=false must pass the testSecret step.
func passingFunction(t *testing.T, e *env) {
	t.Helper()
	fn := httptest.NewServer(http.HandlerFunc(func(http.ResponseWriter, *http.Request) {}))
	t.Cleanup(fn.Close)
	e.Svc.RegisterFunction(fnARN, &secretsmanager.HTTPFunction{URL: fn.URL})
}

// versionIDs lists every version of id, labelled or not.
func versionIDs(t *testing.T, c *sm.Client, id string) []string {
	t.Helper()
	out := must[*sm.ListSecretVersionIdsOutput](t)(c.ListSecretVersionIds(context.Background(), &sm.ListSecretVersionIdsInput{SecretId: aws.String(id), IncludeDeprecated: aws.Bool(true)}))
	var ids []string
	for _, v := range out.Versions {
		ids = append(ids, aws.ToString(v.VersionId))
	}
	slices.Sort(ids)
	return ids
}

// RotateSecret with RotateImmediately=false "tests the rotation
// configuration by running the testSecret step of the Lambda rotation
// function. The test creates an AWSPENDING version of the secret and then
// removes it" (API reference). The function gets only testSecret, with
// the request's token as the AWSPENDING version, which holds the current
// value and is gone afterwards. A failing test refuses the call with the
// function's reason and saves nothing; a secret with an unfinished
// rotation, or without a value, is refused too.
func TestRotateSecretNotImmediatelyTestsTheConfiguration(t *testing.T) {
	e := start(t)
	c := e.root()
	ctx := context.Background()
	db := &fakeDB{password: "initial"}
	fn := httptest.NewServer(db.handler(t, e.root()))
	defer fn.Close()
	e.Svc.RegisterFunction(fnARN, &secretsmanager.HTTPFunction{URL: fn.URL})
	must[*sm.CreateSecretOutput](t)(c.CreateSecret(ctx, &sm.CreateSecretInput{Name: aws.String("db"), SecretString: aws.String("initial"), ClientRequestToken: aws.String(tok1)}))
	describe := func(id string) *sm.DescribeSecretOutput {
		t.Helper()
		return must[*sm.DescribeSecretOutput](t)(c.DescribeSecret(ctx, &sm.DescribeSecretInput{SecretId: aws.String(id)}))
	}
	reset := func(password, failStep string) {
		db.mu.Lock()
		db.password, db.failStep, db.steps = password, failStep, nil
		db.mu.Unlock()
	}

	// The test passes: the fake's testSecret step reads the AWSPENDING
	// version named by the token and compares it with the database's
	// password, which is the current value.
	r := must[*sm.RotateSecretOutput](t)(c.RotateSecret(ctx, &sm.RotateSecretInput{SecretId: aws.String("db"), RotationLambdaARN: aws.String(fnARN),
		RotationRules: &smtypes.RotationRulesType{AutomaticallyAfterDays: aws.Int64(30)}, RotateImmediately: aws.Bool(false), ClientRequestToken: aws.String(tok2)}))
	if r.VersionId != nil {
		t.Fatalf("RotateSecret without rotating returned VersionId %s", aws.ToString(r.VersionId))
	}
	if steps := db.stepsSoFar(); !slices.Equal(steps, []string{"testSecret"}) {
		t.Fatalf("steps %v, want testSecret only", steps)
	}
	d := describe("db")
	if !aws.ToBool(d.RotationEnabled) || aws.ToInt64(d.RotationRules.AutomaticallyAfterDays) != 30 || d.LastRotatedDate != nil {
		t.Fatalf("after a passed test: %+v", d)
	}
	if ids := versionIDs(t, c, "db"); !slices.Equal(ids, []string{tok1}) || !slices.Equal(d.VersionIdsToStages[tok1], []string{"AWSCURRENT"}) {
		t.Fatalf("the test's AWSPENDING version was not removed: %v, %v", ids, d.VersionIdsToStages)
	}
	_, err := c.GetSecretValue(ctx, &sm.GetSecretValueInput{SecretId: aws.String("db"), VersionId: aws.String(tok2)})
	wantErr(t, err, "ResourceNotFoundException", 400, "")

	// The test fails: the function's reason, and the configuration stays
	// as it was (30 days), the secret's versions too.
	for name, tc := range map[string]struct{ password, failStep, msg string }{
		"function refuses": {"initial", "testSecret", "the database refused the new password"},
		"login fails":      {"changed elsewhere", "", "login with the pending password failed"},
	} {
		t.Run(name, func(t *testing.T) {
			reset(tc.password, tc.failStep)
			_, err := c.RotateSecret(ctx, &sm.RotateSecretInput{SecretId: aws.String("db"), RotationRules: &smtypes.RotationRulesType{AutomaticallyAfterDays: aws.Int64(7)},
				RotateImmediately: aws.Bool(false), ClientRequestToken: aws.String(tok3)})
			wantErr(t, err, "InvalidRequestException", 400, "the testSecret step of the rotation function "+fnARN+" failed")
			if _, msg, _ := apiErr(t, err); !strings.Contains(msg, tc.msg) {
				t.Fatalf("message %q lacks the function's reason %q", msg, tc.msg)
			}
			if steps := db.stepsSoFar(); !slices.Equal(steps, []string{"testSecret"}) {
				t.Fatalf("steps %v", steps)
			}
			if d := describe("db"); aws.ToInt64(d.RotationRules.AutomaticallyAfterDays) != 30 || !aws.ToBool(d.RotationEnabled) {
				t.Fatalf("a failed test changed the configuration: %+v", d.RotationRules)
			}
			if ids := versionIDs(t, c, "db"); !slices.Equal(ids, []string{tok1}) {
				t.Fatalf("versions after a failed test: %v", ids)
			}
		})
	}
	// A secret without rotation stays without it when its test fails.
	must[*sm.CreateSecretOutput](t)(c.CreateSecret(ctx, &sm.CreateSecretInput{Name: aws.String("fresh"), SecretString: aws.String("v")}))
	reset("initial", "")
	_, err = c.RotateSecret(ctx, &sm.RotateSecretInput{SecretId: aws.String("fresh"), RotationLambdaARN: aws.String(fnARN), RotateImmediately: aws.Bool(false),
		RotationRules: &smtypes.RotationRulesType{ScheduleExpression: aws.String("rate(10 days)")}})
	wantErr(t, err, "InvalidRequestException", 400, "login with the pending password failed")
	if d := describe("fresh"); d.RotationEnabled != nil || d.RotationLambdaARN != nil || d.RotationRules != nil {
		t.Fatalf("a failed test configured rotation: %+v", d)
	}
	// Nothing to test with: a secret without a value.
	must[*sm.CreateSecretOutput](t)(c.CreateSecret(ctx, &sm.CreateSecretInput{Name: aws.String("empty")}))
	_, err = c.RotateSecret(ctx, &sm.RotateSecretInput{SecretId: aws.String("empty"), RotationLambdaARN: aws.String(fnARN), RotateImmediately: aws.Bool(false)})
	wantErr(t, err, "InvalidRequestException", 400, "no AWSCURRENT version")
	if d := describe("empty"); d.RotationEnabled != nil {
		t.Fatalf("an untestable secret got rotation: %+v", d)
	}

	// An unfinished rotation (AWSPENDING on a version that is not
	// current) refuses any later RotateSecret, this one too, and the
	// function is not called.
	reset("initial", "setSecret")
	must[*sm.RotateSecretOutput](t)(c.RotateSecret(ctx, &sm.RotateSecretInput{SecretId: aws.String("db"), ClientRequestToken: aws.String(tok3)}))
	waitFailed(t, c, "db")
	reset("initial", "")
	_, err = c.RotateSecret(ctx, &sm.RotateSecretInput{SecretId: aws.String("db"), RotateImmediately: aws.Bool(false),
		RotationRules: &smtypes.RotationRulesType{AutomaticallyAfterDays: aws.Int64(7)}})
	wantErr(t, err, "InvalidRequestException", 400, "A previous rotation isn't complete.")
	if steps := db.stepsSoFar(); len(steps) != 0 {
		t.Fatalf("the function was called during an unfinished rotation: %v", steps)
	}
	if d := describe("db"); !slices.Equal(d.VersionIdsToStages[tok3], []string{"AWSPENDING"}) || aws.ToInt64(d.RotationRules.AutomaticallyAfterDays) != 30 {
		t.Fatalf("after the refused test: %v, %+v", d.VersionIdsToStages, d.RotationRules)
	}
}

// The built-in PostgreSQL rotator's testSecret step logs in with the
// AWSPENDING credentials: with RotateImmediately=false it proves that the
// secret's current credentials log in, and changes no password; with
// credentials the server refuses, RotateSecret is refused and configures
// nothing.
func TestPostgresRotatorTestsTheConfiguration(t *testing.T) {
	admin := pgAdmin(t)
	e := start(t)
	c := e.root()
	ctx := context.Background()
	const pw = "Test-Passw0rd-for-the-test"
	role := newRole(t, admin, pw)
	requirePasswords(t, admin, role, pw)
	const single = "arn:aws:lambda:us-east-1:000000000000:function:SecretsManagerRDSPostgreSQLRotationSingleUser"
	must[*sm.CreateSecretOutput](t)(c.CreateSecret(ctx, &sm.CreateSecretInput{Name: aws.String("db/good"), SecretString: aws.String(dbJSON(t, role, pw, "")), ClientRequestToken: aws.String(tok1)}))
	must[*sm.CreateSecretOutput](t)(c.CreateSecret(ctx, &sm.CreateSecretInput{Name: aws.String("db/bad"), SecretString: aws.String(dbJSON(t, role, "not-"+pw, ""))}))

	must[*sm.RotateSecretOutput](t)(c.RotateSecret(ctx, &sm.RotateSecretInput{SecretId: aws.String("db/good"), RotationLambdaARN: aws.String(single),
		RotationRules: &smtypes.RotationRulesType{AutomaticallyAfterDays: aws.Int64(30)}, RotateImmediately: aws.Bool(false), ClientRequestToken: aws.String(tok2)}))
	if d := must[*sm.DescribeSecretOutput](t)(c.DescribeSecret(ctx, &sm.DescribeSecretInput{SecretId: aws.String("db/good")})); !aws.ToBool(d.RotationEnabled) || d.LastRotatedDate != nil {
		t.Fatalf("after the test: %+v", d)
	}
	if ids := versionIDs(t, c, "db/good"); !slices.Equal(ids, []string{tok1}) {
		t.Fatalf("versions after the test: %v", ids)
	}
	if v := rolpassword(t, admin, role); !scramMatches(t, v, pw) {
		t.Fatal("the test changed the role's password")
	}
	wantLogin(t, role, pw, false)

	_, err := c.RotateSecret(ctx, &sm.RotateSecretInput{SecretId: aws.String("db/bad"), RotationLambdaARN: aws.String(single), RotateImmediately: aws.Bool(false)})
	wantErr(t, err, "InvalidRequestException", 400, "could not log in with the pending credentials")
	if _, msg, _ := apiErr(t, err); strings.Contains(msg, pw) {
		t.Fatalf("the refusal shows the password: %q", msg)
	}
	if d := must[*sm.DescribeSecretOutput](t)(c.DescribeSecret(ctx, &sm.DescribeSecretInput{SecretId: aws.String("db/bad")})); d.RotationEnabled != nil {
		t.Fatalf("a failed test configured rotation: %+v", d)
	}
}

// The limits of "Schedule expressions in Secrets Manager rotation": a
// cron expression's minutes must be 0 (windows open on the hour), its
// year *, its day fields take L (and day-of-week #) but not W, and it
// rotates at most every four hours; a rate is at most 999 days (while
// AutomaticallyAfterDays goes to 1000, its API range). A refused rule is
// InvalidParameterException and changes nothing.
func TestScheduleExpressionLimits(t *testing.T) {
	e := start(t)
	c := e.root()
	ctx := context.Background()
	passingFunction(t, e)
	must[*sm.CreateSecretOutput](t)(c.CreateSecret(ctx, &sm.CreateSecretInput{Name: aws.String("s"), SecretString: aws.String("v")}))
	bad := map[string]string{
		"cron(30 4 ? * SUN *)":    "the minutes field must be 0",
		"cron(0/30 4 ? * SUN *)":  "the minutes field must be 0",
		"cron(0 4 ? * SUN 2030)":  "the year field must be *",
		"cron(0 0,2 * * ? *)":     "at most every four hours",
		"cron(0 0/3 * * ? *)":     "at most every four hours",
		"cron(0 8 3W * ? *)":      "does not support the W wildcard",
		"cron(0 8 LW * ? *)":      "does not support the W wildcard",
		"cron(0 0 ? * SUN#6 *)":   "between 1 and 5",
		"cron(0 0 ? * MON#1,2 *)": "use # in every item",
		"cron(0 0 L * SUN#1 *)":   "exactly one of day-of-month and day-of-week must be ?",
		"rate(1000 days)":         "a rate in days must be between 1 and 999",
		"rate(3 hours)":           "a rate in hours must be between 4 and 23",
	}
	for expr, msg := range bad {
		t.Run(expr, func(t *testing.T) {
			_, err := c.RotateSecret(ctx, &sm.RotateSecretInput{SecretId: aws.String("s"), RotationLambdaARN: aws.String(fnARN), RotateImmediately: aws.Bool(false),
				RotationRules: &smtypes.RotationRulesType{ScheduleExpression: aws.String(expr)}})
			wantErr(t, err, "InvalidParameterException", 400, msg)
			if _, m, _ := apiErr(t, err); !strings.HasPrefix(m, "The ScheduleExpression "+expr+" is not valid: ") {
				t.Fatalf("message %q", m)
			}
			if d := must[*sm.DescribeSecretOutput](t)(c.DescribeSecret(ctx, &sm.DescribeSecretInput{SecretId: aws.String("s")})); d.RotationEnabled != nil {
				t.Fatalf("a refused rule configured rotation: %+v", d)
			}
		})
	}

	// Accepted, with the window each opens next (default window: the rest
	// of the UTC day for these schedules in days). NextRotationDate is the
	// window's last second.
	lastDay := func(t time.Time) time.Time {
		for d := time.Date(t.Year(), t.Month(), 1, 8, 0, 0, 0, time.UTC); ; d = d.AddDate(0, 1, 0) {
			if at := d.AddDate(0, 1, -1); at.After(t) {
				return at
			}
		}
	}
	firstSunday := func(t time.Time) time.Time {
		for d := time.Date(t.Year(), t.Month(), 1, 0, 0, 0, 0, time.UTC); ; d = d.AddDate(0, 1, 0) {
			at := d
			for at.Weekday() != time.Sunday {
				at = at.AddDate(0, 0, 1)
			}
			if at.After(t) {
				return at
			}
		}
	}
	saturday := func(t time.Time) time.Time {
		for d := time.Date(t.Year(), t.Month(), t.Day(), 6, 0, 0, 0, time.UTC); ; d = d.AddDate(0, 0, 1) {
			if d.Weekday() == time.Saturday && d.After(t) {
				return d
			}
		}
	}
	endOfDay := func(t time.Time) time.Time { return utcDay(t).AddDate(0, 0, 1).Add(-time.Second) }
	good := map[string]func(time.Time) time.Time{
		"cron(0 8 L * ? *)":     func(t time.Time) time.Time { return endOfDay(lastDay(t)) },
		"cron(0 0 ? * SUN#1 *)": func(t time.Time) time.Time { return endOfDay(firstSunday(t)) },
		"cron(0 6 ? * L *)":     func(t time.Time) time.Time { return endOfDay(saturday(t)) },
		"cron(0 0,4,8 * * ? *)": func(t time.Time) time.Time { return nextHour(t, 0, 4, 8).Add(time.Hour - time.Second) },
		"rate(999 days)":        func(t time.Time) time.Time { return endOfDay(utcDay(t).AddDate(0, 0, 999)) },
	}
	for expr, next := range good {
		t.Run(expr, func(t *testing.T) {
			before := time.Now().UTC()
			must[*sm.RotateSecretOutput](t)(c.RotateSecret(ctx, &sm.RotateSecretInput{SecretId: aws.String("s"), RotationLambdaARN: aws.String(fnARN), RotateImmediately: aws.Bool(false),
				RotationRules: &smtypes.RotationRulesType{ScheduleExpression: aws.String(expr)}}))
			after := time.Now().UTC()
			d := must[*sm.DescribeSecretOutput](t)(c.DescribeSecret(ctx, &sm.DescribeSecretInput{SecretId: aws.String("s")}))
			if d.NextRotationDate == nil || !(d.NextRotationDate.Equal(next(before)) || d.NextRotationDate.Equal(next(after))) {
				t.Fatalf("NextRotationDate %v, want %v", d.NextRotationDate, next(before))
			}
		})
	}
	// AutomaticallyAfterDays keeps its API range, 1 to 1000.
	must[*sm.RotateSecretOutput](t)(c.RotateSecret(ctx, &sm.RotateSecretInput{SecretId: aws.String("s"), RotationLambdaARN: aws.String(fnARN), RotateImmediately: aws.Bool(false),
		RotationRules: &smtypes.RotationRulesType{AutomaticallyAfterDays: aws.Int64(1000)}}))
}

// A caller of another account cannot put a value into a secret encrypted
// with the AWS managed key aws/secretsmanager, even where the secret's
// resource policy and its own identity policy allow it: AWS answers as it
// does for GetSecretValue ("You can't access a secret from a different AWS
// account if you encrypt the secret with the default KMS service key.").
// UpdateSecret with a value is refused the same way. Under a customer
// managed key the same caller writes.
func TestPutSecretValueCrossAccountDefaultKey(t *testing.T) {
	e := start(t)
	root := e.root()
	ctx := context.Background()
	writer, writerARN := e.user(other, "writer", `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":["secretsmanager:PutSecretValue","secretsmanager:GetSecretValue","secretsmanager:UpdateSecret"],"Resource":"*"}]}`)
	grant := aws.String(`{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":{"AWS":"` + writerARN + `"},"Action":["secretsmanager:PutSecretValue","secretsmanager:GetSecretValue","secretsmanager:UpdateSecret"],"Resource":"*"}]}`)
	secret := func(name, key string) string {
		t.Helper()
		in := &sm.CreateSecretInput{Name: aws.String(name), SecretString: aws.String("v0")}
		if key != "" {
			in.KmsKeyId = aws.String(key)
		}
		out := must[*sm.CreateSecretOutput](t)(root.CreateSecret(ctx, in))
		must[*sm.PutResourcePolicyOutput](t)(root.PutResourcePolicy(ctx, &sm.PutResourcePolicyInput{SecretId: out.ARN, ResourcePolicy: grant}))
		return aws.ToString(out.ARN)
	}
	managed := secret("managed", "")
	custom := secret("custom", e.Keys.Create(""))
	const msg = "You can't access a secret from a different AWS account if you encrypt the secret with the default KMS service key."

	_, err := writer.PutSecretValue(ctx, &sm.PutSecretValueInput{SecretId: aws.String(managed), SecretString: aws.String("from elsewhere"), ClientRequestToken: aws.String(tok2)})
	wantErr(t, err, "InvalidRequestException", 400, msg)
	// Idempotent retries of an existing version are refused the same way.
	_, err = writer.PutSecretValue(ctx, &sm.PutSecretValueInput{SecretId: aws.String(managed), SecretString: aws.String("v0"),
		ClientRequestToken: aws.String(versionIDs(t, root, managed)[0])})
	wantErr(t, err, "InvalidRequestException", 400, msg)
	if ids := versionIDs(t, root, managed); len(ids) != 1 || value(t, root, managed) != "v0" {
		t.Fatalf("the refused write changed the secret: %v, %q", ids, value(t, root, managed))
	}
	_, err = writer.GetSecretValue(ctx, &sm.GetSecretValueInput{SecretId: aws.String(managed)})
	wantErr(t, err, "InvalidRequestException", 400, msg)

	// UpdateSecret with a value is a write of a value too.
	_, err = writer.UpdateSecret(ctx, &sm.UpdateSecretInput{SecretId: aws.String(managed), SecretString: aws.String("from elsewhere")})
	wantErr(t, err, "InvalidRequestException", 400, msg)
	if ids := versionIDs(t, root, managed); len(ids) != 1 || value(t, root, managed) != "v0" {
		t.Fatalf("the refused update changed the secret: %v, %q", ids, value(t, root, managed))
	}
	// Moving the secret to the managed key in the same call is refused too.
	_, err = writer.UpdateSecret(ctx, &sm.UpdateSecretInput{SecretId: aws.String(custom), SecretString: aws.String("x"), KmsKeyId: aws.String("alias/aws/secretsmanager")})
	wantErr(t, err, "InvalidRequestException", 400, msg)

	out := must[*sm.PutSecretValueOutput](t)(writer.PutSecretValue(ctx, &sm.PutSecretValueInput{SecretId: aws.String(custom), SecretString: aws.String("from elsewhere"), ClientRequestToken: aws.String(tok2)}))
	if aws.ToString(out.VersionId) != tok2 || value(t, root, custom) != "from elsewhere" {
		t.Fatalf("PutSecretValue under a customer managed key: %+v", out)
	}
	// The owner writes under aws/secretsmanager as before.
	must[*sm.PutSecretValueOutput](t)(root.PutSecretValue(ctx, &sm.PutSecretValueInput{SecretId: aws.String(managed), SecretString: aws.String("v1")}))
	if v := value(t, root, managed); v != "v1" {
		t.Fatalf("owner wrote, reads %q", v)
	}
}
