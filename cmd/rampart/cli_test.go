package main

import (
	"bufio"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"
)

// awsCLI is the AWS CLI v2 the end-to-end tests drive: Debian's awscli
// package installs it as /usr/bin/aws (an `aws` earlier on PATH may be v1).
const awsCLI = "/usr/bin/aws"

var (
	buildOnce sync.Once
	binPath   string
	buildErr  error
)

// buildRampart builds the binary once per test run.
func buildRampart(t *testing.T) string {
	t.Helper()
	buildOnce.Do(func() {
		dir, err := os.MkdirTemp("", "rampart-bin-")
		if err != nil {
			buildErr = err
			return
		}
		binPath = filepath.Join(dir, "rampart")
		out, err := exec.Command("go", "build", "-o", binPath, ".").CombinedOutput()
		if err != nil {
			buildErr = fmt.Errorf("go build: %v\n%s", err, out)
		}
	})
	if buildErr != nil {
		t.Fatal(buildErr)
	}
	return binPath
}

func TestMain(m *testing.M) {
	code := m.Run()
	if binPath != "" {
		os.RemoveAll(filepath.Dir(binPath))
	}
	os.Exit(code)
}

// startDev starts `rampart dev` on a random loopback port and returns its endpoint.
func startDev(t *testing.T, bin string, args ...string) string {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute) // stops by itself
	cmd := exec.CommandContext(ctx, bin, append([]string{"dev", "--addr", "127.0.0.1:0", "--ephemeral", "--log-level", "warn"}, args...)...)
	stderr, err := cmd.StderrPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		cmd.Process.Signal(os.Interrupt)
		done := make(chan struct{})
		go func() { cmd.Wait(); close(done) }()
		select {
		case <-done:
		case <-time.After(10 * time.Second):
			cmd.Process.Kill()
		}
		cancel()
	})
	endpointRE := regexp.MustCompile(`AWS_ENDPOINT_URL=(http://127\.0\.0\.1:\d+)`)
	found := make(chan string, 1)
	go func() {
		sc := bufio.NewScanner(stderr)
		for sc.Scan() {
			if m := endpointRE.FindStringSubmatch(sc.Text()); m != nil {
				select {
				case found <- m[1]:
				default:
				}
			}
		}
	}()
	select {
	case ep := <-found:
		resp, err := http.Get(ep + "/_rampart/health")
		if err != nil {
			t.Fatalf("health: %v", err)
		}
		resp.Body.Close()
		return ep
	case <-time.After(60 * time.Second):
		t.Fatal("rampart dev printed no endpoint within 60s")
	}
	return ""
}

func requireCLI(t *testing.T) {
	t.Helper()
	out, err := exec.Command(awsCLI, "--version").CombinedOutput()
	if err != nil || !strings.HasPrefix(string(out), "aws-cli/2") {
		if os.Getenv("CI") != "" {
			t.Fatalf("CI needs the AWS CLI v2 at %s (Debian package awscli): %v %s", awsCLI, err, out)
		}
		t.Skipf("AWS CLI v2 not installed at %s (apt-get install awscli)", awsCLI)
	}
}

// runCLI runs the AWS CLI against endpoint with the given credentials.
func runCLI(t *testing.T, endpoint, accessKey, secretKey string, args ...string) (stdout, stderr string, err error) {
	t.Helper()
	home := t.TempDir()
	cmd := exec.Command(awsCLI, append([]string{"--endpoint-url", endpoint, "--output", "json"}, args...)...)
	cmd.Env = []string{
		"HOME=" + home, "PATH=/usr/bin:/bin",
		"AWS_ACCESS_KEY_ID=" + accessKey, "AWS_SECRET_ACCESS_KEY=" + secretKey, "AWS_REGION=us-east-1",
		"AWS_CONFIG_FILE=" + filepath.Join(home, "config"), "AWS_SHARED_CREDENTIALS_FILE=" + filepath.Join(home, "credentials"),
		"AWS_PAGER=", "AWS_EC2_METADATA_DISABLED=true",
	}
	var o, e strings.Builder
	cmd.Stdout, cmd.Stderr = &o, &e
	err = cmd.Run()
	return o.String(), e.String(), err
}

func TestCLIAgainstDev(t *testing.T) {
	if testing.Short() {
		t.Skip("builds the binary and runs the AWS CLI")
	}
	requireCLI(t)
	bin := buildRampart(t)
	ep := startDev(t, bin)

	t.Run("get-caller-identity", func(t *testing.T) {
		out, errOut, err := runCLI(t, ep, "test", "test", "sts", "get-caller-identity")
		if err != nil {
			t.Fatalf("aws sts get-caller-identity: %v\n%s", err, errOut)
		}
		var got map[string]string
		if err := json.Unmarshal([]byte(out), &got); err != nil {
			t.Fatalf("output %q: %v", out, err)
		}
		want := map[string]string{"UserId": "000000000000", "Account": "000000000000", "Arn": "arn:aws:iam::000000000000:root"}
		for k, v := range want {
			if got[k] != v {
				t.Errorf("%s = %q, want %q", k, got[k], v)
			}
		}
	})

	for _, tc := range []struct {
		name, key, secret string
		extra             []string
		code, message     string
	}{
		{"wrong secret", "test", "wrong", nil, "SignatureDoesNotMatch", "The request signature we calculated does not match the signature you provided."},
		{"unknown key", "AKIAUNKNOWN000000000", "whatever", nil, "InvalidClientTokenId", "The security token included in the request is invalid."},
		{"no signature", "test", "test", []string{"--no-sign-request"}, "MissingAuthenticationToken", "Request is missing Authentication Token"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			args := append([]string{"sts", "get-caller-identity"}, tc.extra...)
			_, errOut, err := runCLI(t, ep, tc.key, tc.secret, args...)
			if err == nil {
				t.Fatal("the CLI succeeded")
			}
			// The CLI words it "An error occurred (Code) when calling the Op operation: Message".
			for _, want := range []string{"An error occurred (" + tc.code + ") when calling the GetCallerIdentity operation", ": " + tc.message} {
				if !strings.Contains(errOut, want) {
					t.Errorf("stderr = %q, want it to contain %q", errOut, want)
				}
			}
		})
	}

	t.Run("metrics", func(t *testing.T) {
		resp, err := http.Get(ep + "/_rampart/metrics")
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		body, _ := io.ReadAll(resp.Body)
		want := `rampart_requests_total{service="sts",operation="GetCallerIdentity",outcome="ok"}`
		if !strings.Contains(string(body), want) {
			t.Errorf("metrics lack %s:\n%s", want, body)
		}
	})
}

func TestDevRefusesPublicAddressWithWellKnownKey(t *testing.T) {
	if testing.Short() {
		t.Skip("builds the binary")
	}
	bin := buildRampart(t)
	out, err := exec.Command(bin, "dev", "--ephemeral", "--addr", "0.0.0.0:0").CombinedOutput()
	if err == nil {
		t.Fatal("rampart dev listened on 0.0.0.0 with the root key test/test")
	}
	for _, want := range []string{"refusing to listen on 0.0.0.0:0", "--root-access-key"} {
		if !strings.Contains(string(out), want) {
			t.Errorf("output %q lacks %q", out, want)
		}
	}
}

func TestVersion(t *testing.T) {
	if testing.Short() {
		t.Skip("builds the binary")
	}
	bin := buildRampart(t)
	out, err := exec.Command(bin, "version").Output()
	if err != nil || !strings.HasPrefix(string(out), "rampart ") {
		t.Fatalf("rampart version = %q, %v", out, err)
	}
}
