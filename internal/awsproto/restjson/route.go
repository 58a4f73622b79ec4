package restjson

import (
	"net/url"
	"strings"
	"sync"

	"github.com/rampart/rampart/internal/awsproto"
)

// segment is one path segment of a request URI template: a literal, or a
// label with an optional literal prefix and suffix ("{Key+}" is greedy).
type segment struct {
	literal        string // when label == ""
	label          string
	prefix, suffix string
	greedy         bool
}

type route struct {
	op       *awsproto.Operation
	segs     []segment
	query    [][2]string // static query parts: name, value ("" with hasValue false matches any value)
	queryAny []bool
	score    int
}

type router struct {
	byMethod map[string][]*route // most specific first
}

var routers sync.Map // *awsproto.Service → *router

func routerOf(svc *awsproto.Service) *router {
	if r, ok := routers.Load(svc); ok {
		return r.(*router)
	}
	rt := &router{byMethod: map[string][]*route{}}
	for _, op := range svc.Operations {
		r := parseRoute(op)
		list := rt.byMethod[op.Method]
		i := len(list)
		for i > 0 && list[i-1].score < r.score {
			i--
		}
		list = append(list, nil)
		copy(list[i+1:], list[i:])
		list[i] = r
		rt.byMethod[op.Method] = list
	}
	actual, _ := routers.LoadOrStore(svc, rt)
	return actual.(*router)
}

func parseRoute(op *awsproto.Operation) *route {
	r := &route{op: op}
	path, query, _ := strings.Cut(op.RequestURI, "?")
	for _, part := range splitPath(path) {
		open, close := strings.IndexByte(part, '{'), strings.LastIndexByte(part, '}')
		if open < 0 || close < open {
			r.segs = append(r.segs, segment{literal: part})
			r.score += 100
			continue
		}
		label := part[open+1 : close]
		s := segment{prefix: part[:open], suffix: part[close+1:]}
		if strings.HasSuffix(label, "+") {
			s.greedy = true
			label = label[:len(label)-1]
		} else {
			r.score += 2 // a label beats a greedy label
		}
		s.label = label
		if s.prefix != "" || s.suffix != "" {
			r.score += 50
		}
		r.segs = append(r.segs, s)
	}
	if query != "" {
		for _, kv := range strings.Split(query, "&") {
			if kv == "" {
				continue
			}
			k, v, hasValue := strings.Cut(kv, "=")
			r.query = append(r.query, [2]string{k, v})
			r.queryAny = append(r.queryAny, !hasValue)
			r.score += 10
		}
	}
	return r
}

// splitPath splits "/a/b/" into ["a", "b"]: a trailing slash is ignored, as
// is the leading one.
func splitPath(p string) []string {
	p = strings.TrimPrefix(p, "/")
	p = strings.TrimSuffix(p, "/")
	if p == "" {
		return nil
	}
	return strings.Split(p, "/")
}

// match matches the escaped request path and query against r and returns
// the labels (unescaped), or ok false.
func (r *route) match(parts []string, q url.Values) (map[string]string, bool) {
	for i, k := range r.query {
		vs, ok := q[k[0]]
		if !ok {
			return nil, false
		}
		if !r.queryAny[i] && (len(vs) == 0 || vs[0] != k[1]) {
			return nil, false
		}
	}
	var labels map[string]string
	pi := 0
	for si, s := range r.segs {
		if pi >= len(parts) {
			return nil, false
		}
		if s.label == "" {
			if parts[pi] != s.literal {
				return nil, false
			}
			pi++
			continue
		}
		var raw string
		if s.greedy {
			// The greedy label takes every segment but those the rest of the
			// template needs.
			rest := len(r.segs) - si - 1
			end := len(parts) - rest
			if end <= pi {
				return nil, false
			}
			raw = strings.Join(parts[pi:end], "/")
			pi = end
		} else {
			raw = parts[pi]
			pi++
		}
		if !strings.HasPrefix(raw, s.prefix) || !strings.HasSuffix(raw, s.suffix) || len(raw) < len(s.prefix)+len(s.suffix) {
			return nil, false
		}
		raw = raw[len(s.prefix) : len(raw)-len(s.suffix)]
		val, err := url.PathUnescape(raw)
		if err != nil || val == "" {
			return nil, false
		}
		if labels == nil {
			labels = make(map[string]string, 2)
		}
		labels[s.label] = val
	}
	if pi != len(parts) {
		return nil, false
	}
	return labels, true
}
