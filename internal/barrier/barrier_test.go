package barrier

import (
	"bytes"
	"errors"
	"os"
	"path/filepath"
	"testing"
)

func TestSealOpen(t *testing.T) {
	path := filepath.Join(t.TempDir(), "root.key")
	b, err := OpenKeyFile(path)
	if err != nil {
		t.Fatal(err)
	}
	fi, err := os.Stat(path)
	if err != nil {
		t.Fatal(err)
	}
	if fi.Mode().Perm() != 0o600 {
		t.Errorf("key file mode = %v, want 0600", fi.Mode().Perm())
	}
	secret := []byte("wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY")
	sealed, err := b.Seal(secret, []byte("authn.key/AKIA1"))
	if err != nil {
		t.Fatal(err)
	}
	if bytes.Contains(sealed, secret) {
		t.Fatal("sealed value contains the plaintext")
	}
	// Reopening the same key file opens the value.
	b2, err := OpenKeyFile(path)
	if err != nil {
		t.Fatal(err)
	}
	got, err := b2.Open(sealed, []byte("authn.key/AKIA1"))
	if err != nil || !bytes.Equal(got, secret) {
		t.Fatalf("Open = %q, %v", got, err)
	}
	// Another place, a flipped bit, another key: nothing opens.
	if _, err := b.Open(sealed, []byte("authn.key/AKIA2")); !errors.Is(err, ErrOpen) {
		t.Errorf("other aad: err = %v, want ErrOpen", err)
	}
	tampered := bytes.Clone(sealed)
	tampered[len(tampered)-1] ^= 1
	if _, err := b.Open(tampered, []byte("authn.key/AKIA1")); !errors.Is(err, ErrOpen) {
		t.Errorf("tampered: err = %v, want ErrOpen", err)
	}
	other, err := New(bytes.Repeat([]byte{7}, 32))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := other.Open(sealed, []byte("authn.key/AKIA1")); !errors.Is(err, ErrOpen) {
		t.Errorf("other key: err = %v, want ErrOpen", err)
	}
	for _, junk := range [][]byte{nil, {magic}, {magic, 0, 0, 0, 1}, {1, 2, 3, 4, 5, 6}} {
		if _, err := b.Open(junk, nil); !errors.Is(err, ErrOpen) {
			t.Errorf("Open(%x) err = %v, want ErrOpen", junk, err)
		}
	}
}

func TestNewRejectsShortKey(t *testing.T) {
	if _, err := New(make([]byte, 16)); err == nil {
		t.Fatal("New accepted a 16-byte key")
	}
}
