package awsproto_test

import (
	"errors"
	"strings"
	"testing"

	"github.com/rampart/rampart/internal/awsproto"
)

// DecodeError hands validation failures to the service's InvalidInput and
// leaves every other decoding error, and services without one, alone.
func TestDecodeError(t *testing.T) {
	violations := []string{"Value null at 'accountId' failed to satisfy constraint: Member must not be null"}
	validation := awsproto.ValidationError("ValidationException", violations)
	serialization := &awsproto.Error{Code: "SerializationException", Status: 400, Sender: true}
	var got []string
	mapping := &awsproto.Service{Name: "organizations", InvalidInput: func(v []string) *awsproto.Error {
		got = v
		return (&awsproto.Error{Code: "InvalidInputException", Message: "You must include a value for all required parameters.", Status: 400, Sender: true}).With("Reason", "INPUT_REQUIRED")
	}}
	declining := &awsproto.Service{Name: "x", InvalidInput: func([]string) *awsproto.Error { return nil }}
	for name, tc := range map[string]struct {
		svc    *awsproto.Service
		err    error
		code   string
		reason any
	}{
		"validation, mapped":        {mapping, validation, "InvalidInputException", "INPUT_REQUIRED"},
		"validation, no mapping":    {&awsproto.Service{Name: "kms"}, validation, "ValidationException", nil},
		"validation, nil service":   {nil, validation, "ValidationException", nil},
		"validation, mapper passes": {declining, validation, "ValidationException", nil},
		"serialization":             {mapping, serialization, "SerializationException", nil},
		"internal":                  {mapping, errors.New("boom"), awsproto.CodeInternalFailure, nil},
	} {
		t.Run(name, func(t *testing.T) {
			got = nil
			e := tc.svc.DecodeError(tc.err)
			if e.Code != tc.code || e.Fields["Reason"] != tc.reason {
				t.Fatalf("got %s %v, want %s %v", e.Code, e.Fields, tc.code, tc.reason)
			}
			if tc.code == "InvalidInputException" && (len(got) != 1 || !strings.Contains(got[0], "accountId")) {
				t.Fatalf("InvalidInput saw %v", got)
			}
		})
	}
	if validation.Message != "1 validation error detected: "+violations[0] {
		t.Fatalf("message %q", validation.Message)
	}
}
