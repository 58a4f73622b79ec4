package conformance

import (
	"context"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/iam"
	"github.com/aws/aws-sdk-go-v2/service/kms"
	"github.com/aws/aws-sdk-go-v2/service/secretsmanager"
	"github.com/aws/aws-sdk-go-v2/service/sts"

	"github.com/rampart/rampart/internal/rampartest"
)

// TestStartupFigures measures the cold start of `rampart dev` (process
// start to the first answered, signed request) and its idle resident
// memory, on an empty data directory and on one holding 10,000 users,
// 1,000 roles, 5,000 policies, 1,000 KMS keys and 10,000 secrets (made
// through the API). It reports figures and asserts none; it runs only with
// RAMPART_MEASURE=1 (populating takes minutes). RAMPART_MEASURE_SCALE=0.1
// shrinks the populated set.
func TestStartupFigures(t *testing.T) {
	if os.Getenv("RAMPART_MEASURE") == "" {
		t.Skip("set RAMPART_MEASURE=1 to measure start-up")
	}
	bin := filepath.Join(t.TempDir(), "rampart")
	build := exec.Command("go", "build", "-o", bin, "github.com/rampart/rampart/cmd/rampart")
	if out, err := build.CombinedOutput(); err != nil {
		t.Fatalf("build: %v\n%s", err, out)
	}
	scale := 1.0
	if s := os.Getenv("RAMPART_MEASURE_SCALE"); s != "" {
		scale, _ = strconv.ParseFloat(s, 64)
	}

	empty := t.TempDir()
	// Initialise the empty directory once, so that both runs measure a
	// restart, not the creation of the installation.
	st, rss, _ := startOnce(t, bin, empty)
	t.Logf("first start (creates the installation): %v, idle RSS %d KiB", st, rss)
	report(t, "empty", bin, empty)

	full := t.TempDir()
	start := time.Now()
	var counts map[string]int
	// A subtest, so that the in-process server stops (its cleanup) before
	// rampart dev opens the directory.
	t.Run("populate", func(t *testing.T) { counts = populate(t, full, scale) })
	t.Logf("populated %v in %v", counts, time.Since(start).Round(time.Second))
	report(t, "populated", bin, full)
}

func report(t *testing.T, name, bin, dir string) {
	var starts []time.Duration
	var rsses, anons []int
	for i := 0; i < 5; i++ {
		s, r, a := startOnce(t, bin, dir)
		starts = append(starts, s)
		rsses = append(rsses, r)
		anons = append(anons, a)
	}
	sort.Slice(starts, func(i, j int) bool { return starts[i] < starts[j] })
	sort.Ints(rsses)
	sort.Ints(anons)
	// RssAnon is the memory rampart holds itself (heap, stacks, written
	// data); the rest of VmRSS is pages of the executable and libraries,
	// clean copies of files shared with the page cache.
	t.Logf("%s: cold start to first answered request: median %v (min %v, max %v); idle RSS median %.1f MiB (min %.1f, max %.1f), of which anonymous median %.1f MiB (min %.1f, max %.1f)",
		name, starts[2].Round(100*time.Microsecond), starts[0].Round(100*time.Microsecond), starts[4].Round(100*time.Microsecond),
		float64(rsses[2])/1024, float64(rsses[0])/1024, float64(rsses[4])/1024,
		float64(anons[2])/1024, float64(anons[0])/1024, float64(anons[4])/1024)
}

// startOnce starts `rampart dev` over dir, times the first signed request
// that succeeds, waits for it to idle and reads its VmRSS and RssAnon (KiB).
func startOnce(t *testing.T, bin, dir string) (time.Duration, int, int) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := l.Addr().String()
	l.Close()
	cmd := exec.Command(bin, "dev", "-addr", addr, "-data", dir, "-log-level", "error")
	cfg := aws.Config{Region: "us-east-1", BaseEndpoint: aws.String("http://" + addr), RetryMaxAttempts: 1,
		Credentials: credentials.NewStaticCredentialsProvider("test", "test", "")}
	client := sts.NewFromConfig(cfg)
	begin := time.Now()
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	defer func() {
		cmd.Process.Signal(os.Interrupt)
		done := make(chan struct{})
		go func() { cmd.Wait(); close(done) }()
		select {
		case <-done:
		case <-time.After(15 * time.Second):
			cmd.Process.Kill()
			<-done
		}
	}()
	var took time.Duration
	for {
		ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
		_, err := client.GetCallerIdentity(ctx, &sts.GetCallerIdentityInput{})
		cancel()
		if err == nil {
			took = time.Since(begin)
			break
		}
		if time.Since(begin) > 60*time.Second {
			t.Fatalf("rampart dev did not answer within a minute: %v", err)
		}
		time.Sleep(time.Millisecond)
	}
	time.Sleep(2 * time.Second)
	return took, procStatus(t, cmd.Process.Pid, "VmRSS:"), procStatus(t, cmd.Process.Pid, "RssAnon:")
}

// procStatus reads a kB field of /proc/PID/status.
func procStatus(t *testing.T, pid int, field string) int {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", pid))
	if err != nil {
		t.Fatal(err)
	}
	for _, line := range strings.Split(string(b), "\n") {
		if rest, ok := strings.CutPrefix(line, field); ok {
			kb, _ := strconv.Atoi(strings.TrimSpace(strings.TrimSuffix(strings.TrimSpace(rest), "kB")))
			return kb
		}
	}
	t.Fatal("no " + field)
	return 0
}

// populate fills dir through the API of an in-process rampart: users,
// roles, policies, keys and secrets, four requests at a time.
func populate(t *testing.T, dir string, scale float64) map[string]int {
	srv := rampartest.StartDir(t, dir)
	cfg := srv.Config()
	ic, kc, sc := iam.NewFromConfig(cfg), kms.NewFromConfig(cfg), secretsmanager.NewFromConfig(cfg)
	ctx := context.Background()
	n := func(k int) int { return int(float64(k) * scale) }
	counts := map[string]int{"users": n(10000), "roles": n(1000), "policies": n(5000), "keys": n(1000), "secrets": n(10000)}
	jobs := make(chan func() error, 64)
	var wg sync.WaitGroup
	var mu sync.Mutex
	var firstErr error
	for w := 0; w < 4; w++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for j := range jobs {
				if err := j(); err != nil {
					mu.Lock()
					if firstErr == nil {
						firstErr = err
					}
					mu.Unlock()
				}
			}
		}()
	}
	for i := 0; i < counts["users"]; i++ {
		jobs <- func() error {
			_, err := ic.CreateUser(ctx, &iam.CreateUserInput{UserName: aws.String(fmt.Sprintf("user-%05d", i))})
			return err
		}
	}
	for i := 0; i < counts["roles"]; i++ {
		jobs <- func() error {
			_, err := ic.CreateRole(ctx, &iam.CreateRoleInput{RoleName: aws.String(fmt.Sprintf("role-%04d", i)), AssumeRolePolicyDocument: aws.String(trustPolicy)})
			return err
		}
	}
	for i := 0; i < counts["policies"]; i++ {
		jobs <- func() error {
			_, err := ic.CreatePolicy(ctx, &iam.CreatePolicyInput{PolicyName: aws.String(fmt.Sprintf("policy-%04d", i)), PolicyDocument: aws.String(identityPolicy)})
			return err
		}
	}
	for i := 0; i < counts["keys"]; i++ {
		jobs <- func() error {
			_, err := kc.CreateKey(ctx, &kms.CreateKeyInput{})
			return err
		}
	}
	for i := 0; i < counts["secrets"]; i++ {
		jobs <- func() error {
			_, err := sc.CreateSecret(ctx, &secretsmanager.CreateSecretInput{Name: aws.String(fmt.Sprintf("secret-%05d", i)), SecretString: aws.String("s3cret")})
			return err
		}
	}
	close(jobs)
	wg.Wait()
	if firstErr != nil {
		t.Fatalf("populate: %v", firstErr)
	}
	return counts
}
