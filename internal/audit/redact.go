package audit

import (
	"bytes"
	"encoding/json"
	"fmt"
	"strings"

	"github.com/rampart/rampart/internal/awsproto"
)

// Sensitive reports whether the member at path must be hidden. path holds
// the member names from the root of requestParameters or responseElements;
// list elements add nothing to the path, so the Password of every element
// of a list "Entries" has the path ["Entries", "Password"].
type Sensitive func(path []string) bool

// Members returns a [Sensitive] built from member names and dotted paths,
// compared case-insensitively (the API model says "SecretString",
// CloudTrail writes "secretString"):
//   - a name without dots ("Password") matches that member at any depth;
//   - a dotted path ("Credentials.SecretAccessKey") matches that exact path
//     from the root.
func Members(names ...string) Sensitive {
	anywhere := map[string]bool{}
	exact := map[string]bool{}
	for _, n := range names {
		n = strings.ToLower(n)
		if strings.Contains(n, ".") {
			exact[n] = true
		} else {
			anywhere[n] = true
		}
	}
	return func(path []string) bool {
		if len(path) == 0 {
			return false
		}
		if anywhere[strings.ToLower(path[len(path)-1])] {
			return true
		}
		return len(exact) > 0 && exact[strings.ToLower(strings.Join(path, "."))]
	}
}

// Any combines several [Sensitive] functions (nil ones are skipped).
func Any(fns ...Sensitive) Sensitive {
	return func(path []string) bool {
		for _, f := range fns {
			if f != nil && f(path) {
				return true
			}
		}
		return false
	}
}

// Baseline names members that hold secret material in every AWS API rampart
// serves. The [Writer] hides them in every event, whatever the caller
// already redacted: a second line of defence, not a replacement for the
// per-operation set the protocol layer derives from the model's
// "sensitive" trait.
var Baseline = Members(awsproto.SecretMembers...)

// Redact returns a copy of the JSON-like value v (what encoding/json decodes
// into any: map[string]any, []any, string, float64, json.Number, bool, nil)
// in which every member whose path is sensitive is replaced, whatever its
// type, by the string [Hidden]. json.RawMessage and []byte holding JSON are
// decoded; any other value (including maps holding structs or typed slices)
// goes through a JSON round trip first, so nothing nested escapes the walk.
// v itself is not modified. Numbers come back as json.Number.
func Redact(v any, sensitive Sensitive) (any, error) {
	if sensitive == nil {
		sensitive = func([]string) bool { return false }
	}
	jv, err := jsonValue(v)
	if err != nil {
		return nil, err
	}
	return redact(jv, nil, sensitive), nil
}

// RedactJSON is [Redact] for encoded JSON; it returns the redacted encoding.
func RedactJSON(raw []byte, sensitive Sensitive) (json.RawMessage, error) {
	v, err := Redact(json.RawMessage(raw), sensitive)
	if err != nil {
		return nil, err
	}
	return json.Marshal(v)
}

// jsonValue turns v into the generic JSON value model.
func jsonValue(v any) (any, error) {
	switch x := v.(type) {
	case nil:
		return nil, nil
	case json.RawMessage:
		return decode(x)
	case []byte:
		return decode(x)
	}
	if plain(v, 0) {
		return v, nil // already the generic model: walk it as it is
	}
	b, err := json.Marshal(v)
	if err != nil {
		return nil, fmt.Errorf("audit: redact: %w", err)
	}
	return decode(b)
}

// plain reports whether v is made only of maps with string keys, []any and
// JSON scalars, so that redact can walk it without a JSON round trip.
func plain(v any, depth int) bool {
	if depth > 64 {
		return false
	}
	switch x := v.(type) {
	case nil, string, bool, float64, int64, json.Number:
		return true
	case map[string]any:
		for _, e := range x {
			if !plain(e, depth+1) {
				return false
			}
		}
		return true
	case []any:
		for _, e := range x {
			if !plain(e, depth+1) {
				return false
			}
		}
		return true
	}
	return false
}

func decode(b []byte) (any, error) {
	if len(bytes.TrimSpace(b)) == 0 {
		return nil, nil
	}
	d := json.NewDecoder(bytes.NewReader(b))
	d.UseNumber() // keep numbers exactly as given
	var out any
	if err := d.Decode(&out); err != nil {
		return nil, fmt.Errorf("audit: redact: %w", err)
	}
	return out, nil
}

func redact(v any, path []string, sensitive Sensitive) any {
	switch x := v.(type) {
	case map[string]any:
		out := make(map[string]any, len(x))
		for k, mv := range x {
			p := append(path[:len(path):len(path)], k)
			if sensitive(p) {
				out[k] = Hidden
				continue
			}
			out[k] = redact(mv, p, sensitive)
		}
		return out
	case []any:
		out := make([]any, len(x))
		for i, e := range x {
			out[i] = redact(e, path, sensitive)
		}
		return out
	default:
		return x // a scalar: decode produces nothing else
	}
}
