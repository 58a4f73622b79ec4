package barrier

import (
	"crypto/aes"
	"crypto/cipher"
	"crypto/rand"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"

	"golang.org/x/crypto/argon2"
)

// A Seal protects the barrier's root key at rest. The root key itself is
// stored wrapped (in the store, so that every node of a cluster finds it);
// each node holds what unwraps it: a key file, a passphrase, or the PIN of
// a PKCS#11 token holding the key-encryption key. A seal that holds
// resources (the PKCS#11 seal: a loaded module) also implements io.Closer.
type Seal interface {
	// Name is the seal's kind, as the configuration names it: "keyfile", "passphrase", "pkcs11".
	Name() string
	// Wrap encrypts a root key.
	Wrap(rootKey []byte) ([]byte, error)
	// Unwrap decrypts a wrapped root key; it returns ErrWrongSeal when the
	// key file or passphrase is not the one that wrapped it.
	Unwrap(wrapped []byte) ([]byte, error)
}

// ErrWrongSeal means the seal at hand did not wrap the stored root key: a
// wrong passphrase, another installation's key file, another token's key.
var ErrWrongSeal = errors.New("barrier: the seal does not open the root key (wrong key file or passphrase, or another PKCS#11 key)")

// NewRootKey returns a fresh random root key.
func NewRootKey() ([]byte, error) {
	k := make([]byte, keySize)
	_, err := io.ReadFull(rand.Reader, k)
	return k, err
}

// wrapped is the stored form of a wrapped root key.
type wrapped struct {
	Seal  string `json:"seal"`
	Salt  []byte `json:"salt,omitempty"`   // passphrase: argon2id salt
	Time  uint32 `json:"time,omitempty"`   // passphrase: argon2id passes
	MemKB uint32 `json:"memKiB,omitempty"` // passphrase: argon2id memory
	Lanes uint8  `json:"lanes,omitempty"`
	Label string `json:"label,omitempty"`     // pkcs11: CKA_LABEL of the key-encryption key in the token
	Mech  string `json:"mechanism,omitempty"` // pkcs11: how the token encrypted the root key
	Nonce []byte `json:"nonce"`
	Key   []byte `json:"key"` // AES-256-GCM of the root key under the key-encryption key (pkcs11: with the tag appended, as the token returns it)
}

func wrapWith(kek []byte, w wrapped, rootKey []byte) ([]byte, error) {
	aead, err := gcm(kek)
	if err != nil {
		return nil, err
	}
	w.Nonce = make([]byte, aead.NonceSize())
	if _, err := io.ReadFull(rand.Reader, w.Nonce); err != nil {
		return nil, err
	}
	w.Key = aead.Seal(nil, w.Nonce, rootKey, []byte("rampart root key/"+w.Seal))
	return json.Marshal(w)
}

func unwrapWith(kek []byte, w wrapped) ([]byte, error) {
	aead, err := gcm(kek)
	if err != nil {
		return nil, err
	}
	if len(w.Nonce) != aead.NonceSize() {
		return nil, ErrWrongSeal
	}
	k, err := aead.Open(nil, w.Nonce, w.Key, []byte("rampart root key/"+w.Seal))
	if err != nil {
		return nil, ErrWrongSeal
	}
	return k, nil
}

func gcm(key []byte) (cipher.AEAD, error) {
	block, err := aes.NewCipher(key)
	if err != nil {
		return nil, err
	}
	return cipher.NewGCM(block)
}

func parseWrapped(b []byte, seal string) (wrapped, error) {
	var w wrapped
	if err := json.Unmarshal(b, &w); err != nil {
		return w, fmt.Errorf("barrier: stored root key is damaged: %w", err)
	}
	if w.Seal != seal {
		return w, fmt.Errorf("barrier: the root key is sealed with %q, not %q", w.Seal, seal)
	}
	return w, nil
}

// KeyFile is the default seal: a 256-bit key-encryption key in a file
// (mode 0600) beside the data.
type KeyFile struct{ Path string }

// Name implements Seal.
func (KeyFile) Name() string { return "keyfile" }

// Create writes a fresh key file; it refuses to replace an existing one.
func (s KeyFile) Create() error {
	kek, err := NewRootKey()
	if err != nil {
		return err
	}
	f, err := os.OpenFile(s.Path, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o600)
	if err != nil {
		return fmt.Errorf("barrier: create key file: %w", err)
	}
	if _, err := f.Write(kek); err != nil {
		f.Close()
		return err
	}
	if err := f.Sync(); err != nil {
		f.Close()
		return err
	}
	return f.Close()
}

func (s KeyFile) kek() ([]byte, error) {
	kek, err := os.ReadFile(s.Path)
	if err != nil {
		return nil, fmt.Errorf("barrier: read key file: %w", err)
	}
	if len(kek) != keySize {
		return nil, fmt.Errorf("barrier: key file %s holds %d bytes, want %d", s.Path, len(kek), keySize)
	}
	return kek, nil
}

// Wrap implements Seal.
func (s KeyFile) Wrap(rootKey []byte) ([]byte, error) {
	kek, err := s.kek()
	if err != nil {
		return nil, err
	}
	return wrapWith(kek, wrapped{Seal: s.Name()}, rootKey)
}

// Unwrap implements Seal.
func (s KeyFile) Unwrap(b []byte) ([]byte, error) {
	w, err := parseWrapped(b, s.Name())
	if err != nil {
		return nil, err
	}
	kek, err := s.kek()
	if err != nil {
		return nil, err
	}
	return unwrapWith(kek, w)
}

// Passphrase derives the key-encryption key from a passphrase with argon2id
// (RFC 9106's second recommended option: 3 passes, 64 MiB, 4 lanes).
type Passphrase struct{ Secret []byte }

// Name implements Seal.
func (Passphrase) Name() string { return "passphrase" }

const (
	argonTime  = 3
	argonMemKB = 64 * 1024
	argonLanes = 4
)

// Wrap implements Seal.
func (s Passphrase) Wrap(rootKey []byte) ([]byte, error) {
	if len(s.Secret) < 12 {
		return nil, errors.New("barrier: the passphrase must be at least 12 characters")
	}
	w := wrapped{Seal: s.Name(), Salt: make([]byte, 16), Time: argonTime, MemKB: argonMemKB, Lanes: argonLanes}
	if _, err := io.ReadFull(rand.Reader, w.Salt); err != nil {
		return nil, err
	}
	return wrapWith(argon2.IDKey(s.Secret, w.Salt, w.Time, w.MemKB, w.Lanes, keySize), w, rootKey)
}

// Unwrap implements Seal.
func (s Passphrase) Unwrap(b []byte) ([]byte, error) {
	w, err := parseWrapped(b, s.Name())
	if err != nil {
		return nil, err
	}
	if w.Time == 0 || w.Time > 16 || w.MemKB == 0 || w.MemKB > 4<<20 || w.Lanes == 0 {
		return nil, errors.New("barrier: stored argon2id parameters are out of range")
	}
	return unwrapWith(argon2.IDKey(s.Secret, w.Salt, w.Time, w.MemKB, w.Lanes, keySize), w)
}
