package wire

import (
	"encoding/base64"
	"math"
	"reflect"
	"strconv"
	"unicode/utf16"
	"unicode/utf8"

	"github.com/rampart/rampart/internal/awsproto"
)

// JSONError is a SerializationException in the wording of AWS's JSON
// services (Coral): the body is not JSON, or a value has the wrong JSON type.
func JSONError(msg string) *awsproto.Error {
	return &awsproto.Error{Code: awsproto.CodeSerialization, Message: msg, Status: 400, Sender: true}
}

// DecodeJSON reads data, a JSON object, into v (a struct value of shape s,
// addressable). Members are matched by wire name; unknown members are
// skipped; null leaves a member absent. Empty (or all-blank) data is {}.
// skip lists members that are bound elsewhere (rest-json labels, headers):
// they are ignored in the body.
func DecodeJSON(s *awsproto.Shape, data []byte, v reflect.Value, bodyMember func(*awsproto.Member) bool) error {
	d := jsonDecoder{data: data, bodyMember: bodyMember}
	d.ws()
	if d.pos == len(d.data) {
		return nil
	}
	if err := d.value(s, v); err != nil {
		return err
	}
	d.ws()
	if d.pos != len(d.data) {
		return JSONError("Unexpected content after the end of the JSON document.")
	}
	return nil
}

// DecodeJSONValue reads one JSON value of shape s into v (rest-json
// payload members).
func DecodeJSONValue(s *awsproto.Shape, data []byte, v reflect.Value) error {
	d := jsonDecoder{data: data}
	d.ws()
	if d.pos == len(d.data) {
		return nil
	}
	if err := d.value(s, v); err != nil {
		return err
	}
	d.ws()
	if d.pos != len(d.data) {
		return JSONError("Unexpected content after the end of the JSON document.")
	}
	return nil
}

type jsonDecoder struct {
	data       []byte
	pos        int
	depth      int
	bodyMember func(*awsproto.Member) bool
	scratch    []byte
}

var errMalformed = JSONError("Malformed JSON: the request body is not a valid JSON document.")

func (d *jsonDecoder) ws() {
	for d.pos < len(d.data) {
		switch d.data[d.pos] {
		case ' ', '\t', '\n', '\r':
			d.pos++
		default:
			return
		}
	}
}

func (d *jsonDecoder) peek() byte {
	d.ws()
	if d.pos < len(d.data) {
		return d.data[d.pos]
	}
	return 0
}

func (d *jsonDecoder) literal(lit string) bool {
	if len(d.data)-d.pos >= len(lit) && string(d.data[d.pos:d.pos+len(lit)]) == lit {
		d.pos += len(lit)
		return true
	}
	return false
}

// wrongType is Coral's complaint about a JSON token where the shape wants
// something else.
func wrongType(c byte, s *awsproto.Shape) *awsproto.Error {
	switch c {
	case '{':
		return JSONError("Start of structure or map found where not expected.")
	case '[':
		return JSONError("Start of list found where not expected")
	case '"':
		return JSONError("STRING_VALUE can not be converted to " + kindName(s.Kind))
	case 't', 'f':
		return JSONError("BOOLEAN_VALUE can not be converted to " + kindName(s.Kind))
	}
	if c == '-' || c >= '0' && c <= '9' {
		return JSONError("NUMBER_VALUE can not be converted to " + kindName(s.Kind))
	}
	return errMalformed
}

func kindName(k awsproto.Kind) string {
	switch k {
	case awsproto.KindString:
		return "a String"
	case awsproto.KindInteger:
		return "an Integer"
	case awsproto.KindLong:
		return "a Long"
	case awsproto.KindBoolean:
		return "a Boolean"
	case awsproto.KindFloat:
		return "a Float"
	case awsproto.KindDouble:
		return "a Double"
	case awsproto.KindTimestamp:
		return "a Timestamp"
	case awsproto.KindBlob:
		return "a Blob"
	case awsproto.KindList:
		return "a List"
	case awsproto.KindMap:
		return "a Map"
	}
	return "a Structure"
}

func (d *jsonDecoder) value(s *awsproto.Shape, v reflect.Value) error {
	c := d.peek()
	if c == 'n' {
		if d.literal("null") {
			return nil
		}
		return errMalformed
	}
	switch s.Kind {
	case awsproto.KindStructure:
		if c != '{' {
			return wrongType(c, s)
		}
		if v.Kind() == reflect.Pointer {
			v = Target(v)
		}
		return d.structure(s, v)
	case awsproto.KindList:
		if c != '[' {
			return wrongType(c, s)
		}
		return d.list(s, v)
	case awsproto.KindMap:
		if c != '{' {
			return wrongType(c, s)
		}
		return d.mapping(s, v)
	case awsproto.KindString:
		if c != '"' {
			return wrongType(c, s)
		}
		str, err := d.str()
		if err != nil {
			return err
		}
		Target(v).SetString(string(str))
	case awsproto.KindBoolean:
		switch {
		case d.literal("true"):
			Target(v).SetBool(true)
		case d.literal("false"):
			Target(v).SetBool(false)
		default:
			return wrongType(c, s)
		}
	case awsproto.KindInteger, awsproto.KindLong:
		tok, err := d.number(c, s)
		if err != nil {
			return err
		}
		bits := 64
		if s.Kind == awsproto.KindInteger {
			bits = 32
		}
		n, perr := strconv.ParseInt(string(tok), 10, bits)
		if perr != nil {
			// Coral rounds nothing: 1.5 or 1e3 for an integer is a serialization error.
			return JSONError("NUMBER_VALUE " + truncate(tok) + " can not be converted to " + kindName(s.Kind))
		}
		t := Target(v)
		if t.OverflowInt(n) {
			return JSONError("NUMBER_VALUE " + truncate(tok) + " can not be converted to " + kindName(s.Kind))
		}
		t.SetInt(n)
	case awsproto.KindFloat, awsproto.KindDouble:
		var f float64
		if c == '"' { // "NaN", "Infinity", "-Infinity"
			str, err := d.str()
			if err != nil {
				return err
			}
			switch string(str) {
			case "NaN":
				f = math.NaN()
			case "Infinity":
				f = math.Inf(1)
			case "-Infinity":
				f = math.Inf(-1)
			default:
				return JSONError("STRING_VALUE can not be converted to " + kindName(s.Kind))
			}
		} else {
			tok, err := d.number(c, s)
			if err != nil {
				return err
			}
			bits := 64
			if s.Kind == awsproto.KindFloat {
				bits = 32
			}
			var perr error
			f, perr = strconv.ParseFloat(string(tok), bits)
			if perr != nil {
				return JSONError("NUMBER_VALUE " + truncate(tok) + " can not be converted to " + kindName(s.Kind))
			}
		}
		Target(v).SetFloat(f)
	case awsproto.KindTimestamp:
		var text string
		if c == '"' {
			str, err := d.str()
			if err != nil {
				return err
			}
			text = string(str)
		} else {
			tok, err := d.number(c, s)
			if err != nil {
				return err
			}
			text = string(tok)
		}
		format := s.TimestampFormat
		if format == "" || c != '"' {
			format = Unix
		}
		t, ok := ParseTime(text, format)
		if !ok {
			return JSONError("Invalid timestamp value: " + truncate([]byte(text)))
		}
		Target(v).Set(reflect.ValueOf(t))
	case awsproto.KindBlob:
		if c != '"' {
			return wrongType(c, s)
		}
		str, err := d.str()
		if err != nil {
			return err
		}
		b := make([]byte, base64.StdEncoding.DecodedLen(len(str)))
		n, derr := base64.StdEncoding.Decode(b, str)
		if derr != nil {
			return JSONError(badBase64(s, str))
		}
		v.SetBytes(b[:n])
	case awsproto.KindDocument:
		start := d.pos
		if err := d.skip(); err != nil {
			return err
		}
		v.SetBytes(append([]byte(nil), d.data[start:d.pos]...))
	default:
		return d.skip()
	}
	return nil
}

// badBase64 words a blob that is not base64 as Coral does ("'Foo' can
// not be converted to a Blob: Base64 encoded length is expected a multiple
// of 4 bytes but found: 3"), without echoing a sensitive value.
func badBase64(s *awsproto.Shape, str []byte) string {
	what := "Value"
	if !s.Sensitive {
		what = "'" + truncate(str) + "'"
	}
	reason := "Base64 encoded value is invalid"
	if len(str)%4 != 0 {
		reason = "Base64 encoded length is expected a multiple of 4 bytes but found: " + strconv.Itoa(len(str))
	}
	return what + " can not be converted to a Blob: " + reason
}

func truncate(b []byte) string {
	if len(b) > 40 {
		return string(b[:40]) + "..."
	}
	return string(b)
}

func (d *jsonDecoder) enter() error {
	d.depth++
	if d.depth > MaxDepth {
		return JSONError("The JSON document is nested too deeply.")
	}
	return nil
}

func (d *jsonDecoder) structure(s *awsproto.Shape, v reflect.Value) error {
	if err := d.enter(); err != nil {
		return err
	}
	d.pos++ // {
	first := true
	for {
		c := d.peek()
		if c == '}' {
			d.pos++
			d.depth--
			return nil
		}
		if !first {
			if c != ',' {
				return errMalformed
			}
			d.pos++
			c = d.peek()
		}
		first = false
		if c != '"' {
			return errMalformed
		}
		key, err := d.str()
		if err != nil {
			return err
		}
		if d.peek() != ':' {
			return errMalformed
		}
		d.pos++
		var m *awsproto.Member
		for _, cand := range s.Members {
			if cand.WireName() == string(key) {
				m = cand
				break
			}
		}
		if m == nil || (d.bodyMember != nil && d.depth == 1 && !d.bodyMember(m)) || m.Field >= v.NumField() || m.Field < 0 {
			if err := d.skip(); err != nil {
				return err
			}
			continue
		}
		if err := d.value(m.Shape, v.Field(m.Field)); err != nil {
			return err
		}
	}
}

func (d *jsonDecoder) list(s *awsproto.Shape, v reflect.Value) error {
	if err := d.enter(); err != nil {
		return err
	}
	d.pos++ // [
	t := v.Type()
	out := reflect.MakeSlice(t, 0, 4)
	first := true
	for {
		c := d.peek()
		if c == ']' {
			d.pos++
			d.depth--
			v.Set(out)
			return nil
		}
		if !first {
			if c != ',' {
				return errMalformed
			}
			d.pos++
		}
		first = false
		out = reflect.Append(out, reflect.Zero(t.Elem()))
		if err := d.value(s.Member.Shape, out.Index(out.Len()-1)); err != nil {
			return err
		}
	}
}

func (d *jsonDecoder) mapping(s *awsproto.Shape, v reflect.Value) error {
	if err := d.enter(); err != nil {
		return err
	}
	d.pos++ // {
	t := v.Type()
	out := reflect.MakeMap(t)
	first := true
	for {
		c := d.peek()
		if c == '}' {
			d.pos++
			d.depth--
			v.Set(out)
			return nil
		}
		if !first {
			if c != ',' {
				return errMalformed
			}
			d.pos++
			c = d.peek()
		}
		first = false
		if c != '"' {
			return errMalformed
		}
		key, err := d.str()
		if err != nil {
			return err
		}
		if d.peek() != ':' {
			return errMalformed
		}
		d.pos++
		k := reflect.New(t.Key()).Elem()
		k.SetString(string(key))
		if d.peek() == 'n' && d.literal("null") {
			continue // Coral drops null map values
		}
		e := reflect.New(t.Elem()).Elem()
		if err := d.value(s.Value.Shape, e); err != nil {
			return err
		}
		out.SetMapIndex(k, e)
	}
}

// number returns the token of a JSON number, checking its grammar.
func (d *jsonDecoder) number(c byte, s *awsproto.Shape) ([]byte, error) {
	if !(c == '-' || c >= '0' && c <= '9') {
		return nil, wrongType(c, s)
	}
	start := d.pos
	i := d.pos
	if i < len(d.data) && d.data[i] == '-' {
		i++
	}
	digits := func() int {
		n := 0
		for i < len(d.data) && d.data[i] >= '0' && d.data[i] <= '9' {
			i++
			n++
		}
		return n
	}
	if digits() == 0 {
		return nil, errMalformed
	}
	if i < len(d.data) && d.data[i] == '.' {
		i++
		if digits() == 0 {
			return nil, errMalformed
		}
	}
	if i < len(d.data) && (d.data[i] == 'e' || d.data[i] == 'E') {
		i++
		if i < len(d.data) && (d.data[i] == '+' || d.data[i] == '-') {
			i++
		}
		if digits() == 0 {
			return nil, errMalformed
		}
	}
	d.pos = i
	return d.data[start:i], nil
}

// str reads a JSON string at d.pos (a '"'). The result aliases the input
// when it has no escapes, else a scratch buffer: copy it before the next call.
func (d *jsonDecoder) str() ([]byte, error) {
	d.pos++
	start := d.pos
	for i := start; i < len(d.data); i++ {
		c := d.data[i]
		if c == '"' {
			d.pos = i + 1
			return d.data[start:i], nil
		}
		if c == '\\' {
			return d.strSlow(start)
		}
		if c < 0x20 {
			return nil, errMalformed
		}
	}
	return nil, errMalformed
}

func (d *jsonDecoder) strSlow(start int) ([]byte, error) {
	buf := d.scratch[:0]
	i := start
	for i < len(d.data) {
		c := d.data[i]
		switch {
		case c == '"':
			d.pos = i + 1
			d.scratch = buf
			return buf, nil
		case c < 0x20:
			return nil, errMalformed
		case c != '\\':
			buf = append(buf, c)
			i++
			continue
		}
		i++
		if i >= len(d.data) {
			return nil, errMalformed
		}
		e := d.data[i]
		i++
		switch e {
		case '"', '\\', '/':
			buf = append(buf, e)
		case 'b':
			buf = append(buf, '\b')
		case 'f':
			buf = append(buf, '\f')
		case 'n':
			buf = append(buf, '\n')
		case 'r':
			buf = append(buf, '\r')
		case 't':
			buf = append(buf, '\t')
		case 'u':
			r, ok := hex4(d.data, i)
			if !ok {
				return nil, errMalformed
			}
			i += 4
			if utf16.IsSurrogate(r) {
				r2, ok := rune(-1), false
				if i+6 <= len(d.data) && d.data[i] == '\\' && d.data[i+1] == 'u' {
					r2, ok = hex4(d.data, i+2)
				}
				if dec := utf16.DecodeRune(r, r2); ok && dec != utf8.RuneError {
					r = dec
					i += 6
				} else {
					r = utf8.RuneError
				}
			}
			buf = utf8.AppendRune(buf, r)
		default:
			return nil, errMalformed
		}
	}
	return nil, errMalformed
}

func hex4(b []byte, i int) (rune, bool) {
	if i+4 > len(b) {
		return 0, false
	}
	var r rune
	for _, c := range b[i : i+4] {
		switch {
		case c >= '0' && c <= '9':
			c -= '0'
		case c >= 'a' && c <= 'f':
			c -= 'a' - 10
		case c >= 'A' && c <= 'F':
			c -= 'A' - 10
		default:
			return 0, false
		}
		r = r<<4 | rune(c)
	}
	return r, true
}

// skip passes over one JSON value, checking its grammar.
func (d *jsonDecoder) skip() error {
	c := d.peek()
	switch {
	case c == '{' || c == '[':
		if err := d.enter(); err != nil {
			return err
		}
		closer := byte('}')
		if c == '[' {
			closer = ']'
		}
		d.pos++
		first := true
		for {
			c := d.peek()
			if c == closer {
				d.pos++
				d.depth--
				return nil
			}
			if !first {
				if c != ',' {
					return errMalformed
				}
				d.pos++
			}
			first = false
			if closer == '}' {
				if d.peek() != '"' {
					return errMalformed
				}
				if _, err := d.str(); err != nil {
					return err
				}
				if d.peek() != ':' {
					return errMalformed
				}
				d.pos++
			}
			if err := d.skip(); err != nil {
				return err
			}
		}
	case c == '"':
		_, err := d.str()
		return err
	case c == 't':
		if d.literal("true") {
			return nil
		}
	case c == 'f':
		if d.literal("false") {
			return nil
		}
	case c == 'n':
		if d.literal("null") {
			return nil
		}
	case c == '-' || c >= '0' && c <= '9':
		_, err := d.number(c, nil)
		return err
	}
	return errMalformed
}
