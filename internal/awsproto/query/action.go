package query

import (
	"net/url"

	"github.com/rampart/rampart/internal/awsproto"
)

// The query protocol's Operation only needs Action, and an input without
// members needs nothing of the form; parsing every pair into a url.Values
// map for that is most of the codec's cost on calls like
// sts:GetCallerIdentity. simpleForm and findAction scan the query string
// and body in place instead, and only where the answer is provably
// url.ParseQuery's: anything unusual (a ';', a bad or any escape in a
// name, many pairs) falls back to Request.Form.

// maxScanPairs bounds the pairs scanned in place; url.ParseQuery's own
// limit on the number of pairs (urlmaxqueryparams) is far above it.
const maxScanPairs = 64

// simpleForm reports whether s parses with url.ParseQuery without error
// and without any name needing unescaping: no ';', every '%' followed by
// two hex digits, no '%' or '+' in a name, at most maxScanPairs pairs.
func simpleForm[S string | []byte](s S) bool {
	pairs := 1
	inName := true
	for i := 0; i < len(s); i++ {
		switch s[i] {
		case '&':
			if pairs++; pairs > maxScanPairs {
				return false
			}
			inName = true
		case '=':
			inName = false
		case ';':
			return false
		case '+':
			if inName {
				return false
			}
		case '%':
			if inName || i+2 >= len(s) || !ishex(s[i+1]) || !ishex(s[i+2]) {
				return false
			}
			i += 2
		}
	}
	return true
}

func ishex(c byte) bool {
	return '0' <= c && c <= '9' || 'a' <= c && c <= 'f' || 'A' <= c && c <= 'F'
}

// firstValue returns the first value of the pair named name in s, which
// simpleForm accepted: names need no unescaping there.
func firstValue[S string | []byte](s S, name string) (string, bool) {
	for len(s) > 0 {
		var pair S
		if i := index(s, '&'); i >= 0 {
			pair, s = s[:i], s[i+1:]
		} else {
			pair, s = s, s[len(s):]
		}
		k, v := pair, pair[len(pair):]
		if i := index(pair, '='); i >= 0 {
			k, v = pair[:i], pair[i+1:]
		}
		if string(k) != name {
			continue
		}
		value, err := url.QueryUnescape(string(v))
		if err != nil {
			return "", false // simpleForm rules this out
		}
		return value, true
	}
	return "", false
}

func index[S string | []byte](s S, c byte) int {
	for i := 0; i < len(s); i++ {
		if s[i] == c {
			return i
		}
	}
	return -1
}

// params are the two parameters that name a query request's operation:
// the first value of each, and whether it is there at all (AWS tells an
// absent Version, NO_VERSION_SPECIFIED, from an empty one).
type params struct {
	action, version       string
	hasAction, hasVersion bool
}

// paramsOf reads params from a parsed form.
func paramsOf(form url.Values) params {
	var p params
	if vs, ok := form["Action"]; ok && len(vs) > 0 {
		p.action, p.hasAction = vs[0], true
	}
	if vs, ok := form["Version"]; ok && len(vs) > 0 {
		p.version, p.hasVersion = vs[0], true
	}
	return p
}

// scanParams returns the params of req without parsing its form, as
// paramsOf(Request.Form()) would; ok is false when the form is not simple
// (see simpleForm) and Request.Form must decide. The URL's query string
// comes before the body, as in Request.Form.
func scanParams(req *awsproto.Request) (p params, ok bool) {
	var query string
	if req.HTTP != nil && req.HTTP.URL != nil {
		query = req.HTTP.URL.RawQuery
	}
	if !simpleForm(query) || !simpleForm(req.Body) {
		return p, false
	}
	if p.action, p.hasAction = firstValue(query, "Action"); !p.hasAction {
		p.action, p.hasAction = firstValue(req.Body, "Action")
	}
	if p.version, p.hasVersion = firstValue(query, "Version"); !p.hasVersion {
		p.version, p.hasVersion = firstValue(req.Body, "Version")
	}
	return p, true
}

// noForm reports whether Decode can skip the form: the input has no
// members and the form parses without error.
func noForm(op *awsproto.Operation, req *awsproto.Request) bool {
	if len(op.Input.Members) > 0 {
		return false
	}
	var query string
	if req.HTTP != nil && req.HTTP.URL != nil {
		query = req.HTTP.URL.RawQuery
	}
	return simpleForm(query) && simpleForm(req.Body)
}
