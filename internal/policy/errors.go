package policy

import (
	"errors"
	"fmt"
)

// AWS error codes carried by [*Error].
const (
	CodeMalformed     = "MalformedPolicyDocument"
	CodeLimitExceeded = "LimitExceeded"
)

// Sentinels wrapped by every [*Error], for errors.Is.
var (
	ErrMalformed     = errors.New("malformed policy document")
	ErrLimitExceeded = errors.New("policy size limit exceeded")
)

// Error is a rejected policy document. Code is the AWS error code
// (MalformedPolicyDocument or LimitExceeded) and Message AWS's wording, which
// the protocol layer returns to the client unchanged. Path says where the
// problem is, as a JSON path such as "Statement[1].Condition.StringEquals"
// ("" for the whole document).
type Error struct {
	Code    string
	Message string
	Path    string
}

func (e *Error) Error() string {
	if e.Path == "" {
		return fmt.Sprintf("%s: %s", e.Code, e.Message)
	}
	return fmt.Sprintf("%s at %s: %s", e.Code, e.Path, e.Message)
}

// Unwrap returns ErrMalformed or ErrLimitExceeded.
func (e *Error) Unwrap() error {
	if e.Code == CodeLimitExceeded {
		return ErrLimitExceeded
	}
	return ErrMalformed
}

func malformed(path, format string, args ...any) *Error {
	return &Error{Code: CodeMalformed, Message: fmt.Sprintf(format, args...), Path: path}
}
