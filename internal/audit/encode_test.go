package audit

import (
	"bytes"
	"encoding/json"
	"math"
	"math/rand/v2"
	"strings"
	"testing"
	"time"
)

// oldEncode is how the Writer encoded events before appendEvent: redact
// each parameter member, then encoding/json. appendEvent must match it.
func oldEncode(w *Writer, e *Event) ([]byte, error) {
	c := *e
	var err error
	if c.RequestParameters, err = w.redact(c.RequestParameters); err != nil {
		return nil, err
	}
	if c.ResponseElements, err = w.redact(c.ResponseElements); err != nil {
		return nil, err
	}
	if c.AdditionalData, err = w.redact(c.AdditionalData); err != nil {
		return nil, err
	}
	return json.Marshal(&c)
}

var awkwardStrings = []string{
	"", "plain", `quote " and \ backslash`, "<script>&amp;</script>", "tab\tnew\nline\rcr",
	"\b\f\x00\x01\x1f\x7f", "é ü 日本語 🙂", "\u2028\u2029", "bad \xff\xfe utf8", "\xed\xa0\x80",
	"HIDDEN_DUE_TO_SECURITY_REASONS",
}

var memberNames = []string{"userName", "password", "secretString", "keyId", "Plaintext", "policy<doc>", "tags", "entries", "value", "secretAccessKey", "a&b"}

func randomValue(r *rand.Rand, depth int) any {
	k := r.IntN(9)
	if depth > 3 && k >= 6 {
		k = r.IntN(6)
	}
	switch k {
	case 0:
		return nil
	case 1:
		return awkwardStrings[r.IntN(len(awkwardStrings))]
	case 2:
		return r.IntN(2) == 0
	case 3:
		return int64(r.Int64N(1<<40)) - 1<<39
	case 4:
		fs := []float64{0, 1.5, -2.25, 1e-7, 3.5e-9, 1e21, 1.7976931348623157e308, 123456789, 0.000001, math.Copysign(0, -1)}
		return fs[r.IntN(len(fs))]
	case 5:
		ns := []json.Number{"12", "-0.5", "1e10", "3.0E+2"}
		return ns[r.IntN(len(ns))]
	case 6:
		n := r.IntN(4)
		l := make([]any, n)
		for i := range l {
			l[i] = randomValue(r, depth+1)
		}
		if n == 0 && r.IntN(2) == 0 {
			return []any(nil)
		}
		return l
	default:
		n := r.IntN(5)
		m := make(map[string]any, n)
		for range n {
			m[memberNames[r.IntN(len(memberNames))]] = randomValue(r, depth+1)
		}
		return m
	}
}

func randomString(r *rand.Rand) string {
	if r.IntN(3) == 0 {
		return ""
	}
	return awkwardStrings[r.IntN(len(awkwardStrings))]
}

func randomEvent(r *rand.Rand) *Event {
	e := &Event{
		EventVersion:       EventVersion,
		EventTime:          Time{time.Unix(r.Int64N(2e9), 0)},
		EventSource:        "sts.amazonaws.com",
		EventName:          randomString(r),
		AWSRegion:          "us-east-1",
		SourceIPAddress:    "127.0.0.1",
		UserAgent:          randomString(r),
		ErrorCode:          randomString(r),
		ErrorMessage:       randomString(r),
		RequestID:          "req",
		EventID:            "ev",
		ReadOnly:           r.IntN(2) == 0,
		EventType:          EventTypeAwsAPICall,
		APIVersion:         randomString(r),
		ManagementEvent:    r.IntN(2) == 0,
		RecipientAccountID: randomString(r),
		SharedEventID:      randomString(r),
		EventCategory:      CategoryManagement,
		UserIdentity:       UserIdentity{Type: IdentityRoot, PrincipalID: randomString(r), ARN: randomString(r), AccountID: randomString(r), UserName: randomString(r), InvokedBy: randomString(r)},
	}
	if r.IntN(2) == 0 {
		e.UserIdentity.SessionContext = &SessionContext{Attributes: SessionAttributes{MFAAuthenticated: "false"}, SourceIdentity: randomString(r)}
		if r.IntN(2) == 0 {
			e.UserIdentity.SessionContext.Attributes.CreationDate = Time{time.Unix(1700000000, 0)}
			e.UserIdentity.SessionContext.SessionIssuer = &SessionIssuer{Type: "Role", ARN: randomString(r)}
		}
	}
	if r.IntN(3) == 0 {
		e.Resources = []Resource{{ARN: randomString(r), Type: randomString(r)}, {}}
	}
	if r.IntN(3) == 0 {
		e.TLSDetails = &TLSDetails{TLSVersion: "TLSv1.3", CipherSuite: randomString(r)}
	}
	e.RequestParameters = randomValue(r, 0)
	e.ResponseElements = randomValue(r, 0)
	if r.IntN(2) == 0 {
		e.AdditionalData = randomValue(r, 0)
	}
	return e
}

// TestAppendEventMatchesEncodingJSON: the hand-written encoder writes what
// redaction plus encoding/json wrote, byte for byte, for generated events
// and for the values that are not plain (structs, raw JSON, byte slices).
func TestAppendEventMatchesEncodingJSON(t *testing.T) {
	w := &Writer{sensitive: Any(Baseline, Members("Value", "tags.key"))}
	r := rand.New(rand.NewPCG(1, 2))
	type entry struct {
		Name     string
		Password string
	}
	fixed := []*Event{
		{RequestParameters: json.RawMessage(`{"Name":"db","SecretString":"s3cr3t","Tags":[{"Key":"k","Value":"v"}],"n":1.50}`)},
		{RequestParameters: map[string]any{"entries": []entry{{"alice", "hunter2"}}, "keyId": "x"}},
		{RequestParameters: map[string]any{"plaintext": []byte("PLAINTEXT")}},
		{RequestParameters: "a string root", ResponseElements: []any{"list root"}},
		{RequestParameters: []byte(`{"password":"p","x":[1,2]}`), AdditionalData: map[string]any{}},
		{ResponseElements: map[string]any{"tags": map[string]any{"key": "hidden by path", "other": "kept"}}},
	}
	for i := range 3000 {
		var e *Event
		if i < len(fixed) {
			e = fixed[i]
		} else {
			e = randomEvent(r)
		}
		want, wantErr := oldEncode(w, e)
		var path []string
		got, gotErr := w.appendEvent(nil, e, &path)
		if (wantErr != nil) != (gotErr != nil) {
			t.Fatalf("event %d: error %v, encoding/json: %v", i, gotErr, wantErr)
		}
		if wantErr == nil && !bytes.Equal(got, want) {
			t.Fatalf("event %d:\n got %s\nwant %s", i, got, want)
		}
	}
}

// TestAppendEventHidesSecrets: nothing the baseline names survives the
// encoding, at any depth.
func TestAppendEventHidesSecrets(t *testing.T) {
	w := &Writer{sensitive: Baseline}
	e := &Event{RequestParameters: map[string]any{
		"userName": "bob", "password": "hunter2",
		"nested": []any{map[string]any{"SecretAccessKey": "wJalrXUtnFEMI", "ok": 1.0}},
	}}
	var path []string
	got, err := w.appendEvent(nil, e, &path)
	if err != nil {
		t.Fatal(err)
	}
	for _, secret := range []string{"hunter2", "wJalrXUtnFEMI"} {
		if strings.Contains(string(got), secret) {
			t.Fatalf("%q in %s", secret, got)
		}
	}
	if !strings.Contains(string(got), `"bob"`) {
		t.Fatalf("userName lost: %s", got)
	}
}

func BenchmarkEncodeEvent(b *testing.B) {
	w := &Writer{sensitive: Baseline}
	e := &Event{
		EventVersion: EventVersion, EventTime: Time{time.Now()}, EventSource: "secretsmanager.amazonaws.com", EventName: "GetSecretValue",
		AWSRegion: "us-east-1", SourceIPAddress: "127.0.0.1", UserAgent: "aws-sdk-go-v2/1.36.3 ua/2.1 os/linux lang/go#1.26 md/GOOS#linux md/GOARCH#amd64 api/secretsmanager#1.35.0",
		RequestID: "5f0c4e2a-8a0b-4b8e-9a55-6d1f1c0e4b11", EventID: "8c1d2e3f-0a1b-4c2d-8e3f-405162738495", ReadOnly: true,
		EventType: EventTypeAwsAPICall, ManagementEvent: true, RecipientAccountID: "000000000000", EventCategory: CategoryManagement,
		UserIdentity:      UserIdentity{Type: IdentityRoot, PrincipalID: "000000000000", ARN: "arn:aws:iam::000000000000:root", AccountID: "000000000000", AccessKeyID: "test"},
		RequestParameters: map[string]any{"secretId": "rampart-bench"},
	}
	b.Run("appendEvent", func(b *testing.B) {
		var buf []byte
		var path []string
		for b.Loop() {
			buf, _ = w.appendEvent(buf[:0], e, &path)
		}
	})
	b.Run("redact+encoding/json", func(b *testing.B) {
		for b.Loop() {
			if _, err := oldEncode(w, e); err != nil {
				b.Fatal(err)
			}
		}
	})
}
