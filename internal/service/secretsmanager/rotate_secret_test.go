package secretsmanager_test

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	sm "github.com/aws/aws-sdk-go-v2/service/secretsmanager"
	smtypes "github.com/aws/aws-sdk-go-v2/service/secretsmanager/types"

	"github.com/rampart/rampart/internal/audit"
	"github.com/rampart/rampart/internal/service/secretsmanager"
	"github.com/rampart/rampart/internal/store"
)

// fakeDB is the "database" a rotation function manages, and the function
// itself: an HTTP server that implements AWS's four steps the way AWS's
// rotation templates do, calling Secrets Manager back through the SDK.
type fakeDB struct {
	mu       sync.Mutex
	password string
	failStep string        // a step that fails
	gate     chan struct{} // when set, createSecret waits for it to close
	steps    []string
	n        int
}

func (db *fakeDB) handler(t *testing.T, c *sm.Client) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		var ev secretsmanager.RotationEvent
		if err := json.NewDecoder(r.Body).Decode(&ev); err != nil {
			http.Error(w, err.Error(), 400)
			return
		}
		db.mu.Lock()
		db.steps = append(db.steps, ev.Step)
		fail := db.failStep == ev.Step
		gate := db.gate
		db.mu.Unlock()
		if gate != nil && ev.Step == "createSecret" {
			<-gate
		}
		if fail {
			http.Error(w, "the database refused the new password", 500)
			return
		}
		if err := db.step(r.Context(), c, ev); err != nil {
			http.Error(w, err.Error(), 500)
		}
	})
}

func (db *fakeDB) step(ctx context.Context, c *sm.Client, ev secretsmanager.RotationEvent) error {
	id, tok := aws.String(ev.SecretId), aws.String(ev.ClientRequestToken)
	switch ev.Step {
	case "createSecret":
		if _, err := c.GetSecretValue(ctx, &sm.GetSecretValueInput{SecretId: id, VersionStage: aws.String("AWSCURRENT")}); err != nil {
			return err
		}
		if _, err := c.GetSecretValue(ctx, &sm.GetSecretValueInput{SecretId: id, VersionId: tok, VersionStage: aws.String("AWSPENDING")}); err == nil {
			return nil
		}
		pw, err := c.GetRandomPassword(ctx, &sm.GetRandomPasswordInput{ExcludePunctuation: aws.Bool(true)})
		if err != nil {
			return err
		}
		_, err = c.PutSecretValue(ctx, &sm.PutSecretValueInput{SecretId: id, ClientRequestToken: tok, SecretString: pw.RandomPassword, VersionStages: []string{"AWSPENDING"}})
		return err
	case "setSecret":
		v, err := c.GetSecretValue(ctx, &sm.GetSecretValueInput{SecretId: id, VersionId: tok, VersionStage: aws.String("AWSPENDING")})
		if err != nil {
			return err
		}
		db.mu.Lock()
		db.password = aws.ToString(v.SecretString)
		db.n++
		db.mu.Unlock()
	case "testSecret":
		v, err := c.GetSecretValue(ctx, &sm.GetSecretValueInput{SecretId: id, VersionId: tok, VersionStage: aws.String("AWSPENDING")})
		if err != nil {
			return err
		}
		db.mu.Lock()
		defer db.mu.Unlock()
		if db.password != aws.ToString(v.SecretString) {
			return errors.New("login with the pending password failed")
		}
	case "finishSecret":
		d, err := c.DescribeSecret(ctx, &sm.DescribeSecretInput{SecretId: id})
		if err != nil {
			return err
		}
		for v, st := range d.VersionIdsToStages {
			if slices.Contains(st, "AWSCURRENT") {
				if v == ev.ClientRequestToken {
					return nil
				}
				_, err = c.UpdateSecretVersionStage(ctx, &sm.UpdateSecretVersionStageInput{SecretId: id, VersionStage: aws.String("AWSCURRENT"), MoveToVersionId: tok, RemoveFromVersionId: aws.String(v)})
				return err
			}
		}
		return errors.New("no AWSCURRENT version")
	default:
		return fmt.Errorf("unknown step %q", ev.Step)
	}
	return nil
}

const fnARN = "arn:aws:lambda:us-east-1:000000000000:function:rotate-db"

func (db *fakeDB) stepsSoFar() []string {
	db.mu.Lock()
	defer db.mu.Unlock()
	return slices.Clone(db.steps)
}

// waitFor polls cond until it holds; the test fails after 30 s.
func waitFor(t testing.TB, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(30 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(5 * time.Millisecond)
	}
}

// waitRotated waits until the rotation with token has finished: the new
// version is AWSCURRENT and no longer AWSPENDING, which Secrets Manager
// removes when it records the rotation.
func waitRotated(t testing.TB, c *sm.Client, id, token string) {
	t.Helper()
	waitFor(t, "rotation "+token, func() bool {
		d, err := c.DescribeSecret(context.Background(), &sm.DescribeSecretInput{SecretId: aws.String(id)})
		if err != nil {
			t.Fatal(err)
		}
		return slices.Equal(d.VersionIdsToStages[token], []string{"AWSCURRENT"})
	})
}

// waitFailed waits until the rotation in progress has failed (after its
// createSecret step): RotateSecret with another token is refused, naming
// why the last attempt failed. It returns that message.
func waitFailed(t testing.TB, c *sm.Client, id string) string {
	t.Helper()
	var msg string
	waitFor(t, "a failed rotation", func() bool {
		_, err := c.RotateSecret(context.Background(), &sm.RotateSecretInput{SecretId: aws.String(id), ClientRequestToken: aws.String("99999999-9999-4999-8999-999999999999")})
		if err == nil {
			t.Fatal("RotateSecret started a rotation while one was unfinished")
		}
		code, m, _ := apiErr(t, err)
		if code != "InvalidRequestException" {
			t.Fatalf("RotateSecret: %s %s", code, m)
		}
		msg = m
		return strings.Contains(m, "The last attempt failed")
	})
	return msg
}

// rotationEvents returns the audit events of the rotation with token.
func rotationEvents(t testing.TB, e *env, token string) []*audit.Event {
	t.Helper()
	var out []*audit.Event
	waitFor(t, "rotation events", func() bool {
		rows, err := e.Store.QueryAudit(context.Background(), store.AuditQuery{Account: account})
		if err != nil {
			t.Fatal(err)
		}
		out = out[:0]
		for _, r := range rows {
			ev, err := audit.Parse(r.Body)
			if err != nil {
				t.Fatal(err)
			}
			if strings.HasPrefix(ev.EventName, "Rotation") && strings.Contains(fmt.Sprint(ev.AdditionalData), token) {
				out = append(out, ev)
			}
		}
		return len(out) >= 2
	})
	return out
}

func TestRotateSecret(t *testing.T) {
	e := start(t)
	c := e.root()
	ctx := context.Background()
	db := &fakeDB{password: "initial"}
	fn := httptest.NewServer(db.handler(t, e.root()))
	defer fn.Close()
	e.Svc.RegisterFunction(fnARN, &secretsmanager.HTTPFunction{URL: fn.URL})
	must[*sm.CreateSecretOutput](t)(c.CreateSecret(ctx, &sm.CreateSecretInput{Name: aws.String("db"), SecretString: aws.String("initial"), ClientRequestToken: aws.String(tok1)}))

	// Bad requests change nothing.
	bad := map[string]struct {
		in        sm.RotateSecretInput
		code, msg string
	}{
		"no function":      {sm.RotateSecretInput{SecretId: aws.String("db")}, "InvalidRequestException", "No Lambda rotation function ARN is associated with this secret."},
		"unknown function": {sm.RotateSecretInput{SecretId: aws.String("db"), RotationLambdaARN: aws.String("arn:aws:lambda:us-east-1:000000000000:function:none")}, "ResourceNotFoundException", "rotation function"},
		"bad rate":         {sm.RotateSecretInput{SecretId: aws.String("db"), RotationLambdaARN: aws.String(fnARN), RotationRules: &smtypes.RotationRulesType{ScheduleExpression: aws.String("rate(2 hours)")}}, "InvalidParameterException", "ScheduleExpression"},
		"bad cron":         {sm.RotateSecretInput{SecretId: aws.String("db"), RotationLambdaARN: aws.String(fnARN), RotationRules: &smtypes.RotationRulesType{ScheduleExpression: aws.String("cron(0 16 1 * * *)")}}, "InvalidParameterException", "ScheduleExpression"},
		"both rules":       {sm.RotateSecretInput{SecretId: aws.String("db"), RotationLambdaARN: aws.String(fnARN), RotationRules: &smtypes.RotationRulesType{AutomaticallyAfterDays: aws.Int64(3), ScheduleExpression: aws.String("rate(3 days)")}}, "InvalidParameterException", ""},
		"window too long":  {sm.RotateSecretInput{SecretId: aws.String("db"), RotationLambdaARN: aws.String(fnARN), RotationRules: &smtypes.RotationRulesType{ScheduleExpression: aws.String("rate(4 hours)"), Duration: aws.String("5h")}}, "InvalidParameterException", "Duration"},
		"unknown secret":   {sm.RotateSecretInput{SecretId: aws.String("nope"), RotationLambdaARN: aws.String(fnARN)}, "ResourceNotFoundException", ""},
	}
	for name, tc := range bad {
		t.Run(name, func(t *testing.T) {
			_, err := c.RotateSecret(ctx, &tc.in)
			wantErr(t, err, tc.code, 400, tc.msg)
			if d := must[*sm.DescribeSecretOutput](t)(c.DescribeSecret(ctx, &sm.DescribeSecretInput{SecretId: aws.String("db")})); d.RotationEnabled != nil {
				t.Fatalf("a refused RotateSecret configured rotation: %+v", d)
			}
		})
	}

	// Rotate now, then every 30 days. RotateSecret returns at once with the
	// new version's id; the steps run in the background.
	r := must[*sm.RotateSecretOutput](t)(c.RotateSecret(ctx, &sm.RotateSecretInput{SecretId: aws.String("db"), RotationLambdaARN: aws.String(fnARN),
		RotationRules: &smtypes.RotationRulesType{AutomaticallyAfterDays: aws.Int64(30)}, ClientRequestToken: aws.String(tok2)}))
	if aws.ToString(r.VersionId) != tok2 {
		t.Fatalf("RotateSecret = %+v", r)
	}
	waitRotated(t, c, "db", tok2)
	if steps := db.stepsSoFar(); !slices.Equal(steps, []string{"createSecret", "setSecret", "testSecret", "finishSecret"}) {
		t.Fatalf("steps %v", steps)
	}
	cur := must[*sm.GetSecretValueOutput](t)(c.GetSecretValue(ctx, &sm.GetSecretValueInput{SecretId: aws.String("db")}))
	prev := must[*sm.GetSecretValueOutput](t)(c.GetSecretValue(ctx, &sm.GetSecretValueInput{SecretId: aws.String("db"), VersionStage: aws.String("AWSPREVIOUS")}))
	if aws.ToString(cur.SecretString) != db.password || aws.ToString(cur.VersionId) != tok2 || aws.ToString(prev.SecretString) != "initial" {
		t.Fatalf("after rotation: current %q (db %q), previous %q", aws.ToString(cur.SecretString), db.password, aws.ToString(prev.SecretString))
	}
	d := must[*sm.DescribeSecretOutput](t)(c.DescribeSecret(ctx, &sm.DescribeSecretInput{SecretId: aws.String("db")}))
	// The next rotation window is the UTC day 30 days after this rotation;
	// NextRotationDate is its last second, the latest the rotation runs.
	if !aws.ToBool(d.RotationEnabled) || aws.ToString(d.RotationLambdaARN) != fnARN || d.LastRotatedDate == nil || d.NextRotationDate == nil ||
		aws.ToInt64(d.RotationRules.AutomaticallyAfterDays) != 30 || !d.NextRotationDate.Equal(utcDay(*d.LastRotatedDate).AddDate(0, 0, 31).Add(-time.Second)) {
		t.Fatalf("rotation state = %+v", d)
	}
	next := *d.NextRotationDate
	if !slices.Equal(d.VersionIdsToStages[tok2], []string{"AWSCURRENT"}) {
		t.Fatalf("labels after rotation: %v", d.VersionIdsToStages)
	}

	// A failing rotation leaves AWSCURRENT where it was and says why; the
	// next rotation with another token is refused until it is resolved.
	db.mu.Lock()
	db.failStep, db.steps = "setSecret", nil
	db.mu.Unlock()
	r = must[*sm.RotateSecretOutput](t)(c.RotateSecret(ctx, &sm.RotateSecretInput{SecretId: aws.String("db"), ClientRequestToken: aws.String(tok3)}))
	if aws.ToString(r.VersionId) != tok3 {
		t.Fatalf("RotateSecret = %+v", r)
	}
	msg := waitFailed(t, c, "db")
	for _, want := range []string{"A previous rotation isn't complete. That rotation will be reattempted.", "rotation step setSecret failed", "the database refused the new password"} {
		if !strings.Contains(msg, want) {
			t.Errorf("RotateSecret after a failure: %q lacks %q", msg, want)
		}
	}
	if v := must[*sm.GetSecretValueOutput](t)(c.GetSecretValue(ctx, &sm.GetSecretValueInput{SecretId: aws.String("db")})); aws.ToString(v.VersionId) != tok2 {
		t.Fatalf("a failed rotation moved AWSCURRENT to %s", aws.ToString(v.VersionId))
	}
	if d := must[*sm.DescribeSecretOutput](t)(c.DescribeSecret(ctx, &sm.DescribeSecretInput{SecretId: aws.String("db")})); !slices.Equal(d.VersionIdsToStages[tok3], []string{"AWSPENDING"}) {
		t.Fatalf("after a failed rotation the new version has %v, want AWSPENDING", d.VersionIdsToStages[tok3])
	}
	if steps := db.stepsSoFar(); !slices.Equal(steps, []string{"createSecret", "setSecret"}) {
		t.Fatalf("steps of the failed rotation: %v", steps)
	}
	// The audit trail has the rotation's events, as CloudTrail does, with
	// the reason and without the value.
	evs := rotationEvents(t, e, tok3)
	if len(evs) != 2 || evs[0].EventName != "RotationStarted" || evs[1].EventName != "RotationFailed" ||
		!strings.Contains(fmt.Sprint(evs[1].AdditionalData), "setSecret") || evs[1].UserIdentity.InvokedBy != "secretsmanager.amazonaws.com" {
		t.Fatalf("audit events of the failed rotation: %+v", evs)
	}

	// The schedule retries it with its own token in its rotation window.
	db.mu.Lock()
	db.failStep = ""
	db.mu.Unlock()
	if n, err := e.Svc.RotateDue(ctx, time.Now().Add(24*time.Hour)); err != nil || n != 0 {
		t.Fatalf("RotateDue before the date = %d, %v", n, err)
	}
	if n, err := e.Svc.RotateDue(ctx, next.Add(-time.Hour)); err != nil || n != 1 {
		t.Fatalf("RotateDue when due = %d, %v", n, err)
	}
	waitRotated(t, c, "db", tok3)
	if v := must[*sm.GetSecretValueOutput](t)(c.GetSecretValue(ctx, &sm.GetSecretValueInput{SecretId: aws.String("db")})); aws.ToString(v.VersionId) != tok3 || aws.ToString(v.SecretString) != db.password {
		t.Fatalf("scheduled rotation: current is %s", aws.ToString(v.VersionId))
	}

	// CancelRotateSecret turns the schedule off.
	must[*sm.CancelRotateSecretOutput](t)(c.CancelRotateSecret(ctx, &sm.CancelRotateSecretInput{SecretId: aws.String("db")}))
	d = must[*sm.DescribeSecretOutput](t)(c.DescribeSecret(ctx, &sm.DescribeSecretInput{SecretId: aws.String("db")}))
	if aws.ToBool(d.RotationEnabled) || d.NextRotationDate != nil {
		t.Fatalf("after CancelRotateSecret: %+v", d)
	}
	if n, _ := e.Svc.RotateDue(ctx, time.Now().Add(400*24*time.Hour)); n != 0 {
		t.Fatal("a cancelled rotation ran on schedule")
	}
}

// NextRotationDate is the last second of the next rotation window
// ("The next rotation is scheduled to occur on or before this date"): a
// rate in days and AutomaticallyAfterDays open it at midnight, a rate in
// hours at midnight and every N hours after, a cron expression when it
// fires; it lasts Duration, by default an hour for a schedule in hours and
// until the end of the UTC day for one in days.
func TestRotationSchedules(t *testing.T) {
	e := start(t)
	c := e.root()
	ctx := context.Background()
	passingFunction(t, e) // RotateImmediately=false runs its testSecret step
	endOfDay := func(t time.Time) time.Time { return utcDay(t).AddDate(0, 0, 1).Add(-time.Second) }
	cases := map[string]struct {
		rules    smtypes.RotationRulesType
		nextFrom func(time.Time) time.Time
	}{
		"days":          {smtypes.RotationRulesType{AutomaticallyAfterDays: aws.Int64(7)}, func(t time.Time) time.Time { return endOfDay(utcDay(t).AddDate(0, 0, 7)) }},
		"rate days":     {smtypes.RotationRulesType{ScheduleExpression: aws.String("rate(10 days)"), Duration: aws.String("3h")}, func(t time.Time) time.Time { return utcDay(t).AddDate(0, 0, 10).Add(3*time.Hour - time.Second) }},
		"rate 1 day":    {smtypes.RotationRulesType{ScheduleExpression: aws.String("rate(1 day)")}, func(t time.Time) time.Time { return endOfDay(utcDay(t).AddDate(0, 0, 1)) }},
		"rate hours":    {smtypes.RotationRulesType{ScheduleExpression: aws.String("rate(6 hours)")}, func(t time.Time) time.Time { return nextHour(t, 0, 6, 12, 18).Add(time.Hour - time.Second) }},
		"rate hours 4h": {smtypes.RotationRulesType{ScheduleExpression: aws.String("rate(4 hours)"), Duration: aws.String("4h")}, func(t time.Time) time.Time { return nextHour(t, 0, 4, 8, 12, 16, 20).Add(4*time.Hour - time.Second) }},
		"cron":          {smtypes.RotationRulesType{ScheduleExpression: aws.String("cron(0 16 1,15 * ? *)")}, func(t time.Time) time.Time { return endOfDay(nextCron1615(t)) }},
		"cron window":   {smtypes.RotationRulesType{ScheduleExpression: aws.String("cron(0 16 1,15 * ? *)"), Duration: aws.String("2h")}, func(t time.Time) time.Time { return nextCron1615(t).Add(2*time.Hour - time.Second) }},
		"cron dow":      {smtypes.RotationRulesType{ScheduleExpression: aws.String("cron(0 4 ? * SUN *)")}, func(t time.Time) time.Time { return endOfDay(nextSunday0400(t)) }},
		"cron hours":    {smtypes.RotationRulesType{ScheduleExpression: aws.String("cron(0 4/12 * * ? *)")}, func(t time.Time) time.Time { return nextHour(t, 4, 16).Add(time.Hour - time.Second) }},
	}
	i := 0
	for name, tc := range cases {
		i++
		t.Run(name, func(t *testing.T) {
			id := aws.String(fmt.Sprint("s", i))
			must[*sm.CreateSecretOutput](t)(c.CreateSecret(ctx, &sm.CreateSecretInput{Name: id, SecretString: aws.String("v")}))
			before := time.Now().UTC()
			must[*sm.RotateSecretOutput](t)(c.RotateSecret(ctx, &sm.RotateSecretInput{SecretId: id, RotationLambdaARN: aws.String(fnARN), RotationRules: &tc.rules, RotateImmediately: aws.Bool(false)}))
			after := time.Now().UTC()
			d := must[*sm.DescribeSecretOutput](t)(c.DescribeSecret(ctx, &sm.DescribeSecretInput{SecretId: id}))
			if !aws.ToBool(d.RotationEnabled) || d.NextRotationDate == nil || d.LastRotatedDate != nil ||
				!(d.NextRotationDate.Equal(tc.nextFrom(before)) || d.NextRotationDate.Equal(tc.nextFrom(after))) {
				t.Fatalf("NextRotationDate %v, want %v (%+v)", d.NextRotationDate, tc.nextFrom(before), d)
			}
			if aws.ToString(d.RotationRules.ScheduleExpression) != aws.ToString(tc.rules.ScheduleExpression) || aws.ToString(d.RotationRules.Duration) != aws.ToString(tc.rules.Duration) {
				t.Fatalf("RotationRules = %+v", d.RotationRules)
			}
		})
	}
}

// utcDay is the start of t's UTC day.
func utcDay(t time.Time) time.Time {
	t = t.UTC()
	return time.Date(t.Year(), t.Month(), t.Day(), 0, 0, 0, 0, time.UTC)
}

// nextHour is the first time after t that is one of the hours, on the hour.
func nextHour(t time.Time, hours ...int) time.Time {
	for d := utcDay(t); ; d = d.AddDate(0, 0, 1) {
		for _, h := range hours {
			if at := d.Add(time.Duration(h) * time.Hour); at.After(t) {
				return at
			}
		}
	}
}

func nextCron1615(t time.Time) time.Time {
	for d := time.Date(t.Year(), t.Month(), t.Day(), 16, 0, 0, 0, time.UTC); ; d = d.AddDate(0, 0, 1) {
		if (d.Day() == 1 || d.Day() == 15) && d.After(t) {
			return d
		}
	}
}

func nextSunday0400(t time.Time) time.Time {
	for d := time.Date(t.Year(), t.Month(), t.Day(), 4, 0, 0, 0, time.UTC); ; d = d.AddDate(0, 0, 1) {
		if d.Weekday() == time.Sunday && d.After(t) {
			return d
		}
	}
}

// RotateSecret returns before the rotation function has run: the steps run
// in the background, and while they do, a rotation with another token is
// refused and nothing has changed yet.
func TestRotateSecretIsAsynchronous(t *testing.T) {
	e := start(t)
	c := e.root()
	ctx := context.Background()
	db := &fakeDB{password: "initial", gate: make(chan struct{})}
	fn := httptest.NewServer(db.handler(t, e.root()))
	defer fn.Close()
	e.Svc.RegisterFunction(fnARN, &secretsmanager.HTTPFunction{URL: fn.URL})
	must[*sm.CreateSecretOutput](t)(c.CreateSecret(ctx, &sm.CreateSecretInput{Name: aws.String("db"), SecretString: aws.String("initial"), ClientRequestToken: aws.String(tok1)}))

	r := must[*sm.RotateSecretOutput](t)(c.RotateSecret(ctx, &sm.RotateSecretInput{SecretId: aws.String("db"), RotationLambdaARN: aws.String(fnARN), ClientRequestToken: aws.String(tok2)}))
	if aws.ToString(r.VersionId) != tok2 {
		t.Fatalf("RotateSecret = %+v", r)
	}
	// The function is now held in createSecret.
	waitFor(t, "createSecret to be called", func() bool { return len(db.stepsSoFar()) == 1 })
	_, err := c.RotateSecret(ctx, &sm.RotateSecretInput{SecretId: aws.String("db"), ClientRequestToken: aws.String(tok3)})
	wantErr(t, err, "InvalidRequestException", 400, "A previous rotation isn't complete. That rotation will be reattempted.")
	d := must[*sm.DescribeSecretOutput](t)(c.DescribeSecret(ctx, &sm.DescribeSecretInput{SecretId: aws.String("db")}))
	if len(d.VersionIdsToStages) != 1 || !slices.Equal(d.VersionIdsToStages[tok1], []string{"AWSCURRENT"}) || d.LastRotatedDate != nil {
		t.Fatalf("during the rotation: %v", d.VersionIdsToStages)
	}
	close(db.gate)
	waitRotated(t, c, "db", tok2)
	prev := must[*sm.GetSecretValueOutput](t)(c.GetSecretValue(ctx, &sm.GetSecretValueInput{SecretId: aws.String("db"), VersionStage: aws.String("AWSPREVIOUS")}))
	if aws.ToString(prev.VersionId) != tok1 || aws.ToString(prev.SecretString) != "initial" {
		t.Fatalf("AWSPREVIOUS = %s %q", aws.ToString(prev.VersionId), aws.ToString(prev.SecretString))
	}
	if evs := rotationEvents(t, e, tok2); evs[len(evs)-1].EventName != "RotationSucceeded" {
		t.Fatalf("events %+v", evs)
	}
}

// Of the Secrets Manager instances sharing a store, only the one holding
// BackgroundLease runs the scheduled work.
func TestBackgroundLease(t *testing.T) {
	e := start(t)
	c := e.root()
	ctx := context.Background()
	leaser, ok := e.Store.(store.Leaser)
	if !ok {
		t.Fatalf("the test store %T is not a store.Leaser", e.Store)
	}
	must[*sm.CreateSecretOutput](t)(c.CreateSecret(ctx, &sm.CreateSecretInput{Name: aws.String("gone"), SecretString: aws.String("v")}))
	must[*sm.DeleteSecretOutput](t)(c.DeleteSecret(ctx, &sm.DeleteSecretInput{SecretId: aws.String("gone"), RecoveryWindowInDays: aws.Int64(7)}))
	due := time.Now().Add(8 * 24 * time.Hour)
	count := func() int {
		n := 0
		e.Store.View(ctx, func(tx store.Tx) error {
			n, _ = tx.Count(secretsmanager.TableSecret, "")
			return nil
		})
		return n
	}

	other, won, err := leaser.TryLead(ctx, secretsmanager.BackgroundLease)
	if err != nil || !won {
		t.Fatalf("TryLead: %v %v", won, err)
	}
	if led, err := e.Svc.RunDueIfLeader(ctx, due); err != nil || led {
		t.Fatalf("ran (%v, %v) while another node held the lease", led, err)
	}
	if n := count(); n != 1 {
		t.Fatalf("%d secrets stored, want the deleted one still there", n)
	}
	other.Release()
	if led, err := e.Svc.RunDueIfLeader(ctx, due); err != nil || !led {
		t.Fatalf("led %v, %v", led, err)
	}
	if n := count(); n != 0 {
		t.Fatalf("%d secrets stored after the recovery window", n)
	}
	if _, won, err := leaser.TryLead(ctx, secretsmanager.BackgroundLease); err != nil || won {
		t.Fatalf("the lease was free while the service held it (%v, %v)", won, err)
	}
	e.Svc.Close()
	l, won, err := leaser.TryLead(ctx, secretsmanager.BackgroundLease)
	if err != nil || !won {
		t.Fatalf("the lease was not released by Close (%v, %v)", won, err)
	}
	l.Release()
}
