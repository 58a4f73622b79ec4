//go:build !cgo

package barrier

import (
	"strings"
	"testing"
)

func TestPKCS11NeedsCgo(t *testing.T) {
	_, err := OpenPKCS11(PKCS11Config{Module: "/usr/lib/softhsm/libsofthsm2.so", Token: "t", PIN: []byte("1234")})
	if err == nil || !strings.Contains(err.Error(), "built with cgo") {
		t.Fatalf("OpenPKCS11 without cgo: %v", err)
	}
}
