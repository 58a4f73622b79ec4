package conformance

import (
	"fmt"
	"os"
	"regexp"
	"sort"
	"strconv"
	"strings"
	"testing"
)

// readmePath is the repository's README, from this package's directory.
const readmePath = "../../README.md"

// readmeRow is a row of the README's wire-conformance table:
// "| iam | 1,179 / 1,179 |" (passed / counted).
var readmeRow = regexp.MustCompile(`^\|\s*([a-z0-9-]+)\s*\|\s*([0-9,]+)\s*/\s*([0-9,]+)\s*\|\s*$`)

// readmeCounts reads the per-service counts of the README's "Wire
// conformance" section: passed and counted variants, by service.
func readmeCounts(doc string) (map[string][2]int, error) {
	_, sec, ok := strings.Cut(doc, "\n## Wire conformance\n")
	if !ok {
		return nil, fmt.Errorf("no \"## Wire conformance\" section")
	}
	if i := strings.Index(sec, "\n## "); i >= 0 {
		sec = sec[:i]
	}
	out := map[string][2]int{}
	for _, line := range strings.Split(sec, "\n") {
		m := readmeRow.FindStringSubmatch(strings.TrimSpace(line))
		if m == nil {
			continue
		}
		pass, err1 := strconv.Atoi(strings.ReplaceAll(m[2], ",", ""))
		total, err2 := strconv.Atoi(strings.ReplaceAll(m[3], ",", ""))
		if err1 != nil || err2 != nil {
			return nil, fmt.Errorf("row %q: figures are not numbers", line)
		}
		out[m[1]] = [2]int{pass, total}
	}
	if len(out) == 0 {
		return nil, fmt.Errorf("no \"| service | passed / total |\" rows in the section")
	}
	return out, nil
}

// grouped writes n with thousands separators, as the README does.
func grouped(n int) string {
	s := strconv.Itoa(n)
	for i := len(s) - 3; i > 0; i -= 3 {
		s = s[:i] + "," + s[i:]
	}
	return s
}

func readmeLine(svc string, c [2]int) string {
	return "| " + svc + " | " + grouped(c[0]) + " / " + grouped(c[1]) + " |"
}

// checkReadme fails when the README's conformance table differs from the
// counts of this run, naming the rows as they should read.
func checkReadme(t *testing.T, run map[string][2]int) {
	b, err := os.ReadFile(readmePath)
	if err != nil {
		t.Fatalf("README: %v", err)
	}
	doc, err := readmeCounts(string(b))
	if err != nil {
		t.Fatalf("README.md, wire conformance: %v", err)
	}
	var svcs []string
	for s := range run {
		svcs = append(svcs, s)
	}
	for s := range doc {
		if _, ok := run[s]; !ok {
			svcs = append(svcs, s)
		}
	}
	sort.Strings(svcs)
	var bad, want []string
	for _, s := range svcs {
		r, inRun := run[s]
		d, inDoc := doc[s]
		switch {
		case !inRun:
			bad = append(bad, fmt.Sprintf("%s: README has %q, the run served no operation of it", s, readmeLine(s, d)))
		case !inDoc:
			bad = append(bad, fmt.Sprintf("%s: README has no row; the run counts %s / %s", s, grouped(r[0]), grouped(r[1])))
		case r != d:
			bad = append(bad, fmt.Sprintf("%s: README says %s / %s, the run counts %s / %s", s, grouped(d[0]), grouped(d[1]), grouped(r[0]), grouped(r[1])))
		}
		if inRun {
			want = append(want, readmeLine(s, r))
		}
	}
	if len(bad) > 0 {
		t.Errorf("README.md's wire conformance table is out of date:\n  %s\nthe rows should read:\n%s", strings.Join(bad, "\n  "), strings.Join(want, "\n"))
	}
}

// TestReadmeCounts checks that the README's conformance table can be read
// (TestConformance compares it with the run) and the parser on a sample.
func TestReadmeCounts(t *testing.T) {
	sample := "x\n## Wire conformance\n\ntext\n\n| service | variants passed |\n|---|---:|\n| iam | 1,179 / 1,179 |\n| kms | 546 / 547 |\n\n## Next\n| sts | 1 / 1 |\n"
	got, err := readmeCounts(sample)
	if err != nil {
		t.Fatal(err)
	}
	if len(got) != 2 || got["iam"] != [2]int{1179, 1179} || got["kms"] != [2]int{546, 547} {
		t.Fatalf("sample: %v", got)
	}
	if g := readmeLine("iam", [2]int{1234567, 12}); g != "| iam | 1,234,567 / 12 |" {
		t.Fatalf("readmeLine: %q", g)
	}
	b, err := os.ReadFile(readmePath)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := readmeCounts(string(b)); err != nil {
		t.Fatalf("README.md, wire conformance: %v", err)
	}
}
