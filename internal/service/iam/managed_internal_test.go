package iam

import (
	"testing"
)

// TestEmbeddedManagedPolicies: the embedded files hold 1,594 policies whose
// default versions all parse, and every listed version has a document.
func TestEmbeddedManagedPolicies(t *testing.T) {
	c, err := loadAWSManaged(managedIndexGz)
	if err != nil {
		t.Fatal(err)
	}
	if len(c.sorted) != 1594 || len(c.byARN) != 1594 || len(c.byName) != 1594 {
		t.Fatalf("%d policies (%d ARNs, %d names), want 1594", len(c.sorted), len(c.byARN), len(c.byName))
	}
	versions := 0
	for _, m := range c.sorted {
		if _, err := m.policy(); err != nil {
			t.Fatal(err)
		}
		full, err := m.withDocs()
		if err != nil {
			t.Fatal(err)
		}
		for _, v := range full.Versions {
			if v.Doc == "" {
				t.Fatalf("%s %s: no document", m.ARN, v.ID)
			}
			versions++
		}
		if len(full.Versions) > 1 {
			old := full.Versions[0]
			if d, ok, err := m.doc(old.ID); !ok || err != nil || d != old.Doc {
				t.Fatalf("%s %s: doc %v %v", m.ARN, old.ID, ok, err)
			}
		}
		if d, ok, err := m.doc("v100000"); ok || d != "" || err != nil {
			t.Fatalf("%s v100000: %q %v %v", m.ARN, d, ok, err)
		}
	}
	t.Logf("%d policies, %d versions", len(c.sorted), versions)
}

// BenchmarkAWSManagedLoad measures the first use of AWS managed policies:
// decompressing and indexing managed_policies.json.gz.
func BenchmarkAWSManagedLoad(b *testing.B) {
	b.ReportAllocs()
	b.SetBytes(int64(len(managedIndexGz)))
	for b.Loop() {
		if _, err := loadAWSManaged(managedIndexGz); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkAWSManagedOlderVersions measures reading the older versions of
// the policy with the most of them.
func BenchmarkAWSManagedOlderVersions(b *testing.B) {
	var most *awsManaged
	for _, m := range awsManagedSorted() {
		if most == nil || len(m.Versions) > len(most.Versions) {
			most = m
		}
	}
	b.Logf("%s: %d versions, %d compressed bytes", most.Name, len(most.Versions), most.older[1])
	b.ReportAllocs()
	for b.Loop() {
		if _, err := readOlder(most.older); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkAWSManagedParse measures parsing every default version.
func BenchmarkAWSManagedParse(b *testing.B) {
	b.ReportAllocs()
	for b.Loop() {
		c, err := loadAWSManaged(managedIndexGz)
		if err != nil {
			b.Fatal(err)
		}
		for _, m := range c.sorted {
			if _, err := m.policy(); err != nil {
				b.Fatal(err)
			}
		}
	}
}
