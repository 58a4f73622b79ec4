package barrier

import (
	"bytes"
	"errors"
	"path/filepath"
	"testing"
)

func TestSeals(t *testing.T) {
	root, err := NewRootKey()
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	kf := KeyFile{Path: filepath.Join(dir, "seal.key")}
	if err := kf.Create(); err != nil {
		t.Fatal(err)
	}
	if err := kf.Create(); err == nil {
		t.Error("Create replaced an existing key file")
	}
	other := KeyFile{Path: filepath.Join(dir, "other.key")}
	if err := other.Create(); err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		name      string
		seal, bad Seal
	}{
		{"keyfile", kf, other},
		{"passphrase", Passphrase{Secret: []byte("correct horse battery staple")}, Passphrase{Secret: []byte("correct horse battery stapler")}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			w, err := tc.seal.Wrap(root)
			if err != nil {
				t.Fatal(err)
			}
			if bytes.Contains(w, root) {
				t.Fatal("wrapped root key holds the root key")
			}
			got, err := tc.seal.Unwrap(w)
			if err != nil || !bytes.Equal(got, root) {
				t.Fatalf("Unwrap = %x, %v", got, err)
			}
			if _, err := tc.bad.Unwrap(w); !errors.Is(err, ErrWrongSeal) {
				t.Errorf("wrong seal: err = %v, want ErrWrongSeal", err)
			}
		})
	}
	if _, err := (Passphrase{Secret: []byte("short")}).Wrap(root); err == nil {
		t.Error("a 5-character passphrase was accepted")
	}
	w, _ := kf.Wrap(root)
	if _, err := (Passphrase{Secret: []byte("correct horse battery staple")}).Unwrap(w); err == nil {
		t.Error("a passphrase opened a key-file-sealed root key")
	}
}
