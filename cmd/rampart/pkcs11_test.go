//go:build cgo

package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/kms"
	"github.com/aws/aws-sdk-go-v2/service/secretsmanager"
	"github.com/aws/aws-sdk-go-v2/service/sts"
)

// softHSMModule is where Debian's softhsm2 package installs the library.
const softHSMModule = "/usr/lib/softhsm/libsofthsm2.so"

// softHSMEnv makes a private SoftHSM2 (tokens in a temporary directory)
// with one token per label, user PIN pin, and returns the environment
// that points rampart at it. It skips the test when SoftHSM2 is absent
// (and fails under CI, which installs it).
func softHSMEnv(t *testing.T, pin string, labels ...string) []string {
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
	env := []string{"SOFTHSM2_CONF=" + conf}
	for _, label := range labels {
		cmd := exec.Command(util, "--init-token", "--free", "--label", label, "--pin", pin, "--so-pin", "5678")
		cmd.Env = append(os.Environ(), env...)
		if out, err := cmd.CombinedOutput(); err != nil {
			t.Fatalf("softhsm2-util --init-token: %v\n%s", err, out)
		}
	}
	return env
}

// runEnv runs the binary with extra environment, returning its combined output.
func runEnv(t *testing.T, bin string, env []string, args ...string) (string, error) {
	t.Helper()
	cmd := exec.Command(bin, args...)
	cmd.Env = append(os.Environ(), env...)
	out, err := cmd.CombinedOutput()
	return string(out), err
}

// TestPKCS11Seal: an installation whose root key is sealed by a key in a
// SoftHSM2 token serves, restarts, backs up and restores; a wrong PIN
// starts nothing and touches nothing.
func TestPKCS11Seal(t *testing.T) {
	if testing.Short() {
		t.Skip("builds the binary")
	}
	const pin, wrongPIN = "e2e-pin-7391", "e2e-pin-0000"
	hsm := softHSMEnv(t, pin, "rampart-e2e")
	bin := buildRampart(t)
	env := append([]string{"RAMPART_PKCS11_PIN=" + pin}, hsm...)
	wrong := append([]string{"RAMPART_PKCS11_PIN=" + wrongPIN}, hsm...)
	dir := filepath.Join(t.TempDir(), "data")
	initArgs := []string{"init", "--data", dir, "--seal", "pkcs11", "--pkcs11-module", softHSMModule, "--pkcs11-token", "rampart-e2e"}

	// A refused PIN at init: a clear message, no data directory.
	out, err := runEnv(t, bin, wrong, initArgs...)
	if err == nil || !strings.Contains(out, `the PKCS#11 PIN was refused by token "rampart-e2e"`) || strings.Contains(out, wrongPIN) {
		t.Fatalf("init with a wrong PIN: %v %s", err, out)
	}
	if _, err := os.Stat(dir); err == nil {
		t.Fatal("init with a wrong PIN created the data directory")
	}
	// No token of that name: the message lists those there are.
	out, err = runEnv(t, bin, env, "init", "--data", dir, "--seal", "pkcs11", "--pkcs11-module", softHSMModule, "--pkcs11-token", "nope")
	if err == nil || !strings.Contains(out, `no token labelled "nope"`) || !strings.Contains(out, `"rampart-e2e"`) {
		t.Fatalf("init with an unknown token: %v %s", err, out)
	}

	creds := initJSON(t, bin, env, initArgs[1:]...)
	cfg, err := os.ReadFile(filepath.Join(dir, "rampart.json"))
	if err != nil {
		t.Fatal(err)
	}
	var inst struct {
		Seal   string `json:"seal"`
		PKCS11 struct {
			Module, Token, KeyLabel string
		} `json:"pkcs11"`
	}
	if err := json.Unmarshal(cfg, &inst); err != nil {
		t.Fatal(err)
	}
	if inst.Seal != "pkcs11" || inst.PKCS11.Module != softHSMModule || inst.PKCS11.Token != "rampart-e2e" || inst.PKCS11.KeyLabel != "rampart-root-key" {
		t.Errorf("rampart.json = %s", cfg)
	}
	if bytes.Contains(cfg, []byte(pin)) {
		t.Fatal("rampart.json holds the PIN")
	}
	if _, err := os.Stat(filepath.Join(dir, "seal.key")); err == nil {
		t.Error("a pkcs11 installation has a key file")
	}

	ctx := context.Background()
	n := startNode(t, bin, env, "--data", dir)
	sdk := sdkConfig(n.ep, creds["accessKeyId"], creds["secretAccessKey"], "")
	id, err := sts.NewFromConfig(sdk).GetCallerIdentity(ctx, &sts.GetCallerIdentityInput{})
	if err != nil || aws.ToString(id.Account) != creds["accountId"] {
		t.Fatalf("GetCallerIdentity: %v %v", id, err)
	}
	const secret = "sealed-by-the-hsm"
	if _, err := secretsmanager.NewFromConfig(sdk).CreateSecret(ctx, &secretsmanager.CreateSecretInput{Name: aws.String("p11/secret"), SecretString: aws.String(secret)}); err != nil {
		t.Fatalf("CreateSecret: %v", err)
	}
	key, err := kms.NewFromConfig(sdk).CreateKey(ctx, &kms.CreateKeyInput{})
	if err != nil {
		t.Fatalf("CreateKey: %v", err)
	}
	enc, err := kms.NewFromConfig(sdk).Encrypt(ctx, &kms.EncryptInput{KeyId: key.KeyMetadata.KeyId, Plaintext: []byte("kms plaintext")})
	if err != nil {
		t.Fatalf("Encrypt: %v", err)
	}
	n.stop()

	// A wrong PIN, or none: the server does not start, and says why.
	for _, tc := range []struct {
		name string
		env  []string
		want string
	}{
		{"wrong PIN", wrong, `the PKCS#11 PIN was refused by token "rampart-e2e"`},
		{"no PIN", append([]string{"RAMPART_PKCS11_PIN="}, hsm...), "give the token's user PIN in RAMPART_PKCS11_PIN"},
	} {
		out, err := runEnv(t, bin, tc.env, "server", "--data", dir, "--addr", "127.0.0.1:0")
		var exit *exec.ExitError
		if !errors.As(err, &exit) || exit.ExitCode() == 0 || !strings.Contains(out, tc.want) || strings.Contains(out, wrongPIN) {
			t.Fatalf("server with %s: %v %s", tc.name, err, out)
		}
	}

	// Restarted with the PIN: everything reads back.
	verify := func(t *testing.T, ep string) {
		t.Helper()
		sdk := sdkConfig(ep, creds["accessKeyId"], creds["secretAccessKey"], "")
		got, err := secretsmanager.NewFromConfig(sdk).GetSecretValue(ctx, &secretsmanager.GetSecretValueInput{SecretId: aws.String("p11/secret")})
		if err != nil || aws.ToString(got.SecretString) != secret {
			t.Fatalf("GetSecretValue: %v", err)
		}
		dec, err := kms.NewFromConfig(sdk).Decrypt(ctx, &kms.DecryptInput{CiphertextBlob: enc.CiphertextBlob})
		if err != nil || string(dec.Plaintext) != "kms plaintext" {
			t.Fatalf("Decrypt: %v", err)
		}
	}
	n = startNode(t, bin, env, "--data", dir)
	verify(t, n.ep)
	n.stop()

	// Backup and restore: the backup names the token; restore checks the
	// token's key opens the root key (a wrong PIN leaves nothing behind).
	file := filepath.Join(t.TempDir(), "p11.backup")
	out, err = runEnv(t, bin, nil, "backup", "--data", dir, "--out", file)
	if err != nil || !strings.Contains(out, `restoring needs the PKCS#11 token "rampart-e2e"`) {
		t.Fatalf("backup: %v %s", err, out)
	}
	dst := filepath.Join(t.TempDir(), "restored")
	// The backup's module path is never loaded: restore needs this
	// machine's library named.
	out, err = runEnv(t, bin, env, "restore", "--in", file, "--data", dst)
	if err == nil || !strings.Contains(out, "RAMPART_PKCS11_MODULE") {
		t.Fatalf("restore without RAMPART_PKCS11_MODULE: %v %s", err, out)
	}
	env = append(env, "RAMPART_PKCS11_MODULE="+softHSMModule)
	wrong = append(wrong, "RAMPART_PKCS11_MODULE="+softHSMModule)
	out, err = runEnv(t, bin, wrong, "restore", "--in", file, "--data", dst)
	if err == nil || !strings.Contains(out, "PIN was refused") {
		t.Fatalf("restore with a wrong PIN: %v %s", err, out)
	}
	if _, err := os.Stat(dst); err == nil {
		t.Fatal("a restore refused for its PIN created the data directory")
	}
	out, err = runEnv(t, bin, env, "restore", "--in", file, "--data", dst)
	if err != nil || !strings.Contains(out, `the PKCS#11 key "rampart-root-key" opens its root key`) {
		t.Fatalf("restore: %v %s", err, out)
	}
	n = startNode(t, bin, env, "--data", dst)
	verify(t, n.ep)
	n.stop()
}
