package awsproto

import (
	"errors"
	"fmt"
)

// Error is an AWS error as a client sees it: the wire code, the message, the
// HTTP status and whether the sender is at fault. Services return *Error values
// built by the generated constructors of internal/api/<service>; the protocol
// codecs are the only place they become bytes.
type Error struct {
	Code    string
	Message string
	Status  int
	Sender  bool
	// Type is the error shape name, when it differs from Code (the json
	// protocols put the shape name in __type; query puts Code in <Code>).
	Type string
	// Fields are the error shape's members beyond its message, by their
	// wire names ({"Reason": "OU_DEPTH_LIMIT_EXCEEDED"}): the json
	// protocols render them beside __type and message, query inside
	// <Error>. Values are strings, numbers or booleans. Services set them
	// through [Error.With].
	Fields map[string]any
	// Violations are the validation failures behind a ValidationError, one
	// per constraint (see [Validate]); a service's [Service.InvalidInput]
	// reads them. Never rendered as such.
	Violations []string

	cause error // for the log; never rendered
}

// With sets the member name of the error shape to value and returns e:
// orgapi.NewConstraintViolationException("…").With("Reason", "OU_DEPTH_LIMIT_EXCEEDED").
func (e *Error) With(name string, value any) *Error {
	if e.Fields == nil {
		e.Fields = make(map[string]any, 1)
	}
	e.Fields[name] = value
	return e
}

// DecodeError is the error a client gets when the request for an
// operation of s fails to decode or validate: err itself, unless it is a
// validation failure and s answers those with an error of its own
// ([Service.InvalidInput]). The server calls it on every Decode failure.
func (s *Service) DecodeError(err error) *Error {
	e := AsError(err)
	if s != nil && s.InvalidInput != nil && len(e.Violations) > 0 {
		if mapped := s.InvalidInput(e.Violations); mapped != nil {
			return mapped
		}
	}
	return e
}

// Cause is the internal error behind an InternalFailure, for the log.
func (e *Error) Cause() error { return e.cause }

func (e *Error) Error() string { return e.Code + ": " + e.Message }

// NewError builds an error from a model error shape.
func NewError(s *Shape, format string, args ...any) *Error {
	msg := format
	if len(args) > 0 {
		msg = fmt.Sprintf(format, args...)
	}
	info := s.Error
	if info == nil {
		info = &ErrorInfo{Code: s.Name, Status: 400, SenderFault: true}
	}
	return &Error{Code: info.Code, Message: msg, Status: info.Status, Sender: info.SenderFault, Type: s.Name}
}

// Common errors every AWS service may answer, whatever its model declares
// (https://docs.aws.amazon.com/STS/latest/APIReference/CommonErrors.html).
// The json protocols spell most of them with an "Exception" suffix; the codec
// of each protocol renders the right spelling (see [Protocol.CommonCode]).
const (
	CodeValidation                = "ValidationError"
	CodeInternalFailure           = "InternalFailure"
	CodeNotImplemented            = "NotImplemented"
	CodeAccessDenied              = "AccessDenied"
	CodeInvalidAction             = "InvalidAction"
	CodeMalformedQueryString      = "MalformedQueryString"
	CodeMissingAction             = "MissingAction"
	CodeSerialization             = "SerializationException"
	CodeUnknownOperation          = "UnknownOperationException"
	CodeRequestEntityTooLarge     = "RequestEntityTooLarge"
	CodeThrottling                = "Throttling"
	CodeSignatureDoesNotMatch     = "SignatureDoesNotMatch"
	CodeInvalidClientTokenID      = "InvalidClientTokenId"
	CodeMissingAuthenticationToke = "MissingAuthenticationToken"
	CodeIncompleteSignature       = "IncompleteSignature"
	CodeRequestExpired            = "RequestExpired"
	CodeExpiredToken              = "ExpiredToken"
)

// Internal wraps an unexpected failure. The cause is for the log only: the
// client sees AWS's generic InternalFailure.
func Internal(cause error) *Error {
	return &Error{Code: CodeInternalFailure, Message: "An internal error occurred.", Status: 500, Sender: false, cause: cause}
}

// AsError returns err as an *Error, turning anything else into InternalFailure.
func AsError(err error) *Error {
	var e *Error
	if errors.As(err, &e) {
		return e
	}
	return Internal(err)
}
