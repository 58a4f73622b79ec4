package main

import (
	"bytes"
	"context"
	"crypto/rand"
	"database/sql"
	"encoding/hex"
	"fmt"
	mrand "math/rand/v2"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/iam"
	"github.com/aws/aws-sdk-go-v2/service/kms"
	"github.com/aws/aws-sdk-go-v2/service/secretsmanager"
)

// The crash test: `rampart server` is killed with SIGKILL in the middle of a
// write load (CreateSecret, PutSecretValue, CreateKey + Encrypt, CreateUser
// at concurrency 8, through the AWS SDK), restarted, and every write it
// acknowledged must be there and readable; a write whose answer never came
// (in flight at the kill) must be there whole or not at all.
// RAMPART_CRASH_ROUNDS sets the number of kills (default 10).

func crashRounds(t *testing.T) int {
	if s := os.Getenv("RAMPART_CRASH_ROUNDS"); s != "" {
		n, err := strconv.Atoi(s)
		if err != nil || n < 1 {
			t.Fatalf("RAMPART_CRASH_ROUNDS=%q", s)
		}
		return n
	}
	return 10
}

func TestCrashSQLite(t *testing.T) {
	if testing.Short() {
		t.Skip("builds the binary and kills it repeatedly")
	}
	bin := buildRampart(t)
	dir := filepath.Join(t.TempDir(), "data")
	creds := initJSON(t, bin, nil, "--data", dir)
	n := crashTest(t, bin, creds, "--data", dir)
	if t.Failed() {
		return
	}
	// Last, a SIGKILL with nothing in flight, then SQLite's own check of
	// every page and index of the file it recovers.
	n.kill()
	db, err := sql.Open("sqlite", filepath.Join(dir, "rampart.db"))
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	var check string
	if err := db.QueryRow("PRAGMA integrity_check").Scan(&check); err != nil || check != "ok" {
		t.Fatalf("integrity_check after the crashes: %q %v", check, err)
	}
}

func TestCrashPostgres(t *testing.T) {
	if testing.Short() {
		t.Skip("builds the binary and kills it repeatedly")
	}
	url := postgresURL(t)
	bin := buildRampart(t)
	dir := filepath.Join(t.TempDir(), "data")
	creds := initJSON(t, bin, nil, "--data", dir, "--store", url)
	crashTest(t, bin, creds, "--data", dir, "--store", url)
}

// secretVersion is one PutSecretValue/CreateSecret attempt.
type secretVersion struct {
	id, value string
}

type crashSecret struct {
	name    string
	created bool            // CreateSecret acknowledged
	acked   []secretVersion // acknowledged versions, in order
	pending *secretVersion  // the attempt whose answer never came (at most one: a worker owns the secret)
}

type crashCiphertext struct {
	blob, plaintext []byte
}

type crashKey struct {
	id  string
	cts []crashCiphertext // acknowledged Encrypts
}

// crashLedger is what the load was told, per round.
type crashLedger struct {
	mu           sync.Mutex
	secrets      []*crashSecret
	keys         []*crashKey
	users        []string // acknowledged
	pendingUsers []string // no answer
	acked        int      // acknowledged writes
	unknown      int      // writes without an answer
	bug          error    // an AWS error answered before the kill
}

// crashTest runs the rounds and returns the node serving at the end.
func crashTest(t *testing.T, bin string, creds map[string]string, args ...string) *node {
	rounds := crashRounds(t)
	seed := uint64(time.Now().UnixNano())
	t.Logf("seed %d, %d rounds", seed, rounds)
	rng := mrand.New(mrand.NewPCG(seed, 1))
	var all []*crashLedger
	var restart []time.Duration
	n := startNode(t, bin, nil, args...)
	for round := range rounds {
		led := &crashLedger{}
		all = append(all, led)
		cfg := sdkConfig(n.ep, creds["accessKeyId"], creds["secretAccessKey"], "")
		ctx, cancel := context.WithCancel(context.Background())
		var wg sync.WaitGroup
		for w := range 8 {
			wg.Add(1)
			go func() {
				defer wg.Done()
				crashWorker(ctx, cfg, led, round, w, mrand.New(mrand.NewPCG(seed, uint64(round*8+w+2))))
			}()
		}
		// Kill at a random moment of the load.
		time.Sleep(time.Duration(200+rng.IntN(900)) * time.Millisecond)
		n.kill()
		cancel()
		wg.Wait()
		if led.bug != nil {
			t.Fatalf("%v\nserver log:\n%s", led.bug, n.stderr())
		}
		if led.acked == 0 {
			t.Fatalf("round %d: no write was acknowledged before the kill: %s", round, n.stderr())
		}
		t0 := time.Now()
		n = startNode(t, bin, nil, args...)
		restart = append(restart, time.Since(t0))
		cfg = sdkConfig(n.ep, creds["accessKeyId"], creds["secretAccessKey"], "")
		verifyCrashLedger(t, cfg, round, led)
		t.Logf("round %d: %d writes acknowledged, %d in flight at the kill; all acknowledged ones present", round, led.acked, led.unknown)
		if t.Failed() {
			return n
		}
	}
	// At the end, everything of every round, and the listings: every listed
	// entity is whole.
	cfg := sdkConfig(n.ep, creds["accessKeyId"], creds["secretAccessKey"], "")
	for round, led := range all {
		verifyCrashLedger(t, cfg, round, led)
	}
	verifyListingsWhole(t, cfg)
	p50, _ := quantiles(restart)
	t.Logf("restart after SIGKILL until serving: p50 %s, max %s", p50.Round(time.Millisecond), slices.Max(restart).Round(time.Millisecond))
	return n
}

func randomValue(rng *mrand.Rand) string {
	b := make([]byte, 24)
	for i := range b {
		b[i] = byte(rng.Uint32())
	}
	return hex.EncodeToString(b)
}

func newToken() string {
	var b [16]byte
	rand.Read(b[:])
	return fmt.Sprintf("%x-%x-%x-%x-%x", b[0:4], b[4:6], b[6:8], b[8:10], b[10:16])
}

// crashWorker writes until ctx ends (the kill), recording every write as
// acknowledged or as unknown (no answer: in flight at the kill, or sent to
// a dead server).
func crashWorker(ctx context.Context, cfg aws.Config, led *crashLedger, round, w int, rng *mrand.Rand) {
	sm, km, im := secretsmanager.NewFromConfig(cfg), kms.NewFromConfig(cfg), iam.NewFromConfig(cfg)
	var mine []*crashSecret
	bg := context.Background() // requests are not cancelled: the kill ends them
	for i := 0; ctx.Err() == nil; i++ {
		var err error
		switch op := rng.IntN(4); {
		case op == 0 || len(mine) == 0:
			sc := &crashSecret{name: fmt.Sprintf("crash/r%d/w%d/%d", round, w, i)}
			v := secretVersion{id: newToken(), value: randomValue(rng)}
			sc.pending = &v
			led.mu.Lock()
			led.secrets = append(led.secrets, sc)
			led.mu.Unlock()
			_, err = sm.CreateSecret(bg, &secretsmanager.CreateSecretInput{Name: aws.String(sc.name), SecretString: aws.String(v.value), ClientRequestToken: aws.String(v.id)})
			led.mu.Lock()
			if err == nil {
				sc.created, sc.acked, sc.pending = true, append(sc.acked, v), nil
				mine = append(mine, sc)
			}
			led.mu.Unlock()
		case op == 1:
			sc := mine[rng.IntN(len(mine))]
			if sc.pending != nil {
				continue
			}
			v := secretVersion{id: newToken(), value: randomValue(rng)}
			led.mu.Lock()
			sc.pending = &v
			led.mu.Unlock()
			_, err = sm.PutSecretValue(bg, &secretsmanager.PutSecretValueInput{SecretId: aws.String(sc.name), SecretString: aws.String(v.value), ClientRequestToken: aws.String(v.id)})
			led.mu.Lock()
			if err == nil {
				sc.acked, sc.pending = append(sc.acked, v), nil
			}
			led.mu.Unlock()
		case op == 2:
			var out *kms.CreateKeyOutput
			out, err = km.CreateKey(bg, &kms.CreateKeyInput{Description: aws.String("crash test")})
			if err == nil {
				k := &crashKey{id: *out.KeyMetadata.KeyId}
				led.mu.Lock()
				led.keys = append(led.keys, k)
				led.acked++
				led.mu.Unlock()
				pt := []byte(randomValue(rng))
				var enc *kms.EncryptOutput
				enc, err = km.Encrypt(bg, &kms.EncryptInput{KeyId: aws.String(k.id), Plaintext: pt})
				if err == nil {
					led.mu.Lock()
					k.cts = append(k.cts, crashCiphertext{blob: enc.CiphertextBlob, plaintext: pt})
					led.mu.Unlock()
				}
				continue // Encrypt writes nothing; CreateKey was counted
			}
		default:
			name := fmt.Sprintf("crash-r%d-w%d-%d", round, w, i)
			_, err = im.CreateUser(bg, &iam.CreateUserInput{UserName: aws.String(name), Path: aws.String(fmt.Sprintf("/crash/r%d/", round))})
			led.mu.Lock()
			if err == nil {
				led.users = append(led.users, name)
			} else {
				led.pendingUsers = append(led.pendingUsers, name)
			}
			led.mu.Unlock()
		}
		led.mu.Lock()
		if err == nil {
			led.acked++
		} else {
			led.unknown++
		}
		led.mu.Unlock()
		if err != nil && ctx.Err() == nil && errorCode(err) != "" {
			// An AWS error before the kill is a bug, not a crash.
			led.mu.Lock()
			if led.bug == nil {
				led.bug = fmt.Errorf("round %d worker %d: %w", round, w, err)
			}
			led.mu.Unlock()
			return
		}
	}
}

func verifyCrashLedger(t *testing.T, cfg aws.Config, round int, led *crashLedger) {
	t.Helper()
	ctx := context.Background()
	sm, km, im := secretsmanager.NewFromConfig(cfg), kms.NewFromConfig(cfg), iam.NewFromConfig(cfg)
	for _, sc := range led.secrets {
		if !sc.created {
			// CreateSecret without an answer: whole or absent.
			out, err := sm.GetSecretValue(ctx, &secretsmanager.GetSecretValueInput{SecretId: aws.String(sc.name)})
			switch {
			case errorCode(err) == "ResourceNotFoundException":
			case err != nil:
				t.Errorf("round %d: unacknowledged secret %s: %v", round, sc.name, err)
			case aws.ToString(out.SecretString) != sc.pending.value || aws.ToString(out.VersionId) != sc.pending.id:
				t.Errorf("round %d: unacknowledged secret %s is half-written: version %s", round, sc.name, aws.ToString(out.VersionId))
			}
			continue
		}
		for _, v := range sc.acked {
			out, err := sm.GetSecretValue(ctx, &secretsmanager.GetSecretValueInput{SecretId: aws.String(sc.name), VersionId: aws.String(v.id)})
			if err != nil {
				t.Errorf("round %d: acknowledged version %s of %s lost: %v", round, v.id, sc.name, err)
				continue
			}
			if aws.ToString(out.SecretString) != v.value {
				t.Errorf("round %d: acknowledged version %s of %s has another value", round, v.id, sc.name)
			}
		}
		// AWSCURRENT is the last acknowledged version, or the one in flight.
		out, err := sm.GetSecretValue(ctx, &secretsmanager.GetSecretValueInput{SecretId: aws.String(sc.name)})
		if err != nil {
			t.Errorf("round %d: secret %s: %v", round, sc.name, err)
			continue
		}
		last := sc.acked[len(sc.acked)-1]
		cur := secretVersion{id: aws.ToString(out.VersionId), value: aws.ToString(out.SecretString)}
		if cur != last && (sc.pending == nil || cur != *sc.pending) {
			t.Errorf("round %d: secret %s: AWSCURRENT is %s, want the last acknowledged %s or the one in flight", round, sc.name, cur.id, last.id)
		}
	}
	for _, k := range led.keys {
		d, err := km.DescribeKey(ctx, &kms.DescribeKeyInput{KeyId: aws.String(k.id)})
		if err != nil {
			t.Errorf("round %d: acknowledged key %s lost: %v", round, k.id, err)
			continue
		}
		if !d.KeyMetadata.Enabled {
			t.Errorf("round %d: key %s is %s", round, k.id, d.KeyMetadata.KeyState)
		}
		for _, ct := range k.cts {
			out, err := km.Decrypt(ctx, &kms.DecryptInput{CiphertextBlob: ct.blob})
			if err != nil || !bytes.Equal(out.Plaintext, ct.plaintext) || aws.ToString(out.KeyId) != aws.ToString(d.KeyMetadata.Arn) {
				t.Errorf("round %d: ciphertext of key %s does not decrypt: %v", round, k.id, err)
			}
		}
		if _, err := km.Encrypt(ctx, &kms.EncryptInput{KeyId: aws.String(k.id), Plaintext: []byte("after the crash")}); err != nil {
			t.Errorf("round %d: key %s does not encrypt: %v", round, k.id, err)
		}
	}
	for _, u := range led.users {
		if _, err := im.GetUser(ctx, &iam.GetUserInput{UserName: aws.String(u)}); err != nil {
			t.Errorf("round %d: acknowledged user %s lost: %v", round, u, err)
		}
	}
	for _, u := range led.pendingUsers {
		if _, err := im.GetUser(ctx, &iam.GetUserInput{UserName: aws.String(u)}); err != nil && errorCode(err) != "NoSuchEntity" {
			t.Errorf("round %d: unacknowledged user %s: %v", round, u, err)
		}
	}
}

// verifyListingsWhole lists every secret, key and user and reads each: a
// half-written entity (an index entry without its record, a record without
// its sealed value or key material) fails here.
func verifyListingsWhole(t *testing.T, cfg aws.Config) {
	t.Helper()
	ctx := context.Background()
	sm, km, im := secretsmanager.NewFromConfig(cfg), kms.NewFromConfig(cfg), iam.NewFromConfig(cfg)
	var nSecrets, nKeys, nUsers int
	for p := secretsmanager.NewListSecretsPaginator(sm, &secretsmanager.ListSecretsInput{}); p.HasMorePages(); {
		page, err := p.NextPage(ctx)
		if err != nil {
			t.Fatalf("ListSecrets: %v", err)
		}
		for _, s := range page.SecretList {
			nSecrets++
			if _, err := sm.GetSecretValue(ctx, &secretsmanager.GetSecretValueInput{SecretId: s.ARN}); err != nil {
				t.Errorf("listed secret %s: %v", aws.ToString(s.Name), err)
			}
		}
	}
	for p := kms.NewListKeysPaginator(km, &kms.ListKeysInput{}); p.HasMorePages(); {
		page, err := p.NextPage(ctx)
		if err != nil {
			t.Fatalf("ListKeys: %v", err)
		}
		for _, k := range page.Keys {
			nKeys++
			d, err := km.DescribeKey(ctx, &kms.DescribeKeyInput{KeyId: k.KeyId})
			if err != nil {
				t.Errorf("listed key %s: %v", aws.ToString(k.KeyId), err)
				continue
			}
			// AWS managed keys (aws/secretsmanager) serve only their service.
			if d.KeyMetadata.Enabled && d.KeyMetadata.KeyManager == "CUSTOMER" {
				if _, err := km.Encrypt(ctx, &kms.EncryptInput{KeyId: k.KeyId, Plaintext: []byte("x")}); err != nil {
					pol, perr := km.GetKeyPolicy(ctx, &kms.GetKeyPolicyInput{KeyId: k.KeyId})
					_, again := km.Encrypt(ctx, &kms.EncryptInput{KeyId: k.KeyId, Plaintext: []byte("x")})
					t.Errorf("listed key %s (%s, created %s) does not encrypt: %v\nits key policy: %v %v\nEncrypt again: %v", aws.ToString(k.KeyId), d.KeyMetadata.KeyState, d.KeyMetadata.CreationDate, err, aws.ToString(pol.Policy), perr, again)
				}
			}
		}
	}
	for p := iam.NewListUsersPaginator(im, &iam.ListUsersInput{}); p.HasMorePages(); {
		page, err := p.NextPage(ctx)
		if err != nil {
			t.Fatalf("ListUsers: %v", err)
		}
		for _, u := range page.Users {
			nUsers++
			if _, err := im.GetUser(ctx, &iam.GetUserInput{UserName: u.UserName}); err != nil {
				t.Errorf("listed user %s: %v", aws.ToString(u.UserName), err)
			}
		}
	}
	t.Logf("after all crashes: %d secrets, %d keys, %d users listed, each whole", nSecrets, nKeys, nUsers)
}
