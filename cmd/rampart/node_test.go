package main

import (
	"bufio"
	"errors"
	"net/http"
	"os"
	"os/exec"
	"regexp"
	"sort"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/smithy-go"

	"github.com/rampart/rampart/internal/rampartest"
)

// node is one `rampart server` process that a test may kill.
type node struct {
	t    *testing.T
	cmd  *exec.Cmd
	ep   string
	done chan struct{} // closed when the process has exited

	mu     sync.Mutex
	output []string // its stderr
}

// startNode starts `rampart server` with args and waits until it serves.
// Unlike startServer it hands back the process, to kill it; cleanup stops
// it if the test has not.
func startNode(t *testing.T, bin string, env []string, args ...string) *node {
	t.Helper()
	cmd := exec.Command(bin, append([]string{"server", "--addr", "127.0.0.1:0", "--log-level", "warn"}, args...)...)
	cmd.Env = append(os.Environ(), env...)
	stderr, err := cmd.StderrPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	n := &node{t: t, cmd: cmd, done: make(chan struct{})}
	re := regexp.MustCompile(`serving on (http://127\.0\.0\.1:\d+)`)
	found := make(chan string, 1)
	go func() {
		sc := bufio.NewScanner(stderr)
		sc.Buffer(make([]byte, 64<<10), 1<<20)
		for sc.Scan() {
			n.mu.Lock()
			n.output = append(n.output, sc.Text())
			n.mu.Unlock()
			if m := re.FindStringSubmatch(sc.Text()); m != nil {
				select {
				case found <- m[1]:
				default:
				}
			}
		}
		cmd.Wait()
		close(n.done)
	}()
	t.Cleanup(func() { n.stop() })
	select {
	case n.ep = <-found:
		return n
	case <-n.done:
		t.Fatalf("rampart server exited: %s", n.stderr())
	case <-time.After(60 * time.Second):
		n.kill()
		t.Fatalf("rampart server printed no endpoint within 60s: %s", n.stderr())
	}
	return nil
}

func (n *node) stderr() string {
	n.mu.Lock()
	defer n.mu.Unlock()
	return strings.Join(n.output, "\n")
}

// kill ends the process with SIGKILL: no shutdown, no flush, nothing.
func (n *node) kill() {
	n.cmd.Process.Signal(syscall.SIGKILL)
	<-n.done
}

// stop ends the process gracefully (SIGINT), killing it after 15 s.
func (n *node) stop() {
	select {
	case <-n.done:
		return
	default:
	}
	n.cmd.Process.Signal(os.Interrupt)
	select {
	case <-n.done:
	case <-time.After(15 * time.Second):
		n.kill()
	}
}

// sdkConfig is an AWS SDK configuration for endpoint ep. No AWS error is
// retried (rampartest.Retryer): a test sees each answer as the server gave
// it, and an acknowledged write is one request that succeeded.
func sdkConfig(ep, accessKey, secretKey, sessionToken string) aws.Config {
	return aws.Config{
		Region:       "us-east-1",
		Credentials:  credentials.NewStaticCredentialsProvider(accessKey, secretKey, sessionToken),
		BaseEndpoint: aws.String(ep),
		Retryer:      rampartest.Retryer,
		HTTPClient:   &http.Client{Timeout: 30 * time.Second, Transport: &http.Transport{MaxIdleConnsPerHost: 32}},
	}
}

// errorCode returns the AWS error code of err, or "" for none.
func errorCode(err error) string {
	var ae smithy.APIError
	if errors.As(err, &ae) {
		return ae.ErrorCode()
	}
	return ""
}

// quantiles returns the p50 and p99 of ds.
func quantiles(ds []time.Duration) (p50, p99 time.Duration) {
	if len(ds) == 0 {
		return 0, 0
	}
	s := append([]time.Duration(nil), ds...)
	sort.Slice(s, func(i, j int) bool { return s[i] < s[j] })
	q := func(p float64) time.Duration { return s[min(len(s)-1, int(float64(len(s))*p))] }
	return q(0.50), q(0.99)
}
