//go:build !cgo

package barrier

import "errors"

// PKCS11 is the PKCS#11 seal. This binary was built without cgo, which the
// seal needs to load a PKCS#11 library: every method fails.
type PKCS11 struct{}

var errPKCS11NoCgo = errors.New("barrier: the PKCS#11 seal needs a rampart built with cgo (CGO_ENABLED=1); this one was built without")

// OpenPKCS11 fails: see [PKCS11].
func OpenPKCS11(PKCS11Config) (*PKCS11, error) { return nil, errPKCS11NoCgo }

// EnsureKey fails: see [PKCS11].
func (*PKCS11) EnsureKey() (bool, error) { return false, errPKCS11NoCgo }

// Wrap implements Seal; it fails.
func (*PKCS11) Wrap([]byte) ([]byte, error) { return nil, errPKCS11NoCgo }

// Unwrap implements Seal; it fails.
func (*PKCS11) Unwrap([]byte) ([]byte, error) { return nil, errPKCS11NoCgo }

// Close does nothing.
func (*PKCS11) Close() error { return nil }
