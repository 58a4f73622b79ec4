package conformance

import (
	"context"
	"io"
	"reflect"
	"testing"
	"time"

	"github.com/rampart/rampart/internal/awsproto"
	"github.com/rampart/rampart/internal/awsproto/protocols"
)

// The served models have one timestamp input (KMS ImportKeyMaterial's
// ValidTo), so the timestamp forms of every protocol and binding are
// checked here, on a synthetic operation: the harness's generated
// timestamp, written by its encoder in the protocol's form (query: ISO 8601
// with the fraction; json and a rest-json body: epoch seconds as a number;
// rest-json: an HTTP date in a header, ISO 8601 in the query string and the
// URI; a member's timestampFormat overriding each), must come out of
// rampart's codec as the same instant. A malformed one must be refused
// with the protocol's 400.
func TestTimestampForms(t *testing.T) {
	type Nested struct {
		At *time.Time
	}
	type In struct {
		Body   *time.Time
		Header *time.Time
		Query  *time.Time
		URI    *time.Time
		Epoch  *time.Time
		Nested *Nested
		List   []time.Time
	}
	ts := &awsproto.Shape{Name: "Timestamp", Kind: awsproto.KindTimestamp}
	epoch := &awsproto.Shape{Name: "EpochTimestamp", Kind: awsproto.KindTimestamp, TimestampFormat: "unixTimestamp"}
	nested := &awsproto.Shape{Name: "Nested", Kind: awsproto.KindStructure, GoType: reflect.TypeOf(Nested{}), Members: []*awsproto.Member{
		{Name: "At", Shape: ts, Field: 0},
	}}
	list := &awsproto.Shape{Name: "Times", Kind: awsproto.KindList, Member: &awsproto.Member{Shape: ts}}
	at := Timestamp()
	for _, proto := range []string{"query", "json", "rest-json"} {
		t.Run(proto, func(t *testing.T) {
			// Bindings (and their wire names) are rest-json's; the
			// other protocols carry every member in the body.
			bind := func(m *awsproto.Member, location, name string) *awsproto.Member {
				if proto == "rest-json" {
					m.Location, m.LocationName = location, name
				}
				return m
			}
			in := &awsproto.Shape{Name: "In", Kind: awsproto.KindStructure, GoType: reflect.TypeOf(In{}), Members: []*awsproto.Member{
				{Name: "Body", Shape: ts, Field: 0},
				bind(&awsproto.Member{Name: "Header", Shape: ts, Field: 1}, "header", "x-at"),
				bind(&awsproto.Member{Name: "Query", Shape: ts, Field: 2}, "querystring", "at"),
				bind(&awsproto.Member{Name: "URI", Shape: ts, Field: 3}, "uri", "at"),
				bind(&awsproto.Member{Name: "Epoch", Shape: epoch, Field: 4}, "querystring", "epoch"),
				{Name: "Nested", Shape: nested, Field: 5},
				{Name: "List", Shape: list, Field: 6},
			}}
			op := &awsproto.Operation{Name: "Look", Method: "POST", RequestURI: "/look/{at}", Input: in}
			svc := (&awsproto.Service{Name: "x", Protocol: proto, APIVersion: "2020-01-01", TargetPrefix: "X", JSONVersion: "1.1",
				Operations: []*awsproto.Operation{op}}).Init()
			codec := protocols.For(proto)
			g := &Gen{Salt: "ts"}
			values := g.Input(in, true)
			if len(values) != len(in.Members) {
				t.Fatalf("the full input has %d of %d members: %v", len(values), len(in.Members), values)
			}
			decode := func(values obj) (*In, error) {
				req, body, err := NewRequest(context.Background(), "http://127.0.0.1", op, values)
				if err != nil {
					t.Fatal(err)
				}
				if req.Body != nil {
					_, _ = io.Copy(io.Discard, req.Body)
				}
				r := &awsproto.Request{HTTP: req, Body: body}
				o, err := codec.Operation(svc, r)
				if err != nil {
					t.Fatalf("route: %v", err)
				}
				var got In
				return &got, codec.Decode(o, r, &got)
			}
			got, err := decode(values)
			if err != nil {
				t.Fatal(err)
			}
			header := at
			if proto == "rest-json" {
				header = at.Truncate(time.Second) // an HTTP date has no fraction
			}
			for name, v := range map[string]*time.Time{"Body": got.Body, "Header": got.Header, "Query": got.Query, "URI": got.URI,
				"Epoch": got.Epoch, "Nested.At": got.Nested.At} {
				want := at
				if name == "Header" {
					want = header
				}
				if v == nil || !v.Equal(want) {
					t.Errorf("%s: got %v, want %v", name, v, want)
				}
			}
			if len(got.List) != 1 || !got.List[0].Equal(at) {
				t.Errorf("List: got %v", got.List)
			}

			bad := Raw("not-a-timestamp")
			if proto != "query" {
				bad = `"not-a-timestamp"`
			}
			values["Nested"] = obj{"At": bad}
			_, err = decode(values)
			e, ok := err.(*awsproto.Error)
			want := awsproto.CodeSerialization
			if proto == "query" {
				want = "InvalidParameterValue"
			}
			if !ok || e.Status != 400 || e.Code != want {
				t.Fatalf("a malformed timestamp: got %v, want %s", err, want)
			}
		})
	}
}
