package policy

import (
	"bytes"
	"encoding/json"
	"slices"
	"sort"
	"strconv"
	"strings"
	"unicode"
	"unicode/utf8"

	"github.com/rampart/rampart/internal/arn"
)

// Policy language versions ("IAM JSON policy elements: Version").
const (
	Version2012 = "2012-10-17"
	Version2008 = "2008-10-17"
)

// Effect is a statement's Effect.
type Effect uint8

const (
	EffectAllow Effect = iota
	EffectDeny
)

func (e Effect) String() string {
	if e == EffectDeny {
		return "Deny"
	}
	return "Allow"
}

// Policy is a parsed policy document. It is immutable and safe for
// concurrent use. Statements are pre-indexed by the service prefix of their
// actions, so evaluation does not visit statements that cannot match.
type Policy struct {
	name    string
	kind    Kind
	version string // "" when the document has no Version
	id      string
	vars    bool // policy variables are substituted (Version 2012-10-17)
	stmts   []Statement
	size    int

	byService map[string][]int32 // lower-case service prefix → statements
	wild      []int32            // statements whose actions cannot be indexed
}

// Statement is one parsed statement.
type Statement struct {
	Sid    string
	Effect Effect

	notAction bool
	actions   []string // lower-case patterns; "*" or "service:pattern"

	hasResource bool
	notResource bool
	resources   []tmpl

	hasPrincipal bool
	notPrincipal bool
	principals   principals

	conds []condition
}

// principals is a parsed Principal or NotPrincipal element.
type principals struct {
	any       bool     // "*" or {"AWS":"*"}
	accounts  []string // 12-digit ids, also from arn:…:iam::<id>:root
	arns      []string // user, role, session ARNs, exact
	services  []string
	federated []string
	canonical []string
}

// Name returns the name given with [Policy.Named], else the document's Id.
func (p *Policy) Name() string {
	if p.name != "" {
		return p.name
	}
	return p.id
}

// Named returns a copy of p that explanations call name (a managed policy
// ARN, an inline policy name…). The copy shares p's parsed statements.
func (p *Policy) Named(name string) *Policy {
	c := *p
	c.name = name
	return &c
}

// Kind returns the kind p was parsed as.
func (p *Policy) Kind() Kind { return p.kind }

// Version returns the Version element ("" when absent).
func (p *Policy) Version() string { return p.version }

// ID returns the Id element.
func (p *Policy) ID() string { return p.id }

// Size returns the document size as IAM counts it: characters other than
// white space.
func (p *Policy) Size() int { return p.size }

// Statements returns the parsed statements in document order. The caller
// must not modify the slice.
func (p *Policy) Statements() []Statement { return p.stmts }

// CountSize returns the size of doc as IAM counts it for quotas: the number
// of characters that are not white space.
func CountSize(doc []byte) int {
	n := 0
	for len(doc) > 0 {
		r, w := utf8.DecodeRune(doc)
		doc = doc[w:]
		if !unicode.IsSpace(r) {
			n++
		}
	}
	return n
}

// Parse parses and validates a policy document of the given kind. The error
// is an [*Error] carrying AWS's code and message and the JSON path of the
// problem. Size quotas are checked first ([Kind.SizeLimit]).
func Parse(doc []byte, kind Kind) (*Policy, error) {
	size := CountSize(doc)
	if lim := kind.SizeLimit(); size > lim {
		return nil, &Error{Code: CodeLimitExceeded, Message: "Cannot exceed quota for PolicySize: " + strconv.Itoa(lim)}
	}
	p, err := parse(doc, kind, true)
	if err != nil {
		return nil, err
	}
	p.size = size
	return p, nil
}

// MustParse is [Parse] that panics on error, for tests and fixed policies.
func MustParse(doc string, kind Kind) *Policy {
	p, err := Parse([]byte(doc), kind)
	if err != nil {
		panic(err)
	}
	return p
}

const errSyntax = "Syntax errors in policy."

func parse(doc []byte, kind Kind, strict bool) (*Policy, error) {
	dec := json.NewDecoder(bytes.NewReader(doc))
	dec.UseNumber()
	var v any
	if err := dec.Decode(&v); err != nil {
		return nil, malformed("", errSyntax)
	}
	if len(bytes.TrimSpace(doc[dec.InputOffset():])) > 0 {
		return nil, malformed("", errSyntax)
	}
	top, ok := v.(map[string]any)
	if !ok {
		return nil, malformed("", errSyntax)
	}
	p := &Policy{kind: kind}
	for _, k := range sortedKeys(top) {
		switch k {
		case "Version", "Id", "Statement":
		default:
			return nil, malformed(k, "Unknown field %s", k)
		}
	}
	if ver, ok := top["Version"]; ok {
		s, isStr := ver.(string)
		if !isStr || (s != Version2012 && s != Version2008) {
			return nil, malformed("Version", "The policy failed legacy parsing")
		}
		p.version = s
		p.vars = s == Version2012
	}
	if id, ok := top["Id"]; ok {
		s, isStr := id.(string)
		if !isStr {
			return nil, malformed("Id", errSyntax)
		}
		p.id = s
	}
	st, ok := top["Statement"]
	if !ok {
		return nil, malformed("", "Missing required field Statement")
	}
	var list []any
	var single bool
	switch st := st.(type) {
	case []any:
		list = st
	case map[string]any:
		list, single = []any{st}, true
	default:
		return nil, malformed("Statement", errSyntax)
	}
	if len(list) == 0 {
		return nil, malformed("Statement", errSyntax)
	}
	sids := map[string]bool{}
	for i, raw := range list {
		path := "Statement"
		if !single {
			path = "Statement[" + strconv.Itoa(i) + "]"
		}
		m, ok := raw.(map[string]any)
		if !ok {
			return nil, malformed(path, errSyntax)
		}
		s, err := parseStatement(m, path, kind, p.vars)
		if err != nil {
			return nil, err
		}
		if s.Sid != "" {
			if sids[s.Sid] {
				return nil, malformed(path+".Sid", "Statement IDs (SID) in a single policy must be unique.")
			}
			sids[s.Sid] = true
		}
		p.stmts = append(p.stmts, s)
	}
	p.index()
	return p, nil
}

func sortedKeys(m map[string]any) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
}

// stringList accepts a string or a non-empty array of strings.
func stringList(v any, path string) ([]string, *Error) {
	switch v := v.(type) {
	case string:
		return []string{v}, nil
	case []any:
		out := make([]string, 0, len(v))
		for i, e := range v {
			s, ok := e.(string)
			if !ok {
				return nil, malformed(path+"["+strconv.Itoa(i)+"]", errSyntax)
			}
			out = append(out, s)
		}
		return out, nil
	}
	return nil, malformed(path, errSyntax)
}

func sidOK(s string) bool {
	for i := 0; i < len(s); i++ {
		c := s[i]
		if !('0' <= c && c <= '9' || 'a' <= c && c <= 'z' || 'A' <= c && c <= 'Z') {
			return false
		}
	}
	return true
}

func parseStatement(m map[string]any, path string, kind Kind, vars bool) (Statement, *Error) {
	var s Statement
	for _, k := range sortedKeys(m) {
		switch k {
		case "Sid", "Effect", "Action", "NotAction", "Resource", "NotResource", "Principal", "NotPrincipal", "Condition":
		default:
			return s, malformed(path+"."+k, "Unknown field %s", k)
		}
	}
	if v, ok := m["Sid"]; ok {
		sid, isStr := v.(string)
		if !isStr {
			return s, malformed(path+".Sid", errSyntax)
		}
		// IAM restricts Sids of the policies it stores; resource-based
		// policies of other services accept any string.
		if (kind.identityBased() || kind == KindTrust) && !sidOK(sid) {
			return s, malformed(path+".Sid", "Statement IDs (SID) must be alpha-numeric. Check that your input satisfies the regular expression [0-9A-Za-z]*")
		}
		s.Sid = sid
	}
	ev, ok := m["Effect"]
	if !ok {
		return s, malformed(path, "Missing required field Effect")
	}
	switch ev {
	case "Allow":
		s.Effect = EffectAllow
	case "Deny":
		s.Effect = EffectDeny
	default:
		str, _ := ev.(string)
		return s, malformed(path+".Effect", "Invalid effect: %s", str)
	}

	// Action / NotAction
	a, hasA := m["Action"]
	na, hasNA := m["NotAction"]
	switch {
	case hasA && hasNA:
		return s, malformed(path, errSyntax)
	case !hasA && !hasNA:
		return s, malformed(path, "Policy statement must contain actions.")
	}
	el := "Action"
	if hasNA {
		a, el, s.notAction = na, "NotAction", true
	}
	acts, err := stringList(a, path+"."+el)
	if err != nil {
		return s, err
	}
	if len(acts) == 0 {
		return s, malformed(path+"."+el, "Policy statement must contain actions.")
	}
	for i, act := range acts {
		if e := checkAction(act, path+"."+el+"["+strconv.Itoa(i)+"]"); e != nil {
			return s, e
		}
		s.actions = append(s.actions, strings.ToLower(act))
	}

	// Resource / NotResource
	r, hasR := m["Resource"]
	nr, hasNR := m["NotResource"]
	switch {
	case hasR && hasNR:
		return s, malformed(path, errSyntax)
	case kind == KindTrust && (hasR || hasNR):
		f := "Resource"
		if hasNR {
			f = "NotResource"
		}
		return s, malformed(path+"."+f, "Has prohibited field %s", f)
	case !hasR && !hasNR && kind != KindTrust:
		return s, malformed(path, "Policy statement must contain resources.")
	}
	if hasR || hasNR {
		el = "Resource"
		if hasNR {
			r, el, s.notResource = nr, "NotResource", true
		}
		s.hasResource = true
		res, err := stringList(r, path+"."+el)
		if err != nil {
			return s, err
		}
		if len(res) == 0 {
			return s, malformed(path+"."+el, "Policy statement must contain resources.")
		}
		for i, rs := range res {
			if !resourceOK(rs) {
				return s, malformed(path+"."+el+"["+strconv.Itoa(i)+"]", "Resource %s must be in ARN format or \"*\".", rs)
			}
			s.resources = append(s.resources, compileTmpl(rs, vars, true))
		}
	}

	// Principal / NotPrincipal
	pr, hasP := m["Principal"]
	npr, hasNP := m["NotPrincipal"]
	switch {
	case hasP && hasNP:
		return s, malformed(path, errSyntax)
	case (hasP || hasNP) && kind.identityBased():
		return s, malformed(path, "Policy document should not specify a principal.")
	case !hasP && !hasNP && kind.resourceBased():
		return s, malformed(path, "Missing required field Principal")
	}
	if hasP || hasNP {
		el = "Principal"
		if hasNP {
			pr, el, s.notPrincipal = npr, "NotPrincipal", true
		}
		s.hasPrincipal = true
		ps, err := parsePrincipals(pr, path+"."+el)
		if err != nil {
			return s, err
		}
		s.principals = ps
	}

	if c, ok := m["Condition"]; ok {
		conds, err := parseConditions(c, path+".Condition", vars)
		if err != nil {
			return s, err
		}
		s.conds = conds
	}
	return s, nil
}

// checkAction validates "*" or "prefix:name-pattern".
func checkAction(act, path string) *Error {
	if act == "*" {
		return nil
	}
	i := strings.IndexByte(act, ':')
	if i <= 0 {
		return malformed(path, "Actions/Conditions must be prefixed by a valid namespace prefix.")
	}
	if strings.IndexByte(act[i+1:], ':') >= 0 {
		return malformed(path, "Actions/Condition can contain only one colon.")
	}
	for j := 0; j < i; j++ {
		c := act[j]
		if !('a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' || '0' <= c && c <= '9' || c == '-' || c == '*' || c == '?') {
			return malformed(path, "Vendor %s is not valid", act[:i])
		}
	}
	return nil
}

func parsePrincipals(v any, path string) (principals, *Error) {
	var ps principals
	if s, ok := v.(string); ok {
		if s != "*" {
			return ps, malformed(path, "Invalid principal in policy: %q", s)
		}
		ps.any = true
		return ps, nil
	}
	m, ok := v.(map[string]any)
	if !ok || len(m) == 0 {
		return ps, malformed(path, errSyntax)
	}
	for _, k := range sortedKeys(m) {
		vals, err := stringList(m[k], path+"."+k)
		if err != nil {
			return ps, err
		}
		for _, val := range vals {
			bad := func() *Error {
				return malformed(path+"."+k, "Invalid principal in policy: \"%s\":\"%s\"", k, val)
			}
			switch k {
			case "AWS":
				switch {
				case val == "*":
					ps.any = true
				case arn.IsAccountID(val):
					ps.accounts = append(ps.accounts, val)
				case strings.HasPrefix(val, "arn:"):
					a, e := arn.Parse(val)
					if e != nil || (a.Service != "iam" && a.Service != "sts") || !arn.IsAccountID(a.AccountID) {
						return ps, bad()
					}
					if a.Service == "iam" && a.Resource == "root" {
						ps.accounts = append(ps.accounts, a.AccountID)
					} else {
						ps.arns = append(ps.arns, val)
					}
				default:
					return ps, bad()
				}
			case "Service":
				if val == "" {
					return ps, bad()
				}
				ps.services = append(ps.services, val)
			case "Federated":
				if val == "" {
					return ps, bad()
				}
				ps.federated = append(ps.federated, val)
			case "CanonicalUser":
				if val == "" {
					return ps, bad()
				}
				ps.canonical = append(ps.canonical, val)
			default:
				return ps, malformed(path+"."+k, "Invalid principal in policy: \"%s\"", k)
			}
		}
	}
	return ps, nil
}

// index builds the action index. A statement is indexed under every service
// prefix of its Action patterns when every prefix is literal; statements
// with NotAction or a wildcard in a prefix go to the always-visited list.
func (p *Policy) index() {
	p.byService = map[string][]int32{}
	for i := range p.stmts {
		s := &p.stmts[i]
		literal := !s.notAction
		if literal {
			for _, a := range s.actions {
				j := strings.IndexByte(a, ':')
				if j < 0 || strings.ContainsAny(a[:j], "*?") {
					literal = false
					break
				}
			}
		}
		if !literal {
			p.wild = append(p.wild, int32(i))
			continue
		}
		var seen []string
		for _, a := range s.actions {
			svc := a[:strings.IndexByte(a, ':')]
			if slices.Contains(seen, svc) {
				continue
			}
			seen = append(seen, svc)
			p.byService[svc] = append(p.byService[svc], int32(i))
		}
	}
}

// resourceOK accepts "*", an ARN with its six fields, and wildcard patterns
// that can match ARNs ("*:::::-old", "arn:aws:s3:::*").
func resourceOK(rs string) bool {
	if strings.Count(rs, ":") >= 5 && (strings.HasPrefix(rs, "arn:") || rs[0] == '*' || rs[0] == '?') {
		return true
	}
	return strings.HasPrefix(rs, "*") || strings.HasPrefix(rs, "arn:") && strings.HasSuffix(rs, "*")
}
