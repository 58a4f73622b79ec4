package secretsmanager_test

import (
	"context"
	"fmt"
	"net/http/httptest"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	sm "github.com/aws/aws-sdk-go-v2/service/secretsmanager"
	smtypes "github.com/aws/aws-sdk-go-v2/service/secretsmanager/types"

	"github.com/rampart/rampart/internal/audit"
	"github.com/rampart/rampart/internal/service/secretsmanager"
	"github.com/rampart/rampart/internal/store"
)

// Duration is a window of 1 to 24 hours that must not run into the next
// UTC day nor into the next window (RotationRulesType.Duration); a refused
// rule changes nothing.
func TestRotationDurationRules(t *testing.T) {
	e := start(t)
	c := e.root()
	ctx := context.Background()
	passingFunction(t, e) // RotateImmediately=false runs its testSecret step
	must[*sm.CreateSecretOutput](t)(c.CreateSecret(ctx, &sm.CreateSecretInput{Name: aws.String("s"), SecretString: aws.String("v")}))
	rules := func(expr, dur string) *smtypes.RotationRulesType {
		r := &smtypes.RotationRulesType{}
		if expr != "" {
			r.ScheduleExpression = aws.String(expr)
		}
		if dur != "" {
			r.Duration = aws.String(dur)
		}
		return r
	}
	bad := map[string]struct {
		rules *smtypes.RotationRulesType
		msg   string
	}{
		"zero hours":              {rules("rate(10 days)", "0h"), "The Duration 0h is not valid"},
		"over a day":              {rules("rate(10 days)", "25h"), "The Duration 25h is not valid"},
		"after days, over a day":  {&smtypes.RotationRulesType{AutomaticallyAfterDays: aws.Int64(3), Duration: aws.String("25h")}, "The Duration 25h is not valid"},
		"longer than the rate":    {rules("rate(4 hours)", "5h"), "longer than the interval between rotations"},
		"rate into the next day":  {rules("rate(5 hours)", "5h"), "that opens at 20:00 UTC extends into the next UTC day"},
		"cron into the next day":  {rules("cron(0 20 * * ? *)", "5h"), "that opens at 20:00 UTC extends into the next UTC day"},
		"cron into the next one":  {rules("cron(0 0,6 * * ? *)", "7h"), "longer than the interval between rotations"},
		"both rules":              {&smtypes.RotationRulesType{AutomaticallyAfterDays: aws.Int64(3), ScheduleExpression: aws.String("rate(3 days)")}, "You cannot specify both rotation frequency and schedule expression together."},
		"cron hours, last window": {rules("cron(0 4/12 * * ? *)", "9h"), "that opens at 16:00 UTC extends into the next UTC day"},
	}
	for name, tc := range bad {
		t.Run(name, func(t *testing.T) {
			_, err := c.RotateSecret(ctx, &sm.RotateSecretInput{SecretId: aws.String("s"), RotationLambdaARN: aws.String(fnARN), RotationRules: tc.rules, RotateImmediately: aws.Bool(false)})
			wantErr(t, err, "InvalidParameterException", 400, tc.msg)
			if d := must[*sm.DescribeSecretOutput](t)(c.DescribeSecret(ctx, &sm.DescribeSecretInput{SecretId: aws.String("s")})); d.RotationEnabled != nil {
				t.Fatalf("a refused RotateSecret configured rotation: %+v", d)
			}
		})
	}
	good := []*smtypes.RotationRulesType{
		rules("rate(4 hours)", "4h"),         // 20:00 + 4h ends at midnight
		rules("rate(10 days)", "24h"),        // the whole day
		rules("cron(0 16 1,15 * ? *)", "8h"), // 16:00 + 8h ends at midnight
		rules("cron(0 4/12 * * ? *)", "8h"),
		{AutomaticallyAfterDays: aws.Int64(3), Duration: aws.String("24h")},
	}
	for _, r := range good {
		if _, err := c.RotateSecret(ctx, &sm.RotateSecretInput{SecretId: aws.String("s"), RotationLambdaARN: aws.String(fnARN), RotationRules: r, RotateImmediately: aws.Bool(false)}); err != nil {
			t.Errorf("RotateSecret(%s, %s): %v", aws.ToString(r.ScheduleExpression), aws.ToString(r.Duration), err)
		}
	}
}

// failedEvents counts the RotationFailed events of the secret arn.
func failedEvents(t testing.TB, e *env, arn string) int {
	t.Helper()
	rows, err := e.Store.QueryAudit(context.Background(), store.AuditQuery{Account: account})
	if err != nil {
		t.Fatal(err)
	}
	n := 0
	for _, r := range rows {
		ev, err := audit.Parse(r.Body)
		if err != nil {
			t.Fatal(err)
		}
		if data, _ := ev.AdditionalData.(map[string]any); ev.EventName == "RotationFailed" && data["SecretId"] == arn {
			n++
		}
	}
	return n
}

// Scheduled rotation runs only in the rotation window. A failed attempt is
// retried in the window after a backoff that grows, with the version it
// left AWSPENDING, while AWSCURRENT stays and RotateSecret says why; when
// the window closes first, the rotation waits for the next window, and
// NextRotationDate stays in the past until a rotation succeeds. The runner
// is driven with its own clock (RotateDue's now).
func TestScheduledRotationFollowsTheWindow(t *testing.T) {
	e := start(t)
	c := e.root()
	ctx := context.Background()
	db := &fakeDB{password: "initial", failStep: "setSecret"}
	fn := httptest.NewServer(db.handler(t, e.root()))
	defer fn.Close()
	e.Svc.RegisterFunction(fnARN, &secretsmanager.HTTPFunction{URL: fn.URL})
	created := must[*sm.CreateSecretOutput](t)(c.CreateSecret(ctx, &sm.CreateSecretInput{Name: aws.String("db"), SecretString: aws.String("initial"), ClientRequestToken: aws.String(tok1)}))
	arn := aws.ToString(created.ARN)
	// Every day from 16:00 to 17:00 UTC.
	must[*sm.RotateSecretOutput](t)(c.RotateSecret(ctx, &sm.RotateSecretInput{SecretId: aws.String("db"), RotationLambdaARN: aws.String(fnARN),
		RotationRules: &smtypes.RotationRulesType{ScheduleExpression: aws.String("cron(0 16 * * ? *)"), Duration: aws.String("1h")}, RotateImmediately: aws.Bool(false)}))
	d := must[*sm.DescribeSecretOutput](t)(c.DescribeSecret(ctx, &sm.DescribeSecretInput{SecretId: aws.String("db")}))
	next := *d.NextRotationDate
	open := next.Add(time.Second - time.Hour) // the window opens
	if open.Hour() != 16 || open.Minute() != 0 || open.Sub(time.Now()) > 25*time.Hour || open.Before(time.Now().Add(-time.Hour)) {
		t.Fatalf("NextRotationDate %v: the window does not open at the next 16:00", next)
	}
	due := func(at time.Time, want int) {
		t.Helper()
		if n, err := e.Svc.RotateDue(ctx, at); err != nil || n != want {
			t.Fatalf("RotateDue at %v = %d, %v; want %d", at.Format(time.TimeOnly), n, err, want)
		}
	}
	failures := 0
	attempt := func(at time.Time) {
		t.Helper()
		due(at, 1)
		failures++
		waitFor(t, fmt.Sprint("failed attempt ", failures), func() bool { return failedEvents(t, e, arn) == failures })
	}
	current := func() string {
		t.Helper()
		v := must[*sm.GetSecretValueOutput](t)(c.GetSecretValue(ctx, &sm.GetSecretValueInput{SecretId: aws.String("db")}))
		return aws.ToString(v.VersionId) + "=" + aws.ToString(v.SecretString)
	}

	due(open.Add(-time.Minute), 0) // before the window
	attempt(open.Add(time.Minute))
	// The reason stays visible; the new version waits as AWSPENDING.
	msg := waitFailed(t, c, "db")
	if !strings.Contains(msg, "rotation step setSecret failed") {
		t.Fatalf("RotateSecret after the failure: %q", msg)
	}
	d = must[*sm.DescribeSecretOutput](t)(c.DescribeSecret(ctx, &sm.DescribeSecretInput{SecretId: aws.String("db")}))
	var pending string
	for v, st := range d.VersionIdsToStages {
		if slices.Equal(st, []string{"AWSPENDING"}) {
			pending = v
		}
	}
	if pending == "" || current() != tok1+"=initial" {
		t.Fatalf("after a failed attempt: %v, current %s", d.VersionIdsToStages, current())
	}
	// Backoff from each failure (which took a moment): 5 minutes after the
	// first, 10 after the second.
	due(open.Add(5*time.Minute), 0)
	attempt(open.Add(7 * time.Minute))
	due(open.Add(16*time.Minute), 0)
	attempt(open.Add(18 * time.Minute))
	// The third backoff (20 minutes) ends in the window; the fourth (40
	// minutes) would not: the rotation then waits for tomorrow's window.
	due(open.Add(37*time.Minute), 0)
	attempt(open.Add(39 * time.Minute))
	due(open.Add(59*time.Minute), 0)
	due(open.Add(61*time.Minute), 0)
	due(open.Add(23*time.Hour), 0)
	// 9 steps: RotateSecret's testSecret (RotateImmediately=false), then
	// createSecret and setSecret of each attempt.
	if steps := db.stepsSoFar(); len(steps) != 9 || current() != tok1+"=initial" {
		t.Fatalf("after 4 failed attempts: steps %v, current %s", steps, current())
	}
	d = must[*sm.DescribeSecretOutput](t)(c.DescribeSecret(ctx, &sm.DescribeSecretInput{SecretId: aws.String("db")}))
	if !d.NextRotationDate.Equal(next) || d.LastRotatedDate != nil {
		t.Fatalf("after the failed window: NextRotationDate %v (want %v, now in the past), LastRotatedDate %v", d.NextRotationDate, next, d.LastRotatedDate)
	}

	// In tomorrow's window it is retried with its own token, and succeeds.
	db.mu.Lock()
	db.failStep = ""
	db.mu.Unlock()
	tomorrow := open.AddDate(0, 0, 1)
	due(tomorrow.Add(2*time.Minute), 1)
	waitRotated(t, c, "db", pending)
	d = must[*sm.DescribeSecretOutput](t)(c.DescribeSecret(ctx, &sm.DescribeSecretInput{SecretId: aws.String("db")}))
	if d.LastRotatedDate == nil || d.LastRotatedDate.Before(tomorrow) || d.LastRotatedDate.After(tomorrow.Add(time.Hour)) ||
		!d.NextRotationDate.Equal(next.AddDate(0, 0, 2)) {
		t.Fatalf("after the rotation: LastRotatedDate %v, NextRotationDate %v (want %v)", d.LastRotatedDate, d.NextRotationDate, next.AddDate(0, 0, 2))
	}
	// Not again in the same window, nor in a window that passed unused.
	due(tomorrow.Add(30*time.Minute), 0)
	due(tomorrow.AddDate(0, 0, 1).Add(2*time.Hour), 0)
	if v := must[*sm.GetSecretValueOutput](t)(c.GetSecretValue(ctx, &sm.GetSecretValueInput{SecretId: aws.String("db"), VersionStage: aws.String("AWSPREVIOUS")})); aws.ToString(v.VersionId) != tok1 {
		t.Fatalf("AWSPREVIOUS = %s", aws.ToString(v.VersionId))
	}
}

// With AutomaticallyAfterDays, a value made current by PutSecretValue or
// UpdateSecret counts as a rotation: the next window is counted from it
// (RotationRulesType). A version put without AWSCURRENT does not count,
// nor does any value for a ScheduleExpression, and LastRotatedDate is
// Secrets Manager's own rotations only.
func TestManualUpdateReschedulesAutomaticallyAfterDays(t *testing.T) {
	e := start(t)
	c := e.root()
	ctx := context.Background()
	passingFunction(t, e) // RotateImmediately=false runs its testSecret step
	for _, name := range []string{"days", "rate"} {
		must[*sm.CreateSecretOutput](t)(c.CreateSecret(ctx, &sm.CreateSecretInput{Name: aws.String(name), SecretString: aws.String("v0")}))
	}
	must[*sm.RotateSecretOutput](t)(c.RotateSecret(ctx, &sm.RotateSecretInput{SecretId: aws.String("days"), RotationLambdaARN: aws.String(fnARN),
		RotationRules: &smtypes.RotationRulesType{AutomaticallyAfterDays: aws.Int64(7)}, RotateImmediately: aws.Bool(false)}))
	must[*sm.RotateSecretOutput](t)(c.RotateSecret(ctx, &sm.RotateSecretInput{SecretId: aws.String("rate"), RotationLambdaARN: aws.String(fnARN),
		RotationRules: &smtypes.RotationRulesType{ScheduleExpression: aws.String("rate(7 days)")}, RotateImmediately: aws.Bool(false)}))
	cl := c // the client that follows the server's clock
	next := func(id string) time.Time {
		t.Helper()
		d := must[*sm.DescribeSecretOutput](t)(cl.DescribeSecret(ctx, &sm.DescribeSecretInput{SecretId: aws.String(id)}))
		if d.LastRotatedDate != nil {
			t.Fatalf("%s: LastRotatedDate %v after manual updates only", id, d.LastRotatedDate)
		}
		return *d.NextRotationDate
	}
	days0, rate0 := next("days"), next("rate")

	// Two days later (the server's clock; the client follows it).
	now := e.advance(48 * time.Hour)
	sk := e.skewed()
	cl = sk
	endOfWindow := func(at time.Time) time.Time { return utcDay(at).AddDate(0, 0, 8).Add(-time.Second) }
	must[*sm.PutSecretValueOutput](t)(sk.PutSecretValue(ctx, &sm.PutSecretValueInput{SecretId: aws.String("days"), SecretString: aws.String("staged"), VersionStages: []string{"TEST"}}))
	if got := next("days"); !got.Equal(days0) {
		t.Fatalf("a version put without AWSCURRENT moved NextRotationDate from %v to %v", days0, got)
	}
	for _, id := range []string{"days", "rate"} {
		must[*sm.PutSecretValueOutput](t)(sk.PutSecretValue(ctx, &sm.PutSecretValueInput{SecretId: aws.String(id), SecretString: aws.String("v1")}))
	}
	if got, want := next("days"), endOfWindow(now); !got.Equal(want) && !got.Equal(endOfWindow(e.clock())) {
		t.Fatalf("after PutSecretValue: NextRotationDate %v, want %v", got, want)
	}
	if got := next("rate"); !got.Equal(rate0) {
		t.Fatalf("PutSecretValue moved a ScheduleExpression's NextRotationDate from %v to %v", rate0, got)
	}

	now = e.advance(72 * time.Hour)
	must[*sm.UpdateSecretOutput](t)(sk.UpdateSecret(ctx, &sm.UpdateSecretInput{SecretId: aws.String("days"), SecretString: aws.String("v2")}))
	if got, want := next("days"), endOfWindow(now); !got.Equal(want) && !got.Equal(endOfWindow(e.clock())) {
		t.Fatalf("after UpdateSecret: NextRotationDate %v, want %v", got, want)
	}
	// A description alone is no new value.
	before := next("days")
	e.advance(24 * time.Hour)
	must[*sm.UpdateSecretOutput](t)(sk.UpdateSecret(ctx, &sm.UpdateSecretInput{SecretId: aws.String("days"), Description: aws.String("d")}))
	if got := next("days"); !got.Equal(before) {
		t.Fatalf("UpdateSecret without a value moved NextRotationDate from %v to %v", before, got)
	}
}
