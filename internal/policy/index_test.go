package policy

import (
	"fmt"
	"slices"
	"strconv"
	"strings"
	"testing"
)

// indexPatterns mixes literal names, patterns with prefixes of every
// length, wildcards in the service prefix, case differences and NotAction.
var indexPatterns = []string{
	"s3:GetObject", "s3:getobject", "S3:GETOBJECT*", "s3:Get*", "s3:GetO*", "s3:G?t*", "s3:*", "s3:Get?bject",
	"s3:", "s*:Get*", "*", "kms:*", "kms:Decrypt", "s3:GetObjectAcl", "s3:Get0*", "s3:List*", "iam:Pass*",
	"s3:GetObject*", "?3:GetObject", "s3:PutObject", "s3:Get", "s3:é*", "s3:Éx",
}

var indexActions = []string{
	"s3:GetObject", "S3:GETOBJECT", "s3:GetObjectAcl", "s3:Get", "s3:", "s3:GetObject:extra", "kms:Decrypt",
	"KMS:decrypt", "sqs:SendMessage", "nocolon", "s3:G", "s3:Gxt", "s3:Get0bject", "s3:ListBuckets", "iam:PassRole",
	"s3:PutObject", "s3:éx", "s3:Éx", "s3:" + strings.Repeat("a", 200), "s3:GetObject" + strings.Repeat("x", 120),
	"x3:GetObject", "", ":", "s3:getobjec",
}

// TestActionIndexVisitsEveryMatch: for every action, a statement granting
// to "*" allows a request for its own resource exactly when its Action (or
// NotAction) element covers the action, so the index never hides a statement that can
// match, whatever the mix of literal names, patterns and NotAction in the
// policy.
func TestActionIndexVisitsEveryMatch(t *testing.T) {
	var stmts []string
	var acts [][]string
	var not []bool
	for i, p := range indexPatterns {
		// Each pattern alone, with a neighbour, and negated.
		next := indexPatterns[(i+5)%len(indexPatterns)]
		for _, set := range [][]string{{p}, {p, next}} {
			for _, n := range []bool{false, true} {
				el := "Action"
				if n {
					el = "NotAction"
				}
				q, _ := jsonStrings(set)
				stmts = append(stmts, fmt.Sprintf(`{"Effect":"Allow","Principal":"*",%q:%s,"Resource":"arn:aws:s3:::b/%d"}`, el, q, len(stmts)))
				acts, not = append(acts, set), append(not, n)
			}
		}
	}
	// A resource policy: IAM refuses wildcards in action vendors, other
	// services' policies match them.
	pol := MustParse(`{"Version":"2012-10-17","Statement":[`+strings.Join(stmts, ",")+`]}`, KindResource)
	in := &Input{Resource: pol}
	checked := 0
	for _, a := range indexActions {
		for i := range stmts {
			req := &Request{Principal: user("dev"), Action: a, Resource: "arn:aws:s3:::b/" + strconv.Itoa(i), ResourceAccount: acct}
			got := Evaluate(req, in).Result == Allow
			if want := pol.stmts[i].AppliesTo(a); got != want {
				t.Errorf("action %q, statement %d (%s %v): allowed %v, want %v", a, i, map[bool]string{true: "NotAction", false: "Action"}[not[i]], acts[i], got, want)
			}
			checked++
		}
	}
	if checked < 2000 {
		t.Fatalf("only %d checks", checked)
	}
}

func jsonStrings(s []string) (string, error) {
	q := make([]string, len(s))
	for i, v := range s {
		q[i] = strconv.Quote(v)
	}
	return "[" + strings.Join(q, ",") + "]", nil
}

// TestActionIndexKeys: what Parse indexes each statement under, and that a
// statement is listed once for any action (keys covered by another key of
// the same statement are dropped).
func TestActionIndexKeys(t *testing.T) {
	doc := `{"Version":"2012-10-17","Statement":[
		{"Effect":"Allow","Principal":"*","Action":["s3:GetObject","s3:Get*","s3:GetO*","s3:Get?bject","s3:GET*"],"Resource":"*"},
		{"Effect":"Allow","Principal":"*","Action":["s3:GetObject","S3:getobject","s3:PutObject","kms:Decrypt"],"Resource":"*"},
		{"Effect":"Allow","Principal":"*","Action":["s3:List*","s3:ListBucket","s3:Get?bjectAcl"],"Resource":"*"},
		{"Effect":"Allow","Principal":"*","Action":["s3:*","s3:GetObject"],"Resource":"*"},
		{"Effect":"Allow","Principal":"*","NotAction":"s3:GetObject","Resource":"*"},
		{"Effect":"Allow","Principal":"*","Action":["kms:Decrypt","s*:Get*"],"Resource":"*"},
		{"Effect":"Allow","Principal":"*","Action":"*","Resource":"*"},
		{"Effect":"Allow","Principal":"*","Action":["s3:Describe","s3:Describe*","s3:describe","s3:DESCRIBE*"],"Resource":"*"}]}`
	p := MustParse(doc, KindResource)
	type entry struct {
		names, prefixes map[string][]stmtRef
	}
	got := map[string]entry{}
	for svc, ix := range p.byService {
		e := entry{map[string][]stmtRef{}, map[string][]stmtRef{}}
		for k, n := range ix.names {
			e.names[n] = ix.named[k]
		}
		for k, n := range ix.prefixes {
			e.prefixes[n] = ix.prefixed[k]
		}
		if !slices.IsSorted(ix.names) || !slices.IsSorted(ix.prefixes) {
			t.Errorf("%s: keys not sorted: %q %q", svc, ix.names, ix.prefixes)
		}
		got[svc] = e
	}
	// sure: the key alone proves the Action matches (a literal name, or a
	// prefix followed by a single trailing "*").
	want := map[string]entry{
		"s3": {
			names:    map[string][]stmtRef{"getobject": {{1, true}}, "putobject": {{1, true}}},
			prefixes: map[string][]stmtRef{"get": {{0, true}, {2, false}}, "list": {{2, true}}, "": {{3, true}}, "describe": {{7, true}}},
		},
		"kms": {names: map[string][]stmtRef{"decrypt": {{1, true}}}, prefixes: map[string][]stmtRef{}},
	}
	if fmt.Sprint(got) != fmt.Sprint(want) {
		t.Errorf("index\n got %v\nwant %v", got, want)
	}
	if !slices.Equal(p.wild, []int32{4, 5, 6}) {
		t.Errorf("wild = %v", p.wild)
	}
	// Within a statement a prefix sorts before the literal name it covers,
	// which the one-pass covering relies on.
	exact, prefix := actionKey{svc: "s3", name: "get"}, actionKey{svc: "s3", name: "get", prefix: true}
	if compareKeys(prefix, exact) >= 0 || compareKeys(exact, prefix) <= 0 || compareKeys(exact, exact) != 0 {
		t.Error("compareKeys does not put a prefix before its literal name")
	}
}
