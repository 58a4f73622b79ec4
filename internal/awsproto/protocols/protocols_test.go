package protocols_test

import (
	"testing"

	"github.com/rampart/rampart/internal/awsproto/protocols"
)

func TestFor(t *testing.T) {
	for _, n := range protocols.Names() {
		p := protocols.For(n)
		if p == nil || p.Name() != n {
			t.Fatalf("%s: %v", n, p)
		}
	}
	if protocols.For("ec2") != nil {
		t.Fatal("ec2 has no codec yet")
	}
}
