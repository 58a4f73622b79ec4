package app

import (
	"os"
	"testing"
)

// TestReadmeServicesTable keeps the README's services table true to the registry.
func TestReadmeServicesTable(t *testing.T) {
	data, err := os.ReadFile("../../README.md")
	if err != nil {
		t.Fatal(err)
	}
	want, ok := ReplaceTable(string(data))
	if !ok {
		t.Fatal("README.md lacks the services table markers")
	}
	if want != string(data) {
		t.Fatal("README.md's services table is stale: run go generate ./internal/app")
	}
}

// TestEveryOperationHasARule: registration refuses an operation without an
// authorization rule (service.Handle panics), so building the registry
// proves every served operation has one; this checks each carries its action.
func TestEveryOperationHasARule(t *testing.T) {
	hs := Registry(Deps{}).Handlers()
	if len(hs) == 0 {
		t.Fatal("no operation is served")
	}
	for _, h := range hs {
		if h.Action == "" || h.Authorize == nil {
			t.Errorf("%s.%s has no authorization rule", h.Operation.Service.Name, h.Operation.Name)
		}
	}
}
