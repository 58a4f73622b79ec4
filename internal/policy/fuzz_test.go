package policy

import (
	"testing"
)

var fuzzKinds = []Kind{KindManaged, KindResource, KindTrust, KindSCP, KindRCP, KindKeyPolicy}

// FuzzParse: Parse never panics, and whatever it accepts can be linted and
// evaluated without panicking.
func FuzzParse(f *testing.F) {
	f.Add([]byte(allowAll), uint8(0))
	f.Add([]byte(`{"Version":"2012-10-17","Statement":{"Effect":"Deny","Principal":{"AWS":"111111111111"},"NotAction":"s3:*","NotResource":"arn:aws:s3:::b/${aws:username}/*","Condition":{"ForAnyValue:StringLike":{"aws:TagKeys":"a*"}}}}`), uint8(1))
	f.Fuzz(func(t *testing.T, doc []byte, k uint8) {
		kind := fuzzKinds[int(k)%len(fuzzKinds)]
		p, err := Parse(doc, kind)
		if err != nil {
			if _, ok := err.(*Error); !ok {
				t.Fatalf("error %T is not *Error", err)
			}
			return
		}
		Lint(p)
		ctx := NewContext(2)
		ctx.Set("aws:username", "u")
		ctx.SetMulti("aws:TagKeys", "a", "b")
		req := &Request{Principal: user("u"), Action: "s3:GetObject", Resource: "arn:aws:s3:::b/u/k", Context: ctx}
		in := &Input{Identity: []*Policy{p}}
		if kind.resourceBased() {
			in = &Input{Resource: p, RCPs: [][]*Policy{{p}}}
		}
		if a, b := Evaluate(req, in), Evaluate(req, in); a != b {
			t.Fatal("nondeterministic")
		}
	})
}

// FuzzEvaluate: evaluation of arbitrary requests against arbitrary (valid)
// policies never panics, is deterministic, and decides as it would without
// the action index (every statement visited).
func FuzzEvaluate(f *testing.F) {
	f.Add(`{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"s3:Get*","Resource":"arn:aws:s3:::b/${aws:username}/*","Condition":{"IpAddress":{"aws:SourceIp":"10.0.0.0/8"}}}]}`,
		"s3:GetObject", "arn:aws:s3:::b/alice/x", "aws:SourceIp", "10.1.2.3")
	f.Add(`{"Version":"2012-10-17","Statement":[{"Effect":"Deny","Action":"*","Resource":"*","Condition":{"DateLessThan":{"aws:CurrentTime":"2025-01-01T00:00:00Z"}}}]}`,
		"kms:Decrypt", "*", "aws:CurrentTime", "2024-12-31T23:59:59Z")
	f.Add(`{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":["s3:GetO*","s3:Get?bject","s3:PutObject"],"Resource":"*"},{"Effect":"Deny","NotAction":"s3:Get*","Resource":"*"}]}`,
		"S3:GETOBJECT", "*", "aws:username", "u")
	f.Fuzz(func(t *testing.T, doc, action, resource, key, value string) {
		p, err := Parse([]byte(doc), KindManaged)
		if err != nil {
			return
		}
		ctx := NewContext(2)
		ctx.Set(key, value)
		ctx.Set("aws:username", value)
		req := &Request{Principal: user("alice"), Action: action, Resource: resource, Context: ctx}
		in := &Input{Identity: []*Policy{p}, Boundary: p, SCPs: [][]*Policy{{p}}}
		a := Evaluate(req, in)
		if b := Evaluate(req, in); a != b {
			t.Fatal("nondeterministic")
		}
		_ = a.Message(req)
		u := unindexed(p)
		if b := Evaluate(req, &Input{Identity: []*Policy{u}, Boundary: u, SCPs: [][]*Policy{{u}}}); a.Result != b.Result || a.Type != b.Type {
			t.Fatalf("indexed %v (%v), unindexed %v (%v)", a.Result, a.Type, b.Result, b.Type)
		}
	})
}

// unindexed returns a copy of p whose statements are all on the
// always-visited list.
func unindexed(p *Policy) *Policy {
	c := *p
	c.byService, c.wild = nil, nil
	for i := range c.stmts {
		c.wild = append(c.wild, int32(i))
	}
	return &c
}
