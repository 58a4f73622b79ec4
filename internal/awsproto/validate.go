package awsproto

import (
	"reflect"
	"slices"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"
)

// Validate checks v, a value of s.GoType (a struct, not a pointer), against
// the model's constraints: required members, lengths, ranges, enums and
// patterns, through nested structures, lists and maps. It returns the
// violations in AWS's words, in model order ("Value null at 'keyId' failed to
// satisfy constraint: Member must not be null"), or nil.
//
// A list of scalars, a map's keys and a map's scalar values are checked as
// a whole: when any element breaks a constraint, the message names the
// list or map and every constraint of the element's shape, broken or not,
// in AWS's order (maximum, minimum, pattern, enum):
// "Value '{Creator=a,b}' at 'tags' failed to satisfy constraint: Map value
// must satisfy constraint: [Member must have length less than or equal to
// 256, Member must have length greater than or equal to 0, Member must
// satisfy regular expression pattern: ^([\p{L}\p{Z}\p{N}_.:/=+\-@]*)$]"
// (Lambda's TagResource, when only the pattern is broken).
//
// Paths name members in lower camel case and join them with dots, as AWS
// does for every protocol: a member of a nested structure is
// "policy.statement", a member of the structure elements of a list
// "tags.1.member.key" (1-based), and a member of the structure values of a
// map "requestItems.Table.member.keys" (the entry's key, then "member").
// The value of a sensitive member is never echoed ("Value at 'plaintext' ...").
func Validate(s *Shape, v reflect.Value) []string {
	var vs validator
	vs.structure(s, v, "")
	return vs.msgs
}

// ValidationError joins Validate's messages into one *Error with the
// protocol's validation code (ValidationError for query,
// ValidationException for the json protocols); nil when msgs is empty.
func ValidationError(code string, msgs []string) *Error {
	if len(msgs) == 0 {
		return nil
	}
	var b strings.Builder
	b.WriteString(strconv.Itoa(len(msgs)))
	if len(msgs) == 1 {
		b.WriteString(" validation error detected: ")
	} else {
		b.WriteString(" validation errors detected: ")
	}
	for i, m := range msgs {
		if i > 0 {
			b.WriteString("; ")
		}
		b.WriteString(m)
	}
	return &Error{Code: code, Message: b.String(), Status: 400, Sender: true, Violations: msgs}
}

type validator struct {
	msgs []string
}

func (vs *validator) add(value, path, constraint string) {
	if value == "\x00" { // sensitive
		vs.msgs = append(vs.msgs, "Value at '"+path+"' failed to satisfy constraint: "+constraint)
		return
	}
	vs.msgs = append(vs.msgs, "Value "+value+" at '"+path+"' failed to satisfy constraint: "+constraint)
}

// Present reports whether a member value is set: non-nil pointers, slices and
// maps, non-empty enum strings.
func Present(v reflect.Value) bool {
	switch v.Kind() {
	case reflect.Pointer, reflect.Slice, reflect.Map, reflect.Interface:
		return !v.IsNil()
	case reflect.String:
		return v.Len() > 0
	case reflect.Invalid:
		return false
	}
	return true
}

func (vs *validator) structure(s *Shape, v reflect.Value, prefix string) {
	if v.Kind() == reflect.Pointer {
		if v.IsNil() {
			return
		}
		v = v.Elem()
	}
	if v.Kind() != reflect.Struct {
		return
	}
	p := planOf(s)
	for i, m := range s.Members {
		if m.Field < 0 || m.Field >= v.NumField() {
			continue
		}
		f := v.Field(m.Field)
		path := prefix + p.pathNames[i]
		if !Present(f) {
			if m.Required {
				vs.msgs = append(vs.msgs, "Value null at '"+path+"' failed to satisfy constraint: Member must not be null")
			}
			continue
		}
		vs.value(m.Shape, f, path)
	}
}

func (vs *validator) value(s *Shape, v reflect.Value, path string) {
	if v.Kind() == reflect.Pointer {
		if v.IsNil() {
			return
		}
		if s.Kind != KindStructure {
			v = v.Elem()
		}
	}
	switch s.Kind {
	case KindStructure:
		vs.structure(s, v, path+".")
	case KindList:
		n := v.Len()
		vs.length(s, n, v, path)
		el := s.Member.Shape
		if el.Kind == KindStructure {
			for i := 0; i < n; i++ {
				vs.structure(el, v.Index(i), path+"."+strconv.Itoa(i+1)+".member.")
			}
			return
		}
		if !hasConstraints(el) {
			return
		}
		for i := 0; i < n; i++ {
			if len(scalarViolations(el, v.Index(i))) > 0 {
				vs.add(render(s, v), path, "Member must satisfy constraint: ["+planOf(el).constraints+"]")
				break
			}
		}
	case KindMap:
		vs.length(s, v.Len(), v, path)
		ks, vsh := s.Key.Shape, s.Value.Shape
		checkKeys, checkVals := hasConstraints(ks), hasConstraints(vsh) && vsh.Kind != KindStructure
		var badKey, badVal bool
		if checkKeys || checkVals || vsh.Kind == KindStructure {
			// In key order, so that the messages do not depend on Go's
			// map iteration order.
			keys := v.MapKeys()
			slices.SortFunc(keys, func(a, b reflect.Value) int { return strings.Compare(a.String(), b.String()) })
			for _, k := range keys {
				if checkKeys && !badKey {
					badKey = len(scalarViolations(ks, k)) > 0
				}
				if vsh.Kind == KindStructure {
					vs.structure(vsh, v.MapIndex(k), path+"."+k.String()+".member.")
				} else if checkVals && !badVal {
					badVal = len(scalarViolations(vsh, v.MapIndex(k))) > 0
				}
			}
		}
		if badKey {
			vs.add(render(s, v), path, "Map keys must satisfy constraint: ["+planOf(ks).constraints+"]")
		}
		if badVal {
			vs.add(render(s, v), path, "Map value must satisfy constraint: ["+planOf(vsh).constraints+"]")
		}
	default:
		for _, c := range scalarViolations(s, v) {
			vs.add(render(s, v), path, c)
		}
	}
}

func (vs *validator) length(s *Shape, n int, v reflect.Value, path string) {
	if s.Min != nil && float64(n) < *s.Min {
		vs.add(render(s, v), path, "Member must have length greater than or equal to "+num(*s.Min))
	}
	if s.Max != nil && float64(n) > *s.Max {
		vs.add(render(s, v), path, "Member must have length less than or equal to "+num(*s.Max))
	}
}

func hasConstraints(s *Shape) bool {
	switch s.Kind {
	case KindStructure, KindList, KindMap:
		// Nested collections of scalars are rare; their lengths are checked.
		return s.Min != nil || s.Max != nil
	}
	return s.Min != nil || s.Max != nil || s.Pattern != "" || len(s.Enum) > 0
}

// scalarViolations lists the constraints v (a scalar, or a nested
// collection by its length) breaks.
func scalarViolations(s *Shape, v reflect.Value) []string {
	if v.Kind() == reflect.Pointer {
		if v.IsNil() {
			return nil
		}
		v = v.Elem()
	}
	var out []string
	switch s.Kind {
	case KindString:
		str := v.String()
		n := utf16Len(str)
		if s.Min != nil && float64(n) < *s.Min {
			out = append(out, "Member must have length greater than or equal to "+num(*s.Min))
		}
		if s.Max != nil && float64(n) > *s.Max {
			out = append(out, "Member must have length less than or equal to "+num(*s.Max))
		}
		p := planOf(s)
		if p.pattern != nil && !p.pattern.MatchString(str) {
			out = append(out, "Member must satisfy regular expression pattern: "+s.Pattern)
		}
		if p.enum != nil {
			if _, ok := p.enum[str]; !ok {
				out = append(out, "Member must satisfy enum value set: "+p.enumText)
			}
		}
	case KindBlob, KindList, KindMap:
		n := v.Len()
		if s.Min != nil && float64(n) < *s.Min {
			out = append(out, "Member must have length greater than or equal to "+num(*s.Min))
		}
		if s.Max != nil && float64(n) > *s.Max {
			out = append(out, "Member must have length less than or equal to "+num(*s.Max))
		}
	case KindInteger, KindLong, KindFloat, KindDouble:
		var f float64
		if v.CanInt() {
			f = float64(v.Int())
		} else if v.CanFloat() {
			f = v.Float()
		}
		if s.Min != nil && f < *s.Min {
			out = append(out, "Member must have value greater than or equal to "+num(*s.Min))
		}
		if s.Max != nil && f > *s.Max {
			out = append(out, "Member must have value less than or equal to "+num(*s.Max))
		}
	}
	return out
}

// utf16Len is the length of s as Java counts it (UTF-16 code units), which
// is how AWS measures string lengths.
func utf16Len(s string) int {
	n := 0
	for i := 0; i < len(s); {
		c := s[i]
		if c < utf8.RuneSelf {
			n++
			i++
			continue
		}
		r, size := utf8.DecodeRuneInString(s[i:])
		if r > 0xFFFF {
			n += 2
		} else {
			n++
		}
		i += size
	}
	return n
}

func num(f float64) string {
	if f == float64(int64(f)) {
		return strconv.FormatInt(int64(f), 10)
	}
	return strconv.FormatFloat(f, 'g', -1, 64)
}

// render is how a validation message quotes a value: 'x', '[a, b]',
// '{k=v}'; "\x00" stands for a sensitive value that is never echoed.
func render(s *Shape, v reflect.Value) string {
	if isSensitive(s, 0) {
		return "\x00"
	}
	var b strings.Builder
	b.WriteByte('\'')
	renderTo(&b, s, v, 0)
	b.WriteByte('\'')
	return b.String()
}

func isSensitive(s *Shape, depth int) bool {
	if s.Sensitive {
		return true
	}
	if depth > 8 {
		return false
	}
	switch s.Kind {
	case KindList:
		return isSensitive(s.Member.Shape, depth+1)
	case KindMap:
		return isSensitive(s.Key.Shape, depth+1) || isSensitive(s.Value.Shape, depth+1)
	}
	return false
}

func renderTo(b *strings.Builder, s *Shape, v reflect.Value, depth int) {
	if v.Kind() == reflect.Pointer {
		if v.IsNil() {
			b.WriteString("null")
			return
		}
		v = v.Elem()
	}
	if depth > 4 || b.Len() > 1024 {
		b.WriteString("...")
		return
	}
	switch s.Kind {
	case KindString:
		b.WriteString(v.String())
	case KindBoolean:
		b.WriteString(strconv.FormatBool(v.Bool()))
	case KindInteger, KindLong:
		b.WriteString(strconv.FormatInt(v.Int(), 10))
	case KindFloat, KindDouble:
		b.WriteString(strconv.FormatFloat(v.Float(), 'g', -1, 64))
	case KindTimestamp:
		if t, ok := v.Interface().(time.Time); ok {
			b.WriteString(t.UTC().Format(time.RFC3339Nano))
		}
	case KindBlob:
		b.WriteString("java.nio.HeapByteBuffer[pos=0 lim=" + strconv.Itoa(v.Len()) + " cap=" + strconv.Itoa(v.Len()) + "]")
	case KindList:
		b.WriteByte('[')
		for i := 0; i < v.Len(); i++ {
			if i > 0 {
				b.WriteString(", ")
			}
			renderTo(b, s.Member.Shape, v.Index(i), depth+1)
		}
		b.WriteByte(']')
	case KindMap:
		b.WriteByte('{')
		it := v.MapRange()
		i := 0
		for it.Next() {
			if i > 0 {
				b.WriteString(", ")
			}
			i++
			b.WriteString(it.Key().String())
			b.WriteByte('=')
			renderTo(b, s.Value.Shape, it.Value(), depth+1)
		}
		b.WriteByte('}')
	case KindStructure:
		b.WriteString(s.Name)
	}
}
