package sigv4

// Kind classifies a Signature V4 failure. The server renders a Kind in the
// wire protocol of the service the request was meant for: [Kind.Code] is the
// common error code as query services (IAM, STS) spell it, [Kind.JSONCode] the
// spelling of the json and rest-json services (KMS), and [Kind.Status] the HTTP
// status (https://docs.aws.amazon.com/STS/latest/APIReference/CommonErrors.html).
type Kind int

const (
	// KindMissingAuthentication: neither an AWS4 Authorization header nor
	// presigned query parameters.
	KindMissingAuthentication Kind = iota + 1
	// KindIncompleteSignature: the header or the query parameters are
	// malformed (missing Credential/SignedHeaders/Signature, no date, a date
	// that is not ISO-8601 basic format, a wrong algorithm, a credential
	// without five parts).
	KindIncompleteSignature
	// KindSignatureDoesNotMatch: the signature is wrong, or the credential
	// scope is (bad terminator, date not the request's, wrong region or
	// service), or 'host' is not signed, or x-amz-content-sha256 lies.
	KindSignatureDoesNotMatch
	// KindRequestTimeTooSkewed: the request time is more than 15 minutes
	// from the server clock. AWS answers it as SignatureDoesNotMatch with a
	// "Signature expired" or "Signature not yet current" message.
	KindRequestTimeTooSkewed
	// KindRequestExpired: a presigned request used after X-Amz-Expires.
	KindRequestExpired
	// KindInvalidClientTokenID: the access key is unknown. Verify never
	// returns it; the server does, through [ErrInvalidClientTokenID], when
	// the key Parse found is not in its store.
	KindInvalidClientTokenID
)

var kindNames = [...]string{
	KindMissingAuthentication: "MissingAuthentication",
	KindIncompleteSignature:   "IncompleteSignature",
	KindSignatureDoesNotMatch: "SignatureDoesNotMatch",
	KindRequestTimeTooSkewed:  "RequestTimeTooSkewed",
	KindRequestExpired:        "RequestExpired",
	KindInvalidClientTokenID:  "InvalidClientTokenID",
}

// String returns the Go name of the kind, e.g. "RequestTimeTooSkewed". It is
// for logs; use [Kind.Code] on the wire.
func (k Kind) String() string {
	if k > 0 && int(k) < len(kindNames) {
		return kindNames[k]
	}
	return "Kind(?)"
}

// Code returns the common error code query-protocol services answer with.
func (k Kind) Code() string {
	switch k {
	case KindMissingAuthentication:
		return "MissingAuthenticationToken"
	case KindIncompleteSignature:
		return "IncompleteSignature"
	case KindSignatureDoesNotMatch, KindRequestTimeTooSkewed:
		return "SignatureDoesNotMatch"
	case KindRequestExpired:
		return "RequestExpired"
	case KindInvalidClientTokenID:
		return "InvalidClientTokenId"
	}
	return "InternalFailure"
}

// JSONCode returns the error code json and rest-json services answer with.
// It is not Code plus "Exception": a bad signature is InvalidSignatureException
// and an unknown key UnrecognizedClientException.
func (k Kind) JSONCode() string {
	switch k {
	case KindMissingAuthentication:
		return "MissingAuthenticationTokenException"
	case KindIncompleteSignature:
		return "IncompleteSignatureException"
	case KindSignatureDoesNotMatch, KindRequestTimeTooSkewed, KindRequestExpired:
		return "InvalidSignatureException"
	case KindInvalidClientTokenID:
		return "UnrecognizedClientException"
	}
	return "InternalFailure"
}

// Status returns the HTTP status query services use for the kind. The json
// services answer all of them with 400.
func (k Kind) Status() int {
	switch k {
	case KindIncompleteSignature, KindRequestExpired:
		return 400
	case KindMissingAuthentication, KindSignatureDoesNotMatch, KindRequestTimeTooSkewed, KindInvalidClientTokenID:
		return 403
	}
	return 500
}

// Error is a Signature V4 failure: its kind and AWS's message for it. The
// message never contains a secret, a signing key or a session token.
type Error struct {
	Kind    Kind
	Message string
}

func (e *Error) Error() string { return "sigv4: " + e.Kind.String() + ": " + e.Message }

// Is reports whether target is an *Error of the same kind, so that
// errors.Is(err, sigv4.ErrSignatureDoesNotMatch) matches any message.
func (e *Error) Is(target error) bool {
	t, ok := target.(*Error)
	return ok && t.Kind == e.Kind && (t.Message == "" || t.Message == e.Message)
}

// Sentinels for errors.Is; each matches every error of its kind.
var (
	ErrMissingAuthentication = &Error{Kind: KindMissingAuthentication}
	ErrIncompleteSignature   = &Error{Kind: KindIncompleteSignature}
	ErrSignatureDoesNotMatch = &Error{Kind: KindSignatureDoesNotMatch}
	ErrRequestTimeTooSkewed  = &Error{Kind: KindRequestTimeTooSkewed}
	ErrRequestExpired        = &Error{Kind: KindRequestExpired}
)

// AWS's messages, as AWS services return them: the IncompleteSignature,
// "Signature expired", "'Host' must be a 'SignedHeader'" and "Credential should
// be scoped" texts were recorded from DynamoDB by mhart/dynalite (index.js); the
// x-amz-content-sha256 ones are S3's.
const (
	msgMissingAuth       = "Request is missing Authentication Token"
	msgSignatureMismatch = "The request signature we calculated does not match the signature you provided. Check your AWS Secret Access Key and signing method. Consult the service documentation for details."
	msgInvalidClientID   = "The security token included in the request is invalid."
	msgRequestExpired    = "Request has expired."
	msgHostNotSigned     = "'Host' or ':authority' must be a 'SignedHeader' in the AWS Authorization."
	msgContentSHA256     = "The provided 'x-amz-content-sha256' header does not match what was computed."
	msgBadContentSHA256  = "x-amz-content-sha256 must be UNSIGNED-PAYLOAD, STREAMING-UNSIGNED-PAYLOAD-TRAILER, STREAMING-AWS4-HMAC-SHA256-PAYLOAD, STREAMING-AWS4-HMAC-SHA256-PAYLOAD-TRAILER, or a valid sha256 value."
	msgReexamineQuery    = "Re-examine the query-string parameters."
)

// ErrInvalidClientTokenID returns the error for an access key id the server
// does not know, worded as AWS words it.
func ErrInvalidClientTokenID() *Error {
	return &Error{Kind: KindInvalidClientTokenID, Message: msgInvalidClientID}
}

func newError(k Kind, msg string) *Error { return &Error{Kind: k, Message: msg} }
