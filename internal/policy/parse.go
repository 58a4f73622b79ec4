package policy

import (
	"bytes"
	"encoding/json"
	"errors"
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
// concurrent use. Statements are pre-indexed by the service prefix and the
// literal names or pattern prefixes of their actions, so evaluation does not
// visit statements whose Action cannot match.
type Policy struct {
	name    string
	kind    Kind
	version string // "" when the document has no Version
	id      string
	vars    bool // policy variables are substituted (Version 2012-10-17)
	stmts   []Statement
	size    int

	byService map[string]*svcIndex // lower-case service prefix → its action index
	wild      []int32              // statements whose actions cannot be indexed (see index)
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
// problem. Size quotas are checked first ([Kind.SizeLimit]); KindAWSManaged
// has none.
func Parse(doc []byte, kind Kind) (*Policy, error) {
	size := CountSize(doc)
	if lim := kind.SizeLimit(); lim > 0 && size > lim {
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

func parse(doc []byte, kind Kind, strict bool) (*Policy, error) {
	iam := kind.iamValidated()
	dec := json.NewDecoder(bytes.NewReader(doc))
	dec.UseNumber()
	var v any
	err := dec.Decode(&v)
	if err == nil && len(bytes.TrimSpace(doc[dec.InputOffset():])) > 0 {
		err = errTrailing
	}
	if err != nil {
		// CreateRole and UpdateAssumeRolePolicy word text that is not
		// JSON differently from the other IAM operations.
		if kind == KindTrust {
			return nil, malformed("", errInvalidJSON)
		}
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
			if iam {
				return nil, malformed(k, errSyntax)
			}
			return nil, malformed(k, "Unknown field %s", k)
		}
	}
	if ver, ok := top["Version"]; ok {
		s, isStr := ver.(string)
		if !isStr || (s != Version2012 && s != Version2008) {
			if iam {
				return nil, malformed("Version", errSyntax)
			}
			return nil, malformed("Version", errLegacy)
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
	switch {
	case !ok && iam:
		return nil, malformed("", errSyntax)
	case !ok:
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

	// The stages of validation (see validate.go), each over every
	// statement: syntax, the legacy parser (IAM), unique statement ids, then
	// the rest statement by statement.
	raws := make([]rawStatement, len(list))
	for i, raw := range list {
		path := "Statement"
		if !single {
			path = "Statement[" + strconv.Itoa(i) + "]"
		}
		rs, err := checkSyntax(raw, path, kind)
		if err != nil {
			return nil, err
		}
		raws[i] = rs
	}
	if iam {
		for i := range raws {
			if err := checkLegacy(&raws[i]); err != nil {
				return nil, err
			}
		}
	}
	sids := map[string]bool{}
	for i := range raws {
		if sid := raws[i].sid; sid != "" {
			if sids[sid] {
				return nil, malformed(raws[i].path+".Sid", errSidUnique)
			}
			sids[sid] = true
		}
	}
	p.stmts = make([]Statement, 0, len(raws))
	for i := range raws {
		s, err := parseStatement(&raws[i], kind, p.vars)
		if err != nil {
			return nil, err
		}
		p.stmts = append(p.stmts, s)
	}
	p.index()
	return p, nil
}

var errTrailing = errors.New("data after the JSON document")

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

// parseStatement checks and compiles what the earlier stages left: the
// Sid's characters, actions and resources present and well formed, action
// vendors, the Principal element as the kind requires, and condition
// operators, keys and values.
func parseStatement(rs *rawStatement, kind Kind, vars bool) (Statement, *Error) {
	s := Statement{Sid: rs.sid}
	path := rs.path
	if rs.effect == "Deny" {
		s.Effect = EffectDeny
	}
	// IAM restricts Sids of the policies it stores; resource-based policies
	// of other services accept any string.
	if (kind.identityBased() || kind == KindTrust) && !sidOK(rs.sid) {
		return s, malformed(path+".Sid", errSidChars)
	}

	// Action / NotAction: present, then (after resources) well formed.
	if rs.actEl == "" {
		return s, malformed(path, errNoActions)
	}
	if len(rs.acts) == 0 {
		return s, malformed(path+"."+rs.actEl, errNoActions)
	}
	s.notAction = rs.actEl == "NotAction"

	// Resource / NotResource
	switch {
	case kind == KindTrust && rs.resEl != "":
		return s, malformed(path+"."+rs.resEl, "Has prohibited field %s", rs.resEl)
	case rs.resEl == "" && kind != KindTrust:
		return s, malformed(path, errNoResources)
	}
	if rs.resEl != "" {
		s.hasResource, s.notResource = true, rs.resEl == "NotResource"
		if len(rs.res) == 0 {
			return s, malformed(path+"."+rs.resEl, errNoResources)
		}
		for i, r := range rs.res {
			if msg := checkResource(r, kind); msg != "" {
				return s, malformed(path+"."+rs.resEl+"["+strconv.Itoa(i)+"]", "%s", msg)
			}
			s.resources = append(s.resources, compileTmpl(r, vars, true))
		}
	}

	for i, act := range rs.acts {
		if e := checkAction(act, path+"."+rs.actEl+"["+strconv.Itoa(i)+"]", kind); e != nil {
			return s, e
		}
		s.actions = append(s.actions, strings.ToLower(act))
	}

	// Principal / NotPrincipal
	switch {
	case rs.prEl != "" && kind.identityBased():
		return s, malformed(path, errNoPrincipalID)
	case rs.prEl == "" && kind.resourceBased():
		return s, malformed(path, "Missing required field Principal")
	}
	if rs.prEl != "" {
		s.hasPrincipal, s.notPrincipal = true, rs.prEl == "NotPrincipal"
		ps, err := parsePrincipals(rs.pr, path+"."+rs.prEl)
		if err != nil {
			return s, err
		}
		s.principals = ps
	}

	conds, err := parseConditions(rs.conds, path+".Condition", vars)
	if err != nil {
		return s, err
	}
	s.conds = conds
	return s, nil
}

// checkAction validates "*" or "vendor:name-pattern". A vendor has
// letters, digits, "-" and "."; IAM refuses wildcards in it, other services
// match them.
func checkAction(act, path string, kind Kind) *Error {
	if act == "*" {
		return nil
	}
	i := strings.IndexByte(act, ':')
	if i <= 0 {
		return malformed(path, errNoVendor)
	}
	if strings.IndexByte(act[i+1:], ':') >= 0 {
		return malformed(path, errOneColon)
	}
	vendor := act[:i]
	if kind.iamValidated() && strings.ContainsAny(vendor, "*?") {
		return malformed(path, errVendorWild)
	}
	for j := 0; j < len(vendor); j++ {
		c := vendor[j]
		if !('a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' || '0' <= c && c <= '9' || c == '-' || c == '.' || c == '*' || c == '?') {
			return malformed(path, "Vendor %s is not valid", vendor)
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

// checkResource returns why r cannot be a Resource of a policy of kind,
// or "". It accepts "*", an ARN with its six fields, and wildcard patterns
// that can match ARNs ("*:::::-old", "arn:aws:s3:::*"). IAM also refuses a
// region in the ARNs of IAM and of S3 buckets and objects, which have none.
func checkResource(r string, kind Kind) string {
	if !resourceOK(r) {
		return "Resource " + r + ` must be in ARN format or "*".`
	}
	if !kind.iamValidated() || !strings.HasPrefix(r, "arn:") {
		return ""
	}
	a, err := arn.Parse(r)
	if err != nil || a.Region == "" {
		return ""
	}
	switch {
	case a.Service == "iam":
		return "IAM resource " + r + " cannot contain region information."
	case a.Service == "s3" && a.AccountID == "":
		return "Resource " + r + " can not contain region information."
	}
	return ""
}

// resourceOK accepts "*", an ARN with its six fields, and wildcard patterns
// that can match ARNs ("*:::::-old", "arn:aws:s3:::*").
func resourceOK(rs string) bool {
	if strings.Count(rs, ":") >= 5 && (strings.HasPrefix(rs, "arn:") || rs[0] == '*' || rs[0] == '?') {
		return true
	}
	return strings.HasPrefix(rs, "*") || strings.HasPrefix(rs, "arn:") && strings.HasSuffix(rs, "*")
}
