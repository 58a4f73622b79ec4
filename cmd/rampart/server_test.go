package main

import (
	"bufio"
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
)

// startServer starts `rampart server` and returns its endpoint.
func startServer(t *testing.T, bin string, env []string, args ...string) string {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	cmd := exec.CommandContext(ctx, bin, append([]string{"server", "--addr", "127.0.0.1:0", "--log-level", "warn"}, args...)...)
	cmd.Env = append(os.Environ(), env...)
	stderr, err := cmd.StderrPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		cmd.Process.Signal(os.Interrupt)
		cmd.Wait()
		cancel()
	})
	re := regexp.MustCompile(`serving on (http://127\.0\.0\.1:\d+)`)
	found := make(chan string, 1)
	var lines []string
	go func() {
		sc := bufio.NewScanner(stderr)
		for sc.Scan() {
			lines = append(lines, sc.Text())
			if m := re.FindStringSubmatch(sc.Text()); m != nil {
				found <- m[1]
			}
		}
		close(found)
	}()
	select {
	case ep, ok := <-found:
		if !ok {
			t.Fatalf("rampart server exited: %s", strings.Join(lines, "\n"))
		}
		return ep
	case <-time.After(60 * time.Second):
		t.Fatal("rampart server printed no endpoint within 60s")
	}
	return ""
}

func initJSON(t *testing.T, bin string, env []string, args ...string) map[string]string {
	t.Helper()
	cmd := exec.Command(bin, append([]string{"init", "--output", "json"}, args...)...)
	cmd.Env = append(os.Environ(), env...)
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("rampart init: %v", err)
	}
	var creds map[string]string
	if err := json.Unmarshal(out, &creds); err != nil {
		t.Fatalf("init output %q: %v", out, err)
	}
	if !regexp.MustCompile(`^[1-9]\d{11}$`).MatchString(creds["accountId"]) || !strings.HasPrefix(creds["accessKeyId"], "AKIA") || len(creds["secretAccessKey"]) != 40 {
		t.Fatalf("init credentials look wrong: %v", creds)
	}
	return creds
}

func callerIdentity(t *testing.T, ep string, creds map[string]string) map[string]string {
	t.Helper()
	out, errOut, err := runCLI(t, ep, creds["accessKeyId"], creds["secretAccessKey"], "sts", "get-caller-identity")
	if err != nil {
		t.Fatalf("get-caller-identity: %v\n%s", err, errOut)
	}
	var id map[string]string
	if err := json.Unmarshal([]byte(out), &id); err != nil {
		t.Fatal(err)
	}
	return id
}

func TestProductionModeSQLite(t *testing.T) {
	if testing.Short() {
		t.Skip("builds the binary and runs the AWS CLI")
	}
	requireCLI(t)
	bin := buildRampart(t)
	dir := filepath.Join(t.TempDir(), "data")
	env := []string{"RAMPART_PASSPHRASE=correct horse battery staple"}
	creds := initJSON(t, bin, env, "--data", dir, "--seal", "passphrase")

	// A second init refuses to touch the installation.
	out, err := exec.Command(bin, "init", "--data", dir).CombinedOutput()
	if err == nil || !strings.Contains(string(out), "already exists") {
		t.Fatalf("second init: %v %s", err, out)
	}
	// A wrong passphrase: a clear message, nothing served.
	cmd := exec.Command(bin, "server", "--data", dir, "--addr", "127.0.0.1:0")
	cmd.Env = append(os.Environ(), "RAMPART_PASSPHRASE=wrong horse battery staple")
	out, err = cmd.CombinedOutput()
	if err == nil || !strings.Contains(string(out), "wrong key file or passphrase") {
		t.Fatalf("server with a wrong passphrase: %v %s", err, out)
	}
	// No secret in the configuration file.
	cfg, err := os.ReadFile(filepath.Join(dir, "rampart.json"))
	if err != nil {
		t.Fatal(err)
	}
	if strings.Contains(string(cfg), creds["secretAccessKey"]) || strings.Contains(string(cfg), "horse") {
		t.Fatalf("rampart.json holds a secret: %s", cfg)
	}

	ep := startServer(t, bin, env, "--data", dir)
	id := callerIdentity(t, ep, creds)
	if id["Account"] != creds["accountId"] || id["Arn"] != "arn:aws:iam::"+creds["accountId"]+":root" {
		t.Fatalf("caller identity %v for account %s", id, creds["accountId"])
	}
	// The well-known dev key does not exist in production mode.
	if _, errOut, err := runCLI(t, ep, "test", "test", "sts", "get-caller-identity"); err == nil || !strings.Contains(errOut, "InvalidClientTokenId") {
		t.Fatalf("dev key accepted in production mode: %v %s", err, errOut)
	}
	// Neither the root secret nor the root key is in the database files.
	for _, name := range []string{"rampart.db", "rampart.db-wal"} {
		b, err := os.ReadFile(filepath.Join(dir, name))
		if err != nil {
			continue
		}
		if strings.Contains(string(b), creds["secretAccessKey"]) {
			t.Errorf("%s holds the root secret in the clear", name)
		}
	}
}

// postgresURL returns the URL of a fresh schema on the test PostgreSQL.
func postgresURL(t *testing.T) string {
	t.Helper()
	base := os.Getenv("RAMPART_TEST_POSTGRES")
	if base == "" {
		base = "postgres://postgres@127.0.0.1:5432/test?sslmode=disable"
	}
	ctx := context.Background()
	conn, err := pgx.Connect(ctx, base)
	if err != nil {
		if os.Getenv("CI") != "" {
			t.Fatalf("PostgreSQL: %v", err)
		}
		t.Skipf("no PostgreSQL: %v", err)
	}
	defer conn.Close(ctx)
	var b [6]byte
	rand.Read(b[:])
	schema := "rampart_cli_" + hex.EncodeToString(b[:])
	if _, err := conn.Exec(ctx, "CREATE SCHEMA "+schema); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		c, err := pgx.Connect(context.Background(), base)
		if err == nil {
			c.Exec(context.Background(), "DROP SCHEMA "+schema+" CASCADE")
			c.Close(context.Background())
		}
	})
	return base + "&search_path=" + schema
}

func TestProductionModePostgresTwoNodes(t *testing.T) {
	if testing.Short() {
		t.Skip("builds the binary and runs the AWS CLI")
	}
	requireCLI(t)
	url := postgresURL(t)
	bin := buildRampart(t)
	dir := filepath.Join(t.TempDir(), "data")
	creds := initJSON(t, bin, nil, "--data", dir, "--store", url)
	// Two nodes on one PostgreSQL: each knows the account's root key.
	ep1 := startServer(t, bin, nil, "--data", dir, "--store", url)
	ep2 := startServer(t, bin, nil, "--data", dir, "--store", url)
	for _, ep := range []string{ep1, ep2} {
		if id := callerIdentity(t, ep, creds); id["Account"] != creds["accountId"] {
			t.Fatalf("%s: caller identity %v", ep, id)
		}
	}
	// Without the store URL the server says where the state is.
	out, err := exec.Command(bin, "server", "--data", dir, "--addr", "127.0.0.1:0").CombinedOutput()
	if err == nil || !strings.Contains(string(out), "PostgreSQL") {
		t.Fatalf("server without --store: %v %s", err, out)
	}
}
