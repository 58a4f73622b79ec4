package main

import (
	"bytes"
	"context"
	"crypto/ecdsa"
	"crypto/sha256"
	"crypto/x509"
	"encoding/base64"
	"encoding/json"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/iam"
	"github.com/aws/aws-sdk-go-v2/service/kms"
	"github.com/aws/aws-sdk-go-v2/service/kms/types"

	"github.com/rampart/rampart/internal/rampartest"
)

// kmsSDKConfig is an AWS SDK for Go configuration for endpoint.
func kmsSDKConfig(endpoint, accessKey, secretKey string) aws.Config {
	return aws.Config{
		Region:       "us-east-1",
		Credentials:  credentials.NewStaticCredentialsProvider(accessKey, secretKey, ""),
		BaseEndpoint: aws.String(endpoint),
		Retryer:      rampartest.Retryer,
		HTTPClient:   &http.Client{},
	}
}

// kmsCLI runs the AWS CLI and decodes its JSON output; it fails the test
// when the CLI fails.
func kmsCLI(t *testing.T, ep string, out any, args ...string) {
	t.Helper()
	stdout, stderr, err := runCLI(t, ep, "test", "test", args...)
	if err != nil {
		t.Fatalf("aws %s: %v\n%s", strings.Join(args, " "), err, stderr)
	}
	if out != nil {
		if err := json.Unmarshal([]byte(stdout), out); err != nil {
			t.Fatalf("aws %s: output %q: %v", strings.Join(args, " "), stdout, err)
		}
	}
}

// kmsCLIFails runs the AWS CLI, expects it to fail with code when calling op,
// and returns its stderr.
func kmsCLIFails(t *testing.T, ep, op, code string, args ...string) string {
	t.Helper()
	_, stderr, err := runCLI(t, ep, "test", "test", args...)
	if err == nil {
		t.Fatalf("aws %s succeeded; want %s", strings.Join(args, " "), code)
	}
	want := "An error occurred (" + code + ") when calling the " + op + " operation"
	if !strings.Contains(stderr, want) {
		t.Fatalf("aws %s: stderr %q lacks %q", strings.Join(args, " "), stderr, want)
	}
	return stderr
}

func kmsTempFile(t *testing.T, name string, data []byte) string {
	t.Helper()
	p := filepath.Join(t.TempDir(), name)
	if err := os.WriteFile(p, data, 0o600); err != nil {
		t.Fatal(err)
	}
	return p
}

func kmsUnb64(t *testing.T, s string) []byte {
	t.Helper()
	b, err := base64.StdEncoding.DecodeString(s)
	if err != nil {
		t.Fatalf("base64 %q: %v", s, err)
	}
	return b
}

// TestKMSWithCLI drives KMS with the AWS CLI v2 against `rampart dev`: the
// blob arguments (fileb://), encryption contexts in the CLI's shorthand,
// signatures checked offline with the public key, key states.
func TestKMSWithCLI(t *testing.T) {
	if testing.Short() {
		t.Skip("builds the binary and runs the AWS CLI")
	}
	t.Parallel() // its own rampart dev and CLI home: shares nothing with the other scenarios
	requireCLI(t)
	ep := startDev(t, buildRampart(t))

	var created struct {
		KeyMetadata struct{ KeyId, Arn, KeyState, KeySpec string }
	}
	kmsCLI(t, ep, &created, "kms", "create-key", "--description", "the CLI's key")
	key := created.KeyMetadata
	if key.KeyState != "Enabled" || key.KeySpec != "SYMMETRIC_DEFAULT" || !strings.HasSuffix(key.Arn, ":key/"+key.KeyId) {
		t.Fatalf("create-key: %+v", key)
	}
	kmsCLI(t, ep, nil, "kms", "create-alias", "--alias-name", "alias/cli", "--target-key-id", key.KeyId)

	plaintext := []byte("attack at dawn \x00\xff binary too")
	ptFile := kmsTempFile(t, "plaintext", plaintext)
	const ctx = "purpose=cli-test,stage=ci"
	var enc struct{ CiphertextBlob, KeyId, EncryptionAlgorithm string }
	kmsCLI(t, ep, &enc, "kms", "encrypt", "--key-id", "alias/cli", "--plaintext", "fileb://"+ptFile, "--encryption-context", ctx)
	if enc.KeyId != key.Arn || enc.EncryptionAlgorithm != "SYMMETRIC_DEFAULT" {
		t.Fatalf("encrypt: %+v", enc)
	}
	ct := kmsUnb64(t, enc.CiphertextBlob)
	if bytes.Contains(ct, plaintext[:8]) {
		t.Fatal("the ciphertext contains the plaintext")
	}
	ctFile := kmsTempFile(t, "ciphertext", ct)

	t.Run("decrypt", func(t *testing.T) {
		var dec struct{ Plaintext, KeyId string }
		// No --key-id: a symmetric ciphertext names its key.
		kmsCLI(t, ep, &dec, "kms", "decrypt", "--ciphertext-blob", "fileb://"+ctFile, "--encryption-context", ctx)
		if got := kmsUnb64(t, dec.Plaintext); !bytes.Equal(got, plaintext) || dec.KeyId != key.Arn {
			t.Fatalf("decrypt: %q from %s; want %q from %s", got, dec.KeyId, plaintext, key.Arn)
		}
		// --output text --query Plaintext, as scripts do.
		out, errOut, err := runCLI(t, ep, "test", "test", "kms", "decrypt", "--ciphertext-blob", "fileb://"+ctFile, "--encryption-context", ctx, "--output", "text", "--query", "Plaintext")
		if err != nil || !bytes.Equal(kmsUnb64(t, strings.TrimSpace(out)), plaintext) {
			t.Fatalf("decrypt --output text: %q %v %s", out, err, errOut)
		}
	})

	for name, tc := range map[string]struct {
		args []string
		op   string
		code string
	}{
		"other context":     {[]string{"kms", "decrypt", "--ciphertext-blob", "fileb://" + ctFile, "--encryption-context", "purpose=cli-test"}, "Decrypt", "InvalidCiphertextException"},
		"no context":        {[]string{"kms", "decrypt", "--ciphertext-blob", "fileb://" + ctFile}, "Decrypt", "InvalidCiphertextException"},
		"tampered":          {[]string{"kms", "decrypt", "--ciphertext-blob", "fileb://" + kmsTempFile(t, "tampered", kmsFlipLast(ct)), "--encryption-context", ctx}, "Decrypt", "InvalidCiphertextException"},
		"unknown alias":     {[]string{"kms", "encrypt", "--key-id", "alias/nope", "--plaintext", "fileb://" + ptFile}, "Encrypt", "NotFoundException"},
		"plaintext > 4 KiB": {[]string{"kms", "encrypt", "--key-id", key.KeyId, "--plaintext", "fileb://" + kmsTempFile(t, "big", make([]byte, 4097))}, "Encrypt", "ValidationException"},
		"reserved alias":    {[]string{"kms", "create-alias", "--alias-name", "alias/aws/mine", "--target-key-id", key.KeyId}, "CreateAlias", "InvalidAliasNameException"},
	} {
		t.Run(name, func(t *testing.T) {
			kmsCLIFails(t, ep, tc.op, tc.code, tc.args...)
		})
	}

	t.Run("generate-data-key", func(t *testing.T) {
		var dk struct{ CiphertextBlob, Plaintext, KeyId string }
		kmsCLI(t, ep, &dk, "kms", "generate-data-key", "--key-id", key.KeyId, "--key-spec", "AES_256", "--encryption-context", ctx)
		pt := kmsUnb64(t, dk.Plaintext)
		if len(pt) != 32 || dk.KeyId != key.Arn {
			t.Fatalf("generate-data-key: %d bytes from %s", len(pt), dk.KeyId)
		}
		var dec struct{ Plaintext string }
		kmsCLI(t, ep, &dec, "kms", "decrypt", "--ciphertext-blob", "fileb://"+kmsTempFile(t, "dk", kmsUnb64(t, dk.CiphertextBlob)), "--encryption-context", ctx)
		if !bytes.Equal(kmsUnb64(t, dec.Plaintext), pt) {
			t.Fatal("the data key's ciphertext does not decrypt to its plaintext")
		}
		var dk2 struct{ Plaintext string }
		kmsCLI(t, ep, &dk2, "kms", "generate-data-key", "--key-id", key.KeyId, "--number-of-bytes", "64")
		if len(kmsUnb64(t, dk2.Plaintext)) != 64 {
			t.Fatalf("--number-of-bytes 64 gave %d bytes", len(kmsUnb64(t, dk2.Plaintext)))
		}
	})

	t.Run("sign and verify with an ECC key", func(t *testing.T) {
		var ecc struct {
			KeyMetadata struct{ KeyId, KeyUsage string }
		}
		kmsCLI(t, ep, &ecc, "kms", "create-key", "--key-spec", "ECC_NIST_P256", "--key-usage", "SIGN_VERIFY")
		id := ecc.KeyMetadata.KeyId
		msg := []byte("a message to sign")
		msgFile := kmsTempFile(t, "message", msg)
		var sig struct{ Signature, SigningAlgorithm string }
		kmsCLI(t, ep, &sig, "kms", "sign", "--key-id", id, "--message", "fileb://"+msgFile, "--message-type", "RAW", "--signing-algorithm", "ECDSA_SHA_256")
		sigFile := kmsTempFile(t, "signature", kmsUnb64(t, sig.Signature))
		var ver struct {
			SignatureValid   bool
			SigningAlgorithm string
		}
		kmsCLI(t, ep, &ver, "kms", "verify", "--key-id", id, "--message", "fileb://"+msgFile, "--message-type", "RAW", "--signing-algorithm", "ECDSA_SHA_256", "--signature", "fileb://"+sigFile)
		if !ver.SignatureValid || ver.SigningAlgorithm != "ECDSA_SHA_256" {
			t.Fatalf("verify: %+v", ver)
		}
		// A relying party verifies offline with the public key.
		var pub struct{ PublicKey string }
		kmsCLI(t, ep, &pub, "kms", "get-public-key", "--key-id", id)
		pk, err := x509.ParsePKIXPublicKey(kmsUnb64(t, pub.PublicKey))
		if err != nil {
			t.Fatal(err)
		}
		digest := sha256.Sum256(msg)
		if !ecdsa.VerifyASN1(pk.(*ecdsa.PublicKey), digest[:], kmsUnb64(t, sig.Signature)) {
			t.Fatal("the signature does not verify with the public key")
		}
		// DIGEST message type: the same signature verifies over the digest.
		kmsCLI(t, ep, &ver, "kms", "verify", "--key-id", id, "--message", "fileb://"+kmsTempFile(t, "digest", digest[:]), "--message-type", "DIGEST", "--signing-algorithm", "ECDSA_SHA_256", "--signature", "fileb://"+sigFile)
		kmsCLIFails(t, ep, "Verify", "KMSInvalidSignatureException", "kms", "verify", "--key-id", id, "--message", "fileb://"+kmsTempFile(t, "other", []byte("another message")), "--message-type", "RAW", "--signing-algorithm", "ECDSA_SHA_256", "--signature", "fileb://"+sigFile)
		kmsCLIFails(t, ep, "Encrypt", "InvalidKeyUsageException", "kms", "encrypt", "--key-id", id, "--plaintext", "fileb://"+msgFile)
	})

	t.Run("disabled key", func(t *testing.T) {
		kmsCLI(t, ep, nil, "kms", "disable-key", "--key-id", key.KeyId)
		var d struct{ KeyMetadata struct{ KeyState string } }
		kmsCLI(t, ep, &d, "kms", "describe-key", "--key-id", "alias/cli")
		if d.KeyMetadata.KeyState != "Disabled" {
			t.Fatalf("KeyState %s after disable-key", d.KeyMetadata.KeyState)
		}
		stderr := kmsCLIFails(t, ep, "Encrypt", "DisabledException", "kms", "encrypt", "--key-id", key.KeyId, "--plaintext", "fileb://"+ptFile)
		if !strings.Contains(stderr, key.Arn+" is disabled.") {
			t.Errorf("stderr %q lacks AWS's message", stderr)
		}
		kmsCLIFails(t, ep, "Decrypt", "DisabledException", "kms", "decrypt", "--ciphertext-blob", "fileb://"+ctFile, "--encryption-context", ctx)
		kmsCLI(t, ep, nil, "kms", "enable-key", "--key-id", key.KeyId)
		kmsCLI(t, ep, nil, "kms", "decrypt", "--ciphertext-blob", "fileb://"+ctFile, "--encryption-context", ctx)
	})
}

func kmsFlipLast(b []byte) []byte {
	c := bytes.Clone(b)
	c[len(c)-1] ^= 1
	return c
}

// kmsESDKDir is the Node.js project that runs the AWS Encryption SDK
// for JavaScript against rampart.
const kmsESDKDir = "../../test/encryption-sdk"

// kmsRequireESDK skips (fails in CI) without Node.js or without the
// project's node_modules (`npm ci` in test/encryption-sdk).
func kmsRequireESDK(t *testing.T) string {
	t.Helper()
	miss := func(format string, args ...any) {
		t.Helper()
		if os.Getenv("CI") != "" {
			t.Fatalf("CI needs the AWS Encryption SDK test: "+format, args...)
		}
		t.Skipf(format, args...)
	}
	node, err := exec.LookPath("node")
	if err != nil {
		miss("node is not installed (Node.js ≥ 18 runs test/encryption-sdk)")
	}
	if _, err := os.Stat(filepath.Join(kmsESDKDir, "node_modules", "@aws-crypto", "client-node")); err != nil {
		miss("test/encryption-sdk/node_modules is missing: run `npm ci` in test/encryption-sdk")
	}
	return node
}

// kmsESDKResult is the JSON line roundtrip.mjs prints.
type kmsESDKResult struct {
	OK                bool     `json:"ok"`
	Calls             []string `json:"calls"`
	Error             string   `json:"error"`
	Errors            []string `json:"errors"`
	Message           string   `json:"message"`
	EncryptedDataKeys []string `json:"encryptedDataKeys"`
}

// kmsRunESDK runs test/encryption-sdk/roundtrip.mjs with the given
// credentials and arguments.
func kmsRunESDK(t *testing.T, node, endpoint, accessKey, secretKey string, args ...string) kmsESDKResult {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, node, append([]string{"roundtrip.mjs"}, append(args, "--endpoint", endpoint)...)...)
	cmd.Dir = kmsESDKDir
	cmd.Env = []string{
		"PATH=" + os.Getenv("PATH"), "HOME=" + t.TempDir(), "NODE_NO_WARNINGS=1",
		"AWS_ACCESS_KEY_ID=" + accessKey, "AWS_SECRET_ACCESS_KEY=" + secretKey,
		"AWS_EC2_METADATA_DISABLED=true",
	}
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	err := cmd.Run()
	lines := strings.Split(strings.TrimSpace(stdout.String()), "\n")
	var res kmsESDKResult
	if jerr := json.Unmarshal([]byte(lines[len(lines)-1]), &res); jerr != nil {
		t.Fatalf("node roundtrip.mjs %s: %v; stdout %q stderr %q", strings.Join(args, " "), err, stdout.String(), stderr.String())
	}
	if res.OK != (err == nil) {
		t.Fatalf("node roundtrip.mjs %s: exit %v but result %+v", strings.Join(args, " "), err, res)
	}
	if res.Error == "Usage" {
		t.Fatalf("node roundtrip.mjs %s: %s", strings.Join(args, " "), res.Message)
	}
	return res
}

// TestEncryptionSDK runs client-side envelope encryption with the AWS
// Encryption SDK for JavaScript, whose KMS keyring talks to `rampart dev`:
// a message encrypted under two keys decrypts with either, least
// privilege holds (a principal allowed only kms:Decrypt decrypts but
// cannot encrypt), and a disabled key stops both.
func TestEncryptionSDK(t *testing.T) {
	if testing.Short() {
		t.Skip("builds the binary and runs Node.js")
	}
	node := kmsRequireESDK(t)
	ep := startDev(t, buildRampart(t))
	cfg := kmsSDKConfig(ep, "test", "test")
	kc := kms.NewFromConfig(cfg)
	ctx := context.Background()
	newKey := func() string {
		out, err := kc.CreateKey(ctx, &kms.CreateKeyInput{Description: aws.String("Encryption SDK test")})
		if err != nil {
			t.Fatalf("CreateKey: %v", err)
		}
		return *out.KeyMetadata.Arn
	}
	k1, k2 := newKey(), newKey()
	msg := filepath.Join(t.TempDir(), "message.esdk")

	res := kmsRunESDK(t, node, ep, "test", "test", "roundtrip", "--key", k1, "--key", k2, "--out", msg)
	if !res.OK {
		t.Fatalf("roundtrip: %+v", res)
	}
	if strings.Join(res.Calls, ",") != "GenerateDataKeyCommand,EncryptCommand,DecryptCommand" {
		t.Errorf("KMS calls %v", res.Calls)
	}
	if len(res.EncryptedDataKeys) != 2 || res.EncryptedDataKeys[0] != k1 || res.EncryptedDataKeys[1] != k2 {
		t.Errorf("encrypted data keys %v; want [%s %s]", res.EncryptedDataKeys, k1, k2)
	}
	for _, k := range []string{k1, k2} {
		if res := kmsRunESDK(t, node, ep, "test", "test", "decrypt", "--key", k, "--in", msg); !res.OK {
			t.Fatalf("decrypt with %s alone: %+v", k, res)
		}
	}

	t.Run("least privilege", func(t *testing.T) {
		// A user whose only permission is kms:Decrypt on k1.
		ic := iam.NewFromConfig(cfg)
		if _, err := ic.CreateUser(ctx, &iam.CreateUserInput{UserName: aws.String("esdk-reader")}); err != nil {
			t.Fatal(err)
		}
		doc := `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"kms:Decrypt","Resource":"` + k1 + `"}]}`
		if _, err := ic.PutUserPolicy(ctx, &iam.PutUserPolicyInput{UserName: aws.String("esdk-reader"), PolicyName: aws.String("decrypt"), PolicyDocument: aws.String(doc)}); err != nil {
			t.Fatal(err)
		}
		ak, err := ic.CreateAccessKey(ctx, &iam.CreateAccessKeyInput{UserName: aws.String("esdk-reader")})
		if err != nil {
			t.Fatal(err)
		}
		id, secret := *ak.AccessKey.AccessKeyId, *ak.AccessKey.SecretAccessKey
		if res := kmsRunESDK(t, node, ep, id, secret, "decrypt", "--key", k1, "--in", msg); !res.OK {
			t.Fatalf("decrypt as esdk-reader: %+v", res)
		}
		res := kmsRunESDK(t, node, ep, id, secret, "encrypt", "--key", k1)
		if res.OK || res.Error != "AccessDeniedException" || !strings.Contains(res.Message, "kms:GenerateDataKey") {
			t.Fatalf("encrypt as esdk-reader: %+v; want AccessDeniedException for kms:GenerateDataKey", res)
		}
		res = kmsRunESDK(t, node, ep, id, secret, "decrypt", "--key", k2, "--in", msg)
		if res.OK || res.Error != "AccessDeniedException" {
			t.Fatalf("decrypt with k2 as esdk-reader: %+v; want AccessDeniedException", res)
		}
	})

	t.Run("disabled key", func(t *testing.T) {
		if _, err := kc.DisableKey(ctx, &kms.DisableKeyInput{KeyId: aws.String(k1)}); err != nil {
			t.Fatal(err)
		}
		res := kmsRunESDK(t, node, ep, "test", "test", "decrypt", "--key", k1, "--in", msg)
		if res.OK || res.Error != "DisabledException" || !strings.Contains(res.Message, k1+" is disabled.") {
			t.Fatalf("decrypt with the disabled key: %+v; want DisabledException", res)
		}
		res = kmsRunESDK(t, node, ep, "test", "test", "encrypt", "--key", k1)
		if res.OK || res.Error != "DisabledException" {
			t.Fatalf("encrypt with the disabled key: %+v; want DisabledException", res)
		}
		// The other key still opens the message; enabling k1 again restores it.
		if res := kmsRunESDK(t, node, ep, "test", "test", "decrypt", "--key", k2, "--in", msg); !res.OK {
			t.Fatalf("decrypt with k2: %+v", res)
		}
		if _, err := kc.EnableKey(ctx, &kms.EnableKeyInput{KeyId: aws.String(k1)}); err != nil {
			t.Fatal(err)
		}
		if res := kmsRunESDK(t, node, ep, "test", "test", "decrypt", "--key", k1, "--in", msg); !res.OK {
			t.Fatalf("decrypt after enable-key: %+v", res)
		}
	})

	t.Run("pending deletion", func(t *testing.T) {
		if _, err := kc.ScheduleKeyDeletion(ctx, &kms.ScheduleKeyDeletionInput{KeyId: aws.String(k2), PendingWindowInDays: aws.Int32(7)}); err != nil {
			t.Fatal(err)
		}
		res := kmsRunESDK(t, node, ep, "test", "test", "decrypt", "--key", k2, "--in", msg)
		if res.OK || res.Error != "KMSInvalidStateException" {
			t.Fatalf("decrypt with a key pending deletion: %+v; want KMSInvalidStateException", res)
		}
		var st types.KeyState
		if out, err := kc.DescribeKey(ctx, &kms.DescribeKeyInput{KeyId: aws.String(k2)}); err == nil {
			st = out.KeyMetadata.KeyState
		}
		if st != types.KeyStatePendingDeletion {
			t.Fatalf("KeyState %s", st)
		}
	})
}
