package server

import (
	"net/http"
	"net/url"
	"strings"

	"github.com/rampart/rampart/internal/awsproto"
	"github.com/rampart/rampart/internal/awsproto/protocols"
	"github.com/rampart/rampart/internal/sigv4"
)

// router tells which service a request is for.
type router struct {
	all       map[*awsproto.Service]bool
	bySigning map[string][]*awsproto.Service // credential-scope service name
	byTarget  map[string]*awsproto.Service   // json: X-Amz-Target prefix
	byVersion map[string]*awsproto.Service   // query: Version=
	byPrefix  map[string]*awsproto.Service   // endpoint prefix / botocore name
	restJSON  []*awsproto.Service            // rest-json services, for unsigned calls (byPath)
}

func newRouter(services []*awsproto.Service) *router {
	rt := &router{
		all:       map[*awsproto.Service]bool{},
		bySigning: map[string][]*awsproto.Service{},
		byTarget:  map[string]*awsproto.Service{},
		byVersion: map[string]*awsproto.Service{},
		byPrefix:  map[string]*awsproto.Service{},
	}
	for _, s := range services {
		rt.all[s] = true
		rt.bySigning[s.SigningName] = append(rt.bySigning[s.SigningName], s)
		if s.TargetPrefix != "" {
			rt.byTarget[s.TargetPrefix] = s
		}
		if s.Protocol == "query" {
			rt.byVersion[s.APIVersion] = s
		}
		rt.byPrefix[s.EndpointPrefix] = s
		rt.byPrefix[s.Name] = s
		if s.Protocol == "rest-json" {
			rt.restJSON = append(rt.restJSON, s)
		}
	}
	return rt
}

func (rt *router) known(s *awsproto.Service) bool { return rt.all[s] }

// service finds the service of a request, or nil.
func (rt *router) service(r *http.Request, auth *sigv4.Auth, body []byte) *awsproto.Service {
	target := r.Header.Get("X-Amz-Target")
	if target != "" {
		if i := strings.LastIndexByte(target, '.'); i > 0 {
			if s := rt.byTarget[target[:i]]; s != nil {
				return s
			}
		}
	}
	var candidates []*awsproto.Service
	if auth != nil {
		candidates = rt.bySigning[auth.Service]
	}
	if len(candidates) == 1 {
		return candidates[0]
	}
	// Query protocol: Version= in the form body or the query string.
	if v := queryVersion(r, body); v != "" {
		if s := rt.byVersion[v]; s != nil {
			return s
		}
	}
	for _, s := range candidates {
		if s.Protocol == "rest-json" {
			return s
		}
	}
	if len(candidates) > 0 {
		return candidates[0]
	}
	if auth == nil {
		return rt.byPath(r)
	}
	return nil
}

// byPath places an unsigned rest-json call, which has neither a credential
// scope nor a target to route by — SSO's GetRoleCredentials, SSO OIDC's
// CreateToken and the like, whose models say clients need not sign them —
// by its method and path: the one service with an operation that needs no
// signature at that path, else the one service with any operation there.
// Several (a path like /tags/{resourceArn} is common): nil, as before.
func (rt *router) byPath(r *http.Request) *awsproto.Service {
	var noAuth, any []*awsproto.Service
	for _, s := range rt.restJSON {
		op, err := restJSON.Operation(s, &awsproto.Request{HTTP: r})
		if err != nil {
			continue
		}
		any = append(any, s)
		if op.NoAuth {
			noAuth = append(noAuth, s)
		}
	}
	switch {
	case len(noAuth) == 1:
		return noAuth[0]
	case len(noAuth) == 0 && len(any) == 1:
		return any[0]
	}
	return nil
}

// restJSON is the rest-json codec, which byPath asks to match paths.
var restJSON = protocols.For("rest-json")

// fallback is the service whose protocol answers a request nobody claims:
// the Host header's first label when it names one (sts.amazonaws.com),
// else STS, so that the error is at least well-formed AWS XML.
func (rt *router) fallback(r *http.Request) *awsproto.Service {
	host := r.Host
	if i := strings.IndexByte(host, '.'); i > 0 {
		if s := rt.byPrefix[host[:i]]; s != nil {
			return s
		}
	}
	return unknown
}

// unknown stands for a request rampart cannot place; it speaks the query
// protocol's XML errors.
var unknown = (&awsproto.Service{Name: "unknown", ID: "unknown", Protocol: "query"}).Init()

func queryVersion(r *http.Request, body []byte) string {
	if v := r.URL.Query().Get("Version"); v != "" {
		return v
	}
	ct := r.Header.Get("Content-Type")
	if !strings.HasPrefix(ct, "application/x-www-form-urlencoded") {
		return ""
	}
	// A cheap scan: the full form is parsed once, by the codec.
	s := string(body)
	for s != "" {
		var kv string
		kv, s, _ = strings.Cut(s, "&")
		if k, v, ok := strings.Cut(kv, "="); ok && k == "Version" {
			if u, err := url.QueryUnescape(v); err == nil {
				return u
			}
		}
	}
	return ""
}

// protocolFor is the codec of a protocol. Models whose protocol rampart has
// no codec for (ec2, rest-xml) are answered in query's XML, which is what
// their clients parse for errors.
func protocolFor(name string) awsproto.Protocol {
	if p := protocols.For(name); p != nil {
		return p
	}
	return protocols.For("query")
}
