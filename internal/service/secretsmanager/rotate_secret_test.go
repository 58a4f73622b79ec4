package secretsmanager_test

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	sm "github.com/aws/aws-sdk-go-v2/service/secretsmanager"
	smtypes "github.com/aws/aws-sdk-go-v2/service/secretsmanager/types"

	"github.com/rampart/rampart/internal/service/secretsmanager"
)

// fakeDB is the "database" a rotation function manages, and the function
// itself: an HTTP server that implements AWS's four steps the way AWS's
// rotation templates do, calling Secrets Manager back through the SDK.
type fakeDB struct {
	mu       sync.Mutex
	password string
	failStep string // a step that fails
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
		db.mu.Unlock()
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

	// Rotate now, then every 30 days.
	r := must[*sm.RotateSecretOutput](t)(c.RotateSecret(ctx, &sm.RotateSecretInput{SecretId: aws.String("db"), RotationLambdaARN: aws.String(fnARN),
		RotationRules: &smtypes.RotationRulesType{AutomaticallyAfterDays: aws.Int64(30)}, ClientRequestToken: aws.String(tok2)}))
	if aws.ToString(r.VersionId) != tok2 || !slices.Equal(db.steps, []string{"createSecret", "setSecret", "testSecret", "finishSecret"}) {
		t.Fatalf("RotateSecret = %+v; steps %v", r, db.steps)
	}
	cur := must[*sm.GetSecretValueOutput](t)(c.GetSecretValue(ctx, &sm.GetSecretValueInput{SecretId: aws.String("db")}))
	prev := must[*sm.GetSecretValueOutput](t)(c.GetSecretValue(ctx, &sm.GetSecretValueInput{SecretId: aws.String("db"), VersionStage: aws.String("AWSPREVIOUS")}))
	if aws.ToString(cur.SecretString) != db.password || aws.ToString(cur.VersionId) != tok2 || aws.ToString(prev.SecretString) != "initial" {
		t.Fatalf("after rotation: current %q (db %q), previous %q", aws.ToString(cur.SecretString), db.password, aws.ToString(prev.SecretString))
	}
	d := must[*sm.DescribeSecretOutput](t)(c.DescribeSecret(ctx, &sm.DescribeSecretInput{SecretId: aws.String("db")}))
	if !aws.ToBool(d.RotationEnabled) || aws.ToString(d.RotationLambdaARN) != fnARN || d.LastRotatedDate == nil || d.NextRotationDate == nil ||
		aws.ToInt64(d.RotationRules.AutomaticallyAfterDays) != 30 || d.NextRotationDate.Sub(*d.LastRotatedDate).Round(time.Hour) != 30*24*time.Hour {
		t.Fatalf("rotation state = %+v", d)
	}
	if !slices.Equal(d.VersionIdsToStages[tok2], []string{"AWSCURRENT"}) {
		t.Fatalf("labels after rotation: %v", d.VersionIdsToStages)
	}

	// A failing rotation leaves AWSCURRENT where it was and says why; the
	// next rotation with another token is refused until it is resolved.
	db.mu.Lock()
	db.failStep, db.steps = "setSecret", nil
	db.mu.Unlock()
	_, err := c.RotateSecret(ctx, &sm.RotateSecretInput{SecretId: aws.String("db"), ClientRequestToken: aws.String(tok3)})
	wantErr(t, err, "InvalidRequestException", 400, "rotation step setSecret failed")
	if v := must[*sm.GetSecretValueOutput](t)(c.GetSecretValue(ctx, &sm.GetSecretValueInput{SecretId: aws.String("db")})); aws.ToString(v.VersionId) != tok2 {
		t.Fatalf("a failed rotation moved AWSCURRENT to %s", aws.ToString(v.VersionId))
	}
	_, err = c.RotateSecret(ctx, &sm.RotateSecretInput{SecretId: aws.String("db"), ClientRequestToken: aws.String("44444444-4444-4444-8444-444444444444")})
	wantErr(t, err, "InvalidRequestException", 400, "A previous rotation isn't complete. That rotation will be reattempted.")

	// The schedule retries it with its own token once it is due.
	db.mu.Lock()
	db.failStep = ""
	db.mu.Unlock()
	if n, err := e.Svc.RotateDue(ctx, time.Now().Add(24*time.Hour)); err != nil || n != 0 {
		t.Fatalf("RotateDue before the date = %d, %v", n, err)
	}
	if n, err := e.Svc.RotateDue(ctx, time.Now().Add(31*24*time.Hour)); err != nil || n != 1 {
		t.Fatalf("RotateDue when due = %d, %v", n, err)
	}
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

func TestRotationSchedules(t *testing.T) {
	e := start(t)
	c := e.root()
	ctx := context.Background()
	e.Svc.RegisterFunction(fnARN, &secretsmanager.HTTPFunction{URL: "http://127.0.0.1:1/unused"})
	cases := map[string]struct {
		rules    smtypes.RotationRulesType
		nextFrom func(time.Time) time.Time
	}{
		"days":     {smtypes.RotationRulesType{AutomaticallyAfterDays: aws.Int64(7)}, func(t time.Time) time.Time { return t.Add(7 * 24 * time.Hour) }},
		"rate":     {smtypes.RotationRulesType{ScheduleExpression: aws.String("rate(10 days)"), Duration: aws.String("3h")}, func(t time.Time) time.Time { return t.Add(10 * 24 * time.Hour) }},
		"cron":     {smtypes.RotationRulesType{ScheduleExpression: aws.String("cron(0 16 1,15 * ? *)")}, nextCron1615},
		"cron dow": {smtypes.RotationRulesType{ScheduleExpression: aws.String("cron(30 4 ? * SUN *)")}, nextSunday0430},
	}
	i := 0
	for name, tc := range cases {
		i++
		t.Run(name, func(t *testing.T) {
			id := aws.String(fmt.Sprint("s", i))
			must[*sm.CreateSecretOutput](t)(c.CreateSecret(ctx, &sm.CreateSecretInput{Name: id, SecretString: aws.String("v")}))
			before := time.Now().UTC()
			must[*sm.RotateSecretOutput](t)(c.RotateSecret(ctx, &sm.RotateSecretInput{SecretId: id, RotationLambdaARN: aws.String(fnARN), RotationRules: &tc.rules, RotateImmediately: aws.Bool(false)}))
			d := must[*sm.DescribeSecretOutput](t)(c.DescribeSecret(ctx, &sm.DescribeSecretInput{SecretId: id}))
			want := tc.nextFrom(before)
			if !aws.ToBool(d.RotationEnabled) || d.NextRotationDate == nil || d.NextRotationDate.Sub(want).Abs() > 2*time.Minute || d.LastRotatedDate != nil {
				t.Fatalf("NextRotationDate %v, want about %v (%+v)", d.NextRotationDate, want, d)
			}
			if aws.ToString(d.RotationRules.ScheduleExpression) != aws.ToString(tc.rules.ScheduleExpression) || aws.ToString(d.RotationRules.Duration) != aws.ToString(tc.rules.Duration) {
				t.Fatalf("RotationRules = %+v", d.RotationRules)
			}
		})
	}
}

func nextCron1615(t time.Time) time.Time {
	for d := time.Date(t.Year(), t.Month(), t.Day(), 16, 0, 0, 0, time.UTC); ; d = d.AddDate(0, 0, 1) {
		if (d.Day() == 1 || d.Day() == 15) && d.After(t) {
			return d
		}
	}
}

func nextSunday0430(t time.Time) time.Time {
	for d := time.Date(t.Year(), t.Month(), t.Day(), 4, 30, 0, 0, time.UTC); ; d = d.AddDate(0, 0, 1) {
		if d.Weekday() == time.Sunday && d.After(t) {
			return d
		}
	}
}
