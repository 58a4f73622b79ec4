package query

import (
	"fmt"
	"net/http"
	"net/url"
	"reflect"
	"slices"
	"strconv"
	"strings"
	"unicode/utf8"

	"github.com/rampart/rampart/internal/awsproto"
	"github.com/rampart/rampart/internal/awsproto/internal/wire"
)

// Protocol is the AWS query protocol codec (IAM, STS). The zero value is
// ready; one value serves every query service.
type Protocol struct{}

// New returns the query protocol codec.
func New() awsproto.Protocol { return Protocol{} }

// Name is "query".
func (Protocol) Name() string { return "query" }

// Operation finds the operation named by the Action parameter (URL query
// string or form body) in the API version named by the Version parameter.
// No Action is MissingAction (400); an action svc lacks, or a Version that is
// not svc's, is InvalidAction (400, "Could not find operation Foo for
// version 2011-06-15"; without Version, "… for version NO_VERSION_SPECIFIED",
// AWS's words for it); an undecodable form is MalformedQueryString (400).
//
// AWS documents InvalidAction as "The action or operation requested is
// invalid" (400, in the Common Errors of the query services); the message,
// with the version the request gave or NO_VERSION_SPECIFIED, is the one
// recorded from STS and IAM, signed requests included: the service comes
// from the endpoint (here the credential scope), the operation from Action
// and Version together.
func (Protocol) Operation(svc *awsproto.Service, req *awsproto.Request) (*awsproto.Operation, error) {
	p, ok := scanParams(req)
	if !ok {
		form, err := req.Form()
		if err != nil {
			return nil, malformed()
		}
		p = paramsOf(form)
	}
	if !p.hasAction {
		return nil, &awsproto.Error{Code: awsproto.CodeMissingAction, Message: "Missing Action", Status: 400, Sender: true}
	}
	version := p.version
	if !p.hasVersion {
		version = NoVersion
	}
	op := svc.Operation(p.action)
	if op == nil || version != svc.APIVersion {
		return nil, &awsproto.Error{Code: awsproto.CodeInvalidAction, Status: 400, Sender: true,
			Message: "Could not find operation " + p.action + " for version " + version}
	}
	return op, nil
}

// NoVersion stands for the Version parameter in the InvalidAction message of
// a request that has none, as AWS words it.
const NoVersion = "NO_VERSION_SPECIFIED"

// faultNamespace is the XML namespace of the InvalidAction errors STS and
// IAM answer (see EncodeError), rather than the service's own namespace.
const faultNamespace = "http://webservices.amazon.com/AWSFault/2005-15-09"

func malformed() *awsproto.Error {
	return &awsproto.Error{Code: awsproto.CodeMalformedQueryString, Status: 400, Sender: true,
		Message: "The query string or form body is not valid URL encoding."}
}

type constError string

func (e constError) Error() string { return string(e) }

const errBadInput = constError("awsproto/query: Decode needs a non-nil pointer to the input struct")

// Decode reads the form parameters into in (a pointer to op.Input's struct)
// and validates it. Unknown parameters are ignored. Lists are read from
// index 1 up to the first missing index, so a huge or sparse index
// (Tags.member.99999999) allocates nothing and is ignored, as unknown
// parameters are.
func (Protocol) Decode(op *awsproto.Operation, req *awsproto.Request, in any) error {
	if op.Input == nil {
		return nil
	}
	v := reflect.ValueOf(in)
	if v.Kind() != reflect.Pointer || v.IsNil() {
		return awsproto.Internal(errBadInput)
	}
	v = v.Elem()
	var form url.Values // nil when the input has no members: see noForm
	if !noForm(op, req) {
		var err error
		if form, err = req.Form(); err != nil {
			return malformed()
		}
	}
	d := decoder{form: form}
	if _, err := d.structure(op.Input, v, 0); err != nil {
		return err
	}
	if msgs := awsproto.Validate(op.Input, v); msgs != nil {
		return awsproto.ValidationError(awsproto.CodeValidation, msgs)
	}
	return nil
}

type decoder struct {
	form   url.Values
	key    []byte   // the parameter name being built: "Tags.member.1.Key"
	sorted []string // the parameter names, sorted, once a nested value is read
}

func (d *decoder) lookup() (string, bool) {
	vs, ok := d.form[string(d.key)] // no allocation: the compiler sees the conversion
	if !ok || len(vs) == 0 {
		return "", false
	}
	return vs[0], true
}

// hasPrefix reports whether any parameter starts with the current key and a
// dot: whether a structure, list or map may be there at all. It searches the
// sorted parameter names, so that a request with many parameters costs
// O(log n) per nested value rather than O(n).
func (d *decoder) hasPrefix() bool {
	if d.sorted == nil {
		d.sorted = make([]string, 0, len(d.form))
		for k := range d.form {
			d.sorted = append(d.sorted, k)
		}
		slices.Sort(d.sorted)
	}
	i, _ := slices.BinarySearchFunc(d.sorted, d.key, cmpDotted)
	if i >= len(d.sorted) {
		return false
	}
	k := d.sorted[i]
	n := len(d.key)
	return len(k) > n && k[n] == '.' && k[:n] == string(d.key)
}

// cmpDotted compares k with p+"." without building the latter.
func cmpDotted(k string, p []byte) int {
	n := min(len(k), len(p))
	if c := strings.Compare(k[:n], string(p[:n])); c != 0 {
		return c
	}
	if len(k) == len(p) {
		return -1 // k is shorter than p+"."
	}
	if len(k) < len(p) {
		return -1
	}
	return int(k[len(p)]) - int('.')
}

func (d *decoder) structure(s *awsproto.Shape, v reflect.Value, depth int) (bool, error) {
	if depth > wire.MaxDepth {
		return false, nil
	}
	base := len(d.key)
	found := false
	for _, m := range s.Members {
		if m.Field < 0 || m.Field >= v.NumField() {
			continue
		}
		if base > 0 {
			d.key = append(d.key, '.')
		}
		d.key = append(d.key, m.WireName()...)
		ok, err := d.value(m, m.Shape, v.Field(m.Field), depth+1)
		d.key = d.key[:base]
		if err != nil {
			return false, err
		}
		found = found || ok
	}
	return found, nil
}

// value decodes the value at d.key into v; it reports whether any
// parameter was there.
func (d *decoder) value(m *awsproto.Member, s *awsproto.Shape, v reflect.Value, depth int) (bool, error) {
	switch s.Kind {
	case awsproto.KindStructure:
		if !d.hasPrefix() {
			return false, nil
		}
		if v.Kind() == reflect.Pointer {
			tmp := reflect.New(v.Type().Elem())
			ok, err := d.structure(s, tmp.Elem(), depth)
			if ok {
				v.Set(tmp)
			}
			return ok, err
		}
		return d.structure(s, v, depth)
	case awsproto.KindList:
		return d.list(m, s, v, depth)
	case awsproto.KindMap:
		return d.mapping(m, s, v, depth)
	}
	str, ok := d.lookup()
	if !ok {
		return false, nil
	}
	if good, reason := wire.SetString(s, v, str, wire.ISO8601); !good {
		return false, d.invalid(s, str, reason)
	}
	return true, nil
}

func (d *decoder) invalid(s *awsproto.Shape, str, reason string) *awsproto.Error {
	msg := "Invalid value for parameter " + string(d.key)
	if !s.Sensitive {
		if len(str) > 64 {
			str = str[:64] + "..."
		}
		msg += ": " + strconv.Quote(str)
	}
	return &awsproto.Error{Code: "InvalidParameterValue", Message: msg + " (" + reason + ")", Status: 400, Sender: true}
}

func flattened(m *awsproto.Member, s *awsproto.Shape) bool {
	return s.Flattened || (m != nil && m.Flattened)
}

func (d *decoder) list(m *awsproto.Member, s *awsproto.Shape, v reflect.Value, depth int) (bool, error) {
	if depth > wire.MaxDepth {
		return false, nil
	}
	base := len(d.key)
	if !d.hasPrefix() {
		// "Tags=" is how clients send an empty list.
		if str, ok := d.lookup(); ok && str == "" {
			v.Set(reflect.MakeSlice(v.Type(), 0, 0))
			return true, nil
		}
		return false, nil
	}
	if !flattened(m, s) {
		el := "member"
		if s.Member.LocationName != "" {
			el = s.Member.LocationName
		}
		d.key = append(d.key, '.')
		d.key = append(d.key, el...)
	}
	prefix := len(d.key)
	out := reflect.MakeSlice(v.Type(), 0, 0)
	for i := 1; ; i++ {
		d.key = append(d.key, '.')
		d.key = strconv.AppendInt(d.key, int64(i), 10)
		elem := reflect.New(v.Type().Elem()).Elem()
		ok, err := d.value(s.Member, s.Member.Shape, elem, depth+1)
		d.key = d.key[:prefix]
		if err != nil {
			d.key = d.key[:base]
			return false, err
		}
		if !ok {
			break
		}
		out = reflect.Append(out, elem)
	}
	d.key = d.key[:base]
	if out.Len() == 0 {
		return false, nil
	}
	v.Set(out)
	return true, nil
}

func (d *decoder) mapping(m *awsproto.Member, s *awsproto.Shape, v reflect.Value, depth int) (bool, error) {
	if depth > wire.MaxDepth || !d.hasPrefix() {
		return false, nil
	}
	base := len(d.key)
	if !flattened(m, s) {
		entry := s.EntryName
		if entry == "" {
			entry = "entry"
		}
		d.key = append(d.key, '.')
		d.key = append(d.key, entry...)
	}
	keyName, valName := "key", "value"
	if s.Key.LocationName != "" {
		keyName = s.Key.LocationName
	}
	if s.Value.LocationName != "" {
		valName = s.Value.LocationName
	}
	prefix := len(d.key)
	t := v.Type()
	out := reflect.MakeMap(t)
	for i := 1; ; i++ {
		d.key = append(d.key, '.')
		d.key = strconv.AppendInt(d.key, int64(i), 10)
		entry := len(d.key)
		d.key = append(d.key, '.')
		d.key = append(d.key, keyName...)
		k, ok := d.lookup()
		d.key = d.key[:entry]
		if !ok {
			d.key = d.key[:prefix]
			break
		}
		d.key = append(d.key, '.')
		d.key = append(d.key, valName...)
		elem := reflect.New(t.Elem()).Elem()
		_, err := d.value(s.Value, s.Value.Shape, elem, depth+1)
		d.key = d.key[:prefix]
		if err != nil {
			d.key = d.key[:base]
			return false, err
		}
		kv := reflect.New(t.Key()).Elem()
		kv.SetString(k)
		out.SetMapIndex(kv, elem)
	}
	d.key = d.key[:base]
	if out.Len() == 0 {
		return false, nil
	}
	v.Set(out)
	return true, nil
}

// Encode writes out as <OpResponse><OpResult>…</OpResult><ResponseMetadata>…
// with status 200 and Content-Type text/xml.
func (Protocol) Encode(w http.ResponseWriter, op *awsproto.Operation, out any, requestID string) error {
	buf := wire.GetBuf()
	defer wire.PutBuf(buf)
	b := *buf
	ns := ""
	if op.Service != nil {
		ns = op.Service.XMLNamespace
	}
	b = append(b, '<')
	b = append(b, op.Name...)
	b = append(b, "Response"...)
	b = appendNamespace(b, ns)
	if op.Output != nil {
		wrapper := op.ResultWrapper
		if wrapper == "" {
			wrapper = op.Name + "Result"
		}
		b = append(b, '<')
		b = append(b, wrapper...)
		b = append(b, '>')
		if out != nil {
			b = appendMembers(b, op.Output, reflect.ValueOf(out), 0)
		}
		b = append(b, "</"...)
		b = append(b, wrapper...)
		b = append(b, '>')
	}
	b = append(b, "<ResponseMetadata><RequestId>"...)
	b = appendEscaped(b, requestID)
	b = append(b, "</RequestId></ResponseMetadata></"...)
	b = append(b, op.Name...)
	b = append(b, "Response>"...)
	*buf = b
	h := w.Header()
	awsproto.SetResponseHeaders(h, "text/xml", requestID, len(b))
	w.WriteHeader(http.StatusOK)
	_, err := w.Write(b)
	return err
}

func appendMembers(b []byte, s *awsproto.Shape, v reflect.Value, depth int) []byte {
	if v.Kind() == reflect.Pointer {
		if v.IsNil() {
			return b
		}
		v = v.Elem()
	}
	if depth > wire.MaxDepth {
		return b
	}
	for _, m := range s.Members {
		if m.Field < 0 || m.Field >= v.NumField() {
			continue
		}
		f := v.Field(m.Field)
		if !awsproto.Present(f) {
			continue
		}
		b = appendValue(b, m.WireName(), m, m.Shape, f, depth+1)
	}
	return b
}

func open(b []byte, name string) []byte {
	b = append(b, '<')
	b = append(b, name...)
	return append(b, '>')
}

func closeTag(b []byte, name string) []byte {
	b = append(b, '<', '/')
	b = append(b, name...)
	return append(b, '>')
}

func appendValue(b []byte, name string, m *awsproto.Member, s *awsproto.Shape, v reflect.Value, depth int) []byte {
	switch s.Kind {
	case awsproto.KindStructure:
		b = open(b, name)
		b = appendMembers(b, s, v, depth)
		return closeTag(b, name)
	case awsproto.KindList:
		el := "member"
		if s.Member.LocationName != "" {
			el = s.Member.LocationName
		}
		if flattened(m, s) {
			for i := 0; i < v.Len(); i++ {
				b = appendValue(b, name, s.Member, s.Member.Shape, v.Index(i), depth+1)
			}
			return b
		}
		b = open(b, name)
		for i := 0; i < v.Len(); i++ {
			b = appendValue(b, el, s.Member, s.Member.Shape, v.Index(i), depth+1)
		}
		return closeTag(b, name)
	case awsproto.KindMap:
		keyName, valName, entry := "key", "value", "entry"
		if s.Key.LocationName != "" {
			keyName = s.Key.LocationName
		}
		if s.Value.LocationName != "" {
			valName = s.Value.LocationName
		}
		if s.EntryName != "" {
			entry = s.EntryName
		}
		flat := flattened(m, s)
		if flat {
			entry = name
		} else {
			b = open(b, name)
		}
		it := v.MapRange()
		for it.Next() {
			b = open(b, entry)
			b = open(b, keyName)
			b = appendText(b, it.Key().String())
			b = closeTag(b, keyName)
			b = appendValue(b, valName, s.Value, s.Value.Shape, it.Value(), depth+1)
			b = closeTag(b, entry)
		}
		if !flat {
			b = closeTag(b, name)
		}
		return b
	}
	v, ok := wire.Deref(v)
	if !ok {
		return b
	}
	b = open(b, name)
	if s.Kind == awsproto.KindString {
		b = appendText(b, v.String())
	} else {
		b = wire.AppendScalar(b, s, v, wire.ISO8601)
	}
	return closeTag(b, name)
}

// appendText escapes s as XML character data. Characters XML 1.0 cannot
// carry (most C0 controls, invalid UTF-8) become U+FFFD; \r is kept as a
// character reference so that parsers do not normalise it away.
func appendText(b []byte, s string) []byte {
	start := 0
	for i := 0; i < len(s); {
		c := s[i]
		var esc string
		size := 1
		switch {
		case c == '&':
			esc = "&amp;"
		case c == '<':
			esc = "&lt;"
		case c == '>':
			esc = "&gt;"
		case c == '"':
			esc = "&quot;"
		case c == '\r':
			esc = "&#xD;"
		case c < 0x20 && c != '\t' && c != '\n':
			esc = "\uFFFD"
		case c >= utf8.RuneSelf:
			r, n := utf8.DecodeRuneInString(s[i:])
			size = n
			if r == utf8.RuneError && n == 1 || r == 0xFFFE || r == 0xFFFF {
				esc = "\uFFFD"
			}
		}
		if esc == "" {
			i += size
			continue
		}
		b = append(b, s[start:i]...)
		b = append(b, esc...)
		i += size
		start = i
	}
	return append(b, s[start:]...)
}

func appendEscaped(b []byte, s string) []byte { return appendText(b, s) }

// appendNamespace ends an opening tag with its xmlns attribute, or with
// none when ns is empty (a request rampart could not place has no
// service, and xmlns="" would say nothing but "no namespace").
func appendNamespace(b []byte, ns string) []byte {
	if ns == "" {
		return append(b, '>')
	}
	b = append(b, ` xmlns="`...)
	b = appendEscaped(b, ns)
	return append(b, `">`...)
}

// EncodeError writes <ErrorResponse xmlns="…"><Error><Type>Sender|Receiver</Type>
// <Code>…</Code><Message>…</Message></Error><RequestId>…</RequestId></ErrorResponse>
// with the error's status. The namespace is svc's (none when svc has none),
// except for InvalidAction, which STS and IAM answer in AWS's generic fault
// namespace (http://webservices.amazon.com/AWSFault/2005-15-09): recorded
// from the live services, not documented; the SDKs ignore the namespace.
func (Protocol) EncodeError(w http.ResponseWriter, svc *awsproto.Service, err *awsproto.Error, requestID string) {
	buf := wire.GetBuf()
	defer wire.PutBuf(buf)
	b := *buf
	ns := ""
	if svc != nil {
		ns = svc.XMLNamespace
	}
	if err.Code == awsproto.CodeInvalidAction {
		ns = faultNamespace
	}
	b = append(b, "<ErrorResponse"...)
	b = appendNamespace(b, ns)
	b = append(b, "<Error><Type>"...)
	if err.Sender {
		b = append(b, "Sender"...)
	} else {
		b = append(b, "Receiver"...)
	}
	b = append(b, "</Type><Code>"...)
	b = appendText(b, err.Code)
	b = append(b, "</Code>"...)
	if err.Message != "" {
		b = append(b, "<Message>"...)
		b = appendText(b, err.Message)
		b = append(b, "</Message>"...)
	}
	// The shape's other members are elements of <Error>, as botocore and
	// the SDKs read them.
	names := make([]string, 0, len(err.Fields))
	for k := range err.Fields {
		if k != "Type" && k != "Code" && k != "Message" && validElement(k) {
			names = append(names, k)
		}
	}
	slices.Sort(names)
	for _, k := range names {
		b = append(b, '<')
		b = append(b, k...)
		b = append(b, '>')
		b = appendText(b, fmt.Sprint(err.Fields[k]))
		b = append(b, "</"...)
		b = append(b, k...)
		b = append(b, '>')
	}
	b = append(b, "</Error><RequestId>"...)
	b = appendText(b, requestID)
	b = append(b, "</RequestId></ErrorResponse>"...)
	*buf = b
	status := err.Status
	if status == 0 {
		status = 400
		if !err.Sender {
			status = 500
		}
	}
	h := w.Header()
	awsproto.SetResponseHeaders(h, "text/xml", requestID, len(b))
	w.WriteHeader(status)
	_, _ = w.Write(b)
}

// validElement reports whether name can be an XML element name as error
// members are spelled (letters, digits, '_', not starting with a digit).
func validElement(name string) bool {
	if name == "" || (name[0] >= '0' && name[0] <= '9') {
		return false
	}
	for i := 0; i < len(name); i++ {
		c := name[i]
		if !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '_') {
			return false
		}
	}
	return true
}

// CommonCode returns code unchanged: the Code constants are the query
// services' spellings.
func (Protocol) CommonCode(code string) string { return code }
