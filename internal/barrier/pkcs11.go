//go:build cgo

package barrier

import (
	"bytes"
	"crypto/rand"
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"strings"
	"sync"

	"github.com/miekg/pkcs11"
)

// PKCS11 is the PKCS#11 seal: the root key is encrypted by the token with
// CKM_AES_GCM under a 256-bit AES key that the token holds and will not
// let out (CKA_SENSITIVE, not CKA_EXTRACTABLE). The wrapped root key records
// the key's label, the mechanism and the IV. Every Wrap and Unwrap opens a
// session, logs in, and closes it again. Close unloads the module.
type PKCS11 struct {
	cfg  PKCS11Config // its own copy of the PIN, zeroed by Close
	mod  *p11module
	slot uint

	closeOnce sync.Once
	closed    bool // under mod.mu
}

// p11module is a loaded, initialized PKCS#11 library. A process loads each
// library once: C_Initialize and C_Finalize are process-wide, and so is
// the login state of a token, so the seals that share a module take turns
// (mu) and the last one to close finalizes it.
type p11module struct {
	path  string
	ctx   *pkcs11.Ctx
	refs  int  // under p11modules
	owned bool // our C_Initialize: C_Finalize at the last release

	mu sync.Mutex // one session at a time
}

var p11modules = struct {
	sync.Mutex
	m map[string]*p11module
}{m: map[string]*p11module{}}

func loadP11Module(path string) (*p11module, error) {
	p11modules.Lock()
	defer p11modules.Unlock()
	if m := p11modules.m[path]; m != nil {
		m.refs++
		return m, nil
	}
	if _, err := os.Stat(path); err != nil {
		return nil, fmt.Errorf("barrier: the PKCS#11 module: %w", err)
	}
	ctx := pkcs11.New(path)
	if ctx == nil {
		return nil, fmt.Errorf("barrier: cannot load the PKCS#11 module %s: not a PKCS#11 library, or a library it needs is missing", path)
	}
	m := &p11module{path: path, ctx: ctx, refs: 1, owned: true}
	if err := ctx.Initialize(); errors.Is(err, pkcs11.Error(pkcs11.CKR_CRYPTOKI_ALREADY_INITIALIZED)) {
		m.owned = false // by someone else in this process, through another handle
	} else if err != nil {
		ctx.Destroy()
		return nil, fmt.Errorf("barrier: initialize the PKCS#11 module %s: %w", path, err)
	}
	p11modules.m[path] = m
	return m, nil
}

func (m *p11module) release() error {
	p11modules.Lock()
	defer p11modules.Unlock()
	m.refs--
	if m.refs > 0 {
		return nil
	}
	delete(p11modules.m, m.path)
	var err error
	if m.owned {
		err = m.ctx.Finalize()
	}
	m.ctx.Destroy()
	return err
}

// OpenPKCS11 loads the module, finds the token and checks that it accepts
// the PIN (a refused PIN is an error wrapping [ErrPKCS11PIN]). It does not
// need the key to exist yet: [PKCS11.EnsureKey] creates it. Close the seal
// when done with it.
func OpenPKCS11(cfg PKCS11Config) (*PKCS11, error) {
	if err := cfg.validate(); err != nil {
		return nil, err
	}
	cfg.PIN = append([]byte(nil), cfg.PIN...)
	cfg.KeyLabel = cfg.keyLabel()
	mod, err := loadP11Module(cfg.Module)
	if err != nil {
		clear(cfg.PIN)
		return nil, err
	}
	s := &PKCS11{cfg: cfg, mod: mod}
	if s.slot, err = s.findSlot(); err != nil {
		s.Close()
		return nil, err
	}
	if err := s.session(false, func(*pkcs11.Ctx, pkcs11.SessionHandle) error { return nil }); err != nil {
		s.Close()
		return nil, err
	}
	return s, nil
}

// Close logs nothing out that it did not log in, finalizes and unloads the
// module when no other seal of this process uses it, and forgets the PIN.
// Closing twice is harmless.
func (s *PKCS11) Close() error {
	var err error
	s.closeOnce.Do(func() {
		s.mod.mu.Lock()
		s.closed = true
		clear(s.cfg.PIN)
		s.mod.mu.Unlock()
		err = s.mod.release()
	})
	return err
}

// findSlot finds the slot of the configured token.
func (s *PKCS11) findSlot() (uint, error) {
	ctx := s.mod.ctx
	slots, err := ctx.GetSlotList(true)
	if err != nil {
		return 0, fmt.Errorf("barrier: list the tokens of %s: %w", s.cfg.Module, err)
	}
	var found []uint
	var labels []string
	for _, slot := range slots {
		if s.cfg.Slot != nil && slot != *s.cfg.Slot {
			continue
		}
		ti, err := ctx.GetTokenInfo(slot)
		if err != nil || ti.Flags&pkcs11.CKF_TOKEN_INITIALIZED == 0 {
			continue
		}
		labels = append(labels, fmt.Sprintf("%q", ti.Label))
		if s.cfg.Token == "" || ti.Label == s.cfg.Token {
			found = append(found, slot)
		}
	}
	switch {
	case len(found) == 1:
		return found[0], nil
	case len(found) > 1:
		return 0, fmt.Errorf("barrier: %d tokens of %s are labelled %q: name the slot too", len(found), s.cfg.Module, s.cfg.Token)
	case s.cfg.Slot != nil && len(labels) == 0:
		return 0, fmt.Errorf("barrier: slot %d of %s holds no initialized token", *s.cfg.Slot, s.cfg.Module)
	case len(labels) == 0:
		return 0, fmt.Errorf("barrier: %s offers no initialized token, so none labelled %q", s.cfg.Module, s.cfg.Token)
	default:
		return 0, fmt.Errorf("barrier: no token labelled %q in %s (it offers %s)", s.cfg.Token, s.cfg.Module, strings.Join(labels, ", "))
	}
}

// session runs fn in a session of the token, logged in as its user. The
// login is the process's and the token's (PKCS#11 shares it among
// sessions), so sessions of one module take turns.
func (s *PKCS11) session(rw bool, fn func(ctx *pkcs11.Ctx, sh pkcs11.SessionHandle) error) error {
	m := s.mod
	m.mu.Lock()
	defer m.mu.Unlock()
	if s.closed {
		return errors.New("barrier: the PKCS#11 seal is closed")
	}
	flags := uint(pkcs11.CKF_SERIAL_SESSION)
	if rw {
		flags |= pkcs11.CKF_RW_SESSION
	}
	sh, err := m.ctx.OpenSession(s.slot, flags)
	if err != nil {
		return fmt.Errorf("barrier: open a session with %s: %w", s.cfg.token(), err)
	}
	defer m.ctx.CloseSession(sh)
	switch err := m.ctx.Login(sh, pkcs11.CKU_USER, string(s.cfg.PIN)); {
	case err == nil:
		defer m.ctx.Logout(sh)
	case errors.Is(err, pkcs11.Error(pkcs11.CKR_USER_ALREADY_LOGGED_IN)):
	default:
		return s.loginError(err)
	}
	return fn(m.ctx, sh)
}

// loginError words a refused login. It never quotes the PIN.
func (s *PKCS11) loginError(err error) error {
	var code pkcs11.Error
	if !errors.As(err, &code) {
		return fmt.Errorf("barrier: log in to %s: %w", s.cfg.token(), err)
	}
	switch code {
	case pkcs11.CKR_PIN_INCORRECT, pkcs11.CKR_PIN_INVALID, pkcs11.CKR_PIN_LEN_RANGE:
		return fmt.Errorf("barrier: %w by %s", ErrPKCS11PIN, s.cfg.token())
	case pkcs11.CKR_PIN_LOCKED:
		return fmt.Errorf("barrier: %w: %s has locked its user PIN after too many wrong ones (its security officer can unlock it)", ErrPKCS11PIN, s.cfg.token())
	case pkcs11.CKR_PIN_EXPIRED:
		return fmt.Errorf("barrier: %w: the user PIN of %s has expired", ErrPKCS11PIN, s.cfg.token())
	case pkcs11.CKR_USER_PIN_NOT_INITIALIZED:
		return fmt.Errorf("barrier: %s has no user PIN yet: set one with the token's tools", s.cfg.token())
	}
	return fmt.Errorf("barrier: log in to %s: %w", s.cfg.token(), err)
}

// findKey returns the seal's key, refusing a key that is not a 256-bit AES
// key the token keeps to itself. When there is none, the error wraps
// ErrPKCS11NoKey.
func (s *PKCS11) findKey(ctx *pkcs11.Ctx, sh pkcs11.SessionHandle) (pkcs11.ObjectHandle, error) {
	label := s.cfg.KeyLabel
	if err := ctx.FindObjectsInit(sh, []*pkcs11.Attribute{
		pkcs11.NewAttribute(pkcs11.CKA_CLASS, pkcs11.CKO_SECRET_KEY),
		pkcs11.NewAttribute(pkcs11.CKA_LABEL, label),
	}); err != nil {
		return 0, fmt.Errorf("barrier: look for the key in %s: %w", s.cfg.token(), err)
	}
	objs, _, err := ctx.FindObjects(sh, 2)
	ctx.FindObjectsFinal(sh)
	if err != nil {
		return 0, fmt.Errorf("barrier: look for the key in %s: %w", s.cfg.token(), err)
	}
	switch len(objs) {
	case 0:
		return 0, fmt.Errorf("barrier: %w: %s holds no secret key labelled %q (rampart init creates it)", ErrPKCS11NoKey, s.cfg.token(), label)
	case 1:
	default:
		return 0, fmt.Errorf("barrier: %s holds several secret keys labelled %q: the seal needs exactly one", s.cfg.token(), label)
	}
	attrs, err := ctx.GetAttributeValue(sh, objs[0], []*pkcs11.Attribute{
		pkcs11.NewAttribute(pkcs11.CKA_KEY_TYPE, nil),
		pkcs11.NewAttribute(pkcs11.CKA_VALUE_LEN, nil),
		pkcs11.NewAttribute(pkcs11.CKA_SENSITIVE, nil),
		pkcs11.NewAttribute(pkcs11.CKA_EXTRACTABLE, nil),
		pkcs11.NewAttribute(pkcs11.CKA_ENCRYPT, nil),
		pkcs11.NewAttribute(pkcs11.CKA_DECRYPT, nil),
	})
	if err != nil || len(attrs) != 6 {
		return 0, fmt.Errorf("barrier: read the attributes of the key labelled %q in %s: %v", label, s.cfg.token(), err)
	}
	switch {
	case p11Uint(attrs[0].Value) != pkcs11.CKK_AES || p11Uint(attrs[1].Value) != keySize:
		return 0, fmt.Errorf("barrier: the key labelled %q in %s is not a 256-bit AES key", label, s.cfg.token())
	case !p11Bool(attrs[2].Value) || p11Bool(attrs[3].Value):
		return 0, fmt.Errorf("barrier: the key labelled %q in %s can leave the token (it is not sensitive, or extractable): the seal uses only a key that cannot", label, s.cfg.token())
	case !p11Bool(attrs[4].Value) || !p11Bool(attrs[5].Value):
		return 0, fmt.Errorf("barrier: the key labelled %q in %s may not both encrypt and decrypt", label, s.cfg.token())
	}
	return objs[0], nil
}

// p11Uint decodes a CK_ULONG attribute (native byte order, 4 or 8 bytes).
func p11Uint(b []byte) uint64 {
	switch len(b) {
	case 8:
		return binary.NativeEndian.Uint64(b)
	case 4:
		return uint64(binary.NativeEndian.Uint32(b))
	}
	return ^uint64(0)
}

// p11Bool decodes a CK_BBOOL attribute.
func p11Bool(b []byte) bool { return len(b) == 1 && b[0] != 0 }

// EnsureKey creates the seal's key in the token unless it is there: a
// token object, private, sensitive, not extractable, that may encrypt and
// decrypt and do nothing else. created says whether it made one.
func (s *PKCS11) EnsureKey() (created bool, err error) {
	err = s.session(true, func(ctx *pkcs11.Ctx, sh pkcs11.SessionHandle) error {
		_, err := s.findKey(ctx, sh)
		if !errors.Is(err, ErrPKCS11NoKey) {
			return err
		}
		id := make([]byte, 16)
		if _, err := io.ReadFull(rand.Reader, id); err != nil {
			return err
		}
		_, err = ctx.GenerateKey(sh, []*pkcs11.Mechanism{pkcs11.NewMechanism(pkcs11.CKM_AES_KEY_GEN, nil)}, []*pkcs11.Attribute{
			pkcs11.NewAttribute(pkcs11.CKA_CLASS, pkcs11.CKO_SECRET_KEY),
			pkcs11.NewAttribute(pkcs11.CKA_KEY_TYPE, pkcs11.CKK_AES),
			pkcs11.NewAttribute(pkcs11.CKA_VALUE_LEN, keySize),
			pkcs11.NewAttribute(pkcs11.CKA_TOKEN, true),
			pkcs11.NewAttribute(pkcs11.CKA_PRIVATE, true),
			pkcs11.NewAttribute(pkcs11.CKA_SENSITIVE, true),
			pkcs11.NewAttribute(pkcs11.CKA_EXTRACTABLE, false),
			pkcs11.NewAttribute(pkcs11.CKA_ENCRYPT, true),
			pkcs11.NewAttribute(pkcs11.CKA_DECRYPT, true),
			pkcs11.NewAttribute(pkcs11.CKA_WRAP, false),
			pkcs11.NewAttribute(pkcs11.CKA_UNWRAP, false),
			pkcs11.NewAttribute(pkcs11.CKA_SIGN, false),
			pkcs11.NewAttribute(pkcs11.CKA_VERIFY, false),
			pkcs11.NewAttribute(pkcs11.CKA_DERIVE, false),
			pkcs11.NewAttribute(pkcs11.CKA_LABEL, s.cfg.KeyLabel),
			pkcs11.NewAttribute(pkcs11.CKA_ID, id),
		})
		if err != nil {
			return fmt.Errorf("barrier: create the AES key labelled %q in %s: %w", s.cfg.KeyLabel, s.cfg.token(), err)
		}
		created = true
		return nil
	})
	return created, err
}

const (
	gcmIVSize  = 12
	gcmTagBits = 128
)

func pkcs11AAD() []byte { return []byte("rampart root key/" + pkcs11SealName) }

// Wrap implements Seal: the token encrypts rootKey with AES-GCM under the
// seal's key (a fresh random IV; a token that chooses its own IV has it
// recorded instead).
func (s *PKCS11) Wrap(rootKey []byte) ([]byte, error) {
	if len(rootKey) != keySize {
		return nil, fmt.Errorf("barrier: a root key is %d bytes, not %d", keySize, len(rootKey))
	}
	w := wrapped{Seal: pkcs11SealName, Label: s.cfg.KeyLabel, Mech: pkcs11Mechanism}
	err := s.session(false, func(ctx *pkcs11.Ctx, sh pkcs11.SessionHandle) error {
		key, err := s.findKey(ctx, sh)
		if err != nil {
			return err
		}
		iv := make([]byte, gcmIVSize)
		if _, err := io.ReadFull(rand.Reader, iv); err != nil {
			return err
		}
		params := pkcs11.NewGCMParams(iv, pkcs11AAD(), gcmTagBits)
		defer params.Free()
		if err := ctx.EncryptInit(sh, []*pkcs11.Mechanism{pkcs11.NewMechanism(pkcs11.CKM_AES_GCM, params)}, key); err != nil {
			return fmt.Errorf("barrier: %s cannot encrypt with CKM_AES_GCM: %w", s.cfg.token(), err)
		}
		ct, err := ctx.Encrypt(sh, rootKey)
		if err != nil {
			return fmt.Errorf("barrier: %s cannot encrypt with CKM_AES_GCM: %w", s.cfg.token(), err)
		}
		if used := params.IV(); len(used) == gcmIVSize {
			iv = used
		}
		w.Nonce, w.Key = iv, ct
		return nil
	})
	if err != nil {
		return nil, err
	}
	return json.Marshal(w)
}

// Unwrap implements Seal: the token decrypts the root key. A root key
// wrapped by another key (another token's, or one labelled otherwise) is
// ErrWrongSeal.
func (s *PKCS11) Unwrap(b []byte) ([]byte, error) {
	w, err := parseWrapped(b, pkcs11SealName)
	if err != nil {
		return nil, err
	}
	if w.Mech != pkcs11Mechanism {
		return nil, fmt.Errorf("barrier: the root key was wrapped with %q; this rampart knows %s", w.Mech, pkcs11Mechanism)
	}
	if w.Label != s.cfg.KeyLabel {
		return nil, fmt.Errorf("%w: it was wrapped by the PKCS#11 key labelled %q, not %q", ErrWrongSeal, w.Label, s.cfg.KeyLabel)
	}
	if len(w.Nonce) != gcmIVSize || len(w.Key) != keySize+gcmTagBits/8 {
		return nil, ErrWrongSeal
	}
	var root []byte
	err = s.session(false, func(ctx *pkcs11.Ctx, sh pkcs11.SessionHandle) error {
		key, err := s.findKey(ctx, sh)
		if err != nil {
			return err
		}
		params := pkcs11.NewGCMParams(w.Nonce, pkcs11AAD(), gcmTagBits)
		defer params.Free()
		if err := ctx.DecryptInit(sh, []*pkcs11.Mechanism{pkcs11.NewMechanism(pkcs11.CKM_AES_GCM, params)}, key); err != nil {
			return fmt.Errorf("barrier: %s cannot decrypt with CKM_AES_GCM: %w", s.cfg.token(), err)
		}
		pt, err := ctx.Decrypt(sh, w.Key)
		var code pkcs11.Error
		switch {
		case err == nil:
		case errors.As(err, &code) && (code == pkcs11.CKR_ENCRYPTED_DATA_INVALID || code == pkcs11.CKR_ENCRYPTED_DATA_LEN_RANGE):
			// The tag does not verify: another key, or a damaged blob.
			return ErrWrongSeal
		case errors.As(err, &code) && (code == pkcs11.CKR_GENERAL_ERROR || code == pkcs11.CKR_FUNCTION_FAILED):
			// SoftHSM 2.6 reports a tag that does not verify as
			// CKR_GENERAL_ERROR, which a failing device would return
			// too: the key decrypting what it just encrypted tells
			// the two apart.
			if terr := s.selfTest(ctx, sh, key); terr != nil {
				return fmt.Errorf("barrier: %s cannot decrypt with CKM_AES_GCM: %w (and fails its own round trip: %v)", s.cfg.token(), err, terr)
			}
			return ErrWrongSeal
		default:
			return fmt.Errorf("barrier: %s cannot decrypt with CKM_AES_GCM: %w", s.cfg.token(), err)
		}
		if len(pt) != keySize {
			return ErrWrongSeal
		}
		root = pt
		return nil
	})
	if err != nil {
		return nil, err
	}
	return root, nil
}

// selfTest has the token encrypt and decrypt a random value with key.
func (s *PKCS11) selfTest(ctx *pkcs11.Ctx, sh pkcs11.SessionHandle, key pkcs11.ObjectHandle) error {
	probe := make([]byte, keySize)
	iv := make([]byte, gcmIVSize)
	if _, err := io.ReadFull(rand.Reader, probe); err != nil {
		return err
	}
	if _, err := io.ReadFull(rand.Reader, iv); err != nil {
		return err
	}
	ep := pkcs11.NewGCMParams(iv, pkcs11AAD(), gcmTagBits)
	defer ep.Free()
	if err := ctx.EncryptInit(sh, []*pkcs11.Mechanism{pkcs11.NewMechanism(pkcs11.CKM_AES_GCM, ep)}, key); err != nil {
		return err
	}
	ct, err := ctx.Encrypt(sh, probe)
	if err != nil {
		return err
	}
	if used := ep.IV(); len(used) == gcmIVSize {
		iv = used
	}
	dp := pkcs11.NewGCMParams(iv, pkcs11AAD(), gcmTagBits)
	defer dp.Free()
	if err := ctx.DecryptInit(sh, []*pkcs11.Mechanism{pkcs11.NewMechanism(pkcs11.CKM_AES_GCM, dp)}, key); err != nil {
		return err
	}
	pt, err := ctx.Decrypt(sh, ct)
	if err != nil {
		return err
	}
	if !bytes.Equal(pt, probe) {
		return errors.New("the round trip changed the value")
	}
	return nil
}
