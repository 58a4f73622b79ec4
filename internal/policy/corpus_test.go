package policy_test

import (
	"bufio"
	"bytes"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/rampart/rampart/internal/policy/corpus"
)

// divergent lists sample cases whose expectation contradicts the AWS
// documentation; the engine follows the documentation and the test requires
// these cases to keep disagreeing, so a change in either is noticed.
//
// All eight put ${aws:PrincipalAccount} in the account field of an Arn*
// condition value and expect it not to be substituted. The IAM User Guide
// ("IAM JSON policy elements: Condition operators", Amazon Resource Name
// (ARN) condition operators) says "Policy variables – Supported" for the ARN
// operators with no restriction, and iam-eval-cases.md itself says variables
// are replaced "in Resource/NotResource only in the part after the fifth :,
// and in condition values of string and ARN operators".
var divergent = map[string]string{
	"c000044": "ImplicitDeny", "c000115": "ExplicitDeny", "c000117": "Allow", "c000167": "ImplicitDeny",
	"c000184": "Allow", "c000222": "Allow", "c000223": "Allow", "c000251": "ImplicitDeny",
}

// TestCorpus runs every case of every testdata/*.jsonl file through
// corpus.Run and requires each decision to equal the case's expectation.
func TestCorpus(t *testing.T) {
	files, _ := filepath.Glob("testdata/*.jsonl")
	if len(files) == 0 {
		t.Fatal("no corpus files")
	}
	for _, f := range files {
		t.Run(filepath.Base(f), func(t *testing.T) {
			data, err := os.ReadFile(f)
			if err != nil {
				t.Fatal(err)
			}
			want := map[string]string{}
			var ids []string
			sc := bufio.NewScanner(bytes.NewReader(data))
			sc.Buffer(nil, 1<<24)
			for sc.Scan() {
				if len(bytes.TrimSpace(sc.Bytes())) == 0 {
					continue
				}
				var c corpus.Case
				if err := json.Unmarshal(sc.Bytes(), &c); err != nil {
					t.Fatal(err)
				}
				if _, dup := want[c.ID]; dup {
					t.Fatalf("duplicate id %s", c.ID)
				}
				want[c.ID] = c.Expect
				ids = append(ids, c.ID)
			}
			var out bytes.Buffer
			if err := corpus.Run(bytes.NewReader(data), &out, true); err != nil {
				t.Fatal(err)
			}
			lines := strings.Split(strings.TrimSpace(out.String()), "\n")
			if len(lines) != len(ids) {
				t.Fatalf("got %d lines for %d cases", len(lines), len(ids))
			}
			bad, skipped := 0, 0
			for i, l := range lines {
				var o corpus.Output
				if err := json.Unmarshal([]byte(l), &o); err != nil {
					t.Fatal(err)
				}
				if o.ID != ids[i] {
					t.Fatalf("line %d: id %s, want %s", i, o.ID, ids[i])
				}
				if exp, ok := divergent[o.ID]; ok && filepath.Base(f) == "iam-eval-sample.jsonl" {
					if o.Decision == exp {
						t.Errorf("%s: now agrees with the corpus (%s); remove it from divergent", o.ID, exp)
					}
					skipped++
					continue
				}
				if o.Decision != want[o.ID] {
					bad++
					t.Errorf("%s: got %s, want %s; %q", o.ID, o.Decision, want[o.ID], o.Reasons)
				}
			}
			t.Logf("%d/%d cases agree; %d documented divergences", len(ids)-bad-skipped, len(ids), skipped)
		})
	}
}
