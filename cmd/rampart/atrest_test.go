package main

import (
	"bytes"
	"context"
	"crypto/rand"
	"database/sql"
	"encoding/base64"
	"encoding/hex"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/iam"
	"github.com/aws/aws-sdk-go-v2/service/kms"
	"github.com/aws/aws-sdk-go-v2/service/secretsmanager"
	"github.com/aws/aws-sdk-go-v2/service/sts"
	"github.com/jackc/pgx/v5"
	_ "modernc.org/sqlite"
)

// plaintexts are the values that must never be at rest in the clear,
// by what they are.
type plaintexts map[string][]byte

// markers are values that must be at rest (names): they prove a scan sees
// the data at all.
type markers map[string][]byte

func randomBytes(n int) []byte {
	b := make([]byte, n)
	rand.Read(b)
	return b
}

// populateSensitive creates, through node ep, secrets (string and binary,
// under the default and a customer key), KMS keys with an encryption and a
// data key, a user with an access key, an assumed-role session and a
// session token, and returns every plaintext value handed over or out.
func populateSensitive(t *testing.T, ep string, creds map[string]string) (plaintexts, markers) {
	t.Helper()
	ctx := context.Background()
	root := sdkConfig(ep, creds["accessKeyId"], creds["secretAccessKey"], "")
	sm, km, im := secretsmanager.NewFromConfig(root), kms.NewFromConfig(root), iam.NewFromConfig(root)
	pt := plaintexts{"root secret access key": []byte(creds["secretAccessKey"])}
	mk := markers{}
	must := func(what string, err error) {
		t.Helper()
		if err != nil {
			t.Fatalf("%s: %v", what, err)
		}
	}

	key, err := km.CreateKey(ctx, &kms.CreateKeyInput{Description: aws.String("at rest")})
	must("CreateKey", err)
	pt["KMS Encrypt plaintext"] = []byte("kms-plaintext-" + hex.EncodeToString(randomBytes(16)))
	_, err = km.Encrypt(ctx, &kms.EncryptInput{KeyId: key.KeyMetadata.KeyId, Plaintext: pt["KMS Encrypt plaintext"]})
	must("Encrypt", err)
	pt["KMS binary plaintext"] = randomBytes(32)
	_, err = km.Encrypt(ctx, &kms.EncryptInput{KeyId: key.KeyMetadata.KeyId, Plaintext: pt["KMS binary plaintext"]})
	must("Encrypt", err)
	dk, err := km.GenerateDataKey(ctx, &kms.GenerateDataKeyInput{KeyId: key.KeyMetadata.KeyId, KeySpec: "AES_256"})
	must("GenerateDataKey", err)
	pt["KMS data key"] = dk.Plaintext

	name := "atrest/db-password-" + hex.EncodeToString(randomBytes(4))
	mk["secret name"] = []byte(name)
	pt["secret string"] = []byte("secret-string-" + hex.EncodeToString(randomBytes(16)))
	_, err = sm.CreateSecret(ctx, &secretsmanager.CreateSecretInput{Name: aws.String(name), SecretString: aws.String(string(pt["secret string"]))})
	must("CreateSecret", err)
	pt["secret string, second version"] = []byte("secret-string-" + hex.EncodeToString(randomBytes(16)))
	_, err = sm.PutSecretValue(ctx, &secretsmanager.PutSecretValueInput{SecretId: aws.String(name), SecretString: aws.String(string(pt["secret string, second version"]))})
	must("PutSecretValue", err)
	pt["secret binary"] = randomBytes(48)
	_, err = sm.CreateSecret(ctx, &secretsmanager.CreateSecretInput{Name: aws.String(name + "-bin"), SecretBinary: pt["secret binary"], KmsKeyId: key.KeyMetadata.Arn})
	must("CreateSecret binary under a customer key", err)
	// Read them back (caches fill; the audit records the reads).
	for _, id := range []string{name, name + "-bin"} {
		_, err := sm.GetSecretValue(ctx, &secretsmanager.GetSecretValueInput{SecretId: aws.String(id)})
		must("GetSecretValue", err)
	}

	user := "atrest-" + hex.EncodeToString(randomBytes(4))
	mk["user name"] = []byte(user)
	_, err = im.CreateUser(ctx, &iam.CreateUserInput{UserName: aws.String(user)})
	must("CreateUser", err)
	_, err = im.PutUserPolicy(ctx, &iam.PutUserPolicyInput{UserName: aws.String(user), PolicyName: aws.String("all"),
		PolicyDocument: aws.String(`{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"*","Resource":"*"}]}`)})
	must("PutUserPolicy", err)
	ak, err := im.CreateAccessKey(ctx, &iam.CreateAccessKeyInput{UserName: aws.String(user)})
	must("CreateAccessKey", err)
	pt["user's secret access key"] = []byte(*ak.AccessKey.SecretAccessKey)
	userCfg := sdkConfig(ep, *ak.AccessKey.AccessKeyId, *ak.AccessKey.SecretAccessKey, "")
	_, err = sts.NewFromConfig(userCfg).GetCallerIdentity(ctx, &sts.GetCallerIdentityInput{})
	must("GetCallerIdentity as the user", err)

	// Sessions.
	gst, err := sts.NewFromConfig(userCfg).GetSessionToken(ctx, &sts.GetSessionTokenInput{})
	must("GetSessionToken", err)
	pt["GetSessionToken's secret access key"] = []byte(*gst.Credentials.SecretAccessKey)
	_, err = sts.NewFromConfig(sdkConfig(ep, *gst.Credentials.AccessKeyId, *gst.Credentials.SecretAccessKey, *gst.Credentials.SessionToken)).GetCallerIdentity(ctx, &sts.GetCallerIdentityInput{})
	must("GetCallerIdentity with the session token", err)
	role := "atrest-role-" + hex.EncodeToString(randomBytes(4))
	_, err = im.CreateRole(ctx, &iam.CreateRoleInput{RoleName: aws.String(role),
		AssumeRolePolicyDocument: aws.String(`{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":{"AWS":"arn:aws:iam::` + creds["accountId"] + `:root"},"Action":"sts:AssumeRole"}]}`)})
	must("CreateRole", err)
	// Roles are not assumed by root: the user (allowed everything) does.
	ar, err := sts.NewFromConfig(userCfg).AssumeRole(ctx, &sts.AssumeRoleInput{RoleArn: aws.String("arn:aws:iam::" + creds["accountId"] + ":role/" + role), RoleSessionName: aws.String("atrest")})
	if err != nil && (errorCode(err) == "NotImplemented" || errorCode(err) == "InvalidAction") {
		t.Logf("AssumeRole not served yet (%v): the assumed-role session part is skipped", err)
	} else {
		must("AssumeRole", err)
		pt["AssumeRole's secret access key"] = []byte(*ar.Credentials.SecretAccessKey)
		_, err = sts.NewFromConfig(sdkConfig(ep, *ar.Credentials.AccessKeyId, *ar.Credentials.SecretAccessKey, *ar.Credentials.SessionToken)).GetCallerIdentity(ctx, &sts.GetCallerIdentityInput{})
		must("GetCallerIdentity as the role session", err)
	}
	return pt, mk
}

// encodings are the forms a plaintext could take at rest: as is, in JSON
// ([]byte fields are base64), hex (pg_dump's bytea), URL-safe base64.
func encodings(v []byte) map[string][]byte {
	return map[string][]byte{
		"raw":       v,
		"base64":    []byte(base64.StdEncoding.EncodeToString(v)),
		"base64url": []byte(base64.RawURLEncoding.EncodeToString(v)),
		"hex":       []byte(hex.EncodeToString(v)),
	}
}

// assertNothingRevealed fails for every plaintext found in any form in any
// of the blobs, and unless every marker is found in some blob (raw or hex).
func assertNothingRevealed(t *testing.T, blobs map[string][]byte, pt plaintexts, mk markers) {
	t.Helper()
	total := 0
	for name, blob := range blobs {
		total += len(blob)
		for what, v := range pt {
			for form, enc := range encodings(v) {
				if bytes.Contains(blob, enc) {
					t.Errorf("%s holds the %s (%s)", name, what, form)
				}
			}
		}
	}
	for what, v := range mk {
		found := false
		for _, blob := range blobs {
			if bytes.Contains(blob, v) || bytes.Contains(blob, []byte(hex.EncodeToString(v))) {
				found = true
			}
		}
		if !found {
			t.Errorf("the scan does not see the %s %q: it scans the wrong bytes", what, v)
		}
	}
	t.Logf("scanned %d bytes in %d files for %d plaintexts in 4 encodings", total, len(blobs), len(pt))
}

// dataFiles reads every file under dir: the database, its WAL, the audit
// log beside it, the configuration, the key file.
func dataFiles(t *testing.T, dir string) map[string][]byte {
	t.Helper()
	out := map[string][]byte{}
	err := filepath.WalkDir(dir, func(path string, d os.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		b, err := os.ReadFile(path)
		if os.IsNotExist(err) { // a temporary file gone meanwhile
			return nil
		}
		rel, _ := filepath.Rel(dir, path)
		out[rel] = b
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	return out
}

func TestNothingRevealedAtRestSQLite(t *testing.T) {
	if testing.Short() {
		t.Skip("builds the binary")
	}
	bin := buildRampart(t)
	dir := filepath.Join(t.TempDir(), "data")
	creds := initJSON(t, bin, nil, "--data", dir)
	n := startNode(t, bin, nil, "--data", dir, "--log-level", "debug")
	pt, mk := populateSensitive(t, n.ep, creds)
	// While it serves: the recent writes are in the WAL.
	blobs := dataFiles(t, dir)
	if len(blobs["rampart.db-wal"]) == 0 {
		t.Fatal("no WAL while serving: the scan would miss the recent writes")
	}
	assertNothingRevealed(t, blobs, pt, mk)
	// After a SIGKILL (nothing checkpointed or cleaned up) and after a clean stop.
	n.kill()
	assertNothingRevealed(t, dataFiles(t, dir), pt, mk)
	n2 := startNode(t, bin, nil, "--data", dir, "--log-level", "debug")
	n2.stop()
	assertNothingRevealed(t, dataFiles(t, dir), pt, mk)
	// Nor in its logs, at debug level.
	assertNothingRevealed(t, map[string][]byte{"server log": []byte(n.stderr() + n2.stderr())}, pt, nil)
	// And a backup holds only what the store holds.
	out := filepath.Join(t.TempDir(), "backup")
	if b, err := exec.Command(bin, "backup", "--data", dir, "--out", out).CombinedOutput(); err != nil {
		t.Fatalf("backup: %v %s", err, b)
	}
	assertNothingRevealed(t, gunzipFile(t, out), pt, mk)
}

func TestNothingRevealedAtRestPostgres(t *testing.T) {
	if testing.Short() {
		t.Skip("builds the binary")
	}
	if _, err := exec.LookPath("pg_dump"); err != nil {
		if os.Getenv("CI") != "" {
			t.Fatal("CI needs pg_dump (Debian package postgresql-client)")
		}
		t.Skip("no pg_dump")
	}
	url := postgresURL(t)
	bin := buildRampart(t)
	dir := filepath.Join(t.TempDir(), "data")
	creds := initJSON(t, bin, nil, "--data", dir, "--store", url)
	n := startNode(t, bin, nil, "--data", dir, "--store", url, "--log-level", "debug")
	pt, mk := populateSensitive(t, n.ep, creds)
	base, schema, _ := strings.Cut(url, "&search_path=")
	dump, err := exec.Command("pg_dump", "--dbname", base, "--schema", schema).Output()
	if err != nil {
		t.Fatalf("pg_dump: %v", err)
	}
	if !bytes.Contains(dump, []byte("COPY "+schema+".kv")) {
		t.Fatalf("pg_dump has no kv table:\n%.2000s", dump)
	}
	blobs := dataFiles(t, dir)
	blobs["pg_dump"] = dump
	assertNothingRevealed(t, blobs, pt, mk)
	n.stop()
	assertNothingRevealed(t, map[string][]byte{"server log": []byte(n.stderr())}, pt, nil)
}

// TestRefusesNewerSchema: a database migrated by a newer rampart is refused
// by the server (and by backup) with a clear message, on both backends.
func TestRefusesNewerSchema(t *testing.T) {
	if testing.Short() {
		t.Skip("builds the binary")
	}
	bin := buildRampart(t)
	for _, backend := range []string{"sqlite", "postgres"} {
		t.Run(backend, func(t *testing.T) {
			dir := filepath.Join(t.TempDir(), "data")
			var args []string
			if backend == "postgres" {
				url := postgresURL(t)
				args = []string{"--store", url}
				initJSON(t, bin, nil, append([]string{"--data", dir}, args...)...)
				ctx := context.Background()
				c, err := pgx.Connect(ctx, url)
				if err != nil {
					t.Fatal(err)
				}
				defer c.Close(ctx)
				if _, err := c.Exec(ctx, "INSERT INTO schema_migrations(version) VALUES (99)"); err != nil {
					t.Fatal(err)
				}
			} else {
				initJSON(t, bin, nil, "--data", dir)
				db, err := sql.Open("sqlite", filepath.Join(dir, "rampart.db"))
				if err != nil {
					t.Fatal(err)
				}
				if _, err := db.Exec("INSERT INTO schema_migrations(version, applied_at) VALUES (99, 0)"); err != nil {
					t.Fatal(err)
				}
				db.Close()
			}
			for _, cmd := range [][]string{
				append([]string{"server", "--data", dir, "--addr", "127.0.0.1:0"}, args...),
				append([]string{"backup", "--data", dir, "--out", filepath.Join(t.TempDir(), "b")}, args...),
			} {
				out, err := exec.Command(bin, cmd...).CombinedOutput()
				if err == nil {
					t.Fatalf("rampart %s accepted a database at schema version 99", cmd[0])
				}
				for _, want := range []string{"newer than this binary", "version 99", "upgrade rampart"} {
					if !strings.Contains(string(out), want) {
						t.Errorf("rampart %s: output %q lacks %q", cmd[0], out, want)
					}
				}
			}
		})
	}
}

// TestRefusesAnotherInstallationsStore: a data directory pointed at the
// store of another installation is refused, on both backends.
func TestRefusesAnotherInstallationsStore(t *testing.T) {
	if testing.Short() {
		t.Skip("builds the binary")
	}
	bin := buildRampart(t)
	t.Run("sqlite", func(t *testing.T) {
		a, b := filepath.Join(t.TempDir(), "a"), filepath.Join(t.TempDir(), "b")
		initJSON(t, bin, nil, "--data", a)
		initJSON(t, bin, nil, "--data", b)
		db, err := os.ReadFile(filepath.Join(b, "rampart.db"))
		if err != nil {
			t.Fatal(err)
		}
		for _, f := range []string{"rampart.db-wal", "rampart.db-shm"} {
			os.Remove(filepath.Join(a, f))
		}
		if err := os.WriteFile(filepath.Join(a, "rampart.db"), db, 0o600); err != nil {
			t.Fatal(err)
		}
		out, err := exec.Command(bin, "server", "--data", a, "--addr", "127.0.0.1:0").CombinedOutput()
		if err == nil || !strings.Contains(string(out), "belongs to another installation") {
			t.Fatalf("server on another installation's database: %v %s", err, out)
		}
	})
	t.Run("postgres", func(t *testing.T) {
		urlA, urlB := postgresURL(t), postgresURL(t)
		a, b := filepath.Join(t.TempDir(), "a"), filepath.Join(t.TempDir(), "b")
		initJSON(t, bin, nil, "--data", a, "--store", urlA)
		initJSON(t, bin, nil, "--data", b, "--store", urlB)
		for _, cmd := range [][]string{
			{"server", "--data", a, "--store", urlB, "--addr", "127.0.0.1:0"},
			{"backup", "--data", a, "--store", urlB, "--out", filepath.Join(t.TempDir(), "x")},
		} {
			out, err := exec.Command(bin, cmd...).CombinedOutput()
			if err == nil || !strings.Contains(string(out), "belongs to another installation") {
				t.Fatalf("rampart %s on another installation's store: %v %s", cmd[0], err, out)
			}
		}
	})
}
