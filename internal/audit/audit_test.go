package audit_test

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"path/filepath"
	"reflect"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/rampart/rampart/internal/audit"
	"github.com/rampart/rampart/internal/store"
	"github.com/rampart/rampart/internal/store/sqlite"
)

func openStore(t testing.TB) store.Store {
	t.Helper()
	s, err := sqlite.Open(filepath.Join(t.TempDir(), "audit.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	return s
}

// countingStore counts AppendAudit calls and can fail them.
type countingStore struct {
	store.Store
	calls, rows atomic.Int64
	fail        error
	delay       time.Duration
}

func (c *countingStore) AppendAudit(ctx context.Context, rows []store.AuditRow) error {
	c.calls.Add(1)
	c.rows.Add(int64(len(rows)))
	time.Sleep(c.delay)
	if c.fail != nil {
		return c.fail
	}
	return c.Store.AppendAudit(ctx, rows)
}

func assumeRoleEvent() *audit.Event {
	created := time.Date(2025, 3, 1, 11, 59, 0, 0, time.UTC)
	return &audit.Event{
		UserIdentity: audit.UserIdentity{
			Type:        audit.IdentityAssumedRole,
			PrincipalID: "AROAEXAMPLE:session",
			ARN:         "arn:aws:sts::111111111111:assumed-role/admin/session",
			AccountID:   "111111111111",
			AccessKeyID: "ASIAEXAMPLE",
			SessionContext: &audit.SessionContext{
				SessionIssuer: &audit.SessionIssuer{
					Type: "Role", PrincipalID: "AROAEXAMPLE", ARN: "arn:aws:iam::111111111111:role/admin",
					AccountID: "111111111111", UserName: "admin",
				},
				Attributes: audit.SessionAttributes{CreationDate: audit.Time{Time: created}, MFAAuthenticated: "false"},
			},
		},
		EventTime:          audit.Time{Time: time.Date(2025, 3, 1, 12, 0, 0, 123, time.UTC)},
		EventSource:        "sts.amazonaws.com",
		EventName:          "AssumeRole",
		AWSRegion:          "us-east-1",
		SourceIPAddress:    "127.0.0.1",
		UserAgent:          "aws-cli/2.15.0",
		RequestParameters:  map[string]any{"roleArn": "arn:aws:iam::222222222222:role/x", "roleSessionName": "s"},
		ResponseElements:   json.RawMessage(`{"credentials":{"accessKeyId":"ASIANEW","secretAccessKey":"wJalrSECRET","sessionToken":"tok","expiration":"Mar 1, 2025, 1:00:00 PM"}}`),
		RequestID:          "req-1",
		ReadOnly:           true,
		RecipientAccountID: "111111111111",
		TLSDetails:         &audit.TLSDetails{TLSVersion: "TLSv1.3", CipherSuite: "TLS_AES_128_GCM_SHA256", ClientProvidedHostHeader: "localhost"},
	}
}

func TestRecordStoresCloudTrailJSON(t *testing.T) {
	st := openStore(t)
	w := audit.NewWriter(st, audit.Options{Rand: bytes.NewReader(bytes.Repeat([]byte{0xAB}, 16))})
	defer w.Close()
	e := assumeRoleEvent()
	if err := w.Record(context.Background(), e); err != nil {
		t.Fatal(err)
	}
	rows, err := st.QueryAudit(context.Background(), store.AuditQuery{Account: "111111111111"})
	if err != nil || len(rows) != 1 {
		t.Fatalf("rows %d, err %v", len(rows), err)
	}
	r := rows[0]
	if r.EventID != "abababab-abab-4bab-abab-abababababab" || r.Region != "us-east-1" || !r.Time.Equal(e.EventTime.Time) {
		t.Fatalf("row columns: %+v", r)
	}
	var m map[string]any
	if err := json.Unmarshal(r.Body, &m); err != nil {
		t.Fatal(err)
	}
	want := map[string]any{
		"eventVersion": "1.09",
		"userIdentity": map[string]any{
			"type": "AssumedRole", "principalId": "AROAEXAMPLE:session",
			"arn": "arn:aws:sts::111111111111:assumed-role/admin/session", "accountId": "111111111111",
			"accessKeyId": "ASIAEXAMPLE",
			"sessionContext": map[string]any{
				"sessionIssuer": map[string]any{
					"type": "Role", "principalId": "AROAEXAMPLE", "arn": "arn:aws:iam::111111111111:role/admin",
					"accountId": "111111111111", "userName": "admin",
				},
				"attributes": map[string]any{"creationDate": "2025-03-01T11:59:00Z", "mfaAuthenticated": "false"},
			},
		},
		"eventTime":         "2025-03-01T12:00:00Z",
		"eventSource":       "sts.amazonaws.com",
		"eventName":         "AssumeRole",
		"awsRegion":         "us-east-1",
		"sourceIPAddress":   "127.0.0.1",
		"userAgent":         "aws-cli/2.15.0",
		"requestParameters": map[string]any{"roleArn": "arn:aws:iam::222222222222:role/x", "roleSessionName": "s"},
		"responseElements": map[string]any{"credentials": map[string]any{
			"accessKeyId": "ASIANEW", "secretAccessKey": audit.Hidden, "sessionToken": audit.Hidden, "expiration": "Mar 1, 2025, 1:00:00 PM",
		}},
		"requestID":          "req-1",
		"eventID":            "abababab-abab-4bab-abab-abababababab",
		"readOnly":           true,
		"eventType":          "AwsApiCall",
		"managementEvent":    true,
		"recipientAccountId": "111111111111",
		"eventCategory":      "Management",
		"tlsDetails":         map[string]any{"tlsVersion": "TLSv1.3", "cipherSuite": "TLS_AES_128_GCM_SHA256", "clientProvidedHostHeader": "localhost"},
	}
	if !reflect.DeepEqual(m, want) {
		got, _ := json.MarshalIndent(m, "", "  ")
		t.Fatalf("stored event:\n%s", got)
	}
	back, err := audit.Parse(r.Body)
	if err != nil || back.EventName != "AssumeRole" || !back.EventTime.Equal(time.Date(2025, 3, 1, 12, 0, 0, 0, time.UTC)) {
		t.Fatalf("parse: %+v %v", back, err)
	}
}

// A denied, unauthenticated call still becomes a complete record.
func TestRecordDefaultsForAnonymousError(t *testing.T) {
	st := openStore(t)
	now := time.Date(2025, 1, 2, 3, 4, 5, 0, time.UTC)
	w := audit.NewWriter(st, audit.Options{Now: func() time.Time { return now }})
	e := &audit.Event{EventSource: "sts.amazonaws.com", EventName: "GetCallerIdentity", AWSRegion: "us-east-1",
		ErrorCode: "InvalidClientTokenId", ErrorMessage: "The security token included in the request is invalid."}
	if err := w.Record(context.Background(), e); err != nil {
		t.Fatal(err)
	}
	w.Close()
	rows, err := st.QueryAudit(context.Background(), store.AuditQuery{})
	if err != nil || len(rows) != 1 {
		t.Fatalf("%d rows, %v", len(rows), err)
	}
	body := string(rows[0].Body)
	for _, s := range []string{`"type":"Unknown"`, `"eventTime":"2025-01-02T03:04:05Z"`, `"eventType":"AwsApiCall"`,
		`"errorCode":"InvalidClientTokenId"`, `"requestParameters":null`, `"eventCategory":"Management"`} {
		if !strings.Contains(body, s) {
			t.Errorf("body lacks %s: %s", s, body)
		}
	}
	if len(rows[0].EventID) != 36 {
		t.Errorf("event id %q", rows[0].EventID)
	}
}

func TestSecretsNeverStored(t *testing.T) {
	st := openStore(t)
	w := audit.NewWriter(st, audit.Options{Sensitive: audit.Members("KeyMaterialHex", "Outer.Inner")})
	type entry struct {
		UserName string
		Password string
	}
	secrets := []string{"hunter2", "s3cr3t-string", "PLAINTEXT-BYTES", "-----BEGIN PRIVATE KEY-----", "deadbeef", "inner-secret", "wJalrSECRET"}
	events := []*audit.Event{
		{EventName: "CreateLoginProfile", RequestParameters: map[string]any{"userName": "bob", "password": "hunter2"}},
		{EventName: "CreateSecret", RequestParameters: json.RawMessage(`{"Name":"db","SecretString":"s3cr3t-string","Tags":[{"Key":"k","Value":"v"}]}`)},
		{EventName: "Encrypt", RequestParameters: map[string]any{"keyId": "alias/x", "plaintext": []byte("PLAINTEXT-BYTES")}},
		{EventName: "ImportCertificate", RequestParameters: map[string]any{"privateKey": map[string]any{"pem": "-----BEGIN PRIVATE KEY-----"}}},
		{EventName: "Custom", RequestParameters: map[string]any{"keyMaterialHex": "deadbeef", "outer": map[string]any{"inner": "inner-secret", "other": "ok"}}},
		{EventName: "Batch", RequestParameters: map[string]any{"entries": []entry{{"alice", "hunter2"}}}},
		// A JSON document passed as a Go string cannot be walked: hidden whole.
		{EventName: "AssumeRole", ResponseElements: `{"credentials":{"secretAccessKey":"wJalrSECRET"}}`},
		{EventName: "Raw", AdditionalData: []byte(`{"SecretString":"s3cr3t-string"}`)},
	}
	for _, e := range events {
		if err := w.Record(context.Background(), e); err != nil {
			t.Fatalf("%s: %v", e.EventName, err)
		}
	}
	w.Close()
	rows, err := st.QueryAudit(context.Background(), store.AuditQuery{})
	if err != nil || len(rows) != len(events) {
		t.Fatalf("%d rows, %v", len(rows), err)
	}
	for _, r := range rows {
		for _, s := range secrets {
			if bytes.Contains(r.Body, []byte(s)) {
				t.Errorf("secret %q stored: %s", s, r.Body)
			}
		}
	}
	// Non-secret members survive.
	for _, s := range []string{`"userName":"bob"`, `"Name":"db"`, `"other":"ok"`, `"UserName":"alice"`, `"keyId":"alias/x"`} {
		found := false
		for _, r := range rows {
			found = found || bytes.Contains(r.Body, []byte(s))
		}
		if !found {
			t.Errorf("%s missing from stored rows", s)
		}
	}
}

func TestRedact(t *testing.T) {
	sens := audit.Members("Password", "Credentials.SecretAccessKey", "Secret")
	cases := map[string]struct{ in, want string }{
		"top level":          {`{"UserName":"a","Password":"p"}`, `{"Password":"HIDDEN_DUE_TO_SECURITY_REASONS","UserName":"a"}`},
		"case insensitive":   {`{"password":"p"}`, `{"password":"HIDDEN_DUE_TO_SECURITY_REASONS"}`},
		"nested anywhere":    {`{"a":{"b":{"password":1}}}`, `{"a":{"b":{"password":"HIDDEN_DUE_TO_SECURITY_REASONS"}}}`},
		"in lists":           {`{"L":[{"Password":"p","x":1},{"y":2}]}`, `{"L":[{"Password":"HIDDEN_DUE_TO_SECURITY_REASONS","x":1},{"y":2}]}`},
		"whole subtree":      {`{"Secret":{"a":[1,2]}}`, `{"Secret":"HIDDEN_DUE_TO_SECURITY_REASONS"}`},
		"exact path":         {`{"credentials":{"secretAccessKey":"k","accessKeyId":"A"}}`, `{"credentials":{"accessKeyId":"A","secretAccessKey":"HIDDEN_DUE_TO_SECURITY_REASONS"}}`},
		"exact path only":    {`{"other":{"secretAccessKey":"k"}}`, `{"other":{"secretAccessKey":"k"}}`},
		"numbers kept exact": {`{"n":12345678901234567890,"f":1.50}`, `{"f":1.50,"n":12345678901234567890}`},
		"null":               {`null`, `null`},
		"scalar root":        {`"Password"`, `"Password"`},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			got, err := audit.RedactJSON([]byte(tc.in), sens)
			if err != nil {
				t.Fatal(err)
			}
			if string(got) != tc.want {
				t.Fatalf("got %s, want %s", got, tc.want)
			}
		})
	}
	// The input is not modified.
	in := map[string]any{"Password": "p", "n": map[string]any{"Password": "q"}}
	if _, err := audit.Redact(in, sens); err != nil {
		t.Fatal(err)
	}
	if in["Password"] != "p" || in["n"].(map[string]any)["Password"] != "q" {
		t.Fatalf("input modified: %v", in)
	}
	if _, err := audit.RedactJSON([]byte(`{bad`), sens); err == nil {
		t.Fatal("invalid JSON accepted")
	}
}

func TestGroupCommit(t *testing.T) {
	cs := &countingStore{Store: openStore(t), delay: 2 * time.Millisecond}
	w := audit.NewWriter(cs, audit.Options{MaxBatch: 64})
	const n = 200
	var wg sync.WaitGroup
	errs := make(chan error, n)
	for i := range n {
		wg.Go(func() {
			errs <- w.Record(context.Background(), &audit.Event{EventName: fmt.Sprint(i), RecipientAccountID: "111111111111"})
		})
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		if err != nil {
			t.Fatal(err)
		}
	}
	w.Close()
	rows, err := cs.QueryAudit(context.Background(), store.AuditQuery{Account: "111111111111"})
	if err != nil || len(rows) != n {
		t.Fatalf("%d rows, %v", len(rows), err)
	}
	if c := cs.calls.Load(); c >= n/2 {
		t.Fatalf("%d AppendAudit calls for %d concurrent events: no batching", c, n)
	} else {
		t.Logf("%d events in %d transactions", n, c)
	}
	if cs.rows.Load() != n {
		t.Fatalf("rows written %d", cs.rows.Load())
	}
}

func TestIdleFlushHasNoTimerLatency(t *testing.T) {
	cs := &countingStore{Store: openStore(t)}
	w := audit.NewWriter(cs, audit.Options{})
	defer w.Close()
	for i := range 5 {
		if err := w.Record(context.Background(), &audit.Event{EventName: fmt.Sprint(i)}); err != nil {
			t.Fatal(err)
		}
	}
	if c := cs.calls.Load(); c != 5 {
		t.Fatalf("%d writes for 5 sequential events, want 5", c)
	}
}

func TestStoreErrorReachesCaller(t *testing.T) {
	boom := errors.New("disk full")
	w := audit.NewWriter(&countingStore{Store: openStore(t), fail: boom}, audit.Options{})
	defer w.Close()
	if err := w.Record(context.Background(), &audit.Event{}); !errors.Is(err, boom) {
		t.Fatalf("got %v", err)
	}
}

func TestCloseDrains(t *testing.T) {
	cs := &countingStore{Store: openStore(t), delay: 5 * time.Millisecond}
	w := audit.NewWriter(cs, audit.Options{MaxBatch: 3})
	var wg sync.WaitGroup
	var okCount atomic.Int64
	for range 20 {
		wg.Go(func() {
			if w.Record(context.Background(), &audit.Event{}) == nil {
				okCount.Add(1)
			}
		})
	}
	time.Sleep(time.Millisecond)
	w.Close()
	wg.Wait()
	rows, err := cs.QueryAudit(context.Background(), store.AuditQuery{})
	if err != nil {
		t.Fatal(err)
	}
	if int64(len(rows)) != okCount.Load() {
		t.Fatalf("%d rows stored, %d Records succeeded", len(rows), okCount.Load())
	}
	if err := w.Record(context.Background(), &audit.Event{}); !errors.Is(err, audit.ErrClosed) {
		t.Fatalf("after Close: %v", err)
	}
	w.Close() // idempotent
}

func TestRecordContextCancelled(t *testing.T) {
	cs := &countingStore{Store: openStore(t), delay: 50 * time.Millisecond}
	w := audit.NewWriter(cs, audit.Options{})
	defer w.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Millisecond)
	defer cancel()
	if err := w.Record(ctx, &audit.Event{}); !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("got %v", err)
	}
}

func BenchmarkRecord16(b *testing.B) {
	st := openStore(b)
	cs := &countingStore{Store: st}
	w := audit.NewWriter(cs, audit.Options{})
	defer w.Close()
	b.SetParallelism(max(1, 16/runtimeProcs()))
	b.ReportAllocs()
	b.ResetTimer()
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			e := assumeRoleEvent()
			if err := w.Record(context.Background(), e); err != nil {
				b.Error(err)
				return
			}
		}
	})
	b.StopTimer()
	b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "events/s")
	if c := cs.calls.Load(); c > 0 {
		b.ReportMetric(float64(cs.rows.Load())/float64(c), "events/commit")
	}
}

func BenchmarkRecordSerial(b *testing.B) {
	w := audit.NewWriter(openStore(b), audit.Options{})
	defer w.Close()
	b.ReportAllocs()
	for b.Loop() {
		if err := w.Record(context.Background(), assumeRoleEvent()); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "events/s")
}

// TestEnqueue: enqueued events are stored in the order given and share
// commits; Flush returns once they are stored.
func TestEnqueue(t *testing.T) {
	cs := &countingStore{Store: openStore(t)}
	w := audit.NewWriter(cs, audit.Options{LagLimit: time.Hour})
	for i := range 20 {
		if err := w.Enqueue(&audit.Event{EventName: fmt.Sprintf("Read%02d", i)}); err != nil {
			t.Fatal(err)
		}
	}
	if err := w.Flush(context.Background()); err != nil {
		t.Fatal(err)
	}
	rows, err := cs.QueryAudit(context.Background(), store.AuditQuery{})
	if err != nil {
		t.Fatal(err)
	}
	if len(rows) != 20 {
		t.Fatalf("%d rows stored, want 20", len(rows))
	}
	for i, r := range rows {
		if !strings.Contains(string(r.Body), fmt.Sprintf(`"eventName":"Read%02d"`, i)) {
			t.Fatalf("row %d: %s", i, r.Body)
		}
	}
	if c := cs.calls.Load(); c >= 20 {
		t.Fatalf("%d commits for 20 enqueued events: they should share commits", c)
	}
	// Pending records are reused: a Flush after enqueued events were
	// stored still waits and is told.
	for range 5 {
		w.Enqueue(&audit.Event{EventName: "Again"})
	}
	if err := w.Flush(context.Background()); err != nil {
		t.Fatal(err)
	}
	if rows, _ = cs.QueryAudit(context.Background(), store.AuditQuery{}); len(rows) != 25 {
		t.Fatalf("%d rows after the second Flush, want 25", len(rows))
	}
	// Close writes what is enqueued, however long LagLimit is.
	w.Enqueue(&audit.Event{EventName: "Last"})
	w.Close()
	if rows, _ = cs.QueryAudit(context.Background(), store.AuditQuery{}); len(rows) != 26 {
		t.Fatalf("%d rows after Close, want 26", len(rows))
	}
	if err := w.Enqueue(&audit.Event{}); !errors.Is(err, audit.ErrClosed) {
		t.Fatalf("after Close: %v", err)
	}
}

// TestEnqueueFailureFailsLaterCalls: a commit of enqueued events that
// fails has nobody to tell; every later Enqueue and Record fails instead.
func TestEnqueueFailureFailsLaterCalls(t *testing.T) {
	boom := errors.New("disk full")
	cs := &countingStore{Store: openStore(t), fail: boom}
	w := audit.NewWriter(cs, audit.Options{})
	defer w.Close()
	if err := w.Enqueue(&audit.Event{}); err != nil {
		t.Fatal(err)
	}
	// The failed commit is seen by the next call once it has happened.
	var err error
	for i := 0; i < 1000 && err == nil; i++ {
		time.Sleep(time.Millisecond)
		err = w.Enqueue(&audit.Event{})
	}
	if !errors.Is(err, boom) {
		t.Fatalf("Enqueue after a failed commit: %v", err)
	}
	if err := w.Record(context.Background(), &audit.Event{}); !errors.Is(err, boom) {
		t.Fatalf("Record after a failed commit: %v", err)
	}
	if err := w.Flush(context.Background()); !errors.Is(err, boom) {
		t.Fatalf("Flush after a failed commit: %v", err)
	}
}

// TestLingerEndsForAWaiter: enqueued events linger for company (here up to
// an hour), but an event someone waits on ends the wait, and with it goes
// everything queued before it.
func TestLingerEndsForAWaiter(t *testing.T) {
	cs := &countingStore{Store: openStore(t)}
	w := audit.NewWriter(cs, audit.Options{LagLimit: time.Hour})
	defer w.Close()
	for i := range 5 {
		if err := w.Enqueue(&audit.Event{EventName: fmt.Sprintf("Read%d", i)}); err != nil {
			t.Fatal(err)
		}
	}
	// A guard against a hang, not a timing assertion.
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	if err := w.Record(ctx, &audit.Event{EventName: "Write"}); err != nil {
		t.Fatalf("Record behind lingering events: %v", err)
	}
	rows, err := cs.QueryAudit(context.Background(), store.AuditQuery{})
	if err != nil {
		t.Fatal(err)
	}
	if len(rows) != 6 {
		t.Fatalf("%d rows stored with the waited-on event, want 6", len(rows))
	}
}

// TestGatherEndsWithTheLastExpected: a commit waits (here up to an hour)
// for events announced by Expect, and ends its wait when the last of them
// is queued.
func TestGatherEndsWithTheLastExpected(t *testing.T) {
	cs := &countingStore{Store: openStore(t)}
	w := audit.NewWriter(cs, audit.Options{CommitDelay: time.Hour})
	defer w.Close()
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	const n = 4
	for range n {
		w.Expect()
	}
	errs := make(chan error, n)
	for i := range n {
		go func() { errs <- w.Record(ctx, &audit.Event{EventName: fmt.Sprintf("Call%d", i)}) }()
	}
	for range n {
		if err := <-errs; err != nil {
			t.Fatalf("Record while gathering: %v", err)
		}
	}
	if c := cs.calls.Load(); c > n {
		t.Fatalf("%d commits for %d events", c, n)
	}
}

// TestRecordChangeFailureIsAGap: the failed commit of a change's record
// leaves a gap the Writer keeps (every later call fails), even when the
// caller stopped waiting first; a failed Record of a read does not.
func TestRecordChangeFailureIsAGap(t *testing.T) {
	boom := errors.New("disk full")
	cs := &countingStore{Store: openStore(t), fail: boom}
	w := audit.NewWriter(cs, audit.Options{})
	defer w.Close()
	if err := w.Record(context.Background(), &audit.Event{EventName: "Read"}); !errors.Is(err, boom) {
		t.Fatalf("Record: %v", err)
	}
	if err := w.Err(); err != nil {
		t.Fatalf("a failed read record left a gap: %v", err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	cancel() // the caller has gone; the commit still runs
	if err := w.RecordChange(ctx, &audit.Event{EventName: "Write"}); err == nil {
		t.Fatal("RecordChange with a failing store: nil error")
	}
	if err := w.Flush(context.Background()); !errors.Is(err, boom) {
		t.Fatalf("Flush after the failed change: %v", err)
	}
	if err := w.Record(context.Background(), &audit.Event{EventName: "Later"}); !errors.Is(err, boom) {
		t.Fatalf("Record after the gap: %v, want the commit's error", err)
	}
}
