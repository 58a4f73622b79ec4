package corpus

import (
	"bytes"
	"encoding/json"
	"os"
	"strings"
	"testing"

	"github.com/rampart/rampart/internal/policy"
)

func TestRun(t *testing.T) {
	f, err := os.Open("../testdata/rampart-cases.jsonl")
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	var out bytes.Buffer
	if err := Run(f, &out, false); err != nil {
		t.Fatal(err)
	}
	first := strings.SplitN(out.String(), "\n", 2)[0]
	if first != `{"id":"r-action-case","decision":"Allow"}` {
		t.Fatal(first)
	}
	in := `{"id":"x","request":{"principal":"arn:aws:iam::111111111111:user/a","action":"s3:GetObject","resource":"arn:aws:s3:::b/k","resourceAccount":"111111111111","context":{"aws:MultiFactorAuthAge":300,"aws:TagKeys":["a",1]}},"identityPolicies":[],"permissionsBoundary":null,"sessionPolicy":null,"resourcePolicy":null,"scps":[],"rcps":[],"expect":"ImplicitDeny"}` + "\n\n"
	out.Reset()
	if err := Run(strings.NewReader(in), &out, true); err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(out.String(), `"reasons":["because no identity-based policy allows the s3:GetObject action","User: arn:aws:iam::111111111111:user/a is not authorized`) {
		t.Fatal(out.String())
	}
	bad := []string{
		`{`,
		`{"id":"x","request":{"principal":"bob"}}`,
		`{"id":"x","request":{"principal":"arn:aws:iam::111111111111:user/a"},"identityPolicies":[{}]}`,
		`{"id":"x","request":{"principal":"arn:aws:iam::111111111111:user/a"},"permissionsBoundary":{}}`,
		`{"id":"x","request":{"principal":"arn:aws:iam::111111111111:user/a"},"sessionPolicy":{}}`,
		`{"id":"x","request":{"principal":"arn:aws:iam::111111111111:user/a"},"resourcePolicy":{}}`,
		`{"id":"x","request":{"principal":"arn:aws:iam::111111111111:user/a"},"scps":[[{}]]}`,
		`{"id":"x","request":{"principal":"arn:aws:iam::111111111111:user/a"},"rcps":[[{}]]}`,
	}
	for _, b := range bad {
		if err := Run(strings.NewReader(b), &out, false); err == nil {
			t.Errorf("%s: no error", b)
		}
	}
	var c Case
	c.Request.Principal = "arn:aws:iam::111111111111:user/a"
	c.Request.Context = map[string]json.RawMessage{"k": json.RawMessage("{")}
	if _, _, err := Build(&c); err == nil {
		t.Error("bad context value accepted")
	}
	if ResourceKind("arn:aws:kms:us-east-1:111111111111:key/k") != policy.KindKeyPolicy ||
		ResourceKind("arn:aws:iam::111111111111:role/R") != policy.KindTrust || ResourceKind("*") != policy.KindResource {
		t.Error("ResourceKind")
	}
}
