package conformance

import (
	"strconv"
	"strings"

	"github.com/rampart/rampart/internal/awsproto"
)

// step is one move from a generated value to a value inside it.
type step struct {
	member string // a member of a structure, by model name
	list   bool   // the first element of a list
	mapv   bool   // the value of a map's (only) entry
}

// site is a value that an invalid variant can break: a member of a
// structure nested in the input (in a structure, a list element, a map
// value), an element of a list of scalars, a value of a map of scalars, or
// a member of the input itself (steps empty).
type site struct {
	top    *awsproto.Member // the input member the site is in
	steps  []step           // from top's value to the site's value
	member *awsproto.Member // the structure member at the site; nil for list elements and map values
	shape  *awsproto.Shape  // the shape of the value at the site
	coll   *awsproto.Shape  // list elements and map values: the list or map
}

func (s site) nested() bool { return len(s.steps) > 0 }

// name spells the site for a variant's name: "Tags[].Key", "EncryptionContext{}".
func (s site) name() string {
	var b strings.Builder
	b.WriteString(s.top.Name)
	for _, st := range s.steps {
		switch {
		case st.list:
			b.WriteString("[]")
		case st.mapv:
			b.WriteString("{}")
		default:
			b.WriteString("." + st.member)
		}
	}
	return b.String()
}

// sites lists the sites of an input shape in model order: its members that
// travel in the body (or the query form), then what is nested in each, to
// a depth of four.
func sites(in *awsproto.Shape) []site {
	var out []site
	var walk func(top *awsproto.Member, s *awsproto.Shape, steps []step, depth int)
	walk = func(top *awsproto.Member, s *awsproto.Shape, steps []step, depth int) {
		if depth > 4 {
			return
		}
		extend := func(st step) []step { return append(append([]step(nil), steps...), st) }
		switch s.Kind {
		case awsproto.KindStructure:
			for _, m := range s.Members {
				st := extend(step{member: m.Name})
				out = append(out, site{top: top, steps: st, member: m, shape: m.Shape})
				walk(top, m.Shape, st, depth+1)
			}
		case awsproto.KindList:
			st := extend(step{list: true})
			if el := s.Member.Shape; scalar(el) {
				out = append(out, site{top: top, steps: st, shape: el, coll: s})
			} else {
				walk(top, el, st, depth+1)
			}
		case awsproto.KindMap:
			st := extend(step{mapv: true})
			if val := s.Value.Shape; scalar(val) {
				out = append(out, site{top: top, steps: st, shape: val, coll: s})
			} else {
				walk(top, val, st, depth+1)
			}
		}
	}
	for _, m := range in.Members {
		if m.Location != "" {
			continue
		}
		if scalar(m.Shape) {
			out = append(out, site{top: m, member: m, shape: m.Shape})
			continue
		}
		walk(m, m.Shape, nil, 0)
	}
	return out
}

func scalar(s *awsproto.Shape) bool {
	switch s.Kind {
	case awsproto.KindStructure, awsproto.KindList, awsproto.KindMap:
		return false
	}
	return true
}

// spot is where a site's value sits in one generated input.
type spot struct {
	holder   any    // map[string]any (a structure or a map) or []any (a list)
	key      string // in a map
	index    int    // in a list
	path     string // the value's path in AWS's validation messages: "tags.1.member.key"
	collPath string // list elements and map values: the path of the list or map
	coll     any    // list elements and map values: the list or map
}

func (p spot) get() (any, bool) {
	switch h := p.holder.(type) {
	case map[string]any:
		v, ok := h[p.key]
		return v, ok
	case []any:
		if p.index < len(h) {
			return h[p.index], true
		}
	}
	return nil, false
}

func (p spot) set(v any) {
	switch h := p.holder.(type) {
	case map[string]any:
		h[p.key] = v
	case []any:
		h[p.index] = v
	}
}

// reach finds site s in input in, naming the paths as AWS's validation
// messages do: "parent.child" in structures, "list.1.member" for a list's
// first element, "map.key.member" for a map's value.
func reach(in obj, s site) (spot, bool) {
	p := spot{holder: in, key: s.top.Name, path: lowerFirst(s.top.Name)}
	for _, st := range s.steps {
		v, ok := p.get()
		if !ok {
			return p, false
		}
		switch {
		case st.list:
			l, ok := v.([]any)
			if !ok || len(l) == 0 {
				return p, false
			}
			p = spot{holder: l, path: p.path + ".1.member", collPath: p.path, coll: l}
		case st.mapv:
			m, ok := v.(map[string]any)
			if !ok || len(m) != 1 {
				return p, false
			}
			var k string
			for k = range m {
			}
			p = spot{holder: m, key: k, path: p.path + "." + k + ".member", collPath: p.path, coll: m}
		default:
			m, ok := v.(map[string]any)
			if !ok {
				return p, false
			}
			p = spot{holder: m, key: st.member, path: p.path + "." + lowerFirst(st.member)}
		}
	}
	_, ok := p.get()
	return p, ok
}

// sensitive reports whether AWS leaves the value of s out of its messages.
func sensitive(s *awsproto.Shape) bool {
	switch {
	case s.Sensitive:
		return true
	case s.Kind == awsproto.KindList:
		return sensitive(s.Member.Shape)
	case s.Kind == awsproto.KindMap:
		return s.Key.Shape.Sensitive || sensitive(s.Value.Shape)
	}
	return false
}

// text renders a scalar value as AWS's messages quote it.
func text(v any) string {
	switch x := v.(type) {
	case string:
		return x
	case int64:
		return strconv.FormatInt(x, 10)
	case float64:
		return strconv.FormatFloat(x, 'g', -1, 64)
	case bool:
		return strconv.FormatBool(x)
	}
	return ""
}

// constraints lists every constraint of an element shape as AWS's
// messages about a list's or a map's elements do, broken or not, maximum
// first: "Member must have length less than or equal to 256, Member must
// have length greater than or equal to 0, Member must satisfy regular
// expression pattern: ..." (Lambda, for a tag value that broke only the
// pattern).
func constraints(s *awsproto.Shape) string {
	word := "length"
	if s.Kind == awsproto.KindInteger || s.Kind == awsproto.KindLong || s.Kind == awsproto.KindFloat || s.Kind == awsproto.KindDouble {
		word = "value"
	}
	num := func(f float64) string { return strconv.FormatFloat(f, 'f', -1, 64) }
	var out []string
	if s.Max != nil {
		out = append(out, "Member must have "+word+" less than or equal to "+num(*s.Max))
	}
	if s.Min != nil {
		out = append(out, "Member must have "+word+" greater than or equal to "+num(*s.Min))
	}
	if s.Pattern != "" {
		out = append(out, "Member must satisfy regular expression pattern: "+s.Pattern)
	}
	if len(s.Enum) > 0 {
		out = append(out, "Member must satisfy enum value set: ["+strings.Join(s.Enum, ", ")+"]")
	}
	return strings.Join(out, ", ")
}

// clause is AWS's wording of constraint c broken at p: "Value 'x' at
// 'tags.1.member.key' failed to satisfy constraint: c". The elements of a
// list of scalars and the values of a map of scalars are checked once per
// list or map and reported there, with every constraint of their shape:
// "Value '[a, x]' at 'names' failed to satisfy constraint: Member must
// satisfy constraint: [all]", "... Map value must satisfy constraint: [all]".
func clause(s site, p spot, c string) string {
	shape, path, value := s.shape, p.path, ""
	switch coll := p.coll.(type) {
	case []any:
		c = constraints(s.shape)
		shape, path, c = s.coll, p.collPath, "Member must satisfy constraint: ["+c+"]"
		parts := make([]string, len(coll))
		for i, e := range coll {
			parts[i] = text(e)
		}
		value = "[" + strings.Join(parts, ", ") + "]"
	case map[string]any:
		c = constraints(s.shape)
		shape, path, c = s.coll, p.collPath, "Map value must satisfy constraint: ["+c+"]"
		value = "{" + p.key + "=" + text(coll[p.key]) + "}"
	default:
		v, _ := p.get()
		value = text(v)
	}
	if sensitive(shape) {
		return "Value at '" + path + "' failed to satisfy constraint: " + c
	}
	return "Value '" + value + "' at '" + path + "' failed to satisfy constraint: " + c
}

// siteVariants are the invalid inputs that break a value nested in the
// input, where AWS names it by its path ("Value null at 'tags.1.member.key'
// failed to satisfy constraint: Member must not be null"): one per nested
// required member left out, and one per operation of each other kind (too
// long, too short, not in the enum, out of range, not matching the
// pattern, of the wrong type, a blob longer than its maximum). Then, in
// the input itself or nested, one per operation of: a timestamp that is
// none, a blob that is not base64. The json protocols answer a value they
// cannot read as its type with SerializationException. (The input's own
// members get one variant per member and constraint: variants.)
func siteVariants(h *harness, op *awsproto.Operation) []variant {
	if op.Input == nil {
		return nil
	}
	proto := op.Service.Protocol
	// fresh returns the minimal input with the site's top member filled
	// in full (a tag with its key and value), and where the site is in it.
	fresh := func(s site) (obj, spot, bool) {
		g := &Gen{Salt: h.salt(), Known: known(op.Service.Name, op.Name, h.runAcct.ID, h.salt)}
		in := g.Input(op.Input, false)
		if !s.nested() {
			return in, spot{holder: in, key: s.top.Name, path: lowerFirst(s.top.Name)}, true
		}
		v, ok := g.Member(s.top, true, 0)
		if !ok {
			return nil, spot{}, false
		}
		in[s.top.Name] = v
		p, ok := reach(in, s)
		return in, p, ok
	}
	var vs []variant
	// put adds the variant that sets the site's value to bad; cl words
	// the clause AWS's message must carry ("" for none), given where the
	// value is.
	put := func(kind string, s site, bad any, code string, cl func(p spot) string) bool {
		in, p, ok := fresh(s)
		if !ok {
			return false
		}
		p.set(bad)
		c := ""
		if cl != nil {
			c = cl(p)
		}
		vs = append(vs, variant{name: kind + ":" + s.name(), kind: invalid, input: in, clause: c, code: code})
		return true
	}
	serialization := ""
	if proto != "query" {
		serialization = awsproto.CodeSerialization
	}
	done := map[string]bool{}
	for _, s := range sites(op.Input) {
		sh := s.shape
		elem := s.coll != nil
		if s.nested() && s.member != nil && s.member.Required {
			// In query, a structure with no parameter left is no
			// structure at all: nothing would be missing from it.
			if in, p, ok := fresh(s); ok {
				parent := p.holder.(map[string]any)
				delete(parent, p.key)
				if proto != "query" || len(parent) > 0 {
					vs = append(vs, variant{name: "missing:" + s.name(), kind: invalid, input: in,
						clause: "Value null at '" + p.path + "' failed to satisfy constraint: Member must not be null"})
				}
			}
		}
		switch {
		case !s.nested():
		case !done["too-long"] && sh.Kind == awsproto.KindString && len(sh.Enum) == 0 && sh.Max != nil && *sh.Max < 200000:
			g := &Gen{Salt: h.salt()}
			v := g.TooLong(sh)
			done["too-long"] = put("too-long", s, v, "", func(p spot) string {
				return clause(s, p, "Member must have length less than or equal to "+itoa(int(*sh.Max)))
			})
		case !done["not-enum"] && sh.Kind == awsproto.KindString && len(sh.Enum) > 0:
			done["not-enum"] = put("not-enum", s, "CONFORMANCE_NOT_A_VALUE", "", func(p spot) string {
				return clause(s, p, "Member must satisfy enum value set: ["+strings.Join(sh.Enum, ", ")+"]")
			})
		case !done["out-of-range"] && (sh.Kind == awsproto.KindInteger || sh.Kind == awsproto.KindLong) && (sh.Min != nil || sh.Max != nil):
			v, c := int64(0), ""
			if sh.Max != nil {
				v, c = int64(*sh.Max)+1, "Member must have value less than or equal to "+itoa(int(*sh.Max))
			} else {
				v, c = int64(*sh.Min)-1, "Member must have value greater than or equal to "+itoa(int(*sh.Min))
			}
			done["out-of-range"] = put("out-of-range", s, v, "", func(p spot) string { return clause(s, p, c) })
		case !done["pattern"] && sh.Kind == awsproto.KindString && len(sh.Enum) == 0 && sh.Pattern != "":
			v, ok := NotMatching(sh)
			if !ok {
				break
			}
			done["pattern"] = put("pattern", s, v, "", func(p spot) string {
				return clause(s, p, "Member must satisfy regular expression pattern: "+sh.Pattern)
			})
		}
		if s.nested() && !done["too-short"] && sh.Kind == awsproto.KindString && len(sh.Enum) == 0 && sh.Min != nil && *sh.Min >= 1 && !elem {
			// The empty string: present, but shorter than the minimum
			// ("Value '' at 'keyId' failed to satisfy constraint: Member
			// must have length greater than or equal to 1").
			done["too-short"] = put("too-short", s, "", "", func(p spot) string {
				return clause(s, p, "Member must have length greater than or equal to "+itoa(int(*sh.Min)))
			})
		}
		if raw := wrongType(proto, sh.Kind); s.nested() && !done["wrong-type"] && raw != "" {
			done["wrong-type"] = put("wrong-type", s, raw, serialization, nil)
		}
		switch {
		case sh.Kind == awsproto.KindTimestamp && !done["bad-timestamp"]:
			raw := Raw("not-a-timestamp")
			if proto != "query" {
				raw = `"not-a-timestamp"`
			}
			done["bad-timestamp"] = put("bad-timestamp", s, raw, serialization, nil)
		case sh.Kind == awsproto.KindBlob && !done["bad-base64"]:
			// Coral's words, as Kinesis answers a PutRecord whose Data is
			// "Foo": "'Foo' can not be converted to a Blob: Base64 encoded
			// length is expected a multiple of 4 bytes but found: 3".
			var cl func(spot) string
			raw := Raw("Foo")
			if proto != "query" {
				raw = `"Foo"`
				cl = func(spot) string {
					return "can not be converted to a Blob: Base64 encoded length is expected a multiple of 4 bytes but found: 3"
				}
			}
			done["bad-base64"] = put("bad-base64", s, raw, serialization, cl)
		}
		if s.nested() && sh.Kind == awsproto.KindBlob && sh.Max != nil && *sh.Max < 200000 && !done["too-long-blob"] && !elem {
			// The message quotes a blob as Java renders a ByteBuffer
			// (or not at all, if it is sensitive): only the rest is
			// checked.
			done["too-long-blob"] = put("too-long", s, make([]byte, int(*sh.Max)+1), "", func(p spot) string {
				return "at '" + p.path + "' failed to satisfy constraint: Member must have length less than or equal to " + itoa(int(*sh.Max))
			})
		}
	}
	return vs
}
