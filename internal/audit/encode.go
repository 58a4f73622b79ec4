package audit

import (
	"encoding/json"
	"math"
	"slices"
	"strconv"
	"unicode/utf8"
)

// The Writer encodes every event, on the request path, so it does not go
// through encoding/json's reflection nor through a redacted copy of the
// parameters: appendEvent writes the JSON directly and hides sensitive
// members while it walks them. Its output is byte for byte what
// json.Marshal writes for the redacted event (member order, omitempty,
// HTML-safe escaping, number formatting); encode_test.go checks that
// against encoding/json on generated events.

// appendEvent appends the JSON encoding of e, redacting its
// requestParameters, responseElements and additionalEventData as
// [Writer.redact] does.
func (w *Writer) appendEvent(b []byte, e *Event, path *[]string) ([]byte, error) {
	b = append(b, `{"eventVersion":`...)
	b = appendString(b, e.EventVersion)
	b = append(b, `,"userIdentity":`...)
	b = appendUserIdentity(b, &e.UserIdentity)
	b = append(b, `,"eventTime":`...)
	b = appendTime(b, e.EventTime)
	b = appendMember(b, "eventSource", e.EventSource)
	b = appendMember(b, "eventName", e.EventName)
	b = appendMember(b, "awsRegion", e.AWSRegion)
	b = appendMember(b, "sourceIPAddress", e.SourceIPAddress)
	b = appendMember(b, "userAgent", e.UserAgent)
	b = appendOptional(b, "errorCode", e.ErrorCode)
	b = appendOptional(b, "errorMessage", e.ErrorMessage)
	var err error
	b = append(b, `,"requestParameters":`...)
	if b, err = w.appendRedacted(b, e.RequestParameters, path); err != nil {
		return nil, err
	}
	b = append(b, `,"responseElements":`...)
	if b, err = w.appendRedacted(b, e.ResponseElements, path); err != nil {
		return nil, err
	}
	if e.AdditionalData != nil {
		b = append(b, `,"additionalEventData":`...)
		if b, err = w.appendRedacted(b, e.AdditionalData, path); err != nil {
			return nil, err
		}
	}
	b = appendMember(b, "requestID", e.RequestID)
	b = appendMember(b, "eventID", e.EventID)
	b = append(b, `,"readOnly":`...)
	b = strconv.AppendBool(b, e.ReadOnly)
	if len(e.Resources) > 0 {
		b = append(b, `,"resources":[`...)
		for i := range e.Resources {
			if i > 0 {
				b = append(b, ',')
			}
			r := &e.Resources[i]
			n := len(b)
			b = append(b, '{')
			b = appendOptional(b, "ARN", r.ARN)
			b = appendOptional(b, "accountId", r.AccountID)
			b = appendOptional(b, "type", r.Type)
			b = closeObject(b, n)
		}
		b = append(b, ']')
	}
	b = appendMember(b, "eventType", e.EventType)
	b = appendOptional(b, "apiVersion", e.APIVersion)
	b = append(b, `,"managementEvent":`...)
	b = strconv.AppendBool(b, e.ManagementEvent)
	b = appendMember(b, "recipientAccountId", e.RecipientAccountID)
	b = appendOptional(b, "sharedEventID", e.SharedEventID)
	b = appendMember(b, "eventCategory", e.EventCategory)
	if t := e.TLSDetails; t != nil {
		b = append(b, `,"tlsDetails":{"tlsVersion":`...)
		b = appendString(b, t.TLSVersion)
		b = appendMember(b, "cipherSuite", t.CipherSuite)
		b = appendMember(b, "clientProvidedHostHeader", t.ClientProvidedHostHeader)
		b = append(b, '}')
	}
	return append(b, '}'), nil
}

func appendUserIdentity(b []byte, u *UserIdentity) []byte {
	b = append(b, `{"type":`...)
	b = appendString(b, u.Type)
	b = appendOptional(b, "principalId", u.PrincipalID)
	b = appendOptional(b, "arn", u.ARN)
	b = appendOptional(b, "accountId", u.AccountID)
	b = appendOptional(b, "accessKeyId", u.AccessKeyID)
	b = appendOptional(b, "userName", u.UserName)
	b = appendOptional(b, "invokedBy", u.InvokedBy)
	if sc := u.SessionContext; sc != nil {
		b = append(b, `,"sessionContext":{`...)
		if si := sc.SessionIssuer; si != nil {
			b = append(b, `"sessionIssuer":{"type":`...)
			b = appendString(b, si.Type)
			b = appendMember(b, "principalId", si.PrincipalID)
			b = appendMember(b, "arn", si.ARN)
			b = appendMember(b, "accountId", si.AccountID)
			b = appendMember(b, "userName", si.UserName)
			b = append(b, `},`...)
		}
		b = append(b, `"attributes":{"creationDate":`...)
		b = appendTime(b, sc.Attributes.CreationDate)
		b = appendMember(b, "mfaAuthenticated", sc.Attributes.MFAAuthenticated)
		b = append(b, '}')
		b = appendOptional(b, "sourceIdentity", sc.SourceIdentity)
		b = append(b, '}')
	}
	return append(b, '}')
}

// closeObject closes the object opened at b[start] ('{'), dropping the
// comma its first member was written with.
func closeObject(b []byte, start int) []byte {
	if len(b) > start+1 && b[start+1] == ',' {
		b = append(b[:start+1], b[start+2:]...)
	}
	return append(b, '}')
}

func appendMember(b []byte, name, v string) []byte {
	b = append(b, ',', '"')
	b = append(b, name...)
	b = append(b, '"', ':')
	return appendString(b, v)
}

func appendOptional(b []byte, name, v string) []byte {
	if v == "" {
		return b
	}
	return appendMember(b, name, v)
}

func appendTime(b []byte, t Time) []byte {
	if t.IsZero() {
		return append(b, "null"...)
	}
	b = append(b, '"')
	b = t.UTC().AppendFormat(b, timeLayout)
	return append(b, '"')
}

// appendRedacted writes v (a requestParameters-like value) with its
// sensitive members hidden: [Writer.redact]'s result, encoded. Values made
// only of the plain JSON model are written as they are walked; anything
// else goes through [Redact] first.
func (w *Writer) appendRedacted(b []byte, v any, path *[]string) ([]byte, error) {
	switch v.(type) {
	case nil:
		return append(b, "null"...), nil
	case map[string]any:
		start := len(b)
		*path = (*path)[:0]
		if out, ok := w.appendPlain(b, v, path, 0); ok {
			return out, nil
		}
		b = b[:start]
	}
	r, err := w.redact(v)
	if err != nil {
		return nil, err
	}
	*path = (*path)[:0]
	out, ok := w.appendPlain(b, r, path, 0)
	if !ok {
		// Redact returns the plain model only; this cannot happen.
		return nil, errNotPlain
	}
	return out, nil
}

var errNotPlain = &json.UnsupportedValueError{Str: "audit: value outside the JSON model"}

// appendPlain writes v, hiding every member whose path is sensitive; ok is
// false (and b is garbage) when v holds anything outside the plain JSON
// model, or is nested deeper than [plain] accepts.
func (w *Writer) appendPlain(b []byte, v any, path *[]string, depth int) ([]byte, bool) {
	if depth > 64 {
		return b, false
	}
	switch x := v.(type) {
	case nil:
		return append(b, "null"...), true
	case string:
		return appendString(b, x), true
	case bool:
		return strconv.AppendBool(b, x), true
	case int64:
		return strconv.AppendInt(b, x, 10), true
	case float64:
		return appendFloat(b, x)
	case json.Number:
		if x == "" {
			return append(b, '0'), true
		}
		if !json.Valid([]byte(x)) {
			return b, false
		}
		return append(b, x...), true
	case []any:
		b = append(b, '[') // a nil list too: redaction wrote its copy, never nil
		for i, e := range x {
			if i > 0 {
				b = append(b, ',')
			}
			var ok bool
			if b, ok = w.appendPlain(b, e, path, depth+1); !ok {
				return b, false
			}
		}
		return append(b, ']'), true
	case map[string]any:
		keys := make([]string, 0, len(x))
		for k := range x {
			keys = append(keys, k)
		}
		slices.Sort(keys)
		b = append(b, '{')
		for i, k := range keys {
			if i > 0 {
				b = append(b, ',')
			}
			b = appendString(b, k)
			b = append(b, ':')
			*path = append(*path, k)
			if w.sensitive(*path) {
				b = appendString(b, Hidden)
			} else {
				var ok bool
				if b, ok = w.appendPlain(b, x[k], path, depth+1); !ok {
					return b, false
				}
			}
			*path = (*path)[:len(*path)-1]
		}
		return append(b, '}'), true
	}
	return b, false
}

// appendFloat formats f as encoding/json does (ES6 number formatting).
func appendFloat(b []byte, f float64) ([]byte, bool) {
	if math.IsInf(f, 0) || math.IsNaN(f) {
		return b, false
	}
	abs := math.Abs(f)
	format := byte('f')
	if abs != 0 && (abs < 1e-6 || abs >= 1e21) {
		format = 'e'
	}
	b = strconv.AppendFloat(b, f, format, -1, 64)
	if format == 'e' {
		// clean up e-09 to e-9
		n := len(b)
		if n >= 4 && b[n-4] == 'e' && b[n-3] == '-' && b[n-2] == '0' {
			b[n-2] = b[n-1]
			b = b[:n-1]
		}
	}
	return b, true
}

const hexDigits = "0123456789abcdef"

// htmlSafe[c] reports whether ASCII byte c is written as itself.
var htmlSafe = func() (t [utf8.RuneSelf]bool) {
	for c := 0x20; c < utf8.RuneSelf; c++ {
		t[c] = c != '"' && c != '\\' && c != '<' && c != '>' && c != '&'
	}
	return t
}()

// appendString writes s as a JSON string the way encoding/json does with
// HTML escaping on: <, > and & as \u003c, \u003e, \u0026; U+2028 and
// U+2029 escaped; invalid UTF-8 as U+FFFD.
func appendString(b []byte, s string) []byte {
	b = append(b, '"')
	start := 0
	for i := 0; i < len(s); {
		c := s[i]
		if c < utf8.RuneSelf {
			if htmlSafe[c] {
				i++
				continue
			}
			b = append(b, s[start:i]...)
			switch c {
			case '"', '\\':
				b = append(b, '\\', c)
			case '\b':
				b = append(b, '\\', 'b')
			case '\f':
				b = append(b, '\\', 'f')
			case '\n':
				b = append(b, '\\', 'n')
			case '\r':
				b = append(b, '\\', 'r')
			case '\t':
				b = append(b, '\\', 't')
			default:
				b = append(b, '\\', 'u', '0', '0', hexDigits[c>>4], hexDigits[c&0xf])
			}
			i++
			start = i
			continue
		}
		r, size := utf8.DecodeRuneInString(s[i:])
		if r == utf8.RuneError && size == 1 {
			b = append(b, s[start:i]...)
			b = append(b, `\ufffd`...)
			i += size
			start = i
			continue
		}
		if r == '\u2028' || r == '\u2029' {
			b = append(b, s[start:i]...)
			b = append(b, '\\', 'u', '2', '0', '2', hexDigits[r&0xf])
			i += size
			start = i
			continue
		}
		i += size
	}
	b = append(b, s[start:]...)
	return append(b, '"')
}
