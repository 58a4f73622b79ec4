package awsproto_test

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/rampart/rampart/internal/awsproto"
)

// TestModelPatterns compiles every pattern of every model and lists those
// RE2 cannot express (they are skipped at validation time).
func TestModelPatterns(t *testing.T) {
	files, _ := filepath.Glob("../../api/models/*/service-2.json")
	if len(files) == 0 {
		t.Skip("no models")
	}
	total, skipped := 0, map[string]bool{}
	for _, f := range files {
		data, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		var m struct {
			Shapes map[string]struct {
				Pattern string `json:"pattern"`
			} `json:"shapes"`
		}
		if err := json.Unmarshal(data, &m); err != nil {
			t.Fatal(err)
		}
		for _, s := range m.Shapes {
			if s.Pattern == "" {
				continue
			}
			total++
			if awsproto.CompilePattern(s.Pattern) == nil {
				skipped[s.Pattern] = true
			}
		}
	}
	var list []string
	for p := range skipped {
		list = append(list, p)
	}
	t.Logf("%d patterns, %d distinct ones skipped:\n%s", total, len(list), strings.Join(list, "\n"))
	if len(list) > 20 {
		t.Errorf("too many patterns RE2 cannot compile: %d", len(list))
	}
}

func TestCompilePattern(t *testing.T) {
	cases := []struct {
		pat, in string
		want    bool
	}{
		{`[\w+=,.@-]+`, "alice", true},
		{`[\w+=,.@-]+`, "bad name", false},
		{`[\w+=,.@-]+`, "prefix-ok but not whole", false}, // whole-value match
		{`(\u002F)|(\u002F[\u0021-\u007E]+\u002F)`, "/eng/", true},
		{`(\u002F)|(\u002F[\u0021-\u007E]+\u002F)`, "eng/", false},
		{`[\p{L}\p{Z}\p{N}_.:/=+\-@]*`, "héllo wörld", true},
		{`^\p{Alpha}+$`, "abc", true},
		{`^[\p{Alnum}]+$`, "ab1", true},
		{`^[\p{Alnum}]+$`, "ab-1", false},
		// Java's . matches no line terminator, RE2's . only excludes \n.
		{`a.b`, "a-b", true},
		{`a.b`, "a\rb", false},
		{`a.b`, "a\u2028b", false},
		{`a.b`, "a\u0085b", false},
		{`[.]+`, "..", true}, // in a class, . is a dot
		{`[.]+`, "ab", false},
		{`a\.b`, "a.b", true}, // an escaped dot too
		{`a\.b`, "a-b", false},
	}
	for _, c := range cases {
		re := awsproto.CompilePattern(c.pat)
		if re == nil {
			t.Fatalf("%s does not compile", c.pat)
		}
		if got := re.MatchString(c.in); got != c.want {
			t.Errorf("%s ~ %q = %v", c.pat, c.in, got)
		}
	}
	if awsproto.CompilePattern(`(?=a)b`) != nil {
		t.Error("lookahead should be skipped")
	}
}
