package json_test

import (
	"encoding/json"
	"net/http/httptest"
	"testing"

	"github.com/rampart/rampart/internal/awsproto"
	awsjson "github.com/rampart/rampart/internal/awsproto/json"
)

type reason string // stands for a generated enum type

// The members of an error shape beyond its message (Reason, …) go beside
// __type and message, in name order; members the codec writes itself are
// not repeated.
func TestEncodeErrorFields(t *testing.T) {
	svc := kmsService()
	for name, tc := range map[string]struct {
		fields map[string]any
		want   string
	}{
		"none":        {nil, `{"__type":"NotFoundException","message":"gone"}`},
		"string":      {map[string]any{"Reason": "OU_DEPTH_LIMIT_EXCEEDED"}, `{"__type":"NotFoundException","message":"gone","Reason":"OU_DEPTH_LIMIT_EXCEEDED"}`},
		"enum type":   {map[string]any{"Reason": reason("INVALID_PATTERN")}, `{"__type":"NotFoundException","message":"gone","Reason":"INVALID_PATTERN"}`},
		"sorted":      {map[string]any{"b": 2, "a": true, "c": `q"uote`}, `{"__type":"NotFoundException","message":"gone","a":true,"b":2,"c":"q\"uote"}`},
		"own members": {map[string]any{"__type": "X", "Message": "other", "Reason": "R"}, `{"__type":"NotFoundException","message":"gone","Reason":"R"}`},
		"other value": {map[string]any{"List": []string{"x"}}, `{"__type":"NotFoundException","message":"gone","List":["x"]}`},
	} {
		t.Run(name, func(t *testing.T) {
			e := awsproto.NewError(errShape(svc, "NotFoundException"), "gone")
			for k, v := range tc.fields {
				e.With(k, v)
			}
			w := httptest.NewRecorder()
			awsjson.New().EncodeError(w, svc, e, "rid")
			if w.Body.String() != tc.want {
				t.Fatalf("body %s, want %s", w.Body.String(), tc.want)
			}
			if !json.Valid(w.Body.Bytes()) {
				t.Fatalf("invalid JSON %s", w.Body.String())
			}
			if w.Code != 400 || w.Header().Get("X-Amzn-Errortype") != "NotFoundException" {
				t.Fatalf("status %d, headers %v", w.Code, w.Header())
			}
		})
	}
}

// BenchmarkEncodeErrorReason: an Organizations error with its Reason.
func BenchmarkEncodeErrorReason(b *testing.B) {
	svc := kmsService()
	e := awsproto.NewError(errShape(svc, "NotFoundException"), "You attempted to create an OU tree that is too many levels deep.").With("Reason", "OU_DEPTH_LIMIT_EXCEEDED")
	b.ReportAllocs()
	for b.Loop() {
		w := httptest.NewRecorder()
		awsjson.New().EncodeError(w, svc, e, "rid")
	}
}
