package barrier

import (
	"errors"
	"fmt"
	"log/slog"
)

// The PKCS#11 seal keeps its key-encryption key in a token (an HSM, or
// SoftHSM2): a 256-bit AES secret key object that is sensitive and not
// extractable, so it never leaves the token; the root key is encrypted and
// decrypted by the token itself (CKM_AES_GCM). pkcs11.go (cgo builds)
// implements it on github.com/miekg/pkcs11; pkcs11_nocgo.go refuses.

// DefaultPKCS11KeyLabel is the label of the seal's key in the token unless
// the configuration names another.
const DefaultPKCS11KeyLabel = "rampart-root-key"

// PKCS11Config says where the PKCS#11 seal's key is, and how to log in.
type PKCS11Config struct {
	// Module is the path of the token's PKCS#11 library, e.g.
	// /usr/lib/softhsm/libsofthsm2.so.
	Module string
	// Token is the token's label; when it is empty, Slot names the slot.
	Token string
	Slot  *uint
	// PIN is the token's user PIN. It is never logged and never appears in
	// an error.
	PIN []byte
	// KeyLabel is the CKA_LABEL of the seal's key (default
	// DefaultPKCS11KeyLabel).
	KeyLabel string
}

// String describes the configuration without its PIN.
func (c PKCS11Config) String() string {
	return fmt.Sprintf("pkcs11(module %s, %s, key %q)", c.Module, c.token(), c.keyLabel())
}

// LogValue is String for log/slog: the PIN stays out of logs.
func (c PKCS11Config) LogValue() slog.Value { return slog.StringValue(c.String()) }

func (c PKCS11Config) keyLabel() string {
	if c.KeyLabel == "" {
		return DefaultPKCS11KeyLabel
	}
	return c.KeyLabel
}

// token names the token for messages.
func (c PKCS11Config) token() string {
	if c.Token == "" && c.Slot != nil {
		return fmt.Sprintf("the token in slot %d", *c.Slot)
	}
	return fmt.Sprintf("token %q", c.Token)
}

func (c PKCS11Config) validate() error {
	switch {
	case c.Module == "":
		return errors.New("barrier: the PKCS#11 seal needs the path of the token's PKCS#11 library (module)")
	case c.Token == "" && c.Slot == nil:
		return errors.New("barrier: the PKCS#11 seal needs the token's label (or its slot)")
	case len(c.PIN) == 0:
		return errors.New("barrier: the PKCS#11 seal needs the token's user PIN")
	case len(c.keyLabel()) > 128:
		return errors.New("barrier: the PKCS#11 key label is longer than 128 characters")
	}
	return nil
}

// ErrPKCS11PIN is wrapped by the error of a token that refuses the PIN.
var ErrPKCS11PIN = errors.New("the PKCS#11 PIN was refused")

// ErrPKCS11NoKey is wrapped by the error of a token that holds no key with
// the seal's label.
var ErrPKCS11NoKey = errors.New("no such PKCS#11 key")

// pkcs11SealName is the PKCS#11 seal's Name.
const pkcs11SealName = "pkcs11"

// pkcs11Mechanism names, in the wrapped root key, how the token encrypted it.
const pkcs11Mechanism = "CKM_AES_GCM"

// Name implements Seal.
func (*PKCS11) Name() string { return pkcs11SealName }
