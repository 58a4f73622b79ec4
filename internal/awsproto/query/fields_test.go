package query_test

import (
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/rampart/rampart/internal/awsproto"
	"github.com/rampart/rampart/internal/awsproto/query"
)

// Extra members of an error shape are elements of <Error>, after the
// message, in name order; names that are not XML names are left out and
// values are escaped.
func TestEncodeErrorFields(t *testing.T) {
	svc := stsService(t)
	e := &awsproto.Error{Code: "LimitExceeded", Message: "too many", Status: 409, Sender: true}
	e.With("Reason", "A<B").With("Count", 3).With("bad name", "x").With("Code", "Other")
	w := httptest.NewRecorder()
	query.New().EncodeError(w, svc, e, "rid")
	want := "<Code>LimitExceeded</Code><Message>too many</Message><Count>3</Count><Reason>A&lt;B</Reason></Error><RequestId>rid</RequestId>"
	if !strings.Contains(w.Body.String(), want) || w.Code != 409 {
		t.Fatalf("%d %s, want it to contain %s", w.Code, w.Body.String(), want)
	}
}
