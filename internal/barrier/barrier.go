// Package barrier seals what rampart keeps at rest: access-key secrets, key
// material, secret values. Everything sensitive passes through a [Barrier]
// before it reaches the store, so the database alone reveals nothing.
//
// A Barrier holds a keyring of 256-bit AES-GCM keys. Sealed values carry the
// version of the key that sealed them, so the keyring can rotate while old
// values stay readable. The keyring itself is protected by a seal: today a key
// file in the data directory (mode 0600); the passphrase and PKCS#11 seals of
// production mode wrap the same keyring.
package barrier

import (
	"crypto/aes"
	"crypto/cipher"
	"crypto/rand"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"os"
)

// ErrOpen is returned when a sealed value cannot be opened: wrong key,
// tampered ciphertext, or a value sealed for another purpose (its associated
// data differs).
var ErrOpen = errors.New("barrier: cannot open sealed value")

const (
	keySize   = 32
	magic     = 0xB1 // first byte of every sealed value
	headerLen = 1 + 4
)

// Barrier seals and opens values. It is safe for concurrent use.
type Barrier struct {
	current uint32
	aeads   map[uint32]cipher.AEAD
	rand    io.Reader
}

// New returns a barrier over the given key (version 1).
func New(key []byte) (*Barrier, error) {
	if len(key) != keySize {
		return nil, fmt.Errorf("barrier: key must be %d bytes, got %d", keySize, len(key))
	}
	block, err := aes.NewCipher(key)
	if err != nil {
		return nil, err
	}
	aead, err := cipher.NewGCM(block)
	if err != nil {
		return nil, err
	}
	return &Barrier{current: 1, aeads: map[uint32]cipher.AEAD{1: aead}, rand: rand.Reader}, nil
}

// OpenKeyFile opens the barrier whose key is in path, creating the file with a
// fresh random key (mode 0600) when it does not exist.
func OpenKeyFile(path string) (*Barrier, error) {
	key, err := os.ReadFile(path)
	if errors.Is(err, os.ErrNotExist) {
		key = make([]byte, keySize)
		if _, err := io.ReadFull(rand.Reader, key); err != nil {
			return nil, err
		}
		f, err := os.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o600)
		if err != nil {
			return nil, fmt.Errorf("barrier: create key file: %w", err)
		}
		if _, err := f.Write(key); err != nil {
			f.Close()
			return nil, fmt.Errorf("barrier: write key file: %w", err)
		}
		if err := f.Sync(); err != nil {
			f.Close()
			return nil, err
		}
		if err := f.Close(); err != nil {
			return nil, err
		}
	} else if err != nil {
		return nil, fmt.Errorf("barrier: read key file: %w", err)
	}
	return New(key)
}

// Seal encrypts plaintext. aad binds the sealed value to its place (say the
// table and key it is stored under), so a value copied elsewhere does not open.
func (b *Barrier) Seal(plaintext, aad []byte) ([]byte, error) {
	aead := b.aeads[b.current]
	out := make([]byte, headerLen, headerLen+aead.NonceSize()+len(plaintext)+aead.Overhead())
	out[0] = magic
	binary.BigEndian.PutUint32(out[1:], b.current)
	nonce := out[headerLen : headerLen+aead.NonceSize()]
	out = out[:headerLen+aead.NonceSize()]
	if _, err := io.ReadFull(b.rand, nonce); err != nil {
		return nil, err
	}
	return aead.Seal(out, nonce, plaintext, append(out[:headerLen:headerLen], aad...)), nil
}

// Open decrypts a value made by Seal with the same aad.
func (b *Barrier) Open(sealed, aad []byte) ([]byte, error) {
	if len(sealed) < headerLen || sealed[0] != magic {
		return nil, ErrOpen
	}
	aead, ok := b.aeads[binary.BigEndian.Uint32(sealed[1:])]
	if !ok || len(sealed) < headerLen+aead.NonceSize() {
		return nil, ErrOpen
	}
	nonce := sealed[headerLen : headerLen+aead.NonceSize()]
	ad := append(append([]byte(nil), sealed[:headerLen]...), aad...)
	pt, err := aead.Open(nil, nonce, sealed[headerLen+aead.NonceSize():], ad)
	if err != nil {
		return nil, ErrOpen
	}
	return pt, nil
}
