package json

import (
	stdjson "encoding/json"
	"fmt"
	"net/http"
	"reflect"
	"slices"
	"strconv"
	"strings"

	"github.com/rampart/rampart/internal/awsproto"
	"github.com/rampart/rampart/internal/awsproto/internal/wire"
)

// Protocol is the awsJson1_0 / awsJson1_1 codec. The zero value is ready;
// one value serves every json service.
type Protocol struct{}

// New returns the json protocol codec.
func New() awsproto.Protocol { return Protocol{} }

// Name is "json".
func (Protocol) Name() string { return "json" }

func unknownOperation() *awsproto.Error {
	// AWS answers an unknown or missing X-Amz-Target with an empty message.
	return &awsproto.Error{Code: awsproto.CodeUnknownOperation, Status: 400, Sender: true}
}

// Operation finds the operation named by X-Amz-Target ("TrentService.Encrypt").
// A missing header, another service's prefix or an unknown name is
// UnknownOperationException (400). A Content-Type other than
// application/x-amz-json-1.0/1.1 or application/json (or none) is a
// SerializationException.
func (Protocol) Operation(svc *awsproto.Service, req *awsproto.Request) (*awsproto.Operation, error) {
	if req.HTTP != nil {
		if ct := req.HTTP.Header.Get("Content-Type"); ct != "" && !jsonContentType(ct) {
			return nil, &awsproto.Error{Code: awsproto.CodeSerialization, Status: 400, Sender: true,
				Message: "Unsupported Content-Type " + strconv.Quote(ct) + ": expected application/x-amz-json-" + version(svc)}
		}
	}
	var target string
	if req.HTTP != nil {
		target = req.HTTP.Header.Get("X-Amz-Target")
	}
	dot := strings.LastIndexByte(target, '.')
	if dot < 0 || target[:dot] != svc.TargetPrefix {
		return nil, unknownOperation()
	}
	op := svc.Operation(target[dot+1:])
	if op == nil {
		return nil, unknownOperation()
	}
	return op, nil
}

func jsonContentType(ct string) bool {
	if i := strings.IndexByte(ct, ';'); i >= 0 {
		ct = ct[:i]
	}
	ct = strings.TrimSpace(ct)
	return strings.EqualFold(ct, "application/x-amz-json-1.1") || strings.EqualFold(ct, "application/x-amz-json-1.0") ||
		strings.EqualFold(ct, "application/json")
}

func version(svc *awsproto.Service) string {
	if svc.JSONVersion != "" {
		return svc.JSONVersion
	}
	return "1.0"
}

// Decode reads the JSON body into in (a pointer to op.Input's struct) and
// validates it. An empty body is {}. Unknown members are ignored.
func (Protocol) Decode(op *awsproto.Operation, req *awsproto.Request, in any) error {
	if op.Input == nil {
		return nil
	}
	v := reflect.ValueOf(in)
	if v.Kind() != reflect.Pointer || v.IsNil() {
		return awsproto.Internal(errBadInput)
	}
	v = v.Elem()
	if err := wire.DecodeJSON(op.Input, req.Body, v, nil); err != nil {
		return err
	}
	if msgs := awsproto.Validate(op.Input, v); msgs != nil {
		return awsproto.ValidationError("ValidationException", msgs)
	}
	return nil
}

type constError string

func (e constError) Error() string { return string(e) }

const errBadInput = constError("awsproto/json: Decode needs a non-nil pointer to the input struct")

// Encode writes out as the JSON body of a 200 response.
func (Protocol) Encode(w http.ResponseWriter, op *awsproto.Operation, out any, requestID string) error {
	buf := wire.GetBuf()
	defer wire.PutBuf(buf)
	b := *buf
	if op.Output == nil || out == nil {
		b = append(b, "{}"...)
	} else {
		b = wire.AppendJSONStruct(b, op.Output, reflect.ValueOf(out), nil)
	}
	*buf = b
	h := w.Header()
	awsproto.SetResponseHeaders(h, contentType(op.Service), requestID, len(b))
	w.WriteHeader(http.StatusOK)
	_, err := w.Write(b)
	return err
}

var contentTypes = map[string]string{"1.0": "application/x-amz-json-1.0", "1.1": "application/x-amz-json-1.1"}

func contentType(svc *awsproto.Service) string {
	if svc != nil {
		if ct, ok := contentTypes[svc.JSONVersion]; ok {
			return ct
		}
	}
	return "application/x-amz-json-1.1"
}

// EncodeError writes {"__type":"NotFoundException","message":"…"} with the
// error's status and the same code in X-Amzn-Errortype. The SDKs read the
// code from either (stripping any "namespace#" prefix and ":…" suffix) and
// match it against the error shape names, so __type is the shape name.
func (Protocol) EncodeError(w http.ResponseWriter, svc *awsproto.Service, err *awsproto.Error, requestID string) {
	WriteError(w, contentType(svc), err, requestID)
}

// WriteError renders err the json way; the rest-json codec shares it.
func WriteError(w http.ResponseWriter, ct string, err *awsproto.Error, requestID string) {
	code := err.Type
	if code == "" {
		code = err.Code
	}
	status := err.Status
	if status == 0 {
		status = 400
		if !err.Sender && err.Code == awsproto.CodeInternalFailure {
			status = 500
		}
	}
	buf := wire.GetBuf()
	defer wire.PutBuf(buf)
	b := append(*buf, `{"__type":`...)
	b = wire.AppendJSONString(b, code)
	if err.Message != "" {
		b = append(b, `,"message":`...)
		b = wire.AppendJSONString(b, err.Message)
	}
	for _, k := range fieldNames(err.Fields) {
		b = append(b, ',')
		b = wire.AppendJSONString(b, k)
		b = append(b, ':')
		b = appendField(b, err.Fields[k])
	}
	b = append(b, '}')
	*buf = b
	h := w.Header()
	awsproto.SetResponseHeaders(h, ct, requestID, len(b))
	h["X-Amzn-Errortype"] = []string{code}
	w.WriteHeader(status)
	_, _ = w.Write(b)
}

// fieldNames returns the names of an error's extra members in order,
// leaving out those the codec writes itself.
func fieldNames(fields map[string]any) []string {
	if len(fields) == 0 {
		return nil
	}
	names := make([]string, 0, len(fields))
	for k := range fields {
		if k != "__type" && !strings.EqualFold(k, "message") {
			names = append(names, k)
		}
	}
	slices.Sort(names)
	return names
}

// appendField renders an error member's value: strings, booleans and
// numbers as JSON; anything else as its JSON encoding, or null.
func appendField(b []byte, v any) []byte {
	switch x := v.(type) {
	case string:
		return wire.AppendJSONString(b, x)
	case fmt.Stringer: // enums of the generated api packages are string types; Stringers render as text
		return wire.AppendJSONString(b, x.String())
	case bool:
		return strconv.AppendBool(b, x)
	case int:
		return strconv.AppendInt(b, int64(x), 10)
	case int32:
		return strconv.AppendInt(b, int64(x), 10)
	case int64:
		return strconv.AppendInt(b, x, 10)
	}
	rv := reflect.ValueOf(v)
	if rv.Kind() == reflect.String { // a named string type (an enum)
		return wire.AppendJSONString(b, rv.String())
	}
	enc, err := stdjson.Marshal(v)
	if err != nil {
		return append(b, "null"...)
	}
	return append(b, enc...)
}

// jsonCodes spells the common errors as the json services do: KMS answers
// UnrecognizedClientException where IAM answers InvalidClientTokenId.
var jsonCodes = map[string]string{
	awsproto.CodeValidation:                "ValidationException",
	awsproto.CodeAccessDenied:              "AccessDeniedException",
	awsproto.CodeThrottling:                "ThrottlingException",
	awsproto.CodeSignatureDoesNotMatch:     "InvalidSignatureException",
	awsproto.CodeInvalidClientTokenID:      "UnrecognizedClientException",
	awsproto.CodeMissingAuthenticationToke: "MissingAuthenticationTokenException",
	awsproto.CodeIncompleteSignature:       "IncompleteSignatureException",
	awsproto.CodeExpiredToken:              "ExpiredTokenException",
	awsproto.CodeRequestExpired:            "InvalidSignatureException",
	awsproto.CodeInvalidAction:             awsproto.CodeUnknownOperation,
	awsproto.CodeMissingAction:             awsproto.CodeUnknownOperation,
	awsproto.CodeRequestEntityTooLarge:     "RequestEntityTooLargeException",
	awsproto.CodeMalformedQueryString:      awsproto.CodeSerialization,
}

// CommonCode spells a common error code the json way ("AccessDeniedException").
func (Protocol) CommonCode(code string) string {
	if c, ok := jsonCodes[code]; ok {
		return c
	}
	return code
}
