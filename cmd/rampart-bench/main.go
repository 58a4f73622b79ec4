// Command rampart-bench drives a running rampart with the AWS SDK for Go v2 in
// a closed loop and reports throughput, latency and, given the server's pid,
// the server's CPU time per request (from /proc/<pid>/stat).
//
//	rampart-bench --endpoint http://127.0.0.1:4566 --op sts:GetCallerIdentity --concurrency 16 --duration 10s --pid $(pgrep -f 'rampart dev')
//
// It is a separate binary so that the server does not carry the SDK.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"net/http"
	"os"
	"os/exec"
	"sort"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/kms"
	"github.com/aws/aws-sdk-go-v2/service/secretsmanager"
	"github.com/aws/aws-sdk-go-v2/service/sts"
)

// roleARN is the role the sts:AssumeRole operations assume (--role-arn).
var roleARN string

// ops are the operations the tool can drive; later issues add to it.
var ops = map[string]func(cfg aws.Config) func(context.Context) error{
	// KMS: each creates a symmetric key at start and uses it with an
	// encryption context (key policy + IAM + grants are evaluated).
	"kms:Encrypt": func(cfg aws.Config) func(context.Context) error {
		c, ec := kms.NewFromConfig(cfg), map[string]string{"bench": "rampart"}
		k, err := c.CreateKey(context.Background(), &kms.CreateKeyInput{Description: aws.String("rampart-bench")})
		return func(ctx context.Context) error {
			if err != nil {
				return err
			}
			_, err := c.Encrypt(ctx, &kms.EncryptInput{KeyId: k.KeyMetadata.KeyId, Plaintext: make([]byte, 32), EncryptionContext: ec})
			return err
		}
	},
	"kms:Decrypt": func(cfg aws.Config) func(context.Context) error {
		c, ec := kms.NewFromConfig(cfg), map[string]string{"bench": "rampart"}
		k, err := c.CreateKey(context.Background(), &kms.CreateKeyInput{Description: aws.String("rampart-bench")})
		var blob []byte
		if err == nil {
			var out *kms.EncryptOutput
			if out, err = c.Encrypt(context.Background(), &kms.EncryptInput{KeyId: k.KeyMetadata.KeyId, Plaintext: make([]byte, 32), EncryptionContext: ec}); err == nil {
				blob = out.CiphertextBlob
			}
		}
		return func(ctx context.Context) error {
			if err != nil {
				return err
			}
			_, err := c.Decrypt(ctx, &kms.DecryptInput{CiphertextBlob: blob, EncryptionContext: ec})
			return err
		}
	},
	"kms:GenerateDataKey": func(cfg aws.Config) func(context.Context) error {
		c, ec := kms.NewFromConfig(cfg), map[string]string{"bench": "rampart"}
		k, err := c.CreateKey(context.Background(), &kms.CreateKeyInput{Description: aws.String("rampart-bench")})
		return func(ctx context.Context) error {
			if err != nil {
				return err
			}
			_, err := c.GenerateDataKey(ctx, &kms.GenerateDataKeyInput{KeyId: k.KeyMetadata.KeyId, KeySpec: "AES_256", EncryptionContext: ec})
			return err
		}
	},
	"sts:AssumeRole": func(cfg aws.Config) func(context.Context) error {
		c := sts.NewFromConfig(cfg)
		return func(ctx context.Context) error {
			_, err := c.AssumeRole(ctx, &sts.AssumeRoleInput{RoleArn: &roleARN, RoleSessionName: aws.String("rampart-bench")})
			return err
		}
	},
	// An authorized call signed with session credentials: one AssumeRole
	// first, then sts:GetAccessKeyInfo as the role session (the role's
	// policies must allow it).
	"sts:GetAccessKeyInfo@session": func(cfg aws.Config) func(context.Context) error {
		out, err := sts.NewFromConfig(cfg).AssumeRole(context.Background(), &sts.AssumeRoleInput{RoleArn: &roleARN, RoleSessionName: aws.String("rampart-bench")})
		if err != nil {
			return func(context.Context) error { return err }
		}
		cr := out.Credentials
		scfg := cfg.Copy()
		scfg.Credentials = credentials.NewStaticCredentialsProvider(*cr.AccessKeyId, *cr.SecretAccessKey, *cr.SessionToken)
		c := sts.NewFromConfig(scfg)
		return func(ctx context.Context) error {
			_, err := c.GetAccessKeyInfo(ctx, &sts.GetAccessKeyInfoInput{AccessKeyId: cr.AccessKeyId})
			return err
		}
	},
	"sts:GetCallerIdentity": func(cfg aws.Config) func(context.Context) error {
		c := sts.NewFromConfig(cfg)
		return func(ctx context.Context) error {
			_, err := c.GetCallerIdentity(ctx, &sts.GetCallerIdentityInput{})
			return err
		}
	},
	// GetSecretValue of a secret under the AWS managed key aws/secretsmanager,
	// with a resource policy: authorization goes through the secret, its
	// policy and the key's policy.
	"secretsmanager:GetSecretValue": func(cfg aws.Config) func(context.Context) error {
		ctx, c, id := context.Background(), secretsmanager.NewFromConfig(cfg), aws.String("rampart-bench")
		who, err := sts.NewFromConfig(cfg).GetCallerIdentity(ctx, &sts.GetCallerIdentityInput{})
		if err == nil {
			_, err = c.CreateSecret(ctx, &secretsmanager.CreateSecretInput{Name: id, SecretString: aws.String(`{"username":"bench","password":"not-a-real-password"}`)})
			if strings.Contains(fmt.Sprint(err), "ResourceExistsException") {
				err = nil
			}
		}
		if err == nil {
			_, err = c.PutResourcePolicy(ctx, &secretsmanager.PutResourcePolicyInput{SecretId: id, ResourcePolicy: aws.String(`{"Version":"2012-10-17","Statement":[{"Effect":"Allow",` +
				`"Principal":{"AWS":"arn:aws:iam::` + aws.ToString(who.Account) + `:root"},"Action":"secretsmanager:GetSecretValue","Resource":"*"}]}`)})
		}
		return func(ctx context.Context) error {
			if err != nil {
				return fmt.Errorf("setting up the secret: %w", err)
			}
			_, err := c.GetSecretValue(ctx, &secretsmanager.GetSecretValueInput{SecretId: id})
			return err
		}
	},
}

func main() {
	if err := run(os.Args[1:], os.Stdout); err != nil {
		fmt.Fprintln(os.Stderr, "rampart-bench:", err)
		os.Exit(1)
	}
}

// run drives the server as args say and writes the figures to out.
func run(args []string, out io.Writer) error {
	fs := flag.NewFlagSet("rampart-bench", flag.ContinueOnError)
	endpoint := fs.String("endpoint", "http://127.0.0.1:4566", "rampart endpoint")
	op := fs.String("op", "sts:GetCallerIdentity", "operation to drive: "+strings.Join(opNames(), ", "))
	concurrency := fs.Int("concurrency", 16, "requests in flight")
	duration := fs.Duration("duration", 10*time.Second, "how long to drive (at most 10m)")
	maxRequests := fs.Int("requests", 0, "stop after this many requests (0: no limit)")
	pid := fs.Int("pid", 0, "the server's process id, to report its CPU time per request")
	accessKey := fs.String("access-key", "test", "access key id")
	secretKey := fs.String("secret-key", "test", "secret access key")
	region := fs.String("region", "us-east-1", "region")
	fs.StringVar(&roleARN, "role-arn", "", "role assumed by the sts:AssumeRole operations")
	if err := fs.Parse(args); err != nil {
		return err
	}
	mk := ops[*op]
	if mk == nil {
		return fmt.Errorf("unknown --op %q; known: %s", *op, strings.Join(opNames(), ", "))
	}
	if *duration > 10*time.Minute || *duration <= 0 {
		return errors.New("--duration must be within (0, 10m]")
	}
	if *concurrency < 1 {
		return errors.New("--concurrency must be at least 1")
	}
	cfg := aws.Config{
		Region:           *region,
		Credentials:      credentials.NewStaticCredentialsProvider(*accessKey, *secretKey, ""),
		BaseEndpoint:     endpoint,
		RetryMaxAttempts: 1,
		HTTPClient: &http.Client{Transport: &http.Transport{
			MaxIdleConns: *concurrency * 2, MaxIdleConnsPerHost: *concurrency * 2,
		}},
	}
	call := mk(cfg)
	// Warm up connections and caches.
	for i := 0; i < *concurrency; i++ {
		if err := call(context.Background()); err != nil {
			return fmt.Errorf("warm-up request failed: %w", err)
		}
	}
	cpu0, cpuErr := procCPU(*pid)
	ctx, cancel := context.WithTimeout(context.Background(), *duration)
	defer cancel()
	var (
		mu        sync.Mutex
		latencies []time.Duration
		errs      int
		firstErr  error
		issued    int
	)
	start := time.Now()
	var wg sync.WaitGroup
	for w := 0; w < *concurrency; w++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			local := make([]time.Duration, 0, 4096)
			var localErrs int
			var localErr error
			for ctx.Err() == nil {
				if *maxRequests > 0 {
					mu.Lock()
					if issued >= *maxRequests {
						mu.Unlock()
						break
					}
					issued++
					mu.Unlock()
				}
				t0 := time.Now()
				err := call(context.Background())
				local = append(local, time.Since(t0))
				if err != nil {
					localErrs++
					if localErr == nil {
						localErr = err
					}
				}
			}
			mu.Lock()
			latencies = append(latencies, local...)
			errs += localErrs
			if firstErr == nil {
				firstErr = localErr
			}
			mu.Unlock()
		}()
	}
	wg.Wait()
	elapsed := time.Since(start)
	cpu1, _ := procCPU(*pid)

	sort.Slice(latencies, func(i, j int) bool { return latencies[i] < latencies[j] })
	n := len(latencies)
	if n == 0 {
		return errors.New("no requests completed")
	}
	q := func(p float64) time.Duration { return latencies[min(n-1, int(float64(n)*p))] }
	fmt.Fprintf(out, "op %s, concurrency %d, %s: %d requests, %.0f req/s, p50 %s, p99 %s, errors %d\n",
		*op, *concurrency, elapsed.Round(time.Millisecond), n, float64(n)/elapsed.Seconds(), q(0.50).Round(time.Microsecond), q(0.99).Round(time.Microsecond), errs)
	if firstErr != nil {
		fmt.Fprintf(out, "first error: %v\n", firstErr)
	}
	if *pid != 0 {
		if cpuErr != nil {
			return cpuErr
		}
		perReq := time.Duration(float64(cpu1-cpu0) / float64(n))
		fmt.Fprintf(out, "server cpu: %s total, %.1f µs/request\n", (cpu1 - cpu0).Round(time.Millisecond), float64(perReq)/float64(time.Microsecond))
	}
	return nil
}

func opNames() []string {
	var out []string
	for k := range ops {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}

// procCPU returns the user+system CPU time of a process from /proc/<pid>/stat.
func procCPU(pid int) (time.Duration, error) {
	if pid == 0 {
		return 0, nil
	}
	data, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		return 0, err
	}
	// Fields after the parenthesised command name; utime and stime are the 14th and 15th fields.
	s := string(data)
	i := strings.LastIndexByte(s, ')')
	if i < 0 {
		return 0, errors.New("unexpected /proc stat format")
	}
	f := strings.Fields(s[i+1:])
	if len(f) < 13 {
		return 0, errors.New("unexpected /proc stat format")
	}
	utime, err1 := strconv.ParseInt(f[11], 10, 64)
	stime, err2 := strconv.ParseInt(f[12], 10, 64)
	if err1 != nil || err2 != nil {
		return 0, errors.New("unexpected /proc stat values")
	}
	return time.Duration(utime+stime) * time.Second / time.Duration(clockTicks()), nil
}

func clockTicks() int64 {
	out, err := exec.Command("getconf", "CLK_TCK").Output()
	if err == nil {
		if v, err := strconv.ParseInt(strings.TrimSpace(string(out)), 10, 64); err == nil && v > 0 {
			return v
		}
	}
	return 100
}
