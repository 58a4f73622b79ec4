package policy

import (
	"fmt"
	"math/rand/v2"
	"slices"
	"strings"
	"testing"
)

// ctxKeys are the keys the context tests set and look up: global keys in
// several spellings, pairs that share a bit of Context.seen, and the empty
// key.
var ctxKeys = func() []string {
	ks := []string{"aws:username", "AWS:UserName", "aws:principaltype", "aws:PrincipalOrgID", "aws:principalaccount",
		"aws:EpochTime", "aws:MultiFactorAuthPresent", "aws:SourceIp", "aws:TagKeys", "kms:EncryptionContextKeys",
		"aws:PrincipalTag/team", "aws:principaltag/TEAM", "s3:prefix", ""}
	return ks
}()

func TestContextBitsCollide(t *testing.T) {
	// The model test below must exercise keys that share a bit.
	if keyBit("aws:principaltype") != keyBit("aws:principalorgid") || keyBit("aws:principalaccount") != keyBit("aws:epochtime") {
		t.Fatal("the test keys no longer collide in Context.seen; pick others")
	}
}

// TestContextModel drives one reused Context (Reset between rounds) and a
// map through the same random Sets, SetMultis and Deletes, and compares
// every lookup: a key from an earlier round never shows through, and the
// Bloom filter never hides a key.
func TestContextModel(t *testing.T) {
	r := rand.New(rand.NewPCG(3, 4))
	type val struct {
		vs    []string
		multi bool
	}
	var c Context
	for round := range 2000 {
		model := map[string]val{}
		for range r.IntN(20) {
			k := ctxKeys[r.IntN(len(ctxKeys))]
			switch r.IntN(5) {
			case 0:
				c.Delete(k)
				delete(model, strings.ToLower(k))
			case 1:
				vs := []string{fmt.Sprint(round), "x"}[:r.IntN(3)]
				c.SetMulti(k, vs...)
				model[strings.ToLower(k)] = val{vs, true}
			default:
				v := fmt.Sprintf("%d-%d", round, r.IntN(100))
				c.Set(k, v)
				model[strings.ToLower(k)] = val{[]string{v}, false}
			}
		}
		if c.Len() != len(model) {
			t.Fatalf("round %d: Len %d, want %d", round, c.Len(), len(model))
		}
		for _, k := range append(ctxKeys, "aws:absent", "AWS:SOURCEIP") {
			got, multi, ok := c.Get(k)
			want, wok := model[strings.ToLower(k)]
			if ok != wok || multi != want.multi || !slices.Equal(got, want.vs) {
				t.Fatalf("round %d: Get(%q) = %v %v %v, want %v %v %v", round, k, got, multi, ok, want.vs, want.multi, wok)
			}
		}
		c.Reset()
		if c.Len() != 0 {
			t.Fatalf("round %d: Len %d after Reset", round, c.Len())
		}
		// Reset keeps the storage but none of the strings it held.
		for _, e := range c.entries[:cap(c.entries)] {
			if e.key != "" || e.single != "" || e.multi != nil || e.isMult {
				t.Fatalf("round %d: Reset left %+v", round, e)
			}
		}
	}
}

// TestContextReuseDecisions evaluates random requests A then B through one
// reused Context and compares each decision and explanation with a fresh
// context's: reuse never leaks A's keys into B.
func TestContextReuseDecisions(t *testing.T) {
	r := rand.New(rand.NewPCG(5, 6))
	n := 1000
	if testing.Short() {
		n = 100
	}
	var reused Context
	fill := func(dst *Context, src *Context) {
		dst.Reset()
		for _, e := range src.entries {
			if e.isMult {
				dst.SetMulti(e.key, e.multi...)
			} else {
				dst.Set(e.key, e.single)
			}
		}
	}
	differ := 0
	for i := range n {
		in := genInputs(r).build(t)
		a, b := genRequest(r), genRequest(r)
		da, db := Evaluate(a, in), Evaluate(b, in)
		if da.Result != db.Result {
			differ++
		}
		for _, c := range []struct {
			req  *Request
			want Decision
		}{{a, da}, {b, db}} {
			q := *c.req
			fill(&reused, c.req.Context)
			q.Context = &reused
			got := Evaluate(&q, in)
			if got.Result != c.want.Result || got.Message(&q) != c.want.Message(c.req) ||
				fmt.Sprint(got.Statements()) != fmt.Sprint(c.want.Statements()) {
				t.Fatalf("case %d: reused context decided %v (%s), fresh %v (%s)", i, got.Result, got.Message(&q), c.want.Result, c.want.Message(c.req))
			}
		}
	}
	if differ == 0 {
		t.Fatal("generator is degenerate: A and B always decided alike")
	}
}
