package awsproto

import (
	"net/http"
	"net/url"
	"strconv"
)

// Request is one HTTP request on its way through a codec. The server reads
// the body once (within its size limit) and hands it over here.
type Request struct {
	HTTP *http.Request
	Body []byte

	// Labels are the rest-json path labels found by Operation.
	Labels map[string]string

	form    url.Values // query: parsed once, by Form
	formOK  bool
	formErr error
}

// Protocol is the codec of one AWS wire protocol, driven by the model:
// one value serves every service that speaks it.
type Protocol interface {
	// Name is the model's protocol name: "query", "json", "rest-json".
	Name() string
	// Operation finds the operation that the request names (Action=,
	// X-Amz-Target, or method and path). The error is an *Error in AWS's
	// words when the request names none or one that svc lacks.
	Operation(svc *Service, req *Request) (*Operation, error)
	// Decode fills in, a pointer to a value of op.Input.GoType, from the
	// request, then validates it against the model's constraints. Errors are
	// *Error values (SerializationException, ValidationError…).
	Decode(op *Operation, req *Request, in any) error
	// Encode writes out, a pointer to a value of op.Output.GoType (nil when
	// the operation has no output), as the success response.
	Encode(w http.ResponseWriter, op *Operation, out any, requestID string) error
	// EncodeError writes err in the protocol's error shape.
	EncodeError(w http.ResponseWriter, svc *Service, err *Error, requestID string)
	// CommonCode spells a common error code (see the Code constants) the way
	// this protocol's services do: json services say "AccessDeniedException"
	// where query services say "AccessDenied".
	CommonCode(code string) string
}

// Form returns the request's form parameters: those of the URL's query
// string and, for a form-encoded body, those of the body (body values come
// after query values of the same name). It parses once. A malformed query
// string or body is an error; the values parsed before it are returned too.
func (r *Request) Form() (url.Values, error) {
	if r.formOK {
		return r.form, r.formErr
	}
	var firstErr error
	var form url.Values
	if r.HTTP != nil && r.HTTP.URL != nil && r.HTTP.URL.RawQuery != "" {
		f, err := url.ParseQuery(r.HTTP.URL.RawQuery)
		form, firstErr = f, err
	}
	if len(r.Body) > 0 {
		f, err := url.ParseQuery(string(r.Body))
		if firstErr == nil {
			firstErr = err
		}
		if form == nil {
			form = f
		} else {
			for k, vs := range f {
				form[k] = append(form[k], vs...)
			}
		}
	}
	if form == nil {
		form = url.Values{}
	}
	r.form, r.formOK, r.formErr = form, true, firstErr
	return form, firstErr
}

// SetResponseHeaders sets the headers every codec's answer carries:
// Content-Type, X-Amzn-Requestid and Content-Length (canonical keys, set
// directly). The three values share one allocation; each slice's capacity
// is its length, so an append to one cannot overwrite the next.
func SetResponseHeaders(h http.Header, contentType, requestID string, contentLength int) {
	v := &[3]string{contentType, requestID, strconv.Itoa(contentLength)}
	h["Content-Type"] = v[0:1:1]
	h["X-Amzn-Requestid"] = v[1:2:2]
	h["Content-Length"] = v[2:3:3]
}
