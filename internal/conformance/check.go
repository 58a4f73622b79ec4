package conformance

import (
	"bytes"
	"encoding/base64"
	"encoding/json"
	"encoding/xml"
	"fmt"
	"io"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/rampart/rampart/internal/awsproto"
)

// Response is a response as the harness read it: the status, the error
// code and message of an error, the decoded output of a success, and every
// way in which the body strays from the model (Problems).
type Response struct {
	Status   int
	Code     string // errors: the wire code
	Message  string // errors: the message
	Output   map[string]any
	Problems []string
}

func (r *Response) problem(format string, args ...any) {
	r.Problems = append(r.Problems, fmt.Sprintf(format, args...))
}

// ReadResponse reads and checks the response to a call of op. A success
// body must decode against the output shape: every member of the right type
// in the protocol's form, required members present, nothing the shape does
// not have. An error must carry a code in the protocol's error form.
func ReadResponse(op *awsproto.Operation, status int, header http.Header, body []byte) *Response {
	r := &Response{Status: status}
	isErr := status >= 300
	switch op.Service.Protocol {
	case "query":
		if isErr {
			readXMLError(r, body)
		} else {
			readXMLOutput(r, op, body)
		}
	case "json", "rest-json":
		if isErr {
			readJSONError(r, header, body)
		} else if op.Service.Protocol == "json" {
			if ct := header.Get("Content-Type"); ct != "application/x-amz-json-"+op.Service.JSONVersion {
				r.problem("Content-Type %q, want application/x-amz-json-%s", ct, op.Service.JSONVersion)
			}
			readJSONOutput(r, op.Output, body)
		} else {
			readJSONOutput(r, op.Output, body)
		}
	default:
		r.problem("no reader for protocol %q", op.Service.Protocol)
	}
	return r
}

// ---- json ----

func readJSONError(r *Response, header http.Header, body []byte) {
	var doc map[string]any
	if err := json.Unmarshal(body, &doc); err != nil {
		r.problem("error body is not a JSON object: %v", err)
	}
	code := header.Get("X-Amzn-Errortype")
	if t, ok := doc["__type"].(string); ok && t != "" {
		code = t
	} else if c, ok := doc["code"].(string); ok && code == "" {
		code = c
	}
	if i := strings.IndexByte(code, ':'); i >= 0 {
		code = code[:i]
	}
	if i := strings.LastIndexByte(code, '#'); i >= 0 {
		code = code[i+1:]
	}
	r.Code = code
	for _, k := range []string{"message", "Message", "errorMessage"} {
		if m, ok := doc[k].(string); ok {
			r.Message = m
			break
		}
	}
	if r.Code == "" {
		r.problem("error without a code: %s", clip(body))
	}
}

func readJSONOutput(r *Response, s *awsproto.Shape, body []byte) {
	if len(bytes.TrimSpace(body)) == 0 {
		if s != nil && hasRequired(s) {
			r.problem("empty body, but the output has required members")
		}
		r.Output = map[string]any{}
		return
	}
	dec := json.NewDecoder(bytes.NewReader(body))
	dec.UseNumber()
	var doc any
	if err := dec.Decode(&doc); err != nil {
		r.problem("body is not JSON: %v", err)
		return
	}
	if _, err := dec.Token(); err != io.EOF {
		r.problem("trailing data after the JSON body")
	}
	if s == nil {
		if m, ok := doc.(map[string]any); !ok || len(m) > 0 {
			r.problem("the operation has no output, the body is %s", clip(body))
		}
		r.Output = map[string]any{}
		return
	}
	out, _ := jsonCheck(r, s, doc, "")
	r.Output, _ = out.(map[string]any)
	if r.Output == nil {
		r.Output = map[string]any{}
	}
}

func hasRequired(s *awsproto.Shape) bool {
	for _, m := range s.Members {
		if m.Required {
			return true
		}
	}
	return false
}

// jsonCheck checks v against s and returns it as a generated-style value.
func jsonCheck(r *Response, s *awsproto.Shape, v any, path string) (any, bool) {
	if v == nil {
		r.problem("%s: null", pathOr(path))
		return nil, false
	}
	switch s.Kind {
	case awsproto.KindStructure:
		m, ok := v.(map[string]any)
		if !ok {
			r.problem("%s: %T, want an object (%s)", pathOr(path), v, s.Name)
			return nil, false
		}
		out := map[string]any{}
		byWire := map[string]*awsproto.Member{}
		for _, mem := range s.Members {
			if mem.Location == "" || mem.Location == "statusCode" {
				byWire[mem.WireName()] = mem
			}
		}
		for k, e := range m {
			mem, ok := byWire[k]
			if !ok {
				r.problem("%s: member %q is not in %s", pathOr(path), k, s.Name)
				continue
			}
			if x, ok := jsonCheck(r, mem.Shape, e, join(path, k)); ok {
				out[mem.Name] = x
			}
		}
		for _, mem := range s.Members {
			if mem.Required && mem.Location == "" {
				if _, ok := m[mem.WireName()]; !ok {
					r.problem("%s: required member %q missing", pathOr(path), mem.WireName())
				}
			}
		}
		return out, true
	case awsproto.KindList:
		l, ok := v.([]any)
		if !ok {
			r.problem("%s: %T, want an array", pathOr(path), v)
			return nil, false
		}
		out := make([]any, 0, len(l))
		for i, e := range l {
			if x, ok := jsonCheck(r, s.Member.Shape, e, path+"["+strconv.Itoa(i)+"]"); ok {
				out = append(out, x)
			}
		}
		return out, true
	case awsproto.KindMap:
		m, ok := v.(map[string]any)
		if !ok {
			r.problem("%s: %T, want an object (map)", pathOr(path), v)
			return nil, false
		}
		out := map[string]any{}
		for k, e := range m {
			if x, ok := jsonCheck(r, s.Value.Shape, e, join(path, k)); ok {
				out[k] = x
			}
		}
		return out, true
	case awsproto.KindString:
		str, ok := v.(string)
		if !ok {
			r.problem("%s: %T, want a string", pathOr(path), v)
			return nil, false
		}
		checkEnum(r, s, str, path)
		return str, true
	case awsproto.KindInteger, awsproto.KindLong:
		n, ok := v.(json.Number)
		if !ok {
			r.problem("%s: %T, want an integer", pathOr(path), v)
			return nil, false
		}
		i, err := n.Int64()
		if err != nil {
			r.problem("%s: %s is not an integer", pathOr(path), n)
			return nil, false
		}
		if s.Kind == awsproto.KindInteger && (i > 1<<31-1 || i < -1<<31) {
			r.problem("%s: %d overflows an integer", pathOr(path), i)
		}
		return i, true
	case awsproto.KindFloat, awsproto.KindDouble:
		n, ok := v.(json.Number)
		if !ok {
			r.problem("%s: %T, want a number", pathOr(path), v)
			return nil, false
		}
		f, _ := n.Float64()
		return f, true
	case awsproto.KindBoolean:
		b, ok := v.(bool)
		if !ok {
			r.problem("%s: %T, want a boolean", pathOr(path), v)
			return nil, false
		}
		return b, true
	case awsproto.KindTimestamp:
		format := s.TimestampFormat
		if format == "" {
			format = "unixTimestamp"
		}
		switch format {
		case "unixTimestamp":
			n, ok := v.(json.Number)
			if !ok {
				r.problem("%s: %T, want a timestamp in epoch seconds", pathOr(path), v)
				return nil, false
			}
			f, err := n.Float64()
			if err != nil {
				r.problem("%s: timestamp %s", pathOr(path), n)
				return nil, false
			}
			sec := int64(f)
			return time.Unix(sec, int64((f-float64(sec))*1e9)).UTC(), true
		default:
			str, ok := v.(string)
			if !ok {
				r.problem("%s: %T, want a %s timestamp", pathOr(path), v, format)
				return nil, false
			}
			t, err := parseTime(str, format)
			if err != nil {
				r.problem("%s: %v", pathOr(path), err)
				return nil, false
			}
			return t, true
		}
	case awsproto.KindBlob:
		str, ok := v.(string)
		if !ok {
			r.problem("%s: %T, want a base64 string", pathOr(path), v)
			return nil, false
		}
		b, err := base64.StdEncoding.DecodeString(str)
		if err != nil {
			r.problem("%s: blob is not base64: %v", pathOr(path), err)
			return nil, false
		}
		return b, true
	case awsproto.KindDocument:
		return v, true
	}
	r.problem("%s: unknown shape kind %d", pathOr(path), s.Kind)
	return nil, false
}

func checkEnum(r *Response, s *awsproto.Shape, v, path string) {
	if len(s.Enum) == 0 {
		return
	}
	for _, e := range s.Enum {
		if e == v {
			return
		}
	}
	r.problem("%s: %q is not a value of enum %s", pathOr(path), v, s.Name)
}

func parseTime(s, format string) (time.Time, error) {
	switch format {
	case "rfc822":
		t, err := http.ParseTime(s)
		if err != nil {
			return t, fmt.Errorf("timestamp %q is not RFC 822", s)
		}
		return t, nil
	case "unixTimestamp":
		f, err := strconv.ParseFloat(s, 64)
		if err != nil {
			return time.Time{}, fmt.Errorf("timestamp %q is not epoch seconds", s)
		}
		return time.Unix(int64(f), 0).UTC(), nil
	}
	t, err := time.Parse(time.RFC3339Nano, s)
	if err != nil {
		return t, fmt.Errorf("timestamp %q is not ISO 8601", s)
	}
	return t, nil
}

// ---- query (XML) ----

// node is an XML element as the harness walks it.
type node struct {
	name     string
	ns       string
	text     string
	children []*node
}

func parseXML(body []byte) (*node, error) {
	dec := xml.NewDecoder(bytes.NewReader(body))
	var stack []*node
	var root *node
	for {
		tok, err := dec.Token()
		if err == io.EOF {
			break
		}
		if err != nil {
			return nil, err
		}
		switch t := tok.(type) {
		case xml.StartElement:
			n := &node{name: t.Name.Local, ns: t.Name.Space}
			if len(stack) > 0 {
				p := stack[len(stack)-1]
				p.children = append(p.children, n)
			} else if root == nil {
				root = n
			} else {
				return nil, fmt.Errorf("two root elements")
			}
			stack = append(stack, n)
		case xml.EndElement:
			stack = stack[:len(stack)-1]
		case xml.CharData:
			if len(stack) > 0 {
				stack[len(stack)-1].text += string(t)
			}
		}
	}
	if root == nil {
		return nil, fmt.Errorf("no root element")
	}
	return root, nil
}

func (n *node) child(name string) *node {
	for _, c := range n.children {
		if c.name == name {
			return c
		}
	}
	return nil
}

func readXMLError(r *Response, body []byte) {
	root, err := parseXML(body)
	if err != nil {
		r.problem("error body is not XML: %v (%s)", err, clip(body))
		return
	}
	if root.name != "ErrorResponse" {
		r.problem("error root element <%s>, want <ErrorResponse>", root.name)
	}
	e := root.child("Error")
	if e == nil {
		r.problem("error without <Error>")
		return
	}
	if c := e.child("Code"); c != nil {
		r.Code = strings.TrimSpace(c.text)
	}
	if m := e.child("Message"); m != nil {
		r.Message = m.text
	}
	if t := e.child("Type"); t == nil || (t.text != "Sender" && t.text != "Receiver") {
		r.problem("error <Type> is not Sender or Receiver")
	}
	if root.child("RequestId") == nil {
		r.problem("error without <RequestId>")
	}
	if r.Code == "" {
		r.problem("error without a code")
	}
}

func readXMLOutput(r *Response, op *awsproto.Operation, body []byte) {
	r.Output = map[string]any{}
	root, err := parseXML(body)
	if err != nil {
		r.problem("body is not XML: %v", err)
		return
	}
	if want := op.Name + "Response"; root.name != want {
		r.problem("root element <%s>, want <%s>", root.name, want)
	}
	if ns := op.Service.XMLNamespace; ns != "" && root.ns != ns {
		r.problem("namespace %q, want %q", root.ns, ns)
	}
	var result *node
	for _, c := range root.children {
		switch {
		case c.name == "ResponseMetadata":
			if id := c.child("RequestId"); id == nil || strings.TrimSpace(id.text) == "" {
				r.problem("<ResponseMetadata> without <RequestId>")
			}
		case op.Output != nil && c.name == op.ResultWrapper:
			result = c
		default:
			r.problem("unexpected element <%s> in <%s>", c.name, root.name)
		}
	}
	if root.child("ResponseMetadata") == nil {
		r.problem("no <ResponseMetadata>")
	}
	if op.Output == nil {
		return
	}
	if result == nil {
		if hasRequired(op.Output) {
			r.problem("no <%s>", op.ResultWrapper)
		}
		return
	}
	out, _ := xmlCheck(r, op.Output, result, op.ResultWrapper)
	r.Output, _ = out.(map[string]any)
	if r.Output == nil {
		r.Output = map[string]any{}
	}
}

func xmlCheck(r *Response, s *awsproto.Shape, n *node, path string) (any, bool) {
	switch s.Kind {
	case awsproto.KindStructure:
		out := map[string]any{}
		byWire := map[string]*awsproto.Member{}
		for _, mem := range s.Members {
			name := mem.WireName()
			if mem.Flattened || mem.Shape.Flattened {
				if mem.Shape.Kind == awsproto.KindList && mem.Shape.Member.LocationName != "" && mem.LocationName == "" {
					name = mem.Shape.Member.LocationName
				}
			}
			byWire[name] = mem
		}
		flat := map[string][]*node{}
		for _, c := range n.children {
			mem, ok := byWire[c.name]
			if !ok {
				r.problem("%s: element <%s> is not a member of %s", path, c.name, s.Name)
				continue
			}
			if mem.Flattened || mem.Shape.Flattened {
				flat[mem.Name] = append(flat[mem.Name], c)
				continue
			}
			if _, dup := out[mem.Name]; dup {
				r.problem("%s: <%s> twice", path, c.name)
				continue
			}
			if x, ok := xmlCheck(r, mem.Shape, c, path+"."+c.name); ok {
				out[mem.Name] = x
			}
		}
		for name, nodes := range flat {
			var mem *awsproto.Member
			for _, m := range s.Members {
				if m.Name == name {
					mem = m
				}
			}
			wrapper := &node{name: name, children: nodes}
			if x, ok := xmlList(r, mem.Shape, wrapper, path+"."+name, true); ok {
				out[name] = x
			}
		}
		for _, mem := range s.Members {
			if _, ok := out[mem.Name]; mem.Required && !ok {
				r.problem("%s: required member <%s> missing", path, mem.WireName())
			}
		}
		return out, true
	case awsproto.KindList:
		return xmlList(r, s, n, path, false)
	case awsproto.KindMap:
		out := map[string]any{}
		kn, vn := "key", "value"
		if s.Key.LocationName != "" {
			kn = s.Key.LocationName
		}
		if s.Value.LocationName != "" {
			vn = s.Value.LocationName
		}
		for _, e := range n.children {
			if e.name != "entry" {
				r.problem("%s: <%s> in a map, want <entry>", path, e.name)
				continue
			}
			k, v := e.child(kn), e.child(vn)
			if k == nil || v == nil {
				r.problem("%s: <entry> without <%s> or <%s>", path, kn, vn)
				continue
			}
			if x, ok := xmlCheck(r, s.Value.Shape, v, path+"."+k.text); ok {
				out[k.text] = x
			}
		}
		return out, true
	}
	if len(n.children) > 0 {
		r.problem("%s: elements inside a scalar", path)
		return nil, false
	}
	text := n.text
	switch s.Kind {
	case awsproto.KindString:
		checkEnum(r, s, text, path)
		return text, true
	case awsproto.KindInteger, awsproto.KindLong:
		bits := 64
		if s.Kind == awsproto.KindInteger {
			bits = 32
		}
		i, err := strconv.ParseInt(strings.TrimSpace(text), 10, bits)
		if err != nil {
			r.problem("%s: %q is not an integer", path, text)
			return nil, false
		}
		return i, true
	case awsproto.KindFloat, awsproto.KindDouble:
		f, err := strconv.ParseFloat(strings.TrimSpace(text), 64)
		if err != nil {
			r.problem("%s: %q is not a number", path, text)
			return nil, false
		}
		return f, true
	case awsproto.KindBoolean:
		switch strings.TrimSpace(text) {
		case "true":
			return true, true
		case "false":
			return false, true
		}
		r.problem("%s: %q is not a boolean", path, text)
		return nil, false
	case awsproto.KindTimestamp:
		format := s.TimestampFormat
		if format == "" {
			format = "iso8601"
		}
		t, err := parseTime(strings.TrimSpace(text), format)
		if err != nil {
			r.problem("%s: %v", path, err)
			return nil, false
		}
		return t, true
	case awsproto.KindBlob:
		b, err := base64.StdEncoding.DecodeString(strings.TrimSpace(text))
		if err != nil {
			r.problem("%s: blob is not base64", path)
			return nil, false
		}
		return b, true
	}
	r.problem("%s: shape kind %d in XML", path, s.Kind)
	return nil, false
}

func xmlList(r *Response, s *awsproto.Shape, n *node, path string, flattened bool) (any, bool) {
	el := "member"
	if s.Member.LocationName != "" {
		el = s.Member.LocationName
	}
	out := []any{}
	for i, c := range n.children {
		if !flattened && c.name != el {
			r.problem("%s: <%s> in a list, want <%s>", path, c.name, el)
			continue
		}
		if x, ok := xmlCheck(r, s.Member.Shape, c, path+"."+strconv.Itoa(i+1)); ok {
			out = append(out, x)
		}
	}
	return out, true
}

func join(path, k string) string {
	if path == "" {
		return k
	}
	return path + "." + k
}

func pathOr(p string) string {
	if p == "" {
		return "(body)"
	}
	return p
}

func clip(b []byte) string {
	if len(b) > 200 {
		return string(b[:200]) + "…"
	}
	return string(b)
}
