package main

import (
	"bytes"
	"compress/gzip"
	"context"
	"crypto/sha256"
	"database/sql"
	"encoding/hex"
	"fmt"
	"io"
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/iam"
	"github.com/aws/aws-sdk-go-v2/service/kms"
	"github.com/aws/aws-sdk-go-v2/service/secretsmanager"
	"github.com/aws/aws-sdk-go-v2/service/sts"
)

func gunzipFile(t *testing.T, path string) map[string][]byte {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	zr, err := gzip.NewReader(f)
	if err != nil {
		t.Fatal(err)
	}
	b, err := io.ReadAll(zr)
	if err != nil {
		t.Fatal(err)
	}
	return map[string][]byte{"backup " + filepath.Base(path): b}
}

// dataset is what a test wrote and expects to read back.
type dataset struct {
	secrets map[string]string // name → value
	cts     []crashCiphertext // KMS ciphertexts
	keys    []string
	users   map[string][2]string // name → access key id, secret
}

func writeDataset(t *testing.T, ep string, creds map[string]string) *dataset {
	t.Helper()
	ctx := context.Background()
	cfg := sdkConfig(ep, creds["accessKeyId"], creds["secretAccessKey"], "")
	sm, km, im := secretsmanager.NewFromConfig(cfg), kms.NewFromConfig(cfg), iam.NewFromConfig(cfg)
	ds := &dataset{secrets: map[string]string{}, users: map[string][2]string{}}
	for i := range 5 {
		name, value := fmt.Sprintf("backup/secret-%d", i), "value-"+hex.EncodeToString(randomBytes(12))
		if _, err := sm.CreateSecret(ctx, &secretsmanager.CreateSecretInput{Name: aws.String(name), SecretString: aws.String(value)}); err != nil {
			t.Fatalf("CreateSecret: %v", err)
		}
		ds.secrets[name] = value
	}
	for range 3 {
		k, err := km.CreateKey(ctx, &kms.CreateKeyInput{})
		if err != nil {
			t.Fatalf("CreateKey: %v", err)
		}
		ds.keys = append(ds.keys, *k.KeyMetadata.KeyId)
		pt := randomBytes(20)
		out, err := km.Encrypt(ctx, &kms.EncryptInput{KeyId: k.KeyMetadata.KeyId, Plaintext: pt})
		if err != nil {
			t.Fatalf("Encrypt: %v", err)
		}
		ds.cts = append(ds.cts, crashCiphertext{blob: out.CiphertextBlob, plaintext: pt})
	}
	for i := range 3 {
		name := fmt.Sprintf("backup-user-%d", i)
		if _, err := im.CreateUser(ctx, &iam.CreateUserInput{UserName: aws.String(name)}); err != nil {
			t.Fatalf("CreateUser: %v", err)
		}
		ak, err := im.CreateAccessKey(ctx, &iam.CreateAccessKeyInput{UserName: aws.String(name)})
		if err != nil {
			t.Fatalf("CreateAccessKey: %v", err)
		}
		ds.users[name] = [2]string{*ak.AccessKey.AccessKeyId, *ak.AccessKey.SecretAccessKey}
	}
	return ds
}

func verifyDataset(t *testing.T, ep string, creds map[string]string, ds *dataset) {
	t.Helper()
	ctx := context.Background()
	cfg := sdkConfig(ep, creds["accessKeyId"], creds["secretAccessKey"], "")
	sm, km, im := secretsmanager.NewFromConfig(cfg), kms.NewFromConfig(cfg), iam.NewFromConfig(cfg)
	for name, value := range ds.secrets {
		out, err := sm.GetSecretValue(ctx, &secretsmanager.GetSecretValueInput{SecretId: aws.String(name)})
		if err != nil || aws.ToString(out.SecretString) != value {
			t.Errorf("secret %s after restore: %v", name, err)
		}
	}
	for _, ct := range ds.cts {
		out, err := km.Decrypt(ctx, &kms.DecryptInput{CiphertextBlob: ct.blob})
		if err != nil || !bytes.Equal(out.Plaintext, ct.plaintext) {
			t.Errorf("ciphertext after restore: %v", err)
		}
	}
	for _, k := range ds.keys {
		if _, err := km.Encrypt(ctx, &kms.EncryptInput{KeyId: aws.String(k), Plaintext: []byte("x")}); err != nil {
			t.Errorf("key %s after restore: %v", k, err)
		}
	}
	for name, ak := range ds.users {
		if _, err := im.GetUser(ctx, &iam.GetUserInput{UserName: aws.String(name)}); err != nil {
			t.Errorf("user %s after restore: %v", name, err)
		}
		id, err := sts.NewFromConfig(sdkConfig(ep, ak[0], ak[1], "")).GetCallerIdentity(ctx, &sts.GetCallerIdentityInput{})
		if err != nil || !strings.HasSuffix(aws.ToString(id.Arn), ":user/"+name) {
			t.Errorf("user %s's access key after restore: %v", name, err)
		}
	}
}

func runRampart(t *testing.T, bin string, args ...string) (string, error) {
	t.Helper()
	out, err := exec.Command(bin, args...).CombinedOutput()
	return string(out), err
}

func copyFile(t *testing.T, from, to string) {
	t.Helper()
	b, err := os.ReadFile(from)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.MkdirAll(filepath.Dir(to), 0o700); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(to, b, 0o600); err != nil {
		t.Fatal(err)
	}
}

// TestBackupRestore backs up a serving installation under a write load,
// restores the backup into new data directories (SQLite and PostgreSQL),
// and reads everything back through the API.
func TestBackupRestore(t *testing.T) {
	if testing.Short() {
		t.Skip("builds the binary")
	}
	bin := buildRampart(t)
	for _, backend := range []string{"sqlite", "postgres"} {
		t.Run("from "+backend, func(t *testing.T) {
			src := filepath.Join(t.TempDir(), "src")
			var srcArgs []string
			if backend == "postgres" {
				srcArgs = []string{"--store", postgresURL(t)}
			}
			creds := initJSON(t, bin, nil, append([]string{"--data", src}, srcArgs...)...)
			n := startNode(t, bin, nil, append([]string{"--data", src}, srcArgs...)...)
			ds := writeDataset(t, n.ep, creds)

			// Online: a writer keeps writing while the backup runs.
			ctx, cancel := context.WithCancel(context.Background())
			var wg sync.WaitGroup
			wg.Add(1)
			go func() {
				defer wg.Done()
				sm := secretsmanager.NewFromConfig(sdkConfig(n.ep, creds["accessKeyId"], creds["secretAccessKey"], ""))
				for i := 0; ctx.Err() == nil; i++ {
					sm.CreateSecret(context.Background(), &secretsmanager.CreateSecretInput{Name: aws.String(fmt.Sprintf("busy/%d", i)), SecretString: aws.String("busy")})
				}
			}()
			file := filepath.Join(t.TempDir(), "rampart.backup")
			out, err := runRampart(t, bin, append([]string{"backup", "--data", src, "--out", file}, srcArgs...)...)
			cancel()
			wg.Wait()
			if err != nil {
				t.Fatalf("backup: %v %s", err, out)
			}
			if !strings.Contains(out, "does not hold the seal") {
				t.Errorf("backup output %q does not say the seal is not in it", out)
			}
			if fi, err := os.Stat(file); err != nil || fi.Mode().Perm() != 0o600 {
				t.Fatalf("backup file: %v %v", fi, err)
			}
			n.stop()

			// Restore into SQLite without the key file: it says to copy it,
			// and the server cannot start until it is there.
			counts := regexp.MustCompile(`\((\d+) entries, (\d+) audit events\)`)
			backedUp := counts.FindStringSubmatch(out)
			if backedUp == nil || backedUp[2] == "0" {
				t.Fatalf("backup output %q does not count entries and audit events", out)
			}
			dst := filepath.Join(t.TempDir(), "dst")
			out, err = runRampart(t, bin, "restore", "--in", file, "--data", dst)
			if err != nil || !strings.Contains(out, "copy the installation's seal.key") {
				t.Fatalf("restore: %v %s", err, out)
			}
			if restored := counts.FindStringSubmatch(out); restored == nil || restored[0] != backedUp[0] {
				t.Fatalf("restored %v, backed up %v", restored, backedUp)
			}
			if out, err := runRampart(t, bin, "server", "--data", dst, "--addr", "127.0.0.1:0"); err == nil {
				t.Fatalf("server without the key file started: %s", out)
			}
			copyFile(t, filepath.Join(src, "seal.key"), filepath.Join(dst, "seal.key"))
			n = startNode(t, bin, nil, "--data", dst)
			verifyDataset(t, n.ep, creds, ds)
			n.stop()

			// Restore into PostgreSQL, the key file copied first (restore then checks it).
			dstPG := filepath.Join(t.TempDir(), "dst-pg")
			url := postgresURL(t)
			copyFile(t, filepath.Join(src, "seal.key"), filepath.Join(dstPG, "seal.key"))
			out, err = runRampart(t, bin, "restore", "--in", file, "--data", dstPG, "--store", url)
			if err != nil || !strings.Contains(out, "seal.key opens its root key") {
				t.Fatalf("restore into PostgreSQL: %v %s", err, out)
			}
			n = startNode(t, bin, nil, "--data", dstPG, "--store", url)
			verifyDataset(t, n.ep, creds, ds)
			n.stop()
			// A store that is not empty is refused.
			os.Remove(filepath.Join(dstPG, "rampart.json"))
			out, err = runRampart(t, bin, "restore", "--in", file, "--data", dstPG, "--store", url)
			if err == nil || !strings.Contains(out, "not empty") {
				t.Fatalf("restore into a store in use: %v %s", err, out)
			}
		})
	}
}

// TestRestoreRefusals: bad backups and wrong places change nothing.
func TestRestoreRefusals(t *testing.T) {
	if testing.Short() {
		t.Skip("builds the binary")
	}
	bin := buildRampart(t)
	src := filepath.Join(t.TempDir(), "src")
	initJSON(t, bin, nil, "--data", src)
	file := filepath.Join(t.TempDir(), "b")
	if out, err := runRampart(t, bin, "backup", "--data", src, "--out", file); err != nil {
		t.Fatalf("backup: %v %s", err, out)
	}
	whole, err := os.ReadFile(file)
	if err != nil {
		t.Fatal(err)
	}
	// The same backup, truncated: decompressed whole lines minus the trailer.
	raw := gunzipFile(t, file)["backup b"]
	lines := bytes.SplitAfter(raw, []byte("\n"))
	var noEnd, tampered bytes.Buffer
	for _, l := range lines[:len(lines)-2] {
		noEnd.Write(l)
	}
	tampered.Write(bytes.Replace(raw, []byte(`"t":"authn.`), []byte(`"t":"authX.`), 1))
	gz := func(b []byte) []byte {
		var out bytes.Buffer
		zw := gzip.NewWriter(&out)
		zw.Write(b)
		zw.Close()
		return out.Bytes()
	}
	other := filepath.Join(t.TempDir(), "other")
	initJSON(t, bin, nil, "--data", other)

	for _, tc := range []struct {
		name    string
		backup  []byte
		prepare func(dir string)
		want    string
	}{
		{"an installation already there", whole, func(dir string) { initJSON(t, bin, nil, "--data", dir) }, "already exists"},
		{"not a backup", []byte("hello"), nil, "not a usable rampart backup"},
		{"cut in the middle of the compressed stream", whole[:len(whole)/2], nil, "not a usable rampart backup"},
		{"without its trailer", gz(noEnd.Bytes()), nil, "truncated"},
		{"altered", gz(tampered.Bytes()), nil, "checksum mismatch"},
		{"another installation's key file", whole, func(dir string) { copyFile(t, filepath.Join(other, "seal.key"), filepath.Join(dir, "seal.key")) }, "does not open this backup's root key"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			dir := filepath.Join(t.TempDir(), "dst")
			if tc.prepare != nil {
				tc.prepare(dir)
			}
			before, _ := os.ReadDir(dir)
			in := filepath.Join(t.TempDir(), "in")
			if err := os.WriteFile(in, tc.backup, 0o600); err != nil {
				t.Fatal(err)
			}
			out, err := runRampart(t, bin, "restore", "--in", in, "--data", dir)
			if err == nil || !strings.Contains(out, tc.want) {
				t.Fatalf("restore: %v %q, want an error containing %q", err, out, tc.want)
			}
			after, _ := os.ReadDir(dir)
			if len(after) != len(before) {
				t.Errorf("the refused restore left files behind: %v (before: %v)", after, before)
			}
		})
	}
}

// fileState is a file's size, modification time and content hash.
func fileState(t *testing.T, path string) string {
	t.Helper()
	fi, err := os.Stat(path)
	if err != nil {
		t.Fatal(err)
	}
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return fmt.Sprintf("%d bytes, modified %s, sha256 %x", fi.Size(), fi.ModTime().Format(time.RFC3339Nano), sha256.Sum256(b))
}

// schemaVersions lists the versions recorded in a SQLite store's schema_migrations.
func schemaVersions(t *testing.T, db string, change string) []int {
	t.Helper()
	conn, err := sql.Open("sqlite", db)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	if change != "" {
		if _, err := conn.Exec(change); err != nil {
			t.Fatal(err)
		}
	}
	rows, err := conn.Query("SELECT version FROM schema_migrations ORDER BY version")
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	var vs []int
	for rows.Next() {
		var v int
		rows.Scan(&v)
		vs = append(vs, v)
	}
	return vs
}

// TestBackupReadOnly: a backup opens the store read-only. Beside a serving
// rampart it changes neither the database nor the server's hold on its
// audit log; of a stopped one it changes no file; a store whose schema
// version is not the binary's is refused, not migrated.
func TestBackupReadOnly(t *testing.T) {
	if testing.Short() {
		t.Skip("builds the binary")
	}
	bin := buildRampart(t)
	dir := filepath.Join(t.TempDir(), "data")
	db := filepath.Join(dir, "rampart.db")
	creds := initJSON(t, bin, nil, "--data", dir)
	n := startNode(t, bin, nil, "--data", dir)
	sm := secretsmanager.NewFromConfig(sdkConfig(n.ep, creds["accessKeyId"], creds["secretAccessKey"], ""))
	ctx := context.Background()
	if _, err := sm.CreateSecret(ctx, &secretsmanager.CreateSecretInput{Name: aws.String("ro/1"), SecretString: aws.String("one")}); err != nil {
		t.Fatal(err)
	}

	// Serving: the database file stays as it is (its WAL holds the writes
	// until a checkpoint, which a few writes do not trigger).
	before := fileState(t, db)
	file := filepath.Join(t.TempDir(), "b1")
	if out, err := runRampart(t, bin, "backup", "--data", dir, "--out", file); err != nil {
		t.Fatalf("backup: %v %s", err, out)
	}
	if after := fileState(t, db); after != before {
		t.Errorf("the backup changed rampart.db: %s, then %s", before, after)
	}
	// The server still writes, and still records its audit trail.
	if _, err := sm.CreateSecret(ctx, &secretsmanager.CreateSecretInput{Name: aws.String("ro/2"), SecretString: aws.String("two")}); err != nil {
		t.Fatalf("CreateSecret after the backup: %v", err)
	}
	n.stop()
	if strings.Contains(n.stderr(), "audit log is owned by another") {
		t.Errorf("the server lost its audit log to the backup: %s", n.stderr())
	}

	// Stopped: no file changes (SQLite may add the empty -wal and the -shm
	// a reader needs, which the server removed when it stopped).
	states := map[string]string{}
	filepath.WalkDir(dir, func(p string, d fs.DirEntry, err error) error {
		if err == nil && !d.IsDir() {
			states[p] = fileState(t, p)
		}
		return err
	})
	if out, err := runRampart(t, bin, "backup", "--data", dir, "--out", filepath.Join(t.TempDir(), "b2")); err != nil {
		t.Fatalf("backup of a stopped installation: %v %s", err, out)
	}
	filepath.WalkDir(dir, func(p string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		switch was, ok := states[p]; {
		case ok && fileState(t, p) != was:
			t.Errorf("the backup changed %s", p)
		case !ok && !strings.HasSuffix(p, "rampart.db-shm") && !(strings.HasSuffix(p, "rampart.db-wal") && strings.HasPrefix(fileState(t, p), "0 bytes")):
			t.Errorf("the backup left %s (%s)", p, fileState(t, p))
		}
		return nil
	})

	// A schema this binary does not have: refused, nothing migrated, no file written.
	if vs := schemaVersions(t, db, ""); len(vs) == 0 {
		t.Fatal("the installation recorded no schema version")
	}
	for _, tc := range []struct {
		name, change, words string
	}{
		{"newer", "INSERT INTO schema_migrations(version, applied_at) VALUES (999, 0)", "newer than this binary"},
		{"older", "DELETE FROM schema_migrations", "older than this binary"},
	} {
		t.Run(tc.name+" schema", func(t *testing.T) {
			vs := schemaVersions(t, db, tc.change)
			out := filepath.Join(t.TempDir(), "b")
			msg, err := runRampart(t, bin, "backup", "--data", dir, "--out", out)
			if err == nil || !strings.Contains(msg, "refusing to back up") || !strings.Contains(msg, tc.words) {
				t.Fatalf("backup of a store with a %s schema: %v %s", tc.name, err, msg)
			}
			if got := schemaVersions(t, db, ""); fmt.Sprint(got) != fmt.Sprint(vs) {
				t.Errorf("schema versions %v after the refused backup, were %v", got, vs)
			}
			if entries, _ := os.ReadDir(filepath.Dir(out)); len(entries) != 0 {
				t.Errorf("the refused backup left %v", entries)
			}
		})
	}
}
