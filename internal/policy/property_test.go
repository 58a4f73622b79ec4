package policy

import (
	"encoding/json"
	"fmt"
	"math/rand/v2"
	"testing"
)

// A small random policy grammar over a few actions, resources and
// condition keys, so that generated statements often match.
var (
	genActions   = []string{"s3:GetObject", "s3:Get*", "s3:*", "kms:Decrypt", "*", "s3:PutObject", "kms:*"}
	genResources = []string{"*", "arn:aws:s3:::b/*", "arn:aws:s3:::b/k", "arn:aws:s3:::c/*", "arn:aws:kms:*:111111111111:key/*", "arn:aws:s3:::b/${aws:username}"}
	genConds     = []string{
		`{"StringEquals":{"aws:PrincipalTag/team":"blue"}}`,
		`{"StringNotEquals":{"aws:RequestedRegion":"us-east-1"}}`,
		`{"IpAddress":{"aws:SourceIp":"10.0.0.0/8"}}`,
		`{"BoolIfExists":{"aws:SecureTransport":"true"}}`,
		`{"ForAllValues:StringEquals":{"aws:TagKeys":["a","b"]}}`,
		`{"Null":{"aws:TokenIssueTime":"true"}}`,
	}
)

type genStmt map[string]any

func genStatement(r *rand.Rand, effect string) genStmt {
	s := genStmt{"Effect": effect}
	acts := []string{genActions[r.IntN(len(genActions))]}
	if r.IntN(3) == 0 {
		acts = append(acts, genActions[r.IntN(len(genActions))])
	}
	if r.IntN(6) == 0 {
		s["NotAction"] = acts
	} else {
		s["Action"] = acts
	}
	res := genResources[r.IntN(len(genResources))]
	if r.IntN(6) == 0 {
		s["NotResource"] = res
	} else {
		s["Resource"] = res
	}
	if r.IntN(2) == 0 {
		s["Condition"] = json.RawMessage(genConds[r.IntN(len(genConds))])
	}
	return s
}

func genEffect(r *rand.Rand) string {
	if r.IntN(3) == 0 {
		return "Deny"
	}
	return "Allow"
}

func mustDoc(t *testing.T, stmts []genStmt) *Policy {
	t.Helper()
	b, err := json.Marshal(map[string]any{"Version": "2012-10-17", "Statement": stmts})
	if err != nil {
		t.Fatal(err)
	}
	p, err := Parse(b, KindManaged)
	if err != nil {
		t.Fatalf("%s: %v", b, err)
	}
	return p
}

func genRequest(r *rand.Rand) *Request {
	ctx := NewContext(6)
	if r.IntN(2) == 0 {
		ctx.Set("aws:PrincipalTag/team", []string{"blue", "red"}[r.IntN(2)])
	}
	if r.IntN(2) == 0 {
		ctx.Set("aws:RequestedRegion", []string{"us-east-1", "eu-west-1"}[r.IntN(2)])
	}
	if r.IntN(2) == 0 {
		ctx.Set("aws:SourceIp", []string{"10.1.2.3", "192.168.0.1"}[r.IntN(2)])
	}
	if r.IntN(2) == 0 {
		ctx.SetMulti("aws:TagKeys", []string{"a", "c"}[:1+r.IntN(2)]...)
	}
	if r.IntN(2) == 0 {
		ctx.Set("aws:username", "k")
	}
	acts := []string{"s3:GetObject", "s3:PutObject", "kms:Decrypt"}
	res := []string{"arn:aws:s3:::b/k", "arn:aws:s3:::c/x", "arn:aws:kms:us-east-1:111111111111:key/1", "*"}
	return &Request{Principal: user("k"), Action: acts[r.IntN(len(acts))], Resource: res[r.IntN(len(res))],
		ResourceAccount: acct, Context: ctx}
}

type genInput struct {
	identity [][]genStmt
	boundary []genStmt
	scp      [][]genStmt
}

func genInputs(r *rand.Rand) genInput {
	var g genInput
	for i := 0; i < 1+r.IntN(3); i++ {
		var p []genStmt
		for j := 0; j < 1+r.IntN(4); j++ {
			p = append(p, genStatement(r, genEffect(r)))
		}
		g.identity = append(g.identity, p)
	}
	if r.IntN(3) == 0 {
		g.boundary = []genStmt{genStatement(r, "Allow"), genStatement(r, genEffect(r))}
	}
	if r.IntN(3) == 0 {
		g.scp = [][]genStmt{{{"Effect": "Allow", "Action": "*", "Resource": "*"}}, {genStatement(r, "Allow"), genStatement(r, genEffect(r))}}
	}
	return g
}

func (g genInput) build(t *testing.T) *Input {
	in := &Input{}
	for _, p := range g.identity {
		in.Identity = append(in.Identity, mustDoc(t, p))
	}
	if g.boundary != nil {
		in.Boundary = mustDoc(t, g.boundary)
	}
	if g.scp != nil {
		in.SCPs = [][]*Policy{{mustDoc(t, g.scp[0])}, {mustDoc(t, g.scp[1])}}
	}
	return in
}

func clone(g genInput) genInput {
	var c genInput
	for _, p := range g.identity {
		c.identity = append(c.identity, append([]genStmt(nil), p...))
	}
	c.boundary = append([]genStmt(nil), g.boundary...)
	if g.boundary == nil {
		c.boundary = nil
	}
	c.scp = g.scp
	return c
}

// TestProperties checks, on random policies and requests, that adding a
// Deny never turns a denial into an allow, that removing an Allow never
// turns a denial into an allow, and that statement order never matters.
func TestProperties(t *testing.T) {
	r := rand.New(rand.NewPCG(1, 2))
	n := 2000
	if testing.Short() {
		n = 200
	}
	allows := 0
	for i := 0; i < n; i++ {
		g := genInputs(r)
		req := genRequest(r)
		base := Evaluate(req, g.build(t)).Result
		if base == Allow {
			allows++
		}
		where := fmt.Sprintf("case %d", i)

		// Adding a Deny statement.
		add := clone(g)
		k := r.IntN(len(add.identity))
		add.identity[k] = append(add.identity[k], genStatement(r, "Deny"))
		if got := Evaluate(req, add.build(t)).Result; base != Allow && got == Allow {
			t.Fatalf("%s: adding a Deny turned %v into Allow", where, base)
		}

		// Removing an Allow statement.
		rm := clone(g)
		for pi, p := range rm.identity {
			for si, s := range p {
				if s["Effect"] == "Allow" && len(p) > 1 {
					rm.identity[pi] = append(p[:si:si], p[si+1:]...)
					goto removed
				}
			}
		}
	removed:
		if got := Evaluate(req, rm.build(t)).Result; base != Allow && got == Allow {
			t.Fatalf("%s: removing an Allow turned %v into Allow", where, base)
		}

		// Statement order and policy order.
		sh := clone(g)
		for _, p := range sh.identity {
			r.Shuffle(len(p), func(a, b int) { p[a], p[b] = p[b], p[a] })
		}
		r.Shuffle(len(sh.identity), func(a, b int) { sh.identity[a], sh.identity[b] = sh.identity[b], sh.identity[a] })
		r.Shuffle(len(sh.boundary), func(a, b int) { sh.boundary[a], sh.boundary[b] = sh.boundary[b], sh.boundary[a] })
		if got := Evaluate(req, sh.build(t)).Result; got != base {
			t.Fatalf("%s: reordering changed %v into %v", where, base, got)
		}
	}
	if allows == 0 || allows == n {
		t.Fatalf("generator is degenerate: %d/%d allowed", allows, n)
	}
}
