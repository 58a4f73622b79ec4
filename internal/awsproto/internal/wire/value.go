// Package wire holds what the protocol codecs of internal/awsproto share:
// setting and reading model values in generated Go structs by reflection,
// scalar text forms and timestamp formats, and a shape-driven JSON reader and
// writer used by the json and rest-json codecs.
package wire

import (
	"encoding/base64"
	"math"
	"reflect"
	"strconv"
	"strings"
	"time"

	"github.com/rampart/rampart/internal/awsproto"
)

// MaxDepth bounds the nesting of decoded documents (JSON objects and arrays,
// query parameter paths): deeper input is rejected rather than recursed into.
const MaxDepth = 64

// Target returns the value to write a decoded value into: for a pointer
// field it allocates the pointee and returns it, otherwise v itself.
func Target(v reflect.Value) reflect.Value {
	if v.Kind() == reflect.Pointer {
		p := reflect.New(v.Type().Elem())
		v.Set(p)
		return p.Elem()
	}
	return v
}

// Deref returns the value behind a member value and whether it is present
// (non-nil pointers, slices and maps; any other value counts as present: the
// caller checks empty enum strings at the structure level).
func Deref(v reflect.Value) (reflect.Value, bool) {
	switch v.Kind() {
	case reflect.Pointer, reflect.Interface:
		if v.IsNil() {
			return v, false
		}
		return v.Elem(), true
	case reflect.Slice, reflect.Map:
		return v, !v.IsNil()
	case reflect.Invalid:
		return v, false
	}
	return v, true
}

// Timestamp formats.
const (
	ISO8601  = "iso8601"
	Unix     = "unixTimestamp"
	HTTPDate = "rfc822"
)

// SetString parses str as a value of shape s (a scalar) into v, as the
// query protocol and rest-json's URI, query and header bindings carry
// scalars. defaultTS is the timestamp format of the binding when the shape
// does not override it. The returned text is a reason for the caller's error.
func SetString(s *awsproto.Shape, v reflect.Value, str, defaultTS string) (ok bool, reason string) {
	switch s.Kind {
	case awsproto.KindString:
		Target(v).SetString(str)
	case awsproto.KindBoolean:
		var b bool
		switch str {
		case "true":
			b = true
		case "false":
		default:
			return false, "expected true or false"
		}
		Target(v).SetBool(b)
	case awsproto.KindInteger, awsproto.KindLong:
		bits := 32
		if s.Kind == awsproto.KindLong {
			bits = 64
		}
		n, err := strconv.ParseInt(str, 10, bits)
		if err != nil {
			return false, "expected an integer"
		}
		t := Target(v)
		if t.OverflowInt(n) {
			return false, "expected an integer"
		}
		t.SetInt(n)
	case awsproto.KindFloat, awsproto.KindDouble:
		var f float64
		switch str {
		case "NaN":
			f = math.NaN()
		case "Infinity":
			f = math.Inf(1)
		case "-Infinity":
			f = math.Inf(-1)
		default:
			bits := 64
			if s.Kind == awsproto.KindFloat {
				bits = 32
			}
			var err error
			f, err = strconv.ParseFloat(str, bits)
			if err != nil {
				return false, "expected a number"
			}
		}
		Target(v).SetFloat(f)
	case awsproto.KindTimestamp:
		format := s.TimestampFormat
		if format == "" {
			format = defaultTS
		}
		t, ok := ParseTime(str, format)
		if !ok {
			return false, "expected a timestamp"
		}
		Target(v).Set(reflect.ValueOf(t))
	case awsproto.KindBlob:
		b, err := base64.StdEncoding.DecodeString(str)
		if err != nil {
			return false, "expected base64"
		}
		v.SetBytes(b)
	case awsproto.KindDocument:
		v.SetBytes([]byte(str))
	default:
		return false, "unexpected value"
	}
	return true, ""
}

// ParseTime reads a timestamp in format, falling back to the other AWS forms
// (clients are not always consistent about which one they send).
func ParseTime(s, format string) (time.Time, bool) {
	switch format {
	case Unix:
		if t, ok := parseEpoch(s); ok {
			return t, true
		}
	case HTTPDate:
		if t, err := time.Parse(time.RFC1123, s); err == nil {
			return t.UTC(), true
		}
	}
	if t, err := time.Parse(time.RFC3339Nano, s); err == nil {
		return t.UTC(), true
	}
	for _, layout := range []string{"2006-01-02T15:04:05.999999999", "2006-01-02T15:04:05.999999999Z0700", time.RFC1123, time.RFC1123Z, "2006-01-02"} {
		if t, err := time.Parse(layout, s); err == nil {
			return t.UTC(), true
		}
	}
	return parseEpoch(s)
}

func parseEpoch(s string) (time.Time, bool) {
	if s == "" || len(s) > 32 {
		return time.Time{}, false
	}
	if strings.ContainsAny(s, "eE") {
		// A JSON number in exponent form (1.7e9), as some JSON encoders
		// write large floats: exact to the microsecond.
		f, err := strconv.ParseFloat(s, 64)
		if err != nil || math.IsNaN(f) || f > 253402300799 || f < -62135596800 {
			return time.Time{}, false
		}
		sec := math.Floor(f)
		return time.Unix(int64(sec), int64(math.Round((f-sec)*1e6))*1e3).UTC(), true
	}
	sec, frac, _ := strings.Cut(s, ".")
	n, err := strconv.ParseInt(sec, 10, 64)
	if err != nil || n > 253402300799 || n < -62135596800 {
		return time.Time{}, false
	}
	var nanos int64
	if frac != "" {
		if len(frac) > 9 {
			frac = frac[:9]
		}
		f, err := strconv.ParseUint(frac, 10, 32)
		if err != nil {
			return time.Time{}, false
		}
		for i := len(frac); i < 9; i++ {
			f *= 10
		}
		nanos = int64(f)
		if strings.HasPrefix(sec, "-") {
			nanos = -nanos
		}
	}
	return time.Unix(n, nanos).UTC(), true
}

// AppendTime writes t in format: ISO 8601 with fractional seconds only when
// present, epoch seconds (fraction likewise), or an HTTP date.
func AppendTime(b []byte, t time.Time, format string) []byte {
	t = t.UTC()
	switch format {
	case Unix:
		return AppendEpoch(b, t)
	case HTTPDate:
		return t.AppendFormat(b, http1123)
	}
	if t.Nanosecond() == 0 {
		return t.AppendFormat(b, "2006-01-02T15:04:05Z")
	}
	return t.AppendFormat(b, "2006-01-02T15:04:05.999999999Z")
}

const http1123 = "Mon, 02 Jan 2006 15:04:05 GMT"

// AppendEpoch writes t as epoch seconds, with the fraction (up to
// nanoseconds, trailing zeros trimmed) when there is one.
func AppendEpoch(b []byte, t time.Time) []byte {
	sec := t.Unix()
	ns := t.Nanosecond()
	b = strconv.AppendInt(b, sec, 10)
	if ns == 0 {
		return b
	}
	// Negative times with a fraction: Unix() floors, so the fraction is
	// measured upward; render the exact decimal instead.
	if sec < 0 {
		return strconv.AppendFloat(b[:len(b)-len(strconv.FormatInt(sec, 10))], float64(t.UnixNano())/1e9, 'f', -1, 64)
	}
	var frac [10]byte
	frac[0] = '.'
	for i := 9; i >= 1; i-- {
		frac[i] = byte('0' + ns%10)
		ns /= 10
	}
	n := 10
	for n > 1 && frac[n-1] == '0' {
		n--
	}
	return append(b, frac[:n]...)
}

// AppendFloat writes f as AWS does: NaN and infinities by name.
func AppendFloat(b []byte, f float64, bits int) []byte {
	switch {
	case math.IsNaN(f):
		return append(b, "NaN"...)
	case math.IsInf(f, 1):
		return append(b, "Infinity"...)
	case math.IsInf(f, -1):
		return append(b, "-Infinity"...)
	}
	return strconv.AppendFloat(b, f, 'g', -1, bits)
}

// AppendScalar writes the text form of a scalar (query values, XML text,
// headers, query strings). v is dereferenced already.
func AppendScalar(b []byte, s *awsproto.Shape, v reflect.Value, defaultTS string) []byte {
	switch s.Kind {
	case awsproto.KindString:
		return append(b, v.String()...)
	case awsproto.KindBoolean:
		return strconv.AppendBool(b, v.Bool())
	case awsproto.KindInteger, awsproto.KindLong:
		return strconv.AppendInt(b, v.Int(), 10)
	case awsproto.KindFloat:
		return AppendFloat(b, v.Float(), 32)
	case awsproto.KindDouble:
		return AppendFloat(b, v.Float(), 64)
	case awsproto.KindTimestamp:
		format := s.TimestampFormat
		if format == "" {
			format = defaultTS
		}
		t, _ := v.Interface().(time.Time)
		return AppendTime(b, t, format)
	case awsproto.KindBlob:
		raw := v.Bytes()
		n := base64.StdEncoding.EncodedLen(len(raw))
		b = grow(b, n)
		base64.StdEncoding.Encode(b[len(b):len(b)+n], raw)
		return b[:len(b)+n]
	case awsproto.KindDocument:
		return append(b, v.Bytes()...)
	}
	return b
}

func grow(b []byte, n int) []byte {
	if cap(b)-len(b) >= n {
		return b
	}
	nb := make([]byte, len(b), 2*cap(b)+n)
	copy(nb, b)
	return nb
}
