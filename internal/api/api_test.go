package api

import (
	"encoding/json"
	"os"
	"path/filepath"
	"testing"

	"github.com/rampart/rampart/internal/awsproto"
)

// TestCatalogMatchesModels walks every model in api/models and checks that
// the generated catalog knows each operation with its HTTP binding, and that
// every error shape of a served service carries the model's code, HTTP
// status and fault.
func TestCatalogMatchesModels(t *testing.T) {
	byName := map[string]*awsproto.Service{}
	for _, s := range Services() {
		byName[s.Name] = s
	}
	dirs, err := os.ReadDir("../../api/models")
	if err != nil {
		t.Fatal(err)
	}
	var checkedErrors int
	for _, d := range dirs {
		if !d.IsDir() || d.Name() == "ec2" {
			continue
		}
		data, err := os.ReadFile(filepath.Join("../../api/models", d.Name(), "service-2.json"))
		if err != nil {
			t.Fatal(err)
		}
		var m struct {
			Metadata   struct{ Protocol, TargetPrefix, SigningName, EndpointPrefix string }
			Operations map[string]struct {
				HTTP   struct{ Method, RequestURI string }
				Errors []struct{ Shape string }
			}
			Shapes map[string]struct {
				Exception bool
				Fault     bool
				Error     *struct {
					Code           string
					HTTPStatusCode int
					SenderFault    bool
				}
			}
		}
		if err := json.Unmarshal(data, &m); err != nil {
			t.Fatal(err)
		}
		svc := byName[d.Name()]
		if svc == nil {
			t.Errorf("%s: not in the catalog", d.Name())
			continue
		}
		if svc.Protocol != m.Metadata.Protocol || svc.TargetPrefix != m.Metadata.TargetPrefix {
			t.Errorf("%s: protocol %q/%q, model %q/%q", d.Name(), svc.Protocol, svc.TargetPrefix, m.Metadata.Protocol, m.Metadata.TargetPrefix)
		}
		wantSigning := m.Metadata.SigningName
		if wantSigning == "" {
			wantSigning = m.Metadata.EndpointPrefix
		}
		if svc.SigningName != wantSigning {
			t.Errorf("%s: signing name %q, want %q", d.Name(), svc.SigningName, wantSigning)
		}
		if len(svc.Operations) != len(m.Operations) {
			t.Errorf("%s: %d operations, model has %d", d.Name(), len(svc.Operations), len(m.Operations))
		}
		for name, mop := range m.Operations {
			op := svc.Operation(name)
			if op == nil {
				t.Errorf("%s: operation %s missing", d.Name(), name)
				continue
			}
			if op.Method != mop.HTTP.Method || op.RequestURI != mop.HTTP.RequestURI {
				t.Errorf("%s.%s: %s %s, model %s %s", d.Name(), name, op.Method, op.RequestURI, mop.HTTP.Method, mop.HTTP.RequestURI)
			}
			if op.Input == nil && op.Output == nil && len(op.Errors) == 0 {
				continue // a catalog-only (not generated) service
			}
			if len(op.Errors) != len(mop.Errors) {
				t.Errorf("%s.%s: %d errors, model %d", d.Name(), name, len(op.Errors), len(mop.Errors))
				continue
			}
			for i, e := range mop.Errors {
				got := op.Errors[i]
				ms := m.Shapes[e.Shape]
				wantCode, wantStatus, wantSender := e.Shape, 400, !ms.Fault
				if ms.Fault {
					wantStatus = 500
				}
				if ms.Error != nil {
					if ms.Error.Code != "" {
						wantCode = ms.Error.Code
					}
					if ms.Error.HTTPStatusCode != 0 {
						wantStatus = ms.Error.HTTPStatusCode
					}
					wantSender = ms.Error.SenderFault || (!ms.Fault && wantStatus < 500)
				}
				if got.Name != e.Shape || got.Error == nil || got.Error.Code != wantCode || got.Error.Status != wantStatus || got.Error.SenderFault != wantSender {
					t.Errorf("%s.%s error %s: got %+v, want code %s status %d sender %v", d.Name(), name, e.Shape, got.Error, wantCode, wantStatus, wantSender)
				}
				// The constructor path renders the same values.
				ae := awsproto.NewError(got, "m")
				if ae.Code != wantCode || ae.Status != wantStatus || ae.Sender != wantSender {
					t.Errorf("%s: NewError(%s) = %+v", d.Name(), e.Shape, ae)
				}
				checkedErrors++
			}
		}
	}
	if checkedErrors < 300 {
		t.Errorf("checked only %d error bindings; the served models declare more", checkedErrors)
	}
	t.Logf("checked %d services, %d error bindings", len(byName), checkedErrors)
}

// TestStructFieldsFollowMembers checks the invariant the codecs rely on:
// member i of a structure is field i of its Go type.
func TestStructFieldsFollowMembers(t *testing.T) {
	var structs int
	for _, svc := range Services() {
		seen := map[*awsproto.Shape]bool{}
		var walk func(s *awsproto.Shape)
		walk = func(s *awsproto.Shape) {
			if s == nil || seen[s] {
				return
			}
			seen[s] = true
			switch s.Kind {
			case awsproto.KindStructure:
				if s.GoType == nil {
					t.Errorf("%s: structure %s has no Go type", svc.Name, s.Name)
					return
				}
				structs++
				if s.GoType.NumField() != len(s.Members) {
					t.Errorf("%s.%s: %d fields, %d members", svc.Name, s.Name, s.GoType.NumField(), len(s.Members))
				}
				for i, m := range s.Members {
					if m.Field != i {
						t.Errorf("%s.%s.%s: field %d, want %d", svc.Name, s.Name, m.Name, m.Field, i)
					}
					walk(m.Shape)
				}
			case awsproto.KindList:
				walk(s.Member.Shape)
			case awsproto.KindMap:
				walk(s.Key.Shape)
				walk(s.Value.Shape)
			}
		}
		for _, op := range svc.Operations {
			walk(op.Input)
			walk(op.Output)
			for _, e := range op.Errors {
				walk(e)
			}
		}
	}
	if structs == 0 {
		t.Fatal("no generated structures found")
	}
	t.Logf("%d structures checked", structs)
}
