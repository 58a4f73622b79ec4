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

	cause error // for the log; never rendered
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
