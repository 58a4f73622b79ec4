package restjson

import (
	"encoding/base64"
	"net/http"
	"net/url"
	"reflect"
	"strconv"
	"strings"

	"github.com/rampart/rampart/internal/awsproto"
	"github.com/rampart/rampart/internal/awsproto/internal/wire"
	awsjson "github.com/rampart/rampart/internal/awsproto/json"
)

// Protocol is the rest-json codec. The zero value is ready; one value
// serves every rest-json service.
type Protocol struct{}

// New returns the rest-json protocol codec.
func New() awsproto.Protocol { return Protocol{} }

// Name is "rest-json".
func (Protocol) Name() string { return "rest-json" }

// Operation routes by method and path against the operations' request URI
// templates. Literal segments beat labels, labels beat greedy labels, and
// templates with static query parts ("/token?aws_iam=t") beat those
// without. The labels found are left in req.Labels. No match is
// UnknownOperationException (404).
func (Protocol) Operation(svc *awsproto.Service, req *awsproto.Request) (*awsproto.Operation, error) {
	if req.HTTP == nil || req.HTTP.URL == nil {
		return nil, notFound("")
	}
	rt := routerOf(svc)
	parts := splitPath(req.HTTP.URL.EscapedPath())
	var q url.Values
	for _, r := range rt.byMethod[req.HTTP.Method] {
		if len(r.query) > 0 && q == nil {
			q = req.HTTP.URL.Query()
		}
		if labels, ok := r.match(parts, q); ok {
			req.Labels = labels
			return r.op, nil
		}
	}
	return nil, notFound(req.HTTP.Method + " " + req.HTTP.URL.Path)
}

func notFound(what string) *awsproto.Error {
	msg := "No operation matches the request"
	if what != "" {
		msg += " " + strconv.Quote(what)
	}
	return &awsproto.Error{Code: awsproto.CodeUnknownOperation, Message: msg, Status: 404, Sender: true}
}

type constError string

func (e constError) Error() string { return string(e) }

const errBadInput = constError("awsproto/restjson: Decode needs a non-nil pointer to the input struct")

func inBody(m *awsproto.Member) bool { return m.Location == "" }

func badParam(where, name, reason string) *awsproto.Error {
	return &awsproto.Error{Code: awsproto.CodeSerialization, Status: 400, Sender: true,
		Message: "Invalid value for " + where + " " + strconv.Quote(name) + ": " + reason}
}

// Decode binds URI labels, query parameters and headers to their members,
// reads the rest from the JSON body (or the payload member from the whole
// body), and validates the input.
func (Protocol) Decode(op *awsproto.Operation, req *awsproto.Request, in any) error {
	s := op.Input
	if s == nil {
		return nil
	}
	v := reflect.ValueOf(in)
	if v.Kind() != reflect.Pointer || v.IsNil() {
		return awsproto.Internal(errBadInput)
	}
	v = v.Elem()
	var q url.Values
	var h http.Header
	if req.HTTP != nil {
		h = req.HTTP.Header
		if req.HTTP.URL != nil {
			q = req.HTTP.URL.Query()
		}
	}
	var payload *awsproto.Member
	for _, m := range s.Members {
		if m.Field < 0 || m.Field >= v.NumField() {
			continue
		}
		f := v.Field(m.Field)
		name := m.WireName()
		switch m.Location {
		case "uri":
			str, ok := req.Labels[name]
			if !ok {
				continue
			}
			if good, reason := wire.SetString(m.Shape, f, str, wire.ISO8601); !good {
				return badParam("URI label", name, reason)
			}
		case "querystring":
			if err := decodeQuery(m, f, q, s); err != nil {
				return err
			}
		case "header":
			str := h.Get(name)
			if _, ok := h[http.CanonicalHeaderKey(name)]; !ok {
				continue
			}
			if err := decodeHeader(m, f, str); err != nil {
				return err
			}
		case "headers":
			if m.Shape.Kind != awsproto.KindMap {
				continue
			}
			prefix := strings.ToLower(name)
			var out reflect.Value
			for k, vs := range h {
				lk := strings.ToLower(k)
				if !strings.HasPrefix(lk, prefix) || len(vs) == 0 {
					continue
				}
				if !out.IsValid() {
					out = reflect.MakeMap(f.Type())
				}
				kv := reflect.New(f.Type().Key()).Elem()
				kv.SetString(lk[len(prefix):])
				ev := reflect.New(f.Type().Elem()).Elem()
				if good, reason := wire.SetString(m.Shape.Value.Shape, ev, vs[0], wire.HTTPDate); !good {
					return badParam("header", k, reason)
				}
				out.SetMapIndex(kv, ev)
			}
			if out.IsValid() {
				f.Set(out)
			}
		case "":
			if s.Payload == m.Name {
				payload = m
			}
		}
	}
	if payload != nil {
		f := v.Field(payload.Field)
		switch payload.Shape.Kind {
		case awsproto.KindStructure:
			if err := wire.DecodeJSONValue(payload.Shape, req.Body, f); err != nil {
				return err
			}
		case awsproto.KindBlob, awsproto.KindDocument:
			if len(req.Body) > 0 {
				f.SetBytes(append([]byte(nil), req.Body...))
			}
		case awsproto.KindString:
			if len(req.Body) > 0 {
				wire.Target(f).SetString(string(req.Body))
			}
		}
	} else if err := wire.DecodeJSON(s, req.Body, v, inBody); err != nil {
		return err
	}
	if msgs := awsproto.Validate(s, v); msgs != nil {
		return awsproto.ValidationError("ValidationException", msgs)
	}
	return nil
}

func decodeQuery(m *awsproto.Member, f reflect.Value, q url.Values, s *awsproto.Shape) error {
	name := m.WireName()
	switch m.Shape.Kind {
	case awsproto.KindList:
		vs, ok := q[name]
		if !ok {
			return nil
		}
		out := reflect.MakeSlice(f.Type(), len(vs), len(vs))
		for i, str := range vs {
			if good, reason := wire.SetString(m.Shape.Member.Shape, out.Index(i), str, wire.ISO8601); !good {
				return badParam("query parameter", name, reason)
			}
		}
		f.Set(out)
	case awsproto.KindMap:
		// A map bound to the query string takes every parameter that no
		// other member claims.
		claimed := map[string]bool{}
		for _, o := range s.Members {
			if o.Location == "querystring" && o.Shape.Kind != awsproto.KindMap {
				claimed[o.WireName()] = true
			}
		}
		out := reflect.MakeMap(f.Type())
		for k, vs := range q {
			if claimed[k] || len(vs) == 0 {
				continue
			}
			kv := reflect.New(f.Type().Key()).Elem()
			kv.SetString(k)
			ev := reflect.New(f.Type().Elem()).Elem()
			vsh := m.Shape.Value.Shape
			if vsh.Kind == awsproto.KindList {
				lst := reflect.MakeSlice(ev.Type(), len(vs), len(vs))
				for i, str := range vs {
					if good, reason := wire.SetString(vsh.Member.Shape, lst.Index(i), str, wire.ISO8601); !good {
						return badParam("query parameter", k, reason)
					}
				}
				ev.Set(lst)
			} else if good, reason := wire.SetString(vsh, ev, vs[0], wire.ISO8601); !good {
				return badParam("query parameter", k, reason)
			}
			out.SetMapIndex(kv, ev)
		}
		if out.Len() > 0 {
			f.Set(out)
		}
	default:
		vs, ok := q[name]
		if !ok || len(vs) == 0 {
			return nil
		}
		if good, reason := wire.SetString(m.Shape, f, vs[0], wire.ISO8601); !good {
			return badParam("query parameter", name, reason)
		}
	}
	return nil
}

func decodeHeader(m *awsproto.Member, f reflect.Value, str string) error {
	name := m.WireName()
	if m.Shape.Kind == awsproto.KindList {
		parts := splitHeaderList(str)
		out := reflect.MakeSlice(f.Type(), len(parts), len(parts))
		for i, p := range parts {
			if good, reason := wire.SetString(m.Shape.Member.Shape, out.Index(i), p, wire.HTTPDate); !good {
				return badParam("header", name, reason)
			}
		}
		f.Set(out)
		return nil
	}
	if m.JSONValue && m.Shape.Kind == awsproto.KindString {
		b, err := base64.StdEncoding.DecodeString(str)
		if err != nil {
			return badParam("header", name, "expected base64-encoded JSON")
		}
		str = string(b)
	}
	if good, reason := wire.SetString(m.Shape, f, strings.TrimSpace(str), wire.HTTPDate); !good {
		return badParam("header", name, reason)
	}
	return nil
}

// splitHeaderList splits a comma-separated header list, honouring quoted
// strings ("a, b", "c").
func splitHeaderList(s string) []string {
	var out []string
	for len(s) > 0 {
		s = strings.TrimLeft(s, " \t")
		if strings.HasPrefix(s, `"`) {
			end := 1
			for end < len(s) && s[end] != '"' {
				if s[end] == '\\' {
					end++
				}
				end++
			}
			if end >= len(s) {
				out = append(out, s)
				break
			}
			unq, err := strconv.Unquote(s[:end+1])
			if err != nil {
				unq = s[1:end]
			}
			out = append(out, unq)
			s = s[end+1:]
			if i := strings.IndexByte(s, ','); i >= 0 {
				s = s[i+1:]
			} else {
				s = ""
			}
			continue
		}
		i := strings.IndexByte(s, ',')
		if i < 0 {
			out = append(out, strings.TrimSpace(s))
			break
		}
		out = append(out, strings.TrimSpace(s[:i]))
		s = s[i+1:]
	}
	return out
}

// Encode writes the success response: status op.ResponseCode (or the
// statusCode member, or 200), header-bound members as headers, and the
// other members as a JSON body (or the payload member as the whole body).
func (Protocol) Encode(w http.ResponseWriter, op *awsproto.Operation, out any, requestID string) error {
	hdr := w.Header()
	hdr["X-Amzn-Requestid"] = []string{requestID}
	status := op.ResponseCode
	if status == 0 {
		status = http.StatusOK
	}
	buf := wire.GetBuf()
	defer wire.PutBuf(buf)
	b := *buf
	ct := "application/json"
	s := op.Output
	if s == nil || out == nil {
		b = append(b, "{}"...)
	} else {
		v := reflect.ValueOf(out)
		if v.Kind() == reflect.Pointer {
			v = v.Elem()
		}
		var payload *awsproto.Member
		for _, m := range s.Members {
			if m.Field < 0 || m.Field >= v.NumField() {
				continue
			}
			f := v.Field(m.Field)
			switch m.Location {
			case "header":
				if !awsproto.Present(f) {
					continue
				}
				hdr.Set(m.WireName(), string(headerValue(nil, m, f)))
			case "headers":
				if f.Kind() != reflect.Map {
					continue
				}
				it := f.MapRange()
				for it.Next() {
					ev, ok := wire.Deref(it.Value())
					if !ok {
						continue
					}
					hdr.Set(m.WireName()+it.Key().String(), string(wire.AppendScalar(nil, m.Shape.Value.Shape, ev, wire.HTTPDate)))
				}
			case "statusCode":
				if ev, ok := wire.Deref(f); ok && ev.CanInt() && ev.Int() >= 100 && ev.Int() <= 999 {
					status = int(ev.Int())
				}
			case "":
				if s.Payload == m.Name {
					payload = m
				}
			}
		}
		if payload != nil {
			f := v.Field(payload.Field)
			switch payload.Shape.Kind {
			case awsproto.KindStructure:
				if awsproto.Present(f) {
					b = wire.AppendJSONStruct(b, payload.Shape, f, nil)
				}
			case awsproto.KindBlob:
				ct = "application/octet-stream"
				b = append(b, f.Bytes()...)
			case awsproto.KindDocument:
				b = append(b, f.Bytes()...)
			case awsproto.KindString:
				ct = "text/plain"
				if ev, ok := wire.Deref(f); ok {
					b = append(b, ev.String()...)
				}
			}
		} else {
			b = wire.AppendJSONStruct(b, s, v, inBody)
		}
	}
	*buf = b
	if len(b) > 0 {
		hdr["Content-Type"] = []string{ct}
	}
	hdr["Content-Length"] = []string{strconv.Itoa(len(b))}
	w.WriteHeader(status)
	_, err := w.Write(b)
	return err
}

func headerValue(b []byte, m *awsproto.Member, f reflect.Value) []byte {
	if m.Shape.Kind == awsproto.KindList {
		for i := 0; i < f.Len(); i++ {
			if i > 0 {
				b = append(b, ", "...)
			}
			ev, ok := wire.Deref(f.Index(i))
			if !ok {
				continue
			}
			el := m.Shape.Member.Shape
			if el.Kind == awsproto.KindString && strings.ContainsAny(ev.String(), `,"`) {
				b = strconv.AppendQuote(b, ev.String())
			} else {
				b = wire.AppendScalar(b, el, ev, wire.HTTPDate)
			}
		}
		return b
	}
	ev, _ := wire.Deref(f)
	if m.JSONValue && m.Shape.Kind == awsproto.KindString {
		return append(b, base64.StdEncoding.EncodeToString([]byte(ev.String()))...)
	}
	return wire.AppendScalar(b, m.Shape, ev, wire.HTTPDate)
}

// EncodeError writes {"__type":"Code","message":"…"} with the error's
// status and X-Amzn-Errortype: Code, which is where the SDKs look first.
func (Protocol) EncodeError(w http.ResponseWriter, svc *awsproto.Service, err *awsproto.Error, requestID string) {
	awsjson.WriteError(w, "application/json", err, requestID)
}

// CommonCode spells common errors as the rest-json services do (as json).
func (Protocol) CommonCode(code string) string { return awsjson.Protocol{}.CommonCode(code) }
