package wire

import (
	"reflect"
	"strconv"
	"time"
	"unicode/utf8"

	"github.com/rampart/rampart/internal/awsproto"
)

// AppendJSONStruct writes v (a struct of shape s, or a pointer to one) as a
// JSON object: present members only, by wire name, in model order. A
// non-nil empty slice or map is written ([] / {}); nil ones are omitted.
// include, when non-nil, selects the members that go in the body.
func AppendJSONStruct(b []byte, s *awsproto.Shape, v reflect.Value, include func(*awsproto.Member) bool) []byte {
	if v.Kind() == reflect.Pointer {
		if v.IsNil() {
			return append(b, "{}"...)
		}
		v = v.Elem()
	}
	b = append(b, '{')
	first := true
	for _, m := range s.Members {
		if m.Field < 0 || m.Field >= v.NumField() {
			continue
		}
		if include != nil && !include(m) {
			continue
		}
		f := v.Field(m.Field)
		if !awsproto.Present(f) {
			continue
		}
		if !first {
			b = append(b, ',')
		}
		first = false
		b = AppendJSONString(b, m.WireName())
		b = append(b, ':')
		b = AppendJSONValue(b, m.Shape, f, 0)
	}
	return append(b, '}')
}

// AppendJSONValue writes one value of shape s.
func AppendJSONValue(b []byte, s *awsproto.Shape, v reflect.Value, depth int) []byte {
	if s.Kind != awsproto.KindStructure {
		var ok bool
		if v, ok = Deref(v); !ok {
			return append(b, "null"...)
		}
	}
	if depth > MaxDepth {
		return append(b, "null"...)
	}
	switch s.Kind {
	case awsproto.KindStructure:
		return AppendJSONStruct(b, s, v, nil)
	case awsproto.KindList:
		b = append(b, '[')
		for i := 0; i < v.Len(); i++ {
			if i > 0 {
				b = append(b, ',')
			}
			b = AppendJSONValue(b, s.Member.Shape, v.Index(i), depth+1)
		}
		return append(b, ']')
	case awsproto.KindMap:
		b = append(b, '{')
		it := v.MapRange()
		first := true
		for it.Next() {
			if !first {
				b = append(b, ',')
			}
			first = false
			b = AppendJSONString(b, it.Key().String())
			b = append(b, ':')
			b = AppendJSONValue(b, s.Value.Shape, it.Value(), depth+1)
		}
		return append(b, '}')
	case awsproto.KindString:
		return AppendJSONString(b, v.String())
	case awsproto.KindBoolean:
		return strconv.AppendBool(b, v.Bool())
	case awsproto.KindInteger, awsproto.KindLong:
		return strconv.AppendInt(b, v.Int(), 10)
	case awsproto.KindFloat, awsproto.KindDouble:
		bits := 64
		if s.Kind == awsproto.KindFloat {
			bits = 32
		}
		f := v.Float()
		if f != f || f > 1.7976931348623157e308 || f < -1.7976931348623157e308 {
			b = append(b, '"')
			b = AppendFloat(b, f, bits)
			return append(b, '"')
		}
		return AppendFloat(b, f, bits)
	case awsproto.KindTimestamp:
		t, _ := v.Interface().(time.Time)
		if s.TimestampFormat != "" && s.TimestampFormat != Unix {
			b = append(b, '"')
			b = AppendTime(b, t, s.TimestampFormat)
			return append(b, '"')
		}
		return AppendEpoch(b, t)
	case awsproto.KindBlob:
		b = append(b, '"')
		b = AppendScalar(b, s, v, "")
		return append(b, '"')
	case awsproto.KindDocument:
		if v.Len() == 0 {
			return append(b, "null"...)
		}
		return append(b, v.Bytes()...)
	}
	return append(b, "null"...)
}

const hexDigits = "0123456789abcdef"

// AppendJSONString writes s as a JSON string; invalid UTF-8 becomes U+FFFD.
func AppendJSONString(b []byte, s string) []byte {
	b = append(b, '"')
	start := 0
	for i := 0; i < len(s); {
		c := s[i]
		if c < utf8.RuneSelf {
			if c >= 0x20 && c != '"' && c != '\\' {
				i++
				continue
			}
			b = append(b, s[start:i]...)
			switch c {
			case '"', '\\':
				b = append(b, '\\', c)
			case '\n':
				b = append(b, '\\', 'n')
			case '\r':
				b = append(b, '\\', 'r')
			case '\t':
				b = append(b, '\\', 't')
			default:
				b = append(b, '\\', 'u', '0', '0', hexDigits[c>>4], hexDigits[c&0xF])
			}
			i++
			start = i
			continue
		}
		r, size := utf8.DecodeRuneInString(s[i:])
		if r == utf8.RuneError && size == 1 {
			b = append(b, s[start:i]...)
			b = append(b, `\ufffd`...)
			i++
			start = i
			continue
		}
		if r == '\u2028' || r == '\u2029' {
			b = append(b, s[start:i]...)
			b = append(b, '\\', 'u', '2', '0', '2', hexDigits[r&0xF])
			i += size
			start = i
			continue
		}
		i += size
	}
	b = append(b, s[start:]...)
	return append(b, '"')
}
