//go:build cgo

package barrier

import (
	"bytes"
	"encoding/json"
	"errors"
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/miekg/pkcs11"
)

// softHSMModule is where Debian's softhsm2 package installs the library.
const softHSMModule = "/usr/lib/softhsm/libsofthsm2.so"

// softHSM makes a private SoftHSM2 (its tokens in a temporary directory,
// SOFTHSM2_CONF pointing there) with one initialized token per label, user
// PIN pin, and returns the token directory. It skips the test when SoftHSM2
// is not installed (and fails under CI, which installs it).
func softHSM(t *testing.T, pin string, labels ...string) string {
	t.Helper()
	util, err := exec.LookPath("softhsm2-util")
	if err == nil {
		_, err = os.Stat(softHSMModule)
	}
	if err != nil {
		if os.Getenv("CI") != "" {
			t.Fatalf("CI needs SoftHSM2 (Debian package softhsm2): %v", err)
		}
		t.Skipf("SoftHSM2 is not installed (Debian package softhsm2): %v", err)
	}
	dir := t.TempDir()
	tokens := filepath.Join(dir, "tokens")
	if err := os.Mkdir(tokens, 0o700); err != nil {
		t.Fatal(err)
	}
	conf := filepath.Join(dir, "softhsm2.conf")
	if err := os.WriteFile(conf, []byte("directories.tokendir = "+tokens+"\nobjectstore.backend = file\nlog.level = ERROR\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	t.Setenv("SOFTHSM2_CONF", conf)
	for _, label := range labels {
		cmd := exec.Command(util, "--init-token", "--free", "--label", label, "--pin", pin, "--so-pin", "5678")
		if out, err := cmd.CombinedOutput(); err != nil {
			t.Fatalf("softhsm2-util --init-token: %v\n%s", err, out)
		}
	}
	return tokens
}

func openTestSeal(t *testing.T, token, pin, keyLabel string) *PKCS11 {
	t.Helper()
	s, err := OpenPKCS11(PKCS11Config{Module: softHSMModule, Token: token, PIN: []byte(pin), KeyLabel: keyLabel})
	if err != nil {
		t.Fatalf("OpenPKCS11(%s): %v", token, err)
	}
	t.Cleanup(func() { s.Close() })
	return s
}

func TestPKCS11Seal(t *testing.T) {
	const pin = "1234"
	tokens := softHSM(t, pin, "rampart-test", "rampart-other")
	root, err := NewRootKey()
	if err != nil {
		t.Fatal(err)
	}

	seal := openTestSeal(t, "rampart-test", pin, "")
	var _ Seal = seal
	if created, err := seal.EnsureKey(); err != nil || !created {
		t.Fatalf("EnsureKey = %v, %v; want a new key", created, err)
	}
	if created, err := seal.EnsureKey(); err != nil || created {
		t.Fatalf("second EnsureKey = %v, %v; want the key found", created, err)
	}
	w, err := seal.Wrap(root)
	if err != nil {
		t.Fatal(err)
	}

	t.Run("round trip", func(t *testing.T) {
		if bytes.Contains(w, root) {
			t.Fatal("the wrapped root key holds the root key")
		}
		var rec map[string]any
		if err := json.Unmarshal(w, &rec); err != nil {
			t.Fatal(err)
		}
		if rec["seal"] != "pkcs11" || rec["label"] != DefaultPKCS11KeyLabel || rec["mechanism"] != "CKM_AES_GCM" || rec["nonce"] == nil {
			t.Errorf("wrapped root key records %v", rec)
		}
		got, err := seal.Unwrap(w)
		if err != nil || !bytes.Equal(got, root) {
			t.Fatalf("Unwrap = %x, %v", got, err)
		}
		// Another wrap of the same key: another IV, another blob.
		w2, err := seal.Wrap(root)
		if err != nil || bytes.Equal(w, w2) {
			t.Fatalf("two wraps are equal (%v)", err)
		}
	})

	t.Run("wrong PIN", func(t *testing.T) {
		const wrong = "98765432"
		_, err := OpenPKCS11(PKCS11Config{Module: softHSMModule, Token: "rampart-test", PIN: []byte(wrong)})
		if !errors.Is(err, ErrPKCS11PIN) || !strings.Contains(err.Error(), "the PKCS#11 PIN was refused by token \"rampart-test\"") {
			t.Fatalf("wrong PIN: %v", err)
		}
		if strings.Contains(err.Error(), wrong) {
			t.Fatalf("the error quotes the PIN: %v", err)
		}
		// The seal in use is unharmed.
		if got, err := seal.Unwrap(w); err != nil || !bytes.Equal(got, root) {
			t.Fatalf("Unwrap after a refused login: %v", err)
		}
	})

	t.Run("the key does not leave the token", func(t *testing.T) {
		err := seal.session(false, func(ctx *pkcs11.Ctx, sh pkcs11.SessionHandle) error {
			key, err := seal.findKey(ctx, sh)
			if err != nil {
				return err
			}
			_, err = ctx.GetAttributeValue(sh, key, []*pkcs11.Attribute{pkcs11.NewAttribute(pkcs11.CKA_VALUE, nil)})
			if !errors.Is(err, pkcs11.Error(pkcs11.CKR_ATTRIBUTE_SENSITIVE)) {
				t.Errorf("reading CKA_VALUE: %v, want CKR_ATTRIBUTE_SENSITIVE", err)
			}
			attrs, err := ctx.GetAttributeValue(sh, key, []*pkcs11.Attribute{
				pkcs11.NewAttribute(pkcs11.CKA_TOKEN, nil),
				pkcs11.NewAttribute(pkcs11.CKA_SENSITIVE, nil),
				pkcs11.NewAttribute(pkcs11.CKA_EXTRACTABLE, nil),
				pkcs11.NewAttribute(pkcs11.CKA_NEVER_EXTRACTABLE, nil),
				pkcs11.NewAttribute(pkcs11.CKA_WRAP, nil),
			})
			if err != nil {
				return err
			}
			if !p11Bool(attrs[0].Value) || !p11Bool(attrs[1].Value) || p11Bool(attrs[2].Value) || !p11Bool(attrs[3].Value) || p11Bool(attrs[4].Value) {
				t.Errorf("key attributes token=%v sensitive=%v extractable=%v never-extractable=%v wrap=%v",
					attrs[0].Value, attrs[1].Value, attrs[2].Value, attrs[3].Value, attrs[4].Value)
			}
			// Wrapping it out under another key is refused as well.
			wrapper, err := ctx.GenerateKey(sh, []*pkcs11.Mechanism{pkcs11.NewMechanism(pkcs11.CKM_AES_KEY_GEN, nil)}, []*pkcs11.Attribute{
				pkcs11.NewAttribute(pkcs11.CKA_CLASS, pkcs11.CKO_SECRET_KEY),
				pkcs11.NewAttribute(pkcs11.CKA_KEY_TYPE, pkcs11.CKK_AES),
				pkcs11.NewAttribute(pkcs11.CKA_VALUE_LEN, 32),
				pkcs11.NewAttribute(pkcs11.CKA_TOKEN, false),
				pkcs11.NewAttribute(pkcs11.CKA_WRAP, true),
			})
			if err != nil {
				return err
			}
			out, err := ctx.WrapKey(sh, []*pkcs11.Mechanism{pkcs11.NewMechanism(pkcs11.CKM_AES_KEY_WRAP, nil)}, wrapper, key)
			if !errors.Is(err, pkcs11.Error(pkcs11.CKR_KEY_UNEXTRACTABLE)) {
				t.Errorf("C_WrapKey of the seal's key: %d bytes, %v; want CKR_KEY_UNEXTRACTABLE", len(out), err)
			}
			return nil
		})
		if err != nil {
			t.Fatal(err)
		}
	})

	t.Run("another token's key", func(t *testing.T) {
		other := openTestSeal(t, "rampart-other", pin, "")
		if _, err := other.EnsureKey(); err != nil {
			t.Fatal(err)
		}
		if _, err := other.Unwrap(w); !errors.Is(err, ErrWrongSeal) {
			t.Fatalf("another token's key: %v, want ErrWrongSeal", err)
		}
		wo, err := other.Wrap(root)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := seal.Unwrap(wo); !errors.Is(err, ErrWrongSeal) {
			t.Fatalf("a root key wrapped by another token: %v, want ErrWrongSeal", err)
		}
	})

	t.Run("damaged or foreign blobs", func(t *testing.T) {
		var rec wrapped
		json.Unmarshal(w, &rec)
		rec.Key = bytes.Clone(rec.Key)
		rec.Key[3] ^= 1
		tampered, _ := json.Marshal(rec)
		json.Unmarshal(w, &rec)
		rec.Label = "someone-else"
		relabelled, _ := json.Marshal(rec)
		kf := KeyFile{Path: filepath.Join(t.TempDir(), "k")}
		kf.Create()
		byKeyFile, _ := kf.Wrap(root)
		for name, b := range map[string][]byte{"tampered": tampered, "another label": relabelled} {
			if _, err := seal.Unwrap(b); !errors.Is(err, ErrWrongSeal) {
				t.Errorf("%s: %v, want ErrWrongSeal", name, err)
			}
		}
		if _, err := seal.Unwrap(byKeyFile); err == nil || !strings.Contains(err.Error(), `sealed with "keyfile"`) {
			t.Errorf("a key-file-sealed root key: %v", err)
		}
	})

	t.Run("missing key", func(t *testing.T) {
		s := openTestSeal(t, "rampart-test", pin, "no-such-key")
		if _, err := s.Wrap(root); !errors.Is(err, ErrPKCS11NoKey) || !strings.Contains(err.Error(), `holds no secret key labelled "no-such-key"`) {
			t.Errorf("Wrap without the key: %v", err)
		}
		if _, err := s.Unwrap(w); !errors.Is(err, ErrWrongSeal) {
			t.Errorf("Unwrap with another label: %v", err)
		}
	})

	t.Run("an extractable key is refused", func(t *testing.T) {
		s := openTestSeal(t, "rampart-test", pin, "leaky")
		err := s.session(true, func(ctx *pkcs11.Ctx, sh pkcs11.SessionHandle) error {
			_, err := ctx.GenerateKey(sh, []*pkcs11.Mechanism{pkcs11.NewMechanism(pkcs11.CKM_AES_KEY_GEN, nil)}, []*pkcs11.Attribute{
				pkcs11.NewAttribute(pkcs11.CKA_CLASS, pkcs11.CKO_SECRET_KEY),
				pkcs11.NewAttribute(pkcs11.CKA_KEY_TYPE, pkcs11.CKK_AES),
				pkcs11.NewAttribute(pkcs11.CKA_VALUE_LEN, 32),
				pkcs11.NewAttribute(pkcs11.CKA_TOKEN, true),
				pkcs11.NewAttribute(pkcs11.CKA_SENSITIVE, false),
				pkcs11.NewAttribute(pkcs11.CKA_EXTRACTABLE, true),
				pkcs11.NewAttribute(pkcs11.CKA_ENCRYPT, true),
				pkcs11.NewAttribute(pkcs11.CKA_DECRYPT, true),
				pkcs11.NewAttribute(pkcs11.CKA_LABEL, "leaky"),
			})
			return err
		})
		if err != nil {
			t.Fatal(err)
		}
		if _, err := s.EnsureKey(); err == nil || !strings.Contains(err.Error(), "can leave the token") {
			t.Fatalf("EnsureKey over an extractable key: %v", err)
		}
		if _, err := s.Wrap(root); err == nil {
			t.Fatal("wrapped with an extractable key")
		}
	})

	t.Run("tokens and modules that are not there", func(t *testing.T) {
		slot := uint(4242)
		for _, tc := range []struct {
			cfg  PKCS11Config
			want string
		}{
			{PKCS11Config{Module: softHSMModule, Token: "nope", PIN: []byte(pin)}, `no token labelled "nope"`},
			{PKCS11Config{Module: softHSMModule, Slot: &slot, PIN: []byte(pin)}, "slot 4242"},
			{PKCS11Config{Module: filepath.Join(t.TempDir(), "missing.so"), Token: "x", PIN: []byte(pin)}, "no such file"},
			{PKCS11Config{Module: softHSMModule, Token: "rampart-test"}, "needs the token's user PIN"},
		} {
			if _, err := OpenPKCS11(tc.cfg); err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Errorf("OpenPKCS11(%v): %v, want %q", tc.cfg, err, tc.want)
			}
		}
	})

	t.Run("reopen", func(t *testing.T) {
		// The last seal of a module closes it; the next one loads it again.
		seal.Close()
		seal.Close()
		if _, err := seal.Unwrap(w); err == nil {
			t.Fatal("a closed seal unwrapped")
		}
		s := openTestSeal(t, "rampart-test", pin, "")
		if got, err := s.Unwrap(w); err != nil || !bytes.Equal(got, root) {
			t.Fatalf("Unwrap after reopening: %v", err)
		}
	})

	// Neither the root key nor the PIN-protected key's value is anywhere in
	// the token files in the clear (SoftHSM encrypts private objects).
	err = filepath.WalkDir(tokens, func(p string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		b, err := os.ReadFile(p)
		if err != nil {
			return err
		}
		if bytes.Contains(b, root) {
			t.Errorf("%s holds the root key", p)
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
}

func TestPKCS11ConfigHidesPIN(t *testing.T) {
	cfg := PKCS11Config{Module: "/m.so", Token: "t", PIN: []byte("s3cr3t-pin")}
	for _, s := range []string{cfg.String(), cfg.LogValue().String()} {
		if strings.Contains(s, "s3cr3t") || !strings.Contains(s, `token "t"`) {
			t.Errorf("config printed as %q", s)
		}
	}
}
