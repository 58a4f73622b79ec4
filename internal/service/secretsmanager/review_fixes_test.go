package secretsmanager_test

import (
	"context"
	"encoding/json"
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
	"github.com/rampart/rampart/internal/service"
	"github.com/rampart/rampart/internal/service/secretsmanager"
	"github.com/rampart/rampart/internal/store"
)

// storedRotation is the rotation state of the secret name as stored.
type storedRotation struct {
	Enabled     bool      `json:"enabled"`
	Next        time.Time `json:"next"`
	WindowStart time.Time `json:"windowStart"`
	WindowEnd   time.Time `json:"windowEnd"`
	Failures    int       `json:"failures"`
	RetryAt     time.Time `json:"retryAt"`
	LastError   string    `json:"lastError"`
}

func secretStoreKey(name string) string { return account + "/" + region + "/" + name }

func readRotation(t *testing.T, e *env, name string) storedRotation {
	t.Helper()
	var out struct {
		Rotation storedRotation `json:"rotation"`
	}
	err := e.Store.View(context.Background(), func(tx store.Tx) error {
		v, err := tx.Get(secretsmanager.TableSecret, secretStoreKey(name))
		if err != nil {
			return err
		}
		return json.Unmarshal(v, &out)
	})
	if err != nil {
		t.Fatal(err)
	}
	return out.Rotation
}

// failureReasons returns the FailureReason of each RotationFailed event of
// the secret arn, oldest first.
func failureReasons(t *testing.T, e *env, arn string) []string {
	t.Helper()
	rows, err := e.Store.QueryAudit(context.Background(), store.AuditQuery{Account: account})
	if err != nil {
		t.Fatal(err)
	}
	var out []string
	for _, r := range rows {
		ev, err := audit.Parse(r.Body)
		if err != nil {
			t.Fatal(err)
		}
		if data, _ := ev.AdditionalData.(map[string]any); ev.EventName == "RotationFailed" && data["SecretId"] == arn {
			out = append(out, fmt.Sprint(data["FailureReason"]))
		}
	}
	return out
}

// A secret whose rotation is due but cannot start (its rotation function
// is no longer registered) is a failed attempt like any other: the reason
// is recorded (RotationFailed), the attempt is retried after the backoff,
// and the rotation window, a year stale here, is moved to the current one
// and saved at once, not walked again at every run.
func TestDueRotationWithoutItsFunctionIsAFailure(t *testing.T) {
	e := start(t)
	c := e.root()
	ctx := context.Background()
	passingFunction(t, e) // RotateImmediately=false runs its testSecret step
	arn := aws.ToString(must[*sm.CreateSecretOutput](t)(c.CreateSecret(ctx, &sm.CreateSecretInput{Name: aws.String("s"), SecretString: aws.String("v")})).ARN)
	must[*sm.RotateSecretOutput](t)(c.RotateSecret(ctx, &sm.RotateSecretInput{SecretId: aws.String("s"), RotationLambdaARN: aws.String(fnARN),
		RotationRules: &smtypes.RotationRulesType{ScheduleExpression: aws.String("rate(4 hours)")}, RotateImmediately: aws.Bool(false)}))
	next := *must[*sm.DescribeSecretOutput](t)(c.DescribeSecret(ctx, &sm.DescribeSecretInput{SecretId: aws.String("s")})).NextRotationDate
	e.Svc.RegisterFunction(fnARN, nil) // the function is gone

	// A year later, in a window (every 4 hours from midnight, an hour long).
	open := next.Add(time.Second-time.Hour).AddDate(1, 0, 0)
	at := open.Add(time.Minute)
	due := func(at time.Time) {
		t.Helper()
		if n, err := e.Svc.RotateDue(ctx, at); err != nil || n != 0 {
			t.Fatalf("RotateDue at %v = %d, %v; want none started", at, n, err)
		}
	}
	due(at)
	why := failureReasons(t, e, arn)
	if len(why) != 1 || !strings.Contains(why[0], "Secrets Manager can't find the rotation function "+fnARN) {
		t.Fatalf("RotationFailed reasons %q", why)
	}
	r := readRotation(t, e, "s")
	if !r.WindowStart.Equal(open) || !r.WindowEnd.Equal(open.Add(time.Hour)) || r.Failures != 1 || !r.RetryAt.Equal(at.Add(5*time.Minute)) || !strings.Contains(r.LastError, fnARN) {
		t.Fatalf("stored after the failure: %+v, want the window opening at %v", r, open)
	}
	// The backoff holds, then the attempt is retried (and fails again).
	due(at.Add(time.Minute))
	if why := failureReasons(t, e, arn); len(why) != 1 {
		t.Fatalf("retried within the backoff: %q", why)
	}
	due(at.Add(6 * time.Minute))
	if why := failureReasons(t, e, arn); len(why) != 2 {
		t.Fatalf("not retried after the backoff: %q", why)
	}
	// NextRotationDate stays in the past until a rotation succeeds.
	if d := must[*sm.DescribeSecretOutput](t)(c.DescribeSecret(ctx, &sm.DescribeSecretInput{SecretId: aws.String("s")})); !d.NextRotationDate.Equal(next) {
		t.Fatalf("NextRotationDate %v, want %v", d.NextRotationDate, next)
	}
	// Between windows nothing is due; the next window is stored once.
	due(open.Add(2 * time.Hour))
	if r := readRotation(t, e, "s"); !r.WindowStart.Equal(open.Add(4*time.Hour)) || r.Failures != 0 {
		t.Fatalf("stored between windows: %+v", r)
	}
}

// Rotation configurations stored before rotation windows kept only Next
// ("due from Next on"), and a failure once stored them with a window start
// but no end. Both are converted on first use: the window Next fell in,
// moved to the current one when it has closed; a failed attempt then
// counts and backs off instead of being retried at every run.
func TestRotationConfigurationStoredBeforeWindows(t *testing.T) {
	e := start(t)
	c := e.root()
	ctx := context.Background()
	fn := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) { http.Error(w, "the database is down", 500) }))
	defer fn.Close()
	e.Svc.RegisterFunction(fnARN, &secretsmanager.HTTPFunction{URL: fn.URL})

	at := utcDay(time.Now()).Add(12 * time.Hour)
	old := at.Add(-70 * time.Hour) // three days before, 14:00 UTC
	configs := map[string]map[string]any{
		"old":     {"enabled": true, "lambdaArn": fnARN, "afterDays": 1, "next": old},
		"damaged": {"enabled": true, "lambdaArn": fnARN, "afterDays": 1, "next": old, "windowStart": old},
	}
	arns := map[string]string{}
	for name, rot := range configs {
		arns[name] = aws.ToString(must[*sm.CreateSecretOutput](t)(c.CreateSecret(ctx, &sm.CreateSecretInput{Name: aws.String(name), SecretString: aws.String("v")})).ARN)
		err := e.Store.Update(ctx, func(tx store.Tx) error {
			v, err := tx.Get(secretsmanager.TableSecret, secretStoreKey(name))
			if err != nil {
				return err
			}
			var m map[string]any
			if err := json.Unmarshal(v, &m); err != nil {
				return err
			}
			m["rotation"] = rot
			if v, err = json.Marshal(m); err != nil {
				return err
			}
			return tx.Put(secretsmanager.TableSecret, secretStoreKey(name), v)
		})
		if err != nil {
			t.Fatal(err)
		}
	}
	if n, err := e.Svc.RotateDue(ctx, at); err != nil || n != 2 {
		t.Fatalf("RotateDue = %d, %v; want both started", n, err)
	}
	for name, arn := range arns {
		waitFor(t, name+"'s failed attempt", func() bool { return len(failureReasons(t, e, arn)) == 1 })
	}
	// Within the backoff neither is retried.
	if n, err := e.Svc.RotateDue(ctx, at.Add(time.Minute)); err != nil || n != 0 {
		t.Fatalf("RotateDue a minute later = %d, %v; want none (backoff)", n, err)
	}
	for name := range arns {
		r := readRotation(t, e, name)
		if !r.WindowStart.Equal(utcDay(at)) || !r.WindowEnd.Equal(utcDay(at).AddDate(0, 0, 1)) || r.Failures != 1 || r.RetryAt.IsZero() ||
			!strings.Contains(r.LastError, "the database is down") {
			t.Fatalf("%s after the failure: %+v", name, r)
		}
		// NextRotationDate: the last second of the window Next fell in.
		d := must[*sm.DescribeSecretOutput](t)(c.DescribeSecret(ctx, &sm.DescribeSecretInput{SecretId: aws.String(name)}))
		if want := utcDay(old).AddDate(0, 0, 1).Add(-time.Second); !d.NextRotationDate.Equal(want) {
			t.Fatalf("%s: NextRotationDate %v, want %v", name, d.NextRotationDate, want)
		}
	}
	if n, err := e.Svc.RotateDue(ctx, at.Add(6*time.Minute)); err != nil || n != 2 {
		t.Fatalf("RotateDue after the backoff = %d, %v; want both retried", n, err)
	}
}

// scanHook is a store whose hook runs once, after the first read-only
// transaction that scans the secrets (RotateDue's) has ended.
type scanHook struct {
	store.Store
	mu   sync.Mutex
	hook func()
}

type scanTx struct {
	store.Tx
	scanned *bool
}

func (tx scanTx) Scan(table, prefix, after string, limit int) ([]store.KV, error) {
	if table == secretsmanager.TableSecret {
		*tx.scanned = true
	}
	return tx.Tx.Scan(table, prefix, after, limit)
}

func (s *scanHook) View(ctx context.Context, fn func(tx store.Tx) error) error {
	scanned := false
	err := s.Store.View(ctx, func(tx store.Tx) error { return fn(scanTx{tx, &scanned}) })
	if scanned {
		s.mu.Lock()
		h := s.hook
		s.hook = nil
		s.mu.Unlock()
		if h != nil {
			h()
		}
	}
	return err
}

// A scheduled rotation starts from RotateDue's snapshot of the secrets.
// When another rotation of the secret finishes in the window between that
// snapshot and the start (here one asked for with RotateSecret), the
// secret is no longer due and the scheduled rotation does not run: one
// rotation per window.
func TestScheduledRotationAfterAnotherFinishedDoesNotRun(t *testing.T) {
	hooked := &scanHook{}
	e := startWith(t, func(st store.Store) store.Store { hooked.Store = st; return hooked })
	c := e.root()
	ctx := context.Background()
	setup := &fakeDB{password: "initial"}
	fn1 := httptest.NewServer(setup.handler(t, c))
	defer fn1.Close()
	e.Svc.RegisterFunction(fnARN, &secretsmanager.HTTPFunction{URL: fn1.URL})
	must[*sm.CreateSecretOutput](t)(c.CreateSecret(ctx, &sm.CreateSecretInput{Name: aws.String("db"), SecretString: aws.String("initial"), ClientRequestToken: aws.String(tok1)}))
	must[*sm.RotateSecretOutput](t)(c.RotateSecret(ctx, &sm.RotateSecretInput{SecretId: aws.String("db"), RotationLambdaARN: aws.String(fnARN),
		RotationRules: &smtypes.RotationRulesType{ScheduleExpression: aws.String("rate(4 hours)")}, RotateImmediately: aws.Bool(false)}))
	next := *must[*sm.DescribeSecretOutput](t)(c.DescribeSecret(ctx, &sm.DescribeSecretInput{SecretId: aws.String("db")})).NextRotationDate

	// The server's clock moves into the window; the function follows it.
	open := next.Add(time.Second - time.Hour)
	e.advance(time.Until(open.Add(time.Minute)))
	sk := e.skewed()
	db := &fakeDB{password: "initial"}
	fn2 := httptest.NewServer(db.handler(t, sk))
	defer fn2.Close()
	e.Svc.RegisterFunction(fnARN, &secretsmanager.HTTPFunction{URL: fn2.URL})

	var manual string
	hooked.mu.Lock()
	hooked.hook = func() {
		r, err := sk.RotateSecret(ctx, &sm.RotateSecretInput{SecretId: aws.String("db"), ClientRequestToken: aws.String(tok2)})
		if err != nil {
			t.Errorf("RotateSecret: %v", err)
			return
		}
		manual = aws.ToString(r.VersionId)
		waitRotated(t, sk, "db", manual)
	}
	hooked.mu.Unlock()
	if _, err := e.Svc.RotateDue(ctx, e.clock()); err != nil {
		t.Fatal(err)
	}
	if manual != tok2 {
		t.Fatalf("the manual rotation did not run in between (%q)", manual)
	}
	// Wait until no rotation holds the secret: RotateSecret without
	// rotating (it runs the testSecret step only) is refused until then.
	waitFor(t, "the secret to be free", func() bool {
		_, err := sk.RotateSecret(ctx, &sm.RotateSecretInput{SecretId: aws.String("db"), RotateImmediately: aws.Bool(false)})
		return err == nil
	})
	var creates int
	for _, st := range db.stepsSoFar() {
		if st == "createSecret" {
			creates++
		}
	}
	if ids := versionIDs(t, sk, "db"); creates != 1 || !slices.Equal(ids, []string{tok1, tok2}) {
		t.Fatalf("rotations in the window: %d createSecret steps, versions %v", creates, ids)
	}
	d := must[*sm.DescribeSecretOutput](t)(sk.DescribeSecret(ctx, &sm.DescribeSecretInput{SecretId: aws.String("db")}))
	if !slices.Equal(d.VersionIdsToStages[tok2], []string{"AWSCURRENT"}) || !slices.Equal(d.VersionIdsToStages[tok1], []string{"AWSPREVIOUS"}) {
		t.Fatalf("stages %v", d.VersionIdsToStages)
	}
}

// closingFunction is a rotation function whose finishSecret step makes
// its version current and then closes the service: the step returns only
// once Close has cancelled the rotation's context.
type closingFunction struct {
	c      *sm.Client
	svc    *secretsmanager.Service
	closed chan struct{}
}

func (f *closingFunction) Rotate(ctx context.Context, _ *service.Call, ev secretsmanager.RotationEvent) error {
	id, tok := aws.String(ev.SecretId), aws.String(ev.ClientRequestToken)
	switch ev.Step {
	case "createSecret":
		_, err := f.c.PutSecretValue(context.Background(), &sm.PutSecretValueInput{SecretId: id, ClientRequestToken: tok, SecretString: aws.String("rotated"), VersionStages: []string{"AWSPENDING"}})
		return err
	case "finishSecret":
		_, err := f.c.UpdateSecretVersionStage(context.Background(), &sm.UpdateSecretVersionStageInput{SecretId: id, VersionStage: aws.String("AWSCURRENT"),
			MoveToVersionId: tok, RemoveFromVersionId: aws.String(tok1)})
		if err != nil {
			return err
		}
		go func() { f.svc.Close(); close(f.closed) }()
		<-ctx.Done()
	}
	return nil
}

// A rotation whose four steps succeeded as the service closes is recorded
// as the success it is: the check that the new version became AWSCURRENT
// does not use the context Close cancels.
func TestRotationFinishedAtCloseSucceeds(t *testing.T) {
	e := start(t)
	c := e.root()
	ctx := context.Background()
	f := &closingFunction{c: c, svc: e.Svc, closed: make(chan struct{})}
	e.Svc.RegisterFunction(fnARN, f)
	must[*sm.CreateSecretOutput](t)(c.CreateSecret(ctx, &sm.CreateSecretInput{Name: aws.String("s"), SecretString: aws.String("v"), ClientRequestToken: aws.String(tok1)}))
	must[*sm.RotateSecretOutput](t)(c.RotateSecret(ctx, &sm.RotateSecretInput{SecretId: aws.String("s"), RotationLambdaARN: aws.String(fnARN), ClientRequestToken: aws.String(tok2)}))
	select {
	case <-f.closed:
	case <-time.After(30 * time.Second):
		t.Fatal("the rotation did not reach finishSecret")
	}
	d := must[*sm.DescribeSecretOutput](t)(c.DescribeSecret(ctx, &sm.DescribeSecretInput{SecretId: aws.String("s")}))
	if !slices.Equal(d.VersionIdsToStages[tok2], []string{"AWSCURRENT"}) || d.LastRotatedDate == nil {
		t.Fatalf("after the rotation: stages %v, LastRotatedDate %v", d.VersionIdsToStages, d.LastRotatedDate)
	}
	if evs := rotationEvents(t, e, tok2); evs[len(evs)-1].EventName != "RotationSucceeded" {
		t.Fatalf("last rotation event %s: %v", evs[len(evs)-1].EventName, evs[len(evs)-1].AdditionalData)
	}
}

// A secret moved to the AWS managed key aws/secretsmanager by the key's
// ARN or id is a secret under that key: DescribeSecret omits its KmsKeyId
// ("If the secret is encrypted with the AWS managed key
// aws/secretsmanager, this field is omitted"), and another account's
// caller that its policies let read it is refused as under the alias,
// with InvalidRequestException rather than KMS's refusal. A customer
// managed key named by ARN stays as given.
func TestSecretMovedToTheManagedKeyByARN(t *testing.T) {
	e := start(t)
	root := e.root()
	ctx := context.Background()
	reader, readerARN := e.user(other, "reader", `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"secretsmanager:GetSecretValue","Resource":"*"}]}`)
	grant := aws.String(`{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":{"AWS":"` + readerARN + `"},"Action":"secretsmanager:GetSecretValue","Resource":"*"}]}`)
	must[*sm.CreateSecretOutput](t)(root.CreateSecret(ctx, &sm.CreateSecretInput{Name: aws.String("default"), SecretString: aws.String("d")}))
	managed := e.Keys.Managed()
	if managed == "" {
		t.Fatal("no managed key after a secret under the default key")
	}
	// The managed key's policy admits its own account only.
	e.Keys.Deny(managed, readerARN)
	cmk := e.Keys.Create("")
	keyID := managed[strings.LastIndex(managed, "/")+1:]
	for name, key := range map[string]string{"by-arn": managed, "by-id": keyID} {
		t.Run(name, func(t *testing.T) {
			arn := aws.ToString(must[*sm.CreateSecretOutput](t)(root.CreateSecret(ctx, &sm.CreateSecretInput{Name: aws.String(name), SecretString: aws.String("v"), KmsKeyId: aws.String(cmk)})).ARN)
			must[*sm.PutResourcePolicyOutput](t)(root.PutResourcePolicy(ctx, &sm.PutResourcePolicyInput{SecretId: aws.String(arn), ResourcePolicy: grant}))
			if v := value(t, reader, arn); v != "v" {
				t.Fatalf("reader under the customer managed key reads %q", v)
			}
			must[*sm.UpdateSecretOutput](t)(root.UpdateSecret(ctx, &sm.UpdateSecretInput{SecretId: aws.String(arn), KmsKeyId: aws.String(key)}))
			if d := must[*sm.DescribeSecretOutput](t)(root.DescribeSecret(ctx, &sm.DescribeSecretInput{SecretId: aws.String(arn)})); d.KmsKeyId != nil {
				t.Fatalf("KmsKeyId %q under the managed key", aws.ToString(d.KmsKeyId))
			}
			_, err := reader.GetSecretValue(ctx, &sm.GetSecretValueInput{SecretId: aws.String(arn)})
			wantErr(t, err, "InvalidRequestException", 400, "You can't access a secret from a different AWS account if you encrypt the secret with the default KMS service key.")
			if v := value(t, root, arn); v != "v" {
				t.Fatalf("owner reads %q", v)
			}
			l := must[*sm.ListSecretVersionIdsOutput](t)(root.ListSecretVersionIds(ctx, &sm.ListSecretVersionIdsInput{SecretId: aws.String(arn)}))
			if len(l.Versions) != 1 || !slices.Equal(l.Versions[0].KmsKeyIds, []string{managed}) {
				t.Fatalf("versions %+v", l.Versions)
			}
		})
	}
	cmk2 := e.Keys.Create("")
	must[*sm.UpdateSecretOutput](t)(root.UpdateSecret(ctx, &sm.UpdateSecretInput{SecretId: aws.String("by-arn"), KmsKeyId: aws.String(cmk2)}))
	if d := must[*sm.DescribeSecretOutput](t)(root.DescribeSecret(ctx, &sm.DescribeSecretInput{SecretId: aws.String("by-arn")})); aws.ToString(d.KmsKeyId) != cmk2 {
		t.Fatalf("KmsKeyId %q, want %s", aws.ToString(d.KmsKeyId), cmk2)
	}
}

// UpdateSecret is one transaction: with a new KmsKeyId and a new value,
// a failure of the value's half (the quota of 100 versions; a retry with
// another value) leaves the key, the description and the versions as they
// were.
func TestUpdateSecretFailsWhole(t *testing.T) {
	e := start(t)
	c := e.root()
	ctx := context.Background()
	one, two := e.Keys.Create("alias/one"), e.Keys.Create("alias/two")
	must[*sm.CreateSecretOutput](t)(c.CreateSecret(ctx, &sm.CreateSecretInput{Name: aws.String("s"), SecretString: aws.String("v0"), KmsKeyId: aws.String("alias/one")}))
	for i := 1; i < 100; i++ { // versions younger than a day are kept
		must[*sm.PutSecretValueOutput](t)(c.PutSecretValue(ctx, &sm.PutSecretValueInput{SecretId: aws.String("s"), SecretString: aws.String(fmt.Sprint("v", i))}))
	}
	cur := must[*sm.GetSecretValueOutput](t)(c.GetSecretValue(ctx, &sm.GetSecretValueInput{SecretId: aws.String("s")}))
	unchanged := func(t *testing.T) {
		t.Helper()
		d := must[*sm.DescribeSecretOutput](t)(c.DescribeSecret(ctx, &sm.DescribeSecretInput{SecretId: aws.String("s")}))
		if aws.ToString(d.KmsKeyId) != "alias/one" || d.Description != nil {
			t.Fatalf("after the failed call: KmsKeyId %q, Description %q", aws.ToString(d.KmsKeyId), aws.ToString(d.Description))
		}
		if ids := versionIDs(t, c, "s"); len(ids) != 100 {
			t.Fatalf("%d versions", len(ids))
		}
		l := must[*sm.ListSecretVersionIdsOutput](t)(c.ListSecretVersionIds(ctx, &sm.ListSecretVersionIdsInput{SecretId: aws.String("s")}))
		for _, v := range l.Versions {
			if !slices.Equal(v.KmsKeyIds, []string{one}) {
				t.Fatalf("version %s under %v", aws.ToString(v.VersionId), v.KmsKeyIds)
			}
		}
		if v := must[*sm.GetSecretValueOutput](t)(c.GetSecretValue(ctx, &sm.GetSecretValueInput{SecretId: aws.String("s")})); aws.ToString(v.VersionId) != aws.ToString(cur.VersionId) || aws.ToString(v.SecretString) != "v99" {
			t.Fatalf("AWSCURRENT %s = %q", aws.ToString(v.VersionId), aws.ToString(v.SecretString))
		}
	}
	_, err := c.UpdateSecret(ctx, &sm.UpdateSecretInput{SecretId: aws.String("s"), KmsKeyId: aws.String("alias/two"), SecretString: aws.String("v100"), Description: aws.String("moved")})
	wantErr(t, err, "LimitExceededException", 400, "maximum number of versions")
	unchanged(t)
	_, err = c.UpdateSecret(ctx, &sm.UpdateSecretInput{SecretId: aws.String("s"), KmsKeyId: aws.String("alias/two"), SecretString: aws.String("not v99"),
		ClientRequestToken: cur.VersionId, Description: aws.String("moved")})
	wantErr(t, err, "ResourceExistsException", 400, "")
	unchanged(t)

	// The key alone moves, with the labelled versions.
	must[*sm.UpdateSecretOutput](t)(c.UpdateSecret(ctx, &sm.UpdateSecretInput{SecretId: aws.String("s"), KmsKeyId: aws.String("alias/two"), Description: aws.String("moved")}))
	d := must[*sm.DescribeSecretOutput](t)(c.DescribeSecret(ctx, &sm.DescribeSecretInput{SecretId: aws.String("s")}))
	if aws.ToString(d.KmsKeyId) != "alias/two" || aws.ToString(d.Description) != "moved" {
		t.Fatalf("after the update: %q, %q", aws.ToString(d.KmsKeyId), aws.ToString(d.Description))
	}
	l := must[*sm.ListSecretVersionIdsOutput](t)(c.ListSecretVersionIds(ctx, &sm.ListSecretVersionIdsInput{SecretId: aws.String("s")}))
	for _, v := range l.Versions { // the labelled ones
		if !slices.Equal(v.KmsKeyIds, []string{two}) {
			t.Fatalf("labelled version %s under %v, want %s", aws.ToString(v.VersionId), v.KmsKeyIds, two)
		}
	}
	if v := value(t, c, "s"); v != "v99" {
		t.Fatalf("value %q", v)
	}
}
